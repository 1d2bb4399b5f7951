"""Fine-tune the span reader on CPU.

    python -m qa.training.train --config configs/reader.json [--resume] [--out runs/reader]
                                [--max-minutes N] [--stop-at HH:MM] [--export-best-to DIR]
    python -m qa.training.train export --ckpt runs/reader/best.pt [--out qa/reader/weights]

Training is built to be stopped and resumed at any moment over days: checkpoints are written
atomically every ``ckpt_every`` steps or ``ckpt_minutes`` minutes (whichever comes first) and at
the stop, ``--resume`` continues from the last one with the same data order, schedule and RNG
state. The tuning split is evaluated every ``eval_every`` steps and the best checkpoint is kept
(and optionally exported at once, so a usable reader exists at any time). With ``ema_decay`` an
exponential moving average of the weights is kept beside them and is what is evaluated and
exported: an average is usable mid-schedule, when the learning rate is still high.
"""
from __future__ import annotations

import argparse
import contextlib
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

from qa.reader.model import EMBEDDING_PREFIX, SpanModel, collate, load_tokenizer
from qa.training.data import (
    LEGACY_TRAINING_SOURCES,
    build_training_windows,
    compact_for_training,
    default_data_dir,
    sample_records,
    training_records,
    tuning_records,
)
from qa.training.tuning import abstention_sweep, predict_records
from qa.training.unanswerable import generate_unanswerable
from qa.training.weights import keep_layers, trained_state_from

MASK_VALUE = -1e4


def log(msg: str) -> None:
    print(f"[{datetime.now(timezone.utc).strftime('%H:%M:%S')}] {msg}", flush=True)


def bf16_hardware() -> bool:
    """The CPU has native bf16 arithmetic (AVX512-BF16 or AMX): autocast is faster there, and
    emulated (slower) elsewhere."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(f in flags.split() for f in ("avx512_bf16", "amx_bf16"))


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def allowed_only(logits, batch) -> torch.Tensor:
    """Logits with every position but CLS + context masked out (what decoding normalises over)."""
    return logits.masked_fill(~batch["allowed"], MASK_VALUE)


def target_masks(windows, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Boolean (batch, length) masks of the right start and end positions of each window: its
    label, plus every equally right occurrence in ``Window.alt_positions``."""
    starts = torch.zeros((len(windows), length), dtype=torch.bool)
    ends = torch.zeros((len(windows), length), dtype=torch.bool)
    for i, w in enumerate(windows):
        for s, e in [(w.start_position, w.end_position), *w.alt_positions]:
            starts[i, s] = True
            ends[i, e] = True
    return starts, ends


def span_loss(start_logits, end_logits, batch) -> torch.Tensor:
    """Negative log-likelihood of the right start and end over CLS + context positions. Where a
    window has several right positions (``batch["start_targets"]``, an answer whose occurrence the
    data cannot tell) their probabilities are summed: -log sum_right p. With one right position
    this is plain cross-entropy."""
    if "start_targets" not in batch:
        ce = torch.nn.functional.cross_entropy
        return (ce(allowed_only(start_logits, batch), batch["start_positions"])
                + ce(allowed_only(end_logits, batch), batch["end_positions"])) / 2

    def nll(logits, targets):
        logits = allowed_only(logits, batch)
        right = torch.logsumexp(logits.masked_fill(~targets, MASK_VALUE), dim=-1)
        return (torch.logsumexp(logits, dim=-1) - right).mean()

    return (nll(start_logits, batch["start_targets"]) + nll(end_logits, batch["end_targets"])) / 2


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
    state, cfg = trained_state_from(path)
    model = SpanModel.from_encoder(num_layers=cfg.get("num_layers"))
    model.load_trained_state(state, f"teacher {path}")
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


class WeightAverage:
    """Exponential moving average of the trainable weights (Polyak averaging): after each step
    shadow = decay * shadow + (1 - decay) * weights. Its horizon is ~1 / (1 - decay) steps."""

    def __init__(self, params: list[tuple[str, torch.nn.Parameter]], decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema_decay must be between 0 and 1, not {decay}")
        self.decay = decay
        self.reset(params)

    def reset(self, params) -> None:
        self.shadow = {n: p.detach().clone() for n, p in params}

    @torch.no_grad()
    def update(self, params) -> None:
        for n, p in params:
            self.shadow[n].lerp_(p.detach(), 1.0 - self.decay)

    @contextlib.contextmanager
    def swapped_in(self, params):
        """The averaged weights in the model for the duration of the block, then the current ones back."""
        backup = {n: p.detach().clone() for n, p in params}
        with torch.no_grad():
            for n, p in params:
                p.copy_(self.shadow[n])
        try:
            yield
        finally:
            with torch.no_grad():
                for n, p in params:
                    p.copy_(backup[n])

    def state_dict(self) -> dict:
        return {"decay": self.decay, "shadow": {n: t.clone() for n, t in self.shadow.items()}}

    def load_state_dict(self, d: dict) -> None:
        self.decay = float(d["decay"])
        self.shadow = {n: t.clone() for n, t in d["shadow"].items()}


class DeadlineLinearSchedule:
    """Linear warmup, then linear decay to 0, where progress is the larger of step/total_steps and
    elapsed wall time / time budget. On a shared machine the throughput is unknown in advance; this
    makes the learning rate reach ~0 at the deadline whatever the speed (so the last checkpoint is
    a finished run, not a high-LR snapshot), and it is plain step-based when there is no deadline."""

    def __init__(self, optimizer, peak_lr: float, warmup_steps: int, total_steps: int,
                 t_begin: float, deadline: float | None, final_fraction: float = 0.0):
        self.opt, self.peak, self.warmup, self.total = optimizer, peak_lr, warmup_steps, total_steps
        self.t_begin, self.deadline = t_begin, deadline
        self.final = float(final_fraction)  # the rate ends at this share of the peak, not at 0
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
        decay = max(0.0, (1.0 - self.progress()) / max(1e-9, 1.0 - w))
        return self.final + (1.0 - self.final) * decay

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
    torch.set_num_threads(int(args.threads or cfg.get("threads", 2)))
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
    sources = cfg.get("train_sources", LEGACY_TRAINING_SOURCES)
    recs = training_records(data_dir, sources)
    if args.limit_train:
        recs = sample_records(recs, args.limit_train, seed)
    windows, stats = build_training_windows(
        recs, tok, cfg["max_seq_len"], cfg["train_stride"], cfg["max_question_tokens"],
        cfg["negative_keep_fraction"], seed,
        cross_negative_fraction=float(cfg.get("cross_negative_fraction", 0.0)),
        unanswerable_keep_fraction=cfg.get("unanswerable_keep_fraction"),
        ambiguous=cfg.get("ambiguous_answers", "first"),
        unanswerable_repeat=int(cfg.get("unanswerable_repeat", 1)),
    )
    if cfg.get("generated_unanswerable"):
        # Made-up unanswerable questions (qa/training/unanswerable.py), every window labelled
        # no-answer; they are not records of ``recs`` (example_index -1).
        gen, gen_stats = generate_unanswerable(recs, cfg["generated_unanswerable"], seed)
        gen_windows, _ = build_training_windows(
            [g.record for g in gen], tok, cfg["max_seq_len"], cfg["train_stride"], cfg["max_question_tokens"],
            1.0, seed, unanswerable_keep_fraction=1.0)
        for w in gen_windows:
            w.example_index = -1
        windows += gen_windows
        stats["generated"] = gen_stats
        stats["generated_windows"] = len(gen_windows)
    compact_for_training(windows)
    log(f"training records={len(recs)} from {', '.join(sources)} windows={json.dumps(stats)}")
    tune_all = tuning_records(data_dir)
    tune = sample_records(tune_all, cfg["eval_sample"], seed)
    log(f"tuning sample {len(tune)} of {len(tune_all)} ({sum(r.is_impossible for r in tune)} unanswerable)")

    num_layers = cfg.get("num_layers")
    model = SpanModel.from_encoder(seed=seed, num_layers=num_layers)
    init_from = cfg.get("init_from")
    if args.init_from:
        init_from = cfg["init_from"] = args.init_from  # recorded in the checkpoints: export reads the history
    if init_from and not (args.resume and (out / "last.pt").exists()):
        # A later stage starts from an earlier run's weights (a checkpoint, or a shipped weights
        # folder) with a fresh optimizer and schedule.
        init_path = Path(init_from)
        if not init_path.exists():
            log(f"init_from {init_path} not found: run the earlier stage first (see the Makefile)")
            return 2
        state = trained_state_from(init_path)[0]
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
    bs = int(cfg["batch_size"])
    total = int(args.max_steps or cfg["max_steps"])
    if cfg.get("epochs") and not args.max_steps:  # a schedule sized to the data: N passes over it
        total = min(total, math.ceil(float(cfg["epochs"]) * len(windows) / bs))
    warmup = int(cfg["warmup_steps"])
    sched = DeadlineLinearSchedule(opt, cfg["lr"], warmup, total, t_start, deadline,
                                   final_fraction=float(cfg.get("final_lr_fraction", 0.0)))
    ema = WeightAverage(params, float(cfg["ema_decay"])) if cfg.get("ema_decay") else None
    lengths = [len(w.input_ids) for w in windows]
    step, epoch, best_metric, examples_seen, epoch_pos = 0, 0, -1.0, 0, 0
    train_seconds = 0.0
    ckpt_path = out / "last.pt"
    if args.resume and ckpt_path.exists():
        ck = torch.load(ckpt_path, weights_only=False)
        model.load_state_dict(ck["model"], strict=False)
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        if ema is not None and ck.get("ema"):
            ema.load_state_dict(ck["ema"])
        elif ema is not None:
            ema.reset(params)
        step, epoch, best_metric = ck["step"], ck["epoch"], ck["best_metric"]
        epoch_pos = ck.get("epoch_pos", 0)
        examples_seen, train_seconds = ck.get("examples_seen", 0), ck.get("train_seconds", 0.0)
        set_rng_state(ck["rng"])
        log(f"resumed from step {step} (epoch {epoch}, best {best_metric:.2f})")
    log(f"schedule: {total} steps of {bs} ({total * bs / max(1, len(windows)):.2f} passes over "
        f"{len(windows)} windows), warmup {warmup}, peak lr {cfg['lr']:g}"
        + (f", weight average decay {cfg['ema_decay']}" if ema is not None else ""))

    def exported_state() -> dict:
        """What a checkpoint ships: the weight average when one is kept, else the weights."""
        state = trainable_state(model)
        if ema is not None:
            state.update(ema.state_dict()["shadow"])
        return state

    def save_last():
        nonlocal epoch_pos
        atomic_save(
            {"model": trainable_state(model), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
             "ema": ema.state_dict() if ema is not None else None,
             "step": step, "epoch": epoch, "epoch_pos": epoch_pos, "best_metric": best_metric,
             "rng": rng_state(),
             "examples_seen": examples_seen, "train_seconds": train_seconds, "config": cfg},
            ckpt_path,
        )

    def evaluate():
        nonlocal best_metric
        t0 = time.time()
        with (ema.swapped_in(params) if ema is not None else contextlib.nullcontext()):
            preds = predict_records(model, tok, tune, cfg["max_seq_len"], cfg["eval_stride"],
                                    cfg["max_answer_tokens"])
        m = abstention_sweep(preds, tune)
        m.update(step=step, epoch=epoch, examples_seen=examples_seen, lr=sched.get_last_lr()[0],
                 train_minutes=round(train_seconds / 60, 2), eval_seconds=round(time.time() - t0, 1),
                 weights="average" if ema is not None else "current",
                 time=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        with open(out / "metrics.jsonl", "a") as f:
            f.write(json.dumps(m) + "\n")
        log(f"eval step {step}: best_f1 {m['best_f1']:.2f} (t={m['best_threshold']:.3f}) "
            f"has_ans F1 {m['has_ans_f1']:.2f} EM {m['has_ans_em']:.2f} ({m['eval_seconds']}s)")
        model.train()
        if m["best_f1"] > best_metric:
            best_metric = m["best_f1"]
            atomic_save({"model": exported_state(), "step": step, "metrics": m, "config": cfg,
                         "examples_seen": examples_seen, "train_seconds": train_seconds}, out / "best.pt")
            log(f"new best at step {step}")
            if args.export_best_to:
                from qa.training.export import export_checkpoint
                export_checkpoint(out / "best.pt", Path(args.export_best_to), calibrate=False)
                log(f"exported interim weights to {args.export_best_to}")
        return m

    from tqdm import tqdm

    use_bf16 = bool(cfg.get("autocast_bf16")) and bf16_hardware()
    log(f"bf16 autocast: {'on' if use_bf16 else 'off'}"
        + ("" if use_bf16 or not cfg.get("autocast_bf16") else " (no bf16 hardware on this CPU)"))
    model.train()
    bar = tqdm(total=total, initial=step, desc="train", mininterval=30, file=sys.stdout)
    stop_reason = "max_steps"
    last_loss = []
    # a checkpoint at least this often in wall time, whatever the speed (the machine is shared)
    ckpt_minutes, last_ckpt = float(cfg.get("ckpt_minutes", 10)), time.time()
    while step < total:
        batches = batch_order(len(windows), bs, seed, epoch, lengths)
        start_b, epoch_pos = epoch_pos, 0
        for bi in range(start_b, len(batches)):
            if deadline is not None and time.time() >= deadline:
                stop_reason = "deadline"
                break
            t0 = time.time()
            batch_windows = [windows[i] for i in batches[bi]]
            batch = collate(batch_windows)
            if any(w.alt_positions for w in batch_windows):
                batch["start_targets"], batch["end_targets"] = target_masks(batch_windows, batch["input_ids"].shape[1])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16):
                sl, el = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
            loss = span_loss(sl.float(), el.float(), batch)
            if teacher is not None:
                with torch.no_grad():
                    tsl, tel = teacher(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
                loss = (1 - alpha) * loss + alpha * distill_loss(sl, el, tsl, tel, batch, temperature)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for _, p in params], 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            if ema is not None:
                ema.update(params)
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
            if step % cfg["ckpt_every"] == 0 or time.time() - last_ckpt >= 60 * ckpt_minutes:
                save_last()
                last_ckpt = time.time()
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
        from qa.training.export import main as export_main
        return export_main(argv[1:])
    p = argparse.ArgumentParser(prog="python -m qa.training.train", description=__doc__,
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
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default: the recipe's); 1 is faster than 2 on a machine whose other core is busy")
    p.add_argument("--init-from", default=None,
                   help="start from these weights (a .pt checkpoint or a shipped weights folder) instead of "
                        "the recipe's init_from; ignored when --resume finds OUT/last.pt")
    args = p.parse_args(argv)
    return train(args)


if __name__ == "__main__":
    sys.exit(main())
