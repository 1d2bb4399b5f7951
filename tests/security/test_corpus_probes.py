"""Corpus-file probes (issue 22, findings 2, 3, 4 and the PDF reasons of 9): what the operator put
in the corpus folder, and only that, is indexed; a file that cannot be is skipped with a reason and
never stops the others; no file costs unbounded time.

Each probe builds a folder with two good articles and the probe, loads it (and, for names, runs
the whole index update through the store, where a name that is not UTF-8 used to crash), and
asserts the reason, that the good articles are indexed, that nothing from outside the folder is,
and a time bound.
"""
from __future__ import annotations

import functools
import os
import time
import zlib
from pathlib import Path

import pytest

from qa.load import load_corpus
from qa.pipeline import Pipeline

from ..conftest import FakeEncoder

GOOD = {
    "bridge.txt": "New bridge opens\n\nThe new Tay bridge was designed by Anna Kowalski. It opened on March 3, 2021.",
    "harvest.md": "# Apple harvest\n\nFarmers in Nova Scotia picked 2.5 million bushels of apples this year.",
}
OUTSIDE = "root:x:0:0:root:/root:/bin/bash OUTSIDE-THE-CORPUS"


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in GOOD.items():
        (folder / name).write_text(text, encoding="utf-8")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "passwd.txt").write_text(OUTSIDE + "\n", encoding="utf-8")
    (tmp_path / "outside" / "notes.meta.json").write_text('{"title": "' + OUTSIDE + '"}', encoding="utf-8")
    return folder


def _load(folder: Path, bound_s: float = 10.0):
    start = time.monotonic()
    docs, skipped = load_corpus(folder)
    seconds = time.monotonic() - start
    assert seconds < bound_s, seconds
    ids = {d.doc_id for d in docs}
    assert {"bridge", "harvest"} <= ids, ids  # nothing lost
    assert not any(OUTSIDE in d.text or OUTSIDE in d.title for d in docs)
    reasons = {s.path: s.reason for s in skipped}
    return docs, reasons


def _index(folder: Path, tmp_path: Path) -> Pipeline:
    pipeline = Pipeline(folder, tmp_path / "index", reader="heuristic", encoder=FakeEncoder())
    pipeline.index(progress=False)
    return pipeline


# ------------------------------------------------------------------ names

BAD_NAMES = [b"bad\xff\xfename.txt", b"\xff.txt", b"caf\xe9.txt", b"\xc3\x28.md", b"\xed\xa0\x80surrogate.txt",
             b"over\xc0\xaflong.txt", b"trail\x80.html", b"\xfe\xff\xfe.pdf"]


@pytest.mark.parametrize("raw", BAD_NAMES, ids=[repr(n) for n in BAD_NAMES])
def test_a_file_name_that_is_not_utf8_is_skipped_with_a_reason_and_the_index_still_builds(corpus, tmp_path, raw):
    with open(os.path.join(os.fsencode(corpus), raw), "wb") as fh:
        fh.write(b"Some article text that would be indexed. It has two sentences.")
    _, reasons = _load(corpus)
    shown = raw.decode("utf-8", "backslashreplace")
    assert "not valid UTF-8" in reasons[shown] and "rename it" in reasons[shown]
    pipeline = _index(corpus, tmp_path)  # the store used to die here with UnicodeEncodeError
    assert {d.doc_id for d in pipeline.documents} == {"bridge", "harvest"}
    assert any(s.path == shown for s in pipeline.skipped)
    for s in pipeline.skipped:
        s.line().encode("utf-8")  # printable: `qa index` prints these lines


def test_a_folder_name_that_is_not_utf8_is_skipped_with_everything_in_it(corpus, tmp_path):
    folder = os.path.join(os.fsencode(corpus), b"dir\xff")
    os.mkdir(folder)
    with open(os.path.join(folder, b"inside.txt"), "wb") as fh:
        fh.write(b"Inside a badly named folder. Two sentences here.")
    _, reasons = _load(corpus)
    assert "nothing in it is indexed" in reasons["dir\\xff"]
    assert {d.doc_id for d in _index(corpus, tmp_path).documents} == {"bridge", "harvest"}


ODD_BUT_VALID_NAMES = ["café.txt", "日本語の記事.txt", "emoji 📰 news.md", "with space.txt", "-leading-dash.txt",
                       "semi;colon.txt", "hash#mark.txt", "quote'and\"double.txt", "back\\slash.txt",
                       "tab\tname.txt", "new\nline.txt", "rtl\u202eoverride.txt", "e\u0301-decomposed.txt",
                       "x" * 240 + ".txt", "percent%2e%2e.txt", "<img src=x onerror=alert(1)>.txt"]


@pytest.mark.parametrize("name", ODD_BUT_VALID_NAMES, ids=[repr(n[:30]) for n in ODD_BUT_VALID_NAMES])
def test_an_odd_but_valid_name_is_indexed_like_any_other(corpus, tmp_path, name):
    (corpus / name).write_text("Odd name article\n\nThe ferry to the island sails at noon. It returns at six.",
                               encoding="utf-8")
    docs, reasons = _load(corpus)
    assert Path(name).stem in {d.doc_id for d in docs} and reasons == {}
    pipeline = _index(corpus, tmp_path)
    assert Path(name).stem in {d.doc_id for d in pipeline.documents}


def test_hidden_files_and_folders_stay_out_as_before(corpus):
    (corpus / ".secret.txt").write_text("Hidden words. Never indexed.", encoding="utf-8")
    (corpus / ".git").mkdir()
    (corpus / ".git" / "config.txt").write_text("Hidden folder words. Never indexed.", encoding="utf-8")
    docs, reasons = _load(corpus)
    assert {d.doc_id for d in docs} == {"bridge", "harvest"} and reasons == {}


# ------------------------------------------------------------------ links


def _links(corpus: Path) -> dict[str, tuple[str, str]]:
    """name -> (target, reason the probe expects); targets relative to the corpus folder."""
    return {
        "passwd.txt": ("/etc/passwd", "outside the corpus folder"),
        "outside.txt": ("../outside/passwd.txt", "outside the corpus folder"),
        "absolute.txt": (str(corpus.parent / "outside" / "passwd.txt"), "outside the corpus folder"),
        "chain.txt": ("chain2.txt", "outside the corpus folder"),
        "chain2.txt": ("../outside/passwd.txt", "outside the corpus folder"),
        "dirlink": ("../outside", "outside the corpus folder"),
        "rootlink": ("/", "outside the corpus folder"),
        "etc": ("/etc", "outside the corpus folder"),
        "parent": ("..", "outside the corpus folder"),
        "loop_a.txt": ("loop_b.txt", "loops"),
        "loop_b.txt": ("loop_a.txt", "loops"),
        "self.txt": ("self.txt", "loops"),
        "dangling.txt": ("no-such-file.txt", "link to nothing"),
        "zero.txt": ("/dev/zero", "outside the corpus folder"),
        "environ.txt": ("/proc/self/environ", "outside the corpus folder"),
        "notes.meta.json": ("../outside/notes.meta.json", "outside the corpus folder"),
        "hidden.txt": (".private/diary.txt", "hidden part"),
        "insidedir": ("sub", "link to a folder"),
        "selfdir": (".", "link to a folder"),
    }


@pytest.mark.parametrize("name", list(_links(Path("/x"))))
def test_a_link_out_of_the_corpus_is_never_followed(corpus, tmp_path, name):
    (corpus / ".private").mkdir()
    (corpus / ".private" / "diary.txt").write_text(OUTSIDE, encoding="utf-8")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "deep.txt").write_text("Deep article\n\nThe ferry runs twice a day. It is late.",
                                             encoding="utf-8")
    links = _links(corpus)
    target, says = links[name]
    (corpus / name).symlink_to(target)
    if name == "chain.txt":
        (corpus / "chain2.txt").symlink_to(links["chain2.txt"][0])
    if name in ("loop_a.txt", "loop_b.txt"):
        other = "loop_b.txt" if name == "loop_a.txt" else "loop_a.txt"
        (corpus / other).symlink_to(name)
    docs, reasons = _load(corpus)
    assert says in reasons[name], reasons
    assert "deep" in {d.doc_id for d in docs}  # the real folder is read, once
    assert [d.doc_id for d in docs].count("deep") == 1
    pipeline = _index(corpus, tmp_path)
    assert not any(OUTSIDE in c.text for c in pipeline.corpus_index.all_chunks())


def test_a_link_to_a_file_inside_the_corpus_is_read(corpus):
    (corpus / "sub").mkdir()
    (corpus / "sub" / "real.txt").write_text("Real article\n\nThe market opens on Saturday. It closes at two.",
                                             encoding="utf-8")
    (corpus / "alias.txt").symlink_to("sub/real.txt")
    docs, reasons = _load(corpus)
    assert {"alias", "real"} <= {d.doc_id for d in docs} and reasons == {}


def test_a_link_inside_a_linked_folder_cannot_escape(corpus):
    """A folder link is not followed at all, so links below it never get a chance."""
    (corpus.parent / "outside" / "nested").mkdir()
    (corpus.parent / "outside" / "nested" / "more.txt").write_text(OUTSIDE, encoding="utf-8")
    (corpus / "nested").symlink_to(corpus.parent / "outside" / "nested")
    _, reasons = _load(corpus)
    assert "outside the corpus folder" in reasons["nested"]


def test_a_deep_loop_of_folder_links_ends(corpus):
    deep = corpus / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (deep / "back").symlink_to(corpus / "a")
    (deep / "up").symlink_to("../..")
    _, reasons = _load(corpus, bound_s=5)
    assert "link to a folder" in reasons["a/b/c/back"] and "link to a folder" in reasons["a/b/c/up"]


# ------------------------------------------------------------------ odd and hostile files


def _pdf(pages: list[tuple[bytes, bool]]) -> bytes:
    """A minimal PDF: one content stream per page (Flate-compressed when flagged), Helvetica."""
    n = len(pages)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [{' '.join(f'{3 + 2 * i} 0 R' for i in range(n))}] /Count {n} >>".encode()]
    font = 3 + 2 * n
    for i, (data, flate) in enumerate(pages):
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 {font} 0 R "
                    f">> >> /Contents {4 + 2 * i} 0 R >>".encode())
        objs.append(f"<< /Length {len(data)}{' /Filter /FlateDecode' if flate else ''} >>\nstream\n".encode()
                    + data + b"\nendstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, obj in enumerate(objs):
        offsets.append(len(out))
        out += f"{i + 1} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


_PAGE = b"BT /F1 12 Tf 72 700 Td (The council met on Tuesday and voted on the harbour budget.) Tj ET"


@functools.lru_cache(maxsize=1)
def _bomb_pdf() -> bytes:
    return _pdf([(zlib.compress(b" " * 80_000_000, 6), True)])


ODD_FILES = {
    "empty.txt": (b"", "no text"),
    "spaces.txt": (b" \n\t\n   \n", "no text"),
    "nul.txt": (b"\x00" * 5000, "no text|binary|not text"),
    "junk.txt": (bytes(range(256)) * 200, "binary|not text|no text"),
    "elf.txt": (b"\x7fELF\x02\x01\x01" + bytes(4000), "binary|not text|no text"),
    "zip.pdf": (b"PK\x03\x04" + bytes(2000), "not a PDF"),
    "truncated.pdf": (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", "damaged|unreadable|no text"),
    "fake.html": (b"\x89PNG\r\n\x1a\n" + bytes(3000), "no article body|not|binary"),
    "empty.html": (b"<html><body></body></html>", "no article"),
    "empty.pdf": (b"", "not a PDF"),
    "huge.txt": (b"a" * 5_000_001, "limited to 5,000,000 bytes"),
    "many-sentences.txt": (b"a. " * 210_000, "sentence ends"),
    "same-pages.pdf": (None, "all 999 pages of the PDF carry the same text"),
    "bomb.pdf": (None, "compression bomb"),
}


@pytest.mark.parametrize("name", list(ODD_FILES))
def test_an_odd_or_hostile_file_is_skipped_with_the_right_reason(corpus, name):
    raw, says = ODD_FILES[name]
    if name == "same-pages.pdf":
        raw = _pdf([(_PAGE, False)] * 999)
    elif name == "bomb.pdf":
        raw = _bomb_pdf()
    (corpus / name).write_bytes(raw)
    _, reasons = _load(corpus, bound_s=30)
    import re

    assert re.search(says, reasons.get(name, "(indexed)")), reasons


@pytest.mark.parametrize("text", ["ÉTÉ été", "naïve café. Ça va.", "\ufeffBOM first. Then text.", "a\r\nwindows\r\n. Lines."])
def test_text_in_other_encodings_or_line_ends_is_read_not_refused(corpus, text):
    (corpus / "odd.txt").write_bytes(text.encode("latin-1", "replace") if "É" in text else text.encode("utf-8"))
    docs, reasons = _load(corpus)
    assert "odd" in {d.doc_id for d in docs} or "odd.txt" in reasons


def test_a_fifo_is_never_opened(corpus):
    os.mkfifo(corpus / "pipe.txt")
    (corpus / "pipe-link.txt").symlink_to("pipe.txt")
    _, reasons = _load(corpus, bound_s=5)  # opening it would block for ever
    assert "not a regular file" in reasons["pipe.txt"] and "not a regular file" in reasons["pipe-link.txt"]


def test_a_five_megabyte_article_is_indexed_in_bounded_time(corpus, tmp_path):
    """Finding 2 as reported: 5 MB of text took hours to chunk. Now well under the 10 s target
    (generous here: a busy machine, and the index build comes on top)."""
    paragraph = ("The council met on Tuesday. Dr. Lee said the U.S. grant of $2.5 million, approved in Jan. 2020, "
                 "would pay for the new seawall. \"It is overdue,\" she said. Work starts in the spring.\n\n")
    (corpus / "long.txt").write_text((paragraph * (4_900_000 // len(paragraph))), encoding="utf-8")
    from qa.chunk import chunk_document

    docs, reasons = _load(corpus, bound_s=20)
    long = next(d for d in docs if d.doc_id == "long")
    start = time.monotonic()
    chunks = chunk_document(long)
    assert time.monotonic() - start < 30 and len(chunks) > 10_000


@pytest.mark.parametrize("swap", ["file", "folder"])
def test_a_file_swapped_for_a_link_after_the_walk_is_not_read(corpus, swap):
    """Between listing the folder and reading a file, someone replaces it (or its folder) with a
    link out: the read opens without following links and checks where the open file really is."""
    from qa.corpus_files import walk_corpus
    from qa.extract.base import LoadError
    from qa.load import read_article_file

    (corpus / "sub").mkdir()
    (corpus / "sub" / "story.txt").write_text("Story\n\nThe ferry sails at noon. It returns at six.", encoding="utf-8")
    files, _ = walk_corpus(corpus)
    story = next(f for f in files if f.rel == "sub/story.txt")
    outside = corpus.parent / "outside"
    if swap == "file":
        (corpus / "sub" / "story.txt").unlink()
        (corpus / "sub" / "story.txt").symlink_to(outside / "passwd.txt")
    else:
        (outside / "story.txt").write_text(OUTSIDE, encoding="utf-8")
        (corpus / "sub" / "story.txt").unlink()
        (corpus / "sub").rmdir()
        (corpus / "sub").symlink_to(outside)
    with pytest.raises(LoadError, match="cannot read file"):
        read_article_file(story, story.rel, None, corpus)


def test_a_folder_nested_deeper_than_the_recursion_limit_is_walked(corpus):
    """The walk keeps its own stack. Tested with the recursion limit lowered to 150 frames above
    this one and 300 folders (not with 1,200 folders under the usual limit: pytest's own clean-up
    of the temp folder recurses too, and a leftover that deep would break every later session)."""
    import sys

    deep = corpus
    for _ in range(300):
        deep = deep / "d"
    deep.mkdir(parents=True)
    (deep / "bottom.txt").write_text("Bottom\n\nThe well is deep. The water is cold.", encoding="utf-8")
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 150)
    try:
        docs, reasons = _load(corpus, bound_s=10)
    finally:
        sys.setrecursionlimit(limit)
    assert "bottom" in {d.doc_id for d in docs} and reasons == {}


@pytest.mark.parametrize("limit, value, says", [("MAX_TEXT_CHARS", 100, "passes 100 characters by page 2 of 3"),
                                                ("MAX_SECONDS", 0.0, "took more than 0 s by page 1 of 3")])
def test_the_work_on_one_pdf_is_bounded(corpus, monkeypatch, limit, value, says):
    from qa.extract import pdf

    monkeypatch.setattr(pdf, limit, value)
    (corpus / "report.pdf").write_bytes(_pdf([(_PAGE, False)] * 3))
    _, reasons = _load(corpus)
    assert says in reasons["report.pdf"] and "split" in reasons["report.pdf"]
