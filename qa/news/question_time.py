"""Time in the question: "in 2024", "in March 2024", "before 2020", "since 2019", "last year",
and "latest", "now", "currently", "still".

>>> import datetime as dt
>>> read_question_time("What was the cost in 2024?").describe()
'articles published in 2024 first'
>>> read_question_time("How many buses are there now?").describe()
'the newest reports first'
>>> read_question_time("What happened last year?", today=dt.date(2026, 12, 2)).since
'2025'

A period named in the question *prefers* the articles published in it: the question is asked of
them first (a ``Filter`` on the publication date, applied inside the index like ``--since`` /
``--until``), and of every article when none of them answers, so a report published later about
that period is still found. A period the user set as a filter wins: the question's own period
only narrows it. "latest", "now", "currently", "still" put the newest reports first among the
answers that score about as well as the best. ``describe()`` is what "Interpreted as" shows.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..filters import Filter

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
_MONTHS["sept"] = 9
_MONTH = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?:19|20)\d\d"
_WHEN = rf"(?:(?P<mon>{_MONTH})\s+)?(?P<y>{_YEAR})\b"  # "2024" or "March 2024"

_PATTERNS = [
    ("between", re.compile(rf"\b(?:between|from)\s+(?:(?P<mon>{_MONTH})\s+)?(?P<y>{_YEAR})\s+(?:and|to|until)\s+(?:(?P<mon2>{_MONTH})\s+)?"
                           rf"(?P<y2>{_YEAR})\b", re.I)),
    ("in", re.compile(rf"\b(?:in|during|throughout)\s+(?:the\s+year\s+)?{_WHEN}", re.I)),
    ("before", re.compile(rf"\b(?:before|prior\s+to)\s+{_WHEN}", re.I)),
    ("after", re.compile(rf"\bafter\s+{_WHEN}", re.I)),
    ("since", re.compile(rf"\b(?:since|from)\s+{_WHEN}", re.I)),
    ("until", re.compile(rf"\b(?:until|till|through|up\s+to)\s+{_WHEN}", re.I)),
    ("relative", re.compile(r"\b(?P<rel>last|this|past)\s+(?P<unit>year|month)\b", re.I)),
]
_NEWEST = re.compile(r"\b(?:latest|newest|most\s+recent(?:ly)?|now|nowadays|currently|current|still|"
                     r"these\s+days|as\s+of\s+today|today)\b", re.I)
NEWEST_MARGIN = 0.25  # answers within this much of the best one's score may be put before it when newer


@dataclass(frozen=True)
class QuestionTime:
    """What a question asks of time: a period of publication (ISO ``since`` / ``until``, either may
    be None) and/or ``newest`` (the newest reports first); ``phrases``: the question's words that said it."""

    since: str | None = None
    until: str | None = None
    newest: bool = False
    phrases: tuple[str, ...] = ()

    @property
    def has_period(self) -> bool:
        return bool(self.since or self.until)

    def describe(self) -> str:
        """In words, for "Interpreted as": "articles published in 2024 first; the newest reports first"."""
        parts = []
        if self.since and self.until:
            period = (f"in {_readable(self.since)}" if self.since == self.until
                      else f"from {_readable(self.since)} to {_readable(self.until)}")
            parts.append(f"articles published {period} first")
        elif self.since:
            parts.append(f"articles published since {_readable(self.since)} first")
        elif self.until:
            parts.append(f"articles published up to {_readable(self.until)} first")
        if self.newest:
            parts.append("the newest reports first")
        return "; ".join(parts)

    def narrow(self, restrict: Filter | None) -> Filter | None:
        """The user's filter narrowed to the question's period; the user's filter as it is when the
        question names no period or one outside the user's."""
        if not self.has_period:
            return restrict
        since, until, sources = self.since, self.until, None
        if restrict is not None:
            sources = restrict.sources
            if restrict.since and (since is None or _start(restrict.since) > _start(since)):
                since = restrict.since
            if restrict.until and (until is None or _end(restrict.until) < _end(until)):
                until = restrict.until
        if since and until and _start(since) > _end(until):
            return restrict  # the user's own dates exclude the question's period: theirs win
        try:
            return Filter(since, until, sources)
        except ValueError:
            return restrict

    def apply(self, ask: Callable[[Filter | None], list], restrict: Filter | None) -> list:
        """``ask(filter)`` with the question's period preferred: asked of the articles of that period
        first, of all ``restrict`` admits when none answers; then the newest first if asked for."""
        narrowed = self.narrow(restrict)
        answers = ask(narrowed)
        if not answers and narrowed != restrict:
            answers = ask(restrict)
        return prefer_newest(answers) if self.newest else answers


def _readable(iso: str) -> str:
    from ..extract.dates import readable_date

    return readable_date(iso)


def _start(iso: str) -> str:
    return iso + "-01-01"[len(iso) - 4:] if len(iso) < 10 else iso


def _end(iso: str) -> str:
    if len(iso) == 4:
        return iso + "-12-31"
    if len(iso) == 7:
        y, m = int(iso[:4]), int(iso[5:])
        return f"{iso}-{calendar.monthrange(y, m)[1]:02d}"
    return iso


def _period(m: re.Match, mon: str = "mon", year: str = "y") -> tuple[int, int | None]:
    month = m.group(mon)
    return int(m.group(year)), (_MONTHS[month.lower().rstrip(".")] if month else None)


def _iso(year: int, month: int | None) -> str:
    return f"{year:04d}-{month:02d}" if month else f"{year:04d}"


def _shift(year: int, month: int | None, step: int) -> str:
    if month is None:
        return _iso(year + step, None)
    total = year * 12 + month - 1 + step
    return _iso(total // 12, total % 12 + 1)


def read_question_time(question: str, today: dt.date | None = None) -> QuestionTime | None:
    """What ``question`` asks of time; None when it names no period and asks for nothing newest.
    "last year" and "this month" are taken relative to ``today`` (default: the date now)."""
    if not isinstance(question, str):
        return None
    text = question
    since = until = None
    phrases: list[str] = []
    for kind, pattern in _PATTERNS:
        m = pattern.search(text)
        if not m:
            continue
        phrases.append(m.group(0))
        if kind == "between":
            a, b = _iso(*_period(m)), _iso(*_period(m, "mon2", "y2"))
            since, until = a, b
        elif kind == "relative":
            today = today or dt.date.today()
            rel, unit = m.group("rel").lower(), m.group("unit").lower()
            step = 0 if rel == "this" else -1
            if unit == "year":
                since = until = str(today.year + step)
            else:
                since = until = _shift(today.year, today.month, step)
        else:
            year, month = _period(m)
            iso = _iso(year, month)
            if kind == "in":
                since = until = iso
            elif kind == "before":
                until = _shift(year, month, -1)
            elif kind == "after":
                since = _shift(year, month, 1)
            elif kind == "since":
                since = iso
            elif kind == "until":
                until = iso
        break  # the first period named is the one asked about
    newest = _NEWEST.search(text)
    if newest:
        phrases.append(newest.group(0))
    if not phrases:
        return None
    return QuestionTime(since, until, bool(newest), tuple(phrases))


def prefer_newest(answers: Sequence) -> list:
    """``answers`` with those scoring within ``NEWEST_MARGIN`` of the best put newest first (by
    their first citation's publication date; undated ones after dated); the rest keep their order."""
    answers = list(answers)
    if len(answers) < 2:
        return answers
    best = max(a.score for a in answers)
    close = [a for a in answers if a.score >= best - NEWEST_MARGIN]
    rest = [a for a in answers if a.score < best - NEWEST_MARGIN]

    def published(a) -> str:
        return a.citations[0].published if a.citations and a.citations[0].published else ""

    close.sort(key=published, reverse=True)  # stable: equal dates keep the score order
    return close + rest


def interpretation(question: str, explanation: str | None) -> str | None:
    """The "Interpreted as" line: the follow-up's own ``explanation`` (qa.conversation.Resolution)
    with what the question asks of time added ("Interpreted as: articles published in 2024 first")."""
    when = read_question_time(question)
    note = when.describe() if when else ""
    if not note:
        return explanation
    return f"{explanation} · {note}" if explanation else f"Interpreted as: {note}"


def as_dict(question: str) -> dict | None:
    """What JSON output records of the question's time: since, until, newest, and the words."""
    when = read_question_time(question)
    if when is None:
        return None
    return {"since": when.since, "until": when.until, "newest": when.newest, "interpreted_as": when.describe(),
            "phrases": list(when.phrases)}


__all__ = ["QuestionTime", "read_question_time", "prefer_newest", "interpretation", "as_dict"]
