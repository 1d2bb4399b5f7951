"""Adding and removing articles of a running Pipeline's corpus folder (the chat's article panel).

Works on a ``Pipeline`` from the outside: it validates and writes files into
``pipeline.corpus_dir`` and then calls ``pipeline.index()``, which rescans the folder and updates the
index incrementally (only the new article is embedded). Every check happens *before* the corpus
folder is touched, and a file only ever appears there complete (temp file + fsync + link), so a
refused or interrupted upload leaves the corpus and the live index as they were.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .load import LoadError, document_from_bytes, max_bytes
from .store import UpdateReport

# What the chat accepts. ``load.SUPPORTED_SUFFIXES`` also reads .markdown/.htm from the folder; the
# upload path keeps to the four types the page advertises.
UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".pdf")
MAX_NAME_CHARS = 80  # of the stem: long enough for a headline-like name, short enough for a table

# Serialises check-then-write per corpus folder so two uploads of the same name cannot both pass
# the "already exists" check. (Index updates have their own lock inside the Pipeline.)
_folder_locks: dict[Path, threading.Lock] = {}
_folder_locks_guard = threading.Lock()

Progress = Callable[[float, str], None]


def _folder_lock(folder: Path) -> threading.Lock:
    key = folder.resolve()
    with _folder_locks_guard:
        return _folder_locks.setdefault(key, threading.Lock())


def sanitise_filename(name: str) -> str:
    """A safe file name for ``name`` as a browser sent it, or ``LoadError`` saying why not.

    Keeps only the last path component (no directories, no traversal), folds Unicode to ASCII where
    it can, replaces anything but letters, digits, ``-``, ``_`` and ``.`` by ``_``, and refuses
    hidden names and unsupported types. The result is a plain name like ``my_article.txt``.
    """
    if not isinstance(name, str) or not name.strip():
        raise LoadError("the file has no name")
    base = re.split(r"[\\/]", name.strip())[-1]  # browsers on Windows may send C:\...\x.txt
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = "." + suffix.lower() if suffix else ""
    if suffix not in UPLOAD_SUFFIXES:
        raise LoadError(f"unsupported file type {suffix or '(none)'}; upload .txt, .md, .html or .pdf articles")
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem)
    stem = re.sub(r"\.{2,}", ".", stem).strip("._-")  # no "..", no hidden ".name", no trailing dots
    stem = stem[:MAX_NAME_CHARS].rstrip("._-")
    if not stem:
        raise LoadError("the file name has no usable characters; rename it, e.g. article.txt")
    return stem + suffix


@dataclass(frozen=True)
class Added:
    doc_id: str
    filename: str
    title: str
    report: UpdateReport


def add_document(pipeline, filename: str, data: bytes, progress: Progress | None = None) -> Added:
    """Validate ``data``, write it into the corpus folder as a new article and index it.

    Raises ``LoadError`` (nothing written) for a bad name, type, size, encoding or empty text, or an
    article that duplicates an existing one by name or by content. If indexing fails the file is
    taken out again, so the corpus folder never holds an article the index refused.
    """
    say = progress or (lambda fraction, message: None)
    safe = sanitise_filename(filename)
    stem, suffix = os.path.splitext(safe)
    if not isinstance(data, (bytes, bytearray)):
        raise LoadError("the upload has no file content")
    say(0.05, f"Checking {safe}")
    doc = document_from_bytes(bytes(data), doc_id=stem, path=safe, suffix=suffix)
    folder = Path(pipeline.corpus_dir)
    if not folder.is_dir():
        raise LoadError(f"the corpus folder {folder} does not exist")
    with _folder_lock(folder):
        _refuse_duplicates(pipeline, folder, doc)
        target = folder / safe
        say(0.15, f"Saving {safe}")
        _write_new_file(target, bytes(data))
    say(0.25, f"Indexing {safe}")
    try:
        report = pipeline.index(progress=True)
    except BaseException:
        target.unlink(missing_ok=True)  # the index did not take it: do not leave it in the folder
        raise
    if doc.doc_id not in {d.doc_id for d in pipeline.documents}:
        # The folder scan skipped it after all (e.g. a same-named file appeared meanwhile).
        reason = next((s.reason for s in pipeline.skipped if Path(s.path).name == safe), "it was skipped")
        target.unlink(missing_ok=True)
        pipeline.index(progress=False)
        raise LoadError(f"{safe} was not indexed: {reason}")
    say(1.0, f"Indexed {safe}")
    return Added(doc_id=doc.doc_id, filename=safe, title=doc.title, report=report)


def _refuse_duplicates(pipeline, folder: Path, doc) -> None:
    # Article ids are file stems across the whole folder tree (see load.load_corpus), so a.txt and
    # a.md would clash; the check is on the folder itself, not only on what is indexed.
    for existing in folder.rglob(f"{_glob_escape(doc.doc_id)}.*"):
        if existing.is_file() and existing.stem == doc.doc_id:
            raise LoadError(f"an article named {existing.relative_to(folder)} already exists; "
                            f"rename the file or remove the old article first")
    for other in pipeline.documents:
        if other.sha256 == doc.sha256:
            raise LoadError(f"this file is identical to the indexed article {other.path} ({other.title})")


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _write_new_file(target: Path, data: bytes) -> None:
    """Write ``target`` complete or not at all, never replacing an existing file.

    The temp name starts with a dot, which the corpus loader ignores, so a concurrent rescan never
    sees a half-written article; ``os.link`` publishes it atomically and fails if the name exists.
    """
    tmp = target.with_name(f".upload-{secrets.token_hex(6)}{target.suffix}")
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise LoadError(f"an article named {target.name} already exists") from None
        except OSError:  # a filesystem without hard links: rename instead (callers hold the folder lock)
            if target.exists():
                raise LoadError(f"an article named {target.name} already exists") from None
            os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)


def remove_document(pipeline, doc_id: str, progress: Progress | None = None) -> UpdateReport:
    """Delete the file of the indexed article ``doc_id`` from the corpus folder and reindex."""
    say = progress or (lambda fraction, message: None)
    doc = next((d for d in pipeline.documents if d.doc_id == doc_id), None)
    if doc is None:
        raise LoadError("that article is not in the index (it may have been removed already)")
    folder = Path(pipeline.corpus_dir).resolve()
    path = (folder / doc.path).resolve()
    if folder not in path.parents:  # the index names a path outside the folder: never delete it
        raise LoadError(f"refusing to delete {doc.path}: it is not inside the corpus folder")
    say(0.1, f"Removing {doc.path}")
    with _folder_lock(folder):
        path.unlink(missing_ok=True)
        _fsync_dir(path.parent)
    say(0.3, "Updating the index")
    report = pipeline.index(progress=True)
    say(1.0, f"Removed {doc.path}")
    return report


@dataclass(frozen=True)
class ArticleRow:
    doc_id: str
    title: str
    path: str
    size_bytes: int
    indexed: str  # "YYYY-MM-DD HH:MM UTC"
    # True when ``indexed`` is the index's own record; False when it is the file's modification
    # time (the store does not record per-article times yet), shown as "Added" instead.
    from_index: bool = True
    source: str = ""  # the outlet and ISO publication date, "" when unknown
    published: str = ""


def article_rows(pipeline) -> list[ArticleRow]:
    """What the article panel lists, sorted by title.

    The date is the per-article ``indexed`` time of the index manifest when the store records one,
    else the file's modification time (when it was written into the corpus folder).
    """
    folder = Path(pipeline.corpus_dir)
    files = pipeline.manifest.get("files", {})
    rows = []
    for doc in pipeline.documents:
        path = folder / doc.path
        try:
            stat = path.stat()
            size, mtime = stat.st_size, stat.st_mtime
        except OSError:  # removed from the folder since it was indexed
            size, mtime = len(doc.text.encode("utf-8")), None
        when = files.get(doc.doc_id, {}).get("indexed")
        from_index = bool(when)
        if when:
            when = _readable_time(str(when))
        elif mtime is not None:
            when = dt.datetime.fromtimestamp(mtime, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        rows.append(ArticleRow(doc.doc_id, doc.title, doc.path, size, when or "?", from_index,
                               source=doc.source, published=doc.published))
    return sorted(rows, key=lambda r: (r.title.lower(), r.doc_id))


def _readable_time(stamp: str) -> str:
    try:
        return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return stamp


def read_upload(path: str | Path, name: str | None = None) -> bytes:
    """Bytes of an uploaded temp file, refusing oversized files before reading them into memory
    (the limit is that of the type ``name``, as the browser sent it, says)."""
    path = Path(path)
    size = path.stat().st_size
    limit = max_bytes(Path(name or path.name).suffix.lower())
    if size > limit:
        raise LoadError(f"file is {size:,} bytes; articles are limited to {limit:,} bytes")
    return path.read_bytes()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
