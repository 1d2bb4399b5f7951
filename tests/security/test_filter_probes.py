"""Filter value probes: dates and outlets as the page, the API and the command line send them.

Each probe asserts a clear message (a ``qa-error`` sentence naming the field, or a proper answer),
nothing lost (the session's conversation is kept, the index unchanged) and no hang (a time bound).
In-process on the news fixture corpus with the fake encoder; a few go through a real server's /ask."""
from __future__ import annotations

import argparse
import html
import re
import time

import pytest

import app as chat_app
from qa.filters import Filter
from qa.options import add_filter_arguments, filter_from_args
from qa.pipeline import Pipeline

from ..chat_helpers import free_port, message_text
from ..conftest import FakeEncoder
from ..news_helpers import copy_folder_files

QUESTION = "How many bushels per acre are canola farmers in the region reporting?"
BOUND_S = 20.0


@pytest.fixture(scope="module")
def news(tmp_path_factory):
    root = tmp_path_factory.mktemp("filter-probes")
    p = Pipeline(copy_folder_files(root / "news"), root / "index", reader="heuristic", encoder=FakeEncoder())
    p.warm_up()
    app = chat_app.ChatApp(p)
    _, _, conversation = app.respond(QUESTION, [])
    return app, conversation


def _ask(news, since=None, until=None, sources=None):
    app, conversation = news
    docs_before = [d.doc_id for d in app.pipeline.documents]
    started = time.monotonic()
    history, box, after = app.respond("How many homes lost power?", [], conversation, since, until, sources)
    assert time.monotonic() - started < BOUND_S
    assert box == "" and [m["role"] for m in history] == ["user", "assistant"]
    assert [d.doc_id for d in app.pipeline.documents] == docs_before  # the index is unchanged
    return html.unescape(history[-1]["content"]), after, conversation


BAD_DATES = [
    ("2020-13-45", "no such month"), ("2020-02-30", "no such day"), ("2021-02-29", "no such day"),
    ("2020-04-31", "no such day"), ("2020-00-10", "no such month"), ("2020-01-00", "no such day"),
    ("0000", "no such year"), ("0000-01-01", "no such year"), ("2020-1-5", "is not a date"),
    ("20200105", "is not a date"), ("2020/01/05", "is not a date"), ("yesterday", "is not a date"),
    ("２０２０", "is not a date"), ("٢٠٢٠", "is not a date"), ("2020-01-05T10:00", "is not a date"),
    ("-2020", "is not a date"), ("2020-01-05; DROP TABLE", "is not a date"), ("2020\n01", "is not a date"),
    ("x" * 10_000, "is not a date"), ("<script>alert(1)</script>", "is not a date"), ("12020", "is not a date"),
    (2020, "must be a date written as text"), (2020.5, "must be a date written as text"),
    (["2020"], "must be a date written as text"), ({"year": 2020}, "must be a date written as text"),
    (True, "must be a date written as text"),
]


@pytest.mark.parametrize("value, message", BAD_DATES)
@pytest.mark.parametrize("field", ["since", "until"])
def test_a_bad_date_gets_a_clear_message_and_keeps_the_conversation(news, field, value, message):
    reply, after, conversation = _ask(news, **{field: value})
    assert 'class="qa-error"' in reply and message in reply
    assert ("“Published since”" if field == "since" else "“Published until”") in reply
    assert "<script>" not in reply.replace("&lt;script&gt;", "") or "qa-error" in reply
    assert len(reply) < 600  # a 10,000-character value is not echoed whole
    assert after is conversation


@pytest.mark.parametrize("since, until", [("2020-02-29", "2024-12-31"), ("2022", "2022"), ("2022-09", ""),
                                          ("  2022-09-14  ", ""), ("", "9999-12-31"), ("0001-01-01", "")])
def test_real_dates_search(news, since, until):
    reply, _, _ = _ask(news, since, until, [])
    assert "qa-error" not in reply


OUTLETS = [
    pytest.param("Prairie Ledger", True, id="one-string"),
    pytest.param(["Prairie Ledger"], True, id="list"),
    pytest.param(["prairie ledger"], True, id="case"),
    pytest.param("  Prairie Ledger  ", True, id="padded-string"),
    pytest.param(["Prairie Ledger", "Northern Wire"], True, id="two"),
    pytest.param("P", False, id="one-letter"),
    pytest.param(["Nobody's Gazette"], False, id="unknown"),
    pytest.param(["<script>alert(1)</script>"], False, id="script-name"),
    pytest.param([""], None, id="empty-name"),
    pytest.param([], None, id="none-chosen"),
    pytest.param("", None, id="empty-string"),
]


@pytest.mark.parametrize("sources, found", OUTLETS)
def test_outlets_as_sent(news, sources, found):
    app = news[0]
    history, _, _ = app.respond(QUESTION, [], None, "", "", sources)
    reply = history[-1]["content"]
    assert "qa-error" not in reply or "No indexed article" in reply
    if found is True:
        assert "Drought pushes canola yields" in reply
    elif found is False:
        assert "Drought pushes canola yields" not in reply and "<script>" not in reply


@pytest.mark.parametrize("sources, message", [
    ([42], "an outlet must be a name"), ([None], "an outlet must be a name"), (42, "must be a list of names"),
    ({"Prairie Ledger": 1}, "must be a list of names"), (["x" * 1000], "at most 200 characters"),
    ([f"outlet {i}" for i in range(500)], "at most 100 outlets"), ([["Prairie Ledger"]], "an outlet must be a name"),
])
def test_bad_outlet_values_get_a_clear_message(news, sources, message):
    reply, after, conversation = _ask(news, sources=sources)
    assert 'class="qa-error"' in reply and message in reply and after is conversation


@pytest.mark.parametrize("argv, message", [
    (["--since", "2020-13-45"], "no such month"), (["--until", "2020-02-30"], "no such day"),
    (["--since", "2024", "--until", "2023"], "is after"), (["--since", "tomorrow"], "is not a date"),
])
def test_the_command_line_refuses_bad_dates(argv, message):
    parser = argparse.ArgumentParser()
    add_filter_arguments(parser)
    with pytest.raises(ValueError, match=message):
        filter_from_args(parser.parse_args(argv))


def test_one_source_on_the_command_line_is_one_outlet():
    parser = argparse.ArgumentParser()
    add_filter_arguments(parser)
    assert filter_from_args(parser.parse_args(["--source", "Prairie Ledger"])).sources == frozenset({"prairie ledger"})
    assert Filter.of(sources=("A", "B")).sources == frozenset({"a", "b"})


# ------------------------------------------------------------------ through a real server's /ask

@pytest.fixture(scope="module")
def live(news):
    from gradio_client import Client

    from qa.security import serving
    from qa.security.guard import Guard
    from qa.security.hosts import ServedNames

    demo = chat_app.build_ui(news[0], [])
    demo.queue(max_size=8)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **serving.launch_kwargs(Guard(names=ServedNames.for_server("127.0.0.1"))))
    yield Client(f"http://127.0.0.1:{port}", verbose=False, download_files=False)
    demo.close()


@pytest.mark.parametrize("since, until, outlets, expect", [
    ("2020-13-45", "", [], "no such month"),
    ("", "2020-02-30", [], "no such day"),
    ("", "", "Prairie Ledger", "Drought pushes canola yields"),
    ("", "", ["Prairie Ledger"], "Drought pushes canola yields"),
    ("", "", ["Somebody Else"], "from Somebody Else"),
])
def test_filters_over_the_api(live, since, until, outlets, expect):
    started = time.monotonic()
    history, _ = live.predict(QUESTION, [], since, until, outlets, api_name="/ask")
    assert time.monotonic() - started < 60
    assert expect in html.unescape(message_text(history[-1])), message_text(history[-1])[:300]
    assert re.search(r"\S", message_text(history[0]))
