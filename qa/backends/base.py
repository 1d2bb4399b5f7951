"""The contract every index backend keeps (FAISS + bm25s in a folder, or Milvus).

Like a Haystack 2.x document store or a bm25s index, a backend has two halves:

* ``Backend``: where an index lives. ``update(documents, ...)`` brings it in line with the corpus
  (embedding only new or changed articles, removing the rest) and returns the live ``ChunkIndex``;
  ``load(...)`` opens and verifies it without writing, raising ``IndexProblem``.
* ``ChunkIndex``: one loaded, searchable version. ``search_dense`` and ``search_lexical`` return
  ``(Chunk, score)`` pairs best first (higher is better; the two scales differ, so fuse by rank),
  each applying a ``Filter`` *before* ranking, inside the engine.

Both backends record the same manifest (format, encoder name and dimension, chunking, per-article
hashes) and refuse an index that disagrees with it: ``IndexProblem.kind`` says whether it is
``missing``, ``damaged`` or a ``mismatch``, and ``update`` rebuilds it. A location that cannot hold
an index (a file where a folder is needed, no write permission, a full disk) raises
``IndexLocationError`` with a message saying what to change.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from ..config import QAConfig
from ..embed import Encoder
from ..filters import Filter
from ..types import Chunk, Document

FORMAT_VERSION = 1
# Bump when sentence splitting or chunking code changes boundaries: old indexes become stale.
CHUNKER_VERSION = 1


class IndexProblem(Exception):
    """The persisted index cannot be used as it is. ``kind``: missing | damaged | mismatch."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class IndexLocationError(OSError):
    """The place given for the index cannot hold one; the message says what to change. Nothing of
    the previous index is lost when this is raised."""


def file_in_the_way(path) -> str:
    """The part of ``path`` that is a file where a folder is needed (for messages)."""
    from pathlib import Path

    path = Path(path)
    return str(next((p for p in [path, *path.parents] if p.exists() and not p.is_dir()), "a part of that path"))


@dataclass
class UpdateReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    rebuilt_because: str = ""  # why a previous index was not reused, if it was not
    path: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.rebuilt_because)

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated", f"{len(self.removed)} removed",
                 f"{len(self.unchanged)} unchanged", f"{self.chunks_embedded} chunks embedded",
                 f"{self.chunks_total} chunks in index", f"{self.seconds:.1f} s"]
        text = ", ".join(parts)
        if self.rebuilt_because:
            text += f" (rebuilt: {self.rebuilt_because})"
        return text


def expected_settings(encoder: Encoder, config: QAConfig) -> dict:
    """What an index must have been built with to be used as it is (any backend)."""
    return {
        "format_version": FORMAT_VERSION,
        "encoder": {"name": encoder.name, "dimension": int(encoder.dimension)},
        "chunking": {**config.chunking(), "chunker_version": CHUNKER_VERSION},
    }


def check_settings(manifest: Mapping, encoder: Encoder, config: QAConfig) -> None:
    """``IndexProblem('mismatch')`` naming the first setting the index was built with differently."""
    for key, want in expected_settings(encoder, config).items():
        if manifest.get(key) != want:
            raise IndexProblem("mismatch", f"index was built with {key}={manifest.get(key)!r}, "
                                           f"this build uses {want!r}")


# What the manifest records of each article besides its counts; a change in any of them (a new
# date in a sidecar, another extractor version) updates the article in the index.
RECORDED = ("path", "sha256", "title", "source", "published", "url", "author", "extractor")


def recorded(doc: Document) -> dict:
    """The fields of ``doc`` its manifest record keeps (``RECORDED``)."""
    return {k: getattr(doc, k) for k in RECORDED}


def file_record(doc: Document, chunks: int, indexed: str) -> dict:
    """The manifest's record of one indexed article (both backends write the same fields)."""
    return {**recorded(doc), "chars": len(doc.text), "chunks": chunks, "indexed": indexed}


@dataclass(frozen=True)
class Plan:
    """What an update must do, article by article, given what is indexed and the corpus now."""

    unchanged: list[str]
    added: list[str]
    updated: list[str]
    removed: list[str]

    @classmethod
    def of(cls, indexed: Mapping[str, Mapping], documents: Sequence[Document]) -> "Plan":
        """``indexed``: doc_id -> the manifest record (``file_record``) of what the index holds; an
        article whose recorded fields differ (content, or only its date, outlet, extractor) is updated."""
        unchanged, added, updated = [], [], []
        for d in documents:
            previous = indexed.get(d.doc_id)
            if previous is None:
                added.append(d.doc_id)
            else:
                same = {k: previous.get(k, "") for k in RECORDED} == recorded(d)
                (unchanged if same else updated).append(d.doc_id)
        current = {d.doc_id for d in documents}
        return cls(unchanged, added, updated, sorted(d for d in indexed if d not in current))


@runtime_checkable
class ChunkIndex(Protocol):
    """One loaded, searchable index version."""

    manifest: dict  # format, encoder, chunking, counts, files: {doc_id: file_record}
    documents: Mapping[str, Document]  # doc_id -> the exact article text citations slice

    @property
    def chunk_count(self) -> int: ...

    def all_chunks(self) -> list[Chunk]:
        """Every chunk (tests and tools; a big index streams them)."""

    def search_dense(self, vector: np.ndarray, depth: int, filter: Filter | None = None) -> list[tuple[Chunk, float]]:
        """The ``depth`` chunks nearest ``vector`` (cosine), among those ``filter`` admits."""

    def search_lexical(self, question: str, depth: int, filter: Filter | None = None,
                       weights: Mapping[str, float] | None = None) -> list[tuple[Chunk, float]]:
        """The ``depth`` best BM25 chunks sharing a term with ``question``, among those ``filter`` admits.
        ``weights`` (word -> weight) replaces the question by words that count unequally (a
        follow-up's history words, qa/conversation/expand.py)."""

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """The chunks of one article in reading order ([] when it is not indexed)."""

    def term_rarity(self, words: Sequence[str]) -> Mapping[str, float | None]:
        """Each word's BM25 IDF over the index's largest (1 = in one chunk); None for stop words,
        words no chunk holds, and on a backend that keeps no term statistics of its own."""


class Backend(Protocol):
    """Where an index lives: a folder (FAISS + bm25s) or a Milvus collection (Lite file or server)."""

    name: str  # "faiss" | "milvus"

    def describe(self) -> str:
        """The location in words, for messages."""

    def load(self, encoder: Encoder, config: QAConfig) -> ChunkIndex:
        """Open and verify the live index; ``IndexProblem`` saying what is wrong."""

    def update(self, documents: Sequence[Document], encoder: Encoder, config: QAConfig,
               progress: bool = False) -> tuple[ChunkIndex, UpdateReport]:
        """Bring the index in line with ``documents`` (incrementally, by article)."""
