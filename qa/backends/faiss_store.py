"""The FAISS + bm25s backend: an index folder of complete versions (the store in qa/store.py)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..config import QAConfig
from ..embed import Encoder
from ..store import CorpusIndex, load_index, update_index
from ..types import Document
from .base import UpdateReport


class FaissBackend:
    """An index in the folder ``index_dir``: one process at a time writes it (file lock), any
    number read it; each update is a new version switched in atomically."""

    name = "faiss"

    def __init__(self, index_dir: str | Path) -> None:
        self.index_dir = Path(index_dir)

    def describe(self) -> str:
        return f"index folder {self.index_dir}"

    def load(self, encoder: Encoder, config: QAConfig) -> CorpusIndex:
        return load_index(self.index_dir, encoder, config)

    def update(self, documents: Sequence[Document], encoder: Encoder, config: QAConfig,
               progress: bool = False) -> tuple[CorpusIndex, UpdateReport]:
        return update_index(self.index_dir, documents, encoder, config, progress=progress)
