"""The persisted index: manifest + atomic save/load + incremental update.

Layout of ``index_dir``::

    CURRENT                  name of the live version folder (replaced atomically)
    v-<time>-<rand>/         one complete version:
        manifest.json        format, encoder, chunking, counts, per-article hashes, file checksums
        documents.jsonl      the indexed articles (exact text: citations are sliced from it)
        chunks.jsonl         row i = FAISS row i = BM25 doc i
        dense.faiss          (+ dense_ids.npy, and dense_vectors/ when re-scoring: qa/index_dense.py)
        bm25/                BM25 segments (.npy, no pickle; qa/index_lexical.py): unchanged ones are
                             hard links to the previous version's files, so an update writes what is new

A new version is written in full into a fresh folder, fsynced, and only then does ``CURRENT``
move to it (temp file + ``os.replace``). A crash at any point leaves the previous version live.
Old versions are removed afterwards.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .backends.base import (  # noqa: F401  (re-exported: the FAISS store's callers import them from here)
    CHUNKER_VERSION,
    FORMAT_VERSION,
    IndexLocationError,
    IndexProblem,
    Plan,
    RECORDED,
    UpdateReport,
    check_settings,
    expected_settings,
    file_in_the_way,
    file_record,
    recorded,
)
from .chunk import chunk_document
from .config import QAConfig
from .embed import Encoder
from .filters import Filter
from .index_dense import DenseIndex, DenseSpec
from .index_lexical import LexicalIndex, OlderFormat
from .news.timex import TIMEX_VERSION, rows_from_json, with_dates
from .types import Chunk, Document

log = logging.getLogger(__name__)

POINTER = "CURRENT"


@dataclass
class CorpusIndex:
    """The FAISS + bm25s index of one version folder (a ``ChunkIndex``, qa/backends/base.py)."""

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
        self._last_rows: tuple[Filter, np.ndarray] | None = None

    @property
    def chunk_count(self) -> int:
        return len(self.chunks)

    def all_chunks(self) -> list[Chunk]:
        return list(self.chunks)

    def search_dense(self, vector: np.ndarray, depth: int, filter: Filter | None = None) -> list[tuple[Chunk, float]]:
        return [(self.chunks[r], s) for r, s in self.dense.search(vector, depth, self.rows_matching(filter))]

    def search_lexical(self, question: str, depth: int, filter: Filter | None = None,
                       weights: Mapping[str, float] | None = None) -> list[tuple[Chunk, float]]:
        allowed = self.rows_matching(filter)
        found = (self.lexical.search(question, depth, allowed) if weights is None
                 else self.lexical.search_weighted(weights, depth, allowed))
        return [(self.chunks[r], s) for r, s in found]

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        return [self.chunks[r] for r in self.rows_by_doc.get(doc_id, [])]

    def term_rarity(self, words: Sequence[str]) -> Mapping[str, float | None]:
        top = self.lexical.max_idf()
        if top <= 0:
            return {w: None for w in words}
        return {w: (v / top if v is not None else None) for w, v in self.lexical.idf(words).items()}

    def rows_matching(self, filter: Filter | None) -> np.ndarray | None:
        """Chunk rows of the articles ``filter`` admits (sorted), or None when there is no filter."""
        if filter is None:
            return None
        cached = self._last_rows
        if cached is not None and cached[0] == filter:  # both lists of one question use the same filter
            return cached[1]
        rows = [r for doc_id, rs in self.rows_by_doc.items()
                if (d := self.documents.get(doc_id)) is not None and filter.matches(d) for r in rs]
        allowed = np.array(sorted(rows), dtype=np.int64)
        self._last_rows = (filter, allowed)
        return allowed

    def is_current_for(self, documents: Sequence[Document]) -> bool:
        """Same set of articles with the same content hashes, metadata and extractors as the corpus now."""
        indexed = {d: {k: f.get(k, "") for k in RECORDED} for d, f in self.manifest["files"].items()}
        return indexed == {d.doc_id: recorded(d) for d in documents}


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
    check_settings(manifest, encoder, config)
    for name, digest in manifest.get("checksums", {}).items():
        path = version / name
        if not path.is_file():
            raise IndexProblem("damaged", f"{version.name}/{name} is missing")
        if _sha256_file(path) != digest:
            raise IndexProblem("damaged", f"{version.name}/{name} does not match its checksum (truncated or corrupted)")
    try:
        documents = {d.doc_id: d for d in (_doc_from_row(row) for row in _read_jsonl(version / "documents.jsonl"))}
        chunks = [Chunk.from_dict(row) for row in _read_jsonl(version / "chunks.jsonl")]
        dense = DenseIndex.load(version / "dense.faiss", encoder.dimension,
                                DenseSpec.from_dict(manifest.get("dense", {})))
        try:
            lexical = LexicalIndex.load(version / "bm25", len(chunks))
        except OlderFormat:  # an index from before BM25 segments: its chunks are all it needs
            log.warning("the BM25 index in %s is in an older format: rebuilding it from the chunks", version.name)
            lexical = LexicalIndex.build([c.text for c in chunks])
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
    articles. Safe against concurrent writers (file lock) and crashes (atomic version switch).

    The dense index is updated in place (on a copy: the live one keeps serving): the rows of
    removed and changed articles are deleted and the new ones appended. It is rebuilt only when
    the corpus size calls for another kind of index (``DenseSpec.for_size``) or none is usable."""
    index_dir = Path(index_dir)
    if not _writable_index_dir(index_dir):
        # A read-only location can still serve an index that is up to date (e.g. a replica).
        index = _current_readonly(index_dir, documents, encoder, config)
        return index, UpdateReport(unchanged=sorted(index.documents), chunks_total=len(index.chunks),
                                   path=str(index.path))
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
        by_id = {d.doc_id: d for d in documents}
        # Dates found by another version of qa/news/timex.py are recomputed, article by article.
        dates_current = old is not None and old.manifest.get("timex_version") == TIMEX_VERSION
        if old is not None and old.is_current_for(documents) and dates_current:
            report.unchanged = sorted(old.documents)
            report.chunks_total = len(old.chunks)
            report.path = str(old.path)
            report.seconds = time.perf_counter() - started
            return old, report

        plan = Plan.of(old.manifest["files"] if old is not None else {}, documents)
        report.unchanged, report.added, report.updated, report.removed = (
            plan.unchanged, plan.added, plan.updated, plan.removed)
        # An update that left the text as it was (a new date in a sidecar, another extractor that
        # reads the same words) keeps its chunks and vectors: only the article's record changes.
        retext = [d for d in plan.updated if old.documents[d].text != by_id[d].text]
        changed = set(plan.added) | set(retext)
        fresh = [c for doc in documents if doc.doc_id in changed
                 for c in chunk_document(doc, config.chunk_sentences, config.chunk_overlap, config.chunk_max_chars)]
        fresh_vectors = encoder.encode([c.text for c in fresh], progress=progress)
        gone = set(plan.removed) | set(retext)
        drop = sorted(r for d in gone for r in old.rows_by_doc.get(d, [])) if old is not None else []
        total = (len(old.chunks) - len(drop) if old is not None else 0) + len(fresh)
        spec = DenseSpec.for_size(total, config.dense_flat_max, config.dense_nprobe, config.dense_rescore)
        if old is not None and old.dense.spec.same_structure(spec):
            dense = old.dense.copy()
            dense.tune(spec)
            dense.remove_rows(drop)
            dense.add(fresh_vectors)
            # BM25 in place too: its segments are shared with the live index, never changed
            lexical = old.lexical.copy()
            lexical.remove_rows(drop)
            lexical.add([c.text for c in fresh])
            lexical.prepare()  # the statistics changed: ready before the index serves a query
            dropped = set(drop)
            chunks = [c for r, c in enumerate(old.chunks) if r not in dropped] + fresh
        else:  # first build, or another kind of index: from the kept vectors plus the new ones
            chunks, vectors = _in_corpus_order(documents, old, changed, fresh, fresh_vectors, encoder.dimension)
            dense = DenseIndex.from_vectors(vectors, encoder.dimension, spec)
            lexical = LexicalIndex.build([c.text for c in chunks])
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        old_files = old.manifest.get("files", {}) if old is not None else {}
        # When each article entered the index: carried over while its content is unchanged.
        indexed_at = {d.doc_id: (old_files.get(d.doc_id, {}).get("indexed") or now) if d.doc_id not in changed else now
                      for d in documents}
        per_doc = Counter(c.doc_id for c in chunks)
        index = CorpusIndex(
            manifest={
                **expected_settings(encoder, config),
                "created": now,
                "dense": spec.to_dict(),
                "timex_version": TIMEX_VERSION,
                "counts": {"documents": len(documents), "chunks": len(chunks)},
                "files": {d.doc_id: file_record(d, per_doc[d.doc_id], indexed_at[d.doc_id]) for d in documents},
            },
            # each article with its time expressions, resolved against its (possibly new) date
            documents={d.doc_id: with_dates(d, old.documents.get(d.doc_id) if dates_current else None)
                       for d in documents},
            chunks=chunks,
            dense=dense,
            lexical=lexical,
        )
        index.path = _write_version(index_dir, index, previous=old)
        report.chunks_embedded = len(fresh)
        report.chunks_total = len(chunks)
        report.path = str(index.path)
        report.seconds = time.perf_counter() - started
        return index, report


def _in_corpus_order(documents, old, changed, fresh, fresh_vectors, dimension) -> tuple[list[Chunk], np.ndarray]:
    """Chunks and vectors of a rebuilt index, article by article in corpus order."""
    fresh_by_doc: dict[str, list[int]] = {}
    for i, c in enumerate(fresh):
        fresh_by_doc.setdefault(c.doc_id, []).append(i)
    chunks: list[Chunk] = []
    parts: list[np.ndarray] = []
    for doc in documents:
        if doc.doc_id in changed:
            idx = fresh_by_doc.get(doc.doc_id, [])
            chunks.extend(fresh[i] for i in idx)
            parts.append(fresh_vectors[idx])
        else:
            rows = old.rows_by_doc.get(doc.doc_id, [])
            chunks.extend(old.chunks[r] for r in rows)
            parts.append(old.dense.vectors(rows))
    vectors = np.concatenate(parts) if parts else np.zeros((0, dimension), dtype=np.float32)
    return chunks, vectors


def _writable_index_dir(index_dir: Path) -> bool:
    """Create ``index_dir`` if needed; False when it exists but cannot be written. Raises
    ``IndexLocationError`` when it cannot be a folder at all."""
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexLocationError(f"the index location {index_dir} is a file, not a folder: pass --index-dir "
                                 "a folder (it is created when missing) or move the file away")
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise IndexLocationError(f"cannot create the index folder {index_dir}: {file_in_the_way(index_dir)} "
                                 "is a file; pass --index-dir a folder path") from exc
    except OSError as exc:
        raise IndexLocationError(f"cannot create the index folder {index_dir}: {exc.strerror or exc}; "
                                 "pass --index-dir a folder you can write to") from exc
    return os.access(index_dir, os.W_OK | os.X_OK)


def _current_readonly(index_dir: Path, documents, encoder, config) -> CorpusIndex:
    try:
        index = load_index(index_dir, encoder, config)
    except IndexProblem as problem:
        raise IndexLocationError(f"cannot write to the index folder {index_dir} (permission denied), and the index "
                                 f"there cannot be used as it is ({problem}); pass --index-dir a folder you can "
                                 "write to, or fix its permissions") from problem
    if not index.is_current_for(documents):
        raise IndexLocationError(f"cannot write to the index folder {index_dir} (permission denied) to add the "
                                 "corpus's new or changed articles; pass --index-dir a folder you can write to, "
                                 "or fix its permissions (the index there still answers for what it holds)")
    return index


_LOCATION_ERRNOS = {errno.ENOSPC: "no space left on the disk", errno.EDQUOT: "the disk quota is exhausted",
                    errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied"}


def _write_version(index_dir: Path, index: CorpusIndex, previous: CorpusIndex | None = None) -> Path:
    try:
        return _write_version_files(index_dir, index, previous)
    except OSError as exc:
        if exc.errno not in _LOCATION_ERRNOS or isinstance(exc, IndexLocationError):
            raise
        raise IndexLocationError(f"cannot write the index in {index_dir}: {_LOCATION_ERRNOS[exc.errno]}; free "
                                 "space or pass --index-dir a folder on another disk (the previous index is "
                                 "unchanged)") from exc


def _write_version_files(index_dir: Path, index: CorpusIndex, previous: CorpusIndex | None = None) -> Path:
    name = f"v-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(4)}"
    tmp = index_dir / f".tmp-{name}"
    tmp.mkdir()
    try:
        _write_jsonl(tmp / "documents.jsonl", (_doc_row(d) for d in index.documents.values()))
        _write_jsonl(tmp / "chunks.jsonl", (c.to_dict() for c in index.chunks))
        index.dense.save(tmp / "dense.faiss")
        index.dense.save_vectors(tmp / "dense.faiss", previous.path / "dense.faiss" if previous and previous.path else None)
        # unchanged BM25 segments are hard-linked from the live version (immutable files)
        index.lexical.save(tmp / "bm25", previous=previous.path / "bm25" if previous and previous.path else None)
        files = sorted(p for p in tmp.rglob("*") if p.is_file())
        index.manifest["checksums"] = {str(p.relative_to(tmp)): _checksum(p, tmp, previous) for p in files}
        (tmp / "manifest.json").write_text(json.dumps(index.manifest, indent=1, sort_keys=True), encoding="utf-8")
        for p in [*files, tmp / "manifest.json"]:
            if p.stat().st_nlink == 1:  # a linked file was fsynced when its first version was written
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
    row = asdict(d)  # every field, so outlet, date and pages survive a reload (filters need them)
    row["pages"] = list(d.pages)
    row["dates"] = [list(t) for t in d.dates]
    return row


def _doc_from_row(row: dict) -> Document:
    return Document(**{**row, "pages": tuple(int(p) for p in row.get("pages") or ()),
                       "dates": rows_from_json(row.get("dates"))})


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _checksum(path: Path, folder: Path, previous: CorpusIndex | None) -> str:
    """The SHA-256 of ``path``; a file hard-linked from the previous version (the same inode, which
    no one writes) keeps the checksum recorded there: damage since then still fails the next load."""
    rel = str(path.relative_to(folder))
    if previous is not None and previous.path is not None:
        known = previous.manifest.get("checksums", {}).get(rel)
        with contextlib.suppress(OSError):
            if known and os.path.samefile(path, previous.path / rel):
                return known
    return _sha256_file(path)


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
