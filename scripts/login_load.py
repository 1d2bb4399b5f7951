#!/usr/bin/env python
"""Does guessing passwords slow the page for everyone? Idle page time vs. during 60 parallel wrong logins.

    python scripts/login_load.py [--parallel 60] [--idle-requests 20] [--out reports/security_login_load.md]

Starts small Gradio apps in this process, on free 127.0.0.1 ports only, each with a real users file
(scrypt n=2**14, as ``qa users add`` writes it), and for each measures the time to fetch the page
("/", the login page) while idle and while ``--parallel`` wrong logins are answered:

- ``before``: Gradio's own login route calling the password check directly, as app.py did before
  issue 22 (the scrypt check runs on the event loop);
- ``guard, throttle off``: the serving guard (qa/security) with the throttle's limits raised out of
  reach, so every login really runs scrypt, in worker threads;
- ``guard as shipped``: the same with the default throttle (5 free attempts per name, 20 per
  address), so most of the parallel guesses are refused at once.

Bounded: loopback only, at most 200 logins per case, every request has a 60 s timeout. Prints a
Markdown table (median / p95 / max page time, the logins' wall time and outcomes, the CPU) and
writes it to ``--out`` when given. Timings depend on what else the machine runs: say so with them.
"""
from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from machine import cpu_name  # noqa: E402  (scripts/machine.py)
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
PASSWORD = "the right password"


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def page_times(port: int, n: int) -> list[float]:
    return [request(port, "GET", "/")[1] for _ in range(n)]


def wrong_logins(port: int, parallel: int, names: int) -> tuple[list[float], dict[int, int], float]:
    """(page times sampled meanwhile, login status counts, wall seconds of the logins)."""
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start = threading.Barrier(parallel + 1)

    def login(i: int) -> None:
        body = urlencode({"username": f"user{i % names}", "password": f"guess {i}"}).encode()
        start.wait()
        try:
            status, _ = request(port, "POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
        except OSError:
            status = -1
        with lock:
            statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=login, args=(i,), daemon=True) for i in range(parallel)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    samples: list[float] = []
    while any(t.is_alive() for t in threads) and time.perf_counter() - began < 300:
        samples.append(request(port, "GET", "/")[1])
        time.sleep(0.02)
    for t in threads:
        t.join(timeout=60)
    return samples, statuses, time.perf_counter() - began


def serve(case: str, users_path: Path) -> tuple[object, int]:
    import gradio as gr

    from qa.auth import Users
    from qa.security.guard import Guard
    from qa.security.hosts import ServedNames
    from qa.security.sessions import LiveUsers
    from qa.security.throttle import LoginThrottle

    with gr.Blocks(analytics_enabled=False) as demo:
        box, out = gr.Textbox(), gr.Textbox()
        box.submit(lambda x: x, box, out, api_name="echo")
    if case == "before":
        users = Users.load(users_path)
        kwargs = {"auth": users.check}
    else:
        throttle = LoginThrottle(free_per_name=10 ** 6, free_per_address=10 ** 6) if case == "off" else LoginThrottle()
        guard = Guard(names=ServedNames.for_server("127.0.0.1"), users=LiveUsers(users_path), throttle=throttle)
        kwargs = {"auth": guard.gradio_auth, "app_kwargs": {"middleware": [guard.middleware()]}}
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=None, prevent_thread_lock=True, quiet=True,
                            inbrowser=False, share=False, **kwargs)
    return demo, int(url.rstrip("/").rsplit(":", 1)[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, default=60, help="wrong logins sent at once (default: %(default)s)")
    parser.add_argument("--names", type=int, default=1,
                        help="distinct user names they guess (default: %(default)s, one user attacked)")
    parser.add_argument("--idle-requests", type=int, default=20, help="page fetches when idle (default: %(default)s)")
    parser.add_argument("--cases", default="before,off,shipped", help="which servers (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown report here")
    args = parser.parse_args(argv)
    if not 1 <= args.parallel <= 200 or not 1 <= args.names <= args.parallel or not 1 <= args.idle_requests <= 200:
        parser.error("--parallel must be 1-200, --names 1..parallel, --idle-requests 1-200")
    from qa.auth import Users

    labels = {"before": "before (check on the event loop)", "off": "guard, throttle off (every check runs)",
              "shipped": "guard as shipped (throttled)"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GRADIO_TEMP_DIR"] = tmp
        users_path = Path(tmp) / "users.json"
        users = Users({})
        for i in range(args.names):
            users = users.with_user(f"user{i}", PASSWORD)
        users.save(users_path)
        for case in [c.strip() for c in args.cases.split(",") if c.strip()]:
            if case not in labels:
                parser.error(f"unknown case {case!r}: choose from {', '.join(labels)}")
            demo, port = serve(case, users_path)
            try:
                page_times(port, 3)  # warm
                idle = page_times(port, args.idle_requests)
                busy, statuses, wall = wrong_logins(port, args.parallel, args.names)
            finally:
                demo.close()
            idle_median, busy_median = statistics.median(idle), statistics.median(busy or [float("nan")])
            busy_sorted = sorted(busy)
            p95 = busy_sorted[min(len(busy_sorted) - 1, int(0.95 * len(busy_sorted)))] if busy_sorted else float("nan")
            rows.append((labels[case], idle_median, busy_median, p95, max(busy or [float("nan")]),
                         busy_median / idle_median, len(busy), wall, statuses))
            print(f"{case}: idle {idle_median * 1000:.1f} ms, during logins median {busy_median * 1000:.1f} ms "
                  f"(x{busy_median / idle_median:.1f}), statuses {statuses}", file=sys.stderr, flush=True)
    lines = [f"{args.parallel} parallel wrong logins for {args.names} user name(s) from one address; page = GET / "
             f"(the login page) on 127.0.0.1. CPU: {cpu_name()} ({os.cpu_count()} cores). "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", "",
             "| server | page idle, median | page during logins, median | p95 | max | median vs idle | page samples "
             "| logins' wall time | login answers |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, idle_m, busy_m, p95, mx, ratio, n, wall, statuses in rows:
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
        lines.append(f"| {label} | {idle_m * 1000:.1f} ms | {busy_m * 1000:.1f} ms | {p95 * 1000:.1f} ms | "
                     f"{mx * 1000:.1f} ms | {ratio:.1f}x | {n} | {wall:.1f} s | {answers} |")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
