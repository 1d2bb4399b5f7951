"""Lexical index: BM25 (bm25s) over the same chunks as the dense index, Snowball-stemmed."""
from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
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

    def idf(self, words: Sequence[str]) -> dict[str, float | None]:
        """Each word's BM25 IDF in this index (Lucene's form, the one bm25s scores with:
        ``log(1 + (N - df + 0.5) / (df + 0.5))``), after the same stemming and stop-word removal as
        the index; None for a stop word or a word no chunk contains."""
        out: dict[str, float | None] = {w: None for w in words}
        if self.retriever is None or not words:
            return out
        vocab = self.retriever.vocab_dict
        indptr = self.retriever.scores["indptr"]
        n = float(self.size)
        for word, stems in zip(words, tokenize(list(words))):
            ids = [vocab[t] for t in stems if t in vocab]
            if ids:  # a hyphenated word can stem to several tokens: its rarest one speaks for it
                df = min(int(indptr[i + 1] - indptr[i]) for i in ids)
                out[word] = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
        return out

    def max_idf(self) -> float:
        """The IDF of a word found in exactly one chunk: the top of this index's IDF scale."""
        return math.log(1.0 + (self.size - 0.5) / 1.5) if self.size else 0.0

    def search_weighted(self, weights: Mapping[str, float], depth: int,
                        allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Like ``search`` for a query whose words count unequally: score(chunk) = sum over words
        of weight x that word's BM25 score (BM25 adds up over query terms, so weight 1 for every
        word is ``search``). A word's stems share its weight; a stem reached by two words keeps
        the larger weight."""
        if self.retriever is None or depth <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        vocab = self.retriever.vocab_dict
        by_id: dict[int, float] = {}
        words = [w for w, weight in weights.items() if weight > 0]
        for word, stems in zip(words, tokenize(words) if words else []):
            for t in stems:
                if t in vocab:
                    by_id[vocab[t]] = max(by_id.get(vocab[t], 0.0), float(weights[word]))
        if not by_id:
            return []
        scores = np.zeros(self.size, dtype=np.float32)
        for token_id, weight in by_id.items():
            scores += weight * self.retriever.get_scores_from_ids([token_id])
        if allowed is not None:
            mask = np.zeros(self.size, dtype=bool)
            mask[np.asarray(allowed, dtype=np.int64)] = True
            scores[~mask] = 0.0
        depth = min(depth, self.size)
        top = np.argpartition(-scores, depth - 1)[:depth] if depth < self.size else np.arange(self.size)
        order = sorted(top.tolist(), key=lambda r: (-scores[r], r))  # ties by row, as deterministic as search
        return [(int(r), float(scores[r])) for r in order if scores[r] > 0]

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
