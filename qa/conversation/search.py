"""A follow-up's retrieval: BM25 over the question's words plus the history's rare words (weighted
lower; qa/conversation/expand.py), dense search on the standalone rewrite, and the previous answer's
passage with its neighbours in the article as a third ranked list, all fused by reciprocal rank.

The previous passages are evidence, not a verdict: they enter the fusion like any other list, so
a follow-up about something else in the same article still finds it, and a filter that excludes
that article excludes them too (they are restricted to the filter's rows like the other lists).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..filters import Filter
from ..retrieve import HybridRetriever
from ..types import Chunk, Hit

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
        chunks = self.evidence_chunks(retriever, filter)
        if chunks:
            extra[HISTORY_LIST] = chunks
        return retriever.retrieve(question, mode=mode, top_k=top_k, filter=filter,
                                  lexical_weights=self.weights or None, extra=extra)

    def evidence_chunks(self, retriever: HybridRetriever, filter: Filter | None) -> list[Chunk]:
        """The cited chunk and its neighbours in its article, best BM25 match to the weighted query
        first (then the rest in reading order), when ``filter`` admits the article."""
        if self.evidence is None:
            return []
        doc_id, chunk_id = self.evidence
        index = retriever.index
        document = index.documents.get(doc_id)
        if document is None or (filter is not None and not filter.matches(document)):
            return []
        chunks = index.chunks_of(doc_id)
        at = next((i for i, c in enumerate(chunks) if c.chunk_id == chunk_id), None)
        if at is None:  # the article changed or left the index since the answer was given
            return []
        chunks = chunks[max(0, at - self.neighbours): at + self.neighbours + 1]
        if not self.weights:
            return chunks
        return sorted(chunks, key=lambda c: -self._overlap(c.text))  # stable: ties stay in reading order

    def _overlap(self, text: str) -> float:
        """How much of the weighted query ``text`` holds: the summed weight of the stems it shares
        (each word's stems share its weight, as in BM25 search; computed here, so every backend
        ranks the previous passages the same way)."""
        from ..index_lexical import tokenize

        words = [w for w, weight in self.weights.items() if weight > 0]
        stem_weight: dict[str, float] = {}
        for word, stems in zip(words, tokenize(words) if words else []):
            for t in stems:
                stem_weight[t] = max(stem_weight.get(t, 0.0), float(self.weights[word]))
        present = set(tokenize([text])[0])
        return sum(w for t, w in stem_weight.items() if t in present)
