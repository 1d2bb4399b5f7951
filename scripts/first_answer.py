"""Time from `make run` to the first answer in the chat, with the index already built.

    .venv/bin/python scripts/first_answer.py [--runs 3] [--port 7871]

Starts `make run PORT=...` (the README's command), polls the page until Gradio answers, asks one
seed question through the app's API (gradio_client) and records the wall time from process start
to the answer. Stops the app afterwards. Loopback only.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "How many missiles did Iran fire?"


def one_run(port: int, timeout: float) -> float:
    from gradio_client import Client

    started = time.perf_counter()
    proc = subprocess.Popen(["make", "-s", "run", f"PORT={port}"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"`make run` exited with {proc.returncode}")
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"no answer within {timeout:.0f} s")
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
                break
            except Exception:
                time.sleep(0.2)
        reply = client.predict(QUESTION, [], api_name="/ask")
        elapsed = time.perf_counter() - started
        if "22" not in str(reply):
            raise RuntimeError(f"unexpected reply: {str(reply)[:200]}")
        return elapsed
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=7871)
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args(argv)
    subprocess.run(["make", "-s", "index"], cwd=ROOT, check=True)  # "with a built index"
    times = [one_run(args.port, args.timeout) for _ in range(args.runs)]
    print(f"first answer after `make run` (index built): median {statistics.median(times):.1f} s, "
          f"runs {', '.join(f'{t:.1f}' for t in times)} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
