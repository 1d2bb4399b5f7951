#!/usr/bin/env python
"""Sentence splitting and chunking time against article length, 25 kB to 5 MB (issue 22).

The text at each size is the seed articles (seeds/*.txt) one after another, repeated and cut to
the size: real news prose with its abbreviations, quotes and numbers. For each size it times
``qa.chunk.split_sentences`` and ``qa.chunk.chunk_document`` (best of ``--repeat`` runs) and, up to
``--old-up-to-kb``, the splitter as it was before issue 22 (kept in tests/test_chunk_linear.py as
the reference the new one must match). It fits time = a * size and the exponent of a power law
(1 = linear, 2 = quadratic) and writes reports/chunking.md, .json and .png.

    python scripts/bench_chunking.py                       # ~1 minute on a quiet 2-core machine
    python scripts/bench_chunking.py --old-up-to-kb 0      # new splitter only
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.chunk import chunk_document, split_sentences  # noqa: E402
from qa.fsutil import atomic_write_bytes, atomic_write_text  # noqa: E402
from qa.types import Document  # noqa: E402
from machine import cpu_name  # noqa: E402  (scripts/machine.py)

SIZES_KB = (25, 50, 100, 200, 400, 800, 1600, 3200, 5000)
TARGET_S = 10.0  # issue 22: 5 MB split and chunked in <= 10 s


def news_text(chars: int) -> str:
    base = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt")))
    return (base * (chars // len(base) + 1))[:chars]


def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def power_exponent(sizes: list[float], times: list[float]) -> float:
    """Least-squares slope of log(time) on log(size)."""
    import math

    xs, ys = [math.log(s) for s in sizes], [math.log(max(t, 1e-9)) for t in times]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="Writes OUT.md, OUT.json, OUT.png.")
    parser.add_argument("--sizes-kb", type=int, nargs="+", default=list(SIZES_KB), metavar="KB",
                        help="text sizes in kB (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per size; the best is kept (default: %(default)s)")
    parser.add_argument("--old-up-to-kb", type=int, default=100, metavar="KB",
                        help="also time the old (quadratic) splitter up to this size; 0 = never (default: %(default)s)")
    parser.add_argument("--out", default=str(ROOT / "reports" / "chunking"), metavar="PATH",
                        help="report path without extension (default: reports/chunking)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or not args.sizes_kb or min(args.sizes_kb) < 1:
        parser.error("--repeat and every size must be at least 1")

    old = None
    if args.old_up_to_kb > 0:
        sys.path.insert(0, str(ROOT))
        from tests.test_chunk_linear import old_split_sentences as old

    load_start = os.getloadavg()[0]
    rows = []
    for kb in sorted(args.sizes_kb):
        text = news_text(kb * 1000)
        doc = Document("bench", "bench", "bench.txt", text, "")
        split_s = best_of(lambda: split_sentences(text), args.repeat)
        chunk_s = best_of(lambda: chunk_document(doc), args.repeat)
        row = {"kb": kb, "split_s": round(split_s, 4), "chunk_s": round(chunk_s, 4),
               "sentences": len(split_sentences(text)), "chunks": len(chunk_document(doc))}
        if old is not None and kb <= args.old_up_to_kb:
            row["old_split_s"] = round(best_of(lambda: old(text), 1), 4)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    load_end = os.getloadavg()[0]

    sizes = [r["kb"] for r in rows]
    exponent = power_exponent(sizes, [r["chunk_s"] for r in rows]) if len(rows) > 1 else float("nan")
    per_mb = rows[-1]["chunk_s"] / (rows[-1]["kb"] / 1000)
    old_rows = [r for r in rows if "old_split_s" in r]
    old_exponent = (power_exponent([r["kb"] for r in old_rows], [r["old_split_s"] for r in old_rows])
                    if len(old_rows) > 1 else None)
    largest = rows[-1]
    result = {"cpu": cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(),
              "load_average_1m": [round(load_start, 2), round(load_end, 2)], "rows": rows,
              "chunk_exponent": round(exponent, 3), "chunk_s_per_mb_at_largest": round(per_mb, 3),
              "old_split_exponent": None if old_exponent is None else round(old_exponent, 3),
              "target": f"{TARGET_S:g} s for 5 MB", "meets_target": largest["kb"] >= 5000 and largest["chunk_s"] <= TARGET_S}
    out = Path(args.out)
    atomic_write_text(out.with_suffix(".json"), json.dumps(result, indent=1) + "\n")
    _plot(rows, out.with_suffix(".png"))
    atomic_write_text(out.with_suffix(".md"), _markdown(result, out.with_suffix(".png").name))
    print(f"wrote {out.with_suffix('.md')}: 5 MB chunked in {largest['chunk_s']:.2f} s, exponent {exponent:.2f}")
    return 0


def _plot(rows: list[dict], path: Path) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    mb = [r["kb"] / 1000 for r in rows]
    ax.plot(mb, [r["split_s"] for r in rows], "o-", label="split_sentences (now)")
    ax.plot(mb, [r["chunk_s"] for r in rows], "s-", label="chunk_document (now)")
    old = [r for r in rows if "old_split_s" in r]
    if old:
        ax.plot([r["kb"] / 1000 for r in old], [r["old_split_s"] for r in old], "x--", color="tab:red",
                label="split_sentences before issue 22")
    ax.axhline(TARGET_S, color="grey", lw=0.8, ls=":", label=f"target: 5 MB in {TARGET_S:g} s")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("article text (MB)")
    ax.set_ylabel("seconds (best of runs)")
    ax.set_title("Sentence splitting and chunking time vs length")
    ax.grid(True, which="both", lw=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def _markdown(result: dict, png: str) -> str:
    lines = ["# Sentence splitting and chunking vs article length", "",
             "Written by `scripts/bench_chunking.py` (re-run it to refresh). Text: the seed articles repeated "
             "and cut to each size. Times are the best of the runs at each size.", "",
             f"- CPU: {result['cpu']} ({result['cores']} cores), Python {result['python']}",
             f"- 1-minute load average at start / end: {result['load_average_1m'][0]} / "
             f"{result['load_average_1m'][1]}"
             + (" (**the machine was busy**: other jobs shared the cores, so times are high and noisy)"
                if max(result["load_average_1m"]) > 1.5 else ""),
             f"- Power-law exponent of chunking time vs size: **{result['chunk_exponent']}** (1 = linear, 2 = quadratic)"
             + (f"; the old splitter's: {result['old_split_exponent']}" if result["old_split_exponent"] else ""),
             f"- Target {result['target']}: **{'met' if result['meets_target'] else 'NOT met'}**", "",
             f"![time vs size]({png})", "",
             "| size | sentences | chunks | split_sentences (s) | chunk_document (s) | old split (s) |",
             "|---:|---:|---:|---:|---:|---:|"]
    for r in result["rows"]:
        old = f"{r['old_split_s']:.3f}" if "old_split_s" in r else "—"
        lines.append(f"| {r['kb']:,} kB | {r['sentences']:,} | {r['chunks']:,} | {r['split_s']:.3f} | "
                     f"{r['chunk_s']:.3f} | {old} |")
    lines += ["", "chunk_document includes split_sentences. A file is refused before chunking when its text passes "
              "5,000,000 characters or 200,000 sentence ends (`qa.chunk.too_big_to_index`).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
