#!/usr/bin/env python
"""Fit the answer verifier (qa/reader/verify.py) on the tuning split; store it in reader.json.

The tuning questions (SQuAD v2.0 CS224n half: 16 titles, 52% unanswerable) are asked through the
product's pipeline (its ranker, adaptive reading) against the SQuAD v1.1 dev paragraphs minus the
held-out articles, as ``scripts/fit_ranker.py`` does; for up to five distinct answers per question
the verifier's features and the answer's F1 are kept. The verifier is fitted and calibrated for
the stated unanswerable prior (``--unanswerable-prior``, default 20%), its threshold chosen there, and
everything is also measured cross-validated by title. Writes reports/verifier.md (+ .json) with a
reliability diagram and a coverage-vs-EM curve (reports/verifier_reliability.png,
reports/verifier_coverage.png). Held-out articles are never used.

    python scripts/fit_verifier.py [--questions 2000] [--work-dir DIR] [--rows-cache FILE] [--dry-run]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))
from machine import cpu_name  # noqa: E402  (scripts/machine.py)

ANSWERS_KEPT = 5


def collect(pipeline, records, progress: bool) -> list[dict]:
    """Per question: title, answerable, and up to ANSWERS_KEPT distinct answers (features, F1, EM)."""
    from tqdm import tqdm

    from qa.metrics import exact_match, max_over_golds, normalize_answer, token_f1
    from qa.rank import CANDIDATES
    from qa.reader import verify

    ranker = pipeline.ranker
    rows = []
    for r in tqdm(records, desc="tuning questions", unit="q", disable=not progress):
        reading = pipeline.read(r.question, top_k=CANDIDATES)
        out = reading.output
        scored = []
        if out is not None:
            scored = sorted(((ranker.score(s.score, s.passage_index, reading.hits[s.passage_index].ranks,
                                           out.no_answer_score), s) for s in out.spans), key=lambda ps: -ps[0])
        seen, cands = set(), []
        texts = [normalize_answer(reading.passages[s.passage_index].text[s.start:s.end]) for _, s in scored]
        for i, (p, s) in enumerate(scored):
            if texts[i] in seen or not texts[i]:
                continue
            seen.add(texts[i])
            other = max((q for j, (q, _) in enumerate(scored) if texts[j] != texts[i]), default=None)
            text = reading.passages[s.passage_index].text[s.start:s.end]
            golds = r.answer_texts
            cands.append({"x": verify.features(r.question, reading.passages[s.passage_index].text, s.start, s.end,
                                               p, other),
                          "ranker_p": p, "text": text,
                          "f1": max_over_golds(token_f1, text, golds) if golds else 0.0,
                          "em": max_over_golds(exact_match, text, golds) if golds else 0.0})
            if len(cands) >= ANSWERS_KEPT:
                break
        rows.append({"title": r.title, "question": r.question, "answerable": bool(r.answer_texts), "cands": cands})
    return rows


def plots(res: dict, out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rel = res["cross_validated_by_title"]["reliability_weighted"]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], "--", color="grey", lw=1)
    ax.plot([b["mean_p"] for b in rel["bins"]], [b["right"] for b in rel["bins"]], "o-", label="verifier")
    ax.set_xlabel("shown P(right)")
    ax.set_ylabel("share right")
    ax.set_title(f"Reliability (tuning, CV by title)\nECE {rel['ece']:.3f}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "verifier_reliability.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 4))
    for name, curve in res["coverage"].items():
        xs, ys = zip(*curve) if curve else ((), ())
        ax.plot(xs, ys, label=name)
    ax.set_xlabel("coverage (share of answerable questions answered)")
    ax.set_ylabel("EM of the answers given")
    ax.set_title("Selective answering, tuning split (answerable)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "verifier_coverage.png", dpi=100)
    plt.close(fig)


def render(res: dict) -> str:
    cv = res["cross_validated_by_title"]
    v = res["verifier"]
    s = "# Answer verifier: a second opinion on answerability, and the P(right) people see\n\n"
    s += (f"Date: {res['date']}. CPU: {res['cpu']}. `scripts/fit_verifier.py` asked {res['questions']:,} tuning "
          f"questions ({res['unanswerable']:,} unanswerable) through the product's pipeline (reader "
          f"`{res['reader']}`, its answer ranker, adaptive reading) against {res['corpus_paragraphs']:,} SQuAD v1.1 dev "
          f"paragraphs (none held out). "
          + ("The questions' answers were read from a rows cache collected by an earlier run of the same script; "
             if res.get("rows_from_cache") else "")
          + f"{res['minutes']} min. Right = token F1 >= 0.5.\n\n")
    s += "| feature | weight |\n| --- | ---: |\n" + "".join(
        f"| {f} | {w:+.3f} |\n" for f, w in zip(v["features"], v["weights"])) + f"| bias | {v['bias']:+.3f} |\n\n"
    s += (f"Stated unanswerable prior: **{100 * v['unanswerable_prior']:.0f}%** of the questions people ask. "
          f"P(right) is calibrated for it, and the threshold `min_score` = **{v['min_score']:.3f}** maximises F1 "
          f"with abstention at it. \"low confidence\" is shown below P(right) {v['low_confidence']:.2f}.\n\n")
    s += "## Cross-validated by title (4 folds), against the ranker alone\n\n"
    s += ("| scored by | top-1 F1, answerable | F1 w/ abstention (prior) | F1 w/ abstention (as is) | abstention P / R "
          "(as is) | answered | ECE (prior) | ECE (as is) |\n| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |\n")
    for name, label in (("ranker", "answer ranker (before)"), ("verifier", "verifier (now)")):
        c = cv if name == "verifier" else res["ranker_alone"]
        w, a = c["weighted"], c["as_is"]
        s += (f"| {label} | {c['answerable_top1_f1']:.1f} | {w['f1_with_abstention']:.1f} | {a['f1_with_abstention']:.1f} "
              f"| {a['abstention_precision']:.2f} / {a['abstention_recall']:.2f} | {100 * a['answered']:.0f}% "
              f"| {c['reliability_weighted']['ece']:.3f} | {c['reliability_as_is']['ece']:.3f} |\n")
    s += ("\n'prior': unanswerable questions weighted to the stated prior; 'as is': the split's own 52%. "
          "Abstention P/R: positive = unanswerable. ECE over 10 equal-width bins of the top answer's shown score.\n\n")
    s += "## Reliability (verifier, cross-validated, weighted to the prior)\n\n![reliability](verifier_reliability.png)\n\n"
    s += "| P(right) bin | mean shown | share right | share of questions |\n| --- | ---: | ---: | ---: |\n"
    for b in cv["reliability_weighted"]["bins"]:
        s += f"| {b['low']:.1f}–{b['high']:.1f} | {b['mean_p']:.2f} | {b['right']:.2f} | {100 * b['weight']:.1f}% |\n"
    s += "\n## Coverage vs EM (answerable tuning questions, most confident first)\n\n![coverage](verifier_coverage.png)\n\n"
    s += "| coverage | EM, verifier | EM, ranker |\n| --- | ---: | ---: |\n"
    for cov in (0.2, 0.4, 0.6, 0.8, 1.0):
        row = []
        for name in ("verifier", "ranker"):
            curve = res["coverage"][name]
            pt = min(curve, key=lambda c: abs(c[0] - cov)) if curve else (cov, 0.0)
            row.append(100 * pt[1])
        s += f"| {100 * cov:.0f}% | {row[0]:.1f} | {row[1]:.1f} |\n"
    return s


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reader", choices=("span", "span-fast", "span-tiny"), default="span",
                    help="which shipped reader to fit the verifier for (default: %(default)s)")
    ap.add_argument("--questions", type=int, default=2000, help="tuning questions, seeded sample (default: %(default)s)")
    ap.add_argument("--unanswerable-prior", type=float, default=0.2,
                    help="share of unanswerable questions people ask; calibration and threshold follow it (default: %(default)s)")
    ap.add_argument("--work-dir", default=None, help="keep the SQuAD-dev corpus and index here (reused if present)")
    ap.add_argument("--rows-cache", default=None, help="reuse/store the collected rows in this JSON file")
    ap.add_argument("--data-dir", default=None, help="shared datasets (default: ../shared/data)")
    ap.add_argument("--dry-run", action="store_true", help="report only; do not write reader.json")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not 0.0 < args.unanswerable_prior < 1.0:
        print("error: --unanswerable-prior must be between 0 and 1", file=sys.stderr)
        return 2
    import tempfile

    import numpy as np

    from bench import doc_ids_for, write_corpus
    from qa import Pipeline
    from qa.config import QAConfig
    from qa.fsutil import atomic_write_text
    from qa.reader import make_reader
    from qa.reader.model import META_FILE
    from qa.reader.verify import AnswerVerifier
    from qa.training import data as SD
    from qa.training import verifier as V

    data_dir = Path(args.data_dir) if args.data_dir else SD.default_data_dir()
    if not (data_dir / SD.SQUAD_V11_DEV).exists():
        print(f"error: SQuAD v1.1 dev not found under {data_dir} (pass --data-dir)", file=sys.stderr)
        return 2
    reader = make_reader(args.reader)
    if reader.ranker is None:
        print("error: the reader ships no answer ranker; run scripts/fit_ranker.py first", file=sys.stderr)
        return 2
    started = time.perf_counter()
    squad = SD.load_records(data_dir / SD.SQUAD_V11_DEV, "squad_v1.1")
    kept = [r for r in squad if r.title not in SD.HELD_OUT_TITLES]
    cache = Path(args.rows_cache) if args.rows_cache else None
    from_cache = bool(cache and cache.exists())
    if from_cache:
        rows = json.loads(cache.read_text(encoding="utf-8"))
    else:
        with tempfile.TemporaryDirectory(prefix="qa-verifier-") as tmp:
            work = Path(args.work_dir or tmp)
            ids = doc_ids_for(squad)
            corpus, index_dir = work / "squad_dev_no_held_out", work / "squad_dev_no_held_out_index"
            if not corpus.is_dir():
                write_corpus(kept, ids, corpus, not args.quiet)
            reader.verifier = None  # the features come from the ranker's view, whatever reader.json holds
            p = Pipeline(corpus_dir=corpus, index_dir=index_dir, reader=reader, config=QAConfig())
            p.warm_up(progress=not args.quiet)
            records = SD.sample_records(SD.tuning_records(data_dir), args.questions, args.seed)
            rows = collect(p, records, not args.quiet)
        if cache:
            atomic_write_text(cache, json.dumps(rows))

    prior = args.unanswerable_prior
    verifier = V.fit_verifier(rows, prior)
    # the ranker alone, judged the same way: its probability is the first feature's sigmoid
    n = len(V.FEATURES)
    ranker_only = AnswerVerifier(tuple([1.0] + [0.0] * (n - 1)), 0.0, 0.0)
    rt = V.choose_threshold(rows, ranker_only, prior)
    tops_r = V.top_answers(rows, ranker_only)
    qw = V._question_weights(rows, prior)
    pairs_r = [(t[0], float(t[1] >= V.RIGHT_F1), w) for t, w in zip(tops_r, qw) if t is not None]
    decided_r = [t if t is None or t[0] >= rt else (-1.0, t[1]) for t in tops_r]
    ranker_alone = {
        "threshold": rt, "weighted": V.outcome(rows, decided_r, 0.0, prior), "as_is": V.outcome(rows, decided_r, 0.0, None),
        "reliability_weighted": V.reliability([p[0] for p in pairs_r], [p[1] for p in pairs_r], [p[2] for p in pairs_r]),
        "reliability_as_is": V.reliability([p[0] for p in pairs_r], [p[1] for p in pairs_r]),
        "answerable_top1_f1": 100 * float(np.mean([t[1] if t else 0.0 for r, t in zip(rows, tops_r) if r["answerable"]])),
    }

    def em_curve(v):
        tops = V.top_answers(rows, v)
        ems = []
        for r, t in zip(rows, tops):
            if r["answerable"] and t is not None:
                best = max(r["cands"], key=lambda c: float(np.dot(v.weights, c["x"]) + v.bias))
                ems.append((t[0], best["em"]))
        curve = V.coverage_curve([e[0] for e in ems], [e[1] for e in ems])
        step = max(1, len(curve) // 50)
        return curve[::step] + curve[-1:]

    res = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cpu": cpu_name(),
        "reader": args.reader, "questions": len(rows), "unanswerable": sum(not r["answerable"] for r in rows),
        "corpus_paragraphs": len({(r.title, r.context) for r in kept}),
        "verifier": verifier.to_dict(),
        "in_sample": V.outcome(rows, V.top_answers(rows, verifier), verifier.min_score, prior),
        "cross_validated_by_title": V.cross_validate(rows, prior),
        "ranker_alone": ranker_alone,
        "coverage": {"verifier": em_curve(verifier), "ranker": em_curve(ranker_only)},
        "minutes": round((time.perf_counter() - started) / 60, 1),
        "rows_from_cache": from_cache,
    }
    reports = REPO / "reports"
    atomic_write_text(reports / "verifier.json", json.dumps(res, indent=2) + "\n")
    plots(res, reports)
    atomic_write_text(reports / "verifier.md", render(res))
    print(render(res))
    if not args.dry_run:
        meta_path = reader.weights_dir / META_FILE
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        entry = {**verifier.to_dict(), "fitted": {k: res[k] for k in ("date", "cpu", "questions", "unanswerable")},
                 "cross_validated_by_title": {k: res["cross_validated_by_title"][k] for k in ("weighted", "as_is")}}
        meta["answer_verifiers"] = {**(meta.get("answer_verifiers") or {}), args.reader: entry}
        atomic_write_text(meta_path, json.dumps(meta, indent=2) + "\n")
        print(f"stored the verifier in {meta_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
