"""Index backends behind one contract (``base.py``): FAISS + bm25s in a folder (``faiss_store.py``, the
default) or Milvus, embedded (Milvus Lite) or a server (``milvus.py``). ``make_backend`` builds one
from the command-line options; each backend's module is imported only when it is used."""
from __future__ import annotations

from pathlib import Path

from .base import Backend, ChunkIndex, IndexLocationError, IndexProblem, UpdateReport

BACKENDS = ("faiss", "milvus")
MILVUS_LITE_FILE = "milvus.db"  # the default Milvus Lite location, inside --index-dir

__all__ = ["BACKENDS", "Backend", "ChunkIndex", "IndexLocationError", "IndexProblem", "UpdateReport",
           "default_milvus_uri", "make_backend"]


def default_milvus_uri(index_dir: str | Path) -> str:
    return str(Path(index_dir) / MILVUS_LITE_FILE)


def make_backend(name: str, index_dir: str | Path, milvus_uri: str | None = None,
                 milvus_collection: str | None = None) -> Backend:
    """``faiss``: the folder ``index_dir``; ``milvus``: ``milvus_uri`` (default: Milvus Lite in
    ``index_dir/milvus.db``), collections named from ``milvus_collection``."""
    if name == "faiss":
        from .faiss_store import FaissBackend

        return FaissBackend(index_dir)
    if name == "milvus":
        from .milvus import DEFAULT_COLLECTION, MilvusBackend

        return MilvusBackend(milvus_uri or default_milvus_uri(index_dir), milvus_collection or DEFAULT_COLLECTION)
    raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
