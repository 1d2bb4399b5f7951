"""Upload name and content probes: each file goes through Gradio's real upload route behind the guard
(in-process), then to the chat's upload handler on a small fake-encoder index, as the page does.

Each probe asserts a clear ✓/✗ line naming the file or the reason, nothing lost (every article indexed
before is still indexed and its file untouched; nothing written outside the corpus folder), the
temporary upload deleted, and no hang (a time bound)."""
from __future__ import annotations

import hashlib
import re
import time

import pytest

import app as chat_app
from qa.pipeline import Pipeline
from qa.security.uploads import UploadLimits

from ..conftest import ARTICLES, FakeEncoder
from ..security_helpers import guarded

BOUND_S = 30.0
MAX_TEXT = 5_000_000  # qa.load.MAX_FILE_BYTES


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    """(guarded upload route, chat app) sharing one upload folder."""
    root = tmp_path_factory.mktemp("upload-probes")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in ARTICLES.items():
        (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
    p = Pipeline(corpus, root / "index", reader="heuristic", encoder=FakeEncoder())
    p.warm_up()
    g = guarded(root / "g", login=False, limits=UploadLimits(per_user_bytes_per_hour=10 ** 10))
    app = chat_app.ChatApp(p)
    app.upload_folder = str(g.upload_folder)
    originals = {f"{n}.txt": hashlib.sha256((corpus / f"{n}.txt").read_bytes()).hexdigest() for n in ARTICLES}
    return g, app, originals


def _send(rig, name: str, content: bytes):
    """Upload through the route, then hand the stored file to the chat; (route status, chat status HTML)."""
    g, app, _ = rig
    g.clock.now += 7200  # a fresh hour's allowance each probe
    r = g.client.post("/gradio_api/upload", files={"files": (name, content)})
    if r.status_code != 200:
        return r.status_code, r.json().get("detail", "")
    paths = r.json()
    for p in paths:
        assert p.startswith(str(g.upload_folder)), p  # Gradio stored it inside its folder
    status, _, _ = app.upload(paths)
    return 200, status


def _check_nothing_lost(rig, before_files: set) -> None:
    g, app, originals = rig
    corpus = app.pipeline.corpus_dir
    for name, digest in originals.items():
        assert hashlib.sha256((corpus / name).read_bytes()).hexdigest() == digest
    ids = {d.doc_id for d in app.pipeline.documents}
    assert {"bridge", "harvest", "storm"} <= ids
    assert [p for p in g.upload_folder.rglob("*") if p.is_file()] == []  # temporary uploads deleted
    after = {p.name for p in corpus.iterdir()}
    assert len(after - before_files) <= 1  # at most the one new article, inside the corpus folder


ARTICLE = b"Harbour news\n\nThe ferry Bluenose Spirit was launched by Mara Quint in Lunenburg."

NAMES = [
    "../../etc/passwd.txt", "..\\..\\windows\\win.txt", "/abs/path/story.txt", "a" * 300 + ".txt", "CON.txt",
    ".hidden.txt", "no_extension", "evil.exe", "double.txt.exe", "script<script>alert(1)</script>.txt",
    "名前のニュース.txt", "rtl\u202etxt.exe", " space name .txt", "emoji😀.md", "a;rm -rf ~.txt",
    "%2e%2e%2fpasswd.txt", "con:stream.txt", "UPPER.TXT", "x.html.txt", "tab\tname.txt",
]


@pytest.mark.parametrize("name", NAMES)
def test_an_odd_file_name_is_added_safely_or_refused_clearly(rig, name):
    g, app, _ = rig
    before = {p.name for p in app.pipeline.corpus_dir.iterdir()}
    started = time.monotonic()
    code, status = _send(rig, name, ARTICLE + name.encode("utf-8", "replace")[:50])
    assert time.monotonic() - started < BOUND_S
    if code == 200:
        assert re.search(r'class="qa-(ok|error)">[✓✗] .+: (added|not added)', status), status
        assert "<script>" not in status  # names are escaped in the status line
    else:
        assert code in (400, 413) and status
    _check_nothing_lost(rig, before)


CONTENTS = [
    pytest.param("empty.txt", b"", "not added", id="empty"),
    pytest.param("blank.txt", b"   \n\n\t  ", "not added", id="whitespace"),
    pytest.param("noise.txt", bytes(range(256)) * 40, "not added", id="binary-as-text"),
    pytest.param("utf16.txt", "Harbour news\n\nThe ferry sailed.".encode("utf-16"), "", id="utf16-bom"),
    pytest.param("latin1.txt", "Café news\n\nThe café in Montréal opened.".encode("latin-1"), "", id="latin-1"),
    pytest.param("nul.txt", b"Harbour\x00news\n\nThe ferry\x00 sailed.", "", id="nul-bytes"),
    pytest.param("xss.html", b"<html><body><h1>Ferry</h1><script>alert(1)</script><p>The ferry sailed from "
                 b"Lunenburg on Monday with forty passengers aboard.</p></body></html>", "", id="html-script"),
    pytest.param("fake.pdf", b"This is not a PDF at all.", "not added", id="fake-pdf"),
    pytest.param("stub.pdf", b"%PDF-1.4\n", "not added", id="truncated-pdf"),
    pytest.param("zip.txt", b"PK\x03\x04" + b"\x00" * 200, "not added", id="zip-as-text"),
    pytest.param("big.txt", b"a" * (MAX_TEXT + 1), "not added", id="over-size-limit"),
    pytest.param("nav.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "not added", id="no-body"),
    pytest.param("storm.txt", ARTICLES["storm"].encode(), "not added", id="same-name-as-existing"),
    pytest.param("copy.txt", ARTICLES["bridge"].encode(), "not added", id="identical-content"),
    pytest.param("ok.md", b"# Ferry news\n\nThe ferry Bluenose Spirit was launched by Mara Quint.", "added", id="good"),
    pytest.param("crlf.txt", b"Ferry news\r\n\r\nThe ferry sailed.\r\n", "", id="crlf"),
    pytest.param("bidi.txt", "Ferry news\n\n\u202eThe ferry sailed.".encode(), "", id="bidi-control"),
    pytest.param("surrogate.txt", b"Ferry \xed\xa0\x80 news\n\nThe ferry sailed.", "", id="invalid-utf8-surrogate"),
]


@pytest.mark.parametrize("name, content, expect", CONTENTS)
def test_odd_contents_get_a_clear_line_and_lose_nothing(rig, name, content, expect):
    g, app, _ = rig
    before = {p.name for p in app.pipeline.corpus_dir.iterdir()}
    n_before = len(app.pipeline.documents)
    started = time.monotonic()
    code, status = _send(rig, name, content)
    assert time.monotonic() - started < BOUND_S
    assert code == 200
    assert re.search(r"[✓✗] \S.*: (added|not added)", status), status
    if expect:
        assert expect in status
    if "not added" in status:
        assert len(app.pipeline.documents) == n_before and re.search(r"not added.{6,}", status)
    _check_nothing_lost(rig, before)


def test_many_files_in_one_request_are_refused_and_leave_nothing(rig):
    g, _, _ = rig
    g.clock.now += 7200
    files = [("files", (f"f{i}.txt", b"x")) for i in range(25)]
    r = g.client.post("/gradio_api/upload", files=files)
    assert r.status_code == 413 and "at most 20" in r.json()["detail"]
    assert [p for p in g.upload_folder.rglob("*") if p.is_file()] == []


def test_an_upload_without_a_declared_size_is_refused(rig):
    g, _, _ = rig

    def body():
        yield b"--x\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n\r\nhello\r\n--x--\r\n"

    r = g.client.post("/gradio_api/upload", content=body(), headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 413 and "Content-Length" in r.json()["detail"]
    assert [p for p in g.upload_folder.rglob("*") if p.is_file()] == []


def test_read_only_refuses_uploads_at_the_route(tmp_path):
    g = guarded(tmp_path, login=False, may_upload=lambda name: False)
    r = g.client.post("/gradio_api/upload", files={"files": ("a.txt", ARTICLE)})
    assert r.status_code == 403 and "only administrators" in r.json()["detail"]
    assert list(g.upload_folder.iterdir()) == []


@pytest.mark.parametrize("body", [
    b"--x\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n\r\nhalf an upload",
    b"--x\r\nContent-Disposition: form-data; name=\"files\"\r\n\r\nno file name--x--",
    b"not multipart at all",
])
def test_a_malformed_upload_gets_an_answer_and_leaves_no_part_file(rig, body):
    g, _, _ = rig
    g.clock.now += 7200
    r = g.client.post("/gradio_api/upload", content=body, headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code in (200, 400) and r.text
    assert [p for p in g.upload_folder.iterdir() if p.is_file()] == []  # no part file at the top
    for p in r.json() if r.status_code == 200 else []:
        assert p.startswith(str(g.upload_folder))


def test_a_file_gradio_refuses_mid_upload_leaves_no_part_file(rig):
    """Gradio's parser refuses a file over its size limit after it began writing it."""
    g, _, _ = rig
    blocks = g.app.get_blocks()
    limit, blocks.max_file_size = blocks.max_file_size, 1000
    try:
        g.clock.now += 7200
        r = g.client.post("/gradio_api/upload", files={"files": ("big.txt", b"x" * 200_000)})
    finally:
        blocks.max_file_size = limit
    assert r.status_code == 413 and "maximum allowed size" in r.text
    assert [p for p in g.upload_folder.rglob("*") if p.is_file()] == []
