"""Time expressions found in article text and resolved against the article's date (qa/news/timex.py):
the hand-checked fixture articles, then the resolver's rules one by one."""
from __future__ import annotations

import datetime as dt

import pytest

from qa.news.timex import (TimeExpression, beside, date_range, find_time_expressions, readable, resolve, tense_at,
                           with_dates, within)
from qa.types import Document

from ..scripts_helpers import load_script


@pytest.fixture(scope="module")
def quality():
    return load_script("timex_quality")


@pytest.fixture(scope="module")
def articles(quality):
    return quality.parse_fixture()


def _found(text, published):
    return [(t.text, t.value) for t in find_time_expressions(text, published)]


# ------------------------------------------------------------------ the fixtures, checked by hand

def test_fixture_covers_what_the_issue_asks(articles):
    gold = [g for a in articles for g in a.gold]
    assert len(gold) >= 60
    kinds = {a.published.count("-") if a.published else -1 for a in articles}
    assert kinds == {-1, 0, 1, 2}  # undated, dated to a year, to a month, to a day
    words = " ".join(g.text for g in gold)
    for needed in ("Saturday", "last Wednesday", "next Tuesday", "mid-June", "Feb. 14", "August 2016",
                   "two months ago", "earlier this month", "last year"):
        assert needed in words
    assert any("/" in g.value for g in gold)  # ranges, for articles dated only to a month


def test_fixture_gold_offsets_point_at_the_words(articles):
    for a in articles:
        for g in a.gold:
            assert a.text[g.start:g.end] == g.text


def test_every_expected_expression_is_found_and_95_percent_resolved_right(quality, articles):
    result = quality.measure(articles, with_dateparser=False)
    t = result["totals"]
    not_found = [m for m in result["misses"] if m[3] == "not found"]
    assert not not_found, not_found
    assert t["found"] == t["gold"]
    assert t["right"] / t["gold"] >= 0.95, result["misses"]
    assert t["extra"] == 0, result["extras"]  # "Theresa May", "The Sunday Times", "2019 people", ...


def test_timex_quality_script_writes_only_its_own_section(quality, tmp_path):
    report = tmp_path / "extract.md"
    report.write_text("# Extraction quality\n\nother sections stay\n", encoding="utf-8")
    assert quality.main(["--out", str(report), "--no-dateparser"]) == 0
    first = report.read_text(encoding="utf-8")
    assert first.startswith("# Extraction quality\n\nother sections stay\n") and "resolved right" in first
    quality.main(["--out", str(report), "--no-dateparser"])
    again = report.read_text(encoding="utf-8")
    assert again.count(quality.START_MARK) == 1 and "other sections stay" in again


# ------------------------------------------------------------------ weekdays

MONDAY = "2019-11-18"  # a Monday


@pytest.mark.parametrize("sentence, value", [
    ("Trump went to Walter Reed on Saturday.", "2019-11-16"),         # past: the one before
    ("The committee will meet on Saturday.", "2019-11-23"),           # future: the one after
    ("He said on Monday that he had resigned.", "2019-11-18"),        # the article's own day (AP style)
    ("The vote will be held Monday.", "2019-11-18"),
    ("Officials met last Wednesday.", "2019-11-13"),
    ("Officials met last Monday.", "2019-11-11"),                     # "last": strictly before
    ("They will return next Tuesday.", "2019-11-19"),
    ("They will return next Monday.", "2019-11-25"),                  # "next": strictly after
    ("The strike, which began Friday, goes on.", "2019-11-15"),
])
def test_weekdays_by_tense_and_last_next(sentence, value):
    assert [v for _, v in _found(sentence, MONDAY)] == [value]


def test_a_weekday_without_a_tense_is_taken_as_past():
    assert _found("Saturday: protests in the capital", MONDAY) == [("Saturday", "2019-11-16")]


# ------------------------------------------------------------------ tense decides the year

@pytest.mark.parametrize("sentence, value", [
    ("She was evicted in April.", "2019-04"),
    ("The summit is scheduled to take place in Paris in February.", "2020-02"),
    ("The summit was scheduled to take place in February.", "2019-02"),
    ("Prices peaked on Feb. 14.", "2019-02-14"),
    ("Prices will be reviewed on Feb. 14.", "2020-02-14"),
    ("The plant closed in November.", "2019-11"),     # the article's own month counts as before it
    ("The plant will close in November.", "2019-11"),
    ("Snow fell on Dec. 3.", "2018-12-03"),
    ("Valentine's Day falls on Feb. 14.", "2020-02-14"),  # no tense: the nearest
])
def test_year_less_dates_take_the_year_the_tense_gives(sentence, value):
    assert [v for _, v in _found(sentence, MONDAY)] == [value]


def test_tense_reads_the_nearest_marker_before_then_after():
    text = "He said on Monday that the talks will resume on Tuesday."
    assert tense_at(text, text.index("Monday"), text.index("Monday") + 6) == "past"
    assert tense_at(text, text.index("Tuesday"), text.index("Tuesday") + 7) == "future"
    text = "On Friday, ministers approved the plan."
    assert tense_at(text, 3, 9) == "past"
    assert tense_at("The dividend will be paid on July 15.", 29, 36) == "future"


# ------------------------------------------------------------------ precision and ranges

@pytest.mark.parametrize("text, published, value", [
    ("It opened on November 18, 2019.", "", "2019-11-18"),
    ("It opened on 18 November 2019.", "", "2019-11-18"),
    ("It opened in August 2016.", "", "2016-08"),
    ("It opened in 2019.", "", "2019"),
    ("It was built in the 1990s.", "", "1990/1999"),
    ("Prices rose this week.", MONDAY, "2019-11-18/2019-11-24"),
    ("Prices rose last week.", MONDAY, "2019-11-11/2019-11-17"),
    ("Crowds came last weekend.", MONDAY, "2019-11-16/2019-11-17"),
    ("Sales fell last month.", MONDAY, "2019-10"),
    ("Sales fell last month.", "2020-01", "2019-12"),
    ("Sales fell earlier this year.", MONDAY, "2019"),
    ("Rates rise next year.", MONDAY, "2020"),
    ("The plant closed two years ago.", MONDAY, "2017"),
    ("The plant closed three days ago.", MONDAY, "2019-11-15"),
    ("The plant closed five months ago.", MONDAY, "2019-06"),
    ("It rained yesterday and will rain tomorrow.", MONDAY, None),
    ("Ships return in mid-December.", MONDAY, "2019-12"),
    # an article dated only to a month or a year: the range of what the words can mean
    ("The rally was held on Saturday.", "2020-01", "2019-12-28/2020-01-25"),
    ("Missiles struck last Wednesday.", "2020-01", "2019-12-25/2020-01-29"),
    ("The rally was held yesterday.", "2017", "2016-12-31/2017-12-30"),
    ("Two years ago the plant closed.", "2020-01", "2018"),
    ("The strike began on Jan. 3.", "2020-01", "2020-01-03"),  # inside the article's month
])
def test_precision_is_what_the_text_gives(text, published, value):
    found = _found(text, published)
    if value is None:
        assert found == [("yesterday", "2019-11-17"), ("tomorrow", "2019-11-19")]
    else:
        assert [v for _, v in found] == [value], found


def test_relative_expressions_are_dropped_without_an_article_date():
    assert _found("It closed on Saturday and reopened in March 2021.", "") == [("March 2021", "2021-03")]


def test_date_range_of_the_articles_own_date():
    assert date_range("2020-01") == (dt.date(2020, 1, 1), dt.date(2020, 1, 31))
    assert date_range("2016") == (dt.date(2016, 1, 1), dt.date(2016, 12, 31))
    assert date_range("2019-02-30") is None and date_range("soon") is None and date_range("") is None


def test_resolve_on_its_own():
    assert resolve("weekday", {"wd": "Saturday"}, MONDAY, "past") == "2019-11-16"
    assert resolve("weekday", {"wd": "Saturday"}, MONDAY, "future") == "2019-11-23"
    assert resolve("month_day", {"mon": "Feb.", "d": "29"}, "2021-03-01", "past") is None  # no Feb 29 in 2021
    assert resolve("year", {"y": "1998"}, "") == "1998"


# ------------------------------------------------------------------ what is not a time

@pytest.mark.parametrize("text", [
    "Theresa May said she may go.",
    "The Sunday Times reported it.",
    "Black Friday sales were strong. Super Tuesday is near.",
    "About 2019 people came; the crowd of 2019 people cheered.",
    "Supporters march on Washington. He will March on.",
    "Rent is due on the first Monday of each month. Mondays are quiet.",
    "It cost $2019 million, up 2019% on Route 2019.",
])
def test_no_false_hits(text):
    assert _found(text, MONDAY) == []


# ------------------------------------------------------------------ offsets, storage form, display

def test_offsets_are_into_the_text_and_words_stay_verbatim():
    text = "WASHINGTON — Trump went to Walter Reed on Saturday, aides said Nov. 18."
    for t in find_time_expressions(text, MONDAY):
        assert text[t.start:t.end] == t.text


def test_with_dates_recomputes_when_the_date_changes_and_reuses_otherwise():
    doc = Document("a", "A", "a.txt", "The plant closed on Saturday.", "x", published=MONDAY)
    first = with_dates(doc)
    assert first.dates == ((20, 28, "2019-11-16"),) and first.text == doc.text
    redated = Document("a", "A", "a.txt", doc.text, "x", published="2019-11-25")
    assert with_dates(redated, previous=first).dates == ((20, 28, "2019-11-23"),)
    same = Document("a", "A", "a.txt", doc.text, "x", published=MONDAY)
    assert with_dates(same, previous=Document(**{**first.__dict__, "dates": ((0, 3, "kept"),)})).dates == (
        (0, 3, "kept"),)


def test_within_lists_only_the_expressions_inside_the_span():
    text = "On Saturday he left; on Sunday he came back."
    rows = ((3, 11, "2019-11-16"), (24, 30, "2019-11-17"))
    assert within(rows, text, 0, 19) == [TimeExpression("Saturday", 3, 11, "2019-11-16")]
    assert within(rows, text, 3, 11)[0].to_dict() == {"text": "Saturday", "start": 3, "end": 11, "value": "2019-11-16"}
    assert within(rows, text, 4, 30) == [TimeExpression("Sunday", 24, 30, "2019-11-17")]


def test_readable_and_beside():
    assert readable("2019-11-16") == "Sat 16 Nov 2019"
    assert readable("2020-02") == "Feb 2020" and readable("2019") == "2019"
    assert readable("2019-11-18/2019-11-24") == "18 Nov – 24 Nov 2019"
    sat = TimeExpression("Saturday", 3, 11, "2019-11-16")
    assert beside("Saturday", [sat]) == "· Sat 16 Nov 2019"
    assert beside("on Saturday at dawn", [sat]) == "(Saturday · Sat 16 Nov 2019)"
    assert beside("in 2014", [TimeExpression("2014", 3, 7, "2014")]) == ""  # nothing to add
    assert beside("850 troops", []) == ""
