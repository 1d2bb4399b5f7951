import pytest

from qa.extract.dates import date_from_lines, iso_date, readable_date


@pytest.mark.parametrize("given, iso", [
    ("2020-01-14", "2020-01-14"), ("2020-01", "2020-01"), ("2017", "2017"),
    ("2024-10-08T22:05:00-06:00", "2024-10-08"),  # the day it was written for, not the UTC day (10-09)
    ("Fri, 12 May 2023 09:30:00 -0300", "2023-05-12"), ("January 14, 2020", "2020-01-14"),
    ("Jan. 14, 2020", "2020-01-14"), ("Sept. 24, 2022", "2022-09-24"), ("14 January 2020", "2020-01-14"),
    ("October 2023", "2023-10"), ("  2023-06-02 ", "2023-06-02"),
])
def test_dates_written_many_ways_become_iso(given, iso):
    assert iso_date(given) == iso


@pytest.mark.parametrize("given", ["sometime last week", "2024-13-45", "2024-13-45T08:00:00-07:00",
                                   "February 30, 2021", "", "12/1/26", "Smarch 3, 2020", "0099"])
def test_what_is_not_a_date_is_refused_not_guessed(given):
    with pytest.raises(ValueError):
        iso_date(given)


def test_readable_dates():
    assert [readable_date(d) for d in ("2020-01-14", "2020-01", "2017", "", "x")] == [
        "January 14, 2020", "January 2020", "2017", "", "x"]


def test_a_byline_date_is_found_but_not_a_date_in_running_text():
    assert date_from_lines(["Prairie Ledger", "Published January 22, 2024 by Nadia Okafor"]) == "2024-01-22"
    assert date_from_lines(["Published October 2023"]) == "2023-10"
    assert date_from_lines(["March 3, 2021"]) == "2021-03-03"  # a dateline on its own
    assert date_from_lines(["The bridge opened on March 3, 2021 after two years of work."]) == ""
    assert date_from_lines(["12/1/26, 11:01 AM Rural broadband project – Prairie Ledger"]) == ""
