#!/usr/bin/env python
"""Evaluate the span reader and write reports/reader.md + reports/reader.json.

Held-out SQuAD v1.1 (6 articles, gold paragraph given): EM/F1 of
  (a) the trained reader (fp32), (b) the same weights with dynamic int8 Linear layers,
  (c) an untrained head on the same encoder, (d) the heuristic baseline (qa.reader.heuristic),
  (e) fast mode: best sentences only, and span-tiny, the distilled 3-layer reader (qa/reader/weights_tiny),
plus SQuADShifts amazon (evaluation only, a seeded sample), the tuning-split calibration stored
with the weights, reader latency (one question over 5 passages of ~100 words), and a five-passage
check: each held-out question read over its gold paragraph and the 4 paragraphs of the same
article that share the most words with it (as retrieval would hand them over), where focus
windows are judged in the setting the latency is measured for.

    python scripts/eval_reader.py [--limit N] [--amazon-limit N] [--skip-int8] [--skip-untrained]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from qa.fsutil import atomic_write_text  # noqa: E402
from qa.metrics import squad_scores  # noqa: E402
from qa.training.data import (  # noqa: E402
    HELD_OUT_V2_TITLES,
    TRAINED_SHIFTS,
    amazon_records,
    held_out_abstention_records,
    held_out_records,
    sample_records,
    tydi_dev_records,
)
from qa.types import Passage  # noqa: E402


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform()}


def versions() -> dict:
    out = {}
    for name in ("onnxruntime", "onnx", "transformers"):
        try:
            out[name] = __import__(name).__version__
        except ImportError:
            out[name] = None
    return out


def eval_reader(reader, records, label: str) -> dict:
    """Top-1 span given the gold paragraph; also how often the top span clears min_score."""
    preds, answered = [], []
    t0 = time.time()
    for r in records:
        out = reader.read(r.question, [Passage(doc_id=r.title, doc_start=0, text=r.context)], top_k=1)
        if out.spans:
            s = out.spans[0]
            preds.append(r.context[s.start : s.end])
            answered.append(s.score >= getattr(reader, "min_score", 0.0))
        else:
            preds.append("")
            answered.append(False)
    sc = squad_scores(preds, [r.answer_texts for r in records])
    sc["answered_at_min_score"] = float(np.mean(answered)) if answered else 0.0
    # EM/F1 when the reader abstains below min_score (abstaining on an answerable question = 0)
    abst = squad_scores([p if a else "" for p, a in zip(preds, answered)], [r.answer_texts for r in records])
    sc["exact_match_with_abstention"], sc["f1_with_abstention"] = abst["exact_match"], abst["f1"]
    sc["seconds"] = round(time.time() - t0, 1)
    print(f"  {label}: EM {sc['exact_match']:.2f} F1 {sc['f1']:.2f} (n={sc['count']}, {sc['seconds']}s)", flush=True)
    return sc


def eval_abstention(reader, records, thresholds: dict[str, float], label: str) -> dict:
    """SQuAD 2.0-style figures on answerable + unanswerable questions, gold paragraph given: at
    each threshold (chosen on the tuning split) the reader answers when its best span scores at
    least that, else abstains. Overall EM/F1 (an abstention on an unanswerable question scores 1),
    EM/F1 on the answerable ones, and no-answer accuracy (share of unanswerable ones withheld)."""
    from qa.metrics import exact_match, max_over_golds, token_f1

    best = []
    t0 = time.time()
    for r in records:
        out = reader.read(r.question, [Passage(doc_id=r.title, doc_start=0, text=r.context)], top_k=1)
        s = out.spans[0] if out.spans else None
        best.append((r.context[s.start:s.end] if s else "", s.score if s else 0.0))
    has = [not r.is_impossible for r in records]
    res = {"questions": len(records), "answerable": sum(has), "unanswerable": len(records) - sum(has),
           "seconds": round(time.time() - t0, 1)}
    for name, t in thresholds.items():
        em, f1 = [], []
        for r, (text, score) in zip(records, best):
            said = text if score >= t else ""
            if r.is_impossible:
                em.append(float(not said))
                f1.append(float(not said))
            else:
                em.append(max_over_golds(exact_match, said, r.answer_texts) if said else 0.0)
                f1.append(max_over_golds(token_f1, said, r.answer_texts) if said else 0.0)
        em_a, f1_a = np.array(em), np.array(f1)
        h = np.array(has)
        res[name] = {"threshold": float(t), "exact_match": 100 * float(em_a.mean()), "f1": 100 * float(f1_a.mean()),
                     "has_ans_exact_match": 100 * float(em_a[h].mean()), "has_ans_f1": 100 * float(f1_a[h].mean()),
                     "no_ans_accuracy": 100 * float(em_a[~h].mean()),
                     "answered": int(sum(score >= t for _, score in best))}
        print(f"  abstention {label} @ {name} ({t:.4f}): EM {res[name]['exact_match']:.2f} F1 {res[name]['f1']:.2f} "
              f"HasAns F1 {res[name]['has_ans_f1']:.2f} NoAns acc {res[name]['no_ans_accuracy']:.1f}", flush=True)
    return res


def tuning_thresholds(meta: dict) -> dict[str, float]:
    """The two thresholds chosen on the tuning split at export: for the product's assumed 20% of
    unanswerable questions (``min_score``), and for the tuning split's own 52%."""
    cal = meta.get("calibration") or {}
    out = {"product_threshold": float(meta.get("min_score", 0.5))}
    if cal.get("min_score_at_split_mix") is not None:
        out["split_mix_threshold"] = float(cal["min_score_at_split_mix"])
    return out


def weights_at_revision(rev: str, dest: Path) -> Path:
    """The shipped weights folder as it was at git revision ``rev`` (files written into ``dest``)."""
    import subprocess

    dest.mkdir(parents=True, exist_ok=True)
    names = subprocess.run(["git", "-C", str(REPO), "ls-tree", "--name-only", f"{rev}:qa/reader/weights"],
                           check=True, capture_output=True, text=True).stdout.split()
    for name in names:
        blob = subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:qa/reader/weights/{name}"],
                              check=True, capture_output=True).stdout
        (dest / name).write_bytes(blob)
    return dest


def five_passage_cases(records, n: int | None, seed: int) -> list[tuple]:
    """(record, 5 passages): the gold paragraph and the 4 other paragraphs of its article sharing
    the most words with the question, in a seeded random order."""
    import random
    import re

    words = re.compile(r"\w+")

    def bag(text):
        return {w.lower() for w in words.findall(text)}

    by_title: dict[str, list[str]] = {}
    for r in records:
        if r.context not in by_title.setdefault(r.title, []):
            by_title[r.title].append(r.context)
    rng = random.Random(seed)
    cases = []
    for r in sample_records(records, n, seed):
        q = bag(r.question)
        others = sorted((c for c in by_title[r.title] if c != r.context), key=lambda c: -len(q & bag(c)))[:4]
        texts = others + [r.context]
        rng.shuffle(texts)
        cases.append((r, [Passage(doc_id=f"{r.title}#{i}", doc_start=0, text=t) for i, t in enumerate(texts)]))
    return cases


def eval_five_passages(reader, cases, label: str) -> dict:
    """Top-1 answer over 5 passages: EM/F1 and how often it comes from the gold paragraph."""
    preds, from_gold = [], 0
    t0 = time.time()
    for r, ps in cases:
        out = reader.read(r.question, ps, top_k=1)
        if out.spans:
            s = out.spans[0]
            preds.append(ps[s.passage_index].text[s.start:s.end])
            from_gold += ps[s.passage_index].text == r.context
        else:
            preds.append("")
    sc = squad_scores(preds, [r.answer_texts for r, _ in cases])
    sc["from_gold_paragraph"] = from_gold / max(1, len(cases))
    sc["seconds"] = round(time.time() - t0, 1)
    print(f"  5 passages, {label}: EM {sc['exact_match']:.2f} F1 {sc['f1']:.2f} "
          f"gold paragraph {100 * sc['from_gold_paragraph']:.0f}% ({sc['seconds']}s)", flush=True)
    return sc


def latency_passages(records, n: int = 5, words: int = 100) -> tuple[str, list[Passage]]:
    """A question and 5 passages of ~``words`` words cut from different held-out paragraphs."""
    seen, ps = set(), []
    q = None
    for r in records:
        if r.context in seen:
            continue
        seen.add(r.context)
        toks = r.context.split(" ")
        text = " ".join(toks[:words])
        ps.append(Passage(doc_id=r.title + str(len(ps)), doc_start=0, text=text))
        q = q or r.question
        if len(ps) == n:
            break
    return q, ps


def latency(reader, question, passages, reps: int = 40) -> dict:
    for _ in range(3):
        reader.read(question, passages)
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        reader.read(question, passages)
        ts.append(1000 * (time.perf_counter() - t0))
    return {"p50_ms": float(np.percentile(ts, 50)), "p95_ms": float(np.percentile(ts, 95)), "reps": reps}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--limit", type=int, default=None, help="evaluate N held-out questions (seeded sample; default all 2,198)")
    p.add_argument("--amazon-limit", type=int, default=500, help="amazon sample size (0 = skip)")
    p.add_argument("--weights", default=None, help="weights folder (default qa/reader/weights)")
    p.add_argument("--skip-int8", action="store_true")
    p.add_argument("--skip-untrained", action="store_true")
    p.add_argument("--focus-chars", type=int, default=320,
                   help="fast mode: read each passage's best sentences up to N characters (0 = skip)")
    p.add_argument("--tiny-weights", default=None,
                   help="span-tiny's distilled weights (default qa/reader/weights_tiny; skipped when absent)")
    p.add_argument("--tiny-focus-chars", type=int, default=None,
                   help="span-tiny's focus budget (default: TINY_FOCUS_CHARS)")
    p.add_argument("--five-passage-limit", type=int, default=500,
                   help="held-out questions for the five-passage check (seeded sample; 0 = skip)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=str(REPO / "reports" / "reader"), help="report path without extension")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--abstention-limit", type=int, default=None,
                   help="held-out abstention questions (v2.0 dev of Oxygen, Black_Death, Rhine; default all 1,132; 0 = skip)")
    p.add_argument("--tydi-limit", type=int, default=None, help="TyDi QA English dev questions (default all 440; 0 = skip)")
    p.add_argument("--compare-rev", default=None, metavar="REV",
                   help="also evaluate the weights shipped at this git revision, side by side (e.g. the previous reader)")
    p.add_argument("--compare-weights", default=None, metavar="DIR", help="also evaluate this weights folder, side by side")
    p.add_argument("--write-meta", action="store_true",
                   help="also store the held-out/amazon/latency results in the weights' reader.json")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    from qa.reader.model import SpanModel, load_tokenizer, read_meta
    from qa.reader.span import SpanReader

    held = sample_records(held_out_records(), args.limit, args.seed)
    print(f"held-out SQuAD v1.1: {len(held)} questions", flush=True)
    meta = read_meta(args.weights)
    res: dict = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
        "versions": versions(),
        "weights": {"dir": str(args.weights or "qa/reader/weights"), "checkpoint_step": meta.get("checkpoint_step"),
                    "examples_seen": meta.get("training", {}).get("examples_seen"),
                    "train_minutes": meta.get("training", {}).get("train_minutes"),
                    "min_score": meta.get("min_score"), "max_seq_len": meta.get("max_seq_len"),
                    "stride": meta.get("stride"),
                    "earlier_stages": [{"step": st.get("step"), "examples_seen": st.get("examples_seen"),
                                        "train_minutes": st.get("train_minutes")}
                                       for st in meta.get("training", {}).get("earlier_stages", [])]},
        "tuning_calibration": meta.get("calibration"),
        "held_out": {"split": "SQuAD v1.1 dev, held-out articles (gold paragraph)", "questions": len(held)},
        "trained_on_squadshifts": list(TRAINED_SHIFTS),
    }
    wdir = Path(args.weights) if args.weights else None
    size = sum(f.stat().st_size for f in (wdir or Path(REPO / "qa/reader/weights")).glob("*") if f.is_file())
    res["weights"]["bytes_on_disk"] = size

    fp32 = SpanReader(weights_dir=args.weights).warm_up()
    res["held_out"]["trained_fp32"] = eval_reader(fp32, held, "trained fp32")
    abst = tydi = None
    if args.abstention_limit != 0:
        abst = sample_records(held_out_abstention_records(), args.abstention_limit, args.seed)
        res["abstention"] = {"split": f"SQuAD v2.0 dev (rebuilt) of the held-out {', '.join(sorted(HELD_OUT_V2_TITLES))}",
                             "trained_fp32": eval_abstention(fp32, abst, tuning_thresholds(meta), "trained fp32")}
    if args.tydi_limit != 0:
        tydi = sample_records(tydi_dev_records(), args.tydi_limit, args.seed)
        res["tydi"] = {"split": "TyDi QA GoldP English dev (evaluation only)", "questions": len(tydi),
                       "trained_fp32": eval_reader(fp32, tydi, "TyDi dev, trained fp32")}
    q, ps = latency_passages(held_out_records())
    res["latency"] = {"setup": "1 question x 5 passages of ~100 words, top_k=3, "
                      f"{args.threads} threads, max_seq_len {fp32.max_seq_len}"}
    res["latency"]["fp32"] = latency(fp32, q, ps)
    print(f"  latency fp32: {res['latency']['fp32']}", flush=True)
    res["engine"] = fp32.engine
    if fp32.engine != "torch":
        # The same weights through torch, timed in the same run: the peer the engine is judged by.
        peer = SpanReader(weights_dir=args.weights, engine="torch").warm_up()
        res["latency"]["torch_fp32"] = latency(peer, q, ps)
        print(f"  latency torch fp32: {res['latency']['torch_fp32']}", flush=True)
        del peer

    if not args.skip_int8:
        int8 = SpanReader(weights_dir=args.weights, quantize=True).warm_up()
        res["held_out"]["trained_int8"] = eval_reader(int8, held, "trained int8")
        res["latency"]["int8"] = latency(int8, q, ps)
        print(f"  latency int8: {res['latency']['int8']}", flush=True)

    span_fast = None  # the focus int8 reader, kept for the five-passage check
    if args.focus_chars:
        # Fast mode: the same weights reading only the best-matching sentences of each passage.
        res["latency"]["focus_chars"] = args.focus_chars
        for key, quant in (("focus_fp32", False), ("focus_int8", True)):
            if quant and args.skip_int8:
                continue
            fr = SpanReader(weights_dir=args.weights, quantize=quant, focus_chars=args.focus_chars).warm_up()
            res["held_out"][key] = eval_reader(fr, held, key.replace("_", " "))
            res["latency"][key] = latency(fr, q, ps)
            print(f"  latency {key}: {res['latency'][key]}", flush=True)
            if quant:
                span_fast = fr
            if quant and fr.engine != "torch":
                peer = SpanReader(weights_dir=args.weights, quantize=True, focus_chars=args.focus_chars,
                                  engine="torch").warm_up()
                res["latency"]["torch_focus_int8"] = latency(peer, q, ps)
                print(f"  latency torch focus int8: {res['latency']['torch_focus_int8']}", flush=True)

    from qa.reader import TINY_FOCUS_CHARS, TINY_WEIGHTS_DIR

    tiny_dir = Path(args.tiny_weights) if args.tiny_weights else TINY_WEIGHTS_DIR
    tiny = None
    if (tiny_dir / "reader.json").exists():
        # The shipped span-tiny: the 3-layer student, int8, focus windows; its fp32 full-passage
        # reading for reference (what distillation alone costs).
        fmeta = read_meta(tiny_dir)
        fc = args.tiny_focus_chars or TINY_FOCUS_CHARS
        shown = tiny_dir.resolve()
        shown = shown.relative_to(REPO) if shown.is_relative_to(REPO) else shown
        res["tiny_reader"] = {"dir": str(shown), "num_layers": fmeta.get("num_layers"), "focus_chars": fc,
                              "bytes_on_disk": sum(f.stat().st_size for f in tiny_dir.glob("*") if f.is_file()),
                              "train_minutes": fmeta.get("training", {}).get("train_minutes"),
                              "examples_seen": fmeta.get("training", {}).get("examples_seen"),
                              "min_score": fmeta.get("min_score")}
        full3 = SpanReader(weights_dir=tiny_dir).warm_up()
        res["held_out"]["distilled_fp32"] = eval_reader(full3, held, "distilled fp32")
        del full3
        for key, quant in (("distilled_focus_fp32", False), ("distilled_focus_int8", True)):
            fr = SpanReader(weights_dir=tiny_dir, quantize=quant, focus_chars=fc).warm_up()
            res["held_out"][key] = eval_reader(fr, held, key.replace("_", " "))
            res["latency"][key] = latency(fr, q, ps)
            print(f"  latency {key}: {res['latency'][key]}", flush=True)
            if quant:
                tiny = fr

    if args.five_passage_limit:
        cases = five_passage_cases(held_out_records(), args.five_passage_limit, args.seed)
        five = res["five_passages"] = {"questions": len(cases)}
        five["trained_fp32"] = eval_five_passages(fp32, cases, "trained fp32")
        if span_fast is not None:
            five["focus_int8"] = eval_five_passages(span_fast, cases, "focus int8")
        if tiny is not None:
            five["distilled_focus_int8"] = eval_five_passages(tiny, cases, "distilled focus int8")

    if not args.skip_untrained:
        untrained = SpanReader(weights_dir=args.weights)
        untrained._set_model(SpanModel.from_encoder(seed=0).eval(), load_tokenizer())
        res["held_out"]["untrained_head"] = eval_reader(untrained, held, "untrained head")

    try:
        from qa.reader.heuristic import HeuristicReader
    except ImportError as e:
        print(f"  heuristic baseline skipped: qa.reader.heuristic.HeuristicReader not importable ({e})", flush=True)
        res["held_out"]["heuristic"] = {"skipped": f"qa.reader.heuristic not available: {e}"}
    else:
        h = HeuristicReader()
        if hasattr(h, "warm_up"):
            h.warm_up()
        res["held_out"]["heuristic"] = eval_reader(h, held, "heuristic baseline")

    if args.amazon_limit:
        amz = sample_records(amazon_records(), args.amazon_limit, args.seed)
        res["amazon"] = {"split": "SQuADShifts amazon_reviews (evaluation only, seeded sample)",
                         "questions": len(amz), "of": len(amazon_records())}
        print(f"amazon: {len(amz)} questions", flush=True)
        res["amazon"]["trained_fp32"] = eval_reader(fp32, amz, "trained fp32")
        if "heuristic" in res["held_out"] and "skipped" not in res["held_out"]["heuristic"]:
            res["amazon"]["heuristic"] = eval_reader(h, amz, "heuristic baseline")

    compare_dir = Path(args.compare_weights) if args.compare_weights else None
    if args.compare_rev:
        import tempfile

        compare_dir = weights_at_revision(args.compare_rev, Path(tempfile.mkdtemp(prefix="qa-old-weights-")))
    if compare_dir is not None:
        res["compare"] = compare_weights(compare_dir, args, held, abst, tydi, q, ps)
        res["compare"]["revision"] = args.compare_rev

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out.with_suffix(".json"), json.dumps(res, indent=2) + "\n")
    atomic_write_text(out.with_suffix(".md"), render_md(res))
    print(f"wrote {out.with_suffix('.md')} and {out.with_suffix('.json')}")
    if args.write_meta:
        from qa.reader.model import META_FILE, WEIGHTS_DIR

        mp = (wdir or WEIGHTS_DIR) / META_FILE
        m = json.loads(mp.read_text())
        m["heldout"] = {"date": res["date"], "squad_v1.1_heldout": res["held_out"], "amazon": res.get("amazon"),
                        "latency": res.get("latency")}
        atomic_write_text(mp, json.dumps(m, indent=2) + "\n")
        print(f"stored results in {mp}")
        if tiny is not None:
            fp = tiny_dir / META_FILE
            m = json.loads(fp.read_text())
            keys = ("distilled_fp32", "distilled_focus_fp32", "distilled_focus_int8")
            m["heldout"] = {"date": res["date"], "squad_v1.1_heldout": {k: res["held_out"][k] for k in keys},
                            "latency": {k: res["latency"][k] for k in keys[1:]},
                            "five_passages": (res.get("five_passages") or {}).get("distilled_focus_int8")}
            atomic_write_text(fp, json.dumps(m, indent=2) + "\n")
            print(f"stored results in {fp}")
    return 0


def compare_weights(wdir: Path, args, held, abst, tydi, q, ps) -> dict:
    """The figures of another weights folder (e.g. the previously shipped reader) measured in this
    run on the same questions: gold paragraph, abstention, amazon, TyDi, five passages, latency."""
    from qa.reader.model import read_meta
    from qa.reader.span import SpanReader

    from qa.reader import FAST_FOCUS_CHARS

    meta = read_meta(wdir)
    print(f"comparison weights {wdir}", flush=True)
    out: dict = {"dir": str(wdir), "min_score": meta.get("min_score"),
                 "train_minutes": sum(float(st.get("train_minutes") or 0) for st in
                                      [*meta.get("training", {}).get("earlier_stages", []), meta.get("training", {})]),
                 "bytes_on_disk": sum(f.stat().st_size for f in wdir.glob("*") if f.is_file()),
                 "calibration": meta.get("calibration")}
    fp32 = SpanReader(weights_dir=wdir).warm_up()
    out["held_out"] = eval_reader(fp32, held, "old trained fp32")
    if abst is not None:
        out["abstention"] = eval_abstention(fp32, abst, tuning_thresholds(meta), "old trained fp32")
    if args.amazon_limit:
        out["amazon"] = eval_reader(fp32, sample_records(amazon_records(), args.amazon_limit, args.seed), "old amazon")
    if tydi is not None:
        out["tydi"] = eval_reader(fp32, tydi, "old TyDi dev")
    out["latency_fp32"] = latency(fp32, q, ps)
    if args.five_passage_limit:
        cases = five_passage_cases(held_out_records(), args.five_passage_limit, args.seed)
        out["five_passages"] = eval_five_passages(fp32, cases, "old trained fp32")
    fast = SpanReader(weights_dir=wdir, quantize=True, focus_chars=FAST_FOCUS_CHARS).warm_up()
    out["held_out_focus_int8"] = eval_reader(fast, held, "old span-fast")
    out["latency_focus_int8"] = latency(fast, q, ps)
    return out


def _row(name, sc):
    if not sc:
        return ""
    if "skipped" in sc:
        return f"| {name} | skipped: {sc['skipped']} | | |\n"
    return (f"| {name} | {sc['exact_match']:.1f} | {sc['f1']:.1f} | {100 * sc['answered_at_min_score']:.0f}% / "
            f"{sc['exact_match_with_abstention']:.1f} / {sc['f1_with_abstention']:.1f} |\n")


def render_md(r: dict) -> str:
    m, w, h = r["machine"], r["weights"], r["held_out"]
    s = "# Span reader evaluation\n\n"
    s += f"Date: {r['date']}. Machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']} ({m['torch_threads']} threads), Python {m['python']}.\n\n"
    s += (f"Engine: {r.get('engine', 'torch')} (the reader's default; 'onnx' = ONNX Runtime over a graph exported "
          "from these weights, int8 rows quantised by ONNX Runtime's dynamic quantiser).\n\n")
    stages = [*w.get("earlier_stages", []), {"step": w["checkpoint_step"], "examples_seen": w["examples_seen"],
                                             "train_minutes": w["train_minutes"]}]
    trained = "; ".join(f"stage {i + 1}: step {st['step']}, {st['examples_seen']} windows, {st['train_minutes']} min"
                        for i, st in enumerate(stages))
    total = sum(float(st["train_minutes"] or 0) for st in stages)
    s += (f"Weights: `{w['dir']}` ({trained}; {total:.0f} min of training in all), "
          f"{w['bytes_on_disk'] / 1e6:.1f} MB on disk; "
          f"max_seq_len {w['max_seq_len']}, stride {w['stride']}, min_score {w['min_score']:.4f}.\n\n")
    s += (f"## Held-out SQuAD v1.1 ({h['questions']} questions of Super_Bowl_50, Nikola_Tesla, Oxygen, Black_Death, "
          "Kenya, Rhine; gold paragraph given)\n\n")
    s += "| reader | EM | F1 | answered at min_score / EM / F1 with abstention |\n| --- | ---: | ---: | --- |\n"
    s += _row("trained, fp32", h.get("trained_fp32"))
    s += _row("trained, dynamic int8", h.get("trained_int8"))
    fc = r.get("latency", {}).get("focus_chars")
    s += _row(f"fast: best sentences (<= {fc} chars per passage), fp32", h.get("focus_fp32"))
    s += _row(f"**span-fast** = fast: best sentences (<= {fc} chars per passage), int8", h.get("focus_int8"))
    fr = r.get("tiny_reader")
    if fr:
        n3 = fr.get("num_layers")
        s += _row(f"distilled, {n3} layers, fp32", h.get("distilled_fp32"))
        s += _row(f"distilled, {n3} layers, best sentences (<= {fr['focus_chars']} chars), fp32",
                  h.get("distilled_focus_fp32"))
        s += _row(f"**span-tiny** = distilled, {n3} layers, best sentences (<= {fr['focus_chars']} chars), int8",
                  h.get("distilled_focus_int8"))
    s += _row("untrained head, same encoder", h.get("untrained_head"))
    s += _row("heuristic baseline (qa.reader.heuristic)", h.get("heuristic"))
    if fr:
        s += (f"\nspan-tiny, the distilled reader (`{fr['dir']}`): {n3} layers, {fr['bytes_on_disk'] / 1e6:.1f} MB on disk, "
              f"{fr['train_minutes']} min of distillation ({fr['examples_seen']} windows) from the 6-layer reader; "
              f"its own min_score {fr['min_score']:.4f}.\n")
    five = r.get("five_passages")
    if five:
        s += (f"\n## Five passages ({five['questions']} held-out questions; gold paragraph + the 4 paragraphs of its "
              "article sharing the most words with the question, shuffled)\n\n"
              "| reader | EM | F1 | top answer from the gold paragraph |\n| --- | ---: | ---: | ---: |\n")
        for k, label in (("trained_fp32", "span: trained, fp32"),
                         ("focus_int8", "span-fast: 6 layers, best sentences, int8"),
                         ("distilled_focus_int8", "span-tiny: distilled, best sentences, int8")):
            if k in five:
                v = five[k]
                s += f"| {label} | {v['exact_match']:.1f} | {v['f1']:.1f} | {100 * v['from_gold_paragraph']:.0f}% |\n"
    c = r.get("tuning_calibration") or {}
    if c:
        s += "\n## Tuning split: abstention threshold\n\n"
        s += (f"{c.get('split')}: {c.get('questions')} questions ({c.get('unanswerable')} unanswerable). "
              f"min_score = {c.get('min_score'):.4f} maximises F1 with abstention: F1 {c.get('f1_with_abstention'):.1f}, "
              f"EM {c.get('em_with_abstention', float('nan')):.1f}; answerable-only F1 without abstention "
              f"{c.get('has_answer_f1_no_abstention'):.1f}. Abstention (positive = unanswerable) precision "
              f"{c.get('abstention_precision', float('nan')):.3f}, recall {c.get('abstention_recall', float('nan')):.3f}.\n")
    ab = r.get("abstention")
    if ab:
        s += _abstention_section(ab, r.get("compare"))
    t = r.get("tydi")
    if t:
        s += _given_context_section(f"TyDi QA GoldP English dev (evaluation only; {t['questions']} questions, gold passage)",
                                    t, r.get("compare", {}).get("tydi"))
    a = r.get("amazon")
    if a:
        s += _given_context_section(f"SQuADShifts amazon (evaluation only; {a['questions']} of {a['of']} questions, "
                                    "seeded sample)", a, r.get("compare", {}).get("amazon"))
    s += (f"\nSQuADShifts {' and '.join(r['trained_on_squadshifts'])} were **trained on** and are not reported as held out.\n")
    if r.get("compare"):
        s += _compare_section(r)
    lt = r.get("latency", {})
    if lt:
        s += f"\n## Latency ({lt['setup']})\n\n| variant | p50 ms | p95 ms |\n| --- | ---: | ---: |\n"
        for k in ("fp32", "torch_fp32", "int8", "focus_fp32", "focus_int8", "torch_focus_int8",
                  "distilled_focus_fp32", "distilled_focus_int8"):
            if k in lt:
                s += f"| {k} | {lt[k]['p50_ms']:.1f} | {lt[k]['p95_ms']:.1f} |\n"
    return s


def _abstention_section(ab: dict, compare: dict | None) -> str:
    rows = [("trained, fp32", ab["trained_fp32"])]
    if compare and compare.get("abstention"):
        rows.append(("previous reader, fp32", compare["abstention"]))
    first = ab["trained_fp32"]
    s = (f"\n## Held-out abstention ({ab['split']}: {first['questions']} questions, {first['unanswerable']} "
         "unanswerable; gold paragraph; SQuAD 2.0 scoring)\n\n"
         "Thresholds chosen on the tuning split at export: `product` assumes 20% of questions are unanswerable "
         "(the shipped min_score), `split mix` is the tuning split's own 52%.\n\n"
         "| reader | threshold | EM | F1 | HasAns EM | HasAns F1 | NoAns accuracy | answered |\n"
         "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
    for label, res in rows:
        for key, name in (("product_threshold", "product"), ("split_mix_threshold", "split mix")):
            v = res.get(key)
            if v:
                s += (f"| {label} | {name} {v['threshold']:.4f} | {v['exact_match']:.1f} | {v['f1']:.1f} | "
                      f"{v['has_ans_exact_match']:.1f} | {v['has_ans_f1']:.1f} | {v['no_ans_accuracy']:.1f} | "
                      f"{v['answered']} |\n")
    return s


def _given_context_section(title: str, d: dict, previous: dict | None) -> str:
    """One evaluation-only dataset read with its own passage: the trained reader, the previous one
    when compared, the heuristic baseline when it was run."""
    s = f"\n## {title}\n\n"
    s += "| reader | EM | F1 | answered at min_score / EM / F1 with abstention |\n| --- | ---: | ---: | --- |\n"
    s += _row("trained, fp32", d.get("trained_fp32"))
    if previous:
        s += _row("previous reader, fp32", previous)
    return s + _row("heuristic baseline", d.get("heuristic"))


def _compare_section(r: dict) -> str:
    c, h, lt = r["compare"], r["held_out"], r.get("latency", {})
    s = (f"\n## Side by side with the previous reader (`{c.get('revision') or c['dir']}`), same run, same questions\n\n"
         "| | previous | new |\n| --- | ---: | ---: |\n")

    def pair(label, old, new, fmt="{:.1f}"):
        if old is None or new is None:
            return ""
        return f"| {label} | {fmt.format(old)} | {fmt.format(new)} |\n"

    s += pair("held-out gold paragraph EM", c["held_out"]["exact_match"], h["trained_fp32"]["exact_match"])
    s += pair("held-out gold paragraph F1", c["held_out"]["f1"], h["trained_fp32"]["f1"])
    if "focus_int8" in h:
        s += pair("span-fast held-out F1", c["held_out_focus_int8"]["f1"], h["focus_int8"]["f1"])
    ab_old, ab_new = c.get("abstention", {}).get("split_mix_threshold"), (r.get("abstention") or {}).get("trained_fp32", {}).get("split_mix_threshold")
    if ab_old and ab_new:
        s += pair("abstention benchmark F1 (split-mix threshold)", ab_old["f1"], ab_new["f1"])
        s += pair("abstention benchmark NoAns accuracy", ab_old["no_ans_accuracy"], ab_new["no_ans_accuracy"])
    if c.get("amazon") and r.get("amazon"):
        s += pair("amazon F1 (given context)", c["amazon"]["f1"], r["amazon"]["trained_fp32"]["f1"])
    if c.get("tydi") and r.get("tydi"):
        s += pair("TyDi dev F1", c["tydi"]["f1"], r["tydi"]["trained_fp32"]["f1"])
    five = r.get("five_passages") or {}
    if c.get("five_passages") and five.get("trained_fp32"):
        s += pair("five passages F1", c["five_passages"]["f1"], five["trained_fp32"]["f1"])
    if "fp32" in lt:
        s += pair("latency p50 ms (5 passages)", c["latency_fp32"]["p50_ms"], lt["fp32"]["p50_ms"])
        s += pair("latency p95 ms (5 passages)", c["latency_fp32"]["p95_ms"], lt["fp32"]["p95_ms"])
    if "focus_int8" in lt:
        s += pair("span-fast latency p50 ms", c["latency_focus_int8"]["p50_ms"], lt["focus_int8"]["p50_ms"])
    w = r["weights"]
    new_minutes = sum(float(st.get("train_minutes") or 0) for st in [*w.get("earlier_stages", []), w])
    s += pair("training minutes (all stages)", c["train_minutes"], new_minutes, "{:.0f}")
    s += pair("weights on disk, MB", c["bytes_on_disk"] / 1e6, w["bytes_on_disk"] / 1e6)
    return s


if __name__ == "__main__":
    sys.exit(main())
