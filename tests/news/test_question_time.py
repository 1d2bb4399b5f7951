"""Time in the question (qa/news/question_time.py): a period it names is preferred, "latest" /
"now" / "currently" / "still" put the newest report first, and both show in "Interpreted as"."""
from __future__ import annotations

import datetime as dt

import pytest

from qa.filters import Filter
from qa.news.question_time import interpretation, prefer_newest, read_question_time
from qa.types import Answer, Citation

TODAY = dt.date(2026, 12, 2)


@pytest.mark.parametrize("question, since, until, newest", [
    ("What was the cost in 2024?", "2024", "2024", False),
    ("What was the cost in March 2024?", "2024-03", "2024-03", False),
    ("What did it cost in Sept. 2019?", "2019-09", "2019-09", False),
    ("How many buses were there before 2020?", None, "2019", False),
    ("How many buses were there before March 2020?", None, "2020-02", False),
    ("What changed after 2019?", "2020", None, False),
    ("What has changed since 2019?", "2019", None, False),
    ("Who led it between 2015 and 2018?", "2015", "2018", False),
    ("What did it cost last year?", "2025", "2025", False),
    ("What did it cost this month?", "2026-12", "2026-12", False),
    ("What is the latest figure?", None, None, True),
    ("How many buses are there now?", None, None, True),
    ("Who currently leads the mission?", None, None, True),
    ("Is he still in charge in 2024?", "2024", "2024", True),
])
def test_read_question_time(question, since, until, newest):
    when = read_question_time(question, today=TODAY)
    assert (when.since, when.until, when.newest) == (since, until, newest)


@pytest.mark.parametrize("question", ["In what year did Canada join Operation Impact?",
                                      "How many troops did Canada commit?", "Who wrote 2019 people?", "", None])
def test_questions_without_time_are_left_alone(question):
    assert read_question_time(question, today=TODAY) is None


def test_describe_is_what_interpreted_as_shows():
    assert read_question_time("What was the cost in 2024?").describe() == "articles published in 2024 first"
    assert read_question_time("What was it before March 2020?").describe() == "articles published up to February 2020 first"
    assert interpretation("What is the cost now?", None) == "Interpreted as: the newest reports first"
    assert interpretation("What did it cost in 2024?", "Interpreted as: What did the ferry cost in 2024?") == (
        "Interpreted as: What did the ferry cost in 2024? · articles published in 2024 first")
    assert interpretation("How many troops?", None) is None


def test_the_question_narrows_the_users_filter_but_never_widens_it():
    when = read_question_time("What was the cost in 2024?")
    assert when.narrow(None) == Filter("2024", "2024")
    assert when.narrow(Filter("2024-06", None, frozenset({"Wire"}))) == Filter("2024-06", "2024", frozenset({"wire"}))
    user = Filter("2010", "2012")
    assert when.narrow(user) == user  # the user's own dates exclude 2024: theirs win


def test_apply_falls_back_to_every_article_when_the_period_has_no_answer():
    asked = []

    def ask(f):
        asked.append(f)
        return [] if f is not None else ["an answer"]

    assert read_question_time("What was the cost in 2024?").apply(ask, None) == ["an answer"]
    assert asked == [Filter("2024", "2024"), None]


def _answer(text, score, published):
    c = Citation("d", "t", "p", 0, len(text), text, text, 0, len(text), "d#0", published=published)
    return Answer(text, score, [c])


def test_prefer_newest_only_among_answers_that_score_about_as_well():
    old, new, weak = _answer("two", 0.9, "2024-02-01"), _answer("seven", 0.8, "2025-02-01"), _answer("x", 0.3, "2026")
    assert [a.text for a in prefer_newest([old, new, weak])] == ["seven", "two", "x"]
    assert [a.text for a in prefer_newest([old, weak])] == ["two", "x"]


# ------------------------------------------------------------------ through the pipeline

FLEET = """---
title: Bus fleet {year}
date: {year}-03-01
source: Harbour Times
---
Harbour City transit update. The electric bus fleet will number {n} buses, the transit director said.
"""


@pytest.fixture
def fleet_pipeline(tmp_path, make_backend):
    from qa import Pipeline

    from ..conftest import FakeEncoder

    corpus = tmp_path / "fleet"
    corpus.mkdir()
    (corpus / "fleet-2024.txt").write_text(FLEET.format(year=2024, n="two"), encoding="utf-8")
    (corpus / "fleet-2025.txt").write_text(FLEET.format(year=2025, n="seven"), encoding="utf-8")
    p = Pipeline(corpus, tmp_path / "idx", reader="heuristic", encoder=FakeEncoder(),
                 backend=make_backend("faiss", tmp_path / "idx"))
    p.warm_up()
    return p


def _tops(pipeline, question, **kw):
    return [(a.text, a.citations[0].published) for a in pipeline.ask(question, top_k=3, min_score=0.0, **kw)]


def test_a_named_year_picks_that_years_report(fleet_pipeline):
    assert _tops(fleet_pipeline, "How many buses will the fleet number in 2024?")[0] == ("two buses", "2024-03-01")
    assert _tops(fleet_pipeline, "How many buses will the fleet number in 2025?")[0] == ("seven buses", "2025-03-01")
    # no article of 2019: every article is searched rather than none
    assert _tops(fleet_pipeline, "How many buses will the fleet number in 2019?")


def test_latest_puts_the_newest_report_first(fleet_pipeline):
    tops = _tops(fleet_pipeline, "How many buses will the fleet number now?")
    assert tops[0] == ("seven buses", "2025-03-01")


def test_ask_many_honours_each_questions_own_period(fleet_pipeline):
    batch = fleet_pipeline.ask_many(["How many buses will the fleet number in 2024?",
                                     "How many buses will the fleet number in 2025?",
                                     "Who said it?"], top_k=1, min_score=0.0)
    assert [b[0].citations[0].published for b in batch[:2]] == ["2024-03-01", "2025-03-01"]


def test_chat_and_terminal_say_how_the_time_was_read(fleet_pipeline):
    import io

    from qa import chat
    from qa.conversation import ConversationalAsker
    from qa.conversation.terminal import run_chat

    reply = ConversationalAsker(fleet_pipeline).ask("How many buses will the fleet number in 2024?", min_score=0.0)
    assert "Interpreted as: articles published in 2024 first" in chat.render_interpretation(reply.resolution)
    out = io.StringIO()
    run_chat(ConversationalAsker(fleet_pipeline), io.StringIO("How many buses will the fleet number now?\n"), out,
             prompt=False)
    assert "Interpreted as: the newest reports first" in out.getvalue()
