"""What a saved page says about itself, read once from its markup, and the story's headline.

Pages carry two headlines: the one in ``og:title`` / ``<title>`` (written for search engines and
social cards, often longer or reworded) and the visible ``<h1>`` a reader sees above the story.
A reader knows the article by the second, so ``story_headline`` prefers the story's ``<h1>``
whenever it looks like a headline (not the site's logo or a section name).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

MIN_HEADLINE_WORDS = 3  # "Politics", "Live updates": a section label, not a story's headline
MAX_HEADLINE_CHARS = 300
_JSON_LD_MAX_CHARS = 200_000  # a larger script is a data dump, not the page's description


@dataclass(frozen=True)
class PageFacts:
    """The page's own statements about the story ("" / () when it makes none)."""

    publishers: tuple[str, ...] = ()  # JSON-LD publisher.name, in page order
    site_name: str = ""  # og:site_name
    url: str = ""  # <link rel=canonical>, else og:url
    meta_title: str = ""  # og:title, else <title>
    headlines: tuple[str, ...] = ()  # visible <h1>s, the story's (inside <article>/<main>) first
    bylines: tuple[str, ...] = ()  # JSON-LD author names, <meta name=author>, visible bylines


def _text(el) -> str:
    return " ".join("".join(el.itertext()).split())


def page_facts(raw: bytes | str) -> PageFacts:
    """Read ``PageFacts`` from a page's markup (lxml; a page it cannot parse says nothing)."""
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.document_fromstring(raw)
    except (etree.ParserError, ValueError, TypeError):
        return PageFacts()

    def meta(*names: str) -> str:
        for name in names:
            for el in root.iterfind(".//meta"):
                if (el.get("property") or el.get("name") or "").strip().lower() == name:
                    value = " ".join((el.get("content") or "").split())
                    if value:
                        return value
        return ""

    canonical = next((el.get("href", "").strip() for el in root.iterfind(".//link")
                      if "canonical" in (el.get("rel") or "").lower().split() and el.get("href", "").strip()), "")
    title_el = root.find(".//title")
    publishers: list[str] = []
    authors: list[str] = []
    for script in root.iterfind(".//script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        text = script.text or ""
        if len(text) > _JSON_LD_MAX_CHARS:
            continue
        try:
            data = json.loads(text)
        except ValueError:
            continue
        for item in _json_ld_items(data):
            publishers.extend(_names(item.get("publisher")))
            authors.extend(_names(item.get("author")))
    # An h1 that links to the site's front page is the logo, not a story's headline.
    h1s = [h for h in root.iter("h1") if not any(urlsplit(a.get("href") or "").path in ("/", "")
                                                 and (a.get("href") or "").strip() for a in h.iter("a"))]
    story = [h for h in h1s if any(a.tag in ("article", "main") for a in h.iterancestors())]
    headlines = [_text(h) for h in story + [h for h in h1s if h not in story]]
    bylines = authors + [meta("author")] + [_text(el) for el in root.xpath(
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' byline ')"
        " or @rel='author' or contains(@class, 'author-name')]")[:5]]
    return PageFacts(
        publishers=tuple(dict.fromkeys(p for p in publishers if p)),
        site_name=meta("og:site_name"),
        url=canonical or meta("og:url"),
        meta_title=meta("og:title", "twitter:title") or (_text(title_el) if title_el is not None else ""),
        headlines=tuple(h for h in headlines if h),
        bylines=tuple(dict.fromkeys(b for b in bylines if b)),
    )


def _json_ld_items(data) -> Iterator[dict]:
    """Every object of a JSON-LD block that describes a page or article (``@graph`` opened)."""
    stack = [data]
    while stack:
        item = stack.pop(0)
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if "@graph" in item:
                stack.extend(item["@graph"] if isinstance(item["@graph"], list) else [item["@graph"]])
            if "publisher" in item or "author" in item:
                yield item


def _names(value) -> list[str]:
    if isinstance(value, str):
        return [" ".join(value.split())]
    if isinstance(value, dict):
        name = value.get("name")
        return [" ".join(name.split())] if isinstance(name, str) else []
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    return []


def _same(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        s = s.translate(str.maketrans("‘’“”–—", "''\"\"--"))
        return " ".join(s.casefold().split())
    return norm(a) == norm(b)


def story_headline(facts: PageFacts, meta_title: str, not_names: tuple[str, ...] = ()) -> str:
    """The headline a reader sees: the story's first ``<h1>`` that reads as a headline (at least
    ``MIN_HEADLINE_WORDS`` words, not one of ``not_names`` such as the outlet's own name), else
    ``meta_title``. The two agree on most pages; where they differ the visible one wins."""
    for h1 in facts.headlines:
        if len(h1.split()) < MIN_HEADLINE_WORDS or len(h1) > MAX_HEADLINE_CHARS:
            continue
        if any(name and _same(h1, name) for name in not_names):
            continue
        return h1
    return meta_title


def headline_end(text: str, title: str) -> int:
    """Where the headline block that opens ``text`` ends (0 when ``text`` does not open with the
    headline ``title``): the extractors put it first so that it helps retrieval, but answers are
    the story's words (``headline_spans_in_body``)."""
    if not title:
        return 0
    first = re.match(r"\s*([^\n]*)", text)
    line = first.group(1).strip() if first else ""
    if line.startswith("#"):
        line = line.lstrip("#").strip()
    # A first line that ends in a full stop is the story's first sentence (a plain text file's
    # title is its first line), not a headline: its answers need no other confirmation.
    if line and _same(line, title) and not line.endswith("."):
        return first.end(1)
    return 0



def headline_spans_in_body(spans, passages, documents) -> dict:
    """Reader spans that start in their article's headline -> the same words in that article's body
    as the reader also found them there (document offsets), or None when it did not.

    The headline helps retrieval, but the answer is taken from the body. A headline span counts
    only when the reader, reading the body for the same question, found the same words: then it is
    cited where the body says it. The words merely occurring in the body is not enough: asked
    "Which guards were charged?", the headline "Two guards charged after Victor Lang escaped…"
    gave "Victor Lang", and the body names him, but only as the inmate who escaped (the body's
    "Tessa Morrow and Kyle Branson" is the answer). ``spans`` are ``ReadSpan``s over ``passages``;
    ``documents`` maps doc_id to its ``Document``."""
    located = []
    for span in spans:
        passage = passages[span.passage_index]
        doc = documents[passage.doc_id]
        start, end = passage.doc_start + span.start, passage.doc_start + span.end
        words = doc.text[start:end]
        start, end = start + (len(words) - len(words.lstrip())), end - (len(words) - len(words.rstrip()))
        located.append((span, doc, start, end))
    cuts = {doc.doc_id: headline_end(doc.text, doc.title) for _, doc, _, _ in located}
    body = {}
    for span, doc, start, end in located:
        if start >= cuts[doc.doc_id] and end > start:
            body.setdefault((doc.doc_id, doc.text[start:end]), (start, end))
    return {span: body.get((doc.doc_id, doc.text[start:end]))
            for span, doc, start, end in located if start < cuts[doc.doc_id]}
