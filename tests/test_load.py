"""Folder -> Documents: the file type picks the extractor, sidecars add metadata, bad files are skipped."""
import json
import shutil

import pytest

from qa.load import LoadError, Skipped, document_from_bytes, load_corpus

from .conftest import NEWS, SEEDS

PAGE = (NEWS / "pages" / "harbour-ferry-strike.html").read_bytes()


def test_loads_txt_md_html_pdf_with_titles(tmp_path):
    (tmp_path / "a.txt").write_text("Title A\n\nBody text.", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Title B\n\nBody *text*.", encoding="utf-8")
    (tmp_path / "c.html").write_bytes(PAGE)
    shutil.copy(NEWS / "pdf" / "coastal-flood-review.pdf", tmp_path / "d.pdf")
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    docs, skipped = load_corpus(tmp_path)
    assert [d.doc_id for d in docs] == ["a", "b", "c", "d"]
    assert [d.title for d in docs] == ["Title A", "Title B", "Harbour ferry service to resume after 40-day strike",
                                       "Coastal Flood Risk Review 2023"]
    html_doc = docs[2]
    assert "Local 612 of the Marine Workers Union" in html_doc.text
    assert "Accept all" not in html_doc.text and "dataLayer" not in html_doc.text  # banner, script
    assert html_doc.extractor.startswith("trafilatura ") and docs[3].extractor.startswith("pypdf ")
    assert [s.path for s in skipped] == ["notes.docx"] and "unsupported" in skipped[0].reason
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


def test_seed_articles_get_headline_outlet_and_date_from_their_sidecars():
    """The seeds' text is untouched (the seed question set cites offsets into it); their headline,
    outlet and date come from NAME.meta.json, not from their first body sentence."""
    docs = {d.doc_id: d for d in load_corpus(SEEDS)[0]}
    a, b = docs["000_a3f6d6e8970e0686"], docs["001_01e182105e19d792"]
    assert (a.source, a.published) == ("CTV News", "2017")
    assert (b.source, b.published) == ("The Globe and Mail", "2020-01")
    assert not a.text.startswith(a.title) and not b.text.startswith(b.title)
    assert a.text == (SEEDS / "000_a3f6d6e8970e0686.txt").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in (SEEDS.parent / "qa" / "eval" / "seed_questions.jsonl").open()]
    for row in rows:  # every gold span is still where the set says
        if row["answers"]:
            assert any(g in docs[row["doc_id"]].text for g in row["answers"])


def test_sidecar_wins_over_the_file_and_bad_values_are_noted(tmp_path):
    (tmp_path / "story.txt").write_text("---\ntitle: Front title\ndate: 2020-01-02\n---\nBody text here.\n",
                                        encoding="utf-8")
    (tmp_path / "story.meta.json").write_text(json.dumps({"source": "Courier", "date": "2020-02"}), encoding="utf-8")
    (tmp_path / "other.txt").write_text("Other title\n\nMore text.", encoding="utf-8")
    (tmp_path / "metadata.jsonl").write_text(
        json.dumps({"file": "other.txt", "outlet": "Wire", "published": "not a date"}) + "\n"
        + json.dumps({"file": "ghost.pdf", "source": "Nobody"}) + "\n{broken\n", encoding="utf-8")
    docs, skipped = load_corpus(tmp_path)
    story, other = {d.doc_id: d for d in docs}["story"], {d.doc_id: d for d in docs}["other"]
    assert (story.title, story.source, story.published) == ("Front title", "Courier", "2020-02")
    assert story.text == "Body text here.\n"  # the front matter is not part of the indexed text
    assert (other.title, other.source, other.published) == ("Other title", "Wire", "")
    lines = {s.line() for s in skipped}
    assert any(s.note and "not a date" in s.reason and s.path == "metadata.jsonl" for s in skipped), lines
    assert any("not valid JSON" in s.reason for s in skipped), lines
    assert any("ghost" in s.reason and not s.note for s in skipped), lines
    assert all(isinstance(s, Skipped) for s in skipped)


def test_each_kind_of_bad_news_file_is_skipped_with_its_reason(tmp_path):
    for name in ("harbour-section-front.html", "scanned-page.pdf", "encrypted-report.pdf", "corrupt-report.pdf",
                 "harbour-ferry-broken.html"):
        shutil.copy(NEWS / "bad" / name, tmp_path / name)
    (tmp_path / "fake.pdf").write_bytes(b"<html>not a pdf</html>")
    docs, skipped = load_corpus(tmp_path)
    reasons = {s.path: s.reason for s in skipped}
    assert [d.doc_id for d in docs] == ["harbour-ferry-broken"]  # broken markup, article still found
    assert "section front" in reasons["harbour-section-front.html"]
    assert "no text layer" in reasons["scanned-page.pdf"] and "OCR" in reasons["scanned-page.pdf"]
    assert "password" in reasons["encrypted-report.pdf"]
    assert "damaged" in reasons["corrupt-report.pdf"]
    assert "not a PDF" in reasons["fake.pdf"]


def test_huge_pdf_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from qa import load

    path = tmp_path / "big.pdf"
    with open(path, "wb") as fh:
        fh.truncate(load.MAX_PDF_BYTES + 1)
    monkeypatch.setattr(type(path), "read_bytes", lambda self: pytest.fail("read a file over the limit"))
    docs, skipped = load_corpus(tmp_path)
    assert docs == [] and "limited to" in skipped[0].reason
