"""A Milvus server for the tests: milvus-lite's own gRPC server (``milvus-lite server``), started on a
free loopback port with a data folder of its own, and stopped at the end.

milvus-lite is a pinned dependency, so a missing or broken server is a failure with the reason,
never a skip. Its default host is 0.0.0.0: the tests always bind 127.0.0.1.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

HOST = "127.0.0.1"
START_SECONDS = 60.0  # bounded wait for the server to answer (it starts in ~2 s on 2 busy cores)


class MilvusServerError(RuntimeError):
    """The server could not be started; the message says why and what to do."""


def server_command() -> list[str]:
    """The ``milvus-lite`` console script beside this interpreter (or on PATH)."""
    beside = Path(sys.executable).with_name("milvus-lite")
    found = str(beside) if beside.is_file() else shutil.which("milvus-lite")
    if not found:
        raise MilvusServerError("the milvus-lite server command is not installed (milvus-lite>=3.2 is a pinned "
                                "dependency: run `make install`, or `pip install 'milvus-lite>=3.2'`)")
    return [found, "server"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class MilvusLiteServer:
    """``with MilvusLiteServer(data_dir) as server: server.uri`` -> ``http://127.0.0.1:PORT``."""

    def __init__(self, data_dir: str | Path, port: int | None = None, start_seconds: float = START_SECONDS) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.start_seconds = start_seconds
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"
        self._process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> "MilvusLiteServer":
        command = server_command() + ["--data-dir", str(self.data_dir), "--host", HOST, "--port", str(self.port),
                                      "--max-workers", "4"]
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def _wait_ready(self) -> None:
        """Until a client can list collections: the port accepting connections is not enough."""
        from pymilvus import MilvusClient

        deadline = time.monotonic() + self.start_seconds
        last = ""
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise MilvusServerError(f"milvus-lite server exited with code {self._process.returncode} before it "
                                        f"was ready; its log:\n{self._log_tail()}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1.0):
                    pass
                client = MilvusClient(self.uri, timeout=5.0)
                client.list_collections()
                client.close()
                return
            except Exception as exc:  # not listening yet, or gRPC not serving yet
                last = f"{type(exc).__name__}: {exc}"
                time.sleep(0.2)
        raise MilvusServerError(f"milvus-lite server on {self.uri} did not answer within {self.start_seconds:.0f} s "
                                f"(last error: {last[:300]}); its log:\n{self._log_tail()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> "MilvusLiteServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
