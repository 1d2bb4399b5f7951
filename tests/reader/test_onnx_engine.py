"""The ONNX Runtime engine: the graph is exported once per weights version into the cache folder
(atomically), an unwritable cache still works, and the shipped reader gives the torch logits."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from qa.reader import onnx_engine
from qa.reader.span import SpanReader
from qa.types import Passage


class TinySpanModel(torch.nn.Module):
    """SpanModel's signature with a few parameters: exports in a fraction of a second."""

    def __init__(self, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.emb = torch.nn.Embedding(30522, 8)
        self.head = torch.nn.Linear(8, 2)

    def forward(self, input_ids, attention_mask, token_type_ids):
        h = self.emb(input_ids) * attention_mask.unsqueeze(-1) + token_type_ids.unsqueeze(-1)
        logits = self.head(h)
        return logits[..., 0], logits[..., 1]


def _batch(n: int = 3, length: int = 7):
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1000, 2000, (n, length), generator=g)
    return ids, torch.ones_like(ids), torch.zeros_like(ids)


@pytest.fixture
def weights_file(tmp_path) -> Path:
    f = tmp_path / "w.bin"
    f.write_bytes(b"weights v1")
    return f


def test_export_is_cached_and_matches_torch(tmp_path, monkeypatch, weights_file):
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    model = TinySpanModel().eval()
    path = onnx_engine.graph_path(lambda: model, weights_file, quantize=False)
    assert path.parent == tmp_path / "cache" and path.is_file()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind
    mtime = path.stat().st_mtime_ns

    def must_not_load():
        raise AssertionError("a cached graph needs no torch model")

    assert onnx_engine.graph_path(must_not_load, weights_file, quantize=False) == path  # reused...
    assert path.stat().st_mtime_ns == mtime  # ...not re-exported
    ids, am, tt = _batch()
    with torch.inference_mode():
        want = [t.numpy() for t in model(ids, am, tt)]
    got = onnx_engine.OnnxSpanModel(path, threads=1)(ids.numpy(), am.numpy(), tt.numpy())
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, atol=1e-5)
    # the batch and length axes are dynamic
    ids, am, tt = _batch(n=1, length=12)
    assert onnx_engine.OnnxSpanModel(path, threads=1)(ids, am, tt)[0].shape == (1, 12)


def test_new_weights_or_quantisation_get_their_own_graph(tmp_path, monkeypatch, weights_file):
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    model = TinySpanModel().eval()
    first = onnx_engine.graph_path(lambda: model, weights_file, quantize=False)
    int8 = onnx_engine.graph_path(lambda: model, weights_file, quantize=True)
    weights_file.write_bytes(b"weights v2")
    second = onnx_engine.graph_path(lambda: model, weights_file, quantize=False)
    assert len({first, int8, second}) == 3 and all(p.is_file() for p in (first, int8, second))


def test_unwritable_cache_falls_back_to_a_private_folder(tmp_path, monkeypatch, weights_file):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("QA_CACHE_DIR", str(blocker / "cache"))
    path = onnx_engine.graph_path(lambda: TinySpanModel().eval(), weights_file, quantize=False)
    assert path.is_file() and blocker not in path.parents
    ids, am, tt = _batch()
    assert onnx_engine.OnnxSpanModel(path, threads=1)(ids, am, tt)[0].shape == (3, 7)


def test_damaged_cached_graph_is_exported_again(tmp_path, monkeypatch, weights_file):
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    model = TinySpanModel().eval()
    path = onnx_engine.graph_path(lambda: model, weights_file, quantize=False)
    path.write_bytes(path.read_bytes()[:100])  # truncated, as after a full disk
    session = onnx_engine.load_session(lambda: model, weights_file, quantize=False, threads=1)
    ids, am, tt = _batch()
    with torch.inference_mode():
        want = model(ids, am, tt)[0].numpy()
    np.testing.assert_allclose(session(ids, am, tt)[0], want, atol=1e-5)
    assert path.stat().st_size > 1000


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "a"))
    assert onnx_engine.cache_dir() == tmp_path / "a"
    monkeypatch.delenv("QA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert onnx_engine.cache_dir() == tmp_path / "xdg" / "qa-news"


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="engine"):
        SpanReader(weights_dir="/nonexistent", engine="tensorrt")


@pytest.mark.slow
def test_shipped_reader_same_answers_through_onnx_and_torch(monkeypatch):
    """The default engine is ONNX Runtime; it must read what torch reads (same weights, same spans)."""
    text = ("The Tay bridge was designed by Anna Kowalski and opened on March 3, 2021. It cost $40 million "
            "and carries 12,000 cars a day. The old bridge, built in 1887, was closed in 1990.")
    passages = [Passage("a", 0, text), Passage("b", 50, "Farmers in Nova Scotia picked 2.5 million bushels.")]
    questions = ["Who designed the bridge?", "How much did the bridge cost?", "When was the old bridge built?"]
    onnx = SpanReader().warm_up()
    torch_reader = SpanReader(engine="torch").warm_up()
    assert onnx.engine == "onnx" and torch_reader.engine == "torch"
    for q in questions:
        a, b = onnx.read(q, passages, top_k=3), torch_reader.read(q, passages, top_k=3)
        assert [(s.passage_index, s.start, s.end) for s in a.spans] == [(s.passage_index, s.start, s.end) for s in b.spans]
        np.testing.assert_allclose([s.score for s in a.spans], [s.score for s in b.spans], atol=1e-4)
    assert text[slice(*[(s.start, s.end) for s in onnx.read(questions[0], passages).spans][0])] == "Anna Kowalski"


@pytest.mark.slow
def test_onnx_missing_falls_back_to_torch(monkeypatch):
    monkeypatch.setattr(onnx_engine, "available", lambda: False)
    r = SpanReader().warm_up()
    assert r.engine == "torch"
    with pytest.raises(RuntimeError, match="onnxruntime"):
        SpanReader(engine="onnx").warm_up()


@pytest.mark.slow
def test_cached_graph_skips_building_the_torch_model(monkeypatch):
    import qa.reader.model as model_module

    SpanReader().warm_up()  # exports (or finds) the graph of the shipped weights

    def no_torch_model(*a, **k):
        raise AssertionError("the torch model was built although the ONNX graph is cached")

    monkeypatch.setattr(model_module, "load_shipped", no_torch_model)
    r = SpanReader().warm_up()
    assert r.engine == "onnx"
    text = "The Tay bridge was designed by Anna Kowalski."
    best = r.read("Who designed the bridge?", [Passage("a", 0, text)]).spans[0]
    assert text[best.start:best.end] == "Anna Kowalski"
    with pytest.raises(AssertionError, match="torch model was built"):
        SpanReader(engine="torch").warm_up()  # the torch engine still needs it
