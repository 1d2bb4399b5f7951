"""Tests of SQuAD loading, the binding splits and training-window labels."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from qa.training import data as sd

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_data = pytest.mark.skipif(
    not (DATA_DIR / sd.SQUAD_V11_DEV).exists(),
    reason=f"shared SQuAD data not found at {DATA_DIR} (expected /work/shared/data layout)",
)


@pytest.fixture(scope="module")
def tokenizer():
    from qa.reader.model import load_tokenizer

    return load_tokenizer()


def _record(context: str, answer: str, question: str = "What is it?", occurrence: int = 0, qid: str = "q"):
    start = -1
    for _ in range(occurrence + 1):
        start = context.index(answer, start + 1)
    return sd.SquadRecord(qid=qid, source="t", title="T", context=context, question=question,
                          answers=((answer, start),))


SAMPLE = {
    "version": "1.1",
    "data": [{"title": "A", "paragraphs": [{"context": "Paris is the capital of France.", "qas": [
        {"id": "1", "question": "Capital of France?", "answers": [{"text": "Paris", "answer_start": 0},
                                                                   {"text": "Paris", "answer_start": 0}]},
        {"id": "2", "question": "Capital of Spain?", "answers": [], "is_impossible": True},
    ]}]}],
}


def test_load_json_and_gz_equal(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(SAMPLE), encoding="utf-8")
    with gzip.open(tmp_path / "a.json.gz", "wt", encoding="utf-8") as f:
        json.dump(SAMPLE, f)
    a = sd.load_records(tmp_path / "a.json", "x")
    b = sd.load_records(tmp_path / "a.json.gz", "x")
    assert a == b
    assert len(a) == 2
    assert a[0].answers == (("Paris", 0),)  # duplicate gold answers collapsed
    assert a[1].is_impossible and a[1].answer_texts == []


def test_window_labels_map_back_to_exact_answer(tokenizer):
    filler = " ".join(f"Sentence number {i} talks about the weather in town {i}." for i in range(60))
    recs = [
        _record("Marie Curie won the Nobel Prize in 1903. " + filler, "1903", "When?", qid="a"),
        _record(filler + " The bridge opened on 4 July 1976, to great applause.", "4 July 1976", "When?", qid="b"),
        _record(filler[:800] + " It cost $5.2 million (in 1990 dollars). " + filler[800:], "$5.2 million", qid="c"),
        _record("Short context about Zürich, the city of Zürich.", "Zürich", occurrence=1, qid="d"),
    ]
    wins, stats = sd.build_training_windows(recs, tokenizer, max_seq_len=96, stride=32,
                                            negative_keep_fraction=1.0)
    assert stats["windows"] == len(wins) > len(recs)  # long contexts were windowed
    found = set()
    for w in wins:
        rec = recs[w.example_index]
        assert len(w.input_ids) <= 96
        if w.start_position == 0:
            assert w.end_position == 0
            continue
        text, start = rec.answers[0]
        s, e = w.offsets[w.start_position][0], w.offsets[w.end_position][1]
        assert rec.context[s:e] == text
        assert (s, e) == (start, start + len(text))
        found.add(w.example_index)
    assert found == {0, 1, 2, 3}


def test_windows_missing_the_answer_get_cls_and_negative_sampling(tokenizer):
    filler = " ".join(f"Filler sentence {i} says nothing of interest." for i in range(80))
    rec = _record("The answer is 42. " + filler, "42")
    all_w, st = sd.build_training_windows([rec], tokenizer, 64, 16, negative_keep_fraction=1.0)
    pos = [w for w in all_w if w.start_position > 0]
    neg = [w for w in all_w if w.start_position == 0]
    assert len(pos) == 1 and len(neg) >= 5
    none_w, st0 = sd.build_training_windows([rec], tokenizer, 64, 16, negative_keep_fraction=0.0)
    assert [w.start_position > 0 for w in none_w] == [True]
    assert st0["negatives_dropped"] == len(neg)


def test_cross_paragraph_negatives_pair_the_question_with_another_paragraph(tokenizer):
    a = _record("Alpha was founded in 1901 by settlers.", "1901", qid="a")
    b = _record("Beta grows wheat and barley in summer.", "wheat", qid="b")
    lone = sd.SquadRecord(qid="c", source="t", title="Other", context="Gamma is alone.", question="What?",
                          answers=(("Gamma", 0),))
    wins, st = sd.build_training_windows([a, b, lone], tokenizer, 64, 16, negative_keep_fraction=0.0,
                                         cross_negative_fraction=1.0)
    extra = [w for w in wins if w.example_index == -1]
    # one per answerable question whose article has another paragraph; none for the lone article
    assert st["cross_negatives"] == len(extra) == 2
    assert all(w.start_position == w.end_position == 0 for w in extra)
    decoded = {tokenizer.decode([t for t, o in zip(w.input_ids, w.offsets) if o is not None]) for w in extra}
    assert decoded == {"beta grows wheat and barley in summer.", "alpha was founded in 1901 by settlers."}
    plain, st0 = sd.build_training_windows([a, b, lone], tokenizer, 64, 16, negative_keep_fraction=0.0)
    assert st0["cross_negatives"] == 0 and len(plain) == len(wins) - 2


@needs_data
def test_real_window_labels_mostly_exact(tokenizer):
    recs = sd.sample_records(sd.training_records(DATA_DIR), 300, seed=1)
    wins, _ = sd.build_training_windows(recs, tokenizer, 160, 48, negative_keep_fraction=0.0)
    exact = 0
    for w in wins:
        rec = recs[w.example_index]
        text, start = rec.answers[0]
        s, e = w.offsets[w.start_position][0], w.offsets[w.end_position][1]
        assert s <= start and e >= start + len(text)  # the labelled tokens cover the answer
        exact += rec.context[s:e] == text
    # answers that end inside a word piece ("1990" in "1990s") cannot be exact; they are rare
    assert exact / len(wins) > 0.97


def test_ambiguous_answers_marginal_labels_every_occurrence_in_the_window(tokenizer):
    ctx = "In 1990 the club moved. It won the cup in 1990 again, and lost in 1991."
    first = ctx.index("1990")
    second = ctx.index("1990", first + 1)
    rec = sd.SquadRecord(qid="a", source="t", title="T", context=ctx, question="When did it move?",
                         answers=(("1990", second),), alt_starts=((first,),))
    assert rec.is_ambiguous
    wins, st = sd.build_training_windows([rec], tokenizer, 64, 16, negative_keep_fraction=0.0,
                                         ambiguous="marginal")
    (w,) = wins
    spans = [(w.start_position, w.end_position), *w.alt_positions]
    assert sorted((w.offsets[s][0], w.offsets[e][1]) for s, e in spans) == [(first, first + 4), (second, second + 4)]
    assert st["multi_label_windows"] == 1 and st["ambiguous_records"] == 1
    # the recovered start is trusted with "first": one label, the recovered occurrence
    (w1,), _ = sd.build_training_windows([rec], tokenizer, 64, 16, negative_keep_fraction=0.0, ambiguous="first")
    assert w1.alt_positions == [] and w1.offsets[w1.start_position][0] == second
    # "drop" leaves the question out
    none, st2 = sd.build_training_windows([rec], tokenizer, 64, 16, negative_keep_fraction=0.0, ambiguous="drop")
    assert none == [] and st2["ambiguous_dropped"] == 1
    with pytest.raises(ValueError, match="marginal"):
        sd.build_training_windows([rec], tokenizer, 64, 16, ambiguous="vote")


def test_alt_starts_come_from_answer_start_candidates(tmp_path):
    data = {"data": [{"title": "A", "paragraphs": [{"context": "x 1990 y 1990", "qas": [
        {"id": "1", "question": "When?", "answers": [{"text": "1990", "answer_start": 9,
                                                      "answer_start_candidates": [2, 9]}]},
        {"id": "2", "question": "Which?", "answers": [{"text": "y", "answer_start": 7}]},
    ]}]}]}
    (tmp_path / "d.json").write_text(json.dumps(data), encoding="utf-8")
    amb, plain = sd.load_records(tmp_path / "d.json", "x")
    assert amb.answers == (("1990", 9),) and amb.alt_starts == ((2,),) and amb.is_ambiguous
    assert plain.alt_starts == () and not plain.is_ambiguous


def test_unanswerable_windows_have_their_own_keep_fraction(tokenizer):
    filler = " ".join(f"Filler sentence {i} says nothing of interest." for i in range(40))
    unans = sd.SquadRecord(qid="u", source="t", title="T", context=filler, question="Who?", answers=())
    wins, st = sd.build_training_windows([unans], tokenizer, 64, 16, negative_keep_fraction=0.0,
                                         unanswerable_keep_fraction=1.0)
    assert len(wins) == st["unanswerable_windows"] > 1
    assert all(w.start_position == w.end_position == 0 for w in wins)
    dropped, _ = sd.build_training_windows([unans], tokenizer, 64, 16, negative_keep_fraction=0.0)
    assert dropped == []  # by default they follow negative_keep_fraction


def test_compacted_windows_collate_to_the_same_batch(tokenizer):
    import torch

    from qa.reader.model import collate

    rec = _record("Marie Curie won the Nobel Prize in 1903 in Stockholm.", "1903", "When?")
    wins, _ = sd.build_training_windows([rec], tokenizer, 64, 16, negative_keep_fraction=1.0)
    before = collate(wins)
    after = collate(sd.compact_for_training(wins))
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_unknown_training_source_is_a_clear_error():
    with pytest.raises(ValueError, match="squad_train"):
        sd.training_records(DATA_DIR, ["squad_trian"])


@needs_data
def test_splits_are_disjoint_by_title():
    train = sd.training_records(DATA_DIR, sd.TRAINING_SOURCES)
    tune = sd.tuning_records(DATA_DIR)
    held = sd.held_out_records(DATA_DIR)
    held_abst = sd.held_out_abstention_records(DATA_DIR)
    train_titles = {sd.title_key(t) for t in sd.iter_titles(train)}
    # by article, in any spelling: TyDi writes "Black Death" where SQuAD writes "Black_Death"
    assert not train_titles & {sd.title_key(t) for t in sd.HELD_OUT_TITLES}
    assert not train_titles & {sd.title_key(t) for t in sd.TUNING_TITLES}
    assert sd.iter_titles(tune) == sd.TUNING_TITLES
    assert sd.iter_titles(held) == sd.HELD_OUT_TITLES
    assert sd.iter_titles(held_abst) == sd.HELD_OUT_V2_TITLES
    assert len(held) == 2198  # as documented in the data README
    # the held-out abstention benchmark: 639 answerable, 493 unanswerable (data README)
    assert (len(held_abst), sum(r.is_impossible for r in held_abst)) == (1132, 493)
    # training contexts never share a paragraph with held-out or tuning ones
    train_ctx = {r.context for r in train}
    assert not train_ctx & {r.context for r in held}
    assert not train_ctx & {r.context for r in held_abst}
    assert not train_ctx & {r.context for r in tune}
    assert len({r.title for r in train if r.source == "squad_v1.1"}) == 26
    assert len({r.title for r in train if r.source == "squad_train"}) == 442
    v2 = [r for r in train if r.source == "squad_v2.0"]
    # the training-side v2.0 questions of the data README: 2,379 answerable + 2,284 unanswerable
    assert (len(v2), sum(r.is_impossible for r in v2)) == (2379 + 2284, 2284)
    # TyDi's 3,696 less its 3 questions on the Wikipedia articles Oxygen (held out) and Force (tuning)
    assert sum(r.source == "tydi" for r in train) == 3693
    assert {r.source for r in train} == {"squad_train", "squad_v1.1", "squad_v2.0", "new_wiki", "reddit", "tydi"}
    assert {r.source for r in sd.training_records(DATA_DIR)} == {"squad_v1.1", "new_wiki", "reddit"}
    assert sum(r.is_impossible for r in tune) == 3168
