"""qa/adaptive.py: the best passages first, the rest only while they could change the answer.

A reader with known logits (tests/reader/test_span_reader.py's PeakModel) and a ranker with the
shipped ranker's signs: the answer and whether it is given must be exactly what reading every
passage gives, while fewer passages are read.
"""
from __future__ import annotations

import random

import pytest
import torch

from qa.adaptive import read_adaptively, read_passages
from qa.rank import AnswerRanker
from qa.types import Chunk, Hit, Passage

from .reader.test_span_reader import PeakModel, make_reader

# The shipped span ranker's coefficients, rounded (qa/reader/weights/reader.json).
RANKER = AnswerRanker(weights=(0.33, 0.017, -0.61, -0.46, -0.11), bias=-1.4, depth=20, min_score=0.135)


@pytest.fixture(scope="module")
def tokenizer():
    from qa.reader.model import load_tokenizer

    return load_tokenizer()


class FixedNoiseModel(PeakModel):
    """PeakModel whose noise is a fixed function of the token (not of the call order), so a window
    gets the same logits however the windows are batched."""

    def __init__(self, tokenizer, *args, noise: float = 0.0, seed: int = 0, **kwargs):
        super().__init__(tokenizer, *args, **kwargs)
        g = torch.Generator().manual_seed(seed)
        self.table = noise * torch.randn((2, 30522), generator=g)

    def forward(self, input_ids, attention_mask, token_type_ids):
        s, e = super().forward(input_ids, attention_mask, token_type_ids)
        s, e = s + self.table[0][input_ids], e + self.table[1][input_ids]
        s[:, 0] = self.null
        e[:, 0] = self.null
        return s, e


class CountingModel(PeakModel):
    """PeakModel that counts the windows it reads."""

    windows = 0

    def forward(self, input_ids, attention_mask, token_type_ids):
        CountingModel.windows += int(input_ids.shape[0])
        return super().forward(input_ids, attention_mask, token_type_ids)


def job(texts, ranks):
    passages = [Passage(doc_id=f"d{i}", doc_start=0, text=t) for i, t in enumerate(texts)]
    hits = [Hit(Chunk(f"d{i}#0", f"d{i}", 0, len(t), t, ((0, len(t)),)), 1.0 / (i + 1), r)
            for i, (t, r) in enumerate(zip(texts, ranks))]
    return passages, hits


def top_answer(output, passages, hits, ranker=RANKER):
    """The answer Pipeline._answers would give first (None: it abstains), and whether it gives one."""
    if not output.spans:
        return None, False
    scored = [(ranker.score(s.score, s.passage_index, hits[s.passage_index].ranks, output.no_answer_score), s)
              for s in output.spans]
    score, best = max(scored, key=lambda pair: pair[0])
    if score < ranker.min_score:
        return None, False
    return passages[best.passage_index].text[best.start:best.end], True


TEXTS = ["The bridge was designed by Kowalski in 2001.",
         "Traffic on the bridge is heavy, Kowalski said.",
         "Kowalski also built a tower.",
         "A ferry crosses the river.",
         "The mayor praised Kowalski."]
GOOD_FIRST = [{"bm25": 0, "dense": 0}, {"bm25": 1, "dense": 2}, {"bm25": 3, "dense": 1},
              {"bm25": 2, "dense": 4}, {"bm25": 6, "dense": 3}]


def test_a_confident_answer_in_the_best_passage_stops_reading(tokenizer):
    reader = make_reader(tokenizer, CountingModel(tokenizer, "kowalski", peak=12.0, null=-5.0))
    passages, hits = job(TEXTS, GOOD_FIRST)
    [result] = read_adaptively(reader, RANKER, RANKER.min_score, [("Who designed the bridge?", passages, hits)], 10)
    full = reader.read("Who designed the bridge?", passages, top_k=10)
    assert result.passages_read < len(passages)
    assert top_answer(result.output, passages, hits) == top_answer(full, passages, hits) == ("Kowalski", True)


def test_a_passage_that_could_still_win_is_read(tokenizer):
    # Passage 1 is first in both retrievers' lists although fused second: it could beat passage 0.
    ranks = [{"bm25": 1, "dense": 1}, {"bm25": 0, "dense": 0}, *GOOD_FIRST[2:]]
    reader = make_reader(tokenizer, PeakModel(tokenizer, "kowalski", peak=12.0, null=-5.0))
    passages, hits = job(TEXTS, ranks)
    [result] = read_adaptively(reader, RANKER, RANKER.min_score, [("Who?", passages, hits)], 10)
    assert result.passages_read >= 2
    assert any(s.passage_index == 1 for s in result.output.spans)


def test_an_answer_below_the_threshold_that_could_still_pass_reads_on(tokenizer):
    # A weak answer (strong no-answer): a lower no-answer probability could lift it over a threshold
    # set between its score now and the most it could reach, so every passage is read.
    reader = make_reader(tokenizer, PeakModel(tokenizer, "kowalski", peak=4.0, null=6.0))
    passages, hits = job(TEXTS, GOOD_FIRST)
    first = reader.read("Who?", passages[:1], top_k=10)
    best = first.spans[0]
    now = RANKER.score(best.score, 0, hits[0].ranks, first.no_answer_score)
    most = RANKER.highest_probability(RANKER.order_key(best.score, 0, hits[0].ranks), first.no_answer_score)
    assert now < most
    [result] = read_adaptively(reader, RANKER, (now + most) / 2, [("Who?", passages, hits)], 10)
    assert result.passages_read == len(passages)


def test_when_nothing_could_pass_the_threshold_reading_stops(tokenizer):
    reader = make_reader(tokenizer, PeakModel(tokenizer, "kowalski", peak=4.0, null=6.0))
    passages, hits = job(TEXTS, GOOD_FIRST)
    strict = AnswerRanker(RANKER.weights, RANKER.bias, RANKER.depth, min_score=0.99)
    [result] = read_adaptively(reader, strict, 0.99, [("Who?", passages, hits)], 10)
    assert result.passages_read == 1
    full = reader.read("Who?", passages, top_k=10)
    assert top_answer(result.output, passages, hits, strict) == top_answer(full, passages, hits, strict) == (None, False)


def test_same_answer_and_decision_as_reading_every_passage_on_random_cases(tokenizer):
    """Random logits, random ranks, random thresholds: the top answer and whether it is given never
    differ from reading every passage, and on average fewer passages are read."""
    rng = random.Random(7)
    words = "alpha beta gamma delta epsilon zeta kowalski harbour bridge tower river mayor".split()
    read, total = 0, 0
    for case in range(60):
        texts = [" ".join(rng.choice(words) for _ in range(rng.randint(4, 14))) + " kowalski." for _ in range(5)]
        ranks = []
        for i in range(5):
            r = {}
            if rng.random() < 0.9:
                r["bm25"] = rng.randint(0, 8)
            if rng.random() < 0.9:
                r["dense"] = rng.randint(0, 8)
            ranks.append(r)
        model = FixedNoiseModel(tokenizer, "kowalski", peak=rng.uniform(0, 12), null=rng.uniform(-4, 6),
                                noise=rng.uniform(0, 3), seed=case)
        reader = make_reader(tokenizer, model)
        passages, hits = job(texts, ranks)
        threshold = rng.choice([0.05, RANKER.min_score, 0.3, 0.6])
        ranker = AnswerRanker(RANKER.weights, RANKER.bias, RANKER.depth, threshold)
        # Keep every candidate (top_k): with a cut list, unread passages could push the adaptive
        # answer out of the full read's list; with the product's 10 that takes 10 better-scored spans.
        [result] = read_adaptively(reader, ranker, threshold, [("Who?", passages, hits)], 500)
        full = reader.read("Who?", passages, top_k=500)
        assert top_answer(result.output, passages, hits, ranker) == top_answer(full, passages, hits, ranker), case
        read += result.passages_read
        total += len(passages)
    assert total and read < total


def test_questions_are_read_together_and_each_gets_its_own_answer(tokenizer):
    reader = make_reader(tokenizer, PeakModel(tokenizer, "kowalski", peak=12.0, null=-5.0))
    jobs = [("Who designed the bridge?", *job(TEXTS, GOOD_FIRST)),
            ("Who?", *job(["Nothing here.", "Kowalski was here."], [{"bm25": 0}, {"dense": 0}]))]
    results = read_adaptively(reader, RANKER, RANKER.min_score, jobs, 10)
    alone = [read_adaptively(reader, RANKER, RANKER.min_score, [j], 10)[0] for j in jobs]
    assert [r.output for r in results] == [a.output for a in alone]
    assert [r.passages_read for r in results] == [a.passages_read for a in alone]


def test_without_a_ranker_every_passage_is_read(tokenizer):
    reader = make_reader(tokenizer, PeakModel(tokenizer, "kowalski", peak=12.0))
    passages, hits = job(TEXTS, GOOD_FIRST)
    [result] = read_passages(reader, None, 0.1, [("Who?", passages, hits)], 10)
    assert result.passages_read == len(passages)
    assert result.output == reader.read("Who?", passages, top_k=10)


def test_adaptive_reading_reads_less_in_the_random_cases(tokenizer, capsys):
    """The equivalence above must not come from reading everything: count the passages read."""
    rng = random.Random(3)
    read = total = 0
    for case in range(20):
        reader = make_reader(tokenizer, FixedNoiseModel(tokenizer, "kowalski", peak=10.0, null=-3.0,
                                                        noise=1.0, seed=case))
        ranks = sorted(({"bm25": rng.randint(0, 8), "dense": rng.randint(0, 8)} for _ in range(5)),
                       key=lambda r: r["bm25"] + r["dense"])
        passages, hits = job(TEXTS, ranks)
        [result] = read_adaptively(reader, RANKER, RANKER.min_score, [("Who?", passages, hits)], 10)
        read += result.passages_read
        total += len(passages)
    assert read < 0.6 * total


def test_later_rounds_read_through_the_readers_cheaper_model(tokenizer):
    """With a ``later`` model (span: int8) the first round stays on the exact model, the rest not."""
    class Counting(PeakModel):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.windows = 0

        def forward(self, input_ids, attention_mask, token_type_ids):
            self.windows += int(input_ids.shape[0])
            return super().forward(input_ids, attention_mask, token_type_ids)

    exact, cheap = Counting(tokenizer, "kowalski", peak=1.0, null=6.0), Counting(tokenizer, "kowalski", peak=1.0, null=6.0)
    reader = make_reader(tokenizer, exact)
    reader._set_model(exact, tokenizer, later_model=cheap)
    passages, hits = job(TEXTS, GOOD_FIRST)
    [result] = read_adaptively(reader, RANKER, 0.0001, [("Who?", passages, hits)], 10)
    assert exact.windows == 1 and cheap.windows == result.passages_read - 1 > 0
