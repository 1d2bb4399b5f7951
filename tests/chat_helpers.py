"""Shared helpers for the chat tests: run ``app.py`` as a real server, seed questions, offline guard.

Imported by tests/test_app.py, test_browser.py, test_offline.py, test_bad_inputs.py; also runnable as
a script (``python tests/chat_helpers.py offline-check ...``) so the offline test can run the whole
start-ask-check cycle inside a network namespace that has only loopback.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
PYTHON = sys.executable
SEED_QUESTIONS = ROOT / "qa" / "eval" / "seed_questions.jsonl"

# Seed questions whose answers the chat must show, with the article they come from. Picked so both
# readers answer them (checked against the heuristic baseline and the gold spans).
SEED_CASES = [
    ("How many Canadian army engineers were deployed to Besmaya?", "20", "000_a3f6d6e8970e0686"),
    ("Who is the commander of Joint Task Force Impact?", "St-Louis", "001_01e182105e19d792"),
    ("How many missiles did Iran fire?", "22", "001_01e182105e19d792"),
]


def seed_title(doc_id: str) -> str:
    """The title the loader gives a seed article (its headline, from the sidecar beside it)."""
    from qa.load import load_document

    return load_document(SEEDS / f"{doc_id}.txt", meta=_seed_meta(doc_id)).title


def seed_credit(doc_id: str) -> tuple[str, str]:
    """(outlet, publication date as the chat shows it) of a seed article."""
    from qa.extract.dates import readable_date

    meta = _seed_meta(doc_id)
    return meta.source, readable_date(meta.published)


def _seed_meta(doc_id: str):
    from qa.extract.sidecar import read_sidecars

    found, _ = read_sidecars(SEEDS, [SEEDS / f"{doc_id}.meta.json"])
    return found[(".", doc_id)][0]


def seed_questions(answerable: bool = True) -> list[str]:
    rows = [json.loads(line) for line in SEED_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows if bool(r["answers"]) == answerable]


def copy_seeds(dest: Path) -> Path:
    """A private copy of seeds/: the app may write into its corpus folder, never into the repo's."""
    shutil.copytree(SEEDS, dest)
    return dest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class AppServer:
    """``python app.py`` in a subprocess on a free loopback port, stopped on exit."""

    corpus: Path
    index_dir: Path
    workdir: Path
    # The UI is under test, not the reader: the heuristic baseline keeps answers deterministic.
    # None = the product's default reader (the trained span reader when its weights ship).
    reader: str | None = "heuristic"
    extra_env: dict = field(default_factory=dict)
    extra_args: list = field(default_factory=list)
    # (name, password) of an admin the server is started with (--users): the page then needs a login.
    login: tuple[str, str] | None = None
    readers: list = field(default_factory=list)  # further (name, password) users, not admins
    port: int = 0
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "app.log"

    def command(self) -> list[str]:
        command = [PYTHON, str(ROOT / "app.py"), "--corpus", str(self.corpus), "--index-dir", str(self.index_dir),
                   "--port", str(self.port)]
        if self.login:
            command += ["--users", str(self.users_file)]
        return command + (["--reader", self.reader] if self.reader else []) + list(self.extra_args)

    @property
    def users_file(self) -> Path:
        return self.workdir / "users.json"

    def env(self) -> dict:
        env = dict(os.environ)
        env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
                    "GRADIO_TEMP_DIR": str(self.workdir / "gradio-tmp"), "PYTHONUNBUFFERED": "1",
                    "TOKENIZERS_PARALLELISM": "false"})
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 240.0) -> "AppServer":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        if self.login:
            from qa.auth import Users

            users = Users({}).with_user(*self.login, admin=True)
            for name, password in self.readers:
                users = users.with_user(name, password)
            users.save(self.users_file)
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command(), cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_until_serving(self.url, timeout, self.proc, self.log_path)
        return self

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: only our app and its children
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)

    def log_tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-n:]
        except OSError:
            return ""


def wait_until_serving(url: str, timeout: float, proc: subprocess.Popen | None = None,
                       log_path: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:] if log_path else ""
            raise RuntimeError(f"app exited with code {proc.returncode} before serving:\n{tail}")
        try:
            with urllib.request.urlopen(url + "/config", timeout=5) as resp:
                if resp.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code == 401:  # serving, behind a login
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"app at {url} did not serve within {timeout:.0f} s")


@contextlib.contextmanager
def running_app(tmp_path: Path, **kwargs) -> Iterator[AppServer]:
    """Start the app on a tmp copy of seeds with a tmp index; always stop it."""
    corpus = kwargs.pop("corpus", None) or copy_seeds(tmp_path / "corpus")
    server = AppServer(corpus=corpus, index_dir=kwargs.pop("index_dir", tmp_path / "index"),
                       workdir=tmp_path / "app", **kwargs)
    try:
        server.start()
        yield server
    except BaseException:
        print(f"--- app log ---\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        server.stop()


def ask_over_api(url: str, question: str, login: tuple[str, str] | None = None) -> str:
    """The assistant's HTML for ``question`` through the app's public /ask endpoint."""
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False, auth=login)
    history, _ = client.predict(question, [], api_name="/ask")
    return message_text(history[-1])


def message_text(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


# ------------------------------------------------------------------ offline guard

GUARD = textwrap.dedent('''
    """Test-only guard (sitecustomize): any connection or name lookup off this machine fails and is
    written to QA_NET_LOG, so a test can prove the process never tried to reach the network."""
    import ipaddress, os, socket

    _LOG = os.environ.get("QA_NET_LOG", "")

    def _local(host):
        if host in ("localhost", "", None):
            return True
        try:
            return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            return False

    def _refuse(what):
        if _LOG:
            with open(_LOG, "a", encoding="utf-8") as fh:
                fh.write(what + "\\n")
        raise OSError(101, f"network disabled for this test: {what}")

    _connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
            _refuse(f"connect {address!r}")
        return _connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
            _refuse(f"connect {address!r}")
        return _connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _local(host if not isinstance(host, bytes) else host.decode()):
            _refuse(f"getaddrinfo {host!r}")
        return _getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
''')


def write_guard(folder: Path) -> Path:
    """A folder with the guard as ``sitecustomize.py``; put it first on PYTHONPATH of a process."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    return folder


def unshare_available() -> bool:
    """True when ``unshare -n`` can make a network namespace (root or user namespaces allowed)."""
    if not shutil.which("unshare") or not shutil.which("ip"):
        return False
    probe = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"], capture_output=True, timeout=10)
    return probe.returncode == 0


def offline_check(args: argparse.Namespace) -> int:
    """Start the app, ask one question through its API, print a JSON verdict (run inside the test's
    network namespace, so nothing here can reach beyond loopback either)."""
    workdir = Path(args.workdir)
    server = AppServer(corpus=Path(args.corpus), index_dir=Path(args.index_dir), workdir=workdir,
                       reader=args.reader or None, extra_env={"PYTHONPATH": os.pathsep.join(
                           p for p in (args.guard, os.environ.get("PYTHONPATH", "")) if p),
                           "QA_NET_LOG": args.net_log})
    verdict: dict = {"question": args.question}
    started = time.monotonic()
    try:
        server.start()
        verdict["startup_seconds"] = round(time.monotonic() - started, 1)
        verdict["reply"] = ask_over_api(server.url, args.question)
    except Exception as exc:  # reported, not raised: the test prints the log
        verdict["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        server.stop()
        verdict["log"] = server.log_tail(4000)
    print(json.dumps(verdict))
    return 0


def _main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("offline-check", help="start the app, ask one question, print a JSON verdict")
    for name in ("--corpus", "--index-dir", "--workdir", "--guard", "--net-log", "--question"):
        p.add_argument(name, required=True)
    p.add_argument("--reader", default="", help="span | heuristic (default: the app's default reader)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    return offline_check(args)


if __name__ == "__main__":
    sys.exit(_main())
