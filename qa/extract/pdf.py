"""PDFs: the text layer in reading order, as paragraphs, with the offset where each page starts.

pypdf reads each page's text in content-stream order, which is the order the authoring program
wrote it: column by column in a multi-column report, where a reader by position (pdfplumber,
pdfminer) interleaves the columns line by line. That, measured on the fixture PDFs, is why pypdf
was chosen (``scripts/extract_quality.py``, ``reports/extract.md``). ``assemble`` then makes prose
of the page lines, whatever library produced them:

- running headers and footers (a line, digits aside, among the first or last lines of most pages:
  "Page 3 of 5", a print date and URL) and lone page numbers are dropped;
- a word hyphenated at a line end is joined ("esti-" + "mated" -> "estimated"), keeping the hyphen
  when the document writes that word with one elsewhere ("sea-level");
- lines are joined into paragraphs; a short line ending a sentence, or a short line such as a
  heading or byline followed by a capital, ends one. Paragraphs are separated by blank lines.

A PDF with no text layer (a scan) or one that needs a password is refused with a reason; pages are
counted from 1 in the order of the file, and ``Extracted.pages`` maps text offsets to them.
"""
from __future__ import annotations

import io
import logging
import re
import time
from collections import Counter
from collections.abc import Sequence

from .base import Extracted, LoadError, Metadata, first_line
from .dates import date_from_lines

log = logging.getLogger(__name__)
# pypdf logs a warning per odd object in a damaged file; the report says what matters, once.
logging.getLogger("pypdf").setLevel(logging.ERROR)

LAYOUT_VERSION = 1  # bump when ``assemble`` changes what it makes of the same lines
MAX_PAGES = 1000
MAX_TEXT_CHARS = 5_000_000  # as chunk.MAX_TEXT_CHARS: more than one file may be split into
MAX_SECONDS = 120.0  # reading the text of one PDF; a hostile one could otherwise take hours
MIN_TEXT_CHARS = 40  # less text than this in the whole file: no text layer to speak of
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\ufb05": "st", "\ufb06": "st"})
_PAGE_NUMBER = re.compile(r"^(?:(?:page|p\.)\s*)?[-–—(]?\s*\d{1,4}\s*[-–—)]?(?:\s*(?:of|/)\s*\d{1,4})?$",
                          re.IGNORECASE)
_EDGE_LINES = 3  # running headers/footers are among the first or last this many lines of a page
_ENDS_SENTENCE = tuple(".!?:;\"”’)")


def _version() -> str:
    from importlib.metadata import version

    return f"pypdf {version('pypdf')} + layout {LAYOUT_VERSION}"


def extract_pdf(raw: bytes) -> Extracted:
    """The article text of a PDF, or ``LoadError`` (encrypted, damaged, no text layer)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not raw.startswith(b"%PDF-"):
        raise LoadError("not a PDF (the file does not start with %PDF-); if it is one, re-download it")
    try:
        reader = PdfReader(io.BytesIO(raw), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):  # an owner password alone still opens
            raise LoadError("the PDF is encrypted with a password; save an unprotected copy (open it and "
                            "print it to PDF) and add that")
        pages = reader.pages
        count = len(pages)
    except LoadError:
        raise
    except Exception as exc:  # pypdf raises many kinds on a damaged file; all mean the same here
        kind = "damaged" if isinstance(exc, PdfReadError) else f"unreadable ({type(exc).__name__})"
        raise LoadError(f"the PDF is {kind}: {str(exc)[:160] or 'no detail'}; re-download or re-save it") from exc
    if count > MAX_PAGES:
        raise LoadError(f"the PDF has {count:,} pages; articles are limited to {MAX_PAGES:,}")
    texts, problems, failures = [], [], []
    started, chars = time.monotonic(), 0
    for n in range(count):
        try:
            texts.append(pages[n].extract_text() or "")
        except Exception as exc:
            texts.append("")
            failures.append((n + 1, exc))
            problems.append(f"page {n + 1} could not be read ({_why_unreadable(exc)}); it is left out")
        chars += len(texts[-1])
        if chars > MAX_TEXT_CHARS:
            raise LoadError(f"the PDF's text passes {MAX_TEXT_CHARS:,} characters by page {n + 1} of {count}; "
                            "one file may hold at most that: split it into smaller files")
        if time.monotonic() - started > MAX_SECONDS and n + 1 < count:
            raise LoadError(f"reading the PDF's text took more than {MAX_SECONDS:.0f} s by page {n + 1} of {count} "
                            "(a very complex or hostile file); re-save it (print it to PDF) or split it")
    if sum(len(t.strip()) for t in texts) < MIN_TEXT_CHARS:
        if failures:  # not a scan: pages that could not be read at all
            pages_shown = ", ".join(str(p) for p, _ in failures[:5]) + (" ..." if len(failures) > 5 else "")
            raise LoadError(f"no text could be read from the PDF: page{'s' if len(failures) > 1 else ''} "
                            f"{pages_shown} could not be read ({_why_unreadable(failures[0][1])}); "
                            "re-save it (print it to PDF) or add its text as a .txt file")
        raise LoadError("the PDF has no text layer (a scan or photos of pages?); run OCR on it first, e.g. "
                        "`ocrmypdf in.pdf out.pdf`, and add the result")
    blank = [str(n + 1) for n, t in enumerate(texts) if not t.strip()]
    if blank and len(texts) > 1:
        problems.append(f"page{'s' if len(blank) > 1 else ''} {', '.join(blank)} ha{'ve' if len(blank) > 1 else 's'} "
                        "no text layer (scanned?) and {} not indexed".format("are" if len(blank) > 1 else "is"))
    text, starts = assemble(texts)
    if not text.strip():  # every line was taken for a running header or footer
        distinct = {" ".join(t.split()) for t in texts if t.strip()}
        if len(distinct) == 1:
            raise LoadError(f"all {count:,} pages of the PDF carry the same text, which reads as a running header "
                            "or footer: there is no article in it (if there is, keep one page and add that)")
        raise LoadError("every line of the PDF repeats at the top or bottom of most pages (running headers and "
                        "footers), so no article text is left once they are removed")
    info = _info(reader)
    title = _useful_title(info.get("/Title", ""))
    meta = Metadata(title=title or first_line(text), author=" ".join(str(info.get("/Author", "")).split()),
                    published=date_from_lines(text[: (starts[1] if len(starts) > 1 else len(text))].split("\n")[:12]))
    return Extracted(text=text, meta=meta, extractor=_version(), pages=tuple(starts), problems=tuple(problems))


def _why_unreadable(exc: Exception) -> str:
    from pypdf.errors import LimitReachedError

    if isinstance(exc, LimitReachedError):
        return ("its content decompresses past pypdf's size limit: a compression bomb, or a page far larger "
                "than any article")
    return type(exc).__name__


def _info(reader) -> dict:
    try:
        return dict(reader.metadata or {})
    except Exception:  # a damaged Info dictionary: the text is still worth having
        return {}


def _useful_title(title) -> str:
    """The Info title unless it is a program's placeholder ("Microsoft Word - x.docx", "untitled")."""
    title = " ".join(str(title or "").split())
    title = re.sub(r"^Microsoft (?:Word|PowerPoint) - ", "", title)
    if not title or title.lower() in ("untitled", "title") or re.search(r"\.(docx?|pdf|odt|rtf|indd)$", title, re.I):
        return ""
    return title


# ------------------------------------------------------------------ lines -> paragraphs


def _clean_line(line: str) -> str:
    return " ".join(line.translate(_LIGATURES).split())


def _running_lines(pages: Sequence[list[str]]) -> set[str]:
    """Keys (digits blanked) of lines that recur at the top or bottom of most pages."""
    if len(pages) < 2:
        return set()
    seen: Counter[str] = Counter()
    for lines in pages:
        edge = lines[:_EDGE_LINES] + lines[-_EDGE_LINES:]
        seen.update({_key(line) for line in edge})
    return {k for k, n in seen.items() if n >= 2 and n >= len(pages) / 2}


def _key(line: str) -> str:
    return re.sub(r"\d+", "#", line.lower())


def assemble(page_texts: Sequence[str]) -> tuple[str, list[int]]:
    """(text, start offset of each page in it) from each page's extracted text (lines in order)."""
    pages = [[c for c in (_clean_line(x) for x in t.split("\n")) if c] for t in page_texts]
    running = _running_lines(pages)
    kept: list[list[str]] = []
    for lines in pages:
        n = len(lines)
        kept.append([line for i, line in enumerate(lines)
                     if not _PAGE_NUMBER.match(line)
                     and not ((i < _EDGE_LINES or i >= n - _EDGE_LINES) and _key(line) in running)])
    vocabulary = _vocabulary(kept)
    flat = [(p, line) for p, lines in enumerate(kept) for line in lines]
    widths = {p: _typical_width(lines) for p, lines in enumerate(kept)}
    parts: list[str] = []
    length = 0
    starts: list[int | None] = [None] * len(pages)
    for i, (page, line) in enumerate(flat):
        if starts[page] is None:
            starts[page] = length
        nxt = flat[i + 1][1] if i + 1 < len(flat) else None
        if nxt is None:
            sep = ""
        elif _hyphen_break(line, nxt):
            line, sep = _join_hyphen(line, nxt, vocabulary), ""
        elif _ends_paragraph(line, nxt, widths[page]):
            sep = "\n\n"
        else:
            sep = " "
        parts.append(line + sep)
        length += len(line) + len(sep)
    text = "".join(parts)
    # A page with no kept lines starts where the next one does (or at the end).
    out, following = [], len(text)
    for s in reversed(starts):
        following = s if s is not None else following
        out.append(following)
    return text, out[::-1]


def _typical_width(lines: list[str]) -> float:
    widths = sorted(len(x) for x in lines if len(x) >= 20)
    return float(widths[int(0.8 * (len(widths) - 1))]) if widths else 60.0


def _hyphen_break(line: str, nxt: str) -> bool:
    return (line.endswith("\u00ad") or (len(line) > 1 and line[-1] in "-\u2010" and line[-2].isalpha())) \
        and nxt[:1].islower()


def _join_hyphen(line: str, nxt: str, vocabulary: set[str]) -> str:
    """``line`` ready to be followed directly by ``nxt``: the break's hyphen kept only when the
    document spells the word with one elsewhere."""
    stem = line[:-1]
    head = re.search(r"([A-Za-z]+)$", stem)
    tail = re.match(r"([a-z]+)", nxt)
    if line.endswith("\u00ad") or not head or not tail:
        return stem
    word = f"{head.group(1)}-{tail.group(1)}".lower()
    return line if word in vocabulary else stem


def _vocabulary(pages: Sequence[list[str]]) -> set[str]:
    """Hyphenated words the document writes within a line (so a break there keeps its hyphen)."""
    return {m.group(0).lower() for lines in pages for line in lines
            for m in re.finditer(r"[A-Za-z]+-[A-Za-z]+", line[:-1] if line.endswith("-") else line)}


def _ends_paragraph(line: str, nxt: str, width: float) -> bool:
    if line.endswith(_ENDS_SENTENCE) and len(line) < 0.85 * width:
        return True
    # A short line that does not run on into a lowercase continuation: a heading, a byline.
    return len(line) < 0.6 * width and not nxt[:1].islower()
