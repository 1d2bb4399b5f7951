from dataclasses import replace

import numpy as np
import pytest

from qa.config import QAConfig
from qa.load import load_corpus
from qa.retrieve import HybridRetriever
from qa.store import update_index

METADATA = {"bridge": {"published": "2021-03-03", "source": "Tay Times"},
            "storm": {"published": "2022-09-24", "source": "Halifax Herald"},
            "harvest": {"published": "2022-10-01", "source": "Tay Times"}}


@pytest.fixture
def retriever(small_corpus, fake_encoder, backend_name, make_backend):
    """The same retriever over each backend's index (FAISS + bm25s, Milvus Lite, ...)."""
    docs, _ = load_corpus(small_corpus)
    docs = [replace(d, **METADATA.get(d.doc_id, {})) for d in docs]
    index, _ = make_backend(backend_name).update(docs, fake_encoder, QAConfig())
    return HybridRetriever(index, fake_encoder, depth=10)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_each_mode_finds_the_right_article(retriever, mode):
    hits = retriever.retrieve("Who designed the Tay bridge?", mode=mode)
    assert hits[0].chunk.doc_id == "bridge"
    assert list(hits[0].ranks) == ([mode] if mode != "hybrid" else ["dense", "bm25"])


def test_dense_matches_numpy_brute_force(retriever, fake_encoder):
    q = fake_encoder.encode(["storm winds Halifax"])[0]
    chunks = retriever.index.all_chunks()
    vectors = fake_encoder.encode([c.text for c in chunks])
    got = retriever.index.search_dense(q, 5)
    assert np.allclose([s for _, s in got], np.sort(vectors @ q)[::-1][:5], atol=1e-5)
    by_id = {c.chunk_id: v for c, v in zip(chunks, vectors)}
    assert np.allclose([by_id[c.chunk_id] @ q for c, _ in got], [s for _, s in got], atol=1e-5)


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


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_a_filter_restricts_each_list_before_ranking(retriever, mode):
    from qa.filters import Filter

    question = "Who designed the Tay bridge, far from Nova Scotia?"
    assert retriever.retrieve(question, mode=mode)[0].chunk.doc_id == "bridge"
    hits = retriever.retrieve(question, mode=mode, filter=Filter(since="2022"))
    assert hits and {h.chunk.doc_id for h in hits} <= {"storm", "harvest"}
    # the filtered list is what ranking the admitted chunks alone gives, in full depth, not a cut of
    # the unfiltered list
    admitted = [h for h in retriever.retrieve(question, mode=mode, depth=100) if h.chunk.doc_id != "bridge"]
    if mode != "hybrid":
        assert [h.chunk.chunk_id for h in hits] == [h.chunk.chunk_id for h in admitted][: len(hits)]
    by_source = retriever.retrieve("apples", mode=mode, filter=Filter(sources=frozenset({"tay times"})))
    assert {h.chunk.doc_id for h in by_source} <= {"bridge", "harvest"}
    assert retriever.retrieve(question, mode=mode, filter=Filter(until="1999")) == []


def test_allowed_rows_in_faiss_match_brute_force_over_those_rows(small_corpus, tmp_path, fake_encoder):
    docs, _ = load_corpus(small_corpus)
    index, _ = update_index(tmp_path / "idx", docs, fake_encoder, QAConfig())
    q = fake_encoder.encode(["storm winds Halifax"])[0]
    vectors = index.dense.vectors()
    allowed = np.array([0, 2], dtype=np.int64)
    got = index.dense.search(q, 5, allowed)
    want = sorted(((int(r), float(vectors[r] @ q)) for r in allowed), key=lambda p: -p[1])
    assert [r for r, _ in got] == [r for r, _ in want]
    assert index.dense.search(q, 5, np.array([], dtype=np.int64)) == []
