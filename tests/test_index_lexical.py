"""LexicalIndex.idf and search_weighted against the plain BM25 search they extend."""
from __future__ import annotations

import math

import numpy as np
import pytest

from qa.index_lexical import LexicalIndex

TEXTS = ["The bridge was designed by Anna Kowalski.", "The bridge cost forty million dollars.",
         "Apples were picked in Nova Scotia.", "A storm struck Halifax; the bridge closed.",
         "Prices of apples fell."]


@pytest.fixture(scope="module")
def index():
    return LexicalIndex.build(TEXTS)


def test_weights_of_one_give_the_plain_search(index):
    plain = index.search("bridge designed Kowalski", 5)
    weighted = index.search_weighted({"bridge": 1.0, "designed": 1.0, "Kowalski": 1.0}, 5)
    assert [r for r, _ in weighted] == [r for r, _ in plain]
    assert np.allclose([s for _, s in weighted], [s for _, s in plain], rtol=1e-5)


def test_a_lower_weight_lowers_that_word_and_reorders(index):
    # "apples" alone ranks the apple passages; with "bridge" at full weight they fall behind.
    heavy = index.search_weighted({"bridge": 1.0, "apples": 0.1}, 5)
    light = index.search_weighted({"bridge": 0.1, "apples": 1.0}, 5)
    assert TEXTS[heavy[0][0]].count("bridge") and "pples" in TEXTS[light[0][0]]
    both = index.search_weighted({"bridge": 1.0, "apples": 1.0}, 5)
    scores = dict(both)
    for row, s in heavy:
        assert s <= scores[row] + 1e-6  # lowering a weight never raises a score


def test_weighted_search_honours_allowed_rows(index):
    found = index.search_weighted({"bridge": 1.0}, 5, np.array([1, 3], dtype=np.int64))
    assert {r for r, _ in found} == {1, 3}
    assert index.search_weighted({"bridge": 1.0}, 5, np.array([], dtype=np.int64)) == []
    assert index.search_weighted({"zeppelin": 1.0}, 5) == []


def test_idf_is_lucene_bm25_idf_and_none_for_stop_words_and_unknown_words(index):
    idf = index.idf(["bridge", "Kowalski", "the", "zeppelin"])
    n = len(TEXTS)
    assert idf["bridge"] == pytest.approx(math.log(1 + (n - 3 + 0.5) / (3 + 0.5)))
    assert idf["Kowalski"] == pytest.approx(index.max_idf())
    assert idf["the"] is None and idf["zeppelin"] is None
