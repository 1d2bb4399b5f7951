"""Readers pick answer spans out of retrieved passages.

Every reader has ``name``, ``min_score`` (answers scoring below it are withheld), ``warm_up()``
and ``read(question, passages, top_k) -> ReaderOutput``. ``make_reader`` builds one by name.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol
from collections.abc import Sequence

from ..types import Passage, ReaderOutput

READERS = ("span", "span-fast", "heuristic")

# span-fast: a 3-layer reader distilled from the 6-layer one (configs/reader_fast.json, shipped in
# weights_fast/), with dynamic int8 Linear layers, reading only each passage's best-matching
# sentences up to this many characters (qa/reader/focus.py). Measured trade-off in
# reports/reader.md: faster, less accurate; the default stays "span".
FAST_FOCUS_CHARS = 320
FAST_WEIGHTS_DIR = Path(__file__).resolve().parent / "weights_fast"


def fast_weights_dir() -> Path:
    """The distilled fast reader's weights; the full reader's when they are not installed (then
    span-fast is the 6-layer reader in int8 with focus windows, as before the distillation)."""
    from qa.reader.model import META_FILE, WEIGHTS_DIR

    return FAST_WEIGHTS_DIR if (FAST_WEIGHTS_DIR / META_FILE).exists() else WEIGHTS_DIR


class Reader(Protocol):
    name: str
    min_score: float

    def warm_up(self) -> None: ...

    def read(self, question: str, passages: Sequence[Passage], top_k: int = 3) -> ReaderOutput: ...


def make_reader(name: str = "span", weights_dir: str | Path | None = None) -> Reader:
    """A reader by name; ``weights_dir`` overrides the span readers' shipped weights."""
    if name == "heuristic":
        from .heuristic import HeuristicReader

        return HeuristicReader()
    if name == "span":
        from .span import SpanReader

        return SpanReader(weights_dir=weights_dir)
    if name == "span-fast":
        from .span import SpanReader

        reader = SpanReader(weights_dir=weights_dir or fast_weights_dir(), quantize=True,
                            focus_chars=FAST_FOCUS_CHARS)
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
