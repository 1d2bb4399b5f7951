import pytest

from qa.reader import dedupe_spans, make_reader
from qa.reader.heuristic import HeuristicReader, question_type
from qa.types import Passage, ReadSpan


@pytest.mark.parametrize("question, kind", [
    ("How many troops went?", "number"), ("How much did it cost?", "number"), ("When did it start?", "when"),
    ("What year did Canada join?", "when"), ("Who leads the task force?", "who"), ("Where is Camp Canada?", "where"),
    ("Why was the training paused?", "other"), ("What is Operation Impact?", "other"),
])
def test_question_type(question, kind):
    assert question_type(question) == kind


@pytest.mark.parametrize("question, passage, answer", [
    ("How many missiles did Iran fire?", "On Wednesday, Iran fired 22 missiles at two bases.", "22 missiles"),
    ("How much did the mission cost?", "The mission will cost $371 million until March 2019.", "$371 million"),
    ("When did Canada join the coalition?", "Canada joined the coalition in 2014.", "2014"),
    ("Who leads the NATO mission?", "The NATO mission is led by Major-General Jennie Carignan.",
     "Major-General Jennie Carignan"),
    ("Where did the engineers deploy?", "The engineers were deployed to Besmaya, Iraq, last week.", "Besmaya, Iraq"),
])
def test_typed_span_is_short_and_exact(question, passage, answer):
    out = HeuristicReader().read(question, [Passage("d", 100, passage)])
    top = out.spans[0]
    assert passage[top.start:top.end] == answer
    assert 0 <= top.score <= 1 and 0 <= out.no_answer_score <= 1


def test_question_words_are_not_the_answer():
    out = HeuristicReader().read("When did the Dec. 27 attack happen in Kirkuk?",
                                 [Passage("d", 0, "A Dec. 27 rocket attack hit an air base in Kirkuk in 2019.")])
    assert out.spans and "Dec. 27" not in "A Dec. 27 rocket attack hit an air base in Kirkuk in 2019."[
        out.spans[0].start:out.spans[0].end]


def test_no_overlap_means_no_span():
    out = HeuristicReader().read("Who won the football game?", [Passage("d", 0, "Apples are red.")])
    assert out.spans == [] and out.no_answer_score == 1.0


def test_dedupe_merges_the_same_place_seen_through_two_chunks():
    passages = [Passage("d", 0, "One. Two three."), Passage("d", 5, "Two three. Four.")]
    spans = [ReadSpan(0, 5, 8, 0.9), ReadSpan(1, 0, 3, 0.8), ReadSpan(1, 11, 16, 0.5), ReadSpan(0, 0, 4, 0.4)]
    kept = dedupe_spans(spans, passages, top_k=5)
    assert [(s.passage_index, s.start) for s in kept] == [(0, 5), (1, 11), (0, 0)]
    assert len(dedupe_spans(spans, passages, top_k=1)) == 1


def test_make_reader_rejects_unknown_names():
    with pytest.raises(ValueError, match="span, span-fast, span-tiny, heuristic"):
        make_reader("magic")


def test_make_reader_span_fast_is_the_span_reader_in_fast_mode():
    from qa.reader import SPAN_LATER_QUANTIZATION
    from qa.reader.model import WEIGHTS_DIR

    r = make_reader("span-fast")
    assert r.name == "span-fast" and r.quantize == "per-tensor" and r.focus_chars and r.weights_dir == WEIGHTS_DIR
    full = make_reader("span")  # full precision; int8 only for passages read after the first round
    assert full.name == "span" and not full.quantize and full.focus_chars is None
    assert full.later_quantize == SPAN_LATER_QUANTIZATION == "per-channel"
    assert full.weights_dir == WEIGHTS_DIR


def test_make_reader_span_tiny_is_the_distilled_reader_in_fast_mode(tmp_path):
    from qa.reader import TINY_WEIGHTS_DIR

    r = make_reader("span-tiny")
    assert r.name == "span-tiny" and r.quantize and r.focus_chars and r.weights_dir == TINY_WEIGHTS_DIR
    assert r.meta["num_layers"] == 3  # the shipped file is the distilled one, not a copy of span's
    with pytest.raises(ValueError, match="make train-reader-tiny"):
        make_reader("span-tiny", weights_dir=tmp_path)
