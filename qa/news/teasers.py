"""Teasers for other stories that sit inside a story's body: "Read more: …", "RELATED: …",
"See also …", "Recommended: …" paragraphs, and the same links run on at the end of a paragraph.
They are another article's words (one fixture's teaser gives $13.4bn where the story says $8.8
billion), so they are dropped from the indexed text. A paragraph that only mentions reading more
("Read more about the plan at the city's website.") is the story's own and stays.
"""
from __future__ import annotations

import re

# A label that opens a teaser, then a separator (colon, dash, chevron, pipe) or an all-caps label.
_LABELS = (r"read more|read also|also read|more reading|related|related stories|related story|related coverage"
           r"|related articles?|related content|related links?|see also|recommended|recommended reading"
           r"|more on this|more on this story|more coverage|more from [\w .'&-]{2,40}|you may also like"
           r"|you might also like|don't miss|must read|trending|editor's picks?"
           r"|watch|listen|click here")
_TEASER = re.compile(rf"^\s*(?:[►▶»›•|*-]\s*)?(?:{_LABELS})\s*(?:[:›»|—–-]|\.\.\.|…)\s*\S", re.IGNORECASE)
# "See also" and "RELATED" in capitals need no separator: "RELATED Fire crews battle…".
_BARE = re.compile(r"^\s*(?:READ MORE|RELATED|SEE ALSO|RECOMMENDED)\b(?!\s*[a-z])")
# A teaser run on after the paragraph's last sentence: "… said Smith. Read more: Council…"
_TRAILING = re.compile(rf"(?<=[.!?\"”’)])\s+(?:{_LABELS})\s*[:›»|]\s*\S.*$", re.IGNORECASE)
_LABEL_ONLY = re.compile(rf"^\s*(?:{_LABELS})\s*[:›»|—–-]?\s*$", re.IGNORECASE)
MAX_TEASER_CHARS = 300  # a teaser is a headline or two; a longer paragraph is the story's


def is_teaser(paragraph: str) -> bool:
    """A paragraph that points at another story rather than telling this one."""
    if _LABEL_ONLY.match(paragraph):
        return True
    if len(paragraph) > MAX_TEASER_CHARS:
        return False
    return bool(_TEASER.match(paragraph) or _BARE.match(paragraph))


def without_teasers(paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """(the paragraphs without teasers, what was dropped): teaser paragraphs go whole; a teaser
    run on at the end of a paragraph is cut off it."""
    kept: list[str] = []
    dropped: list[str] = []
    for p in paragraphs:
        if is_teaser(p):
            dropped.append(p)
            continue
        m = _TRAILING.search(p)
        if m and len(p) - m.start() <= MAX_TEASER_CHARS:
            dropped.append(p[m.start():].strip())
            p = p[:m.start()].rstrip()
        kept.append(p)
    return kept, dropped
