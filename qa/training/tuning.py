"""Scoring a reader on the tuning split while it trains and when it is exported: each question
read with its own paragraph, decoded exactly as ``SpanReader`` decodes one passage, and F1 with
abstention swept over the score threshold."""
from __future__ import annotations

import numpy as np
import torch

from qa.metrics import exact_match, max_over_golds, token_f1
from qa.reader.model import collate
from qa.reader.span import decode_window, trim_span
from qa.reader.windows import tokenize_windows
from qa.training.data import SquadRecord


@torch.inference_mode()
def predict_records(model, tokenizer, records: list[SquadRecord], max_seq_len: int, stride: int,
                    max_answer_tokens: int = 30, batch_size: int = 64,
                    max_question_tokens: int = 64) -> list[dict]:
    """Best span (text, score) and no-answer probability for each record, given its paragraph."""
    model.eval()
    windows = tokenize_windows(tokenizer, [r.question for r in records], [r.context for r in records],
                               max_seq_len, stride, max_question_tokens)
    best: list[dict] = [{"text": "", "score": 0.0, "null": 1.0, "start": -1, "end": -1} for _ in records]
    order = sorted(range(len(windows)), key=lambda i: len(windows[i].input_ids))
    for b in range(0, len(order), batch_size):
        ws = [windows[i] for i in order[b : b + batch_size]]
        batch = collate(ws)
        sl, el = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
        sl, el = sl.float().numpy(), el.float().numpy()
        for k, w in enumerate(ws):
            L = len(w.input_ids)
            ctx = np.array([o is not None for o in w.offsets])
            null, cands = decode_window(sl[k, :L], el[k, :L], ctx, max_answer_tokens, n_best=1)
            rec = records[w.example_index]
            out = best[w.example_index]
            out["null"] = min(out["null"], null)
            if cands and cands[0][0] > out["score"]:
                score, ts, te = cands[0]
                # same exact-offset trimming as SpanReader, so tuning numbers match the component
                cs, ce = trim_span(rec.context, w.offsets[ts][0], w.offsets[te][1])
                out.update(text=rec.context[cs:ce], score=score, start=cs, end=ce)
    return best


def abstention_sweep(preds: list[dict], records: list[SquadRecord],
                     unanswerable_prior: float | None = None) -> dict:
    """F1/EM with abstention as a function of the threshold on the best span score; returns the
    threshold maximising F1 (ties -> the lower threshold) and the metrics there.

    ``unanswerable_prior``: weight the questions so that unanswerable ones make up this share of
    the total. The tuning split is 52% unanswerable; a user of the chat asks mostly answerable
    questions, and a threshold fitted to a 52% prior withholds most right answers. ``None`` = the
    split's own mix."""
    golds = [r.answer_texts for r in records]
    has_answer = np.array([bool(g) for g in golds])
    weights = np.ones(len(golds))
    if unanswerable_prior is not None and has_answer.any() and (~has_answer).any():
        weights = np.where(has_answer, (1 - unanswerable_prior) / has_answer.sum(),
                           unanswerable_prior / (~has_answer).sum()) * len(golds)
    f1_ans = np.array([max_over_golds(token_f1, p["text"], g) for p, g in zip(preds, golds)])
    em_ans = np.array([max_over_golds(exact_match, p["text"], g) for p, g in zip(preds, golds)])
    f1_abs = np.array([max_over_golds(token_f1, "", g) for g in golds])
    scores = np.array([p["score"] for p in preds])
    cands = np.unique(np.concatenate([[0.0], scores, [1.0 + 1e-9]]))
    best = None
    for t in cands:
        answered = scores >= t
        f1 = float(np.average(np.where(answered, f1_ans, f1_abs), weights=weights))
        em = float(np.average(np.where(answered, em_ans, f1_abs), weights=weights))
        if best is None or f1 > best["f1"] + 1e-12:
            best = {"threshold": float(t), "f1": f1, "em": em, "answered": int(answered.sum())}
    answerable = np.array([bool(g) for g in golds])
    return {
        "best_f1": 100 * best["f1"], "best_em": 100 * best["em"], "best_threshold": best["threshold"],
        "answered_at_best": best["answered"],
        "has_ans_f1": 100 * float(f1_ans[answerable].mean()) if answerable.any() else 0.0,
        "has_ans_em": 100 * float(em_ans[answerable].mean()) if answerable.any() else 0.0,
        "n": len(records), "n_answerable": int(answerable.sum()),
    }
