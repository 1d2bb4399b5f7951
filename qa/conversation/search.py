"""A follow-up's retrieval: BM25 over the question's words plus the history's rare words (weighted
lower; qa/conversation/expand.py), dense search on the standalone rewrite, and the previous answer's
passage with its neighbours in the article as a third ranked list, all fused by reciprocal rank.

The previous passages are evidence, not a verdict: they enter the fusion like any other list, so
a follow-up about something else in the same article still finds it, and a filter that excludes
that article excludes them too (they are restricted to the filter's rows like the other lists).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..filters import Filter
from ..retrieve import HybridRetriever
from ..types import Hit

HISTORY_LIST = "history"  # the name of the previous passages' list in Hit.ranks


@dataclass(frozen=True)
class HistorySearch:
    """Call it as ``Pipeline.ask``'s ``search`` (see ``Pipeline.read``). ``evidence``: (doc_id,
    chunk_id) of the previous answer's citation, or None; ``neighbours``: chunks either side of it
    taken from the same article."""

    weights: dict[str, float]
    evidence: tuple[str, str] | None = None
    neighbours: int = 1

    def __call__(self, retriever: HybridRetriever, question: str, mode: str = "hybrid",
                 top_k: int | None = None, filter: Filter | None = None) -> list[Hit]:
        extra = {}
        rows = self.evidence_rows(retriever, filter)
        if rows:
            extra[HISTORY_LIST] = rows
        return retriever.retrieve(question, mode=mode, top_k=top_k, filter=filter,
                                  lexical_weights=self.weights or None, extra=extra)

    def evidence_rows(self, retriever: HybridRetriever, filter: Filter | None) -> list[int]:
        """The cited chunk and its neighbours in its article, best BM25 match to the weighted query
        first (then the rest in reading order), within the rows ``filter`` admits."""
        if self.evidence is None:
            return []
        doc_id, chunk_id = self.evidence
        chunks = retriever.index.chunks
        rows = [r for r, c in enumerate(chunks) if c.doc_id == doc_id]
        at = next((i for i, r in enumerate(rows) if chunks[r].chunk_id == chunk_id), None)
        if at is None:  # the article changed or left the index since the answer was given
            return []
        rows = rows[max(0, at - self.neighbours): at + self.neighbours + 1]
        allowed = retriever.index.rows_matching(filter)
        if allowed is not None:
            admitted = set(np.asarray(allowed).tolist())
            rows = [r for r in rows if r in admitted]
        if not rows or not self.weights:
            return rows
        scored = [r for r, _ in retriever.index.lexical.search_weighted(
            self.weights, len(rows), np.asarray(rows, dtype=np.int64))]
        return scored + [r for r in rows if r not in scored]
