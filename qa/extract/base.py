"""What every extractor returns, and how metadata from several places is combined.

An extractor turns one file's raw bytes into ``Extracted``: the article text that gets indexed
(every citation offset points into it), what the file itself says about the article (headline,
outlet, date, URL, author), page start offsets for paged formats, and which extractor and version
made the text, so that the index can tell when an upgrade must re-extract it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace

from .dates import iso_date

TITLE_CHARS = 200  # a headline longer than this is a paragraph that lost its way


class LoadError(ValueError):
    """A file that cannot be used as an article; the message says why and what to do."""


@dataclass(frozen=True)
class Metadata:
    """What is known about an article, each field "" when unknown. ``published`` is ISO
    (YYYY-MM-DD, YYYY-MM or YYYY)."""

    title: str = ""
    source: str = ""
    published: str = ""
    url: str = ""
    author: str = ""

    def over(self, base: "Metadata") -> "Metadata":
        """These values where set, ``base``'s elsewhere."""
        return Metadata(**{f.name: getattr(self, f.name) or getattr(base, f.name) for f in fields(self)})


METADATA_KEYS = tuple(f.name for f in fields(Metadata))
# The names people use for them in front matter and sidecars.
ALIASES = {"headline": "title", "date": "published", "outlet": "source", "publisher": "source",
           "site": "source", "sitename": "source", "link": "url", "canonical": "url", "byline": "author"}


def metadata_from_mapping(values: dict, where: str) -> tuple[Metadata, list[str]]:
    """A ``Metadata`` from a front-matter block or a sidecar record, and the problems found: a
    value that is not text or a date that is not a date is left out (and said), never guessed.
    Keys it does not know are ignored (a sidecar may carry notes of its own)."""
    out: dict[str, str] = {}
    problems: list[str] = []
    for key, value in values.items():
        name = ALIASES.get(str(key).strip().lower(), str(key).strip().lower())
        if name not in METADATA_KEYS or value is None or value == "":
            continue
        if not isinstance(value, (str, int)):
            problems.append(f"{where}: {key} must be text, not {type(value).__name__}; left out")
            continue
        text = " ".join(str(value).split())
        if name == "published":
            try:
                text = iso_date(text)
            except ValueError as exc:
                problems.append(f"{where}: {key} {exc}; the article is indexed without a date")
                continue
        out[name] = text
    return Metadata(**out), problems


@dataclass(frozen=True)
class Extracted:
    """One article as an extractor read it. ``pages`` holds the offset in ``text`` where each page
    starts (page 1 first), empty for formats without pages. ``problems`` are things the reader of
    the index report should know (a date that could not be read) that did not stop the article."""

    text: str
    meta: Metadata = Metadata()
    extractor: str = ""
    pages: tuple[int, ...] = ()
    problems: tuple[str, ...] = field(default=())

    def with_meta(self, meta: Metadata) -> "Extracted":
        return replace(self, meta=meta)


def clean_title(title: str, source: str = "") -> str:
    """A headline fit to show: whitespace collapsed, the outlet's name dropped from its end
    ("Bridge opens | The Harbour Times" -> "Bridge opens") and cut to a readable length."""
    title = " ".join(title.split())
    if source:
        m = re.match(rf"^(.*\S)\s*[|–—·:-]\s*{re.escape(source)}$", title, re.IGNORECASE)
        if m:
            title = m.group(1)
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 3].rstrip() + "..."


def first_line(text: str, markdown: bool = False) -> str:
    """First non-empty line, without Markdown heading marks, cut to a readable length."""
    for line in text.split("\n"):
        line = line.strip()
        if line:
            if markdown:
                line = line.lstrip("#").strip()
            return line if len(line) <= 120 else line[:117].rstrip() + "..."
    return ""
