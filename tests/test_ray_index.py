"""Bulk indexing on Ray (qa/bulk/ray_index.py): the same index as ``qa index`` in one process, a
worker that dies loses nothing, an interrupted run resumes, and ``qa index --ray`` leaves no Ray
process behind. Ray starts slowly (~10 s on 2 cores): one local runtime for the module (2 CPUs,
loopback only), and one more only for the command-line test, which must start its own."""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from qa.backends import IndexProblem, make_backend
from qa.config import QAConfig
from qa.load import load_corpus

from .conftest import ROOT, SEEDS, FakeEncoder

pytestmark = pytest.mark.slow  # Ray runtimes and worker processes

CONFIG = QAConfig()
WORDS = ("harbour council budget storm bridge minister election school hospital river farmers prices winter "
         "report police festival museum railway contract vote mayor court drought tourism").split()


def _write_generated_articles(folder: Path, count: int = 6, sentences: int = 14, seed: int = 7) -> None:
    rng = random.Random(seed)
    for n in range(count):
        body = " ".join(f"The {rng.choice(WORDS)} {rng.choice(WORDS)} was discussed on day {rng.randint(1, 28)} "
                        f"by {rng.randint(2, 900)} people near the {rng.choice(WORDS)}." for _ in range(sentences))
        (folder / f"generated_{n:02d}.txt").write_text(f"Generated story {n}\n\n{body}\n", encoding="utf-8")


@pytest.fixture
def corpus(tmp_path) -> Path:
    """The seed articles plus a few generated ones (~70 chunks)."""
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    _write_generated_articles(folder)
    return folder


def _single_process(corpus: Path, index_dir: Path, encoder):
    docs, _ = load_corpus(corpus)
    index, _ = make_backend("faiss", index_dir).update(docs, encoder, CONFIG)
    return index


def _vectors_by_chunk(index) -> dict[str, np.ndarray]:
    vectors = index.dense.vectors()
    return {c.chunk_id: vectors[row] for row, c in enumerate(index.chunks)}


def _assert_same_index(got, want, atol: float = 1e-6) -> None:
    assert [c.to_dict() for c in got.all_chunks()] == [c.to_dict() for c in want.all_chunks()]
    assert _without_times(got.manifest) == _without_times(want.manifest)
    for question in ("Who paused the training?", "bridge council budget", "How many troops?"):
        assert [(c.chunk_id, round(s, 4)) for c, s in got.search_lexical(question, 10)] == \
            [(c.chunk_id, round(s, 4)) for c, s in want.search_lexical(question, 10)]
    a, b = _vectors_by_chunk(got), _vectors_by_chunk(want)
    assert a.keys() == b.keys()
    worst = max(float(np.abs(a[k] - b[k]).max()) for k in a)
    assert worst <= atol, worst


def _without_times(manifest: dict) -> dict:
    """A manifest less when it was built, when each article entered it and its files' checksums
    (a loaded index has them; vectors equal within tolerance need not be equal bytes)."""
    return {**{k: v for k, v in manifest.items() if k not in ("created", "files", "checksums")},
            "files": {d: {k: v for k, v in f.items() if k != "indexed"} for d, f in manifest["files"].items()}}


def _ray_listening_addresses() -> set[str]:
    """Local addresses that Ray's processes (gcs_server, raylet, ray::workers) listen on (``ss``)."""
    if not shutil.which("ss"):
        return set()
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    return {line.split()[3] for line in out.splitlines()
            if any(f'(("{name}' in line for name in ("gcs_server", "raylet", "ray::"))}


def _ray_processes() -> set[int]:
    found = set()
    for name in ("gcs_server", "raylet"):
        out = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout
        found |= {int(p) for p in out.split()}
    return found


# ------------------------------------------------------------------ the command line (its own runtime)

def test_qa_index_ray_builds_the_single_process_index_and_stops_its_runtime(corpus, tmp_path):
    """Runs first, before the module's runtime exists: the command starts a local runtime, builds the
    index with the real encoder on 2 workers, and leaves no Ray process behind."""
    before = _ray_processes()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    process = subprocess.Popen([sys.executable, "-m", "qa", "index", "--corpus", str(corpus), "--index-dir",
                                str(tmp_path / "ray-index"), "--ray", "--ray-workers", "2", "--quiet"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    listening: set[str] = set()
    deadline = time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:  # what Ray listens on while it runs
        listening |= _ray_listening_addresses()
        time.sleep(0.5)
    stdout, stderr = process.communicate(timeout=max(1, deadline - time.monotonic()))
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    assert done.returncode == 0, done.stderr[-3000:]
    if shutil.which("ss"):
        assert listening and all(a.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:")) for a in listening), listening
    assert "ray: Ray " in done.stderr and "2 embedding workers" in done.stderr, done.stderr[-2000:]
    assert f"{len(list(corpus.glob('*.txt')))} added" in done.stdout, done.stdout
    assert _ray_processes() <= before, "qa index --ray left Ray processes running"

    from qa.embed import MiniLMEncoder

    encoder = MiniLMEncoder()
    got = make_backend("faiss", tmp_path / "ray-index").load(encoder, CONFIG)
    _assert_same_index(got, _single_process(corpus, tmp_path / "one-process", encoder), atol=1e-5)


def test_qa_index_ray_with_a_bad_option_says_what_is_wrong(corpus, tmp_path):
    done = subprocess.run([sys.executable, "-m", "qa", "index", "--corpus", str(corpus), "--index-dir",
                           str(tmp_path / "i"), "--ray", "--ray-workers", "0"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1 and "workers must be at least 1" in done.stderr, done.stderr


@pytest.mark.parametrize("address, message", [("127.0.0.1:1", "cannot reach the Ray cluster at 127.0.0.1:1"),
                                              ("nowhere", "give the cluster as HOST:PORT")])
def test_qa_index_ray_with_no_cluster_there_fails_at_once(corpus, tmp_path, address, message):
    done = subprocess.run([sys.executable, "-m", "qa", "index", "--corpus", str(corpus), "--index-dir",
                           str(tmp_path / "i"), "--ray", address], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and message in done.stderr, done.stderr
    assert not (tmp_path / "i").exists()  # nothing written


# ------------------------------------------------------------------ one runtime for the rest

@pytest.fixture(scope="module")
def ray_runtime():
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback only (see ray_index.ray_runtime)
    import ray

    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=150 * 2**20, _node_ip_address="127.0.0.1",
             configure_logging=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _indexer(corpus, index_dir, factory, cache_dir, **settings):
    from qa.bulk.ray_index import RayBulkIndexer, RaySettings

    return RayBulkIndexer(corpus, make_backend("faiss", index_dir), factory, cache_dir, CONFIG,
                          RaySettings(**{"workers": 2, "batch_chunks": 8, "checkpoint_chunks": 8, **settings}))


def test_ray_builds_the_same_index_and_a_rerun_embeds_nothing(ray_runtime, corpus, tmp_path):
    index, report = _indexer(corpus, tmp_path / "ray", FakeEncoder, tmp_path / "cache").run(progress=False)
    _assert_same_index(index, _single_process(corpus, tmp_path / "one", FakeEncoder()))
    assert report.chunks_embedded == report.chunks_to_embed == len({c.text for c in index.all_chunks()}) > 40
    assert report.embedded_on_driver == 0 and report.chunks_cached == 0 and report.files == report.documents
    assert make_backend("faiss", tmp_path / "ray").load(FakeEncoder(), CONFIG).chunk_count == index.chunk_count
    # a new article: only its chunks are embedded
    (corpus / "zebra.txt").write_text("Zebras at the zoo\n\nThe zoo bought two zebras named Zig and Zag.",
                                      encoding="utf-8")
    _, again = _indexer(corpus, tmp_path / "ray", FakeEncoder, tmp_path / "cache").run(progress=False)
    assert again.update.added == ["zebra"] and again.chunks_to_embed == again.chunks_embedded == 1


class DieOnceEncoder(FakeEncoder):
    """Kills its worker process the first time it is asked to embed (a flag file remembers, so the
    restarted worker lives): what a crashed or OOM-killed node looks like to Ray."""

    def __init__(self, flag: str) -> None:
        super().__init__()
        self.flag = Path(flag)

    def encode(self, texts, progress=False):
        if not self.flag.exists():
            self.flag.write_text(str(os.getpid()))
            os._exit(1)
        return super().encode(texts, progress)


def test_a_worker_that_dies_loses_nothing(ray_runtime, corpus, tmp_path):
    import functools

    flag = tmp_path / "died"
    factory = functools.partial(DieOnceEncoder, str(flag))
    index, report = _indexer(corpus, tmp_path / "ray", factory, tmp_path / "cache").run(progress=False)
    assert flag.exists() and int(flag.read_text()) != os.getpid()  # a worker did die
    _assert_same_index(index, _single_process(corpus, tmp_path / "one", FakeEncoder()))
    assert report.embedded_on_driver == 0


class PoisonEncoder(FakeEncoder):
    """Fails (an error, not a crash) on any batch holding the poisoned article: a run that stops."""

    def encode(self, texts, progress=False):
        if any("POISON" in t for t in texts):
            raise ValueError("cannot embed this batch (simulated)")
        return super().encode(texts, progress)


def test_an_interrupted_run_keeps_its_vectors_and_a_rerun_resumes(ray_runtime, corpus, tmp_path):
    from qa.bulk.ray_index import BulkIndexError

    (corpus / "zzz_poison.txt").write_text("Last story\n\nA POISON sentence that the encoder refuses.",
                                           encoding="utf-8")
    with pytest.raises(BulkIndexError, match="run the same command again to resume") as info:
        _indexer(corpus, tmp_path / "ray", PoisonEncoder, tmp_path / "cache", workers=1).run(progress=False)
    assert "cannot embed this batch" in str(info.value)
    with pytest.raises(IndexProblem):  # nothing half-written to the index
        make_backend("faiss", tmp_path / "ray").load(FakeEncoder(), CONFIG)
    assert list((tmp_path / "cache").glob("shard-*.npz"))  # the finished batches are on disk
    index, report = _indexer(corpus, tmp_path / "ray", FakeEncoder, tmp_path / "cache").run(progress=False)
    assert 0 < report.chunks_embedded < report.chunks_to_embed
    assert report.chunks_cached + report.chunks_embedded == report.chunks_to_embed
    _assert_same_index(index, _single_process(corpus, tmp_path / "one", FakeEncoder()))


def test_ray_bulk_index_into_a_milvus_server(ray_runtime, corpus, tmp_path, make_backend):
    """The write goes through the unchanged backend: here a Milvus server (milvus-lite's, on loopback)."""
    from qa.bulk.ray_index import RayBulkIndexer, RaySettings

    backend = make_backend("milvus-server", tmp_path / "milvus")
    index, report = RayBulkIndexer(corpus, backend, FakeEncoder, tmp_path / "cache", CONFIG,
                                   RaySettings(workers=2, batch_chunks=16)).run(progress=False)
    want = _single_process(corpus, tmp_path / "one", FakeEncoder())
    assert report.embedded_on_driver == 0 and report.update.path.startswith("Milvus server http://127.0.0.1")
    assert [c.to_dict() for c in index.all_chunks()] == [c.to_dict() for c in want.all_chunks()]
    encoder = FakeEncoder()
    for question in ("Who paused the training?", "bridge council budget"):
        vector = encoder.encode([question])[0]
        got = index.search_dense(vector, 5)
        # the same scores best first, each the hit's own vector against the question (ties may swap ids)
        assert np.allclose([s for _, s in got], [s for _, s in want.search_dense(vector, 5)], atol=1e-5)
        assert np.allclose([s for _, s in got], [float(encoder.encode([c.text])[0] @ vector) for c, _ in got], atol=1e-5)
