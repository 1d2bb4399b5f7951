"""Restricting retrieval to some articles: a publication-date range and a set of outlets.

A ``Filter`` is applied by the index *before* ranking (each backend turns it into its own
pre-filter), never by dropping hits afterwards, so a filtered question still gets its full
``depth`` of candidates from the articles it may see.
"""
from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .types import Document

_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?", re.ASCII)
MAX_OUTLETS = 100
MAX_OUTLET_CHARS = 200


def check_date(value: str, what: str = "date") -> str:
    """``value`` if it is a real ISO date (YYYY, YYYY-MM or YYYY-MM-DD: the month 01-12, the day in
    that month), else ValueError saying so."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a date written as text (YYYY-MM-DD), not {type(value).__name__}")
    v = value.strip()
    if not _DATE.fullmatch(v):
        raise ValueError(f"{what} {value[:40]!r} is not a date: write it as YYYY-MM-DD (or YYYY-MM, or YYYY)")
    year, month, day = (v.split("-") + ["01", "01"])[:3]
    try:
        datetime.date(int(year), int(month), int(day))
    except ValueError:
        where = "year" if int(year) < 1 else "month" if not 1 <= int(month) <= 12 else "day"
        raise ValueError(f"{what} {v!r} is not a date on the calendar (no such {where}): write it as "
                         "YYYY-MM-DD, e.g. 2020-02-29") from None
    return v


def outlet_names(sources) -> list[str]:
    """The outlets asked for: one name given as a string is one outlet (never split into its
    letters); a list of names as they are. Anything else is a ValueError saying what to send."""
    if sources is None:
        return []
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, (list, tuple, set, frozenset)):
        raise ValueError(f"outlets must be a list of names, not {type(sources).__name__}")
    if len(sources) > MAX_OUTLETS:
        raise ValueError(f"at most {MAX_OUTLETS} outlets may be chosen at once, not {len(sources)}")
    names = []
    for s in sources:
        if not isinstance(s, str):
            raise ValueError(f"an outlet must be a name (text), not {type(s).__name__}")
        if len(s) > MAX_OUTLET_CHARS:
            raise ValueError(f"an outlet name has at most {MAX_OUTLET_CHARS} characters")
        if s.strip():
            names.append(s.strip())
    return names


@dataclass(frozen=True)
class Filter:
    """Articles published in ``[since, until]`` (inclusive, ISO dates; a partial date such as
    "2020" or "2020-01" covers the whole year or month) and, when ``sources`` is given, by one of
    those outlets (compared case-insensitively). An article without a date never matches a date
    range; one without an outlet never matches a source list."""

    since: str | None = None
    until: str | None = None
    sources: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.since is not None:
            object.__setattr__(self, "since", check_date(self.since, "--since"))
        if self.until is not None:
            object.__setattr__(self, "until", check_date(self.until, "--until"))
        if self.sources is not None:
            object.__setattr__(self, "sources", frozenset(s.casefold() for s in outlet_names(self.sources)))
        if self.since and self.until and self.since[: len(self.until)] > self.until:
            raise ValueError(f"--since {self.since} is after --until {self.until}")

    @classmethod
    def of(cls, since: str | None = None, until: str | None = None,
           sources: Iterable[str] | None = None) -> "Filter | None":
        """A filter, or None when nothing restricts (the common case costs nothing)."""
        srcs = frozenset(outlet_names(sources)) or None
        if not since and not until and not srcs:
            return None
        return cls(since or None, until or None, srcs)

    def matches(self, doc: Document) -> bool:
        return self.matches_fields(doc.published, doc.source)

    def matches_fields(self, published: str, source: str) -> bool:
        if self.since or self.until:
            if not published:
                return False
            # compare on the shorter of the two precisions: "2020-01-15" is within "2020" .. "2020"
            if self.since and published[: len(self.since)] < self.since[: len(published)]:
                return False
            if self.until and published[: len(self.until)] > self.until[: len(published)]:
                return False
        if self.sources is not None and source.strip().casefold() not in self.sources:
            return False
        return True
