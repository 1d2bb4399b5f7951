"""HTML for the web chat: answers with citations, the no-answer reply, the article table.

Pure functions: no Gradio, no Pipeline, so they are unit-tested on their own.

Safety rule: every piece of text that comes from an article, a file name or a user is passed
through ``html.escape`` exactly once, and the only tags in the output are the fixed ones written
here. Highlights are placed by computing offsets on the *raw* text and escaping each slice
separately (escaping first would shift the offsets and could split an entity like ``&amp;``).

The output is meant for ``gr.Chatbot(render_markdown=False, latex_delimiters=[], allow_tags=False)``.
In Gradio 6.31 such a message string is parsed once as HTML (a ``<template>``'s innerHTML), then an
element/attribute allowlist drops scripts, ``on*`` handlers and ``javascript:`` URLs. So entities
are decoded exactly once (``&lt;`` shows as ``<``: no double escaping), and nothing re-interprets
article text as Markdown (``*``, ``_``, ``[x](y)``) or LaTeX (``$$``). The sanitizer is a second
line of defence, not the first. The returned HTML has no
newline characters (line breaks are ``<br>``) because Gradio runs ``inspect.cleandoc`` on message
strings, which would re-indent multi-line text.
"""
from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .extract.dates import readable_date
from .reader.verify import HIGH_CONFIDENCE, LOW_CONFIDENCE

NO_ANSWER = "I could not find that in the articles."
ARTICLE_WINDOW = 12_000  # characters of a long article shown around the answer in "whole article"
SENTENCE_WINDOW = 1_200  # a "sentence" can be a whole unpunctuated page: quote this much at most
QUESTION_DISPLAY_CHARS = 600
MAX_CITATIONS_SHOWN = 3


def esc(text: str) -> str:
    """Escaped text with line breaks as ``<br>`` (and lone surrogates made printable)."""
    text = text.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate cannot be sent as JSON
    return html.escape(text, quote=True).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def mark(text: str, start: int, end: int, tag: str = "mark") -> str:
    """``text`` escaped, with ``text[start:end]`` wrapped in ``<tag>``; invalid offsets: no highlight."""
    if not (0 <= start < end <= len(text)):
        return esc(text)
    return f"{esc(text[:start])}<{tag}>{esc(text[start:end])}</{tag}>{esc(text[end:])}"


def confidence(score: float, low_below: float = LOW_CONFIDENCE, high_from: float = HIGH_CONFIDENCE) -> str:
    """high / medium / low for a calibrated P(right) (qa/reader/verify.py): "low" only below
    ``low_below`` (an answer more likely wrong than right), "high" from ``high_from``."""
    if score >= high_from:
        return "high"
    if score >= low_below:
        return "medium"
    return "low"


@dataclass(frozen=True)
class ArticleView:
    """Just what the renderer needs from a Document (keeps this module free of the pipeline)."""

    title: str
    path: str
    text: str
    source: str = ""  # outlet and ISO publication date, "" when unknown
    published: str = ""


def source_line(source: str, published: str, page: int | None = None) -> str:
    """" · outlet · date · page N" as HTML spans, the known parts only ("" when none is known)."""
    parts = [(cls, text) for cls, text in (("qa-outlet", source), ("qa-date", readable_date(published)),
                                           ("qa-page", f"page {page}" if page else "")) if text]
    return "".join(f' · <span class="{cls}">{esc(text)}</span>' for cls, text in parts)


def _window(text: str, start: int, end: int, window: int) -> str:
    """``text`` with the span marked; a text longer than ``window`` is cut to a window around it."""
    if len(text) <= window:
        return mark(text, start, end)
    half = max((window - (end - start)) // 2, 0)
    lo, hi = max(0, start - half), min(len(text), end + half)
    body = mark(text[lo:hi], start - lo, end - lo)
    before = f"<i>[… {lo:,} characters before]</i> " if lo else ""
    after = f" <i>[… {len(text) - hi:,} characters after]</i>" if hi < len(text) else ""
    return before + body + after


def render_question(question: object) -> str:
    text = question if isinstance(question, str) else repr(question)
    if len(text) > QUESTION_DISPLAY_CHARS:
        return esc(text[:QUESTION_DISPLAY_CHARS]) + f"<i> … ({len(text):,} characters)</i>"
    return esc(text)


def render_citation(citation, article: ArticleView | None) -> str:
    """Headline · outlet · date (· page), the sentence with the answer marked, and the whole article
    in a closed <details>."""
    sentence = _window(citation.sentence, citation.start - citation.sentence_start,
                       citation.end - citation.sentence_start, SENTENCE_WINDOW)
    title = esc(citation.title or citation.doc_id)
    source = esc(citation.path or citation.doc_id)
    credit = source_line(getattr(citation, "source", ""), getattr(citation, "published", ""),
                         getattr(citation, "page", None))
    parts = [f'<div class="qa-cite"><div class="qa-cite-title"><span class="qa-headline">{title}</span>{credit} '
             f'<span class="qa-file">({source})</span></div>',
             f'<blockquote class="qa-sentence">{sentence}</blockquote>']
    if article is not None:
        parts.append('<details class="qa-article"><summary>Open the whole article</summary>'
                     f'<div class="qa-article-text">{_window(article.text, citation.start, citation.end, ARTICLE_WINDOW)}'
                     "</div></details>")
    parts.append("</div>")
    return "".join(parts)


def render_timeline(answer) -> str:
    """The other dates' reports of an answer that changed over time (qa/news/changed.py), "" when none."""
    from .news.changed import timeline

    line = timeline(answer)
    return f'<p class="qa-timeline">Reports over time: {esc(line)}</p>' if line else ""


def render_answers(answers: Sequence, articles: Mapping[str, ArticleView], low_confidence: float = LOW_CONFIDENCE) -> str:
    """One block per distinct answer: the span in bold, a confidence cue with the answer's P(right),
    then its citations. "low confidence" is shown only below ``low_confidence``."""
    if not answers:
        return f'<p class="qa-none">{esc(NO_ANSWER)}</p>'
    blocks = []
    lead = "I found several possible answers:" if len(answers) > 1 else ""
    if lead:
        blocks.append(f'<p class="qa-lead">{lead}</p>')
    for n, answer in enumerate(answers, 1):
        level = confidence(answer.score, low_confidence)
        number = f"{n}. " if len(answers) > 1 else ""
        shown = answer.citations[:MAX_CITATIONS_SHOWN]
        more = len(answer.citations) - len(shown)
        when = answer_dates(answer)
        blocks.append(
            f'<div class="qa-answer"><p>{number}<b class="qa-span">{esc(answer.text)}</b> '
            + (f'<span class="qa-when">{esc(when)}</span> ' if when else "")
            + f'<span class="qa-conf qa-conf-{level}" title="estimated probability that this answer is right">'
            f"{level} confidence · {100 * answer.score:.0f}% likely right</span></p>"
            + render_timeline(answer)
            + "".join(render_citation(c, articles.get(c.doc_id)) for c in shown)
            + (f'<p class="qa-more">… and {more} more place{"s" if more > 1 else ""} in the articles.</p>'
               if more > 0 else "")
            + "</div>")
    return "".join(blocks)


def answer_dates(answer) -> str:
    """What the answer's time expressions mean, shown beside its words ("· Sat 16 Nov 2019"); ""
    when it holds none (qa/news/timex.py; the words themselves are never changed)."""
    from .news.timex import beside

    citations = getattr(answer, "citations", None)
    return beside(answer.text, citations[0].dates) if citations else ""


def scope_text(since: str | None, until: str | None, sources: Iterable[str] | None) -> str:
    """Which articles a filter admits, in words: "published since 2023-01, from Northern Wire"."""
    parts = []
    if since and until:
        parts.append(f"published from {since} to {until}")
    elif since or until:
        parts.append(f"published {'since' if since else 'until'} {since or until}")
    names = [s for s in (sources or []) if s]
    if names:
        parts.append("from " + (" or ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " or " + names[-1]))
    return ", ".join(parts)


def render_no_answer(hits: Iterable, articles: Mapping[str, ArticleView], scope: str = "") -> str:
    """The plain "not found" sentence (naming the ``scope`` searched, when a filter narrowed it),
    then the closest passages, flagged as possibly not answering."""
    hits = list(hits)
    sentence = NO_ANSWER if not scope else f"{NO_ANSWER[:-1]} {scope}."  # "…in the articles published since …"
    out = [f'<p class="qa-none"><b>{esc(sentence)}</b></p>']
    if hits:
        out.append('<p class="qa-lead">The closest passages (the articles may not say):</p>')
        for hit in hits:
            chunk = hit.chunk
            article = articles.get(chunk.doc_id)
            title = esc(article.title if article else chunk.doc_id)
            credit = source_line(article.source, article.published) if article else ""
            out.append(f'<div class="qa-cite"><div class="qa-cite-title">{title}{credit}</div>'
                       f'<blockquote class="qa-sentence">{esc(chunk.text[:SENTENCE_WINDOW])}'
                       f'{"…" if len(chunk.text) > SENTENCE_WINDOW else ""}'
                       "</blockquote></div>")
    return "".join(out)


def render_interpretation(resolution) -> str:
    """Under a follow-up's answer: how it was read ("Interpreted as: …"), or why it was answered as
    asked; "" for a question that stood alone (``resolution``: qa.conversation.Resolution)."""
    from .news.question_time import interpretation

    if resolution is None:
        return ""
    line = interpretation(resolution.interpreted_as, resolution.explanation())  # + time in the question
    if not line:
        return ""
    kind = "qa-interpreted" if resolution.confident else "qa-interpreted qa-unsure"
    return f'<p class="{kind}">{esc(line)}</p>'


def render_error(message: str) -> str:
    return f'<p class="qa-error">{esc(message)}</p>'


def _size(n: int) -> str:
    return f"{n} B" if n < 1000 else f"{n / 1000:.1f} kB" if n < 1_000_000 else f"{n / 1e6:.1f} MB"


def render_article_table(rows: Sequence, problems: Sequence = ()) -> str:
    """The article panel's list: headline, outlet, publication date, file, size, date indexed (rows
    from ``corpus_admin``); then the files that were not indexed and the notes on those that were,
    each with its reason (``load.Skipped``)."""
    skipped = [p for p in problems if not getattr(p, "note", False)]
    notes = [p for p in problems if getattr(p, "note", False)]
    tail = "".join(
        f'<div class="qa-problems"><p><b>{heading}</b></p><ul>'
        + "".join(f'<li><span class="qa-file">{esc(p.path)}</span>: {esc(p.reason)}</li>' for p in group)
        + "</ul></div>"
        for heading, group in ((f"{len(skipped)} file{'s' if len(skipped) != 1 else ''} not indexed", skipped),
                               (f"{len(notes)} note{'s' if len(notes) != 1 else ''} on indexed articles", notes))
        if group)
    if not rows:
        return ('<p class="qa-none">No articles are indexed yet. Upload .txt, .md, .html or .pdf '
                "articles below.</p>" + tail)
    when = "Indexed" if all(getattr(r, "from_index", True) for r in rows) else "Added"
    body = "".join(
        f"<tr><td>{esc(r.title)}</td><td>{esc(getattr(r, 'source', ''))}</td>"
        f"<td>{esc(readable_date(getattr(r, 'published', '')))}</td><td class=\"qa-file\">{esc(r.path)}</td>"
        f"<td>{_size(r.size_bytes)}</td><td>{esc(r.indexed)}</td></tr>" for r in rows)
    return (f'<p>{len(rows)} article{"s" if len(rows) != 1 else ""} indexed.</p>'
            '<div class="qa-table-wrap"><table class="qa-articles"><thead><tr><th>Title</th><th>Outlet</th>'
            f"<th>Published</th><th>File</th><th>Size</th><th>{when}</th></tr></thead><tbody>{body}</tbody>"
            f"</table></div>{tail}")


def render_status(lines: Iterable[tuple[bool, str]]) -> str:
    """Upload/remove outcomes, one line each: (ok, message)."""
    items = "".join(f'<li class="{"qa-ok" if ok else "qa-error"}">{"✓" if ok else "✗"} {esc(msg)}</li>'
                    for ok, msg in lines)
    return f'<ul class="qa-status">{items}</ul>' if items else ""


CSS = """
.qa-span { font-size: 1.05em; }
.qa-conf { font-size: 0.8em; padding: 0 0.4em; border-radius: 0.6em; white-space: nowrap; }
.qa-conf-high { background: #d1f5d3; color: #14532d; }
.qa-conf-medium { background: #fdf0c4; color: #713f12; }
.qa-conf-low { background: #fde2e1; color: #7f1d1d; }
.qa-cite { margin: 0.4em 0 0.8em 0; }
.qa-cite-title { font-weight: 600; }
.qa-outlet, .qa-date, .qa-page { font-weight: normal; }
.qa-problems li { overflow-wrap: anywhere; }
.qa-file { font-weight: normal; opacity: 0.7; font-size: 0.85em; overflow-wrap: anywhere; }
.qa-sentence { margin: 0.3em 0; padding-left: 0.6em; border-left: 3px solid #cbd5e1; }
.qa-article-text { max-height: 22em; overflow-y: auto; padding: 0.4em; font-size: 0.9em; }
.qa-error { color: #b91c1c; }
.qa-ok { color: #166534; }
.qa-status { list-style: none; padding-left: 0; }
.qa-table-wrap { overflow-x: auto; }
.qa-articles { width: 100%; border-collapse: collapse; }
.qa-articles td, .qa-articles th { text-align: left; padding: 0.2em 0.5em; vertical-align: top; }
.qa-articles td { overflow-wrap: anywhere; }
mark { background: #fde68a; color: inherit; padding: 0 0.1em; }
.qa-when { color: #1e3a8a; white-space: nowrap; }
.qa-interpreted { font-size: 0.85em; opacity: 0.8; font-style: italic; margin-top: 0.4em; }
"""
