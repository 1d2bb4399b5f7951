"""What ``qa evaluate`` and ``scripts/bench.py`` share for their reports: atomic writes, the
machine description every figure is stamped with, Markdown tables and the PNG plots."""
from __future__ import annotations

import json
import os
import platform
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

# --- files -------------------------------------------------------------------------------------

from ..fsutil import atomic_write_bytes, atomic_write_text  # noqa: E402  (re-exported for the reports)


def atomic_write_json(path: str | Path, obj) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def save_figure(fig, path: str | Path) -> Path:
    """Save a matplotlib figure as PNG atomically and close it."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


# --- where and when ----------------------------------------------------------------------------


def cpu_model() -> str:
    """The ``model name`` line of /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except ImportError:
        return None


def machine_info() -> dict:
    """Date, cores, CPU model and library versions: the context a timing needs to be read."""
    import torch

    return {
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "cpu_model": cpu_model(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": _version("onnxruntime"),  # the span reader's default engine
        "platform": platform.platform(terse=True),
        # Timings only mean something on an idle machine: record how busy it was.
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def machine_line(info: Mapping) -> str:
    return (f"{info['date_utc']} on {info['cores']} cores ({info['cpu_model']}), "
            f"torch {info['torch']} with {info['torch_threads']} threads, onnxruntime {info.get('onnxruntime')}, "
            f"Python {info['python']}; "
            f"1-min load average {info.get('load_average_1m')} at start")


def span_reader_note(weights_dir=None, reader_name: str | None = None) -> str:
    """Which span reader weights were measured (default: the shipped ``span`` reader's), what
    they were trained on, and the answer ranker ``reader_name`` uses with them."""
    try:
        from qa.reader.model import read_meta

        meta = read_meta(weights_dir)
    except (OSError, ValueError):
        return "no span reader weights shipped"
    training = meta.get("training", {})
    stages = [*training.get("earlier_stages", []), training]
    minutes = sum(float(s.get("train_minutes") or 0) for s in stages)
    from qa.rank import ranker_entry

    ranker = ranker_entry(meta, reader_name)
    threshold = (f"answers scored by the answer ranker (reader score + retrieval ranks, qa/rank.py; fitted on the "
                 f"tuning split), abstention threshold {ranker['min_score']:.3f} on its probability"
                 if ranker else f"abstention threshold {meta.get('min_score', float('nan')):.3f}")
    layers = f"{meta['num_layers']} layers, " if meta.get("num_layers") else ""
    return (f"{layers}weights exported {meta.get('exported', '?')} (checkpoint step {meta.get('checkpoint_step', '?')} of "
            f"training stage {len(stages)}, {minutes:.0f} min of training in all), {threshold}; trained on: "
            f"{'; '.join(meta.get('data', {}).get('training_data', [])) or '?'}")


# --- Markdown ----------------------------------------------------------------------------------


def fmt(value, digits: int = 1) -> str:
    """Numbers for tables: floats to ``digits`` places, None as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def md_table(header: Sequence[str], rows: Sequence[Sequence], digits: int = 1) -> str:
    """A GitHub Markdown table; columns holding only numbers are right-aligned, others left."""
    def numeric(v) -> bool:
        return v is None or isinstance(v, (int, float)) or bool(re.fullmatch(r"-?[\d.,]+", str(v)))

    align = [":---" if j == 0 or not all(numeric(r[j]) for r in rows) else "---:" for j in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(fmt(v, digits) for v in row) + " |")
    return "\n".join(lines)


def text_table(header: Sequence[str], rows: Sequence[Sequence], digits: int = 1) -> str:
    """Plain fixed-width table for the terminal."""
    cells = [list(header)] + [[fmt(v, digits) for v in row] for row in rows]
    widths = [max(len(row[j]) for row in cells) for j in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths)))
                     for row in cells)


# --- plots -------------------------------------------------------------------------------------


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    return plt


def plot_recall(recall: Mapping[str, Mapping[int, float]], path: str | Path, title: str) -> Path:
    """Grouped bars: recall@k (percent) for each retriever side by side."""
    plt = _pyplot()
    modes = list(recall)
    ks = sorted({k for m in modes for k in recall[m]})
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    width = 0.8 / max(1, len(modes))
    for i, mode in enumerate(modes):
        xs = [j + (i - (len(modes) - 1) / 2) * width for j in range(len(ks))]
        values = [100 * recall[mode][k] for k in ks]
        bars = ax.bar(xs, values, width, label=mode)
        ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ax.set_xticks(range(len(ks)), [f"@{k}" for k in ks])
    ax.set_ylim(0, 105)
    ax.set_ylabel("recall (%)")
    ax.set_title(title)
    ax.legend(loc="lower right")
    return save_figure(fig, path)


def plot_bars(values: Mapping[str, float], counts: Mapping[str, int], path: str | Path, title: str,
              ylabel: str) -> Path:
    """One bar per group, labelled with its question count (small groups are noisy)."""
    plt = _pyplot()
    names = list(values)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    bars = ax.bar(names, [values[n] for n in names], color="#4c72b0")
    ax.bar_label(bars, labels=[f"{values[n]:.0f}\nn={counts[n]}" for n in names], fontsize=7)
    ax.set_ylim(0, 115)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=30)
    return save_figure(fig, path)


def plot_scores(answerable: Sequence[float], unanswerable: Sequence[float], threshold: float,
                path: str | Path, title: str) -> Path:
    """Overlaid histograms of the top answer's score, with the abstention threshold marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    bins = [i / 20 for i in range(21)]
    ax.hist(answerable, bins=bins, alpha=0.6, label=f"answerable (n={len(answerable)})")
    ax.hist(unanswerable, bins=bins, alpha=0.6, label=f"unanswerable (n={len(unanswerable)})")
    ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.2f}")
    ax.set_xlabel("top answer score, before abstention")
    ax.set_ylabel("questions")
    ax.set_title(title)
    ax.legend()
    return save_figure(fig, path)


def plot_latency(stages: Mapping[str, Sequence[float]], path: str | Path, title: str) -> Path:
    """Histograms of per-question latency (milliseconds), one per stage, on shared log-spaced
    bins: stages differ by orders of magnitude (search ~1 ms, read ~100 ms)."""
    import numpy as np

    plt = _pyplot()
    ms = {name: np.maximum(1000 * np.asarray(seconds, dtype=float), 0.01) for name, seconds in stages.items()}
    top = max((float(v.max()) for v in ms.values() if len(v)), default=1.0)
    bins = np.logspace(-2, np.log10(max(top, 0.1)) + 0.05, 40)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    for name, values in ms.items():
        ax.hist(values, bins=bins, alpha=0.55, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds per question (log scale)")
    ax.set_ylabel("questions")
    ax.set_title(title)
    ax.legend()
    return save_figure(fig, path)
