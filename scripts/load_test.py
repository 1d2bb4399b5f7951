#!/usr/bin/env python
"""Load test of the web chat: N concurrent clients ask seed questions for S seconds.

    python scripts/load_test.py --url http://127.0.0.1:7860 --clients 20 --seconds 60 [--user NAME]
    python scripts/load_test.py --serve [--before] --clients 20 --seconds 60 [--out reports/load.md]

Each client is a thread with its own gradio_client connection (logged in when the server has users:
``--user``, password in ``$QA_LOAD_PASSWORD``), asking through the same /ask endpoint the page uses,
one question at a time, back to back. A request counts as an error when it raises, times out, or
the reply is not an answer / "not found" message ("busy, try again" counts as an error too).

``--serve`` starts the app itself (``python app.py`` on a temporary copy of seeds/, a temporary
index, a free loopback port, a load-test user with a random password) and stops it afterwards;
``--before`` first runs the same test against the app as it answered before questions were batched
and reading became adaptive (``BEFORE_ARGS``: one question at a time, every passage read in fp32),
so the report has today's path and the new one side by side from the same run.

Writes a Markdown report (requests, errors, throughput, p50/p95/max latency, date, machine) and
exits 1 if any request failed. Bounded on purpose: loopback URLs only, at most 64 clients and 600
seconds, and every request has a timeout, so the run always ends by itself shortly after --seconds.
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


def run(url: str, clients: int, seconds: float, timeout: float, login: tuple[str, str] | None = None) -> dict:
    from gradio_client import Client

    questions = load_questions()
    # Connect (and log in) everyone first so the timed window measures questions, not set-up.
    connections = [Client(url, verbose=False, download_files=False, auth=login) for _ in range(clients)]
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


def report(runs: list[tuple[str, dict]], note: str = "", command: str = "") -> str:
    """Markdown: one column per (label, stats) run, measured one after the other in this run."""
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    first = runs[0][1]
    rows = [("requests", "requests", "{}"), ("errors", "errors", "{}"), ("answers/s", "throughput", "{:.2f}"),
            ("latency p50 (s)", "p50", "{:.2f}"), ("latency p95 (s)", "p95", "{:.2f}"),
            ("latency max (s)", "max", "{:.2f}"), ("latency mean (s)", "mean", "{:.2f}"),
            ("wall time (s)", "elapsed", "{:.1f}")]
    lines = [
        "# Chat load test",
        "",
        f"{first['clients']} concurrent clients (gradio_client, one thread each"
        + (", logged in" if first.get("logged_in") else "") + ") asked seed questions back to back for "
        f"{first['seconds']:.0f} s through the app's `/ask` endpoint" + (
            "; the runs below one after the other in one invocation." if len(runs) > 1 else f" at {first['url']}."),
        "",
        "| measure | " + " | ".join(label for label, _ in runs) + " |",
        "|---|" + "---:|" * len(runs),
    ]
    lines += [f"| {name} | " + " | ".join(fmt.format(stats[key]) for _, stats in runs) + " |"
              for name, key, fmt in rows]
    lines += ["", f"- date: {when}", f"- machine: {machine()}",
              f"- command: `{command or 'python scripts/load_test.py --url ' + first['url']}`"]
    for label, stats in runs:
        if stats.get("app_args") is not None:
            env = " ".join(f"{k}={v}" for k, v in (stats.get("app_env") or {}).items())
            lines.append(f"- {label}: `{env + ' ' if env else ''}python app.py {' '.join(stats['app_args'])}`")
    if note:
        lines.append(f"- note: {note}")
    lines += ["", "Latency is per question as a client sees it, queueing included; the clients run on the same "
              "machine as the server. The batching server (qa/batching.py) gathers the questions that arrive "
              "together and answers them in one batch; one question at a time, most of the latency is waiting."]
    for label, stats in runs:
        if stats["error_samples"]:
            lines += ["", f"First errors ({label}):", ""] + [f"- {e}" for e in stats["error_samples"]]
    return "\n".join(lines) + "\n"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# The chat as it answered before batching and adaptive reading: one question at a time, every
# retrieved passage read by the fp32 reader, the question embedded by sentence-transformers (torch).
BEFORE_ARGS = ["--batch-size", "1", "--read-all", "--reader", "span"]
BEFORE_ENV = {"QA_ENCODER_ENGINE": "torch"}


class ServedApp:
    """``python app.py`` on a temporary copy of seeds/, a free loopback port and a load-test user."""

    def __init__(self, workdir: Path, app_args: list[str], env: dict | None = None):
        import secrets
        import shutil
        import socket

        self.workdir = workdir
        shutil.copytree(ROOT / "seeds", workdir / "corpus")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        sys.path.insert(0, str(ROOT))
        from qa.auth import Users

        self.login = ("load-test", secrets.token_urlsafe(16))
        Users({}).with_user(*self.login).save(workdir / "users.json")
        self.app_args = list(app_args)
        self.extra_env = dict(env or {})
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def __enter__(self) -> "ServedApp":
        import subprocess
        import urllib.error
        import urllib.request

        cmd = [sys.executable, str(ROOT / "app.py"), "--corpus", str(self.workdir / "corpus"),
               "--index-dir", str(self.workdir / "index"), "--port", str(self.port),
               "--users", str(self.workdir / "users.json"), *self.app_args]
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
               "GRADIO_TEMP_DIR": str(self.workdir / "gradio-tmp"), **self.extra_env}
        self.log = open(self.workdir / "app.log", "wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited ({self.proc.returncode}); see {self.workdir / 'app.log'}")
            try:
                urllib.request.urlopen(self.url + "/config", timeout=5)
                return self
            except urllib.error.HTTPError as exc:
                if exc.code == 401:  # up, behind the login
                    return self
            except OSError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"the app did not serve within 300 s; see {self.workdir / 'app.log'}")

    def __exit__(self, *exc) -> None:
        import signal
        import subprocess

        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: the app and its children only
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)
        self.log.close()


def serve_and_run(app_args: list[str], args, env: dict | None = None) -> dict:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="qa-load-") as tmp, ServedApp(Path(tmp), app_args, env) as app:
        stats = run(app.url, args.clients, args.seconds, args.timeout, app.login)
    stats["app_args"] = app_args
    stats["app_env"] = env or {}
    stats["logged_in"] = True
    return stats


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python scripts/load_test.py", description=__doc__.splitlines()[0],
                                     epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:7860", help="the running app (loopback only; default: %(default)s)")
    parser.add_argument("--user", default=None, help="log in as this user (password in $QA_LOAD_PASSWORD)")
    parser.add_argument("--serve", action="store_true", help="start the app itself on a copy of seeds/ (ignores --url)")
    parser.add_argument("--app-args", default="", help="extra arguments for the served app, e.g. \"--reader span-fast\"")
    parser.add_argument("--before", action="store_true",
                        help="with --serve: first run the app as it answered before (BEFORE_ARGS), side by side")
    parser.add_argument("--clients", type=int, default=20, help=f"concurrent clients, 1-{MAX_CLIENTS} (default: %(default)s)")
    parser.add_argument("--seconds", type=float, default=60, help=f"how long to ask, 1-{MAX_SECONDS} (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=120, help="per-request timeout in seconds (default: %(default)s)")
    parser.add_argument("--out", default=str(ROOT / "reports" / "load.md"), help="Markdown report (default: reports/load.md)")
    parser.add_argument("--note", default="", help="a line to add to the report (e.g. which reader the app runs)")
    return parser


def main(argv: list[str] | None = None) -> int:
    import shlex

    parser = build_parser()
    args = parser.parse_args(argv)
    host = urlparse(args.url).hostname or ""
    if host not in LOOPBACK:
        parser.error(f"--url must point at this machine (127.0.0.1/localhost), not {host!r}")
    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be between 1 and {MAX_CLIENTS}")
    if not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be between 1 and {MAX_SECONDS}")
    if args.before and not args.serve:
        parser.error("--before needs --serve (the script starts both apps itself)")
    if args.serve:
        runs = []
        if args.before:
            runs.append(("before (one at a time, fp32, every passage)", serve_and_run(BEFORE_ARGS, args, BEFORE_ENV)))
        runs.append(("now (batched, adaptive reading)" if args.before else "app",
                     serve_and_run(shlex.split(args.app_args), args)))
    else:
        login = None
        if args.user:
            password = os.environ.get("QA_LOAD_PASSWORD")
            if not password:
                parser.error("--user needs the password in $QA_LOAD_PASSWORD")
            login = (args.user, password)
        stats = run(args.url, args.clients, args.seconds, args.timeout, login)
        stats["logged_in"] = login is not None
        runs = [("app", stats)]
    command = "python scripts/load_test.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    text = report(runs, args.note, command)
    write_atomic(Path(args.out), text)
    print(text)
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if any(stats["errors"] for _, stats in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
