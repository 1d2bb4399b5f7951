import pytest

from qa import Pipeline, QuestionError
from qa.pipeline import clean_question


@pytest.fixture
def pipeline(small_corpus, tmp_path, fake_encoder, backend_name, make_backend):
    p = Pipeline(small_corpus, tmp_path / "idx", reader="heuristic", encoder=fake_encoder,
                 backend=make_backend(backend_name, tmp_path / "idx"))
    p.warm_up()
    return p


def test_answers_are_exact_cited_spans(pipeline):
    answers = pipeline.ask("Who designed the Tay bridge?")
    assert answers and answers[0].text == "Anna Kowalski"
    docs = {d.doc_id: d for d in pipeline.documents}
    for a in answers:
        for c in a.citations:
            doc = docs[c.doc_id]
            assert doc.text[c.start:c.end] == c.text == a.text
            assert doc.text[c.sentence_start:c.sentence_end] == c.sentence
            assert c.sentence_start <= c.start < c.end <= c.sentence_end
            assert c.title == doc.title


def test_typed_questions(pipeline):
    assert pipeline.ask("When did the Tay bridge open?")[0].text == "March 3, 2021"
    assert pipeline.ask("How many homes lost power in the storm?")[0].text.startswith("About 400,000")


def test_no_answer_is_an_empty_list(pipeline):
    assert pipeline.ask("What is the boiling point of mercury?") == []


def test_min_score_override(pipeline):
    assert pipeline.ask("Who designed the Tay bridge?", min_score=1.01) == []


def test_timings_reported(pipeline):
    pipeline.ask("Who designed the Tay bridge?")
    assert set(pipeline.last_timings) >= {"encode", "search", "read", "total"}


def test_ask_context_answers_from_given_text_only(pipeline):
    context = "The museum was founded in 1852 by Queen Victoria."
    answers = pipeline.ask_context("When was the museum founded?", context)
    assert answers[0].text == "1852"
    c = answers[0].citations[0]
    assert c.doc_id == "context" and context[c.start:c.end] == "1852"


def test_new_file_is_answerable_after_index(pipeline, small_corpus):
    (small_corpus / "moon.txt").write_text("Moon mission\n\nThe lander touched down in the Sea of Crises.",
                                           encoding="utf-8")
    report = pipeline.index(progress=False)
    assert report.added == ["moon"]
    answers = pipeline.ask("Where did the lander touch down?")
    assert answers and answers[0].citations[0].doc_id == "moon"


@pytest.mark.parametrize("bad, message", [
    ("", "type a question"), ("   \n\t ", "type a question"), ("x" * 10_000, "under 1,000"),
    ("🇨🇦🎉🙂", "no words"), ("???", "no words"), (None, "must be text"),
])
def test_bad_questions_raise_clear_errors(bad, message):
    with pytest.raises(QuestionError, match=message):
        clean_question(bad)


def test_question_cleaning_keeps_html_as_text():
    assert clean_question("  <b>Who</b>\x00 designed\n it? ") == "<b>Who</b> designed it?"
    assert clean_question(b"who \xff designed") == "who \ufffd designed"
