"""Shared fixtures: a deterministic fake encoder and small corpora in tmp folders."""
from __future__ import annotations

import atexit
import hashlib
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# The reader's ONNX graph is exported at first use into a cache folder: the tests use a private one
# (never the user's ~/.cache), so every run also exercises the export.
_TEST_CACHE = tempfile.mkdtemp(prefix="qa-test-cache-")
os.environ.setdefault("QA_CACHE_DIR", _TEST_CACHE)
atexit.register(shutil.rmtree, _TEST_CACHE, True)

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
NEWS = ROOT / "tests" / "fixtures" / "news"  # saved pages, PDFs, feeds: scripts/make_news_fixtures.py
SHARED_DATA = ROOT.parent / "shared" / "data"


class FakeEncoder:
    """Hashes word tokens into a small vector: same words -> similar vectors. Counts what it embeds
    so tests can prove that unchanged articles are not re-embedded."""

    def __init__(self, dimension: int = 64, name: str = "fake-hash-encoder") -> None:
        self.dimension = dimension
        self.name = f"{name}-{dimension}"
        self.encoded: list[str] = []

    def warm_up(self) -> None:
        return None

    def encode(self, texts, progress: bool = False) -> np.ndarray:
        self.encoded.extend(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
                out[i, h % self.dimension] += 1.0
            norm = np.linalg.norm(out[i])
            if norm:
                out[i] /= norm
        return out


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def seed_corpus(tmp_path) -> Path:
    """A private copy of the seed articles (tests never touch the repo's seeds/)."""
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    return folder


ARTICLES = {
    "bridge": "New bridge opens\n\nThe new Tay bridge was designed by Anna Kowalski. It opened on March 3, 2021.\n"
              "The bridge cost $40 million and carries 12,000 cars a day.",
    "harvest": "Apple harvest\n\nFarmers in Nova Scotia picked 2.5 million bushels of apples this year. "
               "Dr. Lee said the weather helped. Prices fell by 8 per cent.",
    "storm": "Storm hits coast\n\nA storm named Fiona struck Halifax on Sept. 24. Winds reached 150 km/h. "
             "About 400,000 homes lost power, according to Nova Scotia Power.",
}


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    folder = tmp_path / "small"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


# ------------------------------------------------------------------ the two index backends

# Every backend test runs against FAISS + bm25s, Milvus Lite (embedded) and a Milvus server reached
# through --milvus-uri http://...: milvus-lite's own gRPC server, started once per session on a free
# loopback port (tests/milvus_server.py), or the server MILVUS_URI names (e.g. http://localhost:19530).
BACKENDS = ["faiss", "milvus", "milvus-server"]


@pytest.fixture(scope="session")
def milvus_server_uri(tmp_path_factory) -> str:
    """The URI of a running Milvus server (started here unless MILVUS_URI names one); stopped at the end."""
    if os.environ.get("MILVUS_URI"):
        yield os.environ["MILVUS_URI"]
        return
    from .milvus_server import MilvusLiteServer, MilvusServerError

    server = MilvusLiteServer(tmp_path_factory.mktemp("milvus-server") / "data")
    try:
        server.start()
    except MilvusServerError as exc:
        pytest.fail(str(exc), pytrace=False)  # a pinned dependency: never a silent skip
    try:
        yield server.uri
    finally:
        server.stop()


@pytest.fixture
def make_backend(request, tmp_path):
    """``make_backend(name, index_dir=None)`` -> a fresh Backend; Milvus Lite lives in
    ``index_dir/milvus.db``, a server's collections are named per test and dropped afterwards."""
    from qa.backends import make_backend as build

    made = []

    def factory(name: str, index_dir: Path | None = None):
        index_dir = Path(index_dir or tmp_path / f"index-{name}")
        if name == "milvus-server":
            prefix = f"qa_test_{secrets.token_hex(4)}"
            backend = build("milvus", index_dir, request.getfixturevalue("milvus_server_uri"), prefix)
        else:
            backend = build(name, index_dir)
        made.append(backend)
        return backend

    yield factory
    for backend in made:
        if backend.name != "milvus":
            continue
        if backend.uri.startswith("http"):
            backend.drop()
        else:  # stop the embedded server this test started (one per data folder)
            from milvus_lite import server_manager_instance

            server_manager_instance.release_server(backend.uri)


@pytest.fixture(params=BACKENDS)
def backend_name(request) -> str:
    return request.param
