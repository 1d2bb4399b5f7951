"""The sentence encoder (all-MiniLM-L6-v2) through ONNX Runtime: the same vectors as
sentence-transformers (checked to 1e-5 by tests/test_embed_onnx.py), several times faster for the
one short question embedded per ask, where torch's per-call overhead dominated (~13 ms).

Mirrors the package's three sentence-transformers modules: the BERT encoder (exported to ONNX at
first use and cached like the reader's graph, qa/reader/onnx_engine.py), mean pooling over the
attention mask, and L2 normalisation; texts are cut at the package's ``max_seq_length`` tokens.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def graph_file(model_dir: Path) -> Path:
    """Where the exported encoder graph is cached: named by the model's weights and the versions."""
    import onnxruntime
    import torch

    from .reader.onnx_engine import OPSET, cache_dir

    h = hashlib.sha256()
    with open(model_dir / "model.safetensors", "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    h.update(f"torch={torch.__version__} ort={onnxruntime.__version__} opset={OPSET}".encode())
    return cache_dir() / f"encoder-{h.hexdigest()[:20]}.onnx"


def _export(model_dir: Path, out: Path) -> None:
    import warnings

    import torch
    from transformers import BertModel

    from .reader.onnx_engine import OPSET

    model = BertModel.from_pretrained(str(model_dir), local_files_only=True).eval()

    class LastHidden(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    ids = torch.tensor([[101, 2054, 2003, 102]])
    dims = {n: {0: "batch", 1: "tokens"} for n in (*INPUTS, "hidden")}
    with warnings.catch_warnings(), torch.inference_mode(False):
        warnings.simplefilter("ignore")
        torch.onnx.export(LastHidden(model), (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(out),
                          input_names=list(INPUTS), output_names=["hidden"], dynamic_axes=dims,
                          opset_version=OPSET, dynamo=False)


def load_graph(model_dir: Path) -> Path:
    """The cached graph, exported first if needed (qa/reader/onnx_engine.py: ``cached_file``)."""
    from .reader.onnx_engine import cached_file

    return cached_file(graph_file(model_dir), lambda out: _export(model_dir, out), "the sentence encoder")


class OnnxSentenceEncoder:
    """``encode(texts) -> float32 (n, 384)``, L2-normalised mean-pooled vectors, as the package's
    SentenceTransformer computes them."""

    def __init__(self, model_dir: str | Path, threads: int | None = None, batch_size: int = 32):
        import onnxruntime as ort
        from transformers import AutoTokenizer

        self.model_dir = Path(model_dir)
        config = json.loads((self.model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.max_seq_length = int(config.get("max_seq_length", 256))
        self.batch_size = int(batch_size)
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True, use_fast=True)
        so = ort.SessionOptions()
        so.intra_op_num_threads = int(threads or os.cpu_count() or 1)
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")  # see qa/reader/onnx_engine.py
        path = load_graph(self.model_dir)
        try:
            self.session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - a damaged cached graph: export again, once
            log.warning("the cached encoder graph %s does not load (%s); exporting it again", path, e)
            path.unlink(missing_ok=True)
            self.session = ort.InferenceSession(str(load_graph(self.model_dir)), so, providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        from tqdm import tqdm

        out: np.ndarray | None = None
        # Longest first, like sentence-transformers: batches of similar length pad little.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        starts = range(0, len(order), self.batch_size)
        for b in tqdm(starts, desc="embed", unit="batch", disable=not progress or len(starts) < 2):
            rows = order[b: b + self.batch_size]
            enc = self.tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                 max_length=self.max_seq_length, return_tensors="np")
            feed = {n: enc[n].astype(np.int64) for n in INPUTS}
            hidden = self.session.run(["hidden"], feed)[0]
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            if out is None:
                out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
            out[rows] = pooled / np.clip(norms, 1e-12, None)
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)
