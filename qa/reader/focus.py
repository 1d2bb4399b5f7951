"""Focus windows: the few sentences of a passage most likely to hold the answer.

The reader's cost grows with the tokens it reads, so a fast reading mode reads, from each
retrieved passage, only the best-matching sentence and its neighbours up to a token budget. The
match is lexical (stemmed content words shared with the question, rarer words weighing more), which
is cheap and, for questions that reuse the text's words, usually finds the answer's sentence.

Offsets stay exact: a focus window is a ``[start, end)`` slice of the passage text.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence

from qa.chunk import split_sentences

_WORD = re.compile(r"\w+", re.UNICODE)
# Question words and glue that say nothing about where the answer is.
_STOP = frozenset(
    "a an the of in on at to for from by with about as into than then that this these those is are "
    "was were be been being do does did has have had what which who whom whose when where why how "
    "and or not no it its their his her they he she we you i there here if so can could would "
    "should will shall may might must one ones also only".split()
)


def _stems(text: str) -> list[str]:
    from qa.index_lexical import _STEMMER

    words = [w.lower() for w in _WORD.findall(text)]
    return _STEMMER.stemWords([w for w in words if w not in _STOP])


def focus_spans(question: str, passages: Sequence[str], budget_chars: int = 320) -> list[tuple[int, int]]:
    """One ``(start, end)`` character range per passage: its best sentence, grown by the better
    neighbour while the range stays within ``budget_chars`` characters.

    Sentences are weighted by the question's stems they contain, each stem counting
    ``1 + log(N / df)`` over the N sentences of all passages (rare words mark the place). A passage
    with no sentence boundaries, or shorter than the budget, is returned whole.
    """
    q = set(_stems(question))
    sents = [split_sentences(t) or [(0, len(t))] for t in passages]
    stems = [[set(_stems(t[s:e])) for s, e in ss] for t, ss in zip(passages, sents)]
    n = sum(len(x) for x in stems) or 1
    df: dict[str, int] = {}
    for per_passage in stems:
        for st in per_passage:
            for w in st & q:
                df[w] = df.get(w, 0) + 1
    weight = {w: 1.0 + math.log(n / c) for w, c in df.items()}
    out: list[tuple[int, int]] = []
    for text, ss, st in zip(passages, sents, stems):
        if len(text) <= budget_chars or len(ss) <= 1:
            out.append((0, len(text)))
            continue
        scores = [sum(weight.get(w, 0.0) for w in x & q) for x in st]
        best = max(range(len(ss)), key=lambda i: (scores[i], -i))
        lo = hi = best
        while True:  # grow towards the neighbour that matches the question more
            options = []
            if lo > 0 and ss[hi][1] - ss[lo - 1][0] <= budget_chars:
                options.append((scores[lo - 1], 1, lo - 1, hi))
            if hi + 1 < len(ss) and ss[hi + 1][1] - ss[lo][0] <= budget_chars:
                options.append((scores[hi + 1], 0, lo, hi + 1))
            if not options:
                break
            _, _, lo, hi = max(options)
        out.append((ss[lo][0], ss[hi][1]))
    return out
