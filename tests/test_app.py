"""app.py: the command line, the page's handlers on a fast fake-encoder pipeline, the Gradio
configuration that keeps article text from being re-interpreted, and (slow) a short load run."""
from __future__ import annotations

import os
import subprocess

import pytest

import app as chat_app
from qa.pipeline import Pipeline

from .chat_helpers import PYTHON, ROOT, ask_over_api, copy_seeds, message_text, running_app, seed_questions
from .conftest import NEWS, FakeEncoder
from .news_helpers import copy_folder_files

BRIDGE_Q = "Who designed the new Tay bridge?"


@pytest.fixture
def pipeline(small_corpus, tmp_path):
    p = Pipeline(small_corpus, tmp_path / "index", reader="heuristic", encoder=FakeEncoder())
    p.warm_up()
    return p


@pytest.fixture
def app(pipeline):
    return chat_app.ChatApp(pipeline)


def write(tmp_path, name: str, text: str):
    path = tmp_path / "uploads" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


# ------------------------------------------------------------------ command line

def test_help_lists_the_options():
    out = subprocess.run([PYTHON, str(ROOT / "app.py"), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    for option in ("--host", "--port", "--corpus", "--index-dir", "--share"):
        assert option in out.stdout


def test_defaults_bind_loopback_and_never_share():
    args = chat_app.build_parser().parse_args([])
    assert (args.host, args.port, args.share) == ("127.0.0.1", 7860, False)
    assert (args.corpus, args.index_dir) == ("seeds", "embeddings")


def test_missing_corpus_folder_exits_with_a_message(tmp_path, capsys):
    assert chat_app.main(["--corpus", str(tmp_path / "nope"), "--index-dir", str(tmp_path / "i"),
                          "--reader", "heuristic"]) == 1
    assert "corpus folder not found" in capsys.readouterr().err


# ------------------------------------------------------------------ chat handlers

def test_respond_appends_question_and_answer_and_clears_the_box(app):
    history, box, _conversation = app.respond(BRIDGE_Q, [])
    assert box == ""
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[0]["content"] == BRIDGE_Q
    assert '<b class="qa-span">Anna Kowalski</b>' in history[1]["content"]
    assert "New bridge opens" in history[1]["content"]


def test_history_stays_bounded(app):
    history = []
    for _ in range(chat_app.MAX_HISTORY_MESSAGES):
        history, _, _ = app.respond(BRIDGE_Q, history)
    assert len(history) <= chat_app.MAX_HISTORY_MESSAGES


def test_a_follow_up_is_read_in_the_session_conversation_and_says_how(app):
    history, _, conversation = app.respond(BRIDGE_Q, [])
    history, _, conversation = app.respond("How much did it cost?", history, conversation)
    reply = history[-1]["content"]
    assert '<b class="qa-span">$40 million</b>' in reply
    assert '<p class="qa-interpreted">Interpreted as: How much did the new Tay bridge cost?</p>' in reply
    assert reply.index("qa-interpreted") > reply.index("qa-span")  # under the answer
    assert len(conversation) == 2
    # Another session (or "New conversation": the state starts again from None) has no history.
    history, _, fresh = app.respond("How much did it cost?", [], None)
    assert "qa-interpreted" not in history[-1]["content"] and len(fresh) == 1


def test_a_bad_question_keeps_the_conversation(app):
    _, _, conversation = app.respond(BRIDGE_Q, [])
    _, _, after = app.respond("   ", [], conversation)
    assert after is conversation


def test_unanswerable_question_shows_not_found_and_closest_passages(app):
    reply = app.reply("Who painted the Mona Lisa?")
    assert "I could not find that in the articles" in reply


def test_an_internal_error_becomes_a_sentence(app, monkeypatch):
    def broken(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(app.pipeline, "ask", broken)
    reply = app.reply(BRIDGE_Q)
    assert "something went wrong" in reply and "boom" not in reply


def test_examples_come_from_seed_questions_about_present_articles(tmp_path):
    p = Pipeline(copy_seeds(tmp_path / "seeds"), tmp_path / "index", reader="heuristic", encoder=FakeEncoder())
    p.warm_up()
    examples = chat_app.example_questions(p)
    assert 3 <= len(examples) <= 5
    assert set(examples) <= set(seed_questions())


def test_no_examples_for_a_corpus_without_seed_articles(pipeline):
    assert chat_app.example_questions(pipeline) == []


# ------------------------------------------------------------------ article panel

def test_upload_indexes_at_once_and_lists_the_article(app, tmp_path):
    path = write(tmp_path, "Ferry News!.md", "# Ferry news\n\nThe ferry Bluenose Spirit was launched by Mara Quint.")
    status, table, dropdown = app.upload([path])
    assert "Ferry_News.md: added" in status
    assert "Ferry news" in table
    assert ("Ferry news (Ferry_News.md)", "Ferry_News") in dropdown["choices"]
    assert "Mara Quint" in app.reply("Who launched the ferry Bluenose Spirit?")
    assert (app.pipeline.corpus_dir / "Ferry_News.md").is_file()


def test_upload_of_several_files_reports_each(app, tmp_path):
    good = write(tmp_path, "good.txt", "Good news\n\nThe mayor of Truro is Bill Mills.")
    bad = write(tmp_path, "bad.txt", "")
    status, _, _ = app.upload([good, bad])
    assert "good.txt: added" in status and "bad.txt: not added: file has no text" in status


def test_removal_asks_first_then_deletes_file_and_index_entry(app):
    status, row, question, pending = app.confirm_removal("storm")
    assert row["visible"] is True and pending == "storm"
    assert "Storm hits coast" in question and "deletes the file" in question
    assert (app.pipeline.corpus_dir / "storm.txt").is_file()  # nothing happens before the second click

    status, table, dropdown, row, pending = app.remove("storm")
    assert "removed “Storm hits coast”" in status
    assert not (app.pipeline.corpus_dir / "storm.txt").exists()
    assert "Storm hits coast" not in table
    assert "storm" not in {d.doc_id for d in app.pipeline.documents}
    assert row["visible"] is False and pending is None


def test_removal_without_a_choice_says_what_to_do(app):
    status, row, _, pending = app.confirm_removal(None)
    assert "choose an article" in status and row["visible"] is False and pending is None


def test_removing_an_article_twice_is_a_clear_message(app):
    app.remove("storm")
    status, *_ = app.remove("storm")
    assert "not in the index" in status


# ------------------------------------------------------------------ news metadata and filters

@pytest.fixture
def news_app(tmp_path):
    corpus = copy_folder_files(tmp_path / "news")
    (corpus / "front.html").write_bytes((NEWS / "bad" / "harbour-section-front.html").read_bytes())
    p = Pipeline(corpus, tmp_path / "news-index", reader="heuristic", encoder=FakeEncoder())
    p.warm_up()
    return chat_app.ChatApp(p)


def test_citations_show_headline_outlet_and_date(news_app):
    history, _, _ = news_app.respond("How many bushels per acre are canola farmers in the region reporting?", [])
    reply = history[-1]["content"]
    assert ('<span class="qa-headline">Drought pushes canola yields to a 15-year low</span> · '
            '<span class="qa-outlet">Prairie Ledger</span> · <span class="qa-date">September 14, 2022</span>') in reply


def test_the_chat_filter_restricts_the_articles_searched(news_app):
    question = "How many bushels per acre are canola farmers in the region reporting?"
    history, _, _ = news_app.respond(question, [], None, "", "", ["Northern Wire"])
    assert "Prairie Ledger" not in history[-1]["content"]
    history, _, _ = news_app.respond(question, [], None, "2022-09", "2022-09", [])
    assert "Drought pushes canola yields" in history[-1]["content"]
    history, _, _ = news_app.respond(question, [], None, "2030", "", [])
    assert "No indexed article is published since 2030" in history[-1]["content"]
    history, _, _ = news_app.respond("Who painted the Mona Lisa?", [], None, "", "2023", ["Dominion Press"])
    assert "in the articles published until 2023, from Dominion Press." in history[-1]["content"]


@pytest.mark.parametrize("since, until, message", [("last week", "", "“Published since” &#x27;last week&#x27; is not a date"),
                                                    ("2024", "2023", "after “Published until”")])
def test_a_bad_filter_gets_a_clear_reply(news_app, since, until, message):
    history, box, _ = news_app.respond("How many homes?", [], None, since, until, None)
    assert message in history[-1]["content"] and "qa-error" in history[-1]["content"] and box == ""


def test_outlet_picker_and_article_panel_list_outlets_dates_and_skipped_files(news_app):
    assert news_app.outlets() == ["Dominion Press", "Maritime Resilience Council", "Northern Wire", "Prairie Ledger",
                                  "The Harbour Times", "The Lakeside Courier"]
    table, _ = news_app.panel()
    assert "<td>Northern Wire</td><td>October 8, 2024</td>" in table
    assert "1 file not indexed" in table and "front.html</span>: no article body" in table


def test_a_pdf_upload_is_answerable_and_its_citation_names_the_page(app, tmp_path):
    path = tmp_path / "uploads" / "flood review.pdf"
    path.parent.mkdir()
    path.write_bytes((NEWS / "pdf" / "coastal-flood-review.pdf").read_bytes())
    status, table, _ = app.upload([str(path)])
    assert "flood_review.pdf: added “Coastal Flood Risk Review 2023”" in status and "October 2023" in table
    reply = app.reply("How large is the fund the council recommends for repairing dikes and sea walls?")
    assert "$250 million" in reply and '<span class="qa-page">page 3</span>' in reply


# ------------------------------------------------------------------ Gradio configuration

def test_chatbot_renders_our_html_without_markdown_or_latex(app):
    demo = chat_app.build_ui(app, ["Example?"])
    chatbots = [b for b in demo.blocks.values() if type(b).__name__ == "Chatbot"]
    assert len(chatbots) == 1
    bot = chatbots[0]
    # Markdown/LaTeX would re-interpret article text; sanitizing stays on as a second guard.
    assert bot.render_markdown is False and bot.sanitize_html is True
    assert bot.latex_delimiters == [] and bot.allow_tags is False
    api = demo.get_api_info()["named_endpoints"]
    assert list(api) == ["/ask"]  # uploads and removals are page-only, not a public API


# ------------------------------------------------------------------ load (real models)

@pytest.mark.slow
def test_running_app_over_http_then_a_short_load_run_without_errors(tmp_path):
    from gradio_client import Client

    out = tmp_path / "load.md"
    login = ("tester", "load-test-password")
    with running_app(tmp_path, login=login) as server:
        assert "20" in ask_over_api(server.url, "How many Canadian army engineers were deployed to Besmaya?", login)
        # Bad questions over the real HTTP path get the same clear replies as in-process.
        assert "10,000 characters long" in ask_over_api(server.url, "w" * 10_000, login)
        history, _ = Client(server.url, verbose=False, auth=login).predict("<script>alert(1)</script> Besmaya?", [],
                                                                          api_name="/ask")
        assert message_text(history[0]) == "&lt;script&gt;alert(1)&lt;/script&gt; Besmaya?"
        with pytest.raises(Exception):  # no session, no answer
            Client(server.url, verbose=False).predict("Besmaya?", [], api_name="/ask")
        run = subprocess.run([PYTHON, str(ROOT / "scripts" / "load_test.py"), "--url", server.url,
                              "--user", login[0], "--clients", "5", "--seconds", "10", "--timeout", "60",
                              "--out", str(out)], env={**os.environ, "QA_LOAD_PASSWORD": login[1]},
                             capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    text = out.read_text()
    assert "| errors | 0 |" in text
    requests = int(text.split("| requests | ")[1].split(" |")[0])
    assert requests >= 5


@pytest.mark.parametrize("since, until, sources, message", [
    ("2020-13-45", "", [], "“Published since” &#x27;2020-13-45&#x27; is not a date on the calendar (no such month)"),
    ("", "2020-02-30", [], "“Published until” &#x27;2020-02-30&#x27; is not a date on the calendar (no such day)"),
    (2020, "", [], "must be a date written as text"),
    ("", "", [42], "an outlet must be a name"),
])
def test_invalid_filter_values_get_a_clear_reply_and_keep_the_conversation(news_app, since, until, sources, message):
    _, _, conversation = news_app.respond("How many bushels per acre are canola farmers in the region reporting?", [])
    history, _, after = news_app.respond("How many homes?", [], conversation, since, until, sources)
    assert message in history[-1]["content"] and "qa-error" in history[-1]["content"]
    assert after is conversation


def test_an_outlet_sent_as_a_string_filters_by_that_outlet(news_app):
    question = "How many bushels per acre are canola farmers in the region reporting?"
    history, _, _ = news_app.respond(question, [], None, "", "", "Prairie Ledger")
    assert "Drought pushes canola yields" in history[-1]["content"]
    history, _, _ = news_app.respond(question, [], None, "", "", "Northern Wire")
    assert "Prairie Ledger" not in history[-1]["content"] and "from Northern Wire" in history[-1]["content"]
