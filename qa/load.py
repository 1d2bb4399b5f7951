"""Folder -> Documents. The file's type picks the extractor (``qa/extract/``):

- ``.txt`` / ``.md`` / ``.markdown``: read as written, after an optional front-matter block;
- ``.html`` / ``.htm``: the article body and metadata of a saved page (trafilatura);
- ``.pdf``: the text layer in reading order, with page offsets (pypdf).

Metadata from a sidecar (``NAME.meta.json`` or the folder's ``metadata.jsonl``, see
``extract/sidecar.py``) wins over what the extractor read. The document text is what every offset
points into, so it is never re-normalised after extraction; the raw file is never changed.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .corpus_files import CorpusFile, read_inside, walk_corpus
from .extract.base import Extracted, LoadError, Metadata, clean_title
from .chunk import too_big_to_index
from .extract.sidecar import is_sidecar, read_sidecars
from .types import Document

__all__ = ["LoadError", "Skipped", "load_corpus", "load_document", "document_from_bytes", "read_article"]

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
PDF_SUFFIXES = (".pdf",)
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + PDF_SUFFIXES
MAX_FILE_BYTES = 5_000_000  # a news article is ~10 kB, a saved page ~1 MB; anything this large is not one
MAX_PDF_BYTES = 50_000_000  # a PDF carries fonts and pictures: a long report can be tens of MB


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why; or, with ``note``, an article that was indexed with
    something left out (a date that is not a date, an unreadable sidecar)."""

    path: str
    reason: str
    note: bool = False

    def line(self) -> str:
        return f"{'note' if self.note else 'skipped'} {self.path}: {self.reason}"


def max_bytes(suffix: str) -> int:
    return MAX_PDF_BYTES if suffix in PDF_SUFFIXES else MAX_FILE_BYTES


def load_corpus(folder: str | Path, progress: bool = False,
                read_files: "ReadFiles | None" = None) -> tuple[list[Document], list[Skipped]]:
    """Load every supported article in ``folder`` and its sub-folders (hidden ones skipped).

    Returns the documents sorted by id and what was skipped or noted, each with a reason.
    Raises ``FileNotFoundError`` if the folder does not exist. ``read_files`` reads and extracts
    the articles (``read_files_serially`` by default; qa/bulk/ray_index.py spreads them over Ray):
    the result is the same either way.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {root} (pass --corpus FOLDER with .txt/.md/.html/.pdf "
                                "articles)")
    # Links out of the folder, names that are not UTF-8, FIFOs...: passed over with a reason.
    found, passed_over = walk_corpus(root)
    skipped = [Skipped(path, reason) for path, reason in passed_over]
    by_path = {f.path: f for f in found}
    paths = [f.path for f in found]
    sidecars, problems = read_sidecars(root, [p for p in paths if is_sidecar(p)])
    skipped += [Skipped(path, reason, note=True) for path, reason in problems]
    articles = [p for p in paths if not is_sidecar(p)]
    jobs = [(str(p), str(by_path[p].real), str(p.relative_to(root)),
             sidecars.get((str(p.relative_to(root).parent), p.stem), (None, ""))[0], str(root))
            for p in articles if p.suffix.lower() in SUPPORTED_SUFFIXES]
    results = iter((read_files or read_files_serially)(jobs, progress))
    docs: dict[str, Document] = {}
    for path in articles:
        rel = path.relative_to(root)
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            skipped.append(Skipped(str(rel), f"unsupported type {path.suffix or '(none)'}; use .txt, .md, .html "
                                             "or .pdf"))
            continue
        result = next(results)
        if isinstance(result, LoadError):
            skipped.append(Skipped(str(rel), str(result)))
            continue
        doc, notes = result
        if doc.doc_id in docs:
            skipped.append(Skipped(str(rel), f"duplicate article id {doc.doc_id!r} (same file name as {docs[doc.doc_id].path})"))
            continue
        skipped.extend(Skipped(str(rel), n, note=True) for n in notes)
        docs[doc.doc_id] = doc
    present = {(str(p.relative_to(root).parent), p.stem) for p in articles}
    for key, (_, where) in sorted(sidecars.items()):
        if key not in present:
            skipped.append(Skipped(where, f"metadata for {key[1]!r}, but no article of that name is beside it"))
    for s in skipped:
        log.info(s.line())
    return [docs[k] for k in sorted(docs)], skipped


# One article to read: (path as found, the file it is, path relative to the corpus, its sidecar's
# metadata or None, the corpus folder it must stay inside). Plain strings: Ray ships them to workers.
ReadJob = tuple[str, str, str, "Metadata | None", str]
# Reads jobs in order: for each, (Document, notes) or the LoadError saying why it is not an article.
ReadFiles = Callable[[Sequence[ReadJob], bool], Iterable["tuple[Document, list[str]] | LoadError"]]


def read_files_serially(jobs: Sequence[ReadJob], progress: bool = False):
    """``read_job`` over ``jobs`` in this process, with a progress bar."""
    from tqdm import tqdm

    for job in tqdm(jobs, desc="reading articles", unit="file", disable=not progress or len(jobs) < 2):
        yield read_job(job)


def read_job(job: ReadJob) -> "tuple[Document, list[str]] | LoadError":
    path, real, rel, meta, root = job
    try:
        return read_article_file(CorpusFile(Path(path), Path(real), rel), rel, meta, root)
    except LoadError as exc:
        return exc


def read_article_file(file: CorpusFile | Path, rel: str, meta: Metadata | None = None,
                      root: str | Path | None = None) -> tuple[Document, list[str]]:
    """One file of the corpus (size checked before it is read, never more than the limit read;
    with ``root``, opened only as a regular file inside it), with the notes about it."""
    if not isinstance(file, CorpusFile):
        file = CorpusFile(Path(file), Path(file), rel)
    suffix = file.path.suffix.lower()
    try:
        size = file.real.stat().st_size
        if size > max_bytes(suffix):
            raise LoadError(f"file is {size:,} bytes; {suffix} articles are limited to {max_bytes(suffix):,} bytes")
        raw = (read_inside(file, root, max_bytes(suffix)) if root is not None
               else file.real.read_bytes())
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror or exc}") from exc
    return read_article(raw, doc_id=file.path.stem, path=rel, suffix=suffix, meta=meta)


def load_document(path: str | Path, rel: str | None = None, meta: Metadata | None = None) -> Document:
    path = Path(path)
    return read_article_file(path, rel or str(path), meta)[0]


def document_from_bytes(raw: bytes, doc_id: str, path: str, suffix: str = ".txt",
                        meta: Metadata | None = None) -> Document:
    """Validate and extract one article's bytes (shared by folder loading and chat uploads)."""
    return read_article(raw, doc_id, path, suffix, meta)[0]


def read_article(raw: bytes, doc_id: str, path: str, suffix: str = ".txt",
                 meta: Metadata | None = None) -> tuple[Document, list[str]]:
    """(the Document, notes on what was left out) for one article's bytes; ``meta`` (a sidecar's)
    wins over what the file says. Raises ``LoadError`` saying why the file is not an article."""
    suffix = suffix.lower()
    if len(raw) > max_bytes(suffix):
        raise LoadError(f"file is {len(raw):,} bytes; {suffix} articles are limited to {max_bytes(suffix):,} bytes")
    extracted = extract(raw, suffix)
    merged = (meta or Metadata()).over(extracted.meta)
    text = extracted.text
    if not text.strip():
        raise LoadError("file has no text")
    too_big = too_big_to_index(text)
    if too_big:
        raise LoadError(too_big)
    return Document(doc_id=doc_id, title=clean_title(merged.title, merged.source) or doc_id, path=path, text=text,
                    sha256=hashlib.sha256(raw).hexdigest(), source=merged.source, published=merged.published,
                    url=merged.url, author=merged.author, extractor=extracted.extractor,
                    pages=extracted.pages), list(extracted.problems)


def extract(raw: bytes, suffix: str) -> Extracted:
    """The extractor for ``suffix`` applied to ``raw`` (imported when first needed: the chat and
    ``--help`` need not load trafilatura or pypdf)."""
    if suffix in HTML_SUFFIXES:
        from .extract.html import extract_html

        return extract_html(raw)
    if suffix in PDF_SUFFIXES:
        from .extract.pdf import extract_pdf

        return extract_pdf(raw)
    from .extract.text import extract_text

    return extract_text(raw, markdown=suffix in (".md", ".markdown"))
