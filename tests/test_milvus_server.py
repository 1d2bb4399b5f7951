"""The Milvus server path for real: milvus-lite's gRPC server (tests/milvus_server.py) bound to
loopback, and two app processes sharing it through ``--milvus-uri http://127.0.0.1:PORT``.
(The backend contract tests in test_backends.py run against the same server as "milvus-server".)"""
from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .conftest import ARTICLES, ROOT
from .milvus_server import MilvusServerError, server_command

ZEBRA = "Zebras at the zoo\n\nThe zoo bought two zebras named Zig and Zag."


def test_a_missing_server_command_fails_with_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MilvusServerError, match="not installed.*make install"):
        server_command()


def _listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp writes them) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.add(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_the_server_listens_on_loopback_only(milvus_server_uri):
    if os.environ.get("MILVUS_URI"):
        pytest.skip("MILVUS_URI names a server this suite did not start")
    port = int(milvus_server_uri.rsplit(":", 1)[1])
    # 127.0.0.1 (gRPC may bind it as the IPv4-mapped ::ffff:127.0.0.1); nothing on 0.0.0.0 or ::
    addresses = _listening_addresses(port)
    assert addresses and addresses <= {"0100007F", "0000000000000000FFFF00000100007F"}, addresses


class _Chat:
    """A ``qa chat`` process: ``ask(question)`` -> the lines it printed in reply."""

    def __init__(self, args: list[str], env: dict) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "qa", "chat", *args], cwd=ROOT, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, bufsize=1)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def ask(self, question: str, timeout: float = 120.0) -> list[str]:
        # "/new" prints "(new conversation)": the end of this reply (and no follow-up rewriting).
        self.process.stdin.write(f"{question}\n/new\n")
        self.process.stdin.flush()
        deadline, reply = time.monotonic() + timeout, []
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"qa chat did not answer within {timeout:.0f} s; so far: {reply}") from None
            if line is None:
                raise AssertionError(f"qa chat exited ({self.process.poll()}): {reply}\n{self.process.stderr.read()}")
            if line == "(new conversation)":
                return reply
            reply.append(line)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.mark.slow
def test_an_article_indexed_by_one_process_is_found_by_another(milvus_server_uri, tmp_path):
    """Process B (``qa chat``) is running; process A (``qa index``) adds an article to the shared
    server; B's next question finds it without B re-reading the corpus."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in ARTICLES.items():
        (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
    collection = f"qa_two_processes_{os.getpid()}"
    common = ["--corpus", str(corpus), "--backend", "milvus", "--milvus-uri", milvus_server_uri,
              "--milvus-collection", collection]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    chat = _Chat([*common, "--index-dir", str(tmp_path / "index-b"), "--reader", "heuristic", "--min-score", "0",
                  "--top-k", "3"], env)
    try:
        before = chat.ask("What were the two zebras named?")
        assert before and not any("] zebra," in line for line in before), before
        (corpus / "zebra.txt").write_text(ZEBRA, encoding="utf-8")
        indexed = subprocess.run([sys.executable, "-m", "qa", "index", *common, "--index-dir", str(tmp_path / "index-a"),
                                  "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert indexed.returncode == 0, indexed.stderr
        assert "Milvus server http://127.0.0.1" in indexed.stdout and "1 added" in indexed.stdout, indexed.stdout
        after = chat.ask("What were the two zebras named?")
        assert any("] zebra," in line for line in after), after
        assert any("Zig and Zag" in line for line in after), after
    finally:
        chat.close()
        from qa.backends.milvus import MilvusBackend

        MilvusBackend(milvus_server_uri, collection).drop()
