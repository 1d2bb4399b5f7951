"""Bulk indexing on Ray: ``qa index --ray [ADDRESS]`` builds the very index ``qa index`` builds, with
the slow steps spread over a Ray runtime (a local one started here, or a cluster at ADDRESS).

The stages, each where it is cheapest::

    corpus files --(Ray tasks: read + extract, qa/load.py)--> Documents (back to the driver, in order)
    changed articles --(driver: chunk, qa/chunk.py)--> chunk texts not yet in the vector cache
    chunk texts --(pool of Ray actors, each holding the encoder)--> vectors --> vector cache (driver)
    Documents + cached vectors --(driver: backend.update, in batches)--> FAISS folder or Milvus

The backends are unchanged: the driver hands ``backend.update`` a ``CachedEncoder`` in which every
vector the update needs is already on disk, so the chunks, ids, manifest and vectors are those of a
single-process run (the vectors within float tolerance: workers batch texts differently).

Nothing is lost when a worker dies: an actor that dies is restarted by Ray and its batch run again
(``max_restarts``/``max_task_retries``). Vectors reach the cache (qa/embed_cache.py: atomic,
append-only shards) every ``checkpoint_chunks``; a run that stops (an error, Ctrl-C, the driver
killed) keeps what it flushed and a rerun embeds only the rest.

Ray core (tasks and actors) rather than Ray Data: the driver must own the order of the documents
and the cache writes anyway, and the same few calls run on a laptop and on a cluster. On a
cluster, every node needs this package installed (the same image) and the corpus at the same path.
"""
from __future__ import annotations

import functools
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..backends import Backend, ChunkIndex, IndexProblem, UpdateReport
from ..backends.base import Plan
from ..chunk import chunk_document
from ..config import QAConfig
from ..embed import Encoder
from ..embed_cache import CachedEncoder
from ..load import ReadJob, Skipped, load_corpus, read_job
from ..types import Document

log = logging.getLogger(__name__)

EncoderFactory = Callable[[], Encoder]  # picklable (a class, or functools.partial of one): runs on the workers


class BulkIndexError(RuntimeError):
    """A bulk run that could not finish; the message says what was kept and how to resume."""


@dataclass
class RaySettings:
    """Where and how wide to run. ``address`` None starts a local runtime (loopback only, no
    dashboard) and stops it at the end; otherwise ``ray.init(address=...)`` joins a running cluster."""

    address: str | None = None
    workers: int = 2  # embedding actors
    threads_per_worker: int = 1  # encoder threads (and Ray CPUs) per actor
    num_cpus: int | None = None  # a local runtime's CPUs (default: workers x threads_per_worker)
    batch_chunks: int = 256  # chunks per embedding task
    files_per_task: int = 32  # articles per read-and-extract task
    checkpoint_chunks: int = 1024  # vectors written to the cache at least this often
    object_store_mb: int = 200  # a local runtime's object store (Ray's minimum is ~75 MB)
    max_restarts: int = 3  # a dead actor is restarted this many times, its batch retried

    def __post_init__(self) -> None:
        for name in ("workers", "threads_per_worker", "batch_chunks", "files_per_task", "checkpoint_chunks"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if self.num_cpus is not None and self.num_cpus < 1:
            raise ValueError(f"num_cpus must be at least 1, got {self.num_cpus!r}")


@dataclass
class BulkReport:
    """What a bulk run did. ``update`` is the backend's own report of the write."""

    where: str = ""  # the Ray runtime, in words
    workers: int = 0
    files: int = 0
    documents: int = 0
    chunks_to_embed: int = 0  # distinct chunk texts of new or changed articles
    chunks_cached: int = 0  # of those, already in the vector cache (an earlier, interrupted run)
    chunks_embedded: int = 0  # embedded by the Ray workers in this run
    embedded_on_driver: int = 0  # vectors the write still had to embed itself (0 when all went well)
    seconds_read: float = 0.0
    seconds_embed: float = 0.0
    seconds_write: float = 0.0
    update: UpdateReport = field(default_factory=UpdateReport)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def chunks_per_second(self) -> float:
        return self.chunks_embedded / self.seconds_embed if self.seconds_embed > 0 else 0.0

    def summary(self) -> str:
        return (f"{self.where}, {self.workers} embedding workers: {self.files} files read in {self.seconds_read:.1f} s; "
                f"{self.chunks_embedded} chunks embedded in {self.seconds_embed:.1f} s "
                f"({self.chunks_per_second:.1f} chunks/s), {self.chunks_cached} already in the vector cache; "
                f"written in {self.seconds_write:.1f} s")


# ------------------------------------------------------------------ the runtime

@contextmanager
def ray_runtime(settings: RaySettings) -> Iterator[object]:
    """The ``ray`` module, initialised. A runtime that is already up (a test's, a notebook's) is used
    and left running; one started here is shut down on the way out."""
    if settings.address is None:
        # Read when ray is imported: a single-node runtime whose servers listen on loopback only
        # (Ray's default on Linux binds its gRPC servers to every interface).
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError as exc:
        raise BulkIndexError("qa index --ray needs Ray: pip install 'qa-news[ray]' (or pip install 'ray>=2.40')") from exc
    if ray.is_initialized():
        yield ray
        return
    if settings.address is None:
        cpus = settings.num_cpus or settings.workers * settings.threads_per_worker
        ray.init(num_cpus=cpus, include_dashboard=False, object_store_memory=settings.object_store_mb * 2**20,
                 _node_ip_address="127.0.0.1", configure_logging=False, log_to_driver=True)
    else:
        _check_reachable(settings.address)
        try:
            ray.init(address=settings.address, configure_logging=False, log_to_driver=True)
        except (ConnectionError, RuntimeError) as exc:
            raise BulkIndexError(f"cannot join the Ray cluster at {settings.address}: {exc}; start it "
                                 "(`ray start --head` on the head node) or pass --ray without an address "
                                 "for a local runtime") from exc
    try:
        yield ray
    finally:
        ray.shutdown()


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail at once on a cluster address nothing answers at (Ray itself retries for minutes)."""
    import socket

    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise BulkIndexError(f"--ray {address}: give the cluster as HOST:PORT (e.g. head:6379) or ray://HOST:PORT")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise BulkIndexError(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}): start it with "
                             "`ray start --head` on the head node, or pass --ray without an address for a local "
                             "runtime") from exc


def describe_runtime(ray) -> str:
    cpus = ray.cluster_resources().get("CPU", 0)
    nodes = len([n for n in ray.nodes() if n.get("Alive")])
    return f"Ray {ray.__version__}, {nodes} node{'s' if nodes != 1 else ''}, {cpus:g} CPUs"


# ------------------------------------------------------------------ workers

def _read_batch(jobs: Sequence[ReadJob]) -> list:
    return [read_job(job) for job in jobs]


class _EmbedWorker:
    """A Ray actor holding one encoder (loaded once, in ``__init__``; again after a restart)."""

    def __init__(self, factory: EncoderFactory) -> None:
        self.encoder = factory()
        if hasattr(self.encoder, "warm_up"):
            self.encoder.warm_up()

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.ascontiguousarray(self.encoder.encode(texts), dtype=np.float32)


def read_files_on_ray(ray, files_per_task: int, window: int) -> Callable:
    """A ``read_files`` for ``load_corpus``: the articles read and extracted by Ray tasks, ``window``
    batches in flight, results in the corpus's order."""
    remote = ray.remote(num_cpus=1, max_retries=2)(_read_batch)

    def read_files(jobs: Sequence[ReadJob], progress: bool = False):
        from tqdm import tqdm

        batches = [list(jobs[i:i + files_per_task]) for i in range(0, len(jobs), files_per_task)]
        in_flight: deque = deque()
        with tqdm(total=len(jobs), desc="reading articles (Ray)", unit="file", disable=not progress or len(jobs) < 2) as bar:
            for batch in batches:
                in_flight.append(remote.remote(batch))
                if len(in_flight) >= window:
                    results = ray.get(in_flight.popleft())
                    bar.update(len(results))
                    yield from results
            while in_flight:
                results = ray.get(in_flight.popleft())
                bar.update(len(results))
                yield from results

    return read_files


# ------------------------------------------------------------------ the bulk run

class RayBulkIndexer:
    """``RayBulkIndexer(corpus, backend, encoder_factory, cache_dir).run()`` -> (index, BulkReport).

    ``encoder_factory`` builds the encoder on each worker (and, never warmed, on the driver for its
    name and dimension); ``cache_dir`` keeps the vectors between runs (the checkpoint)."""

    def __init__(self, corpus_dir: str | Path, backend: Backend, encoder_factory: EncoderFactory,
                 cache_dir: str | Path, config: QAConfig | None = None, settings: RaySettings | None = None) -> None:
        self.corpus_dir = Path(corpus_dir)
        self.backend = backend
        self.encoder_factory = encoder_factory
        self.cache_dir = Path(cache_dir)
        self.config = config or QAConfig()
        self.settings = settings or RaySettings()

    def run(self, progress: bool = True) -> tuple[ChunkIndex, BulkReport]:
        report = BulkReport(workers=self.settings.workers)
        cache = CachedEncoder(self.encoder_factory(), self.cache_dir, shard_size=self.settings.checkpoint_chunks)
        with ray_runtime(self.settings) as ray:
            report.where = describe_runtime(ray)
            started = time.perf_counter()
            window = max(2, int(ray.cluster_resources().get("CPU", 1)) * 2)
            documents, report.skipped = load_corpus(
                self.corpus_dir, progress=progress,
                read_files=read_files_on_ray(ray, self.settings.files_per_task, window))
            report.seconds_read = time.perf_counter() - started
            report.documents = len(documents)
            report.files = len(documents) + sum(not s.note for s in report.skipped)
            texts = self._texts_to_embed(documents, cache)
            todo = cache.missing(texts)
            report.chunks_to_embed, report.chunks_cached = len(texts), len(texts) - len(todo)
            started = time.perf_counter()
            self._embed(ray, todo, cache, progress)
            report.chunks_embedded = len(todo)
            report.seconds_embed = time.perf_counter() - started
        # The write needs no Ray: the local runtime is already down (its memory back) when it starts.
        started = time.perf_counter()
        misses = cache.misses
        index, report.update = self.backend.update(documents, cache, self.config, progress=progress)
        report.embedded_on_driver = cache.misses - misses
        report.seconds_write = time.perf_counter() - started
        return index, report

    def _texts_to_embed(self, documents: Sequence[Document], encoder: Encoder) -> list[str]:
        """The chunk texts of the articles the update will (re)embed: new and changed ones."""
        try:
            indexed = self.backend.load(encoder, self.config).manifest["files"]
        except IndexProblem:
            indexed = {}  # no usable index: the update builds it whole
        plan = Plan.of(indexed, documents)
        changed = set(plan.added) | set(plan.updated)
        c = self.config
        return [chunk.text for doc in documents if doc.doc_id in changed
                for chunk in chunk_document(doc, c.chunk_sentences, c.chunk_overlap, c.chunk_max_chars)]

    def _embed(self, ray, texts: list[str], cache: CachedEncoder, progress: bool) -> None:
        """``texts`` embedded by a pool of actors, two batches queued per actor so none waits on the
        driver; each result goes to the cache as it arrives (in the order it finishes)."""
        from tqdm import tqdm

        if not texts:
            return
        s = self.settings
        batches = [texts[i:i + s.batch_chunks] for i in range(0, len(texts), s.batch_chunks)]
        worker = ray.remote(num_cpus=s.threads_per_worker, max_restarts=s.max_restarts,
                            max_task_retries=s.max_restarts)(_EmbedWorker)
        actors = [worker.remote(self.encoder_factory) for _ in range(min(s.workers, len(batches)))]
        pending: dict = {}  # result ref -> (batch number, actor)
        queue = deque(range(len(batches)))

        def submit(actor) -> None:
            if queue:
                n = queue.popleft()
                pending[actor.embed.remote(batches[n])] = (n, actor)

        bar = tqdm(total=len(texts), desc=f"embed on Ray ({len(actors)} workers)", unit="chunk", disable=not progress)
        try:
            for actor in actors:
                submit(actor)
                submit(actor)
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                n, actor = pending.pop(done[0])
                try:
                    vectors = ray.get(done[0])
                except Exception as exc:  # a batch that failed for good (not a worker that died and came back)
                    raise BulkIndexError(
                        f"embedding failed on a Ray worker (batch {n + 1} of {len(batches)}): {_cause(exc)}. The "
                        f"vectors embedded so far are kept in {self.cache_dir}: run the same command again to "
                        "resume") from exc
                cache.add(batches[n], vectors)
                bar.update(len(batches[n]))
                submit(actor)
        finally:
            bar.close()
            cache.flush()  # the checkpoint: whatever finished is on disk, even when this run stops here
            for actor in actors:
                ray.kill(actor)


def _cause(exc: Exception) -> str:
    cause = getattr(exc, "cause", None) or exc
    return f"{type(cause).__name__}: {str(cause).strip().splitlines()[-1][:300] if str(cause).strip() else ''}"


# ------------------------------------------------------------------ the command line

def default_cache_dir(index_dir: str | Path) -> Path:
    """``$QA_VECTOR_CACHE`` or INDEX_DIR/vector-cache: where bulk runs keep their vectors."""
    return Path(os.environ.get("QA_VECTOR_CACHE") or Path(index_dir) / "vector-cache")


def bulk_index_from_args(args, progress: bool = True) -> BulkReport:
    """``qa index --ray [ADDRESS]`` (qa/cli.py): the options -> a finished bulk run."""
    from ..embed import MiniLMEncoder
    from ..options import backend_from_args

    config = QAConfig()
    settings = RaySettings(address=None if args.ray == "local" else args.ray, workers=args.ray_workers,
                           threads_per_worker=args.ray_threads, num_cpus=args.ray_cpus)
    factory = functools.partial(MiniLMEncoder, config.encode_batch_size, None, settings.threads_per_worker)
    indexer = RayBulkIndexer(args.corpus, backend_from_args(args), factory,
                             args.vector_cache or default_cache_dir(args.index_dir), config, settings)
    _, report = indexer.run(progress=progress)
    return report


def add_arguments(parser) -> None:
    """The ``qa index`` options of a bulk run."""
    group = parser.add_argument_group("bulk indexing on Ray (pip install 'qa-news[ray]')")
    group.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                       help="read, extract and embed on Ray: a local runtime (loopback only) without ADDRESS, or "
                            "the cluster at ADDRESS (e.g. ray://head:10001 or head:6379); same index as without")
    group.add_argument("--ray-workers", type=int, default=2, metavar="N",
                       help="embedding workers, each holding the encoder (default: %(default)s)")
    group.add_argument("--ray-threads", type=int, default=1, metavar="N",
                       help="encoder threads per worker (default: %(default)s)")
    group.add_argument("--ray-cpus", type=int, default=None, metavar="N",
                       help="CPUs a local runtime may use (default: workers x threads)")
    group.add_argument("--vector-cache", default=None, metavar="DIR",
                       help="where embedded vectors are kept between runs, so an interrupted run resumes "
                            "(default: $QA_VECTOR_CACHE or INDEX_DIR/vector-cache)")
