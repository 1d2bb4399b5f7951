#!/usr/bin/env python
"""The large open benchmark: all 20,963 SQuAD v1.1 paragraphs (train + dev) as one corpus.

Step ``embed`` (unpaused, at nice; once): writes the corpora as .txt files and embeds every chunk
into the vector cache (outside the repo, keyed by a hash of the text), plus every other real
paragraph in ../shared/data for scripts/scale.py.
"""
from __future__ import annotations

import argparse
import os
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


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=["embed"], help="embed: fill the vector cache (once, unpaused, at nice)")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
