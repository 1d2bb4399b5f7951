"""Answer ranking: the logistic fit, the stored form, and how the pipeline uses a ranker."""
from __future__ import annotations

import math

import numpy as np
import pytest

from qa import Pipeline
from qa.rank import FEATURES, AnswerRanker, features, fit_logistic, load_ranker, store_ranker
from qa.types import ReaderOutput, ReadSpan


def test_fit_logistic_recovers_known_coefficients():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20000, 3))
    true_w, true_b = np.array([1.5, -2.0, 0.0]), 0.7
    y = (rng.random(20000) < 1 / (1 + np.exp(-(x @ true_w + true_b)))).astype(float)
    w, b = fit_logistic(x, y, l2=0.0)
    np.testing.assert_allclose(w, true_w, atol=0.08)
    assert b == pytest.approx(true_b, abs=0.08)
    # the penalty shrinks the weights, never the bias
    w_pen, _ = fit_logistic(x, y, l2=1.0)
    assert np.abs(w_pen).sum() < 0.5 * np.abs(w).sum()


def test_fit_logistic_separable_data_stays_finite():
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    w, b = fit_logistic(x, np.array([0.0, 0.0, 1.0, 1.0]))
    assert np.isfinite(w).all() and math.isfinite(b) and w[0] > 0


def test_features_and_missing_ranks():
    x = features(0.5, 2, {"bm25": 0}, depth=20, no_answer=0.1)
    assert len(x) == len(FEATURES)
    assert x == pytest.approx([math.log(0.5), math.log(3), 0.0, math.log(21), math.log(0.1)])
    assert math.isfinite(features(0.0, 0, {}, 20, 0.0)[0])  # a zero score does not blow up


def test_ranker_round_trip_and_damage():
    r = AnswerRanker((1.0, -0.5, -0.3, -0.2, 0.1), -0.4, 20, 0.12)
    assert AnswerRanker.from_dict(r.to_dict()) == r
    assert load_ranker({"answer_ranker": r.to_dict()}) == r and load_ranker({}) is None
    with pytest.raises(ValueError, match="features"):
        AnswerRanker.from_dict({**r.to_dict(), "features": ["log_reader_score"]})
    with pytest.raises(ValueError, match="damaged"):
        AnswerRanker.from_dict({**r.to_dict(), "weights": [1.0, float("nan"), 0, 0, 0]})
    # a better reader score or a better rank means a higher probability
    assert r.score(0.6, 0, {"bm25": 0, "dense": 0}, 0.1) > r.score(0.3, 0, {"bm25": 0, "dense": 0}, 0.1)
    assert r.score(0.6, 0, {"bm25": 0, "dense": 0}, 0.1) > r.score(0.6, 4, {"bm25": 9}, 0.1)


def test_a_variant_reader_has_its_own_ranker_beside_the_weights_own(tmp_path):
    import json

    from qa.reader import make_reader

    own = AnswerRanker((1.0, -0.5, -0.3, -0.2, 0.1), -0.4, 20, 0.12)
    fast = AnswerRanker((2.0, -0.1, -0.1, -0.1, 0.0), 0.3, 20, 0.2)
    meta = store_ranker({"name": "span"}, "span", own.to_dict())
    # not fitted for span-fast yet: it falls back to the ranker of the weights' own reader
    assert load_ranker(meta, "span-fast") == own
    meta = store_ranker(meta, "span-fast", fast.to_dict())
    assert load_ranker(meta, "span") == own and load_ranker(meta) == own  # span's is untouched
    assert load_ranker(meta, "span-fast") == fast
    refit = AnswerRanker(own.weights, own.bias, own.depth, 0.3)
    meta = store_ranker(meta, "span", refit.to_dict())  # refitting span keeps span-fast's
    assert load_ranker(meta, "span") == refit and load_ranker(meta, "span-fast") == fast
    # the readers built by name pick their own from a weights folder
    (tmp_path / "reader.json").write_text(json.dumps(meta), encoding="utf-8")
    assert make_reader("span", weights_dir=tmp_path).ranker == refit
    assert make_reader("span-fast", weights_dir=tmp_path).ranker == fast


class ScriptedReader:
    """Returns one span per passage holding ``word``, with scores given per passage index."""

    name = "scripted"
    min_score = 0.0

    def __init__(self, word_scores: dict[str, float], ranker=None):
        self.word_scores, self.ranker = word_scores, ranker

    def warm_up(self):
        return None

    def read(self, question, passages, top_k=3):
        spans = []
        for i, p in enumerate(passages):
            for word, score in self.word_scores.items():
                at = p.text.find(word)
                if at >= 0:
                    spans.append(ReadSpan(i, at, at + len(word), score))
        spans.sort(key=lambda s: -s.score)
        return ReaderOutput(spans=spans[:top_k], no_answer_score=0.2)


def test_pipeline_orders_answers_by_the_ranker(small_corpus, tmp_path, fake_encoder):
    question = "Who designed the Tay bridge?"  # the bridge article is retrieved first
    scores = {"Anna Kowalski": 0.40, "150 km/h": 0.45}  # the reader alone prefers a span of the 5th passage
    plain = Pipeline(small_corpus, tmp_path / "idx", reader=ScriptedReader(scores), encoder=fake_encoder)
    assert [a.text for a in plain.ask(question)][:2] == ["150 km/h", "Anna Kowalski"]
    hits = plain.retrieve(question, top_k=5)
    assert hits[0].chunk.doc_id == "bridge" and "storm" in [h.chunk.doc_id for h in hits]

    ranker = AnswerRanker((1.0, -2.0, 0.0, 0.0, 0.0), 0.0, 20, 0.001)
    ranked = Pipeline(small_corpus, tmp_path / "idx", reader=ScriptedReader(scores, ranker), encoder=fake_encoder)
    answers = ranked.ask(question)
    assert [a.text for a in answers][:2] == ["Anna Kowalski", "150 km/h"]
    storm_rank = next(i for i, h in enumerate(hits) if h.chunk.doc_id == "storm")
    assert answers[0].score == pytest.approx(ranker.score(0.40, 0, hits[0].ranks, 0.2))
    assert answers[1].score == pytest.approx(ranker.score(0.45, storm_rank, hits[storm_rank].ranks, 0.2))
    # the ranker's threshold applies to its own probability; an explicit min_score still wins
    strict = AnswerRanker(ranker.weights, ranker.bias, 20, min_score=answers[0].score + 1e-9)
    assert Pipeline(small_corpus, tmp_path / "idx", reader=ScriptedReader(scores, strict),
                    encoder=fake_encoder).ask(question) == []
    assert ranked.ask(question, min_score=answers[1].score + 1e-9)[0].text == "Anna Kowalski"
    # answering from a given text involves no retrieval: the reader's own score is kept
    assert ranked.ask_context(question, "The bridge was designed by Anna Kowalski.")[0].score == pytest.approx(0.40)


def test_variants_of_one_answer_fold_into_one_with_exact_citations(tmp_path, fake_encoder):
    """"the bridge" and "bridge" normalise alike: one answer, and every citation reads exactly its text."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Bridges\n\nThe bridge was closed. Engineers inspected the bridge.", encoding="utf-8")
    (corpus / "b.txt").write_text("Roads\n\nA bridge was closed. The bridge reopened later.", encoding="utf-8")
    reader = ScriptedReader({"The bridge": 0.5, "A bridge": 0.45, "the bridge": 0.4})
    p = Pipeline(corpus, tmp_path / "idx", reader=reader, encoder=fake_encoder)
    answers = p.ask("What was closed?", top_k=3)
    assert len(answers) == 1 and answers[0].text == "The bridge"
    docs = {d.doc_id: d for d in p.documents}
    assert len(answers[0].citations) >= 2  # the same words found in both articles
    for c in answers[0].citations:
        assert docs[c.doc_id].text[c.start:c.end] == c.text == answers[0].text


def test_order_key_ceiling_and_highest_probability_bound_what_reading_can_give():
    from qa.rank import FLOOR

    r = AnswerRanker(weights=(0.33, 0.017, -0.61, -0.46, -0.11), bias=-1.4, depth=20, min_score=0.135)
    ranks = {"bm25": 2, "dense": 5}
    # the order key is the logit without bias and without the (question-wide) no-answer term
    for score, na in ((0.3, 0.01), (0.9, 0.5)):
        z = r.order_key(score, 3, ranks) + r.bias + r.weights[4] * math.log(na)
        assert r.score(score, 3, ranks, na) == pytest.approx(1 / (1 + math.exp(-z)))
    assert all(r.order_key(s, 3, ranks) <= r.ceiling(3, ranks) for s in (1e-9, 0.01, 0.5, 1.0))
    assert r.ceiling(3, ranks) == pytest.approx(r.order_key(1.0, 3, ranks))
    key = r.order_key(0.4, 3, ranks)
    for na in (0.9, 0.01, FLOOR):  # a lower no-answer probability never beats the bound
        assert r.score(0.4, 3, ranks, na) <= r.highest_probability(key, 0.9) + 1e-12
    assert r.highest_probability(key, 0.9) == pytest.approx(r.score(0.4, 3, ranks, FLOOR))
