"""Span decoding (shared by training-time evaluation) and the ``SpanReader`` inference component.

Scoring choice: each window is scored on its own. Start and end logits are softmax-normalised over
the window's CLS token plus its context tokens (question and special tokens are masked), exactly
the distribution the training loss fits, so ``p_start(i) * p_end(j)`` is the window's probability
that (i, j) is the answer and ``p_start(CLS) * p_end(CLS)`` its no-answer probability. These are
comparable across windows and passages because they do not depend on how many passages were
retrieved (a softmax over all windows' candidates would shrink every score as more passages are
added, which would make a fixed ``min_score`` meaningless).
"""
from __future__ import annotations

import numpy as np

NEG = -1e9


def masked_softmax(logits: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Softmax over the positions where ``allowed`` is True (others get probability 0)."""
    x = np.where(allowed, logits.astype(np.float64), NEG)
    x = x - x.max()
    e = np.exp(x) * allowed
    return e / e.sum()


def decode_window(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    context_mask: np.ndarray,
    max_answer_tokens: int = 30,
    top_n: int = 20,
    n_best: int = 5,
) -> tuple[float, list[tuple[float, int, int]]]:
    """Best spans of one window.

    ``context_mask[i]`` is True for context tokens. Position 0 is the CLS (no-answer) token.
    Returns (no-answer probability, [(score, start_token, end_token), ...] best first) where every
    span lies inside the context, ``start <= end`` and ``end - start + 1 <= max_answer_tokens``.
    """
    n = len(start_logits)
    context_mask = np.asarray(context_mask, dtype=bool)[:n]
    allowed = context_mask.copy()
    allowed[0] = True
    ps = masked_softmax(np.asarray(start_logits), allowed)
    pe = masked_softmax(np.asarray(end_logits), allowed)
    null = float(ps[0] * pe[0])
    ctx_idx = np.flatnonzero(context_mask)
    if len(ctx_idx) == 0:
        return null, []
    k = min(top_n, len(ctx_idx))
    starts = ctx_idx[np.argsort(-ps[ctx_idx], kind="stable")[:k]]
    ends = ctx_idx[np.argsort(-pe[ctx_idx], kind="stable")[:k]]
    cands: list[tuple[float, int, int]] = []
    for s in starts:
        for e in ends:
            if e < s or e - s + 1 > max_answer_tokens:
                continue
            cands.append((float(ps[s] * pe[e]), int(s), int(e)))
    cands.sort(key=lambda c: (-c[0], c[1], c[2]))
    return null, cands[:n_best]
