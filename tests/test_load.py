import pytest

from qa.load import LoadError, document_from_bytes, html_to_text, load_corpus


def test_loads_txt_md_html_with_titles(tmp_path):
    (tmp_path / "a.txt").write_text("Title A\n\nBody text.", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Title B\n\nBody *text*.", encoding="utf-8")
    (tmp_path / "c.html").write_text("<html><head><title>Title C</title><script>var x=1;</script></head>"
                                     "<body><p>First &amp; para.</p><p>Second.</p></body></html>", encoding="utf-8")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    docs, skipped = load_corpus(tmp_path)
    assert [d.doc_id for d in docs] == ["a", "b", "c"]
    assert [d.title for d in docs] == ["Title A", "Title B", "Title C"]
    html_doc = docs[2]
    assert "First & para." in html_doc.text and "var x" not in html_doc.text
    assert [s.path for s in skipped] == ["notes.pdf"]
    assert all(len(d.sha256) == 64 for d in docs)


def test_crlf_and_bom_normalised_before_offsets():
    doc = document_from_bytes("\ufeffLine one.\r\nLine two.".encode("utf-8"), "x", "x.txt")
    assert doc.text == "Line one.\nLine two."


@pytest.mark.parametrize("raw, message", [
    (b"", "no text"), (b"   \n", "no text"), (b"\x00\x01\x02binary", "binary"),
    (b"caf\xe9 au lait", "not valid UTF-8"), (b"x" * 6_000_000, "limited"),
])
def test_bad_files_are_refused_with_a_reason(raw, message):
    with pytest.raises(LoadError, match=message):
        document_from_bytes(raw, "x", "x.txt")


def test_bad_files_are_skipped_not_fatal(tmp_path):
    (tmp_path / "good.txt").write_text("Fine article.", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00\x00")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "good.txt").write_text("Same stem.", encoding="utf-8")
    docs, skipped = load_corpus(tmp_path)
    assert [d.doc_id for d in docs] == ["good"]
    reasons = {s.path: s.reason for s in skipped}
    assert "binary" in reasons["bad.txt"]
    assert "duplicate" in reasons["sub/good.txt"]


def test_missing_folder_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="--corpus"):
        load_corpus(tmp_path / "nope")


def test_html_to_text_keeps_blocks():
    assert html_to_text("<p>A</p><p>B</p>") == "A\n\nB"
