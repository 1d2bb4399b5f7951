"""Hybrid retrieval: BM25 and dense lists fused by reciprocal rank; either alone stays selectable."""
from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .embed import Encoder
from .filters import Filter
from .fuse import rrf
from .store import CorpusIndex
from .types import Hit

MODES = ("hybrid", "bm25", "dense")


@dataclass
class HybridRetriever:
    index: CorpusIndex
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
                 extra: Mapping[str, Sequence[int]] | None = None) -> list[Hit]:
        """Best chunks for ``question``. ``depth`` = candidates per list, ``top_k`` = hits returned;
        ``filter`` restricts both lists to the articles it admits before they are ranked.
        ``lexical_weights`` (word -> weight) replaces the BM25 query by weighted words
        (``LexicalIndex.search_weighted``); ``extra`` adds ranked lists of chunk rows, by name, to
        the fusion (a conversation's previous passages: qa/conversation/search.py)."""
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}")
        if depth is None:
            depth = self.depth
        if top_k is None:
            top_k = depth
        self.timings = {"encode": 0.0, "search": 0.0}
        if len(self.index.chunks) == 0:
            return []
        allowed = self.index.rows_matching(filter)
        rankings: dict[str, list[int]] = {}
        scores: dict[str, dict[int, float]] = {}
        if mode in ("hybrid", "dense"):
            t0 = time.perf_counter()
            query = self.embed_query(question)
            t1 = time.perf_counter()
            found = self.index.dense.search(query, depth, allowed)
            self.timings["encode"] += t1 - t0
            self.timings["search"] += time.perf_counter() - t1
            rankings["dense"] = [r for r, _ in found]
            scores["dense"] = dict(found)
        if mode in ("hybrid", "bm25"):
            t0 = time.perf_counter()
            found = (self.index.lexical.search(question, depth, allowed) if lexical_weights is None
                     else self.index.lexical.search_weighted(lexical_weights, depth, allowed))
            self.timings["search"] += time.perf_counter() - t0
            rankings["bm25"] = [r for r, _ in found]
            scores["bm25"] = dict(found)
        chunks = self.index.chunks
        for name, rows in (extra or {}).items():
            rankings[name] = list(rows)
        if mode != "hybrid" and not extra:
            ranked = rankings[mode]
            return [Hit(chunks[r], scores[mode][r], {mode: i}) for i, r in enumerate(ranked[:top_k])]
        # RRF works on string ids; chunk ids are unique, so map through them.
        by_id = {chunks[r].chunk_id: r for ranked in rankings.values() for r in ranked}
        fused = rrf({name: [chunks[r].chunk_id for r in ranked] for name, ranked in rankings.items()},
                    rrf_k=self.rrf_k, top_k=top_k)
        return [Hit(chunks[by_id[cid]], score, ranks) for cid, score, ranks in fused]
