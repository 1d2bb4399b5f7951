"""The answer verifier: its features see near misses, and fitting it gives calibrated P(right)."""
from __future__ import annotations

import random

import numpy as np
import pytest

from qa.reader.verify import FEATURES, AnswerVerifier, features, load_verifier
from qa.training import verifier as V

PASSAGE = ("Assange faces up to 10 years in prison if convicted. Swedish prosecutor Eva-Marie Persson said "
           "the case was dropped in November 2019.")


def f(question, answer):
    start = PASSAGE.index(answer)
    return dict(zip(FEATURES, features(question, PASSAGE, start, start + len(answer), 0.6, 0.2)))


def test_key_terms_missing_from_the_passage_are_seen():
    asked_in = f("Who is the Swedish prosecutor?", "Eva-Marie Persson")
    missing = f("Who is the Norwegian prosecutor in Oslo?", "Eva-Marie Persson")
    assert asked_in["key_terms_in_passage"] == 1.0
    assert missing["key_terms_in_passage"] < 0.5


def test_content_words_near_the_answer():
    near = f("How many years in prison does Assange face?", "10 years")
    far = f("How many years in prison was the prosecutor given?", "10 years")
    assert near["content_near_answer"] > far["content_near_answer"]


def test_answer_repeating_the_question_is_flagged():
    assert f("Who is Eva-Marie Persson?", "Eva-Marie Persson")["answer_in_question"] == 1.0
    assert f("Who is the Swedish prosecutor?", "Eva-Marie Persson")["answer_in_question"] == 0.0


def test_margin_is_bounded_and_defaults_when_alone():
    x = features("Who?", PASSAGE, 0, 7, 0.9, None)
    assert x[FEATURES.index("margin_logit")] == 5.0


def test_round_trip_and_damaged_entries():
    v = AnswerVerifier(tuple(0.1 * i for i in range(len(FEATURES))), -0.3, 0.4, 0.5, 0.2)
    assert AnswerVerifier.from_dict(v.to_dict()) == v
    assert load_verifier({"name": "span", "answer_verifiers": {"span": v.to_dict()}}, "span") == v
    assert load_verifier({"name": "span"}, "span-fast") is None
    # a verifier fitted on other features is ignored (the ranker's scores stand), not a crash
    old = {**v.to_dict(), "features": list(FEATURES[:-1]), "weights": list(v.weights[:-1])}
    assert load_verifier({"name": "span", "answer_verifiers": {"span": old}}, "span") is None
    with pytest.raises(ValueError, match="differ"):
        AnswerVerifier.from_dict({**v.to_dict(), "features": ["x"]})
    with pytest.raises(ValueError, match="damaged"):
        AnswerVerifier.from_dict({**v.to_dict(), "weights": [float("nan")] * len(FEATURES)})


def synthetic_rows(n=1200, seed=0):
    """Questions whose right answer is more likely with a high first feature; unanswerable ~half."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        answerable = rng.random() < 0.5
        cands = []
        for _ in range(3):
            z = rng.gauss(1.0 if answerable else -1.0, 1.5)
            right = answerable and rng.random() < 1 / (1 + np.exp(-1.5 * z))
            x = [z] + [rng.random() for _ in range(len(FEATURES) - 1)]
            cands.append({"x": x, "f1": 1.0 if right else 0.0, "em": 1.0 if right else 0.0})
        rows.append({"title": f"t{i % 8}", "answerable": answerable, "cands": cands})
    return rows


def test_fit_is_calibrated_out_of_sample_and_beats_chance():
    rows = synthetic_rows()
    cv = V.cross_validate(rows, prior=0.5)
    assert cv["reliability_as_is"]["ece"] < 0.08
    v = V.fit_verifier(rows, prior=0.5)
    assert 0.0 < v.min_score < 1.0
    assert v.weights[0] > 0  # the informative feature carries the weight


def test_prior_moves_the_threshold():
    rows = synthetic_rows()
    low, high = V.fit_verifier(rows, prior=0.05), V.fit_verifier(rows, prior=0.6)
    assert low.min_score <= high.min_score


def test_reliability_and_coverage_by_hand():
    rel = V.reliability([0.1, 0.1, 0.9, 0.9], [0, 1, 1, 1])
    # bin 0.1: mean 0.1, right 0.5 -> 0.4; bin 0.9: 0.9 vs 1.0 -> 0.1; ECE = 0.5*0.4 + 0.5*0.1
    assert rel["ece"] == pytest.approx(0.25)
    curve = V.coverage_curve([0.9, 0.2, 0.5], [1, 0, 1])
    assert curve == [(pytest.approx(1 / 3), 1.0), (pytest.approx(2 / 3), 1.0), (1.0, pytest.approx(2 / 3))]


@pytest.mark.parametrize("question, answer, mismatch", [
    ("How many troops did Canada send?", "about 850", 0.0),
    ("How many troops did Canada send?", "Latvia", 1.0),
    ("How much did the mission cost?", "$371 million", 0.0),
    ("When did Trump go to Walter Reed?", "Saturday", 0.0),
    ("When did Trump go to Walter Reed?", "the president", 1.0),
    ("What year was the treaty signed?", "1648", 0.0),
    ("Who leads the mission?", "Colonel Smith", 0.0),
])
def test_type_mismatch(question, answer, mismatch):
    from qa.reader.verify import type_mismatch

    assert type_mismatch(question, answer) == mismatch


def test_content_in_the_answers_own_sentence():
    given = f("How long a prison sentence was Assange given?", "10 years")
    asked = f("How long in prison does Assange face?", "10 years")
    i = FEATURES.index("content_in_sentence")
    assert asked["content_in_sentence"] > given["content_in_sentence"], (asked, given, i)
