#!/usr/bin/env python
"""Which ways of reading keep the answers: adaptive depth, int8 and shorter windows, end to end.

Every question is retrieved once (hybrid, 5 passages, as the product asks) and its passages are read
once by each reader variant (fp32; int8 with per-channel weights; int8 reading only each passage's
best sentences, qa/reader/focus.py), keeping every candidate span. Reading policies are then replayed
on those candidates through the product's own code (qa/adaptive.py, the answer ranker, the
abstention threshold): reading everything, and adaptive depth with each variant for the first round
and for the later ones. For each: EM/F1 (abstaining scores 0 on an answerable question, 1 on an
unanswerable one), how often the first answer equals reading every passage at fp32, passages read,
and the reading cost in window tokens (p50/p95: compute grows with tokens; int8 tokens counted at
the measured int8/fp32 cost ratio ``--int8-cost``). Times are measured in ``scripts/bench.py``.

    python scripts/compare_reading.py                       # held-out SQuAD v1.1, open corpus -> reports/speed.md
    python scripts/compare_reading.py --split tuning --limit 1500 --out reports/speed_tuning

The held-out split (2,198 questions of the six held-out articles, the SQuAD v1.1 dev corpus) is what
the product figures are reported on; the tuning split (SQuAD v2.0 CS224n questions, with
unanswerable ones, asked against the dev corpus minus the held-out articles, as scripts/fit_ranker.py
does) checks the choice on questions it was not made on.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

VARIANTS = {  # name -> SpanReader keyword arguments
    "fp32": {},
    "int8": {"quantize": "per-channel"},
    "int8-focus": {"quantize": "per-channel", "focus_chars": 320},
}
# (label, first-round variant, later-rounds variant; None = read every passage with the first)
POLICIES = [
    ("every passage, fp32 (before)", "fp32", None),
    ("every passage, int8", "int8", None),
    ("adaptive, fp32", "fp32", "fp32"),
    ("adaptive, fp32 then int8", "fp32", "int8"),
    ("adaptive, fp32 then int8 best sentences", "fp32", "int8-focus"),
    ("adaptive, int8", "int8", "int8"),
]


class ReplayReader:
    """``find_batch`` over recorded candidates: what each variant found in each passage; ``read``
    lists the (passage, variant) pairs asked for."""

    def __init__(self, recorded: dict, first: str, later: str):
        self.recorded, self.first, self.later = recorded, first, later
        self.read: list[tuple[int, str]] = []

    def find_batch(self, requests, top_k=3, later=False):
        from qa.reader.span import Candidates

        out = []
        variant = self.later if later else self.first
        for key, _passages, indices in requests:
            found = self.recorded[variant][key]
            self.read += [(i, variant) for i in indices]
            chosen = set(indices)
            out.append(Candidates(tuple(s for s in found.spans if s[1] in chosen),
                                  {i: v for i, v in found.no_answer.items() if i in chosen}))
        return out


def first_answer(output, passages, hits, ranker) -> str:
    """The text Pipeline.ask would give first ("" = it abstains)."""
    if not output.spans:
        return ""
    scored = [(ranker.score(s.score, s.passage_index, hits[s.passage_index].ranks, output.no_answer_score), s)
              for s in output.spans]
    score, best = max(scored, key=lambda pair: pair[0])
    if score < ranker.min_score:
        return ""
    return passages[best.passage_index].text[best.start:best.end].strip()


def window_tokens(reader, question: str, passages, focus: int | None) -> list[int]:
    """Tokens of the windows each passage is read as (the reading cost)."""
    from qa.reader.focus import focus_spans
    from qa.reader.windows import tokenize_windows

    texts = [p.text for p in passages]
    if focus:
        texts = [t[a:b] for t, (a, b) in zip(texts, focus_spans(question, texts, focus))]
    windows = tokenize_windows(reader._tokenizer, [question] * len(texts), texts, reader.max_seq_len,
                               reader.stride, reader.max_question_tokens)
    out = [0] * len(texts)
    for w in windows:
        out[w.example_index] += len(w.input_ids)
    return out


def collect(pipeline, readers: dict, records, progress: bool) -> tuple[list[dict], dict]:
    from tqdm import tqdm

    from qa.types import Passage

    questions, recorded = [], {name: {} for name in readers}
    for n, r in enumerate(tqdm(records, desc="read (all variants)", unit="q", disable=not progress)):
        hits = pipeline.retrieve(r.question, top_k=pipeline.config.passages)
        passages = [Passage(h.chunk.doc_id, h.chunk.doc_start, h.chunk.text) for h in hits]
        cost = {}
        for name, reader in readers.items():
            recorded[name][n] = reader.find_batch([(r.question, passages, range(len(passages)))], top_k=10)[0]
            cost[name] = window_tokens(reader, r.question, passages, reader.focus_chars)
        questions.append({"key": n, "question": r.question, "golds": list(r.answer_texts), "passages": passages,
                          "hits": hits, "tokens": cost})
    return questions, recorded


def evaluate(questions, recorded, ranker, first: str, later: str | None, int8_cost: float) -> dict:
    from qa.adaptive import read_adaptively
    from qa.metrics import exact_match, max_over_golds, token_f1

    preds, reads, costs = [], [], []
    for q in questions:
        if later is None:
            found = recorded[first][q["key"]]
            output = found.select(q["passages"], 10)
            read = [(i, first) for i in range(len(q["passages"]))]
        else:
            replay = ReplayReader(recorded, first, later)
            [result] = read_adaptively(replay, ranker, ranker.min_score, [(q["key"], q["passages"], q["hits"])], 10)
            output, read = result.output, replay.read
        preds.append(first_answer(output, q["passages"], q["hits"], ranker))
        reads.append(len(read))
        costs.append(sum(q["tokens"][v][i] * (int8_cost if v.startswith("int8") else 1.0) for i, v in read))
    em = [max_over_golds(exact_match, p, q["golds"]) if q["golds"] else float(p == "") for p, q in zip(preds, questions)]
    f1 = [max_over_golds(token_f1, p, q["golds"]) if q["golds"] else float(p == "") for p, q in zip(preds, questions)]
    return {"em": 100 * float(np.mean(em)), "f1": 100 * float(np.mean(f1)),
            "answered": 100 * float(np.mean([bool(p) for p in preds])), "passages_read": float(np.mean(reads)),
            "tokens_p50": float(np.percentile(costs, 50)), "tokens_p95": float(np.percentile(costs, 95)),
            "tokens_mean": float(np.mean(costs)), "predictions": preds}


def render(res: dict) -> str:
    lines = [f"# Reading less at equal accuracy ({res['split']})", "",
             f"{res['questions']:,} questions ({res['split_note']}); each retrieved once (hybrid, 5 passages) and read "
             "once per reader variant; the policies below replayed on the recorded candidates through the product's "
             "code (qa/adaptive.py, the answer ranker and its abstention threshold). Reading cost = tokens of the "
             f"windows read, int8 tokens counted at {res['int8_cost']:.2f} of an fp32 token (measured ratio of their "
             "forward passes); timings of the product path are in `reports/bench.md`.", "",
             "| reading | EM | F1 | answered % | same first answer as before % | passages read | "
             "cost p50 | cost p95 | cost mean |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    base = res["policies"][0]["predictions"]
    for p in res["policies"]:
        same = 100 * float(np.mean([a == b for a, b in zip(p["predictions"], base)]))
        lines.append(f"| {p['label']} | {p['em']:.2f} | {p['f1']:.2f} | {p['answered']:.1f} | {same:.1f} | "
                     f"{p['passages_read']:.2f} | {p['tokens_p50']:.0f} | {p['tokens_p95']:.0f} | {p['tokens_mean']:.0f} |")
    lines += ["", f"- date: {res['date']}; reader weights exported {res['weights_exported']}; {res['minutes']:.0f} min",
              f"- command: `{res['command']}`", ""]
    return "\n".join(lines)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=("heldout", "tuning"), default="heldout")
    ap.add_argument("--limit", type=int, default=None, metavar="N", help="seeded sample of N questions (default: all)")
    ap.add_argument("--int8-cost", type=float, default=0.68,
                    help="cost of an int8 token relative to fp32 (measured: scripts/bench.py; default: %(default)s)")
    ap.add_argument("--work-dir", default=None, help="keep the corpus and its index here (reused if present)")
    ap.add_argument("--data-dir", default=None, help="shared datasets (default: ../shared/data)")
    ap.add_argument("--out", default=str(ROOT / "reports" / "speed"), help="report path without extension")
    ap.add_argument("--quiet", action="store_true")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from bench import doc_ids_for, write_corpus

    from qa import Pipeline
    from qa.config import QAConfig
    from qa.eval import report as R
    from qa.evaluate import invocation
    from qa.reader.span import SpanReader
    from qa.training import data as SD

    data_dir = Path(args.data_dir) if args.data_dir else SD.default_data_dir()
    if not (data_dir / SD.SQUAD_V11_DEV).exists():
        print(f"error: SQuAD v1.1 dev not found under {data_dir} (pass --data-dir)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    progress = not args.quiet
    squad = SD.load_records(data_dir / SD.SQUAD_V11_DEV, "squad_v1.1")
    ids = doc_ids_for(squad)
    if args.split == "heldout":
        corpus_recs, name = squad, "squad_dev"
        records = [r for r in squad if r.title in SD.HELD_OUT_TITLES]
        note = "held-out SQuAD v1.1 dev articles, open corpus of all 2,067 dev paragraphs"
    else:
        corpus_recs, name = [r for r in squad if r.title not in SD.HELD_OUT_TITLES], "squad_dev_no_held_out"
        records = SD.tuning_records(data_dir)
        note = "tuning split: SQuAD v2.0 CS224n titles, answerable and unanswerable, open corpus without the held-out articles"
    records = SD.sample_records(records, args.limit, seed=0)
    readers = {v: SpanReader(**kw).warm_up() for v, kw in VARIANTS.items()}
    with tempfile.TemporaryDirectory(prefix="qa-reading-") as tmp:
        work = Path(args.work_dir or tmp)
        corpus = work / name
        if not corpus.is_dir():
            write_corpus(corpus_recs, ids, corpus, progress)
        pipeline = Pipeline(corpus, work / f"{name}_index", reader=readers["fp32"], config=QAConfig(adaptive_depth=False))
        pipeline.warm_up(progress=progress)
        questions, recorded = collect(pipeline, readers, records, progress)
    ranker = readers["fp32"].ranker
    res = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "split": args.split, "split_note": note,
           "questions": len(questions), "int8_cost": args.int8_cost, "command": invocation(),
           "weights_exported": readers["fp32"].meta.get("exported", "?"),
           "policies": [{"label": label, "first": first, "later": later,
                         **evaluate(questions, recorded, ranker, first, later, args.int8_cost)}
                        for label, first, later in POLICIES]}
    res["minutes"] = (time.perf_counter() - started) / 60
    out = Path(args.out)
    R.atomic_write_json(out.with_suffix(".json"), {**res, "policies": [
        {k: v for k, v in p.items() if k != "predictions"} for p in res["policies"]]})
    R.atomic_write_text(out.with_suffix(".md"), render(res))
    print(render(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
