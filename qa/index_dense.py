"""Dense index: exact inner-product search in FAISS over normalised vectors.

Row i of the FAISS index is chunk i of ``chunks.jsonl``; an update rebuilds the flat index from
the kept rows plus the new ones (cheap next to embedding), so ids never drift.
"""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


class DenseIndex:
    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self.index = faiss.IndexFlatIP(dimension)

    @classmethod
    def from_vectors(cls, vectors: np.ndarray, dimension: int) -> "DenseIndex":
        out = cls(dimension)
        if len(vectors):
            if vectors.ndim != 2 or vectors.shape[1] != dimension:
                raise ValueError(f"vectors have shape {vectors.shape}, expected (n, {dimension})")
            out.index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return out

    def __len__(self) -> int:
        return self.index.ntotal

    def vectors(self) -> np.ndarray:
        if len(self) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.index.reconstruct_n(0, len(self))

    def search(self, query: np.ndarray, depth: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, cosine) pairs, best first; FAISS's -1 padding is dropped. ``allowed`` (row numbers)
        restricts the search to those rows inside FAISS (a pre-filter: the best ``depth`` of them)."""
        if len(self) == 0 or depth <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64)))
            depth = min(depth, len(allowed))
        scores, rows = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32),
                                         min(depth, len(self)), params=params)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, dimension: int) -> "DenseIndex":
        index = faiss.read_index(str(path))
        if index.d != dimension:
            raise ValueError(f"dense index has dimension {index.d}, the encoder has {dimension}")
        out = cls(dimension)
        out.index = index
        return out
