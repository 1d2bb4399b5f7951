#!/usr/bin/env python
"""Bulk indexing throughput on Ray against the number of workers, beside today's single process.

One corpus of real paragraphs (the SQuAD v1.1 dev corpus of reports/bench.md, cut to the first
articles that make ``--chunks`` chunks) is indexed from nothing, with the real encoder, by:

* ``qa index`` as it is: one process, the encoder on all cores (the baseline);
* ``qa index --ray`` with 1, 2, ... embedding workers of ``--threads`` encoder threads each, a fresh
  local Ray runtime and an empty vector cache per run (qa/bulk/ray_index.py).

It reports the embedding stage (chunks/s, including each worker's model load) and the whole cold
build (Ray start, reading, embedding, writing), with the machine's CPU and load average, to
reports/bench_ray.md (+ .json). Timings on a 2-core machine are worth reporting only with the
training paused:

    scripts/with_training_paused.sh .venv/bin/python scripts/bench_ray.py            # ~4 min here
    python scripts/bench_ray.py --chunks 200 --out /tmp/bench_ray.md                 # a quick check
    QA_PAUSE_MAX_S=2400 scripts/with_training_paused.sh .venv/bin/python scripts/bench_ray.py \
        --corpus all --chunks 0 --workers 2 --no-baseline --out reports/bench_ray_all.md   # cold build, 20,958 (~30 min)
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from machine import cpu_name  # noqa: E402  (scripts/machine.py)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def training_running() -> bool:
    """A training run of this checkout that is running (not paused by scripts/with_training_paused.sh)."""
    runs = Path(os.environ.get("QA_RUNS_DIR") or ROOT / "runs")
    for pid_file in runs.glob("*/pid"):
        try:
            pid = int(pid_file.read_text().strip())
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except (OSError, ValueError, IndexError):
            continue
        if state not in ("T", "t", "Z", "X"):  # T = stopped (paused)
            return True
    return False


def corpus_folder(name: str, data_dir: str | None, cache: str | None) -> Path:
    if name not in ("dev", "all"):
        folder = Path(name)
        if not folder.is_dir():
            raise SystemExit(f"error: corpus folder not found: {folder} (pass dev, all or a folder of articles)")
        return folder
    import bench_large as BL
    from qa.training import data as SD

    data = Path(data_dir) if data_dir else SD.default_data_dir()
    if not data.is_dir():
        raise SystemExit(f"error: the shared datasets are not in {data}; pass --data-dir DIR or a corpus folder")
    folder, _ = BL.prepare_corpus(data, Path(cache or os.environ.get("QA_BENCH_CACHE") or BL.DEFAULT_CACHE), name,
                                  progress=True)
    return folder


def cut_corpus(folder: Path, chunks: int, out: Path) -> tuple[int, int]:
    """The first articles of ``folder`` (sorted) that make at least ``chunks`` chunks, linked into
    ``out``; 0 = all. Returns (articles, chunks)."""
    from qa.chunk import chunk_document
    from qa.config import QAConfig
    from qa.load import load_document

    c = QAConfig()
    out.mkdir(parents=True)
    articles = total = 0
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".txt", ".md")):
        doc = load_document(path, path.name)
        total += len(chunk_document(doc, c.chunk_sentences, c.chunk_overlap, c.chunk_max_chars))
        try:
            os.link(path, out / path.name)
        except OSError:
            shutil.copy2(path, out / path.name)
        articles += 1
        if chunks and total >= chunks:
            break
    return articles, total


def run_single_process(corpus: Path, work: Path) -> dict:
    """Today's ``qa index``: one process, the encoder on every core."""
    from qa.backends import make_backend
    from qa.config import QAConfig
    from qa.embed import MiniLMEncoder
    from qa.load import load_corpus

    config = QAConfig()
    load = os.getloadavg()[0]
    started = time.perf_counter()
    encoder = MiniLMEncoder(config.encode_batch_size)
    encoder.warm_up()
    seconds_model = time.perf_counter() - started
    embed_seconds = 0.0
    inner_encode = encoder.encode

    def timed_encode(texts, progress=False):
        nonlocal embed_seconds
        t = time.perf_counter()
        try:
            return inner_encode(texts, progress=progress)
        finally:
            embed_seconds += time.perf_counter() - t

    encoder.encode = timed_encode
    docs, _ = load_corpus(corpus)
    _, report = make_backend("faiss", work / "index-single").update(docs, encoder, config, progress=True)
    total = time.perf_counter() - started
    return {"mode": "single process (qa index)", "workers": 1, "threads": os.cpu_count(), "load_before": load,
            "chunks": report.chunks_embedded, "seconds_embed": embed_seconds, "seconds_model": seconds_model,
            "chunks_per_s": report.chunks_embedded / embed_seconds if embed_seconds else 0.0, "seconds_total": total}


def run_ray(corpus: Path, work: Path, workers: int, threads: int, batch: int) -> dict:
    from qa.backends import make_backend
    from qa.bulk.ray_index import RayBulkIndexer, RaySettings
    from qa.config import QAConfig
    from qa.embed import MiniLMEncoder

    config = QAConfig()
    settings = RaySettings(workers=workers, threads_per_worker=threads, batch_chunks=batch)
    factory = functools.partial(MiniLMEncoder, config.encode_batch_size, None, threads)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    _, report = RayBulkIndexer(corpus, make_backend("faiss", work / f"index-ray{workers}"), factory,
                               work / f"cache-ray{workers}", config, settings).run(progress=True)
    total = time.perf_counter() - started
    assert report.embedded_on_driver == 0, report
    return {"mode": "qa index --ray", "workers": workers, "threads": threads, "load_before": load,
            "runtime": report.where, "chunks": report.chunks_embedded, "seconds_read": report.seconds_read,
            "seconds_embed": report.seconds_embed, "chunks_per_s": report.chunks_per_second,
            "seconds_write": report.seconds_write, "seconds_total": total}


def render(res: dict) -> str:
    rows = res["runs"]
    one = next((r["chunks_per_s"] for r in rows if r["mode"] != "single process (qa index)" and r["workers"] == 1), None)
    lines = [
        "# Bulk indexing on Ray: throughput against workers",
        "",
        f"Measured {res['date']} by `{res['command']}` on {res['cpu']} ({res['cores']} cores); corpus: "
        f"{res['corpus']}, first {res['articles']} articles = {res['chunks']} chunks; real encoder "
        f"({res['encoder']}); each run from nothing (fresh index, empty vector cache, fresh Ray runtime).",
        "",
        "| run | workers x threads | chunks | embed s | chunks/s | vs 1 worker | cold build s (all stages) | load avg before |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = f"{r['chunks_per_s'] / one:.2f}x" if one and r["mode"] != "single process (qa index)" else ""
        lines.append(f"| {r['mode']} | {r['workers']} x {r['threads']} | {r['chunks']} | {r['seconds_embed']:.1f} | "
                     f"{r['chunks_per_s']:.1f} | {ratio} | {r['seconds_total']:.1f} | {r['load_before']:.2f} |")
    lines += ["", "Embed s: the embedding stage (for Ray: from starting the workers, each loading the encoder, to the "
              "last vector in the cache); for the single process the encoder's own time, model load excluded. Cold "
              "build: everything, including starting the Ray runtime and writing the index.", ""]
    if res["busy"]:
        lines += ["**Not clean timings:** " + res["busy"], ""]
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Run it with the training paused: scripts/with_training_paused.sh "
                                        ".venv/bin/python scripts/bench_ray.py")
    ap.add_argument("--corpus", default="dev", metavar="dev|all|FOLDER",
                    help="SQuAD v1.1 dev (2,067 paragraphs), all (20,958), or a folder of articles (default: dev)")
    ap.add_argument("--chunks", type=int, default=1500, metavar="N",
                    help="index the first articles that make N chunks; 0 = the whole corpus (default: %(default)s)")
    ap.add_argument("--workers", default="1,2", metavar="LIST", help="Ray worker counts (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=1, metavar="N", help="encoder threads per worker (default: 1)")
    ap.add_argument("--batch", type=int, default=128, metavar="N", help="chunks per embedding task (default: 128)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the single-process run")
    ap.add_argument("--out", default="reports/bench_ray.md", metavar="MD", help="report (default: %(default)s; + .json)")
    ap.add_argument("--data-dir", default=None, metavar="DIR", help="shared datasets (default: ../shared/data)")
    ap.add_argument("--cache", default=None, metavar="DIR",
                    help="where scripts/bench_large.py keeps its corpora (default: $QA_BENCH_CACHE or /work/cache/issue15)")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    except ValueError:
        print(f"error: --workers {args.workers!r}: give counts separated by commas, e.g. 1,2", file=sys.stderr)
        return 2
    if not worker_counts or min(worker_counts) < 1 or args.chunks < 0:
        print("error: --workers needs counts of at least 1, --chunks at least 0", file=sys.stderr)
        return 2
    from qa.embed import MiniLMEncoder

    source = corpus_folder(args.corpus, args.data_dir, args.cache)
    busy = "a training run of this checkout was running (use scripts/with_training_paused.sh)" \
        if training_running() else ""
    work = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    try:
        articles, chunks = cut_corpus(source, args.chunks, work / "corpus")
        print(f"corpus: {articles} articles, {chunks} chunks from {source}", file=sys.stderr)
        runs = [] if args.no_baseline else [run_single_process(work / "corpus", work)]
        for w in worker_counts:
            runs.append(run_ray(work / "corpus", work, w, args.threads, args.batch))
            print(json.dumps(runs[-1]), file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if max(r["load_before"] for r in runs) > 1.0 and not busy:
        busy = f"load average up to {max(r['load_before'] for r in runs):.2f} before a run: another job shared the cores"
    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "command": "python scripts/bench_ray.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "cpu": cpu_name(), "cores": os.cpu_count(), "corpus": str(args.corpus), "articles": articles,
           "chunks": chunks, "encoder": MiniLMEncoder().name, "busy": busy, "runs": runs}
    from qa.fsutil import atomic_write_text

    out = Path(args.out)
    atomic_write_text(out.with_suffix(".json"), json.dumps(res, indent=2) + "\n")
    atomic_write_text(out, render(res))
    print(render(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
