"""An encoder that remembers: vectors cached on disk by a hash of the exact text.

Bulk indexing and benchmarks embed the same passages again and again (a rebuilt index, a second
backend, a rerun of a report); embedding is the one expensive step, so ``CachedEncoder`` wraps a
real encoder and embeds only the texts it has not seen. The cache is a folder of append-only
shards, each written atomically (temp file + ``os.replace``)::

    meta.json            {"encoder": name, "dimension": d}: another encoder never reads these vectors
    shard-<time>-<rand>.npz   keys (sha256 of the text, as 32 raw bytes) + vectors (float32, n x d)

>>> enc = CachedEncoder(MiniLMEncoder(), "/work/cache/vectors")     # doctest: +SKIP
>>> enc.encode(["a passage"]).shape                                 # doctest: +SKIP
(1, 384)

The wrapper has the inner encoder's ``name`` and ``dimension``, so an index built through it is the
index the plain encoder would build (same manifest, same vectors) and loads with either.
"""
from __future__ import annotations

import atexit
import hashlib
import io
import json
import logging
import os
import secrets
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .embed import Encoder
from .fsutil import atomic_write_bytes, atomic_write_text

log = logging.getLogger(__name__)


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class CachedEncoder:
    """``inner`` with a disk cache in ``folder``. New vectors are written in shards of
    ``shard_size`` (an interrupted bulk job keeps what it finished); fewer (one question at a time)
    wait in memory until a shard is full or ``flush()`` (also called at exit)."""

    def __init__(self, inner: Encoder, folder: str | Path, shard_size: int = 2048) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = int(inner.dimension)
        self.folder = Path(folder)
        self.shard_size = shard_size
        self.hits = 0  # texts served from the cache / embedded, since construction
        self.misses = 0
        self._rows: dict[bytes, tuple[int, int]] | None = None  # key -> (block, row in block)
        self._blocks: list[np.ndarray] = []
        self._pending: list[tuple[bytes, np.ndarray]] = []

    def warm_up(self) -> None:
        if hasattr(self.inner, "warm_up"):
            self.inner.warm_up()

    def _load(self) -> dict[bytes, tuple[int, int]]:
        if self._rows is not None:
            return self._rows
        self._rows, self._blocks = {}, []
        meta_path = self.folder / "meta.json"
        want = {"encoder": self.name, "dimension": self.dimension}
        if meta_path.is_file():
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if meta != want:
                raise ValueError(f"the vector cache {self.folder} holds vectors of {meta}, not {want}; "
                                 "use another cache folder")
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_text(meta_path, json.dumps(want))
        for shard in sorted(self.folder.glob("shard-*.npz")):
            with np.load(shard, allow_pickle=False) as data:
                keys, vectors = data["keys"], data["vectors"]
            if vectors.shape[1:] != (self.dimension,) or len(keys) != len(vectors):
                log.warning("ignoring vector cache shard %s: shape %s", shard, vectors.shape)
                continue
            self._add_block(keys, vectors)
        atexit.register(self.flush)
        return self._rows

    def _add_block(self, keys, vectors: np.ndarray) -> None:
        block = len(self._blocks)
        self._blocks.append(vectors)
        for i, key in enumerate(keys):
            self._rows.setdefault(bytes(key), (block, i))

    def __len__(self) -> int:
        return len(self._load())

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        rows = self._load()
        keys = [text_key(t) for t in texts]
        missing: dict[bytes, str] = {}
        for k, t in zip(keys, texts):
            if k not in rows:
                missing.setdefault(k, t)
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        if missing:
            self._embed_missing(list(missing.items()), progress)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, k in enumerate(keys):
            block, row = rows[k]
            out[i] = self._blocks[block][row]
        return out

    def missing(self, texts: Sequence[str]) -> list[str]:
        """The distinct texts of ``texts`` the cache has no vector for, in first-seen order."""
        rows = self._load()
        out: dict[bytes, str] = {}
        for t in texts:
            k = text_key(t)
            if k not in rows:
                out.setdefault(k, t)
        return list(out.values())

    def add(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Vectors embedded elsewhere (a bulk job's workers); on disk at the next full shard or ``flush()``."""
        self._load()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(texts), self.dimension):
            raise ValueError(f"{len(texts)} texts but vectors of shape {vectors.shape}; expected "
                             f"({len(texts)}, {self.dimension})")
        keys = [text_key(t) for t in texts]
        self._add_block(keys, vectors)
        self._pending.extend(zip(keys, vectors))
        if len(self._pending) >= self.shard_size:
            self.flush()

    def _embed_missing(self, items: list[tuple[bytes, str]], progress: bool) -> None:
        from tqdm import tqdm

        bar = tqdm(total=len(items), desc="embed (uncached)", unit="chunk", disable=not progress)
        for start in range(0, len(items), self.shard_size):
            part = items[start:start + self.shard_size]
            vectors = np.ascontiguousarray(self.inner.encode([t for _, t in part]), dtype=np.float32)
            keys = [k for k, _ in part]
            self._add_block(keys, vectors)
            self._pending.extend(zip(keys, vectors))
            if len(self._pending) >= self.shard_size:
                self.flush()
            bar.update(len(part))
        bar.close()

    def flush(self) -> None:
        """Write the vectors not yet on disk as one shard (atomically)."""
        if not self._pending:
            return
        keys = np.frombuffer(b"".join(k for k, _ in self._pending), dtype=np.uint8).reshape(len(self._pending), 32)
        vectors = np.stack([v for _, v in self._pending])
        buf = io.BytesIO()
        np.savez(buf, keys=keys, vectors=vectors)
        name = f"shard-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}.npz"
        atomic_write_bytes(self.folder / name, buf.getvalue())
        self._pending = []


def cache_folder(default: str | Path) -> Path:
    """``$QA_VECTOR_CACHE`` or ``default``: where bulk jobs keep their vectors (outside the repo)."""
    return Path(os.environ.get("QA_VECTOR_CACHE") or default)
