"""Lexical index: BM25 (bm25s) over the same chunks as the dense index, Snowball-stemmed."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

log = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG, so "Building index from IDs objects" reached every console
# that shows warnings; only its warnings concern a user.
logging.getLogger("bm25s").setLevel(logging.WARNING)
_STEMMER = Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    return bm25s.tokenize(list(texts), stopwords="en", stemmer=_STEMMER, return_ids=False,
                          show_progress=False)


class LexicalIndex:
    def __init__(self) -> None:
        self.retriever: bm25s.BM25 | None = None
        self.size = 0

    @classmethod
    def build(cls, texts: Sequence[str]) -> "LexicalIndex":
        out = cls()
        out.size = len(texts)
        if texts:
            out.retriever = bm25s.BM25()
            out.retriever.index(bm25s.tokenize(list(texts), stopwords="en", stemmer=_STEMMER,
                                               show_progress=False), show_progress=False)
        return out

    def __len__(self) -> int:
        return self.size

    def search(self, query: str, depth: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, BM25 score) pairs, best first; rows sharing no term with the query are dropped.
        ``allowed`` (row numbers) restricts scoring to those rows (bm25s's weight mask: a pre-filter)."""
        if self.retriever is None or depth <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        tokens = tokenize([query])
        vocab = self.retriever.vocab_dict
        tokens = [[t for t in tokens[0] if t in vocab]]
        if not tokens[0]:
            return []
        mask = None
        if allowed is not None:
            mask = np.zeros(self.size, dtype=np.float32)
            mask[np.asarray(allowed, dtype=np.int64)] = 1.0
            depth = min(depth, len(allowed))
        rows, scores = self.retriever.retrieve(tokens, k=min(depth, self.size), show_progress=False,
                                               weight_mask=mask)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if s > 0]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.retriever is not None:
            self.retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> "LexicalIndex":
        out = cls()
        out.size = size
        if size:
            out.retriever = bm25s.BM25.load(str(folder), show_progress=False)
            n = out.retriever.scores.get("num_docs")
            if n is not None and int(n) != size:
                raise ValueError(f"BM25 index holds {n} chunks, the chunk table {size}")
        return out
