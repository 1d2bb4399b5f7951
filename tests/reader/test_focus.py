"""Tests of focus windows (the fast reading mode): the chosen range is a slice of the passage,
holds the sentence that shares the question's rare words, and stays within the budget."""
from __future__ import annotations

import random

from qa.chunk import split_sentences
from qa.reader.focus import focus_spans

TEXT = ("The river rises in the Alps. It flows north through several lakes. "
        "The first bridge over it was built in 1847 by Roman engineers. "
        "Boats carry coal and grain downstream. Many towns line its banks.")


def test_picks_the_sentence_sharing_rare_words_and_respects_budget():
    (s, e), = focus_spans("When was the first bridge built?", [TEXT], budget_chars=120)
    assert "built in 1847" in TEXT[s:e]
    assert e - s <= 120
    # a range is whole sentences: it starts and ends on sentence boundaries
    bounds = split_sentences(TEXT)
    assert s in {a for a, _ in bounds} and e in {b for _, b in bounds}


def test_short_passages_and_single_sentences_are_read_whole():
    short = "Paris is the capital of France."
    long_one = "word " * 200
    assert focus_spans("Capital?", [short, long_one], budget_chars=50) == [(0, len(short)), (0, len(long_one))]


def test_grows_towards_the_matching_neighbour():
    (s, e), = focus_spans("Which engineers built the bridge, and what do boats carry?", [TEXT], budget_chars=140)
    assert "1847" in TEXT[s:e] and "coal" in TEXT[s:e]


def test_random_texts_give_valid_ranges():
    rng = random.Random(0)
    words = "alpha beta gamma delta river bridge 1847 coal grain town. lake! north? Dr. Smith".split()
    for _ in range(200):
        texts = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 120))) for _ in range(rng.randint(1, 5))]
        budget = rng.randint(20, 400)
        out = focus_spans(" ".join(rng.choice(words) for _ in range(6)), texts, budget)
        assert len(out) == len(texts)
        for t, (s, e) in zip(texts, out):
            assert 0 <= s <= e <= len(t)
            if len(t) > budget and (s, e) != (0, len(t)):
                sents = split_sentences(t)
                one_sentence = any((a, b) == (s, e) for a, b in sents)
                assert e - s <= budget or one_sentence
