"""Saved pages whose metadata misleads (tests/fixtures/provenance/, scripts/make_provenance_fixtures.py):
outlet, headline and date come out as a reader would cite them, teasers do not come out at all."""
import json
from pathlib import Path

import pytest

from qa.extract.html import NEWS_READING, extract_html
from qa.news.headline import page_facts, story_headline
from qa.news.outlets import outlet_of
from qa.news.teasers import is_teaser, without_teasers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "provenance"
GOLD = json.loads((FIXTURES / "gold.json").read_text(encoding="utf-8"))
PAGES = GOLD["pages"]


def _raw(gold) -> bytes:
    return (FIXTURES / "pages" / f"{gold['name']}.html").read_bytes()


@pytest.mark.parametrize("gold", PAGES, ids=[p["name"] for p in PAGES])
def test_outlet_headline_date_and_url_are_as_a_reader_cites_them(gold):
    x = extract_html(_raw(gold))
    assert (x.meta.source, x.meta.title, x.meta.published, x.meta.url) == (
        gold["source"], gold["headline"], gold["published"], gold["url"])
    assert x.extractor.startswith("trafilatura ") and x.extractor.endswith(NEWS_READING)


@pytest.mark.parametrize("gold", PAGES, ids=[p["name"] for p in PAGES])
def test_the_body_is_whole_headline_first_and_its_teasers_are_gone(gold):
    paragraphs = extract_html(_raw(gold)).text.split("\n\n")
    assert paragraphs[0] == gold["headline"]
    assert paragraphs[1:] == gold["paragraphs"]  # every story paragraph, in order, and nothing else
    for teaser in gold["teasers"]:
        assert teaser.split(": ", 1)[1] not in "\n".join(paragraphs), teaser


@pytest.mark.parametrize("gold", PAGES, ids=[p["name"] for p in PAGES])
def test_a_wire_story_is_cited_as_the_page_it_is_on_via_the_wire(gold):
    raw = _raw(gold)
    facts = page_facts(raw)
    outlet = outlet_of([*facts.publishers, facts.site_name], facts.url, facts.bylines)
    assert (outlet.name, outlet.via) == (gold["source"], gold["via"])


def test_the_visible_h1_wins_over_a_different_og_title():
    gold = next(p for p in PAGES if p["name"] == "nyt-og-title")
    facts = page_facts(_raw(gold))
    assert facts.meta_title != gold["headline"]
    assert story_headline(facts, facts.meta_title) == gold["headline"]


@pytest.mark.parametrize("html, want", [
    # the site's name in an h1 (a logo) is not the headline; the story's h1 inside <article> is
    ("<h1>The Daily Planet</h1><article><h1>Mayor opens the new ferry terminal</h1></article>",
     "Mayor opens the new ferry terminal"),
    ("<header><h1>Politics</h1></header><p>x</p>", "Meta title of the page"),  # a section label
    ("<h1>The Daily Planet</h1>", "Meta title of the page"),
    # a logo h1 (a link to the front page) under any name
    ('<h1><a href="/">Daily Planet Online Edition</a></h1><h1>Mayor opens the new ferry terminal</h1>',
     "Mayor opens the new ferry terminal"),
])
def test_story_headline_skips_logos_and_section_labels(html, want):
    facts = page_facts(f"<html><head><title>t</title></head><body>{html}</body></html>")
    assert story_headline(facts, "Meta title of the page", not_names=("The Daily Planet",)) == want


@pytest.mark.parametrize("paragraph, teaser", [
    ("Read more: Council approves budget", True), ("READ MORE: Council approves budget", True),
    ("RELATED: Fire crews battle blaze near the dam", True), ("RELATED Fire crews battle blaze", True),
    ("See also: Kentucky jails struggle to hire", True), ("Recommended", True), ("Related coverage", True),
    ("» Read more: Harbour deal costs $13.4bn", True), ("Watch: Video of the launch", True),
    ("Read more about the plan on the city's website.", False),
    ("MORE THAN 200 people were evacuated on Sunday.", False),
    ("Related charges were laid against two other men, police said.", False),
    ("See also the council's decision last year, which set the rate at 2 per cent and was appealed "
     "by three landlords who said the figure ignored the cost of repairs to older buildings, heating "
     "and insurance, all of which rose faster than inflation over the period the council studied, "
     "according to the filings the landlords made with the provincial tribunal in the spring.", False),
])
def test_is_teaser(paragraph, teaser):
    assert is_teaser(paragraph) is teaser


def test_a_teaser_run_on_after_a_paragraph_is_cut_off_and_the_story_kept():
    kept, dropped = without_teasers(["The program office delivered the estimate on Monday. Read more: Rival "
                                     "network's bill climbs to $13.4bn", "RELATED: Launch prices rise", "Plain."])
    assert kept == ["The program office delivered the estimate on Monday.", "Plain."]
    assert dropped == ["Read more: Rival network's bill climbs to $13.4bn", "RELATED: Launch prices rise"]


def test_the_committed_fixtures_are_what_the_script_writes():
    from ..scripts_helpers import load_script

    make = load_script("make_provenance_fixtures")
    for p in make.PAGES:
        assert (FIXTURES / "pages" / f"{p['name']}.html").read_text(encoding="utf-8") == make.page(p), p["name"]
    for a in make.CHANGED:
        assert (FIXTURES / "changed" / f"{a['name']}.md").read_text(encoding="utf-8") == make.text_article(a)
    assert GOLD == json.loads(json.dumps(make.gold()))


def test_extract_quality_measures_the_provenance_pages():
    from ..scripts_helpers import load_script

    prov = load_script("extract_quality").measure_provenance()
    shipped = prov["with qa/news/ (shipped)"]
    n = len(PAGES)
    assert [shipped[f"{f}_right"] for f in ("source", "title", "published", "url")] == [n] * 4
    assert shipped["teasers_left"] == 0 and shipped["wire_credit_right"] == n
    assert prov["trafilatura's metadata (before)"]["source_right"] < n  # the pages do mislead
