"""Fitting the answer verifier (qa/reader/verify.py) and measuring its calibration.

Input rows come from asking the tuning split through the product's pipeline
(``scripts/fit_verifier.py``): per question its title, whether it is answerable, and up to a few
distinct candidate answers with their verifier features and token F1 against the gold answers.

Fitting has two steps, both logistic:

1. **Ordering**: P(right) from every candidate's features (right = F1 >= 0.5), each question
   weighted so unanswerable questions make up ``prior`` of the total.
2. **Calibration** (Platt): the top answer's logit is rescaled on the top answers alone, since the
   shown number is the top answer's. The two compose into one logistic model.

The threshold maximises F1 with abstention at the same prior. Figures are cross-validated by
title (fit on 3/4 of the titles, measured on the rest), so calibration is judged out of sample.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa.rank import fit_logistic
from qa.reader.verify import FEATURES, LOW_CONFIDENCE, AnswerVerifier

RIGHT_F1 = 0.5


def _question_weights(rows: Sequence[dict], prior: float | None) -> np.ndarray:
    n_ans = sum(r["answerable"] for r in rows)
    n_un = len(rows) - n_ans
    if prior is None or not n_ans or not n_un:
        return np.ones(len(rows))
    return np.array([(1 - prior) * len(rows) / n_ans if r["answerable"] else prior * len(rows) / n_un
                     for r in rows])


def fit_verifier(rows: Sequence[dict], prior: float = 0.2, l2: float = 1e-3) -> AnswerVerifier:
    """Fit both steps and choose the threshold; ``rows`` as described in the module docstring."""
    qw = _question_weights(rows, prior)
    x, y, w = [], [], []
    for r, weight in zip(rows, qw):
        for c in r["cands"]:
            x.append(c["x"])
            y.append(float(c["f1"] >= RIGHT_F1))
            w.append(weight / len(r["cands"]))
    x, y, w = np.array(x), np.array(y), np.array(w)
    weights, bias = fit_logistic(x, y, l2, sample_weight=w)
    # Platt step on the top answers (by the ordering model)
    tops = _tops(rows, weights, bias)
    z = np.array([t[0] for t in tops if t is not None]).reshape(-1, 1)
    ty = np.array([float(t[1] >= RIGHT_F1) for t in tops if t is not None])
    tw = np.array([wq for t, wq in zip(tops, qw) if t is not None])
    (a,), c = fit_logistic(z, ty, l2, sample_weight=tw)
    v = AnswerVerifier(tuple(float(a) * weights), float(a) * bias + c, 0.0, LOW_CONFIDENCE, prior)
    return AnswerVerifier(v.weights, v.bias, choose_threshold(rows, v, prior), LOW_CONFIDENCE, prior)


def _tops(rows, weights, bias) -> list[tuple[float, float] | None]:
    """Per question: (logit, F1) of the best candidate under a linear model, or None."""
    out = []
    for r in rows:
        if not r["cands"]:
            out.append(None)
            continue
        scored = [(float(np.dot(weights, c["x"]) + bias), c["f1"]) for c in r["cands"]]
        out.append(max(scored, key=lambda s: s[0]))
    return out


def top_answers(rows, verifier: AnswerVerifier) -> list[tuple[float, float] | None]:
    """Per question: (P(right), F1) of the answer shown first, or None when there is none."""
    out = []
    for t in _tops(rows, np.array(verifier.weights), verifier.bias):
        out.append(None if t is None else (1.0 / (1.0 + np.exp(-t[0])), t[1]))
    return out


def outcome(rows, tops, threshold: float, prior: float | None) -> dict:
    """F1 / EM-like figures with abstention at ``threshold``, weighted to ``prior``."""
    qw = _question_weights(rows, prior)
    vals = []
    tp = fp = fn = answered = 0
    for r, top in zip(rows, tops):
        ans = top is not None and top[0] >= threshold
        answered += ans
        if r["answerable"]:
            vals.append(top[1] if ans else 0.0)
            fp += not ans
        else:
            vals.append(0.0 if ans else 1.0)
            tp += not ans
            fn += ans
    return {"f1_with_abstention": 100 * float(np.average(vals, weights=qw)),
            "abstention_precision": tp / (tp + fp) if tp + fp else 0.0,
            "abstention_recall": tp / (tp + fn) if tp + fn else 0.0,
            "answered": answered / max(1, len(rows)), "questions": len(rows)}


def choose_threshold(rows, verifier: AnswerVerifier, prior: float) -> float:
    tops = top_answers(rows, verifier)
    grid = np.round(np.arange(0.0, 1.0, 0.005), 3)
    return float(max(grid, key=lambda t: (round(outcome(rows, tops, t, prior)["f1_with_abstention"], 9), -t)))


def reliability(probabilities: Sequence[float], right: Sequence[float], weights: Sequence[float] | None = None,
                bins: int = 10) -> dict:
    """Expected calibration error over equal-width bins, and the bins (mean P, share right, weight)."""
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(right, dtype=float)
    w = np.ones_like(p) if weights is None else np.asarray(weights, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        m = idx == b
        if not m.any():
            continue
        wb = w[m].sum()
        conf, acc = float(np.average(p[m], weights=w[m])), float(np.average(y[m], weights=w[m]))
        ece += wb / w.sum() * abs(conf - acc)
        table.append({"low": float(edges[b]), "high": float(edges[b + 1]), "mean_p": conf, "right": acc,
                      "n": int(m.sum()), "weight": float(wb / w.sum())})
    return {"ece": float(ece), "bins": table}


def coverage_curve(probabilities: Sequence[float], exact: Sequence[float]) -> list[tuple[float, float]]:
    """(coverage, EM of the answers kept) when answering the most confident first."""
    order = np.argsort(-np.asarray(probabilities, dtype=float), kind="stable")
    em = np.asarray(exact, dtype=float)[order]
    kept = np.cumsum(em) / np.arange(1, len(em) + 1)
    return [(float((i + 1) / len(em)), float(kept[i])) for i in range(len(em))]


def cross_validate(rows, prior: float, l2: float = 1e-3, folds: int = 4) -> dict:
    """Out-of-sample figures: each title's questions judged by a verifier fitted on other titles."""
    titles = sorted({r["title"] for r in rows})
    judged: list[tuple[dict, tuple[float, float] | None, float]] = []
    for k in range(folds):
        test_titles = set(titles[k::folds])
        train = [r for r in rows if r["title"] not in test_titles]
        v = fit_verifier(train, prior, l2)
        test = [r for r in rows if r["title"] in test_titles]
        judged += [(r, top, v.min_score) for r, top in zip(test, top_answers(test, v))]
    rs = [j[0] for j in judged]
    decided = [top if top is None or top[0] >= t else (-1.0, top[1]) for _, top, t in judged]
    qw = _question_weights(rs, prior)
    pairs = [(top[0], float(top[1] >= RIGHT_F1), wq) for (_, top, _), wq in zip(judged, qw) if top is not None]
    return {"weighted": outcome(rs, decided, 0.0, prior), "as_is": outcome(rs, decided, 0.0, None),
            "reliability_weighted": reliability([p[0] for p in pairs], [p[1] for p in pairs], [p[2] for p in pairs]),
            "reliability_as_is": reliability([p[0] for p in pairs], [p[1] for p in pairs]),
            "answerable_top1_f1": 100 * float(np.mean([top[1] if top else 0.0 for r, top, _ in judged
                                                       if r["answerable"]]))}


__all__ = ["FEATURES", "fit_verifier", "top_answers", "outcome", "reliability", "coverage_curve",
           "cross_validate", "choose_threshold", "RIGHT_F1"]
