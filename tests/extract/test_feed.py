"""Feeds into the corpus folder: fetched pages through the page extractor, summaries where there is
no page, bad dates reported, re-runs incremental; served from 127.0.0.1 only (so every fetch here
passes ``allow_private_fetch``: by default that address is refused, see tests/security/)."""
import functools
import json

import pytest

from qa.extract import fetch as fetch_module
from qa.extract.base import LoadError
from qa.extract.feed import ingest_feed as _ingest_feed
from qa.load import load_corpus

from ..news_helpers import FEEDS, NEWS, serve_news


ingest_feed = functools.partial(_ingest_feed, allow_private_fetch=True)


@pytest.fixture
def server():
    with serve_news() as s:
        yield s


@pytest.fixture
def fetched(monkeypatch):
    """Every URL the fetcher opens."""
    urls = []
    real = fetch_module.Fetcher.fetch

    def recording(self, url, *args, **kwargs):
        urls.append(url)
        return real(self, url, *args, **kwargs)

    monkeypatch.setattr(fetch_module.Fetcher, "fetch", recording)
    return urls


def test_feeds_become_articles_with_headline_outlet_and_date(tmp_path, server, fetched):
    rss = ingest_feed(f"{server.url}/{FEEDS[0]}", tmp_path)
    atom = ingest_feed(f"{server.url}/{FEEDS[1]}", tmp_path)
    assert (rss.title, rss.folder, atom.title, atom.folder) == (
        "The Harbour Times", "feeds/the-harbour-times", "Northern Wire", "feeds/northern-wire")
    assert [e.status for e in rss.entries + atom.entries] == ["added"] * 5
    assert all(u.startswith(server.url) for u in fetched) and len(fetched) == 2 + 3  # 2 feeds, 3 linked pages
    seawall, library = rss.entries
    assert seawall.path.endswith(".html") and seawall.notes == ()
    assert library.path.endswith(".txt")  # its page is a 404: the feed's own text stands in
    assert any("HTTP 404" in n and "summary is indexed instead" in n for n in library.notes)
    assert any("'sometime last week' is not a date" in n and "without a date" in n for n in library.notes)
    four_day = atom.entries[2]
    assert any("not a real date" in n for n in four_day.notes)

    docs = {d.title: d for d in load_corpus(tmp_path)[0]}
    page = docs["Council approves $92-million seawall upgrade after long debate"]
    assert (page.source, page.published, page.author) == ("The Harbour Times", "2023-06-02", "Deepak Raman")
    assert page.url == "https://www.harbourtimes.example/news/2023/06/02/council-approves-seawall-upgrade"
    assert page.extractor.startswith("trafilatura") and "Comments are moderated" not in page.text
    raw = (tmp_path / seawall.path).read_bytes()
    assert raw == (NEWS / "pages" / "harbour-seawall-vote.html").read_bytes()  # the page as served, untouched
    road = docs["Winter road to Whati opens two weeks early"]
    assert (road.source, road.published, road.url) == ("Northern Wire", "2024-11-29", "")  # an id is not a link
    assert "depth of 60 centimetres" in road.text
    assert docs["Yellowknife council backs four-day work week trial"].published == ""


def test_a_rerun_fetches_nothing_new_and_rewrites_nothing(tmp_path, server, fetched):
    ingest_feed(f"{server.url}/{FEEDS[1]}", tmp_path)
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    fetched.clear()
    again = ingest_feed(f"{server.url}/{FEEDS[1]}", tmp_path)
    assert [e.status for e in again.entries] == ["unchanged"] * 3
    assert fetched == [f"{server.url}/{FEEDS[1]}"]  # the feed itself, no page
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == stamps


def test_a_changed_entry_is_rewritten_and_a_feed_file_needs_no_server(tmp_path, fetched):
    feed = tmp_path / "wire.atom"
    feed.write_text((NEWS / FEEDS[1]).read_text(encoding="utf-8"), encoding="utf-8")
    corpus = tmp_path / "corpus"
    first = ingest_feed(str(feed), corpus)
    assert fetched == []  # relative links in a local file point nowhere: the summaries are used
    assert [e.status for e in first.entries] == ["added"] * 3 and all(e.path.endswith(".txt") for e in first.entries)
    feed.write_text(feed.read_text(encoding="utf-8").replace("60 centimetres", "70 centimetres"), encoding="utf-8")
    second = ingest_feed(str(feed), corpus)
    assert [e.status for e in second.entries] == ["unchanged", "updated", "unchanged"]
    assert "70 centimetres" in (corpus / second.entries[1].path).read_text(encoding="utf-8")


def test_no_fetch_keeps_to_the_feed(tmp_path, server, fetched):
    report = ingest_feed(f"{server.url}/{FEEDS[0]}", tmp_path, fetch_pages=False)
    assert fetched == [f"{server.url}/{FEEDS[0]}"]
    assert all(e.path.endswith(".txt") for e in report.entries)


def test_a_feed_never_makes_us_read_local_files(tmp_path, fetched):
    secret = tmp_path / "secret.html"
    secret.write_text("<html><body><article><p>" + "private words " * 50 + "</p></article></body></html>")
    feed = tmp_path / "evil.rss"
    feed.write_text(f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Evil</title>
<item><title>Look</title><link>{secret.as_uri()}</link><description>Just a summary.</description></item>
</channel></rss>""", encoding="utf-8")
    report = ingest_feed(str(feed), tmp_path / "corpus")
    text = (tmp_path / "corpus" / report.entries[0].path).read_text(encoding="utf-8")
    assert "private words" not in text and "Just a summary." in text and fetched == []


@pytest.mark.parametrize("content, reason", [(b"<html><body>not a feed</body></html>", "not a readable RSS or Atom"),
                                             (None, "no such file")])
def test_a_bad_feed_is_a_clear_error(tmp_path, content, reason):
    path = tmp_path / "feed.xml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(LoadError, match=reason):
        ingest_feed(str(path), tmp_path / "corpus")


def test_an_unreachable_feed_url_is_a_clear_error(tmp_path, server):
    with pytest.raises(LoadError, match="HTTP 404"):
        ingest_feed(f"{server.url}/feeds/missing.rss", tmp_path)


def test_sidecar_records_where_the_article_came_from(tmp_path, server):
    report = ingest_feed(f"{server.url}/{FEEDS[1]}", tmp_path)
    sidecar = tmp_path / report.entries[0].path.replace(".html", ".meta.json")
    record = json.loads(sidecar.read_text(encoding="utf-8"))
    assert record["feed"] == f"{server.url}/{FEEDS[1]}" and record["fetched_from"].endswith("/pages/northern-sea-ice.html")
    assert record["published"] == "2024-09-20" and record["source"] == "Northern Wire"


def test_a_page_over_the_size_limit_is_not_fetched_whole_and_the_summary_stands_in(tmp_path, server, monkeypatch):
    from qa.extract import feed

    monkeypatch.setattr(feed, "MAX_PAGE_BYTES", 1000)
    report = ingest_feed(f"{server.url}/{FEEDS[1]}", tmp_path)
    sea_ice = report.entries[0]
    assert sea_ice.path.endswith(".txt") and any("larger than 1,000 bytes" in n for n in sea_ice.notes)
