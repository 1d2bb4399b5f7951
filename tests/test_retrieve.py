import numpy as np
import pytest

from qa.config import QAConfig
from qa.load import load_corpus
from qa.retrieve import HybridRetriever
from qa.store import update_index


@pytest.fixture
def retriever(small_corpus, tmp_path, fake_encoder):
    docs, _ = load_corpus(small_corpus)
    index, _ = update_index(tmp_path / "idx", docs, fake_encoder, QAConfig())
    return HybridRetriever(index, fake_encoder, depth=10)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_each_mode_finds_the_right_article(retriever, mode):
    hits = retriever.retrieve("Who designed the Tay bridge?", mode=mode)
    assert hits[0].chunk.doc_id == "bridge"
    assert list(hits[0].ranks) == ([mode] if mode != "hybrid" else ["dense", "bm25"])


def test_dense_matches_numpy_brute_force(retriever, fake_encoder):
    q = fake_encoder.encode(["storm winds Halifax"])[0]
    vectors = retriever.index.dense.vectors()
    expected = np.argsort(-(vectors @ q), kind="stable")[:5]
    got = [r for r, _ in retriever.index.dense.search(q, 5)]
    assert np.allclose(np.sort(vectors[got] @ q)[::-1], (vectors @ q)[expected])


def test_hybrid_is_rrf_of_the_two_lists(retriever):
    bm25 = [h.chunk.chunk_id for h in retriever.retrieve("apples prices", mode="bm25")]
    dense = [h.chunk.chunk_id for h in retriever.retrieve("apples prices", mode="dense")]
    hybrid = retriever.retrieve("apples prices", mode="hybrid")
    for h in hybrid:
        expected = sum(1 / (60 + lst.index(h.chunk.chunk_id) + 1) for lst in (bm25, dense) if h.chunk.chunk_id in lst)
        assert abs(h.score - expected) < 1e-12
    assert [h.score for h in hybrid] == sorted((h.score for h in hybrid), reverse=True)


def test_unknown_words_and_bad_mode(retriever):
    assert retriever.retrieve("qwertyuiop zxcvbnm", mode="bm25") == []
    with pytest.raises(ValueError, match="hybrid, bm25, dense"):
        retriever.retrieve("x", mode="fuzzy")


def test_query_embeddings_are_cached_and_bounded(retriever, fake_encoder):
    retriever.cache_size = 2
    fake_encoder.encoded.clear()
    for q in ["storm", "storm", "bridge", "storm", "apples", "bridge"]:
        retriever.retrieve(q, mode="dense")
    # storm, bridge, apples embedded once each; "bridge" again after it fell out of the 2-entry cache.
    assert fake_encoder.encoded == ["storm", "bridge", "apples", "bridge"]
