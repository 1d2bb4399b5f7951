"""Where answers come from and in what order, with a reader whose spans the test chooses: a span in
the headline counts only where the reader found the same words in the body (and is cited there);
figures that changed between reports of different dates come newest first, with the others
listed beside the first answer in JSON, ``qa predict`` records, the terminal and the chat."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa import Pipeline
from qa.chat import ArticleView, render_answers
from qa.conversation.terminal import answer_lines
from qa.news.changed import EarlierReport, agree, reports_over_time, timeline
from qa.news.headline import headline_end
from qa.predict import prediction_record
from qa.types import Answer, Citation, ReaderOutput, ReadSpan

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "provenance"
CHANGED = json.loads((FIXTURES / "gold.json").read_text(encoding="utf-8"))["changed"]

SPACE = ("Building and launching the Aldebaran constellation will cost $8.8 billion over eight years, "
         "according to an estimate delivered to Congress on Monday. The Aldebaran network would carry data "
         "from Earth-observation spacecraft in minutes.\n\nThe first 18 satellites are to launch in 2027.")


class ChosenSpans:
    """A reader that proposes every occurrence of each of the given words in every passage it
    reads, with the score given for the words."""

    name = "chosen"
    min_score = 0.05

    def __init__(self, words: dict[str, float]) -> None:
        self.words = words

    def warm_up(self) -> None:
        pass

    def read(self, question, passages, top_k=3):
        spans = [ReadSpan(i, at, at + len(w), score) for i, p in enumerate(passages)
                 for w, score in self.words.items() for at in _occurrences(p.text, w)]
        spans.sort(key=lambda s: -s.score)
        return ReaderOutput(spans, 0.0)


def _occurrences(text: str, words: str) -> list[int]:
    out, at = [], text.find(words)
    while at >= 0:
        out.append(at)
        at = text.find(words, at + 1)
    return out


def _pipeline(tmp_path, fake_encoder, files: dict[str, str], reader) -> Pipeline:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    p = Pipeline(corpus, tmp_path / "index", reader=reader, encoder=fake_encoder)
    p.warm_up()
    return p


def _space_file(title="Orbital relay constellation to cost $9 billion") -> str:
    """The headline is the first line of the text, as the extractors index it."""
    return f"---\ntitle: {title}\ndate: 2025-02-11\nsource: SpaceNews\n---\n{title}\n\n{SPACE}"


def test_a_headline_figure_the_body_does_not_say_is_no_answer(tmp_path, fake_encoder):
    p = _pipeline(tmp_path, fake_encoder, {"space.md": _space_file()}, ChosenSpans({"$9 billion": 0.9}))
    assert p.ask("How much will the constellation cost?") == []


def test_a_headline_answer_the_body_also_gives_is_cited_in_the_body(tmp_path, fake_encoder):
    p = _pipeline(tmp_path, fake_encoder, {"space.md": _space_file(title="Aldebaran relay network to cost more")},
                  ChosenSpans({"Aldebaran": 0.9}))
    doc = p.documents[0]
    [answer] = p.ask("Which constellation?")
    body = headline_end(doc.text, doc.title)
    assert body > 0 and answer.text == "Aldebaran"
    assert all(c.start >= body and doc.text[c.start:c.end] == "Aldebaran" for c in answer.citations)
    c = answer.citations[0]
    assert c.sentence.startswith("Building and launching") and c.chunk_id.startswith(doc.doc_id)


@pytest.mark.parametrize("text, title, end", [
    ("Bridge opens\n\nThe bridge opened.", "Bridge opens", 12),
    ("# Bridge opens\n\nThe bridge opened.", "Bridge opens", 14),
    ("The bridge opened on Monday.\n\nIt cost $40 million.", "The bridge opened on Monday.", 0),  # a lede
    ("Bridge opens\n\nThe bridge opened.", "Another title", 0),
])
def test_headline_end(text, title, end):
    assert headline_end(text, title) == end


def test_headline_words_the_reader_did_not_find_in_the_body_are_no_answer(tmp_path, fake_encoder):
    # The body names Victor Lang too, but the reader found him only in the headline: not an answer
    # to "Which guards were charged?" (the body's answer is the guards' names).
    text = ("---\ntitle: Two guards charged after Victor Lang escaped\ndate: 2021-06-17\n---\n"
            "Two guards charged after Victor Lang escaped\n\nProsecutors charged guards Tessa Morrow and Kyle "
            "Branson on Thursday. Victor Lang, 41, was caught two days later at a motel.")

    class HeadlineLang:
        name, min_score = "chosen", 0.05

        def warm_up(self):
            pass

        def read(self, question, passages, top_k=3):
            out = []
            for i, ps in enumerate(passages):
                if ps.doc_start == 0 and "Victor Lang" in ps.text[:45]:
                    out.append(ReadSpan(i, ps.text.index("Victor Lang"), ps.text.index("Victor Lang") + 11, 0.9))
                at = ps.text.find("Tessa Morrow and Kyle Branson")
                if at >= 0:
                    out.append(ReadSpan(i, at, at + 29, 0.6))
            return ReaderOutput(out, 0.0)

    p = _pipeline(tmp_path, fake_encoder, {"jail.md": text}, HeadlineLang())
    assert [a.text for a in p.ask("Which guards were charged?")] == ["Tessa Morrow and Kyle Branson"]


def _bus_pipeline(tmp_path, fake_encoder, older_score=0.8, newer_score=0.75):
    files = {f"{a['name']}.md": (FIXTURES / "changed" / f"{a['name']}.md").read_text(encoding="utf-8")
             for a in CHANGED["articles"]}
    return _pipeline(tmp_path, fake_encoder, files, ChosenSpans({"two buses": older_score, "seven buses": newer_score}))


def test_the_newest_report_comes_first_and_the_earlier_one_is_listed_with_its_date(tmp_path, fake_encoder):
    p = _bus_pipeline(tmp_path, fake_encoder)
    answers = p.ask(CHANGED["question"], top_k=1)
    assert [a.text for a in answers] == [CHANGED["newest"]]
    [earlier] = answers[0].earlier_reports
    assert (earlier.answer, earlier.published, earlier.source) == (CHANGED["earlier"], "2024-05-02", "The Harbour Times")
    doc = {d.doc_id: d for d in p.documents}[earlier.doc_id]
    assert doc.text[earlier.start:earlier.end] == earlier.answer
    # a question that names a period keeps the best answer for it first, and still lists the other
    kept = p.ask(CHANGED["question"], top_k=1, newest_first=False)
    assert kept[0].text == CHANGED["earlier"] and [r.answer for r in kept[0].earlier_reports] == [CHANGED["newest"]]


def test_a_much_weaker_newer_figure_does_not_displace_the_answer(tmp_path, fake_encoder):
    p = _bus_pipeline(tmp_path, fake_encoder, older_score=0.8, newer_score=0.3)
    answers = p.ask(CHANGED["question"])
    assert answers[0].text == CHANGED["earlier"] and answers[0].earlier_reports == ()


def _answer(text, score, published, doc_id, source="Outlet", start=0):
    c = Citation(doc_id, f"headline {doc_id}", f"{doc_id}.txt", start, start + len(text), text, text, start,
                 start + len(text), f"{doc_id}#0", source=source, published=published)
    return Answer(text, score, [c], "span")


SEED_LIKE = [_answer("up to 850 troops", 0.40, "2017", "ctv", "CTV News", 3063),
             _answer("roughly 800", 0.35, "2020-01", "globe", "The Globe and Mail", 5101)]


def test_reports_over_time_orders_newest_first_and_lists_the_rest_newest_first():
    three = SEED_LIKE + [_answer("about 500", 0.33, "2015-06-02", "old", "Old Paper")]
    out = reports_over_time(three)
    assert [a.text for a in out] == ["roughly 800", "up to 850 troops", "about 500"]
    assert [(r.answer, r.published) for r in out[0].earlier_reports] == [("up to 850 troops", "2017"),
                                                                         ("about 500", "2015-06-02")]
    assert timeline(out[0]) == ("January 2020: roughly 800 (The Globe and Mail) · 2017: up to 850 troops (CTV News)"
                                " · June 2, 2015: about 500 (Old Paper)")


@pytest.mark.parametrize("answers, why", [
    ([_answer("850 troops", 0.4, "2017", "a"), _answer("up to 850", 0.35, "2020-01", "b")], "they agree"),
    ([_answer("850", 0.4, "2017", "a"), _answer("800", 0.35, "2017-06", "b")], "dates cannot be told apart"),
    ([_answer("850", 0.4, "2017", "a"), _answer("800", 0.35, "", "b")], "undated"),
    ([_answer("Peshmerga", 0.3, "2017", "a"), _answer("Canadian trainers", 0.29, "2020-01", "b")], "not figures"),
    ([_answer("850", 0.4, "2017", "a"), _answer("800", 0.3, "2020-01", "b")], "too weak"),
    ([_answer("Approximately 20", 0.50, "2017", "a"), _answer("200", 0.34, "2020-01", "b")], "seed-003: another figure"),
    ([_answer("850", 0.4, "2017", "a")], "alone"),
])
def test_reports_over_time_leaves_the_order_alone(answers, why):
    out = reports_over_time(answers)
    assert out == answers and all(a.earlier_reports == () for a in out), why


@pytest.mark.parametrize("a, b, same", [("850", "up to 850 troops", True), ("About 1,400", "1400", True),
                                        ("two buses", "seven buses", False), ("roughly 800", "850", False),
                                        ("the troops", "troops", True), ("Ottawa", "Toronto", False)])
def test_agree(a, b, same):
    assert agree(a, b) is same


def test_earlier_reports_appear_in_json_predict_records_terminal_and_chat():
    [lead, *_] = reports_over_time(SEED_LIKE)
    want = {"answer": "up to 850 troops", "published": "2017", "source": "CTV News", "doc_id": "ctv",
            "start": 3063, "end": 3079, "title": "headline ctv"}
    assert lead.to_dict()["earlier_reports"] == [want]
    assert SEED_LIKE[1].to_dict()["earlier_reports"] == []
    assert prediction_record({"id": "q1", "question": "How many?"}, [lead])["earlier_reports"] == [want]
    assert prediction_record({"id": "q1", "question": "How many?"}, [])["earlier_reports"] == []
    lines = answer_lines([lead])
    assert "   Reports over time: January 2020: roughly 800 (The Globe and Mail) · 2017: up to 850 troops (CTV News)" in lines
    html = render_answers([lead], {"globe": ArticleView("t", "p", "x " * 3000)})
    assert ('<p class="qa-timeline">Reports over time: January 2020: roughly 800 (The Globe and Mail) · '
            "2017: up to 850 troops (CTV News)</p>") in html
    assert isinstance(lead.earlier_reports[0], EarlierReport)
