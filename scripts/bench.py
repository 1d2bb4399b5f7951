#!/usr/bin/env python
"""Benchmarks of the product's own Pipeline, every figure measured side by side in one run.

1. SQuAD v1.1 dev as an open corpus: all 2,067 paragraphs written as .txt files and indexed by
   the Pipeline; retrieval recall@1/5/10/20 and MRR per retriever on all 10,570 questions
   (relevant = the question's own paragraph); end-to-end EM/F1, questions/s and per-stage
   latency on the 2,198 questions of the six held-out articles only (data README, binding), for
   both readers.
2. Index build throughput vs the raw encoder (SentenceTransformer.encode, same chunks, same
   batch size) and their ratio.
3. Cold start: a fresh ``python -m qa ask ... --json`` on the persisted index, median of 3.
4. Robustness: the end-to-end figures on SQuADShifts new_wiki / reddit (reader TRAINING data)
   and amazon (out-of-sample), on a seeded question sample, with the sample's paragraphs as corpus.
5. Speed, side by side with the path before batching and adaptive reading ("before": the fp32
   reader reading every retrieved passage, one question at a time) in the same run: the held-out
   end-to-end figures of both (1.), the seed question set end to end with latency by stage, and
   ``qa predict``'s questions/s on a fixed sample of the held-out questions (batched vs one by one).

    python scripts/bench.py                 # full run (~15 min on 2 cores), reports/bench.md + .json
    python scripts/bench.py --limit 50      # quick check of the whole path
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from qa.eval import report as R  # noqa: E402
from qa.evaluate import (  # noqa: E402
    MODES,
    EvalQuestion,
    abstention_threshold,
    invocation,
    latency_rows,
    retrieval_tables,
    run_questions,
    summarize_answers,
    summarize_latency,
    summarize_retrieval,
)
from qa.metrics import max_over_golds, token_f1  # noqa: E402
from qa.training import data as SD  # noqa: E402

READERS = ("span", "span-fast", "span-tiny", "heuristic")  # every reader the product offers
# The path before issue 17 (batching, adaptive depth, int8): fp32 reader, every passage read.
BEFORE = "span-before"
BEFORE_LABEL = "span, before (fp32, every passage)"


def reader_notes(readers: str) -> str:
    """The weights behind each span reader of this run (span and span-fast share theirs)."""
    from qa.reader import make_reader

    notes = []
    for name in (r.strip() for r in readers.split(",")):
        if name.startswith("span"):
            notes.append(f"{name}: {R.span_reader_note(make_reader(name).weights_dir, name)}")
    return " · ".join(notes) or "no span reader in this run"
COLD_QUESTION = "Which NFL team represented the AFC at Super Bowl 50?"


# --- corpora -----------------------------------------------------------------------------------


def doc_ids_for(records) -> dict[tuple[str, str], str]:
    """A stable doc_id per distinct (title, paragraph): ``Title__0007`` = 8th paragraph of the
    article in file order. Characters a file name cannot safely hold become ``_``."""
    ids: dict[tuple[str, str], str] = {}
    per_title: dict[str, int] = {}
    for r in records:
        key = (r.title, r.context)
        if key not in ids:
            n = per_title.get(r.title, 0)
            per_title[r.title] = n + 1
            ids[key] = f"{re.sub(r'[^A-Za-z0-9_.()-]', '_', r.title)[:80]}__{n:04d}"
    if len(set(ids.values())) != len(ids):  # two titles mapping to one file name would merge articles
        raise ValueError("paragraph ids collide; widen the title part of the doc_id")
    return ids


def write_corpus(records, ids: dict[tuple[str, str], str], folder: Path, progress: bool) -> int:
    """One UTF-8 .txt per paragraph of ``records`` (the product's corpus format)."""
    from tqdm import tqdm

    folder.mkdir(parents=True, exist_ok=True)
    wanted = {(r.title, r.context) for r in records}
    for key in tqdm([k for k in ids if k in wanted], desc=f"write {folder.name}", unit="file", disable=not progress):
        (folder / f"{ids[key]}.txt").write_text(key[1], encoding="utf-8")
    return len(wanted)


def as_questions(records, ids) -> list[EvalQuestion]:
    return [EvalQuestion(id=r.qid, question=r.question, answers=tuple(r.answer_texts),
                         doc_id=ids[(r.title, r.context)], category=r.source) for r in records]


# --- measurements ------------------------------------------------------------------------------


def build_index(corpus: Path, index_dir: Path, progress: bool) -> dict:
    """Index with the Pipeline (models warmed first, so load time is not counted as build time),
    then encode the very same chunk texts with the bare SentenceTransformer for comparison."""
    from sentence_transformers import SentenceTransformer

    from qa import Pipeline
    from qa.chunk import chunk_document
    from qa.embed import packaged_model_path

    shutil.rmtree(index_dir, ignore_errors=True)  # a build from scratch, even with --work-dir
    p = Pipeline(corpus_dir=corpus, index_dir=index_dir, reader="heuristic")
    t0 = time.perf_counter()
    p.encoder.warm_up()
    model_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = p.index(progress=progress)
    index_seconds = time.perf_counter() - t0
    cfg = p.config
    texts = [c.text for d in p.documents
             for c in chunk_document(d, cfg.chunk_sentences, cfg.chunk_overlap, cfg.chunk_max_chars)]
    assert len(texts) == report.chunks_total, (len(texts), report.chunks_total)
    raw = SentenceTransformer(packaged_model_path(), device="cpu")
    raw.encode(texts[:cfg.encode_batch_size], batch_size=cfg.encode_batch_size)  # warm the kernels
    t0 = time.perf_counter()
    raw.encode(texts, batch_size=cfg.encode_batch_size, show_progress_bar=progress)
    encoder_seconds = time.perf_counter() - t0
    pipeline_rate = report.chunks_embedded / index_seconds
    encoder_rate = len(texts) / encoder_seconds
    return {
        "documents": len(p.documents), "chunks": report.chunks_total, "batch_size": cfg.encode_batch_size,
        "model_load_seconds": model_load, "index_seconds": index_seconds,
        "index_chunks_per_second": pipeline_rate, "encoder_seconds": encoder_seconds,
        "encoder_chunks_per_second": encoder_rate, "ratio": pipeline_rate / encoder_rate,
        "mean_chunk_chars": sum(map(len, texts)) / max(1, len(texts)),
    }


def retrieval_sweep(corpus: Path, index_dir: Path, questions, progress: bool, backend="faiss") -> dict:
    from qa import Pipeline

    p = Pipeline(corpus_dir=corpus, index_dir=index_dir, reader="heuristic", backend=backend)
    p.warm_up()
    t0 = time.perf_counter()
    records, _ = run_questions(p, questions, answers=False, retrieval=True, progress=progress,
                               desc="retrieval (3 modes)")
    summary = summarize_retrieval(records)
    summary["seconds"] = time.perf_counter() - t0
    return summary


def bench_pipeline(corpus: Path, index_dir: Path, reader: str, backend="faiss"):
    """The Pipeline a reader name stands for here; ``BEFORE`` is the path before issue 17."""
    from qa import Pipeline
    from qa.config import QAConfig

    if reader == BEFORE:  # also the query encoder as it ran before: sentence-transformers (torch)
        from qa.embed import MiniLMEncoder

        return Pipeline(corpus_dir=corpus, index_dir=index_dir, reader="span", backend=backend,
                        config=QAConfig(adaptive_depth=False), encoder=MiniLMEncoder(engine="torch"))
    return Pipeline(corpus_dir=corpus, index_dir=index_dir, reader=reader, backend=backend)


def end_to_end(corpus: Path, index_dir: Path, questions, reader: str, progress: bool, desc: str,
               backend="faiss") -> dict:
    """Ask every question as a user would (default retriever and threshold); EM/F1, q/s, latency."""
    p = bench_pipeline(corpus, index_dir, reader, backend)
    p.warm_up(progress=progress)  # builds the index on first use (robustness corpora), untimed
    # The first call pays one-off lazy set-up (cold start is measured apart). A question outside
    # the set, so the retriever's query-embedding cache holds none of the timed questions.
    p.ask("What is this benchmark warming up?")
    records, seconds = run_questions(p, questions, answers=True, retrieval=False, progress=progress, desc=desc)
    answers = summarize_answers(records)
    read = [r["passages_read"] for r in records if r.get("passages_read") is not None]
    return {"reader": BEFORE_LABEL if reader == BEFORE else reader, "threshold": abstention_threshold(p),
            "passages_read": sum(read) / len(read) if read else None,
            "questions": len(records), "answered": answers["answered"],
            "exact_match": answers["exact_match"], "f1": answers["f1"],
            "citation_accuracy": answers["citation_accuracy"],
            "latency": summarize_latency(records, seconds)}


def predict_speed(corpus: Path, index_dir: Path, questions, progress: bool) -> list[dict]:
    """``qa predict``'s answering loop (qa/predict.py) on ``questions``: the new path in batches, the
    path before one question at a time; questions/s over the loop (models loaded, index built)."""
    from qa.predict import BATCH_SIZE, predict

    rows = [{"id": q.id, "question": q.question} for q in questions]
    out = []
    for reader, batch in ((BEFORE, 1), ("span", BATCH_SIZE)):
        p = bench_pipeline(corpus, index_dir, reader)
        p.warm_up(progress=progress)
        predict(p, rows[:batch], batch_size=batch)  # first forward passes: untimed
        t0 = time.perf_counter()
        records = predict(p, rows, batch_size=batch)
        seconds = time.perf_counter() - t0
        f1 = [max_over_golds(token_f1, r["answer"], q.answers) for r, q in zip(records, questions)]
        out.append({"reader": BEFORE_LABEL if reader == BEFORE else reader, "batch_size": batch,
                    "questions": len(rows), "seconds": seconds, "questions_per_second": len(rows) / seconds,
                    "f1": 100 * sum(f1) / max(1, len(f1))})
    return out


def seed_scale(progress: bool) -> list[dict]:
    """The seed question set end to end on the seed articles (a 44-chunk corpus), both paths."""
    from qa.evaluate import SEED_QUESTIONS, load_questions

    questions = load_questions(SEED_QUESTIONS)
    runs = []
    with tempfile.TemporaryDirectory(prefix="qa-bench-seeds-") as tmp:
        for reader in (BEFORE, "span"):
            run = end_to_end(ROOT / "seeds", Path(tmp) / "index", questions, reader, progress, f"seeds ({reader})")
            runs.append(run)
    return runs


def cold_start(corpus: Path, index_dir: Path, runs: int, progress: bool) -> dict:
    """Wall time of fresh ``python -m qa ask --json`` processes until they exit with an answer."""
    import json

    from tqdm import tqdm

    cmd = [sys.executable, "-m", "qa", "ask", COLD_QUESTION, "--json", "--corpus", str(corpus),
           "--index-dir", str(index_dir)]
    times, answers = [], []
    for _ in tqdm(range(runs), desc="cold start", unit="run", disable=not progress):
        t0 = time.perf_counter()
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - t0)
        got = json.loads(out.stdout)["answers"]
        answers.append(got[0]["text"] if got else "")
    return {"runs": times, "median_seconds": statistics.median(times), "answers": answers,
            "command": f'python -m qa ask "{COLD_QUESTION}" --json --corpus SQUAD_CORPUS --index-dir SQUAD_INDEX'}


# --- the report --------------------------------------------------------------------------------


def e2e_rows(runs: list[dict]) -> list[list]:
    rows = []
    for r in runs:
        lat = r["latency"]
        rows.append([r["reader"], r["questions"], f"{100 * r['answered'] / max(1, r['questions']):.1f}",
                     r["exact_match"], r["f1"], r["citation_accuracy"], f"{lat.get('questions_per_second', 0):.2f}",
                     lat["total"]["p50_ms"], lat["total"]["p95_ms"]])
    return rows


E2E_HEADER = ["reader", "questions", "answered %", "EM", "F1", "cites own paragraph %", "q/s", "p50 ms", "p95 ms"]


def speed_rows(runs: list[dict]) -> list[list]:
    """Side by side: latency by stage (p50 / p95 ms) and passages read."""
    rows = []
    for r in runs:
        lat = r["latency"]
        rows.append([r["reader"], r["exact_match"], r["f1"], r.get("passages_read"),
                     *[f"{R.fmt(lat[s]['p50_ms'])} / {R.fmt(lat[s]['p95_ms'])}" for s in ("encode", "search", "read", "total")],
                     f"{lat.get('questions_per_second', 0):.2f}"])
    return rows


SPEED_HEADER = ["path", "EM", "F1", "passages read (mean)", "encode p50 / p95", "search", "read", "total", "q/s"]


def render(res: dict) -> str:
    m = res["machine"]
    lines = [
        "# Benchmarks",
        "",
        f"- **Date / machine:** {R.machine_line(m)}",
        f"- **Command:** `{res['command']}`" + (f" (limited run: --limit {res['limit']})" if res.get("limit") else ""),
        f"- **Span readers:** {res['reader_note']}",
        "- All figures come from one run of this script through `qa.Pipeline` (the product's own "
        "code path), measured one after another on an otherwise idle machine. Splits follow "
        "`../shared/data/README.md`: EM/F1 on SQuAD are on the six held-out articles only.",
        "",
    ]
    if "index" in res:
        ix = res["index"]
        lines += [
            f"## Index build ({ix['documents']} SQuAD v1.1 dev paragraphs → {ix['chunks']} chunks, "
            f"mean {ix['mean_chunk_chars']:.0f} chars)",
            "",
            R.md_table(["", "seconds", "chunks/s"], [
                ["Pipeline.index (load, chunk, embed, BM25, FAISS, write)", ix["index_seconds"],
                 ix["index_chunks_per_second"]],
                [f"SentenceTransformer.encode alone (batch {ix['batch_size']})", ix["encoder_seconds"],
                 ix["encoder_chunks_per_second"]],
            ]),
            "",
            f"Ratio index/encoder throughput: **{ix['ratio']:.2f}** (1.0 = indexing costs no more than "
            f"encoding). Encoder model load ({ix['model_load_seconds']:.1f} s) is excluded from both.",
            "",
        ]
    if "retrieval" in res:
        rt = res["retrieval"]
        lines += [
            f"## Retrieval on the open SQuAD v1.1 dev corpus ({rt['count']:,} questions, depth 20)",
            "",
            f"Each question retrieved three times (BM25, dense, hybrid) in {rt['seconds']:.0f} s "
            "(the retriever caches query embeddings, so dense and hybrid encode once).",
            "",
            *retrieval_tables(rt, [("doc", "Relevant = a chunk of the question's own paragraph:"),
                                   ("answer", "Stricter: a chunk of that paragraph containing a gold answer verbatim:")]),
            f"![recall]({res['recall_png']})",
            "",
        ]
    if "squad_e2e" in res:
        lines += [
            f"## End to end on the open corpus: held-out articles ({', '.join(sorted(SD.HELD_OUT_TITLES))})",
            "",
            "Every question asked with the product defaults (hybrid retrieval, the reader's abstention "
            "threshold); abstaining on these answerable questions scores 0.",
            "",
            R.md_table(E2E_HEADER, e2e_rows(res["squad_e2e"])),
            "",
        ]
        for run in res["squad_e2e"]:
            lines += [f"Latency by stage, {run['reader']} reader (ms):", "",
                      R.md_table(["stage", "p50", "p95", "mean"], latency_rows(run["latency"])), ""]
    if "speed" in res:
        sp = res["speed"]
        lines += [
            "## Speed: the path before and the new one, side by side (same run)",
            "",
            f"Before = the fp32 reader reading every retrieved passage, one question at a time; now = the default "
            "(`span`: per-channel int8, adaptive reading depth, qa/adaptive.py; batched where several questions "
            "are asked together). Latencies in ms, warm, one question at a time.",
            "",
        ]
        if sp.get("squad"):
            lines += [f"Held-out open corpus ({sp['squad'][0]['questions']} questions):", "",
                      R.md_table(SPEED_HEADER, speed_rows(sp["squad"])), ""]
        if sp.get("seeds"):
            lines += [f"Seed scale (the seed questions over the 2 seed articles, {sp['seeds'][0]['questions']} questions):",
                      "", R.md_table(SPEED_HEADER, speed_rows(sp["seeds"])), ""]
        if sp.get("predict"):
            lines += [f"`qa predict` on a fixed sample of {sp['predict'][0]['questions']} held-out questions "
                      "(qa/predict.py; models loaded, answering loop only):", "",
                      R.md_table(["path", "batch", "seconds", "questions/s", "F1"],
                                 [[r["reader"], r["batch_size"], r["seconds"], r["questions_per_second"], r["f1"]]
                                  for r in sp["predict"]]), ""]
    if "cold_start" in res:
        cs = res["cold_start"]
        lines += [
            "## Cold start",
            "",
            f"Fresh process to first answer (`{cs['command']}`, persisted index, default reader): "
            f"median **{cs['median_seconds']:.2f} s** of {len(cs['runs'])} "
            f"({', '.join(f'{t:.2f}' for t in cs['runs'])} s); answer: {cs['answers'][0]!r}.",
            "",
        ]
    if "shifts" in res:
        lines += [
            "## Robustness: SQuADShifts",
            "",
            f"Seeded sample of {res['shift_sample']} questions per subset; the corpus is the sample's own "
            "paragraphs (a smaller haystack than SQuAD above, so compare readers, not subsets vs SQuAD). "
            "**new_wiki and reddit are in the span reader's training data**; amazon is the only "
            "out-of-sample subset.",
            "",
            R.md_table(["subset", "paragraphs"] + E2E_HEADER,
                       [[s["name"] + (" (trained on)" if s["name"] in SD.TRAINED_SHIFTS else " (held out)"),
                         s["paragraphs"]] + row for s in res["shifts"] for row in e2e_rows(s["runs"])]),
            "",
        ]
    lines += [f"Total wall time {res.get('seconds', 0) / 60:.1f} min; 1-min load average at the end "
              f"{res.get('load_average_1m_end', '—')} (about 2 = this run alone on 2 cores). "
              f"Raw figures: `{res['json_name']}`.", ""]
    return "\n".join(lines)


def save(res: dict, out: Path) -> None:
    """Write the JSON and Markdown after every section, so a late failure keeps what was measured."""
    R.atomic_write_json(out.with_suffix(".json"), res)
    R.atomic_write_text(out, render(res))


# --- main --------------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--limit", type=int, default=None, metavar="N",
                    help="quick run: N questions per measurement, corpora cut to their paragraphs")
    ap.add_argument("--out", default="reports/bench.md", metavar="MD", help="report (JSON beside it; default: %(default)s)")
    ap.add_argument("--data-dir", default=None, metavar="DIR", help="shared datasets (default: ../shared/data)")
    ap.add_argument("--work-dir", default=None, metavar="DIR", help="keep corpora and indexes here (default: a temp dir)")
    ap.add_argument("--shift-sample", type=int, default=500, metavar="N", help="questions per SQuADShifts subset")
    ap.add_argument("--cold-runs", type=int, default=3, metavar="N", help="cold-start repetitions (median reported)")
    ap.add_argument("--readers", default=",".join(READERS), help="readers for end-to-end runs (default: %(default)s)")
    ap.add_argument("--before-limit", type=int, default=None, metavar="N",
                    help="held-out questions for the side-by-side run of the path before (seeded sample; default all)")
    ap.add_argument("--predict-limit", type=int, default=500, metavar="N",
                    help="held-out questions for the qa predict speed check (seeded sample; 0 = skip)")
    ap.add_argument("--only-speed", action="store_true",
                    help="only the speed sections (held-out side by side, seeds, qa predict): a short timed run")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    progress = not args.quiet
    readers = [r for r in args.readers.split(",") if r]
    data_dir = Path(args.data_dir) if args.data_dir else SD.default_data_dir()
    if not (data_dir / SD.SQUAD_V11_DEV).exists():
        print(f"error: SQuAD v1.1 dev not found under {data_dir} (pass --data-dir)", file=sys.stderr)
        return 2
    out = Path(args.out)
    started = time.perf_counter()
    res = {"machine": R.machine_info(), "command": invocation(), "limit": args.limit, "reader_note": reader_notes(args.readers),
           "json_name": out.with_suffix(".json").name, "shift_sample": min(args.shift_sample, args.limit or 10**9)}
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        work = Path(args.work_dir or tmp)

        squad = SD.load_records(data_dir / SD.SQUAD_V11_DEV, "squad_v1.1")
        ids = doc_ids_for(squad)
        all_q = as_questions(squad, ids)
        held_recs = [r for r in squad if r.title in SD.HELD_OUT_TITLES]
        held_q = as_questions(held_recs, ids)
        corpus_recs = squad
        if args.limit:  # a quick run: fewer questions and only their paragraphs as corpus
            all_q = SD.sample_records(all_q, args.limit, seed=0)
            held_recs = SD.sample_records(held_recs, args.limit, seed=0)
            held_q = as_questions(held_recs, ids)
            keep = {q.doc_id for q in all_q} | {q.doc_id for q in held_q}
            corpus_recs = [r for r in squad if ids[(r.title, r.context)] in keep]
        corpus, index_dir = work / "squad_dev", work / "squad_dev_index"
        write_corpus(corpus_recs, ids, corpus, progress)

        if args.only_speed and (index_dir / "CURRENT").exists():
            pass  # a short timed run reuses the index kept in --work-dir (Pipeline checks it is current)
        else:
            res["index"] = build_index(corpus, index_dir, progress)
            save(res, out)
        if not args.only_speed:
            res["retrieval"] = retrieval_sweep(corpus, index_dir, all_q, progress)
            res["recall_png"] = R.plot_recall({m: res["retrieval"][m]["doc"]["recall"] for m in MODES},
                                              out.with_name(out.stem + "_recall.png"),
                                              "SQuAD v1.1 dev open corpus: own paragraph in top k").name
            save(res, out)
        before_q = as_questions(SD.sample_records(held_recs, args.before_limit, seed=0), ids)
        if args.only_speed:  # the short timed run: both paths on the same sample only
            held_q = before_q
        speed_readers = [BEFORE, "span"]
        e2e = {reader: end_to_end(corpus, index_dir, before_q if reader == BEFORE else held_q, reader, progress,
                                  f"held-out e2e ({reader})")
               for reader in ([BEFORE, *readers] if not args.only_speed else speed_readers)}
        res["squad_e2e"] = [e2e[r] for r in e2e if r != BEFORE]
        if args.before_limit and "span" in e2e and not args.only_speed:  # side by side on the same questions
            e2e["span"] = end_to_end(corpus, index_dir, before_q, "span", progress, "held-out e2e (span, sample)")
        res["speed"] = {"squad": [e2e[r] for r in speed_readers if r in e2e]}
        save(res, out)
        res["speed"]["seeds"] = seed_scale(progress)
        save(res, out)
        if args.predict_limit:
            sample = as_questions(SD.sample_records(held_recs, args.predict_limit, seed=1), ids)
            res["speed"]["predict"] = predict_speed(corpus, index_dir, sample, progress)
            save(res, out)
        if args.only_speed:
            res["seconds"] = time.perf_counter() - started
            res["load_average_1m_end"] = round(os.getloadavg()[0], 2)
            save(res, out)
            print(render(res))
            return 0
        res["cold_start"] = cold_start(corpus, index_dir, args.cold_runs, progress)
        save(res, out)

        res["shifts"] = []
        for name, rel in (("new_wiki", SD.SHIFTS_NEW_WIKI), ("reddit", SD.SHIFTS_REDDIT),
                          ("amazon", SD.SHIFTS_AMAZON)):
            recs = SD.sample_records(SD.load_records(data_dir / rel, name), res["shift_sample"], seed=0)
            shift_ids = doc_ids_for(recs)
            shift_corpus = work / f"shift_{name}"
            n_par = write_corpus(recs, shift_ids, shift_corpus, progress)
            qs = as_questions(recs, shift_ids)
            runs = [end_to_end(shift_corpus, work / f"shift_{name}_index", qs, reader, progress, f"{name} ({reader})")
                    for reader in readers]
            res["shifts"].append({"name": name, "paragraphs": n_par, "runs": runs})
            save(res, out)
    res["seconds"] = time.perf_counter() - started
    res["load_average_1m_end"] = round(os.getloadavg()[0], 2)
    save(res, out)
    print(render(res))
    print(f"wrote {out} and {out.with_suffix('.json')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
