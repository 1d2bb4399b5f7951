#!/usr/bin/env python
"""Indexing time of this checkout against an earlier commit, in one run, on the same corpora.

Each side (``--before REF``, exported with ``git archive`` into a temporary folder, and this
checkout) indexes each corpus into a fresh index folder in its own Python process; the sides
alternate, ``--repeats`` times, so that the machine's load falls on both alike. Timed: reading the
corpus folder (extraction) and building the index (chunking, embedding with the shipped encoder,
FAISS + bm25s), not loading the encoder. Prints the medians and the ratio now / before.

    python scripts/index_time.py --before main
    python scripts/index_time.py --before HEAD~3 --repeats 5 --corpus seeds --corpus tests/fixtures/provenance/pages
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPORA = ["seeds", "tests/fixtures/news/pages", "tests/fixtures/provenance/pages"]

# Run inside each side's process: the side's own qa package is first on sys.path.
_TIMED = r"""
import json, sys, tempfile, time
from qa.config import QAConfig
from qa.embed import MiniLMEncoder
from qa.backends import make_backend
from qa.load import load_corpus
corpus = sys.argv[1]
config = QAConfig()
encoder = MiniLMEncoder(config.encode_batch_size)
encoder.warm_up()
with tempfile.TemporaryDirectory() as index_dir:
    t0 = time.perf_counter()
    documents, _ = load_corpus(corpus, progress=False)
    t1 = time.perf_counter()
    make_backend("faiss", index_dir).update(documents, encoder, config, progress=False)
    t2 = time.perf_counter()
print(json.dumps({"read": t1 - t0, "index": t2 - t1, "total": t2 - t0, "documents": len(documents)}))
"""


def export(ref: str, dest: Path) -> None:
    """The tree of ``ref`` in ``dest`` (``git archive``), without touching this checkout."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "qa"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def timed(side: Path, corpus: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(side), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", _TIMED, str(corpus)], env=env, check=True, capture_output=True,
                         text=True, cwd=side).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main", metavar="REF", help="commit to compare with (default: main)")
    parser.add_argument("--corpus", action="append", metavar="FOLDER",
                        help=f"corpus folder, repeatable (default: {', '.join(DEFAULT_CORPORA)})")
    parser.add_argument("--repeats", type=int, default=3, help="runs per side and corpus (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    corpora = list(dict.fromkeys((ROOT / c).resolve() for c in (args.corpus or DEFAULT_CORPORA)))
    missing = [str(c) for c in corpora if not c.is_dir()]
    if missing:
        parser.error(f"not a folder: {', '.join(missing)}")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp)
        try:
            export(args.before, before)
        except subprocess.CalledProcessError as exc:
            print(f"error: cannot export {args.before!r}: {exc.stderr.decode(errors='replace').strip()}; "
                  "name a commit, branch or tag of this repository", file=sys.stderr)
            return 2
        sides = {f"before ({args.before})": before, "now": ROOT}
        results = {str(c.relative_to(ROOT)) if c.is_relative_to(ROOT) else str(c): {s: [] for s in sides}
                   for c in corpora}
        for _ in range(args.repeats):
            for corpus, key in zip(corpora, results):
                for name, side in sides.items():
                    results[key][name].append(timed(side, corpus))
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU") if Path("/proc/cpuinfo").exists() else "unknown CPU"
    print(f"{os.cpu_count()} cores ({cpu}); 1-min load average {load:.2f} at start; median of {args.repeats}")
    for corpus, by_side in results.items():
        med = {s: {k: statistics.median(r[k] for r in runs) for k in ("read", "total")} for s, runs in by_side.items()}
        (b_name, b), (n_name, n) = med.items()
        docs = by_side["now"][0]["documents"]
        print(f"{corpus} ({docs} articles): read+index {b['total']:.2f} s {b_name} vs {n['total']:.2f} s now "
              f"({100 * (n['total'] / b['total'] - 1):+.1f}%); reading the folder {b['read']:.2f} vs {n['read']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
