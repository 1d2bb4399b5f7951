"""Bad inputs: each gets a clear message, and nothing is lost (the previous index still answers).

Questions go through the chat's own handler (``app.ChatApp``); articles through the corpus loader
(files dropped into the folder) and through the upload path; indexes are damaged on disk and must
be detected and rebuilt, never silently used; an indexing process is killed with SIGKILL mid-way
and the previous index must still load and answer. A deterministic fake encoder keeps this fast:
the point here is the handling, not the model.
"""
from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

import app as chat_app
from qa import corpus_admin
from qa.load import MAX_FILE_BYTES, LoadError
from qa.pipeline import Pipeline
from qa.store import POINTER, current_version, load_index

from .chat_helpers import PYTHON, ROOT
from .conftest import ARTICLES, NEWS, FakeEncoder

KNOWN_Q, KNOWN_A = "Who designed the new Tay bridge?", "Anna Kowalski"
ORIGINAL = set(ARTICLES)  # bridge, harvest, storm


@pytest.fixture
def index_dir(tmp_path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def pipeline(small_corpus, index_dir):
    p = Pipeline(small_corpus, index_dir, reader="heuristic", encoder=FakeEncoder())
    p.warm_up()
    return p


@pytest.fixture
def chat(pipeline):
    return chat_app.ChatApp(pipeline)


def still_answers(p: Pipeline) -> None:
    """The invariant of every case: the articles indexed before are all there and answer."""
    assert ORIGINAL <= {d.doc_id for d in p.documents}
    answers = p.ask(KNOWN_Q)
    assert answers and answers[0].text == KNOWN_A


def folder_state(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------ questions

QUESTIONS = [
    ("empty", "", "Please type a question"),
    ("whitespace", "  \n\t  ", "Please type a question"),
    ("control-characters", "\x00\x07\x1b", "Please type a question"),
    ("10000-characters", "w" * 10_000, "10,000 characters long"),
    ("binary-bytes", b"\x00\x01\x02\xff\xfe", "no words"),
    ("emoji-only", "\U0001F309\U0001F914\u2753", "no words"),
    ("not-text", None, "must be text"),
    ("non-utf8-bytes", b"Who designed the new Tay bridge\xff?", KNOWN_A),
    ("lone-surrogate", "Who designed the new Tay bridge?\udcff", KNOWN_A),
]


@pytest.mark.parametrize("question, expected", [q[1:] for q in QUESTIONS], ids=[q[0] for q in QUESTIONS])
def test_bad_question_gets_a_clear_reply(chat, question, expected):
    history, _, _ = chat.respond(question, [])
    for message in history:
        message["content"].encode("utf-8")  # everything shown can be sent to the browser
    assert expected in history[-1]["content"]
    still_answers(chat.pipeline)


def test_html_question_is_shown_as_text_and_still_searched(chat):
    question = "<img src=x onerror=alert(1)> Who designed the <b>new</b> Tay bridge?"
    history, _, _ = chat.respond(question, [])
    assert history[0]["content"] == ("&lt;img src=x onerror=alert(1)&gt; Who designed the &lt;b&gt;new&lt;/b&gt; "
                                     "Tay bridge?")
    assert "<img" not in history[1]["content"] and KNOWN_A in history[1]["content"]


# ------------------------------------------------------------------ articles in the corpus folder

BAD_FILES = [
    ("empty", "empty.txt", b"", "no text"),
    ("whitespace-only", "blank.md", b"  \n\n ", "no text"),
    ("binary", "photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("non-utf8", "latin1.txt", "Caf\u00e9 news\n\nNo\u00ebl in Montr\u00e9al.".encode("latin-1"), "not valid UTF-8"),
    ("duplicate-id", "zz/bridge.txt", b"Another bridge\n\nSame file stem as bridge.txt.", "duplicate article id"),
    ("unsupported-type", "report.docx", b"PK\x03\x04", "unsupported type"),
    ("truncated-pdf", "report.pdf", b"%PDF-1.4", "the PDF is damaged"),
    ("page-without-article", "front.html", (NEWS / "bad" / "harbour-section-front.html").read_bytes(), "section front"),
]


@pytest.mark.parametrize("name, raw, reason", [f[1:] for f in BAD_FILES], ids=[f[0] for f in BAD_FILES])
def test_bad_file_in_the_folder_is_skipped_with_a_reason(pipeline, name, raw, reason):
    (pipeline.corpus_dir / name).parent.mkdir(exist_ok=True)
    (pipeline.corpus_dir / name).write_bytes(raw)
    report = pipeline.index(progress=False)
    assert not report.added and not report.removed
    skipped = {s.path: s.reason for s in pipeline.skipped}
    assert reason in skipped[name]
    still_answers(pipeline)


def test_huge_file_in_the_folder_is_skipped(pipeline):
    with open(pipeline.corpus_dir / "huge.txt", "wb") as fh:  # sparse: no 5 MB of test data written
        fh.truncate(MAX_FILE_BYTES + 1)
    pipeline.index(progress=False)
    assert "limited to" in {s.path: s.reason for s in pipeline.skipped}["huge.txt"]
    still_answers(pipeline)


# ------------------------------------------------------------------ articles through the upload path

BRIDGE_BYTES = ARTICLES["bridge"].encode("utf-8")
BAD_UPLOADS = [
    ("empty", "empty.txt", b"", "no text"),
    ("binary", "photo.txt", b"GIF89a\x00\x01\x00\x00", "binary"),
    ("non-utf8", "latin1.txt", "No\u00ebl \u00e0 Montr\u00e9al".encode("cp1252"), "not valid UTF-8"),
    ("utf16", "wide.txt", "Wide news".encode("utf-16"), "binary"),
    ("same-name", "bridge.txt", b"Other text about bridges.", "already exists"),
    ("same-stem-other-type", "bridge.md", b"# Other\n\nOther text.", "already exists"),
    ("same-after-sanitising", "bridge!.txt", b"Yet another text.", "already exists"),
    ("same-content", "copy_of_bridge.txt", BRIDGE_BYTES, "identical to the indexed article bridge.txt"),
    ("unsupported-type", "slides.pptx", b"PK\x03\x04", "unsupported file type .pptx"),
    ("scanned-pdf", "scan.pdf", (NEWS / "bad" / "scanned-page.pdf").read_bytes(), "no text layer"),
    ("encrypted-pdf", "locked.pdf", (NEWS / "bad" / "encrypted-report.pdf").read_bytes(), "password"),
    ("executable", "run.sh", b"#!/bin/sh\nrm -rf /\n", "unsupported file type .sh"),
    ("no-usable-name", "???.txt", b"Fine text.", "no usable characters"),
    ("html-without-text", "empty.html", b"<html><script>alert(1)</script></html>", "no article text"),
]


@pytest.mark.parametrize("name, raw, reason", [u[1:] for u in BAD_UPLOADS], ids=[u[0] for u in BAD_UPLOADS])
def test_bad_upload_is_refused_and_nothing_changes(chat, tmp_path, name, raw, reason):
    corpus = chat.pipeline.corpus_dir
    before = folder_state(corpus)
    version_before = current_version(chat.pipeline.index_dir)
    upload = tmp_path / "upload" / "x"
    upload.mkdir(parents=True)
    (upload / name).write_bytes(raw)
    status, table, _ = chat.upload([str(upload / name)])
    assert "not added" in status and reason in status
    assert folder_state(corpus) == before  # no partial or temp file left behind
    assert current_version(chat.pipeline.index_dir) == version_before  # index not even rewritten
    still_answers(chat.pipeline)


def test_huge_upload_is_refused_before_it_is_read(chat, tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    status, _, _ = chat.upload([str(big)])
    assert "big.txt: not added: file is 5,000,001 bytes; articles are limited to" in status
    still_answers(chat.pipeline)


def test_upload_with_nothing_received_says_so(chat):
    status, _, _ = chat.upload([])
    assert "no file received" in status


@pytest.mark.parametrize("given, safe", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\Windows\\evil.md", "evil.md"),
    (".hidden.txt", "hidden.txt"),
    ("My Article (final).HTML", "My_Article_final.html"),
    ("r\u00e9sum\u00e9 d\u2019\u00e9t\u00e9.txt", "resume_dete.txt"),
    ("<script>alert(1)</script>.txt", "script.txt"),  # "/" ends a path component: only "script>.txt" is left
    ("<img src=x onerror=alert(1)>.md", "img_src_x_onerror_alert_1.md"),
    ("a" * 300 + ".md", "a" * corpus_admin.MAX_NAME_CHARS + ".md"),
    ("name..with...dots.txt", "name.with.dots.txt"),
])
def test_file_names_are_sanitised(given, safe):
    assert corpus_admin.sanitise_filename(given) == safe


@pytest.mark.parametrize("given", ["", "   ", "noext", "archive.tar.gz", "..", "/"])
def test_unusable_file_names_are_refused(given):
    with pytest.raises(LoadError):
        corpus_admin.sanitise_filename(given)


def test_path_traversal_upload_lands_inside_the_corpus_folder(pipeline, tmp_path):
    added = corpus_admin.add_document(pipeline, "../../escape.txt", b"Escape news\n\nThe escape artist was Ida Vel.")
    assert added.filename == "escape.txt"
    assert (pipeline.corpus_dir / "escape.txt").is_file()
    assert not (tmp_path / "escape.txt").exists() and not (pipeline.corpus_dir.parent / "escape.txt").exists()
    assert "Ida Vel" in pipeline.ask("Who was the escape artist?")[0].text
    still_answers(pipeline)


def test_html_upload_keeps_text_and_drops_script(pipeline):
    raw = (b"<html><head><title>Port news</title><script>window.__xss=1</script></head>"
           b"<body><nav><a href=/>Home</a> <a href=/news>News</a></nav><article><h1>Port news</h1>"
           b"<p>The harbour master is Lena Fisk. She took the post in March after twenty years as a pilot "
           b"guiding container ships through the narrows, the port authority said on Tuesday.</p>"
           b"<p>Fisk said her first task would be to shorten the wait for berths, which reached four days "
           b"during the winter storms.</p><img src=x onerror=alert(1)></article></body></html>")
    corpus_admin.add_document(pipeline, "port.html", raw)
    doc = next(d for d in pipeline.documents if d.doc_id == "port")
    assert doc.title == "Port news" and "__xss" not in doc.text and "onerror" not in doc.text
    assert "Home" not in doc.text and doc.extractor.startswith("trafilatura")
    assert pipeline.ask("Who is the harbour master?")[0].text == "Lena Fisk"


def test_failed_indexing_takes_the_uploaded_file_out_again(pipeline, monkeypatch):
    before = folder_state(pipeline.corpus_dir)

    def broken(progress=True):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "index", broken)
    with pytest.raises(RuntimeError):
        corpus_admin.add_document(pipeline, "new.txt", b"New article text.")
    assert folder_state(pipeline.corpus_dir) == before
    monkeypatch.undo()
    still_answers(pipeline)


# ------------------------------------------------------------------ corpus folder problems

def test_empty_corpus_starts_and_says_there_is_nothing_yet(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    p = Pipeline(empty, tmp_path / "index", reader="heuristic", encoder=FakeEncoder())
    p.warm_up()
    reply = chat_app.ChatApp(p).reply(KNOWN_Q)
    assert "No articles are indexed yet" in reply
    corpus_admin.add_document(p, "bridge.txt", BRIDGE_BYTES)  # and it works from there
    assert p.ask(KNOWN_Q)[0].text == KNOWN_A


def test_corpus_folder_vanishing_while_running_keeps_the_live_index(pipeline, tmp_path):
    pipeline.corpus_dir.rename(tmp_path / "moved")
    with pytest.raises(FileNotFoundError, match="corpus folder not found"):
        pipeline.index(progress=False)
    still_answers(pipeline)


# ------------------------------------------------------------------ damaged or mismatched indexes

def _truncate(version: Path) -> None:
    path = version / "dense.faiss"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _corrupt(version: Path) -> None:
    path = version / "chunks.jsonl"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x20  # one flipped bit in the middle: same size, different content
    path.write_bytes(bytes(raw))


def _manifest_garbage(version: Path) -> None:
    (version / "manifest.json").write_text("{not json", encoding="utf-8")


def _pointer_escape(version: Path) -> None:
    (version.parent / POINTER).write_text("../../etc", encoding="utf-8")


def _pointer_dangling(version: Path) -> None:
    (version.parent / POINTER).write_text("v-does-not-exist\n", encoding="utf-8")


def _file_missing(version: Path) -> None:
    (version / "chunks.jsonl").unlink()


DAMAGE = [
    ("truncated", _truncate, "does not match its checksum"),
    ("corrupted", _corrupt, "does not match its checksum"),
    ("manifest-unreadable", _manifest_garbage, "manifest.json is unreadable"),
    ("pointer-outside", _pointer_escape, "does not name an index version"),
    ("pointer-dangling", _pointer_dangling, "manifest.json is missing"),
    ("file-missing", _file_missing, "chunks.jsonl is missing"),
]


@pytest.mark.parametrize("damage, reason", [d[1:] for d in DAMAGE], ids=[d[0] for d in DAMAGE])
def test_damaged_index_is_detected_and_rebuilt(pipeline, damage, reason):
    damage(current_version(pipeline.index_dir))
    encoder = FakeEncoder()
    restarted = Pipeline(pipeline.corpus_dir, pipeline.index_dir, reader="heuristic", encoder=encoder)
    restarted.warm_up()
    assert reason in restarted.last_update.rebuilt_because
    assert len(encoder.encoded) == restarted.chunk_count  # every chunk re-embedded: nothing reused
    still_answers(restarted)
    load_index(pipeline.index_dir, encoder, restarted.config)  # and the rebuilt one verifies


@pytest.mark.parametrize("encoder, reason", [
    (FakeEncoder(name="another-encoder"), "encoder="),
    (FakeEncoder(dimension=32), "encoder="),
], ids=["other-encoder-name", "other-dimension"])
def test_index_built_by_another_encoder_is_rebuilt(pipeline, encoder, reason):
    restarted = Pipeline(pipeline.corpus_dir, pipeline.index_dir, reader="heuristic", encoder=encoder)
    restarted.warm_up()
    assert reason in restarted.last_update.rebuilt_because
    assert len(encoder.encoded) == restarted.chunk_count
    still_answers(restarted)


def test_missing_index_is_built(small_corpus, tmp_path):
    encoder = FakeEncoder()
    p = Pipeline(small_corpus, tmp_path / "never-built", reader="heuristic", encoder=encoder)
    p.warm_up()
    assert sorted(p.last_update.added) == sorted(ORIGINAL) and not p.last_update.rebuilt_because
    still_answers(p)


# ------------------------------------------------------------------ kill -9 while indexing

# Runs in a subprocess: index a corpus and stop at a chosen point of the write (announcing it in a
# marker file) so the test can SIGKILL it exactly there. Pausing is only to aim the kill; the code
# that runs up to that point is the real store.
KILL_SCRIPT = textwrap.dedent("""
    import pathlib, sys, time
    root, corpus, index_dir, marker, stage = sys.argv[1:6]
    sys.path.insert(0, root)
    from qa import store
    from qa.index_dense import DenseIndex
    from qa.pipeline import Pipeline
    from tests.conftest import FakeEncoder

    def pause_before(original):
        def wrapper(*args, **kwargs):
            pathlib.Path(marker).write_text(stage)
            time.sleep(120)  # killed here
            return original(*args, **kwargs)
        return wrapper

    if stage == "embedding":
        FakeEncoder.encode = pause_before(FakeEncoder.encode)
    elif stage == "writing":        # documents.jsonl and chunks.jsonl written, vectors not yet
        DenseIndex.save = pause_before(DenseIndex.save)
    elif stage == "switching":      # new version folder complete, CURRENT not moved yet
        store._fsync_dir = pause_before(store._fsync_dir)
    Pipeline(corpus, index_dir, reader="heuristic", encoder=FakeEncoder()).index(progress=False)
""")


def generate_articles(folder: Path, n: int) -> None:
    for i in range(n):
        (folder / f"gen_{i:04d}.txt").write_text(
            f"Generated report {i}\n\n" + " ".join(f"Town {i} counted {j * i} visitors on day {j}." for j in range(40)),
            encoding="utf-8")


@pytest.mark.parametrize("stage", ["embedding", "writing", "switching"])
def test_kill_9_while_indexing_leaves_the_previous_index_usable(pipeline, tmp_path, stage):
    previous = current_version(pipeline.index_dir)
    generate_articles(pipeline.corpus_dir, 300)
    script = tmp_path / "index_and_pause.py"
    script.write_text(KILL_SCRIPT, encoding="utf-8")
    marker = tmp_path / "marker"
    proc = subprocess.Popen([PYTHON, str(script), str(ROOT), str(pipeline.corpus_dir), str(pipeline.index_dir),
                             str(marker), stage], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while not marker.exists():
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
            assert time.monotonic() < deadline, "the indexing subprocess never reached the kill point"
            time.sleep(0.05)
        if stage != "embedding":  # the new version really was being written when it died
            assert any(p.name.startswith((".tmp-v-", "v-")) and p != previous
                       for p in pipeline.index_dir.iterdir())
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    # Straight after the crash the live index is the previous one, intact and verified.
    assert current_version(pipeline.index_dir) == previous
    survivor = load_index(pipeline.index_dir, FakeEncoder(), pipeline.config)
    assert set(survivor.documents) == ORIGINAL

    # A restart reuses it (no rebuild, the old articles not re-embedded), adds the new ones, answers.
    restarted = Pipeline(pipeline.corpus_dir, pipeline.index_dir, reader="heuristic", encoder=FakeEncoder())
    restarted.warm_up()
    report = restarted.last_update
    assert not report.rebuilt_because
    assert set(report.unchanged) == ORIGINAL and len(report.added) == 300
    still_answers(restarted)
    leftovers = [p.name for p in pipeline.index_dir.iterdir() if p.name.startswith(("v-", ".tmp-"))]
    assert leftovers == [current_version(pipeline.index_dir).name]  # crash debris cleaned up
