"""qa/embed_cache.py: vectors cached by a hash of the exact text, persisted in atomic shards."""
from __future__ import annotations

import numpy as np
import pytest

from qa.embed_cache import CachedEncoder

from .conftest import FakeEncoder


def test_only_unseen_texts_are_embedded_and_vectors_match(tmp_path):
    inner = FakeEncoder()
    cached = CachedEncoder(inner, tmp_path / "cache", shard_size=2)
    first = cached.encode(["a b", "c d", "e f"])
    assert inner.encoded == ["a b", "c d", "e f"] and cached.misses == 3
    again = cached.encode(["c d", "a b", "new text", "a b"])
    assert inner.encoded[3:] == ["new text"] and cached.hits == 3  # "a b" twice: embedded once
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[1], first[0])
    assert np.allclose(again[2], FakeEncoder().encode(["new text"])[0])
    assert cached.name == inner.name and cached.dimension == inner.dimension


def test_a_new_process_reads_the_shards_back(tmp_path):
    first = CachedEncoder(FakeEncoder(), tmp_path / "cache", shard_size=2)
    first.encode(["one", "two", "three"])
    assert len(list((tmp_path / "cache").glob("shard-*.npz"))) == 1  # a full shard; "three" waits
    first.flush()
    assert len(list((tmp_path / "cache").glob("shard-*.npz"))) == 2
    inner = FakeEncoder()
    fresh = CachedEncoder(inner, tmp_path / "cache")
    assert len(fresh) == 3
    assert np.allclose(fresh.encode(["three", "one"]), FakeEncoder().encode(["three", "one"]))
    assert inner.encoded == []
    assert not list((tmp_path / "cache").glob(".*"))  # no temp files left


def test_vectors_of_another_encoder_are_never_served(tmp_path):
    CachedEncoder(FakeEncoder(), tmp_path / "cache").encode(["text"])
    with pytest.raises(ValueError, match="another cache folder"):
        CachedEncoder(FakeEncoder(dimension=32), tmp_path / "cache").encode(["text"])


def test_empty_input(tmp_path):
    assert CachedEncoder(FakeEncoder(), tmp_path / "c").encode([]).shape == (0, 64)


def test_one_text_at_a_time_is_written_in_full_shards(tmp_path):
    cached = CachedEncoder(FakeEncoder(), tmp_path / "cache", shard_size=4)
    for i in range(9):
        cached.encode([f"question {i}?"])
    assert len(list((tmp_path / "cache").glob("shard-*.npz"))) == 2  # 4 + 4, one pending
    cached.flush()
    assert len(CachedEncoder(FakeEncoder(), tmp_path / "cache")) == 9


def test_vectors_embedded_elsewhere_are_added_and_read_back(tmp_path):
    """What a bulk job's driver does with its workers' vectors (qa/bulk/ray_index.py)."""
    cached = CachedEncoder(FakeEncoder(), tmp_path / "cache", shard_size=2)
    assert cached.missing(["a", "b", "a", "c"]) == ["a", "b", "c"]
    vectors = FakeEncoder().encode(["a", "b", "c"])
    cached.add(["a", "b", "c"], vectors)  # two make a shard on disk; "c" waits for flush()
    assert len(list((tmp_path / "cache").glob("shard-*.npz"))) == 1 and cached.missing(["a", "c", "d"]) == ["d"]
    with pytest.raises(ValueError, match="expected"):
        cached.add(["x"], vectors)
    cached.flush()
    inner = FakeEncoder()
    again = CachedEncoder(inner, tmp_path / "cache")
    assert np.array_equal(again.encode(["c", "a"]), vectors[[2, 0]]) and inner.encoded == []
