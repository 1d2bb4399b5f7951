#!/usr/bin/env python
"""Fit the answer ranker (qa/rank.py) on the tuning split and store it in the reader's reader.json.

The tuning questions (SQuAD v2.0 CS224n half: 16 titles, answerable and unanswerable) are asked
against the SQuAD v1.1 dev paragraphs minus the six held-out articles (1,757 paragraphs; the
held-out text is not even a distractor here), as the product asks them: retrieve,
read, then score every candidate answer. A logistic regression learns P(answer right) from the
reader score and the retrieval ranks (right = token F1 >= 0.5 with a gold answer; every candidate
of an unanswerable question is wrong). The abstention threshold maximises F1 with abstention on
the same questions, reweighted so that unanswerable questions count for ``--unanswerable-share``
of the total: the tuning split is 52% unanswerable, far more than people ask in the product, and
at that share the best policy would be to abstain on most questions. Figures are also reported
cross-validated by title (fit on 3/4 of the titles, scored on the rest).

Held-out articles, amazon and the seed articles are never used here.

    python scripts/fit_ranker.py [--reader span|span-fast|span-tiny] [--questions 2000] [--work-dir DIR] [--dry-run]
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

import numpy as np  # noqa: E402

from qa.metrics import max_over_golds, token_f1  # noqa: E402
from qa.rank import CANDIDATES, AnswerRanker, features, fit_logistic, store_ranker  # noqa: E402

RIGHT_F1 = 0.5


def collect(pipeline, records, progress: bool) -> list[dict]:
    """Per question: its title, whether it is answerable, and each candidate's features and label."""
    from tqdm import tqdm

    depth = pipeline.config.depth
    rows = []
    for r in tqdm(records, desc="tuning questions", unit="q", disable=not progress):
        reading = pipeline.read(r.question, top_k=CANDIDATES)
        cands = []
        for span in (reading.output.spans if reading.output else []):
            text = reading.passages[span.passage_index].text[span.start:span.end]
            f1 = max_over_golds(token_f1, text, r.answer_texts) if r.answer_texts else 0.0
            cands.append({"x": features(span.score, span.passage_index, reading.hits[span.passage_index].ranks,
                                        depth, reading.output.no_answer_score),
                          "reader_score": span.score, "f1": f1})
        rows.append({"title": r.title, "answerable": bool(r.answer_texts), "cands": cands})
    return rows


def fit(rows: list[dict], l2: float) -> tuple[np.ndarray, float]:
    x = np.array([c["x"] for r in rows for c in r["cands"]])
    y = np.array([float(c["f1"] >= RIGHT_F1) for r in rows for c in r["cands"]])
    return fit_logistic(x, y, l2=l2)


def top_answers(rows, ranker: AnswerRanker | None) -> list[tuple[float, float] | None]:
    """Per question: (score, F1) of the answer the product would give first, or None."""
    out = []
    for r in rows:
        if not r["cands"]:
            out.append(None)
            continue
        scored = [(c["reader_score"] if ranker is None else ranker.probability(c["x"]), c["f1"])
                  for c in r["cands"]]
        out.append(max(scored, key=lambda s: s[0]))  # first best: the reader's order breaks ties
    return out


def outcome(rows, tops, threshold: float, share: float | None) -> dict:
    """F1 with abstention (optionally reweighted to an unanswerable ``share``) and abstention P/R."""
    values, weights = [], []
    n_ans = sum(r["answerable"] for r in rows)
    n_un = len(rows) - n_ans
    tp = fp = fn = answered = 0
    top1_f1 = []
    for r, top in zip(rows, tops):
        ans = top is not None and top[0] >= threshold
        answered += ans
        if r["answerable"]:
            top1_f1.append(top[1] if top else 0.0)
            values.append(top[1] if ans else 0.0)
            weights.append((1 - share) / n_ans if share is not None else 1.0)
            fp += not ans
        else:
            values.append(0.0 if ans else 1.0)
            weights.append(share / n_un if share is not None and n_un else 1.0)
            tp += not ans
            fn += ans
    w = np.array(weights)
    return {"f1_with_abstention": 100 * float(np.dot(values, w) / w.sum()),
            "answerable_top1_f1": 100 * float(np.mean(top1_f1)) if top1_f1 else 0.0,
            "abstention_precision": tp / (tp + fp) if tp + fp else 0.0,
            "abstention_recall": tp / (tp + fn) if tp + fn else 0.0,
            "answered": answered / max(1, len(rows)), "questions": len(rows)}


def choose_threshold(rows, tops, share: float) -> float:
    grid = np.round(np.arange(0.0, 1.0, 0.005), 3)
    best = max(grid, key=lambda t: (round(outcome(rows, tops, t, share)["f1_with_abstention"], 9), -t))
    return float(best)


def cross_validate(rows, l2: float, share: float, folds: int = 4) -> dict:
    """Fit on the other titles, threshold there, score the held-back titles; pooled over folds."""
    titles = sorted({r["title"] for r in rows})
    pooled = {"ranker": ([], []), "reader": ([], [])}
    for k in range(folds):
        test_titles = set(titles[k::folds])
        train = [r for r in rows if r["title"] not in test_titles]
        test = [r for r in rows if r["title"] in test_titles]
        w, b = fit(train, l2)
        ranker = AnswerRanker(tuple(w), b, 0, 0.0)
        for name, rk in (("ranker", ranker), ("reader", None)):
            t = choose_threshold(train, top_answers(train, rk), share)
            pooled[name][0].extend(test)
            pooled[name][1].extend((top, t) for top in top_answers(test, rk))
    result = {}
    for name, (rs, tops_t) in pooled.items():
        # each question judged at its own fold's threshold
        decided = [(top if top is not None and top[0] >= t else (None if top is None else (-1.0, top[1])))
                   for top, t in tops_t]
        result[name] = {"weighted": outcome(rs, decided, 0.0, share), "unweighted": outcome(rs, decided, 0.0, None)}
        # top-1 F1 on answerable questions ignores abstention
        result[name]["weighted"]["answerable_top1_f1"] = outcome(rs, [tt[0] for tt in tops_t], 0.0, None)["answerable_top1_f1"]
        result[name]["unweighted"]["answerable_top1_f1"] = result[name]["weighted"]["answerable_top1_f1"]
    return result


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    # span-fast shares span's reader.json; its ranker is stored beside span's (qa.rank.store_ranker).
    ap.add_argument("--reader", choices=("span", "span-fast", "span-tiny"), default="span",
                    help="which shipped reader to fit the ranker for (default: %(default)s)")
    ap.add_argument("--weights", default=None,
                    help="reader weights folder (default: the reader's own: qa/reader/weights, weights_tiny for span-tiny)")
    ap.add_argument("--questions", type=int, default=2000, help="tuning questions, seeded sample (default: %(default)s)")
    ap.add_argument("--unanswerable-share", type=float, default=0.2,
                    help="share of unanswerable questions assumed when choosing the threshold (default: %(default)s)")
    ap.add_argument("--l2", type=float, default=1e-3, help="L2 penalty per example (default: %(default)s)")
    ap.add_argument("--work-dir", default=None, help="keep the SQuAD-dev corpus and index here (reused if present)")
    ap.add_argument("--data-dir", default=None, help="shared datasets (default: ../shared/data)")
    ap.add_argument("--out", default=None,
                    help="report path without extension (default: reports/ranker, reports/ranker_<reader> for the others)")
    ap.add_argument("--dry-run", action="store_true", help="report only; do not write reader.json")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    ap.add_argument("--seed", type=int, default=0)
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not 0.0 < args.unanswerable_share < 1.0:
        print("error: --unanswerable-share must be between 0 and 1", file=sys.stderr)
        return 2
    import tempfile

    from bench import doc_ids_for, write_corpus
    from qa import Pipeline
    from qa.config import QAConfig
    from qa.fsutil import atomic_write_text
    from qa.training import data as SD
    from qa.reader import make_reader
    from qa.reader.model import META_FILE

    data_dir = Path(args.data_dir) if args.data_dir else SD.default_data_dir()
    if not (data_dir / SD.SQUAD_V11_DEV).exists():
        print(f"error: SQuAD v1.1 dev not found under {data_dir} (pass --data-dir)", file=sys.stderr)
        return 2
    reader = make_reader(args.reader, weights_dir=args.weights)
    weights = reader.weights_dir
    progress = not args.quiet
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="qa-ranker-") as tmp:
        work = Path(args.work_dir or tmp)
        squad = SD.load_records(data_dir / SD.SQUAD_V11_DEV, "squad_v1.1")
        ids = doc_ids_for(squad)
        corpus, index_dir = work / "squad_dev_no_held_out", work / "squad_dev_no_held_out_index"
        kept = [r for r in squad if r.title not in SD.HELD_OUT_TITLES]
        if not corpus.is_dir():
            write_corpus(kept, ids, corpus, progress)
        reader.ranker = None  # collect the reader's own scores, whatever reader.json holds now
        # Every passage read: adaptive depth (qa/adaptive.py) stops by the ranker being fitted here.
        p = Pipeline(corpus_dir=corpus, index_dir=index_dir, reader=reader, config=QAConfig(adaptive_depth=False))
        p.warm_up(progress=progress)
        records = SD.sample_records(SD.tuning_records(data_dir), args.questions, args.seed)
        rows = collect(p, records, progress)

    w, b = fit(rows, args.l2)
    tops_reader = top_answers(rows, None)
    probe = AnswerRanker(tuple(float(v) for v in w), b, p.config.depth, 0.0)
    tops = top_answers(rows, probe)
    threshold = choose_threshold(rows, tops, args.unanswerable_share)
    ranker = AnswerRanker(probe.weights, probe.bias, probe.depth, threshold)
    reader_threshold = choose_threshold(rows, tops_reader, args.unanswerable_share)
    res = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "reader": args.reader, "weights": str(weights), "questions": len(rows),
        "unanswerable": sum(not r["answerable"] for r in rows),
        "titles": len({r["title"] for r in rows}), "candidates": sum(len(r["cands"]) for r in rows),
        "corpus_paragraphs": len({(r.title, r.context) for r in kept}),
        "unanswerable_share": args.unanswerable_share, "l2": args.l2, "right_f1": RIGHT_F1,
        "ranker": ranker.to_dict(),
        "in_sample": {"ranker": outcome(rows, tops, threshold, args.unanswerable_share),
                      "reader": outcome(rows, tops_reader, reader_threshold, args.unanswerable_share),
                      "reader_threshold": reader_threshold},
        "cross_validated_by_title": cross_validate(rows, args.l2, args.unanswerable_share),
        "minutes": round((time.perf_counter() - started) / 60, 1),
    }
    out = Path(args.out or REPO / "reports" / ("ranker" if args.reader == "span" else "ranker_" + args.reader.split("-")[1]))
    atomic_write_text(out.with_suffix(".json"), json.dumps(res, indent=2) + "\n")
    atomic_write_text(out.with_suffix(".md"), render(res))
    print(render(res))
    if not args.dry_run:
        meta_path = weights / META_FILE
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        entry = {**ranker.to_dict(), "fitted": {k: res[k] for k in (
            "date", "questions", "unanswerable", "unanswerable_share", "l2", "right_f1")},
            "cross_validated_by_title": res["cross_validated_by_title"]["ranker"]}
        meta = store_ranker(meta, args.reader, entry)
        atomic_write_text(meta_path, json.dumps(meta, indent=2) + "\n")
        print(f"stored the ranker in {meta_path}")
    return 0


def render(r: dict) -> str:
    cv = r["cross_validated_by_title"]
    rk = r["ranker"]
    s = f"# Answer ranker for the {r.get('reader', 'span')} reader (reader score + retrieval evidence)\n\n"
    s += (f"Date: {r['date']}. Fitted by `scripts/fit_ranker.py` on {r['questions']:,} tuning questions "
          f"({r['unanswerable']:,} unanswerable, {r['titles']} titles) asked against {r['corpus_paragraphs']:,} SQuAD "
          f"v1.1 dev paragraphs (all but the held-out articles'); {r['candidates']:,} candidate answers; a candidate is right when its token F1 with a gold "
          f"answer is >= {r['right_f1']}. {r['minutes']} min.\n\n")
    s += "| feature | weight |\n| --- | ---: |\n"
    s += "".join(f"| {f} | {w:+.3f} |\n" for f, w in zip(rk["features"], rk["weights"]))
    s += f"| bias | {rk['bias']:+.3f} |\n\n"
    s += (f"Abstention threshold `min_score` = {rk['min_score']:.3f} on the ranker's probability: it maximises F1 "
          f"with abstention when unanswerable questions are {100 * r['unanswerable_share']:.0f}% of those asked "
          "(the tuning split has 52%; at that share abstaining on most questions would score best).\n\n")
    s += "## Cross-validated by title (4 folds: fit and threshold on 12 titles, scored on the other 4)\n\n"
    s += ("| answers ordered by | top-1 F1, answerable | F1 w/ abstention (weighted) | F1 w/ abstention (as is) "
          "| abstention P / R | answered |\n| --- | ---: | ---: | ---: | --- | ---: |\n")
    for name, label in (("reader", "reader score (before)"), ("ranker", "ranker (reader + retrieval)")):
        w, u = cv[name]["weighted"], cv[name]["unweighted"]
        s += (f"| {label} | {w['answerable_top1_f1']:.1f} | {w['f1_with_abstention']:.1f} | {u['f1_with_abstention']:.1f} "
              f"| {u['abstention_precision']:.2f} / {u['abstention_recall']:.2f} | {100 * u['answered']:.0f}% |\n")
    s += ("\n'weighted' counts unanswerable questions as the chosen share of the total; 'as is' uses the split's own "
          "mix. Abstention P/R: positive = the question is unanswerable.\n")
    return s


if __name__ == "__main__":
    sys.exit(main())
