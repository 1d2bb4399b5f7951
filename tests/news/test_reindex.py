"""The manifest records the extractor string, which ends in the news reading's version: bumping it
(qa/extract/html.py ``NEWS_READING``) re-reads every saved page on the next index update."""
import shutil
from pathlib import Path

from qa import Pipeline

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "provenance" / "pages"


def test_a_new_news_reading_rereads_the_saved_pages(tmp_path, fake_encoder, monkeypatch):
    import qa.extract.html as html

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("ap-hosted.html", "nyt-og-title.html"):
        shutil.copy(PAGES / name, corpus / name)
    (corpus / "note.txt").write_text("A plain text article about the harbour that no page reader touches.\n")
    p = Pipeline(corpus, tmp_path / "index", reader="heuristic", encoder=fake_encoder)
    p.warm_up()
    files = p.manifest["files"]
    assert files["ap-hosted"]["extractor"].endswith(f"; {html.NEWS_READING}")
    assert files["ap-hosted"]["source"] == "AP"

    monkeypatch.setattr(html, "NEWS_READING", "news 999")  # as after a change to qa/news/
    report = p.index(progress=False)
    assert sorted(report.updated) == ["ap-hosted", "nyt-og-title"] and report.unchanged == ["note"]
    assert p.manifest["files"]["nyt-og-title"]["extractor"].endswith("; news 999")
