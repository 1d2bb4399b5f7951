"""Dense index: inner-product search in FAISS over normalised vectors, flat or approximate by size.

Row i of the dense index is chunk i of ``chunks.jsonl``. Small indexes are exact (``IndexFlatIP``);
past ``flat_max`` chunks the index is an inverted file over scalar-quantised (8-bit) vectors,
``IVF{nlist},SQ8`` (one range for all dimensions), searched in ``nprobe`` lists: a quarter of flat's memory and a fraction of its
work (reports/scale.md measures both). Either kind is updated in place: ``remove_rows`` and ``add``
keep row i = chunk i, so an update need not rebuild what it did not change.

Re-scoring (``DenseSpec.rescore`` > 0, IVF only): the IVF-SQ8 search returns ``depth x rescore``
candidates, which are re-scored exactly against the float vectors and the best ``depth`` kept. The
8-bit codes then only have to put the true neighbours among the candidates, not in the right
order (reports/scale_lexical.md measures what it buys). The float vectors are kept by FAISS id in
append-only files (``dense_vectors/``), memory-mapped, and a new version hard-links the files of
the previous one: an update writes only its own vectors.

Rows vs FAISS ids: a flat index renumbers itself on removal, exactly as a list does. An IVF
index keeps the id each vector was added with, so ``_ids`` holds the FAISS id of every row; rows
are only ever removed or appended (with ids above all others), so ``_ids`` stays sorted and a
FAISS id maps back to its row by binary search.
"""
from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

# Flat search at 200k x 384 dims took p95 ~15 ms on this machine's 2 cores, at 1M ~70 ms
# (reports/scale.md): past this size the approximate index is chosen.
FLAT_MAX = 200_000
# Lists searched, and candidates re-scored exactly per result (depth x RESCORE): at 1M passages
# nprobe 256 finds 98.4% of the exact top 20 and the 8-bit codes cost the rest (re-scored: 97.7% at
# nprobe 128 where it was 96.6%), one thread's CPU p95 ~7 ms (reports/scale_lexical.md, synthetic
# vectors calibrated to the real ones; on the real vectors nprobe 32 found 84.1%, reports/scale.md).
NPROBE = 256
RESCORE = 4
_EXACT_ALLOWED_SHARE = 0.05  # a filter admitting fewer rows than this share is searched exactly


@dataclass(frozen=True)
class DenseSpec:
    """Which FAISS index and its parameters; recorded in the manifest (``dense``)."""

    kind: str = "flat"  # "flat" | "ivf_sq8"
    nlist: int = 0  # inverted lists (ivf only)
    nprobe: int = 0  # lists searched per query (ivf only)
    rescore: int = 0  # ivf only: depth x rescore candidates re-scored exactly (0: SQ8 scores as they are)

    def to_dict(self) -> dict:
        return {**asdict(self), "faiss": faiss.__version__}

    @classmethod
    def from_dict(cls, d: dict) -> "DenseSpec":
        return cls(str(d.get("kind", "flat")), int(d.get("nlist", 0)), int(d.get("nprobe", 0)),
                   int(d.get("rescore", 0)))

    @classmethod
    def for_size(cls, n: int, flat_max: int = FLAT_MAX, nprobe: int = NPROBE, rescore: int = 0) -> "DenseSpec":
        """Flat while it is fast enough; beyond, IVF-SQ8 with ~4 sqrt(n) lists (a power of two,
        the FAISS guidelines' 4-16 sqrt(n)) and ``nprobe`` of them searched.

        >>> DenseSpec.for_size(1_000_000, rescore=RESCORE)
        DenseSpec(kind='ivf_sq8', nlist=4096, nprobe=256, rescore=4)
        """
        if n <= flat_max:
            return cls()
        nlist = 2 ** max(1, round(math.log2(4 * math.sqrt(n))))
        nlist = max(1, min(nlist, n // 39))  # k-means wants >= 39 training points per list
        return cls("ivf_sq8", nlist, min(nprobe, nlist), max(0, rescore))

    def same_structure(self, other: "DenseSpec") -> bool:
        """Whether an index of ``other`` can be updated in place into one of this spec (nprobe and
        the re-scoring depth are search settings; whether the float vectors are kept is not)."""
        return (self.kind, self.nlist, self.rescore > 0) == (other.kind, other.nlist, other.rescore > 0)


class DenseIndex:
    def __init__(self, dimension: int, spec: DenseSpec | None = None) -> None:
        self.dimension = dimension
        self.spec = spec or DenseSpec()
        self.index = faiss.IndexFlatIP(dimension) if self.spec.kind == "flat" else None
        self._ids = np.zeros(0, dtype=np.int64)  # FAISS id of each row (ivf only)
        self._exact: ExactVectors | None = None  # float vectors by FAISS id (ivf with rescore only)

    @classmethod
    def from_vectors(cls, vectors: np.ndarray, dimension: int, spec: DenseSpec | None = None) -> "DenseIndex":
        """Build from scratch (an IVF index is trained on these vectors: a sample of at most 64 per list)."""
        out = cls(dimension, spec)
        if vectors.ndim != 2 or (len(vectors) and vectors.shape[1] != dimension):
            raise ValueError(f"vectors have shape {vectors.shape}, expected (n, {dimension})")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if out.spec.kind == "ivf_sq8":
            if len(vectors) < out.spec.nlist:
                raise ValueError(f"an IVF index of {out.spec.nlist} lists needs at least that many vectors, "
                                 f"got {len(vectors)}")
            quantizer = faiss.IndexFlatIP(dimension)
            # One 8-bit range for all dimensions, not one per dimension: vectors added later may use
            # dimensions the training sample barely did, and a per-dimension range would clip them.
            index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, out.spec.nlist,
                                                  faiss.ScalarQuantizer.QT_8bit_uniform, faiss.METRIC_INNER_PRODUCT)
            sample = vectors
            if len(vectors) > 64 * out.spec.nlist:
                pick = np.random.default_rng(0).choice(len(vectors), 64 * out.spec.nlist, replace=False)
                sample = vectors[np.sort(pick)]
            index.train(sample)
            index.nprobe = out.spec.nprobe
            index.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct by id, survives removals
            out.index = index
            if out.spec.rescore > 0:
                out._exact = ExactVectors()
        out.add(vectors)
        return out

    def __len__(self) -> int:
        return self.index.ntotal

    # ------------------------------------------------------------ updates (row i stays chunk i)

    def add(self, vectors: np.ndarray) -> None:
        """Append rows ``len(self) ..`` for ``vectors``."""
        if not len(vectors):
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(f"vectors have shape {vectors.shape}, expected (n, {self.dimension})")
        if self.spec.kind == "flat":
            self.index.add(vectors)
            return
        first = max(int(self._ids[-1]) + 1 if len(self._ids) else 0, self._exact.next_id if self._exact else 0)
        ids = np.arange(first, first + len(vectors), dtype=np.int64)
        self.index.add_with_ids(vectors, ids)
        self._ids = np.concatenate([self._ids, ids])
        if self._exact is not None:
            self._exact.append(first, vectors)

    def remove_rows(self, rows) -> None:
        """Delete ``rows``; later rows move up, as in a list."""
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        if not len(rows):
            return
        if rows[0] < 0 or rows[-1] >= len(self):
            raise IndexError(f"rows {rows[0]}..{rows[-1]} outside 0..{len(self) - 1}")
        # An IVF direct map (hashtable) removes only through an IDSelectorArray.
        ids = rows if self.spec.kind == "flat" else np.ascontiguousarray(self._ids[rows])
        removed = self.index.remove_ids(faiss.IDSelectorArray(ids))
        if removed != len(rows):
            raise RuntimeError(f"FAISS removed {removed} vectors, {len(rows)} were asked for")
        if self.spec.kind != "flat":
            self._ids = np.delete(self._ids, rows)

    def tune(self, spec: DenseSpec) -> None:
        """Take ``spec``'s search settings (same kind and lists); re-scoring only where the float
        vectors are at hand."""
        if (self.spec.kind, self.spec.nlist) != (spec.kind, spec.nlist):
            raise ValueError(f"cannot turn a {self.spec} index into {spec} in place")
        if spec.rescore > 0 and spec.kind != "flat" and self._exact is None:
            raise ValueError("re-scoring needs the float vectors, which this index did not keep: rebuild it")
        self.spec = spec
        if spec.kind != "flat":
            self.index.nprobe = spec.nprobe

    def copy(self) -> "DenseIndex":
        """An independent copy (the live index keeps serving while its copy is updated)."""
        out = DenseIndex(self.dimension, self.spec)
        out.index = faiss.clone_index(self.index)
        if self.spec.kind != "flat":
            out.index.nprobe = self.spec.nprobe
            out.index.set_direct_map_type(faiss.DirectMap.Hashtable)
        out._ids = self._ids.copy()
        out._exact = self._exact.copy() if self._exact is not None else None
        return out

    def vectors(self, rows=None) -> np.ndarray:
        """The stored vectors of ``rows`` (all by default); exact for flat and for IVF with the float
        vectors kept (re-scoring), 8-bit-decoded for IVF otherwise."""
        if rows is None:
            rows = np.arange(len(self), dtype=np.int64)
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.spec.kind == "flat":
            if len(rows) == len(self) and (rows == np.arange(len(self))).all():
                return self.index.reconstruct_n(0, len(self))
            return self.index.reconstruct_batch(rows)
        if self._exact is not None:
            return self._exact.get(self._ids[rows])
        return self.index.reconstruct_batch(self._ids[rows])

    def attach_vectors(self, vectors: np.ndarray) -> None:
        """Use ``vectors`` (row i = FAISS id i: an index built by ``from_vectors`` and not updated
        since; e.g. memory-mapped) as the float vectors re-scoring reads (benchmarks)."""
        if len(vectors) != len(self) or (len(self._ids) and int(self._ids[-1]) != len(self) - 1):
            raise ValueError("attach_vectors needs the vectors of an index not updated since it was built")
        self._exact = ExactVectors()
        self._exact.parts.append((0, vectors, ""))

    # ------------------------------------------------------------ search

    def search(self, query: np.ndarray, depth: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, cosine) pairs, best first; FAISS's -1 padding is dropped. ``allowed`` (row numbers)
        restricts the search to those rows inside FAISS (a pre-filter: the best ``depth`` of them;
        on an IVF index a narrow filter is searched exactly over its rows)."""
        if len(self) == 0 or depth <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if self.spec.kind == "flat":
            params = None
            if allowed is not None:
                params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64)))
                depth = min(depth, len(allowed))
            scores, rows = self.index.search(query, min(depth, len(self)), params=params)
            return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=np.int64)
            if len(allowed) <= _EXACT_ALLOWED_SHARE * len(self):
                # Few admitted rows: the probed lists may hold none of them; score them all instead.
                scores = self.vectors(allowed) @ query[0]
                order = np.argsort(-scores, kind="stable")[:depth]
                return [(int(allowed[i]), float(scores[i])) for i in order]
        params = faiss.SearchParametersIVF(nprobe=self.spec.nprobe)
        if allowed is not None:
            params.sel = faiss.IDSelectorBatch(np.ascontiguousarray(self._ids[allowed]))
            depth = min(depth, len(allowed))
        rescore = self.spec.rescore > 0 and self._exact is not None
        want = min(depth * (self.spec.rescore if rescore else 1), len(self))
        scores, ids = self.index.search(query, want, params=params)
        keep = ids[0] >= 0
        ids, scores = ids[0][keep], scores[0][keep]
        if rescore and len(ids):
            scores = self._exact.get(ids) @ query[0]
            order = np.argsort(-scores, kind="stable")[:depth]
            ids, scores = ids[order], scores[order]
        rows = np.searchsorted(self._ids, ids)
        return [(int(r), float(s)) for r, s in zip(rows, scores)]

    # ------------------------------------------------------------ persistence

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))
        if self.spec.kind != "flat":
            with open(_ids_path(path), "wb") as fh:
                np.save(fh, self._ids, allow_pickle=False)

    def save_vectors(self, path: Path, previous: Path | None = None) -> None:
        """The float vectors re-scoring reads, beside ``path`` (the index file) in ``dense_vectors/``;
        files already saved beside ``previous`` (the last version's index file) are hard-linked."""
        if self._exact is not None:
            self._exact.save(_vectors_path(path), _vectors_path(previous) if previous is not None else None)

    @classmethod
    def load(cls, path: Path, dimension: int, spec: DenseSpec | None = None) -> "DenseIndex":
        spec = spec or DenseSpec()
        index = faiss.read_index(str(path))
        if index.d != dimension:
            raise ValueError(f"dense index has dimension {index.d}, the encoder has {dimension}")
        out = cls(dimension, spec)
        if spec.kind == "flat":
            if not isinstance(index, faiss.IndexFlat):
                raise ValueError(f"dense.faiss is a {type(index).__name__}, the manifest says flat")
        else:
            if not isinstance(index, faiss.IndexIVFScalarQuantizer):
                raise ValueError(f"dense.faiss is a {type(index).__name__}, the manifest says {spec.kind}")
            if index.nlist != spec.nlist:
                raise ValueError(f"dense.faiss has {index.nlist} lists, the manifest says {spec.nlist}")
            index.nprobe = spec.nprobe
            index.set_direct_map_type(faiss.DirectMap.Hashtable)
            out._ids = np.load(_ids_path(path), allow_pickle=False).astype(np.int64)
            if len(out._ids) != index.ntotal or (len(out._ids) > 1 and not (np.diff(out._ids) > 0).all()):
                raise ValueError("dense_ids.npy does not match dense.faiss")
            if spec.rescore > 0:
                out._exact = ExactVectors.load(_vectors_path(path), dimension)
                if not out._exact.covers(out._ids):
                    raise ValueError("dense_vectors/ does not hold every vector of dense.faiss")
        out.index = index
        return out


def _ids_path(path: Path) -> Path:
    return Path(path).with_name("dense_ids.npy")


def _vectors_path(path: Path) -> Path:
    return Path(path).with_name("dense_vectors")


class ExactVectors:
    """Float vectors by FAISS id, in append-only parts ``(first_id, array, file name)``: ids are never
    reused, so a part never changes once written; removed rows' vectors stay until a rebuild."""

    def __init__(self) -> None:
        self.parts: list[tuple[int, np.ndarray, str]] = []

    @property
    def next_id(self) -> int:
        return self.parts[-1][0] + len(self.parts[-1][1]) if self.parts else 0

    def append(self, first_id: int, vectors: np.ndarray) -> None:
        if first_id < self.next_id:
            raise ValueError(f"vector ids must grow: {first_id} after {self.next_id}")
        self.parts.append((int(first_id), np.ascontiguousarray(vectors, dtype=np.float32), ""))

    def copy(self) -> "ExactVectors":
        out = ExactVectors()
        out.parts = list(self.parts)  # the arrays are never written to: shared
        return out

    def get(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        starts = np.array([p[0] for p in self.parts], dtype=np.int64)
        which = np.searchsorted(starts, ids, side="right") - 1
        out = np.empty((len(ids), self.parts[0][1].shape[1] if self.parts else 0), dtype=np.float32)
        for k in np.unique(which):
            at = which == k
            first, array, _ = self.parts[k]
            out[at] = array[ids[at] - first]
        return out

    def covers(self, ids: np.ndarray) -> bool:
        if not len(ids):
            return True
        starts = np.array([p[0] for p in self.parts], dtype=np.int64)
        which = np.searchsorted(starts, ids, side="right") - 1
        if (which < 0).any():
            return False
        ends = np.array([p[0] + len(p[1]) for p in self.parts], dtype=np.int64)
        return bool((ids < ends[which]).all())

    def save(self, folder: Path, previous: Path | None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for k, (first, array, _) in enumerate(self.parts):
            name = f"{first:012d}-{len(array)}.npy"
            if previous is not None and (previous / name).is_file():
                try:
                    os.link(previous / name, folder / name)
                    continue
                except OSError:
                    pass  # another file system: write it
            with open(folder / name, "wb") as fh:
                np.save(fh, array, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, dimension: int) -> "ExactVectors":
        out = cls()
        for path in sorted(Path(folder).glob("*.npy")):
            first = int(path.stem.split("-")[0])
            array = np.load(path, mmap_mode="r", allow_pickle=False)
            if array.ndim != 2 or array.shape[1] != dimension or array.dtype != np.float32:
                raise ValueError(f"dense_vectors/{path.name} holds {array.shape} {array.dtype}, not (n, {dimension}) float32")
            out.parts.append((first, array, path.name))
        return out
