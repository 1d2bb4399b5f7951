"""Saved pages of three site layouts (tests/fixtures/news/pages/): the body and metadata out, the
page around it left behind."""
import pytest

from qa.extract.base import LoadError
from qa.extract.html import extract_html, fragment_text, outlet_from_title

from ..news_helpers import GOLD, NEWS

PAGES = [a for a in GOLD["articles"]]
# Text of the page around the story, one phrase per kind: navigation, cookie banner, ad label,
# share bar, newsletter box, related links, comments, comment form, sidebar, footer, scripts.
BOILERPLATE = ["Skip to main content", "Today's paper", "We value your privacy", "Accept all",
               "Manage preferences", "Story continues below advertisement", "Share this article",
               "Get the Morning Briefing", "More from Local", "Comments are moderated", "harbourwatcher",
               "Independent news for the southern prairies", "Support independent rural journalism", "thoughts on", "Leave a Reply", "Most read",
               "Canola $842.10/t", "Proudly powered by WordPress", "This site uses cookies", "Previous:",
               "Your choices about cookies", "Territorial election results", "Sign up for The North This Week",
               "Join the conversation", "Recommended for you", "Caribou herd counts", "tundra_tom",
               "Northern Wire Media Cooperative", "All rights reserved", "dataLayer", "__STATE__"]


@pytest.mark.parametrize("gold", PAGES, ids=[a["name"] for a in PAGES])
def test_article_body_and_metadata_come_out_and_the_page_around_it_does_not(gold):
    x = extract_html((NEWS / "pages" / f"{gold['name']}.html").read_bytes())
    m = x.meta
    assert (m.title, m.source, m.published, m.author, m.url) == (
        gold["headline"], gold["source"], gold["published"], gold["author"], gold["url"])
    paragraphs = x.text.split("\n\n")
    assert paragraphs[0] == gold["headline"]
    for p in gold["paragraphs"]:  # every paragraph, whole and in order
        assert p in paragraphs, p
    assert [p for p in paragraphs if p in gold["paragraphs"]] == gold["paragraphs"]
    left = [b for b in BOILERPLATE if b in x.text]
    assert left == [], left
    assert x.extractor.startswith("trafilatura ")


def test_broken_markup_still_gives_the_article():
    x = extract_html((NEWS / "bad" / "harbour-ferry-broken.html").read_bytes())
    gold = next(a for a in PAGES if a["name"] == "harbour-ferry-strike")
    assert x.meta.title == gold["headline"] and x.meta.published == gold["published"]
    assert all(p in x.text for p in gold["paragraphs"])


@pytest.mark.parametrize("raw, reason", [
    ((NEWS / "bad" / "harbour-section-front.html").read_bytes(), "section front"),
    (b"<html><body><nav>Home News Sports</nav><p>Subscribe to read this story.</p></body></html>", "no article body"),
    (b"<html><script>var a = 1;</script></html>", "no article text"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "no article text"),
])
def test_a_page_without_an_article_is_refused_with_the_reason(raw, reason):
    with pytest.raises(LoadError, match=reason):
        extract_html(raw)


def test_a_page_in_another_encoding_is_read_by_its_charset():
    body = " ".join(["Le café du port a rouvert ses portes après la grève, a déclaré Hélène Gagné."] * 6)
    raw = (f'<html><head><meta charset="windows-1252"><title>Café</title></head><body><article><h1>Café rouvert</h1>'
           f"<p>{body}</p></article></body></html>").encode("cp1252")
    assert "Hélène Gagné" in extract_html(raw).text


def test_an_ad_label_inside_the_body_is_dropped_but_the_same_words_in_a_sentence_are_kept():
    sentence = "The council debated the budget for an hour before the vote on the new ferry terminal was held."
    raw = (f"<html><body><article><h1>Budget</h1><p>{sentence}</p><p>Advertisement</p><p>{sentence} "
           "Critics called the Advertisement bylaw unfair.</p><p>" + sentence + "</p></article></body></html>").encode()
    text = extract_html(raw).text
    assert "\n\nAdvertisement\n\n" not in text and "Advertisement bylaw" in text


def test_outlet_from_the_title_when_the_page_names_no_site():
    assert outlet_from_title("Drought pushes yields down – Prairie Ledger", "Drought pushes yields down") == "Prairie Ledger"
    assert outlet_from_title("Drought pushes yields down", "Drought pushes yields down") == ""


def test_fragment_text_keeps_paragraphs_and_drops_script():
    assert fragment_text("<p>One &amp; two.</p><script>x()</script><p>Three.</p>") == "One & two.\n\nThree."
