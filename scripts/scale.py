#!/usr/bin/env python
"""One machine, up to a million passages: search latency, RAM and recall as the index grows.

Corpus at each size: real passages first (every distinct paragraph in ../shared/data, chunked as
the product chunks them and embedded for real: the vector cache of ``scripts/bench_large.py embed``),
then SYNTHETIC passages to reach the size: each is three sentences of three random real chunks,
with the normalised sum of those chunks' vectors as its vector. Synthetic passages are clearly
not news; they stand in for volume, to measure latency and memory, and as distractors.

Questions: the 2,198 held-out SQuAD questions (their paragraphs are among the real passages at
every size). For each size it measures, with the product's own index classes
(qa/index_dense.DenseIndex, qa/index_lexical.LexicalIndex):

* flat (exact) and IVF-SQ8 (the approximate kind ``DenseSpec.for_size`` picks past the flat
  threshold) at several nprobe: p50/p95 search latency, index RAM, recall@20 against flat search,
  and recall@1/5/20 of the question's own paragraph;
* bm25s: build time, RAM, p50/p95 latency, recall;
* hybrid retrieval (the chosen dense kind + bm25s, fused by RRF, plus query encoding): p50/p95;
* an incremental update of the approximate index at 1M (copy, remove an article's rows, add).

    python scripts/scale.py build          # unpaused, at nice: passages, vectors, indexes (cached)
    scripts/with_training_paused.sh python scripts/scale.py time   # the timings -> reports/scale.md
    make scale                             # both

Indexes and passages are kept under the cache folder (default /work/cache/issue15/scale), never in
the repository.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

import bench_large as L  # noqa: E402
from qa.eval import report as R  # noqa: E402
from qa.training import data as SD  # noqa: E402

SIZES = (50_000, 200_000, 1_000_000)
NPROBES = (8, 16, 32, 64, 128, 256, 512)
DEPTH = 20
TIMED_QUESTIONS = 300  # single-question searches timed per index (all questions score recall)
SEED = 0


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- passages ----------------------------------------------------------------------------------


def real_passages(data_dir: Path, cache: Path, sources: tuple[str, ...] | None = None):
    """(chunks, vectors, paragraph index of each chunk, paragraph texts) of every real paragraph
    (of ``sources`` only, names as in ``bench_large.real_paragraphs``, when given)."""
    from qa.chunk import chunk_document
    from qa.config import QAConfig
    from qa.types import Document

    config = QAConfig()
    paragraphs = [p for p in L.real_paragraphs(data_dir) if sources is None or p[0] in sources]
    chunks, owner = [], []
    for i, (_, title, text) in enumerate(paragraphs):
        for c in chunk_document(Document(f"p{i:06d}", title, "", text, ""), config.chunk_sentences,
                                config.chunk_overlap, config.chunk_max_chars):
            chunks.append(c)
            owner.append(i)
    encoder = L.cached_encoder(cache)
    vectors = encoder.encode([c.text for c in chunks], progress=True)
    if encoder.misses:
        print(f"note: {encoder.misses} real chunks were not in the vector cache and were embedded now", file=sys.stderr)
    return chunks, vectors, np.array(owner, dtype=np.int64), [t for _, _, t in paragraphs]


def synthetic_passages(chunks, vectors, n: int, seed: int = SEED):
    """``n`` passages of three sentences from three random real chunks; vector = normalised sum."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(chunks), size=(n, 3))
    which = rng.random((n, 3))
    texts = []
    for row, fractions in zip(picks, which):
        parts = []
        for r, f in zip(row, fractions):
            c = chunks[r]
            s, e = c.sentences[int(f * len(c.sentences))]
            parts.append(c.text[s - c.doc_start:e - c.doc_start].strip())
        texts.append(" ".join(parts))
    out = np.zeros((n, vectors.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        part = picks[start:start + 100_000]
        v = vectors[part[:, 0]] + vectors[part[:, 1]] + vectors[part[:, 2]]
        out[start:start + len(part)] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return texts, out


def questions(data_dir: Path, cache: Path, paragraph_texts):
    """Held-out questions: (texts, vectors, own paragraph index)."""
    where = {t: i for i, t in enumerate(paragraph_texts)}
    recs = [r for r in SD.held_out_records(data_dir) if r.context.replace("\r\n", "\n") in where]
    encoder = L.cached_encoder(cache)
    texts = [r.question for r in recs]
    return texts, encoder.encode(texts, progress=True), np.array([where[r.context.replace("\r\n", "\n")] for r in recs])


# --- build (unpaused) --------------------------------------------------------------------------


def step_build(data_dir: Path, cache: Path, sizes, sources: tuple[str, ...] | None = None) -> None:
    import faiss

    from qa.index_dense import DenseIndex, DenseSpec
    from qa.index_lexical import LexicalIndex

    folder = cache / "scale"
    folder.mkdir(parents=True, exist_ok=True)
    chunks, vectors, owner, paragraph_texts = real_passages(data_dir, cache, sources)
    q_texts, q_vectors, q_gold = questions(data_dir, cache, paragraph_texts)
    n_real = len(chunks)
    biggest = max(sizes)
    synth_texts, synth_vectors = synthetic_passages(chunks, vectors, max(0, biggest - n_real))
    texts_all = [c.text for c in chunks] + synth_texts
    np.save(folder / "questions.npy", q_vectors)
    meta = {"real_sources": list(sources) if sources else "all", "real_chunks": n_real, "real_paragraphs": len(paragraph_texts), "questions": len(q_texts),
            "dimension": int(vectors.shape[1]), "sizes": {}}
    R.atomic_write_json(folder / "questions.json", {"texts": q_texts, "gold": q_gold.tolist()})
    np.save(folder / "owner.npy", owner)
    all_vectors = np.concatenate([vectors, synth_vectors]) if len(synth_vectors) else vectors
    np.save(folder / "vectors.npy", all_vectors)
    del synth_vectors
    for n in sizes:
        n_eff = min(n, len(all_vectors))
        out = folder / str(n)
        out.mkdir(exist_ok=True)
        v = all_vectors[:n_eff]
        info = {"passages": n_eff, "real": min(n_eff, n_real), "synthetic": max(0, n_eff - n_real)}
        # exact top-20 of every question (batched, without copying the vectors: the reference, not a timing)
        _, top = faiss.knn(q_vectors, np.ascontiguousarray(v), DEPTH, metric=faiss.METRIC_INNER_PRODUCT)
        np.save(out / "flat_top.npy", top)
        spec = DenseSpec.for_size(n_eff, flat_max=0)  # the approximate kind, whatever the size
        t0 = time.perf_counter()
        dense = DenseIndex.from_vectors(v, v.shape[1], spec)
        info["ivf"] = {"spec": spec.to_dict(), "build_seconds": time.perf_counter() - t0}
        dense.save(out / "ivf.faiss")
        del dense
        gc.collect()
        before, t0 = rss_mb(), time.perf_counter()
        lexical = LexicalIndex.build(texts_all[:n_eff])
        info["bm25"] = {"build_seconds": time.perf_counter() - t0, "build_rss_delta_mb": rss_mb() - before,
                        "peak_rss_mb": peak_mb()}
        lexical.save(out / "bm25")
        del lexical
        gc.collect()
        meta["sizes"][str(n)] = info
        R.atomic_write_json(folder / "build.json", meta)
        print(f"built {n_eff:,} passages: {json.dumps(info)}", file=sys.stderr)


# --- time (paused) -----------------------------------------------------------------------------


def _latencies(fn, items) -> dict:
    times = []
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - t0)
    return {"p50_ms": 1000 * float(np.percentile(times, 50)), "p95_ms": 1000 * float(np.percentile(times, 95)),
            "mean_ms": 1000 * float(np.mean(times))}


def _gold_recall(tops, owner, gold, ks=(1, 5, 20)) -> dict:
    """% of questions whose own paragraph has a chunk in the top k (synthetic rows have no paragraph)."""
    n_real = len(owner)
    return {str(k): 100.0 * float(np.mean([any(0 <= r < n_real and owner[r] == g for r in top[:k])
                                           for top, g in zip(tops, gold)])) for k in ks}


def index_mb(dense) -> float:
    """Memory a FAISS index holds: its serialised size (codes, ids, centroids; what it keeps in RAM)."""
    import faiss

    return faiss.serialize_index(dense.index).nbytes / 2**20 + dense._ids.nbytes / 2**20


def bm25_mb(lexical) -> float:
    """Memory bm25s holds: its score arrays plus the vocabulary dict (keys and entries)."""
    r = lexical.retriever
    arrays = sum(v.nbytes for v in r.scores.values() if hasattr(v, "nbytes"))
    vocab = sys.getsizeof(r.vocab_dict) + sum(sys.getsizeof(k) + 28 for k in r.vocab_dict)
    return (arrays + vocab) / 2**20


def _dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 2**20


def step_time(data_dir: Path, cache: Path, sizes, out_md: Path) -> None:
    import faiss

    from qa.embed import MiniLMEncoder
    from qa.fuse import rrf
    from qa.index_dense import DenseIndex, DenseSpec
    from qa.index_lexical import LexicalIndex

    folder = cache / "scale"
    meta = json.loads((folder / "build.json").read_text())
    qmeta = json.loads((folder / "questions.json").read_text())
    q_texts, gold = qmeta["texts"], np.array(qmeta["gold"])
    q_vectors = np.load(folder / "questions.npy")
    owner = np.load(folder / "owner.npy")
    all_vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    rng = np.random.default_rng(SEED)
    timed = np.sort(rng.choice(len(q_texts), min(TIMED_QUESTIONS, len(q_texts)), replace=False))
    encoder = MiniLMEncoder()
    encoder.warm_up()
    encoder.encode(["warm up the kernels"])
    encode = _latencies(lambda i: encoder.encode([q_texts[i]]), timed)
    res = {"machine": R.machine_info(), "command": "python scripts/scale.py time", "meta": meta,
           "faiss_threads": faiss.omp_get_max_threads(), "encode": encode, "sizes": {}}
    for n in sizes:
        info = meta["sizes"][str(n)]
        n_eff = info["passages"]
        out = folder / str(n)
        flat_top = np.load(out / "flat_top.npy")
        row: dict = {"passages": n_eff, "real": info["real"], "synthetic": info["synthetic"]}
        # flat
        gc.collect()
        before = rss_mb()
        flat = DenseIndex.from_vectors(np.ascontiguousarray(all_vectors[:n_eff]), all_vectors.shape[1])
        row["flat"] = {"ram_mb": index_mb(flat), "rss_delta_mb": rss_mb() - before,
                       "latency": _latencies(lambda i: flat.search(q_vectors[i], DEPTH), timed),
                       "recall": _gold_recall(flat_top, owner, gold)}
        del flat
        gc.collect()
        # IVF-SQ8 at several nprobe
        before = rss_mb()
        spec = DenseSpec.from_dict(info["ivf"]["spec"])
        ivf = DenseIndex.load(out / "ivf.faiss", all_vectors.shape[1], spec)
        row["ivf"] = {"spec": info["ivf"]["spec"], "build_seconds_unpaused": info["ivf"]["build_seconds"],
                      "ram_mb": index_mb(ivf), "rss_delta_mb": rss_mb() - before, "disk_mb": (out / "ivf.faiss").stat().st_size / 2**20, "nprobe": {}}
        for nprobe in NPROBES:
            if nprobe > spec.nlist:
                continue
            ivf.tune(DenseSpec(spec.kind, spec.nlist, nprobe))
            tops = [[r for r, _ in ivf.search(q, DEPTH)] for q in q_vectors]
            overlap = [len(set(a) & set(b.tolist())) / DEPTH for a, b in zip(tops, flat_top)]
            row["ivf"]["nprobe"][str(nprobe)] = {
                "latency": _latencies(lambda i: ivf.search(q_vectors[i], DEPTH), timed),
                "recall_vs_flat_at_20": 100.0 * float(np.mean(overlap)),
                "recall": _gold_recall(tops, owner, gold)}
        # bm25s
        gc.collect()
        before = rss_mb()
        lexical = LexicalIndex.load(out / "bm25", n_eff)
        row["bm25"] = {"ram_mb": bm25_mb(lexical), "rss_delta_mb": rss_mb() - before, "disk_mb": _dir_mb(out / "bm25"),
                       "build_seconds_unpaused": info["bm25"]["build_seconds"],
                       "latency": _latencies(lambda i: lexical.search(q_texts[i], DEPTH), timed)}
        lexical_tops = [[r for r, _ in lexical.search(q, DEPTH)] for q in q_texts]
        row["bm25"]["recall"] = _gold_recall(lexical_tops, owner, gold)
        # hybrid as the product runs it at this size: encode + chosen dense kind + bm25s + RRF
        chosen = DenseSpec.for_size(n_eff)
        row["chosen"] = chosen.to_dict()
        if chosen.kind == "flat":
            dense = DenseIndex.from_vectors(np.ascontiguousarray(all_vectors[:n_eff]), all_vectors.shape[1])
        else:
            ivf.tune(chosen)
            dense = ivf

        def hybrid(i, dense=dense):
            v = encoder.encode([q_texts[i]])[0]
            d = [str(r) for r, _ in dense.search(v, DEPTH)]
            b = [str(r) for r, _ in lexical.search(q_texts[i], DEPTH)]
            return rrf({"dense": d, "bm25": b}, top_k=DEPTH)

        row["hybrid"] = {"latency": _latencies(hybrid, timed)}
        hyb_tops = [[int(c) for c, _, _ in rrf({"dense": [str(r) for r, _ in dense.search(q_vectors[i], DEPTH)],
                                                  "bm25": [str(r) for r in lexical_tops[i]]}, top_k=DEPTH)]
                    for i in range(len(q_texts))]
        row["hybrid"]["recall"] = _gold_recall(hyb_tops, owner, gold)
        if chosen.kind != "flat":  # an incremental update on the approximate index at this size
            t0 = time.perf_counter()
            copy = ivf.copy()
            copy_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            copy.remove_rows(np.arange(0, 10))
            copy.add(np.ascontiguousarray(all_vectors[:10]))
            row["ivf"]["update"] = {"copy_seconds": copy_s, "remove_add_10_seconds": time.perf_counter() - t0,
                                    "aligned": copy.search(np.asarray(all_vectors[0]), 1)[0][0] == n_eff - 10}
            del copy
        del dense, ivf, lexical
        gc.collect()
        res["sizes"][str(n)] = row
        R.atomic_write_json(out_md.with_suffix(".json"), res)
        print(f"timed {n_eff:,}", file=sys.stderr)
    res["plot"] = plot(res, out_md.with_name(out_md.stem + ".png")).name
    R.atomic_write_json(out_md.with_suffix(".json"), res)
    R.atomic_write_text(out_md, render(res))
    print(render(res))


# --- report ------------------------------------------------------------------------------------


def plot(res: dict, path: Path) -> Path:
    plt = R._pyplot()
    sizes = [r["passages"] for r in res["sizes"].values()]
    rows = list(res["sizes"].values())
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.plot(sizes, [r["flat"]["latency"]["p95_ms"] for r in rows], "o-", label="dense, flat (exact)")
    for nprobe in (32, 64):
        if all(str(nprobe) in r["ivf"]["nprobe"] for r in rows):
            a.plot(sizes, [r["ivf"]["nprobe"][str(nprobe)]["latency"]["p95_ms"] for r in rows], "o-",
                   label=f"dense, IVF-SQ8 nprobe {nprobe}")
    a.plot(sizes, [r["bm25"]["latency"]["p95_ms"] for r in rows], "o-", label="BM25 (bm25s)")
    a.plot(sizes, [r["hybrid"]["latency"]["p95_ms"] for r in rows], "o-", label="hybrid as shipped (+ query encoding)")
    a.axhline(50, color="grey", ls=":", label="target 50 ms")
    a.set(xscale="log", xlabel="passages", ylabel="p95 ms per question", title="Search latency")
    a.legend(fontsize=7)
    b.plot(sizes, [r["flat"]["ram_mb"] for r in rows], "o-", label="dense, flat")
    b.plot(sizes, [r["ivf"]["ram_mb"] for r in rows], "o-", label="dense, IVF-SQ8")
    b.plot(sizes, [r["bm25"]["ram_mb"] for r in rows], "o-", label="BM25 (bm25s)")
    b.axhline(2048, color="grey", ls=":", label="target 2 GB")
    b.set(xscale="log", xlabel="passages", ylabel="MB held by the index", title="Index RAM")
    b.legend(fontsize=7)
    return R.save_figure(fig, path)


def render(res: dict) -> str:
    m = res["meta"]
    lines = [
        "# Scale: one machine, up to a million passages",
        "",
        f"- **Date / machine:** {R.machine_line(res['machine'])}; FAISS threads {res['faiss_threads']}",
        f"- **Command:** `python scripts/scale.py build` (unpaused, at nice) then `scripts/with_training_paused.sh "
        f"python scripts/scale.py time` (`make scale`)",
        f"- **Passages:** the first {m['real_chunks']:,} are real: every distinct paragraph "
        + (f"of {', '.join(m['real_sources'])} " if isinstance(m.get('real_sources'), list) else "")
        + f"in ../shared/data ({m['real_paragraphs']:,}), chunked as the product chunks and embedded for real. **The rest are "
        "synthetic**: three sentences of three random real chunks, with the normalised sum of those chunks' "
        "vectors; they stand in for volume (latency, memory) and act as distractors, not as news.",
        f"- **Questions:** the {m['questions']:,} held-out SQuAD questions; recall = their own paragraph in the top k. "
        f"Latency: {TIMED_QUESTIONS} of them, one at a time, with the training paused; query encoding p50 "
        f"{res['encode']['p50_ms']:.1f} / p95 {res['encode']['p95_ms']:.1f} ms.",
        "- RAM = what the index holds in memory: a FAISS index's serialised size (flat: 4 bytes per dimension; "
        "IVF-SQ8: 1 byte per dimension plus an 8-byte id, and the centroids), bm25s's score arrays and vocabulary "
        "(the resident-memory increase on load is in the JSON as `rss_delta_mb`).",
        "",
        "## Dense: flat vs IVF-SQ8",
        "",
    ]
    header = ["passages (synthetic)", "kind", "RAM MB", "p50 ms", "p95 ms", "recall@20 vs flat %", "R@1", "R@5", "R@20"]
    rows = []
    for r in res["sizes"].values():
        label = f"{r['passages']:,} ({r['synthetic']:,})"
        f = r["flat"]
        rows.append([label, "flat", f["ram_mb"], f["latency"]["p50_ms"], f["latency"]["p95_ms"], 100.0,
                     *[f["recall"][k] for k in ("1", "5", "20")]])
        spec = r["ivf"]["spec"]
        for nprobe in sorted(r["ivf"]["nprobe"], key=int):
            x = r["ivf"]["nprobe"][nprobe]
            rows.append([label, f"IVF{spec['nlist']},SQ8 nprobe {nprobe}", r["ivf"]["ram_mb"], x["latency"]["p50_ms"],
                         x["latency"]["p95_ms"], x["recall_vs_flat_at_20"], *[x["recall"][k] for k in ("1", "5", "20")]])
    lines += [R.md_table(header, rows), "", f"![latency and RAM]({res.get('plot', 'scale.png')})", ""]
    lines += ["## BM25 (bm25s) and hybrid as shipped", "",
              "Hybrid = what `HybridRetriever` does at that size: encode the question, search the dense index "
              "the store picks (`DenseSpec.for_size`), search BM25, fuse by RRF.", ""]
    rows = []
    for r in res["sizes"].values():
        b, h = r["bm25"], r["hybrid"]
        rows.append([f"{r['passages']:,}", b["ram_mb"], b["disk_mb"], b["build_seconds_unpaused"],
                     b["latency"]["p50_ms"], b["latency"]["p95_ms"], b["recall"]["5"], b["recall"]["20"],
                     f"{r['chosen']['kind']}" + (f" nprobe {r['chosen']['nprobe']}" if r['chosen']['nprobe'] else ""),
                     h["latency"]["p50_ms"], h["latency"]["p95_ms"], h["recall"]["5"], h["recall"]["20"]])
    lines += [R.md_table(["passages", "BM25 RAM MB", "on disk MB", "build s (unpaused)", "BM25 p50", "BM25 p95",
                          "BM25 R@5", "BM25 R@20", "dense kind", "hybrid p50 ms", "hybrid p95 ms", "hybrid R@5",
                          "hybrid R@20"], rows), ""]
    for r in res["sizes"].values():
        u = r["ivf"].get("update")
        if u:
            lines += [f"Incremental update of the approximate index at {r['passages']:,} passages: copy (the live "
                      f"index keeps serving) {u['copy_seconds']:.2f} s, remove 10 rows + add 10 "
                      f"{u['remove_add_10_seconds'] * 1000:.1f} ms, rows aligned afterwards: {u['aligned']}. "
                      f"Building it from scratch (train + add, unpaused): {r['ivf']['build_seconds_unpaused']:.0f} s; "
                      f"bm25s has no incremental update and is rebuilt on every change "
                      f"({r['bm25']['build_seconds_unpaused']:.0f} s here, unpaused).", ""]
    lines += [f"Raw figures: `{Path(res.get('plot', 'scale.png')).with_suffix('.json').name}`.", "",
              "BM25 updated in place (segments), tantivy, IVF-SQ8 with exact re-scoring (the defaults since) and "
              "hybrid at 1M, on synthetic data: `scale_lexical.md` (`scripts/scale_lexical.py`).", ""]
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("step", choices=["build", "time", "report"],
                    help="build: passages and indexes (unpaused); time: the timings (paused); report: re-render")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="passage counts (default: %(default)s)")
    ap.add_argument("--data-dir", default=None, metavar="DIR", help="shared datasets (default: ../shared/data)")
    ap.add_argument("--cache", default=None, metavar="DIR",
                    help=f"vectors and indexes (default: $QA_BENCH_CACHE or {L.DEFAULT_CACHE})")
    ap.add_argument("--out", default="reports/scale.md", metavar="MD", help="report (default: %(default)s)")
    ap.add_argument("--real-sources", default=None, metavar="NAMES",
                    help="build: only these real collections (comma-separated, e.g. squad_v1.1,squad_train: "
                    "those bench-large embeds); default every context in ../shared/data")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    data_dir = Path(args.data_dir) if args.data_dir else SD.default_data_dir()
    cache = Path(args.cache or os.environ.get("QA_BENCH_CACHE") or L.DEFAULT_CACHE)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.step == "build":
        step_build(data_dir, cache, sizes, tuple(args.real_sources.split(",")) if args.real_sources else None)
    elif args.step == "time":
        step_time(data_dir, cache, sizes, Path(args.out))
    else:
        out = Path(args.out)
        res = json.loads(out.with_suffix(".json").read_text())
        R.atomic_write_text(out, render(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
