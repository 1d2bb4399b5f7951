#!/usr/bin/env python
"""The large open benchmark: all 20,963 SQuAD v1.1 paragraphs (train + dev) as one corpus.

Side by side in one run, through the product's own Pipeline: the 20,963-paragraph corpus and the
2,067-paragraph SQuAD v1.1 dev corpus of ``reports/bench.md``, on the FAISS backend, and the dev
corpus and the seed set on Milvus Lite. For each: index build time (vectors from the cache, plus
the measured embedding rate), index size on disk, peak RAM; recall@1/5/20 and MRR per retriever on
the 2,198 held-out questions; the same questions end to end with the default reader (EM/F1,
answered, cites own paragraph, latency p50/p95 by stage). Answer accuracy is on held-out questions
only; retrieving over the training paragraphs is fine (retrieval is not trained).

    python scripts/bench_large.py embed   # once, unpaused, at nice: corpora + vector cache (~1-2 h here)
    python scripts/bench_large.py all     # each timed run under scripts/with_training_paused.sh (~35 min)
    make bench-large                      # both; the embed step is a no-op once the cache is full

Step ``embed`` writes the corpora as .txt files and embeds every chunk into the vector cache (outside
the repo, keyed by a hash of the text), plus every other real paragraph in ../shared/data for
scripts/scale.py. Step ``run`` measures one (corpus, backend) in this process; ``all`` runs each in
a fresh process with the training paused, then ``report`` writes reports/bench_large.md.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import bench as B  # noqa: E402  (scripts/bench.py: corpus files, doc ids, questions)
from qa.training import data as SD  # noqa: E402

DEFAULT_CACHE = Path("/work/cache/issue15")
# (corpus, backend) runs of the report, in its column order
RUNS = (("dev", "faiss"), ("all", "faiss"), ("dev", "milvus"), ("seeds", "faiss"), ("seeds", "milvus"))
CORPUS_LABEL = {"dev": "SQuAD v1.1 dev (2,067 paragraphs)", "all": "SQuAD v1.1 train + dev (20,963 paragraphs)",
                "seeds": "seed articles"}


def squad_records(data_dir: Path):
    """(dev records, train records): the two halves of the 20,963-paragraph corpus."""
    return (SD.load_records(data_dir / SD.SQUAD_V11_DEV, "squad_v1.1"),
            SD.load_records(data_dir / SD.SQUAD_V11_TRAIN, "squad_train"))


def real_paragraphs(data_dir: Path) -> list[tuple[str, str, str]]:
    """(source, title, context) of every distinct paragraph in ../shared/data, SQuAD v1.1 first."""
    files = [("squad_v1.1", SD.SQUAD_V11_DEV), ("squad_train", SD.SQUAD_V11_TRAIN),
             ("squad_v2.0", SD.SQUAD_V20_DEV), ("squad_v2.0_cs224n", SD.SQUAD_V20_CS224N),
             ("new_wiki", SD.SHIFTS_NEW_WIKI), ("reddit", SD.SHIFTS_REDDIT), ("amazon", SD.SHIFTS_AMAZON),
             ("tydi", SD.TYDI_TRAIN), ("tydi_dev", SD.TYDI_DEV), ("xquad", "xquad/xquad.en.json")]
    seen: set[str] = set()
    out = []
    for source, rel in files:
        for article in SD.load_squad_json(data_dir / rel)["data"]:
            for para in article["paragraphs"]:
                text = para["context"].replace("\r\n", "\n").replace("\r", "\n")
                if text.strip() and text not in seen:
                    seen.add(text)
                    out.append((source, article["title"], text))
    return out


def chunk_texts(documents, config) -> list[str]:
    from qa.chunk import chunk_document

    return [c.text for d in documents
            for c in chunk_document(d, config.chunk_sentences, config.chunk_overlap, config.chunk_max_chars)]


def cached_encoder(cache: Path):
    from qa.config import QAConfig
    from qa.embed import MiniLMEncoder
    from qa.embed_cache import CachedEncoder

    return CachedEncoder(MiniLMEncoder(QAConfig().encode_batch_size), cache / "vectors")


def step_embed(data_dir: Path, cache: Path, progress: bool) -> None:
    """Write the corpora and fill the vector cache (the one long job; resumable shard by shard)."""
    from qa.config import QAConfig
    from qa.load import load_corpus
    from qa.types import Document

    config = QAConfig()
    dev, train = squad_records(data_dir)
    ids = B.doc_ids_for(train + dev)
    corpus = cache / "corpora" / "squad_all"
    if not corpus.is_dir() or len(list(corpus.iterdir())) != len({(r.title, r.context) for r in train + dev}):
        B.write_corpus(train + dev, ids, corpus, progress)
    documents, skipped = load_corpus(corpus)
    assert not skipped, skipped[:3]
    encoder = cached_encoder(cache)
    texts = chunk_texts(documents, config)
    t0 = time.perf_counter()
    encoder.encode(texts, progress=progress)
    print(f"squad_all: {len(documents)} paragraphs, {len(texts)} chunks; {encoder.misses} embedded in "
          f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
    extra = [Document(f"real{i:06d}", title, "", text, "") for i, (_, title, text) in enumerate(real_paragraphs(data_dir))]
    texts = chunk_texts(extra, config)
    t0, before = time.perf_counter(), encoder.misses
    encoder.encode(texts, progress=progress)
    print(f"every real paragraph: {len(extra)} paragraphs, {len(texts)} chunks; {encoder.misses - before} embedded "
          f"in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def corpus_folder(cache: Path, name: str) -> Path:
    return cache / "corpora" / ("squad_all" if name == "all" else name)


def prepare_corpus(data_dir: Path, cache: Path, name: str, progress: bool):
    """(corpus folder, held-out questions) for ``name``: dev, all (train + dev) or seeds."""
    from qa.evaluate import SEED_QUESTIONS, load_questions

    if name == "seeds":
        return ROOT / "seeds", load_questions(SEED_QUESTIONS)
    dev, train = squad_records(data_dir)
    records = dev if name == "dev" else train + dev
    ids = B.doc_ids_for(train + dev)  # the same ids in both corpora (titles differ between train and dev)
    folder = corpus_folder(cache, name)
    if not folder.is_dir() or len(list(folder.iterdir())) != len({(r.title, r.context) for r in records}):
        shutil.rmtree(folder, ignore_errors=True)
        B.write_corpus(records, ids, folder, progress)
    held = [r for r in dev if r.title in SD.HELD_OUT_TITLES]
    return folder, B.as_questions(held, ids)


def _disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_run(data_dir: Path, cache: Path, corpus: str, backend_name: str, progress: bool, limit: int | None) -> dict:
    """Build one index from the vector cache and measure it; writes cache/results/<corpus>-<backend>.json."""
    from sentence_transformers import SentenceTransformer

    from qa import Pipeline
    from qa.backends import make_backend
    from qa.config import QAConfig
    from qa.embed import packaged_model_path
    from qa.evaluate import summarize_answers, summarize_latency, summarize_retrieval
    from qa.pipeline import default_reader_name

    started = time.perf_counter()
    folder, questions = prepare_corpus(data_dir, cache, corpus, progress)
    if limit:
        questions = questions[:limit]
    index_dir = cache / "indexes" / f"{corpus}-{backend_name}"
    shutil.rmtree(index_dir, ignore_errors=True)  # a build from scratch

    def backend():
        return make_backend(backend_name, index_dir)

    res: dict = {"corpus": corpus, "backend": backend_name, "questions": len(questions)}
    # 1. build, vectors from the cache (embedding measured apart, on a sample, with the raw encoder)
    encoder = cached_encoder(cache)
    encoder.warm_up()
    builder = Pipeline(folder, index_dir, reader="heuristic", encoder=encoder, backend=backend())
    t0 = time.perf_counter()
    report = builder.index(progress=progress)
    res["build"] = {"seconds": time.perf_counter() - t0, "documents": len(builder.documents),
                    "chunks": report.chunks_total, "embedded_now": encoder.misses,
                    "dense": builder.manifest.get("dense"), "disk_mb": _disk_mb(index_dir),
                    "where": builder.backend.describe()}
    texts = [c.text for c in builder._index.all_chunks()[:512]] if corpus != "seeds" else []
    del builder
    if texts:
        raw = SentenceTransformer(packaged_model_path(), device="cpu")
        raw.encode(texts[:32], batch_size=QAConfig().encode_batch_size)
        t0 = time.perf_counter()
        raw.encode(texts, batch_size=QAConfig().encode_batch_size)
        rate = len(texts) / (time.perf_counter() - t0)
        res["build"]["embed_chunks_per_second"] = rate
        res["build"]["embed_seconds_estimate"] = res["build"]["chunks"] / rate
        del raw
    # 2. retrieval recall per retriever (query vectors from the cache: recall is not a timing)
    records, _ = run_retrieval(folder, index_dir, questions, backend(), encoder, progress)
    res["retrieval"] = summarize_retrieval(records)
    # 3. end to end, the default reader, the real encoder (timed)
    reader = default_reader_name()
    e2e = B.end_to_end(folder, index_dir, questions, reader, progress, f"e2e {corpus}/{backend_name}",
                       backend=backend())
    res["e2e"] = e2e
    if backend_name == "milvus" and corpus != "seeds":
        res["milvus_rrf"] = compare_fusion(folder, index_dir, questions[:300], backend(), progress)
    res["peak_rss_mb"] = _peak_mb()
    res["seconds"] = time.perf_counter() - started
    out = cache / "results" / f"{corpus}-{backend_name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    from qa.eval.report import atomic_write_json

    atomic_write_json(out, res)
    print(f"wrote {out}", file=sys.stderr)
    return res


def run_retrieval(folder, index_dir, questions, backend, encoder, progress):
    from qa import Pipeline
    from qa.evaluate import run_questions

    p = Pipeline(folder, index_dir, reader="heuristic", encoder=encoder, backend=backend)
    p.warm_up()
    return run_questions(p, questions, answers=False, retrieval=True, progress=progress, desc="retrieval (3 modes)")


def compare_fusion(folder, index_dir, questions, backend, progress) -> dict:
    """Milvus's own RRF (hybrid_search + RRFRanker, one request) against ours (two searches fused
    here, which also gives the answer ranker each list's ranks): same top 5? and how fast?"""
    from tqdm import tqdm

    from qa import Pipeline

    p = Pipeline(folder, index_dir, reader="heuristic", backend=backend)
    p.warm_up()
    retriever = p._require_index()
    index = retriever.index
    same, ours_s, theirs_s = [], [], []
    for q in tqdm(questions, desc="fusion: ours vs Milvus RRF", disable=not progress):
        vector = retriever.embed_query(q.question)
        t0 = time.perf_counter()
        ours = retriever.retrieve(q.question, top_k=5)
        t1 = time.perf_counter()
        theirs = index.search_fused(q.question, vector, retriever.depth, 5, retriever.rrf_k)
        t2 = time.perf_counter()
        same.append([h.chunk.chunk_id for h in ours] == [c.chunk_id for c, _ in theirs])
        ours_s.append(t1 - t0 - retriever.timings["encode"])
        theirs_s.append(t2 - t1)
    import numpy as np

    return {"questions": len(questions), "same_top5_percent": 100 * float(np.mean(same)),
            "ours_p50_ms": 1000 * float(np.median(ours_s)), "milvus_p50_ms": 1000 * float(np.median(theirs_s)),
            "ours_p95_ms": 1000 * float(np.percentile(ours_s, 95)),
            "milvus_p95_ms": 1000 * float(np.percentile(theirs_s, 95))}


def step_all(cache: Path, args) -> int:
    """Each run in its own process (its own peak RAM), with the training paused while it times."""
    pause = ROOT / "scripts" / "with_training_paused.sh"
    for corpus, backend in RUNS:
        cmd = [str(pause), sys.executable, str(Path(__file__).resolve()), "run", "--corpus", corpus,
               "--backend", backend, "--cache", str(cache)]
        if args.data_dir:
            cmd += ["--data-dir", args.data_dir]
        if args.limit:
            cmd += ["--limit", str(args.limit)]
        if args.quiet:
            cmd.append("--quiet")
        print("+", " ".join(cmd), file=sys.stderr, flush=True)
        code = subprocess.call(cmd, cwd=ROOT)
        if code:
            return code
    return step_report(cache, Path(args.out), args)


# --- the report --------------------------------------------------------------------------------


def step_report(cache: Path, out: Path, args) -> int:
    from qa.eval import report as R

    runs = {}
    for corpus, backend in RUNS:
        path = cache / "results" / f"{corpus}-{backend}.json"
        if path.is_file():
            runs[f"{corpus}-{backend}"] = json.loads(path.read_text(encoding="utf-8"))
    if not runs:
        print(f"error: no results under {cache / 'results'}; run `scripts/bench_large.py all` first", file=sys.stderr)
        return 2
    res = {"machine": R.machine_info(), "command": "python scripts/bench_large.py all", "runs": runs,
           "json_name": out.with_suffix(".json").name}
    recall = {f"{k} {m}": v["retrieval"][m]["doc"]["recall"] for k, v in runs.items() if k.endswith("faiss")
              and not k.startswith("seeds") for m in ("bm25", "dense", "hybrid")}
    res["recall_png"] = R.plot_recall({k: {int(kk): vv for kk, vv in v.items()} for k, v in recall.items()},
                                      out.with_name(out.stem + "_recall.png"),
                                      "Held-out questions: own paragraph in top k").name
    R.atomic_write_json(out.with_suffix(".json"), res)
    R.atomic_write_text(out, render(res))
    print(render(res))
    return 0


def _cell(runs, key, fn):
    try:
        return fn(runs[key])
    except (KeyError, TypeError):
        return None


def render(res: dict) -> str:
    from qa.eval import report as R

    runs = res["runs"]
    keys = [f"{c}-{b}" for c, b in RUNS if f"{c}-{b}" in runs]
    head = ["", *[f"{CORPUS_LABEL[k.split('-')[0]]}, {k.split('-')[1]}" for k in keys]]

    def row(label, fn):
        return [label, *[_cell(runs, k, fn) for k in keys]]

    pct = lambda part, whole: 100.0 * part / whole if whole else None  # noqa: E731
    rows = [
        row("articles / chunks", lambda r: f"{r['build']['documents']:,} / {r['build']['chunks']:,}"),
        row("dense index", lambda r: (r["build"]["dense"] or {}).get("kind", "milvus")),
        row("index build, vectors from the cache (s)", lambda r: r["build"]["seconds"]),
        row("embedding at the measured rate (s, estimate)", lambda r: r["build"].get("embed_seconds_estimate")),
        row("index size on disk (MB)", lambda r: r["build"]["disk_mb"]),
        row("peak RAM of the process: models + index (MB)", lambda r: r["peak_rss_mb"]),
    ]
    for mode in ("bm25", "dense", "hybrid"):
        for k in ("1", "5", "20"):
            rows.append(row(f"{mode} recall@{k} (own paragraph, %)",
                            lambda r, m=mode, k=k: 100 * r["retrieval"][m]["doc"]["recall"][k]))
        rows.append(row(f"{mode} MRR", lambda r, m=mode: f"{r['retrieval'][m]['doc']['mrr']:.3f}"))
    rows += [
        row("end to end: questions", lambda r: r["e2e"]["questions"]),
        row("EM", lambda r: r["e2e"]["exact_match"]),
        row("F1", lambda r: r["e2e"]["f1"]),
        row("answered %", lambda r: pct(r["e2e"]["answered"], r["e2e"]["questions"])),
        row("cites own paragraph % (of answered)", lambda r: r["e2e"]["citation_accuracy"]),
        row("questions / s", lambda r: r["e2e"]["latency"].get("questions_per_second")),
    ]
    for stage in ("encode", "search", "read", "total"):
        rows.append(row(f"{stage} p50 / p95 (ms)", lambda r, s=stage: f"{r['e2e']['latency'][s]['p50_ms']:.0f} / "
                                                                      f"{r['e2e']['latency'][s]['p95_ms']:.0f}"))
    lines = [
        "# Large open benchmark: 20,963 SQuAD paragraphs, and Milvus beside FAISS",
        "",
        f"- **Date / machine:** {R.machine_line(res['machine'])}",
        f"- **Command:** `{res['command']}` (each column a fresh process with the training paused; "
        "`make bench-large`)",
        "- **Corpora:** every SQuAD v1.1 paragraph as one .txt article (train + dev: 20,963 paragraphs, of which 5 "
        "repeat another paragraph of their article word for word, so 20,958 files), beside the 2,067 dev paragraphs "
        "of `reports/bench.md`, and the seed articles. Doc ids are shared, so a dev paragraph is the same article "
        "in both corpora.",
        "- **Questions:** the 2,198 questions of the six held-out articles (the seed set: its 106 questions) for "
        "recall and end to end; relevant = a chunk of the question's own paragraph (own article for the seeds). "
        "End to end = `Pipeline.ask` with the defaults (hybrid retrieval, the default reader and its threshold); "
        "abstaining scores 0.",
        "- **Build:** the chunk vectors come from the vector cache (`embed` step: the same encoder, keyed by "
        "text), so build time here is chunking, BM25, the dense index and writing; the embedding time a cold "
        "build adds is estimated from the raw encoder's rate on 512 of the chunks, measured in the same run.",
        "",
        R.md_table(head, rows),
        "",
        f"![recall]({res['recall_png']})",
        "",
    ]
    for k in keys:
        fusion = runs[k].get("milvus_rrf")
        if fusion:
            lines += [f"**Milvus's own RRF vs ours** ({k}, {fusion['questions']} questions): the same top 5 for "
                      f"{fusion['same_top5_percent']:.1f}% of questions; search p50 / p95 "
                      f"{fusion['milvus_p50_ms']:.0f} / {fusion['milvus_p95_ms']:.0f} ms (one `hybrid_search`) vs "
                      f"{fusion['ours_p50_ms']:.0f} / {fusion['ours_p95_ms']:.0f} ms (two searches fused here). "
                      "The product fuses itself: the answer ranker needs each list's rank, which `hybrid_search` "
                      "does not return.", ""]
    lines += [f"Raw figures: `{res['json_name']}`.", ""]
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=["embed", "run", "all", "report"],
                    help="embed: fill the vector cache (once, unpaused, at nice); run: one corpus and backend; "
                         "all: every run with the training paused, then the report; report: re-render")
    ap.add_argument("--corpus", choices=["dev", "all", "seeds"], default="dev", help="run: which corpus")
    ap.add_argument("--backend", choices=["faiss", "milvus"], default="faiss", help="run: which backend")
    ap.add_argument("--limit", type=int, default=None, metavar="N", help="quick check: the first N questions")
    ap.add_argument("--out", default="reports/bench_large.md", metavar="MD", help="report (default: %(default)s)")
    ap.add_argument("--data-dir", default=None, metavar="DIR", help="shared datasets (default: ../shared/data)")
    ap.add_argument("--cache", default=None, metavar="DIR",
                    help=f"corpora, vectors and indexes, outside the repo (default: $QA_BENCH_CACHE or {DEFAULT_CACHE})")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    data_dir = Path(args.data_dir) if args.data_dir else SD.default_data_dir()
    cache = Path(args.cache or os.environ.get("QA_BENCH_CACHE") or DEFAULT_CACHE)
    if args.step == "embed":
        step_embed(data_dir, cache, not args.quiet)
    elif args.step == "run":
        step_run(data_dir, cache, args.corpus, args.backend, not args.quiet, args.limit)
    elif args.step == "all":
        return step_all(cache, args)
    else:
        return step_report(cache, Path(args.out), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
