"""The FAISS + bm25s store's own files: versions, checksums, rows. What every backend must do (reload,
unchanged articles not re-embedded, changed ones replaced, chunking stale) is in tests/test_backends.py."""
import json

import numpy as np
import pytest

from qa.config import QAConfig
from qa.load import load_corpus
from qa.store import POINTER, IndexProblem, load_index, update_index

from .conftest import ARTICLES, FakeEncoder

CONFIG = QAConfig()


def _update(corpus, index_dir, encoder):
    docs, _ = load_corpus(corpus)
    return update_index(index_dir, docs, encoder, CONFIG)


def _row_for_own_vector(index, row):
    """Searching a chunk's own vector must give back that chunk's row (ids aligned)."""
    vec = index.dense.vectors()[row]
    return index.dense.search(vec, 1)[0][0]


def test_build_then_reload_is_identical(small_corpus, tmp_path, fake_encoder):
    built, report = _update(small_corpus, tmp_path / "idx", fake_encoder)
    assert sorted(report.added) == ["bridge", "harvest", "storm"] and report.chunks_total == len(built.chunks)
    loaded = load_index(tmp_path / "idx", fake_encoder, CONFIG)
    assert [c.chunk_id for c in loaded.chunks] == [c.chunk_id for c in built.chunks]
    assert np.allclose(loaded.dense.vectors(), built.dense.vectors())
    for c in loaded.chunks:
        assert loaded.documents[c.doc_id].text[c.doc_start:c.doc_end] == c.text


def test_add_delete_add_keeps_rows_aligned(small_corpus, tmp_path, fake_encoder):
    idx = tmp_path / "idx"
    _update(small_corpus, idx, fake_encoder)
    (small_corpus / "harvest.txt").unlink()
    index, report = _update(small_corpus, idx, fake_encoder)
    assert report.removed == ["harvest"] and "harvest" not in index.documents
    assert all(c.doc_id != "harvest" for c in index.chunks)
    (small_corpus / "zebra.txt").write_text("Zebras at the zoo\n\nThe zoo bought two zebras named Zig and Zag.",
                                            encoding="utf-8")
    fake_encoder.encoded.clear()
    index, report = _update(small_corpus, idx, fake_encoder)
    assert report.added == ["zebra"] and all("Zebra" in t or "zebra" in t for t in fake_encoder.encoded)
    for row in range(len(index.chunks)):
        assert _row_for_own_vector(index, row) == row or np.allclose(
            index.dense.vectors()[row], index.dense.vectors()[_row_for_own_vector(index, row)])
    hits = index.lexical.search("zebras named Zig", 3)
    assert index.chunks[hits[0][0]].doc_id == "zebra"
    reloaded = load_index(idx, fake_encoder, CONFIG)
    assert [c.chunk_id for c in reloaded.chunks] == [c.chunk_id for c in index.chunks]


def test_crash_while_writing_leaves_previous_index_live(small_corpus, tmp_path, fake_encoder, monkeypatch):
    idx = tmp_path / "idx"
    before, _ = _update(small_corpus, idx, fake_encoder)
    (small_corpus / "new.txt").write_text("A new article about canoes.", encoding="utf-8")

    def explode(self, path):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr("qa.index_dense.DenseIndex.save", explode)
    with pytest.raises(OSError, match="simulated"):
        _update(small_corpus, idx, fake_encoder)
    monkeypatch.undo()
    after = load_index(idx, fake_encoder, CONFIG)
    assert sorted(after.documents) == sorted(before.documents)
    assert not [p for p in idx.iterdir() if p.name.startswith(".tmp-")]  # no half-written folder left


def test_other_encoder_is_a_mismatch_and_rebuilds(small_corpus, tmp_path, fake_encoder):
    idx = tmp_path / "idx"
    _update(small_corpus, idx, fake_encoder)
    other = FakeEncoder(dimension=32, name="other")
    with pytest.raises(IndexProblem) as info:
        load_index(idx, other, CONFIG)
    assert info.value.kind == "mismatch"
    index, report = _update(small_corpus, idx, other)
    assert "encoder" in report.rebuilt_because and index.dense.dimension == 32
    assert len(other.encoded) == len(index.chunks)


@pytest.mark.parametrize("damage", ["truncate_faiss", "garbage_chunks", "drop_manifest", "bad_pointer"])
def test_damaged_index_is_detected_then_rebuilt(small_corpus, tmp_path, fake_encoder, damage):
    idx = tmp_path / "idx"
    index, _ = _update(small_corpus, idx, fake_encoder)
    version = index.path
    if damage == "truncate_faiss":
        data = (version / "dense.faiss").read_bytes()
        (version / "dense.faiss").write_bytes(data[: len(data) // 2])
    elif damage == "garbage_chunks":
        (version / "chunks.jsonl").write_text("{not json\n", encoding="utf-8")
    elif damage == "drop_manifest":
        (version / "manifest.json").unlink()
    else:
        (idx / POINTER).write_text("../../etc", encoding="utf-8")
    with pytest.raises(IndexProblem) as info:
        load_index(idx, fake_encoder, CONFIG)
    assert info.value.kind == "damaged"
    rebuilt, report = _update(small_corpus, idx, fake_encoder)
    assert report.rebuilt_because and len(rebuilt.chunks) == len(index.chunks)
    load_index(idx, fake_encoder, CONFIG)  # healthy again


def test_manifest_records_what_was_indexed(small_corpus, tmp_path, fake_encoder):
    index, _ = _update(small_corpus, tmp_path / "idx", fake_encoder)
    manifest = json.loads((index.path / "manifest.json").read_text())
    assert manifest["encoder"] == {"name": fake_encoder.name, "dimension": 64}
    assert manifest["chunking"]["chunk_sentences"] == CONFIG.chunk_sentences
    assert set(manifest["files"]) == set(ARTICLES)
    assert manifest["counts"]["chunks"] == len(index.chunks)
    assert all(len(v["sha256"]) == 64 for v in manifest["files"].values())


def test_indexed_time_is_kept_for_unchanged_articles(small_corpus, tmp_path, fake_encoder, monkeypatch):
    idx = tmp_path / "idx"
    monkeypatch.setattr("qa.store.time.strftime", lambda fmt, t=None: "2026-01-01T00:00:00Z")
    _update(small_corpus, idx, fake_encoder)
    (small_corpus / "storm.txt").write_text("Storm update\n\nNew text.", encoding="utf-8")
    monkeypatch.setattr("qa.store.time.strftime", lambda fmt, t=None: "2026-02-02T00:00:00Z")
    index, _ = _update(small_corpus, idx, fake_encoder)
    files = index.manifest["files"]
    assert files["bridge"]["indexed"] == "2026-01-01T00:00:00Z"
    assert files["storm"]["indexed"] == "2026-02-02T00:00:00Z"
