"""Sentence spans with exact offsets, and chunks made of whole sentences.

Nothing is copied or normalised: a sentence is a ``(start, end)`` pair into the document text, with
surrounding whitespace left outside the span, so ``text[start:end]`` is always the sentence itself.

Splitting is linear in the text's length: every look at the text around a candidate boundary is
bounded by that boundary's own neighbourhood (the word before it, the whitespace after it), never
a search from the start of the text (``scripts/bench_chunking.py``, ``reports/chunking.md``).
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from .types import Chunk, Document

# Tokens that end with a period without ending a sentence. Lowercased, without the period.
ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof rev hon sr jr st mt ft gen brig col lt maj capt cpl sgt pte pvt adm cmdr cdr
    gov sen rep pres supt insp det const no nos vol vols fig figs approx est dept univ assn bros inc
    corp ltd co plc vs etc al cf ca jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed
    thu thur thurs fri sat sun e.g i.e u.s u.k u.n a.m p.m op ch pp art sec""".split()
)

# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then whitespace.
# It starts where a run of terminal punctuation starts (the look-behind): a match can only begin
# there anyway, and without it a long run of dots with no space after costs quadratic time.
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’)\]]*(?=\s)")
_WORD_BEFORE = re.compile(r"([\w.'-]+)$")
_NEXT_CHAR = re.compile(r"\s*(\S)")
_WORD_WINDOW = 32  # chars looked back for the word before a period; doubled while the word fills it
_LINE_BREAK = re.compile(r"\n")
_HARD_BREAK = re.compile(r"\n[ \t]*\n")


# The work one file may cost: chunking is linear, but every chunk is embedded and stored, so a file
# is refused (with this reason) rather than indexed for hours. 5 MB is the text file size limit
# (load.MAX_FILE_BYTES); a 5 MB news text has ~45,000 candidate sentence ends.
MAX_TEXT_CHARS = 5_000_000
MAX_SENTENCE_MARKS = 200_000


def too_big_to_index(text: str) -> str | None:
    """Why ``text`` is too big to index as one article, or None. Costs one pass of a regex, stopping
    at the limit."""
    if len(text) > MAX_TEXT_CHARS:
        return (f"its text is {len(text):,} characters; one file may hold at most {MAX_TEXT_CHARS:,}: split it "
                "into smaller files")
    marks = 0
    for _ in _BOUNDARY.finditer(text):
        marks += 1
        if marks > MAX_SENTENCE_MARKS:
            return (f"its text has more than {MAX_SENTENCE_MARKS:,} sentence ends in {len(text):,} characters, "
                    "more than one file may be split into; split it into smaller files")
    return None


def _is_abbreviation(text: str, dot: int) -> bool:
    """True if the period at ``dot`` belongs to an abbreviation or an initial (``U.S.``, ``J.``)."""
    m = _word_before(text, dot)
    if not m:
        return False
    word = m.group(1).lower().lstrip("'-")
    last = re.split(r"[-']", word)[-1]  # "brig.-gen" -> "gen"
    if last in ABBREVIATIONS or word in ABBREVIATIONS:
        return True
    raw_last = text[dot - 1]
    if len(last) == 1 and raw_last.isalpha() and raw_last.isupper():  # "J. Smith", the "S" of "U.S."
        return True
    if "." in word and len(word) <= 5:  # dotted lowercase abbreviations: "e.g.", "a.m."
        return True
    return False


def _word_before(text: str, dot: int) -> re.Match | None:
    """``_WORD_BEFORE`` searched in ``text[:dot]``, looking back only as far as the word goes.

    The match is the run of word characters that ends at ``dot``, so a window that does not start
    inside it gives the same match as searching from offset 0; the window doubles while the run
    reaches its start. Work is proportional to the word's length, not to ``dot``.
    """
    window = _WORD_WINDOW
    while True:
        lo = max(0, dot - window)
        m = _WORD_BEFORE.search(text, lo, dot)
        if lo == 0 or m is None or m.start() > lo:
            return m
        window *= 2


def _next_starts_sentence(text: str, pos: int) -> bool:
    """Whether the text after a boundary candidate looks like a new sentence."""
    m = _NEXT_CHAR.match(text, pos)
    if not m:
        return True
    ch = m.group(1)
    # Lowercase after a period is almost always an abbreviation we do not know ("approx. three").
    return not ch.islower()


def _block_spans(text: str) -> Iterator[tuple[int, int]]:
    """Split at blank lines and at line breaks that end a line which cannot continue.

    A single newline is kept inside a sentence when the line reads like hard-wrapped prose (long,
    no terminal punctuation), so wrapped text does not break mid-sentence; short lines (headings,
    bylines) and lines ending a sentence are their own blocks.
    """
    start = 0
    breaks = []
    for m in _LINE_BREAK.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        line = text[line_start:m.start()].strip()
        nxt = text[m.end():m.end() + 1]
        if _HARD_BREAK.match(text, m.start()) or not line or not nxt.strip():
            breaks.append(m.start())
        elif len(line) < 60 or line[-1] in ".!?:;\"'”’)]…":
            breaks.append(m.start())
    for b in breaks + [len(text)]:
        if b > start:
            yield start, b
        start = b + 1


def paragraph_starts(text: str) -> list[int]:
    """Where each paragraph (block, as sentence splitting sees them) of ``text`` starts, in order:
    blank lines and line breaks that end a line which cannot continue separate them."""
    return [s for s, _ in _block_spans(text)] or [0]


def split_sentences(text: str, max_chars: int = 2000) -> list[tuple[int, int]]:
    """Sentence spans of ``text``: half-open, whitespace-trimmed, in order, non-overlapping.

    A sentence longer than ``max_chars`` (no punctuation for pages) is cut at whitespace so
    that every span stays readable and embeddable.
    """
    spans: list[tuple[int, int]] = []
    for b_start, b_end in _block_spans(text):
        cursor = b_start
        for m in _BOUNDARY.finditer(text, b_start, b_end):
            end = m.end()
            dot = m.start()
            if text[dot] == "." and _is_abbreviation(text, dot):
                continue
            if not _next_starts_sentence(text, end):
                continue
            spans.extend(_trimmed(text, cursor, end))
            cursor = end
        spans.extend(_trimmed(text, cursor, b_end))
    out: list[tuple[int, int]] = []
    for s, e in spans:
        out.extend(_cut_long(text, s, e, max_chars))
    return out


def _trimmed(text: str, start: int, end: int) -> list[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [(start, end)] if end > start else []


def _cut_long(text: str, start: int, end: int, max_chars: int) -> Iterator[tuple[int, int]]:
    while end - start > max_chars:
        cut = text.rfind(" ", start + max_chars // 2, start + max_chars)
        if cut <= start:
            cut = start + max_chars
        yield from _trimmed(text, start, cut)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        yield start, end


def chunk_document(doc: Document, sentences_per_chunk: int = 3, overlap: int = 1,
                   max_chars: int = 900) -> list[Chunk]:
    """Group a document's sentences into chunks of up to ``sentences_per_chunk`` sentences
    (fewer if the chunk would pass ``max_chars``), consecutive chunks sharing ``overlap``
    sentences. Every sentence is in at least one chunk.

    >>> from qa.types import Document
    >>> d = Document("d", "t", "d.txt", "One. Two. Three. Four.", "")
    >>> [c.text for c in chunk_document(d, 2, 1)]
    ['One. Two.', 'Two. Three.', 'Three. Four.']
    """
    if sentences_per_chunk < 1 or not 0 <= overlap < sentences_per_chunk:
        raise ValueError(f"need sentences_per_chunk >= 1 and 0 <= overlap < sentences_per_chunk, "
                         f"got {sentences_per_chunk} and {overlap}")
    sents = split_sentences(doc.text, max_chars=max_chars)
    chunks: list[Chunk] = []
    i = 0
    while i < len(sents):
        j = i + 1  # a chunk always takes at least one sentence
        while (j < len(sents) and j - i < sentences_per_chunk
               and sents[j][1] - sents[i][0] <= max_chars):
            j += 1
        start, end = sents[i][0], sents[j - 1][1]
        chunks.append(Chunk(chunk_id=f"{doc.doc_id}#{len(chunks)}", doc_id=doc.doc_id, doc_start=start,
                            doc_end=end, text=doc.text[start:end], sentences=tuple(sents[i:j])))
        if j >= len(sents):
            break
        i = max(j - overlap, i + 1)
    return chunks
