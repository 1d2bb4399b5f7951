#!/usr/bin/env python
"""Why Milvus Lite is slow on a few thousand chunks, and why the product does not flush it.

Indexes a corpus folder (default: the 2,067-paragraph SQuAD dev corpus that scripts/bench_large.py
writes) into Milvus Lite with a hashing encoder (no model: only the engine is timed), then times
dense and BM25 searches (a) as the update leaves the collection, (b) after ``flush``, and (c) after
a second update adds articles and is flushed too; at each step it compares Milvus's BM25 top 10
with the FAISS store's bm25s top 10 over the same chunks (the backends promise the same ranking).

    python scripts/milvus_lite_probe.py                       # the dev corpus, 30 queries (~5 min here)
    python scripts/milvus_lite_probe.py --articles 500 --queries 10 --out /tmp/probe.json   # a quick check
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _time(fn, queries) -> dict:
    import numpy as np

    seconds = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        seconds.append(time.perf_counter() - t)
    return {"p50_ms": 1000 * float(np.median(seconds)), "p95_ms": 1000 * float(np.percentile(seconds, 95))}


def measure(milvus_index, faiss_index, encoder, questions) -> dict:
    vectors = {q: encoder.encode([q])[0] for q in questions}
    same = [[c.chunk_id for c, _ in milvus_index.search_lexical(q, 10)] ==
            [c.chunk_id for c, _ in faiss_index.search_lexical(q, 10)] for q in questions]
    return {"dense": _time(lambda q: milvus_index.search_dense(vectors[q], 100), questions),
            "bm25": _time(lambda q: milvus_index.search_lexical(q, 100), questions),
            "bm25_top10_same_as_bm25s_percent": 100 * sum(same) / len(same)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=None, metavar="FOLDER",
                    help="articles (default: $QA_BENCH_CACHE/corpora/dev, written by scripts/bench_large.py embed)")
    ap.add_argument("--articles", type=int, default=0, metavar="N", help="the first N articles only (0 = all)")
    ap.add_argument("--queries", type=int, default=30, metavar="N", help="questions timed per step (default: 30)")
    ap.add_argument("--out", default=None, metavar="JSON", help="also write the figures here")
    args = ap.parse_args(argv)
    corpus = Path(args.corpus or Path(os.environ.get("QA_BENCH_CACHE") or "/work/cache/issue15") / "corpora" / "dev")
    if not corpus.is_dir():
        print(f"error: corpus folder not found: {corpus}; run scripts/bench_large.py embed, or pass --corpus", file=sys.stderr)
        return 2

    from qa.backends import make_backend
    from qa.config import QAConfig
    from qa.load import load_corpus
    from tests.conftest import FakeEncoder

    docs, _ = load_corpus(corpus)
    if args.articles:
        docs = docs[:args.articles]
    first, later = docs[:-10], docs[-10:]
    encoder, config = FakeEncoder(dimension=384), QAConfig()
    work = Path(tempfile.mkdtemp(prefix="milvus-probe-"))
    res: dict = {"corpus": str(corpus), "articles": len(docs), "load_avg_before": os.getloadavg()[0]}
    try:
        milvus = make_backend("milvus", work / "milvus")
        t = time.perf_counter()
        m_index, report = milvus.update(first, encoder, config)
        res["chunks"] = report.chunks_total
        res["build_seconds"] = time.perf_counter() - t
        f_index, _ = make_backend("faiss", work / "faiss").update(first, encoder, config)
        questions = [c.text.split(".")[0][:120] for c in f_index.all_chunks()[::max(1, report.chunks_total // args.queries)]]
        questions = questions[:args.queries]
        res["as_updated"] = measure(m_index, f_index, encoder, questions)
        t = time.perf_counter()
        milvus.client().flush(milvus.chunks_name)
        res["flush_seconds"] = time.perf_counter() - t
        m_index.search_lexical(questions[0], 10)  # the first search after a flush loads the segment
        res["after_flush"] = measure(m_index, f_index, encoder, questions)
        m_index, _ = milvus.update(docs, encoder, config)  # 10 more articles: a second segment once flushed
        milvus.client().flush(milvus.chunks_name)
        f_index, _ = make_backend("faiss", work / "faiss").update(docs, encoder, config)
        m_index.search_lexical(questions[0], 10)
        res["after_a_second_flushed_update"] = measure(m_index, f_index, encoder, questions)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(res, indent=2)
    print(text)
    if args.out:
        from qa.fsutil import atomic_write_text

        atomic_write_text(Path(args.out), text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
