"""Hybrid retrieval: BM25 and dense lists fused by reciprocal rank; either alone stays selectable."""
from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .backends.base import ChunkIndex
from .embed import Encoder
from .filters import Filter
from .fuse import rrf
from .types import Chunk, Hit

MODES = ("hybrid", "bm25", "dense")


@dataclass
class HybridRetriever:
    """Works on any backend's ``ChunkIndex`` (FAISS + bm25s, or Milvus): each list is searched by
    the backend, with the filter applied inside it; fusion happens here, by rank, so every hit
    carries its rank in each list (the answer ranker reads them)."""

    index: ChunkIndex
    encoder: Encoder
    depth: int = 20
    rrf_k: int = 60
    cache_size: int = 512  # query embeddings kept: evaluation asks each question in several modes
    timings: dict[str, float] = field(default_factory=dict)
    _cache: OrderedDict = field(default_factory=OrderedDict, repr=False)

    def embed_query(self, question: str) -> np.ndarray:
        vector = self._cache.get(question)
        if vector is None:
            vector = self.encoder.encode([question])[0]
            self._cache[question] = vector
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(question)
        return vector

    def embed_queries(self, questions: list[str]) -> None:
        """Embed the questions not cached yet in one encoder batch (``retrieve`` then finds them)."""
        missing = list(dict.fromkeys(q for q in questions if q not in self._cache))
        if missing:
            for question, vector in zip(missing, self.encoder.encode(missing)):
                self._cache[question] = vector
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def retrieve(self, question: str, mode: str = "hybrid", depth: int | None = None,
                 top_k: int | None = None, filter: Filter | None = None,
                 lexical_weights: Mapping[str, float] | None = None,
                 extra: Mapping[str, Sequence[Chunk]] | None = None) -> list[Hit]:
        """Best chunks for ``question``. ``depth`` = candidates per list, ``top_k`` = hits returned;
        ``filter`` restricts both lists to the articles it admits before they are ranked.
        ``lexical_weights`` (word -> weight) replaces the BM25 query by weighted words
        (``ChunkIndex.search_lexical``); ``extra`` adds ranked lists of chunks, by name, to
        the fusion (a conversation's previous passages: qa/conversation/search.py)."""
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}")
        if depth is None:
            depth = self.depth
        if top_k is None:
            top_k = depth
        self.timings = {"encode": 0.0, "search": 0.0}
        if self.index.chunk_count == 0:
            return []
        found: dict[str, list] = {}
        if mode in ("hybrid", "dense"):
            t0 = time.perf_counter()
            query = self.embed_query(question)
            t1 = time.perf_counter()
            found["dense"] = _ordered(self.index.search_dense(query, depth, filter))
            self.timings["encode"] += t1 - t0
            self.timings["search"] += time.perf_counter() - t1
        if mode in ("hybrid", "bm25"):
            t0 = time.perf_counter()
            found["bm25"] = _ordered(self.index.search_lexical(question, depth, filter, weights=lexical_weights))
            self.timings["search"] += time.perf_counter() - t0
        for name, chunks in (extra or {}).items():
            found[name] = [(c, 0.0) for c in chunks]  # ranked already; only ranks enter the fusion
        if mode != "hybrid" and not extra:
            return [Hit(chunk, score, {mode: i}) for i, (chunk, score) in enumerate(found[mode][:top_k])]
        # RRF works on chunk ids (unique), fusing by rank: BM25 and cosine scales are not comparable.
        by_id = {chunk.chunk_id: chunk for hits in found.values() for chunk, _ in hits}
        fused = rrf({name: [chunk.chunk_id for chunk, _ in hits] for name, hits in found.items()},
                    rrf_k=self.rrf_k, top_k=top_k)
        return [Hit(by_id[cid], score, ranks) for cid, score, ranks in fused]


def _ordered(found: list) -> list:
    """Best first, equal scores in article order: ties fall the same way on every backend, and do
    not depend on where an incremental update put a chunk's row."""
    return sorted(found, key=lambda pair: (-pair[1], pair[0].doc_id, pair[0].doc_start))
