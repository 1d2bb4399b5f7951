#!/usr/bin/env python
"""Load test of the running web chat: N concurrent clients ask seed questions for S seconds.

    python scripts/load_test.py --url http://127.0.0.1:7860 --clients 20 --seconds 60 [--out reports/load.md]

Each client is a thread with its own gradio_client connection, asking through the same /ask
endpoint the page uses, one question at a time, back to back. A request counts as an error when it
raises, times out, or the reply is not an answer / "not found" message. Writes a Markdown report
(requests, errors, throughput, p50/p95/max latency, date, machine) and exits 1 if any request failed.

Bounded on purpose: loopback URLs only, at most 64 clients and 600 seconds, and every request has a
timeout, so the run always ends by itself shortly after --seconds.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
SEED_QUESTIONS = ROOT / "qa" / "eval" / "seed_questions.jsonl"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_CLIENTS, MAX_SECONDS = 64, 600


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)

    def fail(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


def load_questions() -> list[str]:
    rows = [json.loads(line) for line in SEED_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows]


def reply_text(history) -> str:
    content = history[-1].get("content") if history else ""
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def client_loop(client, questions: list[str], stop_at: float, timeout: float,
                results: Results, seed: int) -> None:
    rng = random.Random(seed)  # each client its own order, reproducible
    while time.monotonic() < stop_at:
        question = rng.choice(questions)
        t0 = time.monotonic()
        try:
            history, _ = client.submit(question, [], api_name="/ask").result(timeout=timeout)
            text = reply_text(history)
            if "qa-error" in text or not ("qa-answer" in text or "qa-none" in text):
                raise RuntimeError(f"unexpected reply {text[:120]!r}")
        except Exception as exc:  # counted, never fatal: the point is to count them
            results.fail(f"{type(exc).__name__}: {str(exc)[:200]} (question {question[:60]!r})")
        else:
            results.ok(time.monotonic() - t0)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def run(url: str, clients: int, seconds: float, timeout: float) -> dict:
    from gradio_client import Client

    questions = load_questions()
    # Connect everyone first so the timed window measures questions, not connection set-up.
    connections = [Client(url, verbose=False, download_files=False) for _ in range(clients)]
    results = Results()
    start = time.monotonic()
    stop_at = start + seconds
    threads = [threading.Thread(target=client_loop, name=f"client-{i}", daemon=True,
                                args=(c, questions, stop_at, timeout, results, i))
               for i, c in enumerate(connections)]
    for t in threads:
        t.start()
    for t in threads:  # a request started just before the deadline may run up to `timeout` more
        t.join(timeout=max(0.0, stop_at - time.monotonic()) + timeout + 5)
    elapsed = time.monotonic() - start
    for c in connections:
        try:
            c.close()
        except Exception:
            pass
    lat = results.latencies
    return {
        "url": url, "clients": clients, "seconds": seconds, "elapsed": elapsed,
        "requests": len(lat) + len(results.errors), "ok": len(lat), "errors": len(results.errors),
        "error_samples": results.errors[:5],
        "throughput": len(lat) / elapsed if elapsed else 0.0,
        "p50": percentile(lat, 50), "p95": percentile(lat, 95), "max": max(lat, default=0.0),
        "mean": sum(lat) / len(lat) if lat else 0.0,
        "still_running": sum(t.is_alive() for t in threads),
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, " \
           f"Python {platform.python_version()}"


def report(stats: dict, note: str = "") -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Chat load test",
        "",
        f"{stats['clients']} concurrent clients (gradio_client, one thread each) asked seed questions "
        f"back to back for {stats['seconds']:.0f} s through the app's `/ask` endpoint at {stats['url']}.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| requests | {stats['requests']} |",
        f"| errors | {stats['errors']} |",
        f"| throughput | {stats['throughput']:.2f} answers/s |",
        f"| latency p50 | {stats['p50']:.2f} s |",
        f"| latency p95 | {stats['p95']:.2f} s |",
        f"| latency max | {stats['max']:.2f} s |",
        f"| latency mean | {stats['mean']:.2f} s |",
        f"| wall time | {stats['elapsed']:.1f} s |",
        "",
        f"- date: {when}",
        f"- machine: {machine()}",
        "- command: `python scripts/load_test.py "
        f"--url {stats['url']} --clients {stats['clients']} --seconds {stats['seconds']:.0f}`",
    ]
    if note:
        lines.append(f"- note: {note}")
    lines.append("")
    lines.append("Latency is per question as a client sees it (queueing included): the app answers at most "
                 "two questions at a time and the models take one forward pass at a time, so with many "
                 "clients most of the latency is waiting in the queue.")
    if stats["error_samples"]:
        lines += ["", "First errors:", ""] + [f"- {e}" for e in stats["error_samples"]]
    return "\n".join(lines) + "\n"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python scripts/load_test.py", description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860", help="the running app (loopback only; default: %(default)s)")
    parser.add_argument("--clients", type=int, default=20, help=f"concurrent clients, 1-{MAX_CLIENTS} (default: %(default)s)")
    parser.add_argument("--seconds", type=float, default=60, help=f"how long to ask, 1-{MAX_SECONDS} (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=120, help="per-request timeout in seconds (default: %(default)s)")
    parser.add_argument("--out", default=str(ROOT / "reports" / "load.md"), help="Markdown report (default: reports/load.md)")
    parser.add_argument("--note", default="", help="a line to add to the report (e.g. which reader the app runs)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    host = urlparse(args.url).hostname or ""
    if host not in LOOPBACK:
        parser.error(f"--url must point at this machine (127.0.0.1/localhost), not {host!r}")
    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be between 1 and {MAX_CLIENTS}")
    if not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be between 1 and {MAX_SECONDS}")
    stats = run(args.url, args.clients, args.seconds, args.timeout)
    text = report(stats, args.note)
    write_atomic(Path(args.out), text)
    print(text)
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if stats["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
