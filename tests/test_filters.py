"""Filter: date ranges at any precision, outlets, and clear errors for bad dates."""
from __future__ import annotations

import pytest

from qa.filters import Filter
from qa.types import Document


def _doc(published="", source=""):
    return Document("d", "T", "d.txt", "text", "h", source=source, published=published)


@pytest.mark.parametrize("published, since, until, ok", [
    ("2020-01-08", "2020-01-01", "2020-01-31", True),
    ("2020-01-08", "2020-01-09", None, False),
    ("2020-01-08", None, "2020-01-07", False),
    ("2020-01-08", "2020", "2020", True),        # a year covers the whole year
    ("2020-01-08", "2020-01", "2020-01", True),  # a month the whole month
    ("2017", "2017-06-01", "2017-12-31", True),  # a year-only date overlaps the range
    ("2017", "2018", None, False),
    ("", "2017", None, False),                   # no date: never in a date range
])
def test_date_ranges(published, since, until, ok):
    assert Filter(since, until).matches(_doc(published)) is ok


def test_sources_are_compared_without_case_and_unknown_outlets_do_not_match():
    f = Filter(sources=frozenset({"CTV News"}))
    assert f.matches(_doc(source="ctv news"))
    assert not f.matches(_doc(source="The Globe and Mail"))
    assert not f.matches(_doc(source=""))


def test_nothing_to_filter_is_no_filter():
    assert Filter.of() is None and Filter.of(sources=[]) is None
    assert Filter.of(since="2020") == Filter("2020")


@pytest.mark.parametrize("bad", ["last week", "2020/01/08", "20-01-2020", "2020-1-8"])
def test_a_bad_date_says_how_to_write_one(bad):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        Filter(since=bad)


def test_since_after_until_is_refused():
    with pytest.raises(ValueError, match="after"):
        Filter("2021", "2020-05-01")


# ------------------------------------------------------------------ issue 22: real dates, one outlet as a string

@pytest.mark.parametrize("value, message", [
    ("2020-13-45", "no such month"), ("2020-02-30", "no such day"), ("2021-02-29", "no such day"),
    ("2020-00", "no such month"), ("0000", "no such year"), ("2020-04-31", "no such day"),
])
def test_dates_that_are_not_on_the_calendar_are_refused(value, message):
    with pytest.raises(ValueError, match=message):
        Filter(since=value)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        Filter(until=value)


def test_real_dates_still_pass():
    assert Filter("2020-02-29", "2020-12-31").since == "2020-02-29"


def test_an_outlet_sent_as_a_string_is_one_outlet_not_its_letters():
    f = Filter.of(sources="Northern Wire")
    assert f.sources == frozenset({"northern wire"})
    assert f.matches(_doc(source="Northern Wire")) and not f.matches(_doc(source="N"))
    assert Filter(sources="CTV").sources == frozenset({"ctv"})
