"""Time expressions computed at index time and stored with the articles on both backends (FAISS
store and Milvus), recomputed when an article's date changes, and carried by every answer: the JSON
of `qa ask --json` and `qa predict`, the terminal and the chat, beside the answer's own words."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from qa import cli
from qa.config import QAConfig
from qa.load import load_corpus

from ..conftest import BACKENDS, FakeEncoder

CONFIG = QAConfig()

WALTER_REED = """---
title: Trump visits Walter Reed
date: {date}
source: Wire
---
WASHINGTON — President Donald Trump went to Walter Reed National Military Medical Center on Saturday for a
checkup. The White House said the rest of the exam would take place next year, in February.
"""
BUSES = """---
title: Bus fleet grows
date: 2024-03-14
source: Harbour Times
---
The fleet will number two buses when service starts next Tuesday, the transit director said. The first bus
arrived on March 4.
"""


@pytest.fixture
def dated_corpus(tmp_path):
    folder = tmp_path / "dated"
    folder.mkdir()
    (folder / "walter.txt").write_text(WALTER_REED.format(date="2019-11-18"), encoding="utf-8")
    (folder / "buses.txt").write_text(BUSES, encoding="utf-8")
    return folder


def _update(backend, corpus, encoder):
    docs, _ = load_corpus(corpus)
    return backend.update(docs, encoder, CONFIG)


def _dates(index, doc_id):
    doc = index.documents[doc_id]
    return [(doc.text[s:e], v) for s, e, v in doc.dates]


@pytest.mark.parametrize("name", BACKENDS)
def test_dates_are_stored_with_each_article_and_survive_a_reload(name, make_backend, dated_corpus, fake_encoder):
    backend = make_backend(name)
    built, _ = _update(backend, dated_corpus, fake_encoder)
    want = [("Saturday", "2019-11-16"), ("next year", "2020"), ("February", "2020-02")]
    assert _dates(built, "walter") == want
    loaded = backend.load(fake_encoder, CONFIG)
    assert _dates(loaded, "walter") == want
    assert _dates(loaded, "buses") == [("next Tuesday", "2024-03-19"), ("March 4", "2024-03-04")]
    assert loaded.manifest["timex_version"] >= 1


@pytest.mark.parametrize("name", BACKENDS)
def test_a_new_date_recomputes_the_dates(name, make_backend, dated_corpus, fake_encoder):
    backend = make_backend(name)
    _update(backend, dated_corpus, fake_encoder)
    (dated_corpus / "walter.txt").write_text(WALTER_REED.format(date="2019-11-26"), encoding="utf-8")  # a Tuesday
    index, report = _update(backend, dated_corpus, fake_encoder)
    assert report.updated == ["walter"] and report.unchanged == ["buses"]
    assert _dates(index, "walter")[0] == ("Saturday", "2019-11-23")
    assert _dates(backend.load(fake_encoder, CONFIG), "walter")[0] == ("Saturday", "2019-11-23")
    # a date known only to the month: the range of Saturdays it can be
    (dated_corpus / "walter.txt").write_text(WALTER_REED.format(date="2019-11"), encoding="utf-8")
    index, _ = _update(backend, dated_corpus, fake_encoder)
    assert _dates(index, "walter")[0] == ("Saturday", "2019-10-26/2019-11-30")


@pytest.mark.parametrize("name", BACKENDS)
def test_a_new_resolver_version_redates_without_reembedding(name, make_backend, dated_corpus, monkeypatch):
    encoder = FakeEncoder()
    backend = make_backend(name)
    _update(backend, dated_corpus, encoder)
    module = "qa.store" if name == "faiss" else "qa.backends.milvus"
    monkeypatch.setattr(f"{module}.TIMEX_VERSION", 999)
    monkeypatch.setattr(f"{module}.with_dates", lambda doc, previous=None: doc.__class__(
        **{**doc.__dict__, "dates": ((0, 10, "1999"),)}))
    encoder.encoded.clear()
    index, _ = _update(backend, dated_corpus, encoder)
    assert encoder.encoded == []  # the chunks and vectors stay
    assert index.manifest["timex_version"] == 999
    assert backend.load(encoder, CONFIG).documents["buses"].dates == ((0, 10, "1999"),)


def test_answers_carry_their_dates_alike_on_both_backends(make_backend, dated_corpus, tmp_path):
    from qa import Pipeline

    got = {}
    for name in ("faiss", "milvus"):
        p = Pipeline(dated_corpus, tmp_path / name, reader="heuristic", encoder=FakeEncoder(),
                     backend=make_backend(name, tmp_path / name))
        p.warm_up()
        got[name] = [a.to_dict() for a in p.ask("When did Trump go to Walter Reed?", top_k=3, min_score=0.0)]
    assert got["faiss"] == got["milvus"]
    top = got["faiss"][0]
    assert top["text"] == "Saturday"
    assert top["dates"] == [{"text": "Saturday", "start": top["citations"][0]["start"],
                             "end": top["citations"][0]["end"], "value": "2019-11-16"}]
    assert top["citations"][0]["dates"] == top["dates"]


# ------------------------------------------------------------------ the command line

@pytest.fixture
def fake_models(monkeypatch):
    monkeypatch.setattr("qa.pipeline.MiniLMEncoder", lambda batch_size=32: FakeEncoder())


def _run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_ask_shows_the_date_beside_the_words_and_json_lists_it(capsys, fake_models, dated_corpus, tmp_path):
    base = ["--corpus", str(dated_corpus), "--index-dir", str(tmp_path / "idx"), "--reader", "heuristic"]
    code, out, _ = _run(capsys, "ask", "When did Trump go to Walter Reed?", *base, "--min-score", "0")
    assert code == 0 and "1. Saturday · Sat 16 Nov 2019" in out
    code, out, _ = _run(capsys, "ask", "When did Trump go to Walter Reed?", *base, "--min-score", "0", "--json")
    top = json.loads(out)["answers"][0]
    assert top["text"] == "Saturday" and [d["value"] for d in top["dates"]] == ["2019-11-16"]
    doc = (dated_corpus / "walter.txt").read_text(encoding="utf-8")
    d = top["dates"][0]
    assert doc.split("---\n", 2)[2][d["start"]:d["end"]] == "Saturday"  # offsets into the article text


def test_every_predict_line_has_dates(capsys, fake_models, dated_corpus, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "1", "question": "When did Trump go to Walter Reed?"}\n'
                         '{"id": "2", "question": "What is the boiling point of mercury?"}\n'
                         '{"id": "3", "question": "How many buses will the fleet number in 2024?"}\n', encoding="utf-8")
    out = tmp_path / "p.jsonl"
    code, _, _ = _run(capsys, "predict", str(questions), "--out", str(out), "--corpus", str(dated_corpus),
                      "--index-dir", str(tmp_path / "idx"), "--reader", "heuristic", "--min-score", "0", "--quiet")
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert code == 0 and all("dates" in r for r in rows)
    assert rows[0]["answer"] == "Saturday" and rows[0]["dates"][0]["value"] == "2019-11-16"
    assert rows[0]["question_time"] is None
    assert rows[2]["question_time"]["since"] == "2024" and "in 2024" in rows[2]["question_time"]["interpreted_as"]


def test_chat_html_puts_the_date_beside_the_bold_words():
    from qa import chat
    from qa.news.timex import TimeExpression
    from qa.types import Answer, Citation

    sentence = "Trump went to Walter Reed on Saturday."
    c = Citation("walter", "T", "walter.txt", 29, 37, "Saturday", sentence, 0, len(sentence), "walter#0",
                 published="2019-11-18", dates=(TimeExpression("Saturday", 29, 37, "2019-11-16"),))
    html = chat.render_answers([Answer("Saturday", 0.9, [c])], {})
    assert '<b class="qa-span">Saturday</b> <span class="qa-when">· Sat 16 Nov 2019</span>' in html
    plain = chat.render_answers([Answer("Saturday", 0.9, [replace(c, dates=())])], {})
    assert "qa-when" not in plain
