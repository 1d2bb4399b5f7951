"""IVF-SQ8 candidates re-scored exactly (``DenseSpec.rescore``): the float vectors are kept by FAISS id,
survive updates in place and reloads, are hard-linked between versions, and the spec is in the manifest."""
from __future__ import annotations

import os

import numpy as np
import pytest

from qa.config import QAConfig
from qa.index_dense import DenseIndex, DenseSpec
from qa.load import load_corpus
from qa.store import load_index, update_index


def _unit(n, dim=32, seed=0):
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _exact_top(vectors, query, k):
    scores = vectors @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return order.tolist(), scores[order]


def test_rescored_search_returns_exact_scores_and_sq8_alone_does_not():
    vectors, query = _unit(2000), _unit(1, seed=1)[0]
    rows, scores = _exact_top(vectors, query, 10)
    rescored = DenseIndex.from_vectors(vectors, 32, DenseSpec("ivf_sq8", 16, 16, rescore=4))
    found = rescored.search(query, 10)
    assert [r for r, _ in found] == rows
    assert np.allclose([s for _, s in found], scores, atol=1e-6)
    plain = DenseIndex.from_vectors(vectors, 32, DenseSpec("ivf_sq8", 16, 16))
    assert not np.allclose([s for _, s in plain.search(query, 10)], scores, atol=1e-6)  # 8-bit scores


def test_updates_in_place_keep_rows_and_vectors_aligned(tmp_path):
    vectors = _unit(1000)
    index = DenseIndex.from_vectors(vectors, 32, DenseSpec("ivf_sq8", 8, 8, rescore=3))
    index.remove_rows(np.arange(990, 1000))  # the last rows: new ids must not reuse theirs
    extra = _unit(20, seed=2)
    index.add(extra)
    live = np.concatenate([vectors[:990], extra])
    assert np.array_equal(index.vectors(), live)  # exact, not 8-bit decoded
    for row in (0, 500, 989, 990, 1009):
        assert index.search(live[row], 1)[0][0] == row
    (tmp_path / "v1").mkdir()
    index.save(tmp_path / "v1" / "dense.faiss")
    index.save_vectors(tmp_path / "v1" / "dense.faiss")
    (tmp_path / "v2").mkdir()
    copy = index.copy()
    copy.add(_unit(5, seed=3))
    copy.save(tmp_path / "v2" / "dense.faiss")
    copy.save_vectors(tmp_path / "v2" / "dense.faiss", previous=tmp_path / "v1" / "dense.faiss")
    first = sorted((tmp_path / "v1" / "dense_vectors").iterdir())[0].name
    assert os.path.samefile(tmp_path / "v1" / "dense_vectors" / first, tmp_path / "v2" / "dense_vectors" / first)
    loaded = DenseIndex.load(tmp_path / "v2" / "dense.faiss", 32, copy.spec)
    assert np.array_equal(loaded.vectors(), copy.vectors()) and len(loaded) == 1015
    assert loaded.search(live[3], 1)[0][0] == 3
    (tmp_path / "v2" / "dense_vectors" / first).unlink()
    with pytest.raises(ValueError, match="does not hold every vector"):
        DenseIndex.load(tmp_path / "v2" / "dense.faiss", 32, copy.spec)


def test_turning_rescoring_on_needs_a_rebuild():
    index = DenseIndex.from_vectors(_unit(500), 32, DenseSpec("ivf_sq8", 8, 8))
    assert not DenseSpec("ivf_sq8", 8, 8, 4).same_structure(index.spec)  # the store rebuilds instead
    with pytest.raises(ValueError, match="float vectors"):
        index.tune(DenseSpec("ivf_sq8", 8, 8, 4))
    index.tune(DenseSpec("ivf_sq8", 8, 4))  # nprobe alone is a search setting


def test_store_records_rescore_and_links_vectors_between_versions(small_corpus, tmp_path, fake_encoder):
    config, idx = QAConfig(dense_flat_max=2, dense_nprobe=1024, dense_rescore=5), tmp_path / "idx"
    first, _ = update_index(idx, load_corpus(small_corpus)[0], fake_encoder, config)
    assert first.manifest["dense"]["kind"] == "ivf_sq8" and first.manifest["dense"]["rescore"] == 5
    (small_corpus / "zebra.txt").write_text("Zebras\n\nThe zoo bought two zebras named Zig and Zag.", encoding="utf-8")
    second, report = update_index(idx, load_corpus(small_corpus)[0], fake_encoder, config)
    assert report.added == ["zebra"] and not report.rebuilt_because
    parts = sorted(p.name for p in (second.path / "dense_vectors").iterdir())
    assert len(parts) == 2 and second.manifest["checksums"][f"dense_vectors/{parts[0]}"] == \
        first.manifest["checksums"][f"dense_vectors/{parts[0]}"]
    loaded = load_index(idx, fake_encoder, config)
    for row, chunk in enumerate(loaded.chunks):
        vector = fake_encoder.encode([chunk.text])[0]
        found = loaded.search_dense(vector, 1)[0]
        assert found[0].chunk_id == chunk.chunk_id or found[1] == pytest.approx(1.0, abs=1e-5)
        assert found[1] == pytest.approx(float(vector @ loaded.dense.vectors([row])[0]), abs=1e-5)
