"""Saved web pages: the article body and its metadata, without the page around it.

trafilatura (``bare_extraction``) finds the body among menus, cookie banners, ads, related links
and comments, and reads the headline, outlet, author, date and canonical URL from the page's own
metadata (OpenGraph, JSON-LD, ``<time>``, bylines). The raw file stays as it was; the indexed text
is built here from the extracted paragraphs: the headline first, then one paragraph per block,
separated by blank lines. Outlet and headline are read as readers know them (qa/news/: the name
readers use for the publisher, the story's visible ``<h1>``), and teasers for other stories inside
the body ("Read more: …", "RELATED: …") are dropped. A page with no article body (a section front, a search page, a paywall
stub) is refused with the reason, not indexed as a list of links.

``fragment_text`` is the small fallback for bits of HTML that are not pages (a feed entry's
summary): their visible text, one paragraph per block.
"""
from __future__ import annotations

import logging
import re
from html import unescape
from html.parser import HTMLParser

from ..news.headline import page_facts, story_headline
from ..news.outlets import outlet_of
from ..news.teasers import without_teasers
from .base import Extracted, LoadError, Metadata, clean_title

log = logging.getLogger(__name__)

# trafilatura and the date/URL helpers it uses log each heuristic they try (and a warning for
# every page they find odd). That is their business, not the index report's: a page that cannot
# be used is reported by us, with a reason.
for _name in ("trafilatura", "htmldate", "courlan", "justext"):
    logging.getLogger(_name).setLevel(logging.ERROR)

MIN_BODY_WORDS = 40  # fewer words than a news brief: not an article body
MAX_LIST_SHARE = 0.6  # more of the body in lists than this: a list of links, not an article
# Ad-slot labels that survive inside story bodies; dropped only as paragraphs of their own.
AD_LABELS = frozenset(s.casefold() for s in (
    "Advertisement", "Story continues below advertisement", "Article continues below advertisement",
    "Continue reading below", "Sponsored content", "Advertisement - scroll to continue",
))


# Bump when the reading of outlets, headlines or teasers (qa/news/) changes what is indexed: the
# manifest records the extractor string, so re-indexing re-reads every saved page.
NEWS_READING = "news 1"


def _version() -> str:
    from importlib.metadata import version

    return f"trafilatura {version('trafilatura')}"


def extract_html(raw: bytes | str, favor_precision: bool = True, favor_recall: bool = False) -> Extracted:
    """The article in a saved page, or ``LoadError`` when the page holds none. The two ``favor_``
    switches are trafilatura's: precision is on because it dropped all the fixture pages'
    boilerplate (a donation box inside the story included) at no loss of article words, where the
    balanced default kept 3% of the boilerplate (``scripts/extract_quality.py``, reports/extract.md)."""
    import trafilatura

    try:
        found = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False, include_tables=True,
                                            include_images=False, favor_precision=favor_precision,
                                            favor_recall=favor_recall)
    except Exception as exc:  # a parser failure on a damaged page is the page's problem, said as such
        raise LoadError(f"the page could not be parsed as HTML ({type(exc).__name__}); re-save it from "
                        "the browser (File › Save Page As…, “Webpage, HTML only”)") from exc
    if found is None or not (found.text or "").strip():
        raise LoadError("no article text found in the page (empty, or not HTML); re-save the article page "
                        "itself from the browser")
    paragraphs = [" ".join(line.split()) for line in found.text.split("\n")]
    paragraphs = [p for p in paragraphs if p and p.casefold() not in AD_LABELS]
    words = sum(len(p.split()) for p in paragraphs)
    listed = _list_words(found.body)
    if words and listed / words > MAX_LIST_SHARE:
        raise LoadError(f"no article body: {listed} of the page's {words} words are lists of links "
                        "(a section front or an index page); save the article page itself")
    if words < MIN_BODY_WORDS:
        raise LoadError(f"no article body: the page has only {words} words of text outside menus and "
                        f"boilerplate (a paywall, a search page or a stub?); articles need at least "
                        f"{MIN_BODY_WORDS}")
    paragraphs, _ = without_teasers(paragraphs)
    facts = page_facts(raw)
    site = " ".join((found.sitename or "").split())
    outlet = outlet_of([*facts.publishers, facts.site_name, site,
                        outlet_from_title(page_title(raw), " ".join((found.title or "").split()))],
                       url=facts.url or found.url or "", bylines=(*facts.bylines, found.author or ""))
    source = outlet.name
    meta_title = found.title or facts.meta_title or ""
    for name in dict.fromkeys((source, facts.site_name, site)):  # "Headline | NYTimes": the page's own spelling
        meta_title = clean_title(meta_title, name)
    title = clean_title(story_headline(facts, meta_title, not_names=(source, facts.site_name, site)), source)
    if title and paragraphs[0] != title:
        paragraphs.insert(0, title)
    # A wire story's byline is the wire ("By The Associated Press"): said as the author when the
    # page names no person.
    meta = Metadata(title=title or paragraphs[0][:120], source=source, published=found.date or "",
                    url=found.url or facts.url or "", author=found.author or outlet.via)
    setting = " precision" if favor_precision else " recall" if favor_recall else ""
    return Extracted(text="\n\n".join(paragraphs), meta=meta, extractor=f"{_version()}{setting}; {NEWS_READING}")


def _list_words(body) -> int:
    if body is None:
        return 0
    return sum(len(" ".join(item.itertext()).split()) for item in body.iter("list"))


def page_title(raw: bytes | str) -> str:
    """The text of a page's ``<title>`` (cheap: the head only)."""
    head = raw[:65536]
    if isinstance(head, bytes):
        head = head.decode("utf-8", "replace")
    m = re.search(r"<title[^>]*>(.*?)</title>", head, re.IGNORECASE | re.DOTALL)
    return " ".join(unescape(m.group(1)).split()) if m else ""


def outlet_from_title(title: str, headline: str) -> str:
    """"Headline – Outlet" -> "Outlet" when the title is the headline plus a name after a separator."""
    if headline and title.startswith(headline):
        rest = title[len(headline):].strip()
        m = re.match(r"^[|–—·:-]\s*(.{2,60})$", rest)
        if m:
            return m.group(1).strip()
    return ""


class _TextExtractor(HTMLParser):
    _SKIP = {"script", "style", "noscript", "template", "head"}
    _BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "title", "tr", "section",
              "article", "header", "footer", "blockquote", "pre", "ul", "ol", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self._skip += 1
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def fragment_text(html: str) -> str:
    """Visible text of an HTML fragment, one paragraph per block, scripts and styles dropped."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    body = re.sub(r"[ \t\f\v]+", " ", unescape("".join(parser.parts)))
    body = re.sub(r" *\n *", "\n", body)
    return re.sub(r"\n{3,}", "\n\n", body).strip()
