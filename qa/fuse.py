"""Reciprocal-rank fusion (Cormack, Clarke & Buettcher, SIGIR 2009)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence


def rrf(rankings: Mapping[str, Sequence[str]], rrf_k: int = 60, top_k: int | None = None
        ) -> list[tuple[str, float, dict[str, int]]]:
    """Fuse ranked lists of ids: score(id) = sum over lists of 1 / (rrf_k + rank), rank 1-based.

    Returns ``(id, score, {list name: 0-based rank})`` best first; ties broken by id so the order
    is deterministic.

    >>> rrf({"a": ["x", "y"], "b": ["y", "z"]}, rrf_k=60)[0][0]
    'y'
    """
    scores: dict[str, float] = {}
    ranks: dict[str, dict[str, int]] = {}
    for name, ranking in rankings.items():
        for rank0, item in enumerate(ranking):
            if name in ranks.get(item, {}):
                continue  # a list naming an id twice counts it once, at its best rank
            scores[item] = scores.get(item, 0.0) + 1.0 / (rrf_k + rank0 + 1)
            ranks.setdefault(item, {})[name] = rank0
    fused = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    if top_k is not None:
        fused = fused[:top_k]
    return [(item, score, ranks[item]) for item, score in fused]
