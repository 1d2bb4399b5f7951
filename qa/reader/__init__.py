"""Readers pick answer spans out of retrieved passages.

Every reader has ``name``, ``min_score`` (answers scoring below it are withheld), ``warm_up()``
and ``read(question, passages, top_k) -> ReaderOutput``. ``make_reader`` builds one by name.
"""
from __future__ import annotations

from typing import Protocol
from collections.abc import Sequence

from ..types import Passage, ReaderOutput

READERS = ("span", "span-fast", "heuristic")

# span-fast: the same weights with dynamic int8 Linear layers, reading only each passage's
# best-matching sentences up to this many characters (qa/reader/focus.py). Measured trade-off in
# reports/reader.md: faster, less accurate; the default stays "span".
FAST_FOCUS_CHARS = 320


class Reader(Protocol):
    name: str
    min_score: float

    def warm_up(self) -> None: ...

    def read(self, question: str, passages: Sequence[Passage], top_k: int = 3) -> ReaderOutput: ...


def make_reader(name: str = "span") -> Reader:
    if name == "heuristic":
        from .heuristic import HeuristicReader

        return HeuristicReader()
    if name == "span":
        from .span import SpanReader

        return SpanReader()
    if name == "span-fast":
        from .span import SpanReader

        reader = SpanReader(quantize=True, focus_chars=FAST_FOCUS_CHARS)
        reader.name = "span-fast"
        return reader
    raise ValueError(f"unknown reader {name!r}; choose one of {', '.join(READERS)}")


def dedupe_spans(spans, passages: Sequence[Passage], top_k: int):
    """Keep the best span per document region: a span overlapping a better one of the same
    document (e.g. the same sentence seen through two overlapping chunks) is dropped."""
    kept = []
    taken: list[tuple[str, int, int]] = []
    for s in sorted(spans, key=lambda s: -s.score):
        p = passages[s.passage_index]
        start, end = p.doc_start + s.start, p.doc_start + s.end
        if any(doc == p.doc_id and start < e and b < end for doc, b, e in taken):
            continue
        taken.append((p.doc_id, start, end))
        kept.append(s)
        if len(kept) >= top_k:
            break
    return kept
