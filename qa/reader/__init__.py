"""Readers pick answer spans out of retrieved passages.

Every reader has ``name``, ``min_score`` (answers scoring below it are withheld), ``warm_up()``
and ``read(question, passages, top_k) -> ReaderOutput``. ``make_reader`` builds one by name.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol
from collections.abc import Sequence

from ..types import Passage, ReaderOutput

READERS = ("span", "span-fast", "span-tiny", "heuristic")

# span reads adaptively (qa/adaptive.py): the best passage in full precision, the passages read
# after it (only while they could still change the answer) with int8 weights, one scale per output
# channel. Alone, per-channel int8 kept the reader's F1 on gold paragraphs but lost ~1 EM end to end;
# for the later passages only, it kept the end-to-end EM/F1 (reports/speed.md). With every passage
# read (--read-all) everything is full precision, as before.
SPAN_LATER_QUANTIZATION = "per-channel"

# span-fast: the same weights with dynamic int8 Linear layers, reading only each passage's
# best-matching sentences up to this many characters (qa/reader/focus.py). Measured trade-off in
# reports/reader.md: faster, less accurate; the default stays "span".
FAST_FOCUS_CHARS = 320
# span-tiny: a 3-layer reader distilled from the 6-layer one (configs/reader_tiny.json, shipped in
# weights_tiny/), int8, reading each passage's best sentences up to TINY_FOCUS_CHARS: the fastest
# and least accurate of the three (reports/reader.md).
TINY_FOCUS_CHARS = 160
TINY_WEIGHTS_DIR = Path(__file__).resolve().parent / "weights_tiny"


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

        return SpanReader(weights_dir=weights_dir, later_quantize=SPAN_LATER_QUANTIZATION)
    if name == "span-fast":
        from .span import SpanReader

        return SpanReader(weights_dir=weights_dir, quantize=True, focus_chars=FAST_FOCUS_CHARS, name="span-fast")
    if name == "span-tiny":
        from .model import META_FILE
        from .span import SpanReader

        wd = Path(weights_dir) if weights_dir else TINY_WEIGHTS_DIR
        if not (wd / META_FILE).exists():
            raise ValueError(f"the span-tiny weights are missing from {wd}: reinstall the package, or "
                             "rebuild them with 'make train-reader-tiny'")
        return SpanReader(weights_dir=wd, quantize=True, focus_chars=TINY_FOCUS_CHARS, name="span-tiny")
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
