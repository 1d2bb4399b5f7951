import pytest

from qa.extract.base import LoadError
from qa.extract.text import extract_text, split_front_matter


def test_front_matter_gives_metadata_and_the_text_after_it_is_indexed():
    raw = ("---\ntitle: \"Wind farm approved\"\ndate: 2023-11-15\noutlet: Dominion Press\n"
           "url: https://dominionpress.example/x\nfeed_entry: abc\n---\n\nOTTAWA – Body.\n").encode()
    x = extract_text(raw)
    assert (x.meta.title, x.meta.source, x.meta.published, x.meta.url) == (
        "Wind farm approved", "Dominion Press", "2023-11-15", "https://dominionpress.example/x")
    assert x.text == "OTTAWA – Body.\n" and x.problems == ()


def test_without_front_matter_the_title_is_the_first_line():
    x = extract_text(b"# Lake levels\n\nThe lake fell.", markdown=True)
    assert x.meta.title == "Lake levels" and x.text == "# Lake levels\n\nThe lake fell."
    assert x.meta.source == x.meta.published == ""


@pytest.mark.parametrize("text", ["---\nNot a key value line, just a rule.\n---\nBody.",
                                  "---\ntitle: never closed\nBody goes on.\n",
                                  "Intro\n---\ntitle: x\n---\n"])
def test_a_rule_that_is_not_front_matter_leaves_the_text_alone(text):
    assert split_front_matter(text) == ({}, text)


def test_a_bad_date_in_front_matter_is_noted_and_left_out():
    x = extract_text(b"---\ntitle: T\ndate: soon\n---\nBody.")
    assert x.meta.published == "" and x.meta.title == "T"
    assert "not a date" in x.problems[0] and "without a date" in x.problems[0]


def test_front_matter_with_nothing_after_it_is_refused():
    with pytest.raises(LoadError, match="no text after its front matter"):
        extract_text(b"---\ntitle: T\n---\n\n")
