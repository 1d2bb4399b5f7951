"""Answer ranking: the reader's span score combined with the retrieval evidence for its passage.

The reader scores each window on its own, so a confident-looking span in the fifth passage can beat
the right answer in the first (measured: only ~61% of top answers on the SQuAD-dev corpus cited the
question's own paragraph). ``AnswerRanker`` is a logistic regression over five features of a
candidate answer::

    log(reader score), log(1 + passage rank), log(1 + BM25 rank), log(1 + dense rank),
    log(reader's no-answer probability for the question)

(ranks 0-based; a passage missing from a retriever's list gets that list's depth; the last feature
is the same for every candidate of a question: it moves the probability, not the order). It is fitted on
the tuning split asked against the whole SQuAD-dev corpus (``scripts/fit_ranker.py``), so its
output is the probability that the answer is right *in the product's setting*, and the abstention
threshold ``min_score`` is chosen on the same data. Coefficients ship as JSON inside the reader's
``reader.json``; a reader without them keeps its own scores.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

# Candidate spans the reader hands to the ranker per question, whatever top_k the caller wants: the
# ranker can promote a span the reader scored lower, but only among those it sees (fit and use alike).
CANDIDATES = 10

# Scores are clamped here before their log is taken: the least a probability can count for.
FLOOR = 1e-6

FEATURES = ("log_reader_score", "log1p_passage_rank", "log1p_bm25_rank", "log1p_dense_rank", "log_no_answer")


def features(reader_score: float, passage_rank: int, ranks: Mapping[str, int], depth: int,
             no_answer: float) -> list[float]:
    """The feature vector of one candidate answer (order of ``FEATURES``)."""
    return [
        math.log(max(float(reader_score), FLOOR)),
        math.log1p(passage_rank),
        math.log1p(ranks.get("bm25", depth)),
        math.log1p(ranks.get("dense", depth)),
        math.log(max(float(no_answer), FLOOR)),
    ]


@dataclass(frozen=True)
class AnswerRanker:
    weights: tuple[float, ...]
    bias: float
    depth: int  # rank given to a passage a retriever did not return (its list's length)
    min_score: float  # abstention threshold on the ranker's probability (tuning split)

    def score(self, reader_score: float, passage_rank: int, ranks: Mapping[str, int], no_answer: float) -> float:
        """Probability that this candidate answer is right."""
        return self.probability(features(reader_score, passage_rank, ranks, self.depth, no_answer))

    def order_key(self, reader_score: float, passage_rank: int, ranks: Mapping[str, int]) -> float:
        """What orders the candidates of one question: the logit without its bias and without the
        no-answer feature, which is the same for every candidate of a question."""
        x = features(reader_score, passage_rank, ranks, self.depth, 1.0)  # log(1.0) = 0: no-answer term off
        return sum(w * v for w, v in zip(self.weights, x))

    def ceiling(self, passage_rank: int, ranks: Mapping[str, int]) -> float:
        """The highest ``order_key`` any candidate read in this passage can have: the key at the
        best reader score (1 when the model rewards reader scores, as every fit does)."""
        return max(self.order_key(1.0, passage_rank, ranks), self.order_key(0.0, passage_rank, ranks))

    def highest_probability(self, key: float, no_answer: float) -> float:
        """The most a candidate with this ``order_key`` can score once more passages are read: more
        reading can only lower the question's no-answer probability (it is the lowest over the
        windows read), down to ``FLOOR`` at most."""
        w = self.weights[FEATURES.index("log_no_answer")]
        term = max(w * math.log(max(float(no_answer), FLOOR)), w * math.log(FLOOR))
        z = self.bias + key + term
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def probability(self, x) -> float:
        """The model on a ready feature vector (order of ``FEATURES``)."""
        z = self.bias + sum(w * v for w, v in zip(self.weights, x))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def to_dict(self) -> dict:
        return {"features": list(FEATURES), "weights": [float(w) for w in self.weights], "bias": float(self.bias),
                "depth": int(self.depth), "min_score": float(self.min_score)}

    @classmethod
    def from_dict(cls, d: Mapping) -> "AnswerRanker":
        if list(d.get("features", [])) != list(FEATURES):
            raise ValueError(f"answer ranker features {d.get('features')} differ from this version's {list(FEATURES)}")
        weights = tuple(float(w) for w in d["weights"])
        if len(weights) != len(FEATURES) or not all(math.isfinite(w) for w in weights):
            raise ValueError("answer ranker weights are damaged")
        return cls(weights=weights, bias=float(d["bias"]), depth=int(d["depth"]), min_score=float(d["min_score"]))


def load_ranker(meta: Mapping, reader_name: str | None = None) -> AnswerRanker | None:
    """The ranker stored in a reader's ``reader.json``, or None if it has none.

    ``answer_ranker`` is fitted for the reader the weights were exported as (``meta["name"]``).
    A reader that reads the same weights differently (span-fast: focused passages, int8) scores
    differently, so its own fit lives under ``answer_rankers[reader_name]``; until one is fitted it
    falls back to ``answer_ranker``.
    """
    d = ranker_entry(meta, reader_name)
    return AnswerRanker.from_dict(d) if d else None


def ranker_entry(meta: Mapping, reader_name: str | None = None) -> Mapping | None:
    """The stored form (with how it was fitted) of the ranker ``load_ranker`` loads."""
    own = (meta.get("answer_rankers") or {}).get(reader_name) if reader_name else None
    return own or meta.get("answer_ranker")


def store_ranker(meta: dict, reader_name: str, entry: dict) -> dict:
    """``meta`` with ``entry`` (a ranker's ``to_dict()`` plus how it was fitted) stored where
    ``load_ranker(meta, reader_name)`` finds it; the other readers' rankers are left as they are."""
    out = dict(meta)
    if reader_name == meta.get("name", reader_name):
        out["answer_ranker"] = entry
    else:
        out["answer_rankers"] = {**(meta.get("answer_rankers") or {}), reader_name: entry}
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, iterations: int = 50,
                 sample_weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (a handful of features: exact and fast).

    ``sample_weight`` (normalised to mean 1) weights the examples, e.g. to a stated class prior.
    Returns (weights, bias). The bias is not penalised.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = x.shape
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64) / np.mean(sample_weight)
    a = np.hstack([x, np.ones((n, 1))])
    theta = np.zeros(d + 1)
    penalty = np.full(d + 1, l2 * n)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ theta, -50, 50)))
        grad = a.T @ (w * (p - y)) + penalty * theta
        hess = (a * (w * p * (1 - p))[:, None]).T @ a + np.diag(penalty) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.abs(step).max() < 1e-10:
            break
    return theta[:-1], float(theta[-1])
