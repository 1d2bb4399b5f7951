"""Folder -> Documents. ``.txt``/``.md`` are read as they are; ``.html`` is reduced to its text.

The document text is what every offset points into, so it is never re-normalised after loading
(only ``\\r\\n`` becomes ``\\n`` and a BOM is dropped, before any offset exists).
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

from .types import Document

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
MAX_FILE_BYTES = 5_000_000  # a news article is ~10 kB; anything this large is not one


class LoadError(ValueError):
    """A file that cannot be used as an article; the message says why and what to do."""


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def load_corpus(folder: str | Path) -> tuple[list[Document], list[Skipped]]:
    """Load every supported article in ``folder`` (not recursive into hidden folders).

    Returns the documents sorted by id and the files that were skipped, each with a reason.
    Raises ``FileNotFoundError`` if the folder does not exist.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {root} (pass --corpus FOLDER with .txt/.md/.html articles)")
    docs: dict[str, Document] = {}
    skipped: list[Skipped] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            skipped.append(Skipped(str(rel), f"unsupported type {path.suffix or '(none)'}; use .txt, .md or .html"))
            continue
        try:
            doc = load_document(path, rel=str(rel))
        except LoadError as exc:
            skipped.append(Skipped(str(rel), str(exc)))
            continue
        if doc.doc_id in docs:
            skipped.append(Skipped(str(rel), f"duplicate article id {doc.doc_id!r} (same file name as {docs[doc.doc_id].path})"))
            continue
        docs[doc.doc_id] = doc
    for s in skipped:
        log.warning("skipped %s: %s", s.path, s.reason)
    return [docs[k] for k in sorted(docs)], skipped


def load_document(path: str | Path, rel: str | None = None) -> Document:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror or exc}") from exc
    return document_from_bytes(raw, doc_id=path.stem, path=rel or str(path), suffix=path.suffix.lower())


def document_from_bytes(raw: bytes, doc_id: str, path: str, suffix: str = ".txt") -> Document:
    """Decode and validate one article's bytes (shared by folder loading and chat uploads)."""
    if len(raw) > MAX_FILE_BYTES:
        raise LoadError(f"file is {len(raw):,} bytes; articles are limited to {MAX_FILE_BYTES:,} bytes")
    if b"\x00" in raw[:8192]:
        raise LoadError("file looks binary (contains NUL bytes); save the article as UTF-8 text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"file is not valid UTF-8 (byte {exc.start}); re-save it as UTF-8") from exc
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if suffix in (".html", ".htm"):
        text = html_to_text(text)
    if not text.strip():
        raise LoadError("file has no text")
    return Document(doc_id=doc_id, title=extract_title(text, suffix) or doc_id, path=path, text=text,
                    sha256=hashlib.sha256(raw).hexdigest())


def extract_title(text: str, suffix: str = ".txt") -> str:
    """First non-empty line, without Markdown heading marks, cut to a readable length."""
    for line in text.split("\n"):
        line = line.strip()
        if line:
            if suffix in (".md", ".markdown"):
                line = line.lstrip("#").strip()
            return line if len(line) <= 120 else line[:117].rstrip() + "..."
    return ""


class _TextExtractor(HTMLParser):
    _SKIP = {"script", "style", "noscript", "template", "head"}
    _BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "title", "tr", "section",
              "article", "header", "footer", "blockquote", "pre", "ul", "ol", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
        elif tag in self._SKIP:
            self._skip += 1
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag in self._SKIP and self._skip:
            self._skip -= 1
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if self._in_title:
            self.title.append(data)
        elif not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML page, one block per paragraph; the <title> becomes the first line."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    body = "".join(parser.parts)
    body = re.sub(r"[ \t\f\v]+", " ", unescape(body))
    body = re.sub(r" *\n *", "\n", body)
    body = re.sub(r"\n{3,}", "\n\n", body).strip()
    title = " ".join("".join(parser.title).split())
    if title and not body.startswith(title):
        body = f"{title}\n\n{body}"
    return body
