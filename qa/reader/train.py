"""Fine-tune the span reader on CPU.

    python -m qa.reader.train --config configs/reader.json [--resume] [--out runs/reader]
                              [--max-minutes N] [--stop-at HH:MM] [--export-best-to DIR]
    python -m qa.reader.train export --ckpt runs/reader/best.pt [--out qa/reader/weights]

Training is built for a hard wall-clock budget: the schedule (warmup + linear decay) is sized in
steps from the measured throughput, checkpoints are written atomically every ``ckpt_every`` steps
and at the stop, the tuning split is evaluated every ``eval_every`` steps and the best checkpoint
is kept (and optionally exported at once, so a usable reader exists at any time).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from qa.metrics import exact_match, max_over_golds, token_f1
from qa.reader.model import EMBEDDING_PREFIX, SpanModel, collate, keep_layers, load_tokenizer
from qa.reader.span import decode_window, trim_span
from qa.reader.squad_data import (
    SquadRecord,
    build_training_windows,
    default_data_dir,
    sample_records,
    tokenize_windows,
    training_records,
    tuning_records,
)

MASK_VALUE = -1e4


def log(msg: str) -> None:
    print(f"[{datetime.now(timezone.utc).strftime('%H:%M:%S')}] {msg}", flush=True)


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def allowed_only(logits, batch) -> torch.Tensor:
    """Logits with every position but CLS + context masked out (what decoding normalises over)."""
    return logits.masked_fill(~batch["allowed"], MASK_VALUE)


def span_loss(start_logits, end_logits, batch) -> torch.Tensor:
    """Cross-entropy of start and end over CLS + context positions."""
    ce = torch.nn.functional.cross_entropy
    return (ce(allowed_only(start_logits, batch), batch["start_positions"])
            + ce(allowed_only(end_logits, batch), batch["end_positions"])) / 2


def distill_loss(start_logits, end_logits, teacher_start, teacher_end, batch, temperature: float) -> torch.Tensor:
    """KL(teacher || student) of the start and end distributions over CLS + context positions,
    softened by ``temperature`` and scaled by its square (so its gradients keep their size)."""
    t = float(temperature)

    def kl(student, teacher):
        log_p = torch.log_softmax(allowed_only(student, batch) / t, dim=-1)
        q = torch.softmax(allowed_only(teacher, batch) / t, dim=-1)
        return torch.nn.functional.kl_div(log_p, q, reduction="batchmean")

    return (kl(start_logits, teacher_start) + kl(end_logits, teacher_end)) / 2 * t * t


def load_teacher(path: str | Path) -> SpanModel:
    """The model whose start/end distributions a student is distilled from (eval mode, no grads):
    a training checkpoint (``.pt``) or a shipped weights folder."""
    from qa.reader.model import load_shipped

    p = Path(path)
    if p.is_dir():
        model = load_shipped(p)[0]
    else:
        ck = torch.load(p, weights_only=False, map_location="cpu")
        model = SpanModel.from_encoder(num_layers=ck.get("config", {}).get("num_layers"))
        model.load_trained_state(ck["model"], f"teacher {p}")
    model.eval()
    for q in model.parameters():
        q.requires_grad_(False)
    return model


def batch_order(n: int, batch_size: int, seed: int, epoch: int, lengths: list[int]) -> list[list[int]]:
    """Shuffled batches, grouped by length inside mega-batches of 50 batches (less padding), then
    shuffled again so lengths do not drift over an epoch. Deterministic in (seed, epoch)."""
    rng = np.random.RandomState(seed * 1000 + epoch)
    perm = rng.permutation(n)
    mega = batch_size * 50
    batches: list[list[int]] = []
    for m in range(0, n, mega):
        block = sorted(perm[m : m + mega].tolist(), key=lambda i: lengths[i])
        batches += [block[b : b + batch_size] for b in range(0, len(block), batch_size)]
    order = rng.permutation(len(batches))
    return [batches[i] for i in order if len(batches[i]) == batch_size or len(batches) == 1]


# ---------------------------------------------------------------------------------------------
# Evaluation on tuning records (question + its own paragraph)
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------


def atomic_save(obj, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def trainable_state(model) -> dict:
    """Model state without the frozen embeddings (they come from the package)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items() if not k.startswith(EMBEDDING_PREFIX)}


def rng_state() -> dict:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(s: dict) -> None:
    random.setstate(s["python"])
    np.random.set_state(s["numpy"])
    torch.set_rng_state(s["torch"])


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


class DeadlineLinearSchedule:
    """Linear warmup, then linear decay to 0, where progress is the larger of step/total_steps and
    elapsed wall time / time budget. On a shared machine the throughput is unknown in advance; this
    makes the learning rate reach ~0 at the deadline whatever the speed (so the last checkpoint is
    a finished run, not a high-LR snapshot), and it is plain step-based when there is no deadline."""

    def __init__(self, optimizer, peak_lr: float, warmup_steps: int, total_steps: int,
                 t_begin: float, deadline: float | None):
        self.opt, self.peak, self.warmup, self.total = optimizer, peak_lr, warmup_steps, total_steps
        self.t_begin, self.deadline = t_begin, deadline
        self.step_count = 0
        self._apply()

    def progress(self) -> float:
        p = self.step_count / max(1, self.total)
        if self.deadline is not None:
            p = max(p, (time.time() - self.t_begin) / max(1.0, self.deadline - self.t_begin))
        return min(1.0, p)

    def factor(self) -> float:
        if self.step_count < self.warmup:
            return (self.step_count + 1) / max(1, self.warmup)
        w = self.warmup / max(1, self.total)
        return max(0.0, (1.0 - self.progress()) / max(1e-9, 1.0 - w))

    def _apply(self) -> None:
        for g in self.opt.param_groups:
            g["lr"] = self.peak * min(1.0, self.factor())

    def step(self) -> None:
        self.step_count += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        return [g["lr"] for g in self.opt.param_groups]

    def state_dict(self) -> dict:
        return {"step_count": self.step_count, "t_begin": self.t_begin, "deadline": self.deadline,
                "peak": self.peak, "warmup": self.warmup, "total": self.total}

    def load_state_dict(self, d: dict) -> None:
        self.step_count, self.t_begin = d["step_count"], d["t_begin"]
        # a resumed run keeps its original time origin; the deadline is the one of this invocation
        self._apply()


def parse_stop_at(s: str | None) -> float | None:
    """'HH:MM' (UTC, today) -> unix time."""
    if not s:
        return None
    h, m = (int(x) for x in s.split(":"))
    now = datetime.now(timezone.utc)
    return now.replace(hour=h, minute=m, second=0, microsecond=0).timestamp()


def train(args) -> int:
    cfg = json.loads(Path(args.config).read_text())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(int(cfg.get("threads", 2)))
    seed = int(cfg["seed"])
    set_seed(seed)
    t_start = time.time()
    deadline = None
    if args.max_minutes is not None:
        deadline = t_start + 60 * args.max_minutes
    stop_at = parse_stop_at(args.stop_at or cfg.get("stop_at_utc"))
    if stop_at is not None:
        deadline = stop_at if deadline is None else min(deadline, stop_at)
    if deadline is not None:
        log(f"deadline {datetime.fromtimestamp(deadline, timezone.utc).isoformat(timespec='seconds')}")

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    tok = load_tokenizer()
    recs = training_records(data_dir)
    if args.limit_train:
        recs = sample_records(recs, args.limit_train, seed)
    windows, stats = build_training_windows(
        recs, tok, cfg["max_seq_len"], cfg["train_stride"], cfg["max_question_tokens"],
        cfg["negative_keep_fraction"], seed,
        cross_negative_fraction=float(cfg.get("cross_negative_fraction", 0.0)),
    )
    log(f"training records={len(recs)} windows={json.dumps(stats)}")
    tune_all = tuning_records(data_dir)
    tune = sample_records(tune_all, cfg["eval_sample"], seed)
    log(f"tuning sample {len(tune)} of {len(tune_all)} ({sum(r.is_impossible for r in tune)} unanswerable)")

    num_layers = cfg.get("num_layers")
    model = SpanModel.from_encoder(seed=seed, num_layers=num_layers)
    init_from = cfg.get("init_from")
    if init_from and not (args.resume and (out / "last.pt").exists()):
        # A second stage starts from an earlier run's weights with a fresh optimizer and schedule.
        init_path = Path(init_from)
        if not init_path.exists():
            log(f"init_from {init_path} not found: run the earlier stage first (see the Makefile)")
            return 2
        state = torch.load(init_path, weights_only=False)["model"]
        if num_layers:  # a shallower student starts from some of the earlier model's layers
            state = keep_layers(state, cfg.get("init_layers", list(range(int(num_layers)))))
        try:
            model.load_trained_state(state, f"init_from {init_path}")
        except RuntimeError as exc:
            log(str(exc))
            return 2
        log(f"initialised from {init_path}")
    if cfg.get("freeze_embeddings", True):
        model.freeze_embeddings()
    teacher = None
    if cfg.get("distill_from"):
        if not Path(cfg["distill_from"]).exists():
            log(f"distill_from {cfg['distill_from']} not found: train the teacher first (see the Makefile)")
            return 2
        teacher = load_teacher(cfg["distill_from"])
        log(f"distilling from {cfg['distill_from']} ({teacher.num_layers} layers) into {model.num_layers} layers")
    alpha = float(cfg.get("distill_alpha", 0.5))
    temperature = float(cfg.get("distill_temperature", 2.0))
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    no_decay = ("bias", "LayerNorm.weight")
    opt = torch.optim.AdamW(
        [
            {"params": [p for n, p in params if not n.endswith(no_decay)], "weight_decay": cfg["weight_decay"]},
            {"params": [p for n, p in params if n.endswith(no_decay)], "weight_decay": 0.0},
        ],
        lr=cfg["lr"],
    )
    total = int(args.max_steps or cfg["max_steps"])
    warmup = int(cfg["warmup_steps"])
    sched = DeadlineLinearSchedule(opt, cfg["lr"], warmup, total, t_start, deadline)
    bs = int(cfg["batch_size"])
    lengths = [len(w.input_ids) for w in windows]
    step, epoch, best_metric, examples_seen, epoch_pos = 0, 0, -1.0, 0, 0
    train_seconds = 0.0
    ckpt_path = out / "last.pt"
    if args.resume and ckpt_path.exists():
        ck = torch.load(ckpt_path, weights_only=False)
        model.load_state_dict(ck["model"], strict=False)
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        step, epoch, best_metric = ck["step"], ck["epoch"], ck["best_metric"]
        epoch_pos = ck.get("epoch_pos", 0)
        examples_seen, train_seconds = ck.get("examples_seen", 0), ck.get("train_seconds", 0.0)
        set_rng_state(ck["rng"])
        log(f"resumed from step {step} (epoch {epoch}, best {best_metric:.2f})")

    def save_last():
        nonlocal epoch_pos
        atomic_save(
            {"model": trainable_state(model), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
             "step": step, "epoch": epoch, "epoch_pos": epoch_pos, "best_metric": best_metric,
             "rng": rng_state(),
             "examples_seen": examples_seen, "train_seconds": train_seconds, "config": cfg},
            ckpt_path,
        )

    def evaluate():
        nonlocal best_metric
        t0 = time.time()
        preds = predict_records(model, tok, tune, cfg["max_seq_len"], cfg["eval_stride"],
                                cfg["max_answer_tokens"])
        m = abstention_sweep(preds, tune)
        m.update(step=step, epoch=epoch, examples_seen=examples_seen, lr=sched.get_last_lr()[0],
                 train_minutes=round(train_seconds / 60, 2), eval_seconds=round(time.time() - t0, 1),
                 time=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        with open(out / "metrics.jsonl", "a") as f:
            f.write(json.dumps(m) + "\n")
        log(f"eval step {step}: best_f1 {m['best_f1']:.2f} (t={m['best_threshold']:.3f}) "
            f"has_ans F1 {m['has_ans_f1']:.2f} EM {m['has_ans_em']:.2f} ({m['eval_seconds']}s)")
        model.train()
        if m["best_f1"] > best_metric:
            best_metric = m["best_f1"]
            atomic_save({"model": trainable_state(model), "step": step, "metrics": m, "config": cfg,
                         "examples_seen": examples_seen, "train_seconds": train_seconds}, out / "best.pt")
            log(f"new best at step {step}")
            if args.export_best_to:
                from qa.reader.export import export_checkpoint
                export_checkpoint(out / "best.pt", Path(args.export_best_to), calibrate=False)
                log(f"exported interim weights to {args.export_best_to}")
        return m

    from tqdm import tqdm

    model.train()
    bar = tqdm(total=total, initial=step, desc="train", mininterval=30, file=sys.stdout)
    stop_reason = "max_steps"
    last_loss = []
    while step < total:
        batches = batch_order(len(windows), bs, seed, epoch, lengths)
        start_b, epoch_pos = epoch_pos, 0
        for bi in range(start_b, len(batches)):
            if deadline is not None and time.time() >= deadline:
                stop_reason = "deadline"
                break
            t0 = time.time()
            batch = collate([windows[i] for i in batches[bi]])
            sl, el = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
            loss = span_loss(sl, el, batch)
            if teacher is not None:
                with torch.no_grad():
                    tsl, tel = teacher(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
                loss = (1 - alpha) * loss + alpha * distill_loss(sl, el, tsl, tel, batch, temperature)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for _, p in params], 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            epoch_pos = bi + 1
            examples_seen += len(batches[bi])
            train_seconds += time.time() - t0
            last_loss.append(loss.item())
            bar.update(1)
            if step % cfg["log_every"] == 0:
                log(f"step {step}/{total} loss {np.mean(last_loss):.4f} lr {sched.get_last_lr()[0]:.2e} "
                    f"{examples_seen / max(train_seconds, 1e-9):.2f} ex/s")
                last_loss = []
            if step % cfg["eval_every"] == 0:
                evaluate()
            if step % cfg["ckpt_every"] == 0:
                save_last()
            if step >= total:
                break
        else:
            epoch += 1
            epoch_pos = 0
            continue
        break
    bar.close()
    log(f"stopped: {stop_reason} at step {step}, examples {examples_seen}, train {train_seconds / 60:.1f} min")
    if step % cfg["eval_every"] != 0:
        evaluate()
    save_last()
    (out / "summary.json").write_text(json.dumps({
        "stop_reason": stop_reason, "step": step, "examples_seen": examples_seen, "epoch": epoch,
        "train_minutes": round(train_seconds / 60, 2), "wall_minutes": round((time.time() - t_start) / 60, 2),
        "best_metric": best_metric, "window_stats": stats, "training_records": len(recs),
    }, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "export":
        from qa.reader.export import main as export_main
        return export_main(argv[1:])
    p = argparse.ArgumentParser(prog="python -m qa.reader.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="configs/reader.json", help="training recipe (JSON)")
    p.add_argument("--out", default="runs/reader", help="run folder: checkpoints, metrics.jsonl")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--max-minutes", type=float, default=None, help="stop after N wall-clock minutes")
    p.add_argument("--stop-at", default=None, help="stop at HH:MM UTC (hard deadline)")
    p.add_argument("--max-steps", type=int, default=None, help="override the schedule length")
    p.add_argument("--limit-train", type=int, default=None, help="use N training questions (smoke tests)")
    p.add_argument("--data-dir", default=None, help="shared data folder (default ../shared/data)")
    p.add_argument("--export-best-to", default=None, help="export each new best checkpoint here")
    args = p.parse_args(argv)
    return train(args)


if __name__ == "__main__":
    sys.exit(main())
