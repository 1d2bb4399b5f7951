"""QAConfig: the one home of tunable parameters (saved in the index manifest as JSON)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class QAConfig:
    # Chunking: a chunk is a run of whole sentences.
    chunk_sentences: int = 3
    chunk_overlap: int = 1  # sentences shared by consecutive chunks
    chunk_max_chars: int = 900  # a chunk stops growing past this (one long sentence still fits)
    # Retrieval.
    depth: int = 20  # candidates taken from each retriever before fusion
    rrf_k: int = 60  # Cormack et al. 2009 constant; ranks are 1-based inside the formula
    passages: int = 5  # fused hits handed to the reader
    # Dense index kind by size (qa/index_dense.py): exact while this many chunks or fewer, then IVF-SQ8
    # searched in dense_nprobe lists, its best depth x dense_rescore candidates re-scored exactly
    # against the float vectors (0: none). Measured in reports/scale.md and reports/scale_lexical.md:
    # at 1M, nprobe 256 + re-scoring finds >= 98% of exact search's top 20 in ~7 ms of one core.
    dense_flat_max: int = 200_000
    dense_nprobe: int = 256
    dense_rescore: int = 4
    # Read the best passages first and the rest only while they could change the answer
    # (qa/adaptive.py; needs a reader with an answer ranker). False: read every passage.
    adaptive_depth: bool = True
    # Answers.
    top_k: int = 3
    encode_batch_size: int = 32

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "QAConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def chunking(self) -> dict:
        """The parameters that change chunk boundaries: if they differ, the index is stale."""
        return {
            "chunk_sentences": self.chunk_sentences,
            "chunk_overlap": self.chunk_overlap,
            "chunk_max_chars": self.chunk_max_chars,
        }
