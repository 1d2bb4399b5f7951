"""The persisted index: manifest + atomic save/load + incremental update.

Layout of ``index_dir``::

    CURRENT                  name of the live version folder (replaced atomically)
    v-<time>-<rand>/         one complete version:
        manifest.json        format, encoder, chunking, counts, per-article hashes, file checksums
        documents.jsonl      the indexed articles (exact text: citations are sliced from it)
        chunks.jsonl         row i = FAISS row i = BM25 doc i
        dense.faiss
        bm25/                bm25s arrays (.npy, no pickle) + vocab/params JSON

A new version is written in full into a fresh folder, fsynced, and only then does ``CURRENT``
move to it (temp file + ``os.replace``). A crash at any point leaves the previous version live.
Old versions are removed afterwards.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .chunk import chunk_document
from .config import QAConfig
from .embed import Encoder
from .filters import Filter
from .index_dense import DenseIndex
from .index_lexical import LexicalIndex
from .types import Chunk, Document

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
# Bump when sentence splitting or chunking code changes boundaries: old indexes become stale.
CHUNKER_VERSION = 1
POINTER = "CURRENT"
# What the manifest records of each article besides its counts; a change in any of them (a new
# date in a sidecar, another extractor version) updates the article in the index.
RECORDED = ("path", "sha256", "title", "source", "published", "url", "author", "extractor")


class IndexProblem(Exception):
    """The persisted index cannot be used as it is. ``kind``: missing | damaged | mismatch."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class CorpusIndex:
    manifest: dict
    documents: dict[str, Document]
    chunks: list[Chunk]
    dense: DenseIndex
    lexical: LexicalIndex
    path: Path | None = None

    def __post_init__(self) -> None:
        self.rows_by_doc: dict[str, list[int]] = {}
        for row, c in enumerate(self.chunks):
            self.rows_by_doc.setdefault(c.doc_id, []).append(row)

    def rows_matching(self, filter: Filter | None) -> np.ndarray | None:
        """Chunk rows of the articles ``filter`` admits (sorted), or None when there is no filter."""
        if filter is None:
            return None
        rows = [r for doc_id, rs in self.rows_by_doc.items()
                if (d := self.documents.get(doc_id)) is not None and filter.matches(d) for r in rs]
        return np.array(sorted(rows), dtype=np.int64)

    def is_current_for(self, documents: Sequence[Document]) -> bool:
        """Same set of articles with the same content hashes, metadata and extractors as the corpus now."""
        indexed = {d: {k: f.get(k, "") for k in RECORDED} for d, f in self.manifest["files"].items()}
        return indexed == {d.doc_id: _recorded(d) for d in documents}


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
    return {
        "format_version": FORMAT_VERSION,
        "encoder": {"name": encoder.name, "dimension": int(encoder.dimension)},
        "chunking": {**config.chunking(), "chunker_version": CHUNKER_VERSION},
    }


# ---------------------------------------------------------------- loading

def current_version(index_dir: Path) -> Path | None:
    pointer = Path(index_dir) / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexProblem("damaged", f"cannot read {pointer}: {exc}") from exc
    if not name.startswith("v-") or "/" in name:
        raise IndexProblem("damaged", f"{pointer} does not name an index version ({name[:40]!r})")
    return Path(index_dir) / name


def load_index(index_dir: str | Path, encoder: Encoder, config: QAConfig) -> CorpusIndex:
    """Load and verify the live index; raise ``IndexProblem`` saying what is wrong."""
    index_dir = Path(index_dir)
    version = current_version(index_dir)
    if version is None:
        raise IndexProblem("missing", f"no index in {index_dir}")
    try:
        manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexProblem("damaged", f"{version.name}/manifest.json is missing") from exc
    except (OSError, ValueError) as exc:
        raise IndexProblem("damaged", f"{version.name}/manifest.json is unreadable: {exc}") from exc
    expected = expected_settings(encoder, config)
    for key, want in expected.items():
        if manifest.get(key) != want:
            raise IndexProblem("mismatch", f"index was built with {key}={manifest.get(key)!r}, "
                                           f"this build uses {want!r}")
    for name, digest in manifest.get("checksums", {}).items():
        path = version / name
        if not path.is_file():
            raise IndexProblem("damaged", f"{version.name}/{name} is missing")
        if _sha256_file(path) != digest:
            raise IndexProblem("damaged", f"{version.name}/{name} does not match its checksum (truncated or corrupted)")
    try:
        documents = {d.doc_id: d for d in (_doc_from_row(row) for row in _read_jsonl(version / "documents.jsonl"))}
        chunks = [Chunk.from_dict(row) for row in _read_jsonl(version / "chunks.jsonl")]
        dense = DenseIndex.load(version / "dense.faiss", encoder.dimension)
        lexical = LexicalIndex.load(version / "bm25", len(chunks))
    except IndexProblem:
        raise
    except Exception as exc:  # any parse error of the files means the same: do not use it
        raise IndexProblem("damaged", f"cannot load index {version.name}: {exc}") from exc
    counts = manifest.get("counts", {})
    if not (len(dense) == len(chunks) == counts.get("chunks") and len(documents) == counts.get("documents")):
        raise IndexProblem("damaged", f"index counts disagree: {len(chunks)} chunks, {len(dense)} vectors, "
                                      f"manifest says {counts}")
    for c in chunks:
        doc = documents.get(c.doc_id)
        if doc is None or doc.text[c.doc_start:c.doc_end] != c.text:
            raise IndexProblem("damaged", f"chunk {c.chunk_id} does not match its article text")
    return CorpusIndex(manifest, documents, chunks, dense, lexical, path=version)


# ---------------------------------------------------------------- updating

def update_index(index_dir: str | Path, documents: Sequence[Document], encoder: Encoder,
                 config: QAConfig, progress: bool = False) -> tuple[CorpusIndex, UpdateReport]:
    """Bring the index in ``index_dir`` in line with ``documents``, embedding only new or changed
    articles. Safe against concurrent writers (file lock) and crashes (atomic version switch)."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with _locked(index_dir):
        report = UpdateReport()
        try:
            old = load_index(index_dir, encoder, config)
        except IndexProblem as problem:
            old = None
            if problem.kind != "missing":
                report.rebuilt_because = str(problem)
                log.warning("rebuilding the index: %s", problem)
        if old is not None and old.is_current_for(documents):
            report.unchanged = sorted(old.documents)
            report.chunks_total = len(old.chunks)
            report.path = str(old.path)
            report.seconds = time.perf_counter() - started
            return old, report

        old_vectors = old.dense.vectors() if old is not None else None
        kept: dict[str, tuple[list[Chunk], np.ndarray]] = {}
        fresh: list[Chunk] = []
        for doc in documents:
            previous = old.documents.get(doc.doc_id) if old is not None else None
            if previous is not None and previous.text == doc.text:
                # Same text, same chunks: the vectors are reused even when only metadata changed.
                rows = old.rows_by_doc.get(doc.doc_id, [])
                kept[doc.doc_id] = ([old.chunks[r] for r in rows], old_vectors[rows])
                same = _recorded(previous) == _recorded(doc) and previous.pages == doc.pages
                (report.unchanged if same else report.updated).append(doc.doc_id)
                continue
            (report.updated if previous is not None else report.added).append(doc.doc_id)
            fresh.extend(chunk_document(doc, config.chunk_sentences, config.chunk_overlap, config.chunk_max_chars))
        if old is not None:
            current = {d.doc_id for d in documents}
            report.removed = sorted(d for d in old.documents if d not in current)

        fresh_vectors = encoder.encode([c.text for c in fresh], progress=progress)
        fresh_by_doc: dict[str, list[int]] = {}
        for i, c in enumerate(fresh):
            fresh_by_doc.setdefault(c.doc_id, []).append(i)
        chunks: list[Chunk] = []
        parts: list[np.ndarray] = []
        for doc in documents:  # keep article order stable: rows follow the sorted corpus
            if doc.doc_id in kept:
                doc_chunks, vecs = kept[doc.doc_id]
            else:
                idx = fresh_by_doc.get(doc.doc_id, [])
                doc_chunks, vecs = [fresh[i] for i in idx], fresh_vectors[idx]
            chunks.extend(doc_chunks)
            parts.append(vecs)
        vectors = np.concatenate(parts) if parts else np.zeros((0, encoder.dimension), dtype=np.float32)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        old_files = old.manifest.get("files", {}) if old is not None else {}
        # When each article entered the index: carried over while its content is unchanged.
        indexed_at = {d.doc_id: (old_files.get(d.doc_id, {}).get("indexed") or now) if d.doc_id in kept else now
                      for d in documents}
        index = CorpusIndex(
            manifest={
                **expected_settings(encoder, config),
                "created": now,
                "counts": {"documents": len(documents), "chunks": len(chunks)},
                "files": {d.doc_id: {**_recorded(d),
                                     "chars": len(d.text), "chunks": sum(c.doc_id == d.doc_id for c in chunks),
                                     "indexed": indexed_at[d.doc_id]}
                          for d in documents},
            },
            documents={d.doc_id: d for d in documents},
            chunks=chunks,
            dense=DenseIndex.from_vectors(vectors, encoder.dimension),
            lexical=LexicalIndex.build([c.text for c in chunks]),
        )
        index.path = _write_version(index_dir, index)
        report.chunks_embedded = len(fresh)
        report.chunks_total = len(chunks)
        report.path = str(index.path)
        report.seconds = time.perf_counter() - started
        return index, report


def _write_version(index_dir: Path, index: CorpusIndex) -> Path:
    name = f"v-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(4)}"
    tmp = index_dir / f".tmp-{name}"
    tmp.mkdir()
    try:
        _write_jsonl(tmp / "documents.jsonl", (_doc_row(d) for d in index.documents.values()))
        _write_jsonl(tmp / "chunks.jsonl", (c.to_dict() for c in index.chunks))
        index.dense.save(tmp / "dense.faiss")
        index.lexical.save(tmp / "bm25")
        files = sorted(p for p in tmp.rglob("*") if p.is_file())
        index.manifest["checksums"] = {str(p.relative_to(tmp)): _sha256_file(p) for p in files}
        (tmp / "manifest.json").write_text(json.dumps(index.manifest, indent=1, sort_keys=True), encoding="utf-8")
        for p in [*files, tmp / "manifest.json"]:
            _fsync(p)
        final = index_dir / name
        os.replace(tmp, final)  # the folder is complete before anything points at it
        _fsync_dir(index_dir)
        pointer_tmp = index_dir / f".{POINTER}.{secrets.token_hex(4)}"
        pointer_tmp.write_text(name + "\n", encoding="utf-8")
        _fsync(pointer_tmp)
        os.replace(pointer_tmp, index_dir / POINTER)  # the commit point
        _fsync_dir(index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _remove_old_versions(index_dir, keep=name)
    return final


def _remove_old_versions(index_dir: Path, keep: str) -> None:
    for p in index_dir.iterdir():
        if p.name != keep and (p.name.startswith("v-") or p.name.startswith(".tmp-v-")) and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith(f".{POINTER}."):
            p.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(index_dir: Path) -> Iterator[None]:
    with open(index_dir / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _doc_row(d: Document) -> dict:
    row = asdict(d)
    row["pages"] = list(d.pages)
    return row


def _doc_from_row(row: dict) -> Document:
    return Document(**{**row, "pages": tuple(int(p) for p in row.get("pages") or ())})


def _recorded(d: Document) -> dict:
    return {k: getattr(d, k) for k in RECORDED}


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        _fsync(path)
