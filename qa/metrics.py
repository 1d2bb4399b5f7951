"""Answer and retrieval metrics.

Answer normalisation follows the official SQuAD v1.1 evaluation script: lowercase, drop
punctuation, drop the articles a/an/the, collapse whitespace. EM and F1 are the maximum over the
gold answers; for an unanswerable question (no gold answers) the only right prediction is the
empty string, as in the SQuAD v2.0 script.
"""
from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(text: str) -> str:
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction: str, gold: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:
        # v2.0 rule: both empty is a match, one empty is a miss.
        return float(pred_tokens == gold_tokens)
    common = Counter(pred_tokens) & Counter(gold_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(pred_tokens)
    recall = overlap / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def max_over_golds(metric, prediction: str, golds: Sequence[str]) -> float:
    """Best score against any gold answer; no golds means "unanswerable": only "" scores."""
    if not golds:
        return float(prediction.strip() == "")
    return max(metric(prediction, g) for g in golds)


def squad_scores(predictions: Iterable[str], golds: Iterable[Sequence[str]]) -> dict[str, float]:
    """Corpus EM and F1 in percent, as the official script reports them."""
    em = f1 = 0.0
    n = 0
    for pred, gold in zip(predictions, golds, strict=True):
        em += max_over_golds(exact_match, pred, gold)
        f1 += max_over_golds(token_f1, pred, gold)
        n += 1
    if n == 0:
        return {"exact_match": 0.0, "f1": 0.0, "count": 0}
    return {"exact_match": 100.0 * em / n, "f1": 100.0 * f1 / n, "count": n}


def recall_at_k(first_relevant_ranks: Sequence[int | None], k: int) -> float:
    """Share of queries whose first relevant result has 0-based rank < k (None = not retrieved)."""
    if not first_relevant_ranks:
        return 0.0
    return sum(1 for r in first_relevant_ranks if r is not None and r < k) / len(first_relevant_ranks)


def mean_reciprocal_rank(first_relevant_ranks: Sequence[int | None]) -> float:
    if not first_relevant_ranks:
        return 0.0
    return sum(1.0 / (r + 1) for r in first_relevant_ranks if r is not None) / len(first_relevant_ranks)


def abstention_scores(answered: Sequence[bool], answerable: Sequence[bool]) -> dict[str, float]:
    """Precision/recall of abstaining, with "the question is unanswerable" as the positive class."""
    tp = sum(1 for a, g in zip(answered, answerable, strict=True) if not a and not g)
    abstained = sum(1 for a in answered if not a)
    unanswerable = sum(1 for g in answerable if not g)
    precision = tp / abstained if abstained else 0.0
    recall = tp / unanswerable if unanswerable else 0.0
    return {"precision": precision, "recall": recall, "abstained": abstained, "unanswerable": unanswerable}


def first_relevant_rank(relevant: Iterable[bool]) -> int | None:
    """0-based position of the first True in a ranked list of relevance flags, None if none.

    >>> first_relevant_rank([False, True, True])
    1
    """
    for rank, flag in enumerate(relevant):
        if flag:
            return rank
    return None


def citation_accuracy(cited_doc_ids: Sequence[str | None], gold_doc_ids: Sequence[str | None]) -> float:
    """Share of answered, answerable questions whose cited document is the gold one.

    ``cited_doc_ids[i]`` is the doc_id of the top answer's first citation (None = abstained);
    ``gold_doc_ids[i]`` is None for unanswerable questions. Both kinds are left out, so the figure
    measures where answers come from, not whether the system answers at all.
    """
    pairs = [(c, g) for c, g in zip(cited_doc_ids, gold_doc_ids, strict=True) if c is not None and g is not None]
    if not pairs:
        return 0.0
    return sum(1 for c, g in pairs if c == g) / len(pairs)
