"""The committed news fixtures are what scripts/make_news_fixtures.py makes of articles.json, so
the gold that the extraction tests and scripts/extract_quality.py use cannot drift from the pages."""
import pytest

from .news_helpers import GOLD, NEWS
from .scripts_helpers import load_script


@pytest.fixture(scope="module")
def maker():
    return load_script("make_news_fixtures")


def test_committed_text_fixtures_match_the_gold(maker):
    made = maker.text_fixtures(GOLD)
    assert len(made) == 12  # six pages, two feeds, two text files, two bad pages
    for rel, text in made.items():
        assert (NEWS / rel).read_text(encoding="utf-8") == text, f"{rel}: run python scripts/make_news_fixtures.py"


def test_every_gold_paragraph_sits_in_its_page(maker):
    for a in GOLD["articles"]:
        page = (NEWS / "pages" / f"{a['name']}.html").read_text(encoding="utf-8")
        assert all(maker.e(p) in page for p in a["paragraphs"])
