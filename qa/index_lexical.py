"""Lexical index: BM25 over the same chunks as the dense index, Snowball-stemmed, updated in place.

The ranking is bm25s's exactly (its tokenizer, its "lucene" BM25: k1 1.5, b 0.75,
``idf = log(1 + (N - df + 0.5) / (df + 0.5))``, ``tf / (tf + k1 (1 - b + b dl / avgdl))``), but the
index keeps raw term counts, not scores, so it can change without a rebuild:

* **Segments.** Chunks live in immutable segments (a postings list of (chunk, tf) per term, a
  forward list of terms per chunk, each chunk's length). Adding chunks writes a new small segment;
  a big base segment is never rewritten by an update, so a saved version hard-links it from the
  previous one (``save(folder, previous=...)``) and writes only what is new.
* **Deletes** are tombstones; the chunk's terms leave the document frequencies at once.
* **Exact global statistics.** N, each term's df and the average length are kept over the live
  chunks of all segments, and BM25 is computed at query time from them: a chunk scores as it would
  in a bm25s index built from scratch over the same chunks (``tests/test_index_lexical.py``).
* **Merges.** Past ``MAX_SEGMENTS`` segments the small ones are merged into one (and all into a new
  base once they outgrow a quarter of it), dropping deleted chunks; term ids never change.

Rows vs ids (as in ``DenseIndex``'s IVF kind): each chunk gets an internal id, increasing in the
order chunks are added; ``_ids`` holds the id of every row, rows are only removed or appended, so
``_ids`` stays sorted and an id maps back to its row by binary search.

Layout of the saved folder::

    lexical.json         format, BM25 parameters, segments in order, next id
    deleted.npy          ids deleted but still in a segment's postings
    seg-<hex>/           one immutable segment: doc_len, postings (term_ids, indptr, docs, tfs),
                         forward (fwd_indptr, fwd_terms) .npy files, terms.json (terms it introduced)
"""
from __future__ import annotations

import functools
import json
import logging
import math
import os
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

log = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG, so "Building index from IDs objects" reached every console
# that shows warnings; only its warnings concern a user.
logging.getLogger("bm25s").setLevel(logging.WARNING)
_STEMMER = Stemmer.Stemmer("english")

FORMAT = "segmented-bm25/1"
K1, B = 1.5, 0.75  # bm25s's defaults (the Milvus backend scores with the same)
MAX_SEGMENTS = 8  # past this many, the small segments are merged into one
_MERGE_ALL_SHARE = 0.25  # ... and everything into a new base once the small ones reach this share of it
_SEGMENT_FILES = ("doc_len", "term_ids", "indptr", "docs", "tfs", "fwd_indptr", "fwd_terms")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    return bm25s.tokenize(list(texts), stopwords="en", stemmer=_STEMMER, return_ids=False,
                          show_progress=False)


class OlderFormat(ValueError):
    """The folder holds the BM25 index of an older build (one bm25s index); build it anew from the
    chunk texts (``LexicalIndex.build``): no vector needs re-embedding for that."""


@dataclass(frozen=True)
class _Segment:
    """Chunks with ids ``first_id .. first_id + n - 1``; never changed once made. ``doc_len`` -1
    marks a chunk a merge dropped (deleted before it)."""

    name: str
    first_id: int
    doc_len: np.ndarray  # int32 [n]: tokens in the chunk (what bm25s counts), -1 = dropped
    term_ids: np.ndarray  # int32 [t], sorted: the terms with postings here
    indptr: np.ndarray  # int64 [t + 1]: postings of term_ids[j] are docs/tfs[indptr[j]:indptr[j+1]]
    docs: np.ndarray  # int32: chunk offset within the segment
    tfs: np.ndarray  # uint16: term count in that chunk
    fwd_indptr: np.ndarray  # int64 [n + 1]: terms of chunk i are fwd_terms[fwd_indptr[i]:fwd_indptr[i+1]]
    fwd_terms: np.ndarray  # int32
    terms: tuple[int, int]  # the term ids this segment introduced: [terms[0], terms[1])

    @property
    def n(self) -> int:
        return len(self.doc_len)

    def postings(self, term: int) -> tuple[int, int] | None:
        """Where ``term``'s postings lie in ``docs``/``tfs`` (None: not in this segment)."""
        j = int(np.searchsorted(self.term_ids, term))
        if j >= len(self.term_ids) or self.term_ids[j] != term:
            return None
        return int(self.indptr[j]), int(self.indptr[j + 1])

    @functools.cached_property
    def ids(self) -> np.ndarray:
        """``docs`` as index-wide ids (int64: numpy indexes with it without converting)."""
        return self.docs.astype(np.int64) + self.first_id

    @functools.cached_property
    def _tf_and_len(self) -> tuple[np.ndarray, np.ndarray]:
        """Each posting's tf and its chunk's length as float32: what ``tf_part`` reads, kept so that
        recomputing it after an update is four passes of arithmetic."""
        return self.tfs.astype(np.float32), self.doc_len[self.docs].astype(np.float32)

    def tf_part(self, avgdl: float) -> np.ndarray:
        """BM25's term-frequency part of every posting, ``tf / (tf + k1 (1 - b + b dl / avgdl))``:
        a query multiplies a slice of it by the term's idf (float32; bm25s stores its scores so)."""
        tf, lens = self._tf_and_len
        out = np.multiply(lens, np.float32(K1 * B / avgdl))
        out += np.float32(K1 * (1 - B))
        out += tf
        return np.divide(tf, out, out=out)

    @classmethod
    def from_forward(cls, first_id: int, doc_len: np.ndarray, fwd_indptr: np.ndarray, fwd_terms: np.ndarray,
                     fwd_tfs: np.ndarray, terms: tuple[int, int]) -> "_Segment":
        """Invert a forward list (per chunk: distinct terms and their counts) into postings."""
        n = len(doc_len)
        owner = np.repeat(np.arange(n, dtype=np.int32), np.diff(fwd_indptr))
        order = np.argsort(fwd_terms, kind="stable")  # stable: each term's chunks stay in id order
        sorted_terms = fwd_terms[order]
        term_ids, starts = np.unique(sorted_terms, return_index=True)
        indptr = np.append(starts, len(sorted_terms)).astype(np.int64)
        return cls(f"seg-{secrets.token_hex(6)}", int(first_id), doc_len.astype(np.int32),
                   term_ids.astype(np.int32), indptr, owner[order], fwd_tfs[order].astype(np.uint16),
                   fwd_indptr.astype(np.int64), fwd_terms.astype(np.int32), (int(terms[0]), int(terms[1])))

    def save(self, folder: Path, terms: Sequence[str]) -> None:
        """``terms``: the strings of the term ids this segment introduced."""
        folder.mkdir(parents=True, exist_ok=True)
        for name in _SEGMENT_FILES:
            with open(folder / f"{name}.npy", "wb") as fh:
                np.save(fh, getattr(self, name), allow_pickle=False)
        (folder / "terms.json").write_text(json.dumps({"first": self.terms[0], "terms": list(terms)},
                                                      ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, first_id: int) -> tuple["_Segment", list[str]]:
        """The segment and the strings of the terms it introduced."""
        arrays = {name: np.load(folder / f"{name}.npy", allow_pickle=False) for name in _SEGMENT_FILES}
        introduced = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        t0 = int(introduced["first"])
        seg = cls(folder.name, int(first_id), **arrays, terms=(t0, t0 + len(introduced["terms"])))
        if len(seg.indptr) != len(seg.term_ids) + 1 or len(seg.fwd_indptr) != seg.n + 1 \
                or len(seg.docs) != len(seg.tfs) or int(seg.indptr[-1]) != len(seg.docs):
            raise ValueError(f"BM25 segment {folder.name} is inconsistent")
        return seg, list(introduced["terms"])


class LexicalIndex:
    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}  # term -> id (ids never change)
        self.terms: list[str] = []  # id -> term
        self.segments: list[_Segment] = []
        self.df = np.zeros(0, dtype=np.int64)  # live chunks holding each term
        self._ids = np.zeros(0, dtype=np.int64)  # internal id of each row
        self._deleted = np.zeros(0, dtype=np.int64)  # sorted ids deleted but still in some postings
        self._alive = np.zeros(0, dtype=bool)  # by id
        self._total_len = 0  # tokens in all live chunks (avgdl = this / N)
        self._next_id = 0
        self._local = threading.local()  # each thread's score accumulator by id, all zero between queries
        # each segment's tf_part at the current average length (it changes with every update)
        self._tf_parts: dict[str, tuple[float, np.ndarray]] = {}
        self._tf_lock = threading.Lock()

    # ------------------------------------------------------------ building and updating

    @classmethod
    def build(cls, texts: Sequence[str]) -> "LexicalIndex":
        out = cls()
        out.add(texts)
        out.prepare()
        return out

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def size(self) -> int:
        return len(self._ids)

    def add(self, texts: Sequence[str]) -> None:
        """Append rows ``len(self) ..`` for ``texts`` (a new segment; merged when there are many)."""
        if not len(texts):
            return
        self.add_tokenized(bm25s.tokenize(list(texts), stopwords="en", stemmer=_STEMMER, show_progress=False))

    def add_tokenized(self, tokenized) -> None:
        """``add`` for texts already through ``bm25s.tokenize`` (stop words "en", this stemmer, ids):
        a benchmark builds bm25s and this index from one tokenization."""
        if not len(tokenized.ids):
            return
        first_term = len(self.terms)
        local_to_global = np.zeros(len(tokenized.vocab), dtype=np.int64)
        for term, local in tokenized.vocab.items():
            gid = self.vocab.get(term)
            if gid is None:
                gid = self.vocab[term] = len(self.terms)
                self.terms.append(term)
            local_to_global[local] = gid
        lengths = np.fromiter((len(ids) for ids in tokenized.ids), dtype=np.int64, count=len(tokenized.ids))
        flat = np.fromiter(chain.from_iterable(tokenized.ids), dtype=np.int64, count=int(lengths.sum()))
        flat = local_to_global[flat]
        owner = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        # distinct (chunk, term) pairs and their counts, chunk-major
        keys, counts = np.unique(owner * len(self.terms) + flat, return_counts=True)
        fwd_owner, fwd_terms = np.divmod(keys, len(self.terms)) if len(self.terms) else (keys, keys)
        fwd_indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(np.bincount(fwd_owner, minlength=len(lengths)), out=fwd_indptr[1:])
        seg = _Segment.from_forward(self._next_id, lengths, fwd_indptr, fwd_terms,
                                    np.minimum(counts, 65_535), (first_term, len(self.terms)))
        self._append_segment(seg)
        if len(self.segments) > MAX_SEGMENTS:
            self._merge_small()

    def _append_segment(self, seg: _Segment) -> None:
        ids = np.arange(seg.first_id, seg.first_id + seg.n, dtype=np.int64)
        self._next_id = seg.first_id + seg.n
        self.segments.append(seg)
        self._ids = np.concatenate([self._ids, ids])
        self._alive = np.concatenate([self._alive, np.ones(seg.n, dtype=bool)])
        self._grow_df()
        np.add.at(self.df, seg.fwd_terms, 1)
        self._total_len += int(seg.doc_len.sum())

    def _grow_df(self) -> None:
        if len(self.df) < len(self.terms):
            self.df = np.concatenate([self.df, np.zeros(len(self.terms) - len(self.df), dtype=np.int64)])

    def remove_rows(self, rows) -> None:
        """Delete ``rows``; later rows move up, as in a list."""
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        if not len(rows):
            return
        if rows[0] < 0 or rows[-1] >= len(self):
            raise IndexError(f"rows {rows[0]}..{rows[-1]} outside 0..{len(self) - 1}")
        ids = self._ids[rows]
        for seg in self.segments:
            local = ids[(ids >= seg.first_id) & (ids < seg.first_id + seg.n)] - seg.first_id
            self._forget(seg, local)
        self._alive[ids] = False
        self._ids = np.delete(self._ids, rows)
        self._deleted = np.union1d(self._deleted, ids)

    def _forget(self, seg: _Segment, local: np.ndarray) -> None:
        """Take the chunks ``local`` (offsets in ``seg``, live until now) out of the statistics."""
        if not len(local):
            return
        starts, ends = seg.fwd_indptr[local], seg.fwd_indptr[local + 1]
        counts = ends - starts
        at = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + np.arange(int(counts.sum()))
        np.subtract.at(self.df, seg.fwd_terms[at], 1)
        self._total_len -= int(seg.doc_len[local].sum())

    def copy(self) -> "LexicalIndex":
        """An independent copy (segments are immutable and shared; the live index keeps serving)."""
        out = LexicalIndex()
        out.vocab, out.terms, out.segments = dict(self.vocab), list(self.terms), list(self.segments)
        out.df, out._ids, out._deleted = self.df.copy(), self._ids.copy(), self._deleted.copy()
        out._alive = self._alive.copy()
        out._total_len, out._next_id = self._total_len, self._next_id
        out._tf_parts = dict(self._tf_parts)  # arrays never written to: shared while the length holds
        return out

    def _merge_small(self) -> None:
        small = self.segments[1:]
        if sum(s.n for s in small) > _MERGE_ALL_SHARE * self.segments[0].n:
            small = self.segments
        merged = self._merged(small)
        self.segments = self.segments[: len(self.segments) - len(small)] + [merged]
        self._tf_parts = {k: v for k, v in self._tf_parts.items() if k in {s.name for s in self.segments}}
        gone = (self._deleted >= merged.first_id) & (self._deleted < merged.first_id + merged.n)
        self._deleted = self._deleted[~gone]  # dropped by the merge: no postings left to discount

    def _merged(self, segments: list[_Segment]) -> _Segment:
        """One segment over ``segments`` (consecutive), without the chunks deleted so far."""
        first = segments[0].first_id
        owners, terms, tfs, lens = [], [], [], []
        for seg in segments:
            dead = ~self._alive[seg.first_id:seg.first_id + seg.n]
            keep = ~dead[seg.docs]
            owners.append(seg.docs[keep].astype(np.int64) + (seg.first_id - first))
            terms.append(np.repeat(seg.term_ids, np.diff(seg.indptr))[keep])
            tfs.append(seg.tfs[keep])
            lens.append(np.where(dead, -1, seg.doc_len).astype(np.int32))
        owner, term, tf, doc_len = (np.concatenate(x) for x in (owners, terms, tfs, lens))
        order = np.lexsort((term, owner))  # chunk-major, as a forward list is
        fwd_indptr = np.zeros(len(doc_len) + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner, minlength=len(doc_len)), out=fwd_indptr[1:])
        return _Segment.from_forward(first, doc_len, fwd_indptr, term[order], tf[order],
                                     (segments[0].terms[0], segments[-1].terms[1]))

    # ------------------------------------------------------------ search

    def _scores(self, weights: Mapping[int, float], allowed: np.ndarray | None, depth: int) -> list[tuple[int, float]]:
        """Top ``depth`` rows by sum over terms of weight x BM25, scored from the live statistics."""
        n = len(self)
        avgdl = self._total_len / n if n else 1.0
        buffer = getattr(self._local, "buffer", None)
        if buffer is None or len(buffer) != self._next_id:
            buffer = self._local.buffer = np.zeros(self._next_id, dtype=np.float32)
        touched = []
        for term, weight in weights.items():
            df = int(self.df[term])
            if df <= 0:
                continue
            w = np.float32(weight * math.log(1.0 + (n - df + 0.5) / (df + 0.5)))
            for seg in self.segments:
                span = seg.postings(term)
                if span is None:
                    continue
                ids = seg.ids[span[0]:span[1]]
                buffer[ids] += w * self._tf_part(seg, avgdl)[span[0]:span[1]]  # ids are distinct within one list
                touched.append(ids)
        if not touched:
            return []
        ids = np.concatenate(touched) if len(touched) > 1 else touched[0]
        scores = buffer[ids]
        buffer[ids] = 0.0
        live = self._alive[ids]
        if allowed is not None:
            live &= allowed[ids]
        ids, scores = ids[live], scores[live]
        # A chunk appears once per query term it holds, always with its full score: the best
        # depth x terms entries hold the best ``depth`` distinct chunks.
        take = min(len(ids), depth * len(weights))
        if take < len(ids):
            top = np.argpartition(-scores, take - 1)[:take]
            ids, scores = ids[top], scores[top]
        ids, first = np.unique(ids, return_index=True)
        scores = scores[first]
        rows = np.searchsorted(self._ids, ids)
        order = np.lexsort((rows, -scores))[:depth]  # ties by row: deterministic
        return [(int(rows[i]), float(scores[i])) for i in order if scores[i] > 0]

    def prepare(self) -> None:
        """Compute what queries read at the current statistics (each segment's tf part), so the
        first query after an update or a load does not pay for it (at 1M passages: under a second)."""
        if len(self):
            avgdl = self._total_len / len(self)
            for seg in self.segments:
                self._tf_part(seg, avgdl)

    def _tf_part(self, seg: _Segment, avgdl: float) -> np.ndarray:
        cached = self._tf_parts.get(seg.name)
        if cached is None or cached[0] != avgdl:
            with self._tf_lock:  # one thread computes it (at 1M passages: a fraction of a second)
                cached = self._tf_parts.get(seg.name)
                if cached is None or cached[0] != avgdl:
                    cached = self._tf_parts[seg.name] = (avgdl, seg.tf_part(avgdl))
        return cached[1]

    def _allowed_ids(self, allowed: np.ndarray | None) -> np.ndarray | None:
        if allowed is None:
            return None
        mask = np.zeros(self._next_id, dtype=bool)
        mask[self._ids[np.asarray(allowed, dtype=np.int64)]] = True
        return mask

    def search(self, query: str, depth: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, BM25 score) pairs, best first; rows sharing no term with the query are dropped.
        ``allowed`` (row numbers) restricts scoring to those rows (a pre-filter). A term repeated
        in the query counts as often as it appears (as in bm25s)."""
        if not len(self) or depth <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        weights: dict[int, float] = {}
        for t in tokenize([query])[0]:
            if t in self.vocab:
                weights[self.vocab[t]] = weights.get(self.vocab[t], 0.0) + 1.0
        if not weights:
            return []
        if allowed is not None:
            depth = min(depth, len(allowed))
        return self._scores(weights, self._allowed_ids(allowed), min(depth, len(self)))

    def search_weighted(self, weights: Mapping[str, float], depth: int,
                        allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Like ``search`` for a query whose words count unequally: score(chunk) = sum over words
        of weight x that word's BM25 score (BM25 adds up over query terms, so weight 1 for every
        word is ``search``). A word's stems share its weight; a stem reached by two words keeps
        the larger weight."""
        if not len(self) or depth <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        by_id: dict[int, float] = {}
        words = [w for w, weight in weights.items() if weight > 0]
        for word, stems in zip(words, tokenize(words) if words else []):
            for t in stems:
                if t in self.vocab:
                    by_id[self.vocab[t]] = max(by_id.get(self.vocab[t], 0.0), float(weights[word]))
        if not by_id:
            return []
        return self._scores(by_id, self._allowed_ids(allowed), min(depth, len(self)))

    def idf(self, words: Sequence[str]) -> dict[str, float | None]:
        """Each word's BM25 IDF in this index (Lucene's form, the one it scores with:
        ``log(1 + (N - df + 0.5) / (df + 0.5))``), after the same stemming and stop-word removal as
        the index; None for a stop word or a word no chunk contains."""
        out: dict[str, float | None] = {w: None for w in words}
        if not len(self) or not words:
            return out
        n = float(len(self))
        for word, stems in zip(words, tokenize(list(words))):
            dfs = [int(self.df[self.vocab[t]]) for t in stems if t in self.vocab]
            dfs = [d for d in dfs if d > 0]
            if dfs:  # a hyphenated word can stem to several tokens: its rarest one speaks for it
                df = min(dfs)
                out[word] = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
        return out

    def max_idf(self) -> float:
        """The IDF of a word found in exactly one chunk: the top of this index's IDF scale."""
        return math.log(1.0 + (len(self) - 0.5) / 1.5) if len(self) else 0.0

    def memory_bytes(self) -> int:
        """What the index holds in memory: its arrays plus the vocabulary (keys and entries)."""
        arrays = sum(getattr(s, f).nbytes for s in self.segments for f in _SEGMENT_FILES)
        arrays += sum(a.nbytes for a in (self.df, self._ids, self._deleted, self._alive))
        arrays += 4 * self._next_id  # a searching thread's score accumulator
        arrays += sum(s.ids.nbytes + 12 * len(s.docs) for s in self.segments)  # ids, tf, lengths, tf parts
        vocab = sum(len(t) + 49 + 8 + 28 for t in self.terms) + 40 * len(self.vocab)  # str, list slot, int, dict entry
        return int(arrays + vocab)

    # ------------------------------------------------------------ persistence

    def save(self, folder: Path, previous: Path | None = None) -> None:
        """Write into ``folder``; a segment already saved in ``previous`` (a folder this index or
        an ancestor was saved to) is hard-linked from there, not written again (segments never change)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for seg in self.segments:
            if previous is not None and _link_segment(Path(previous) / seg.name, folder / seg.name):
                continue
            seg.save(folder / seg.name, self.terms[seg.terms[0]:seg.terms[1]])
        with open(folder / "deleted.npy", "wb") as fh:
            np.save(fh, self._deleted, allow_pickle=False)
        meta = {"format": FORMAT, "k1": K1, "b": B, "next_id": self._next_id, "rows": len(self),
                "segments": [{"name": s.name, "first_id": s.first_id, "n": s.n} for s in self.segments]}
        (folder / "lexical.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, size: int) -> "LexicalIndex":
        folder = Path(folder)
        out = cls()
        if not size and not (folder / "lexical.json").exists():
            return out
        if not (folder / "lexical.json").exists():
            raise OlderFormat(f"{folder} holds one bm25s index (the format before segments)")
        meta = json.loads((folder / "lexical.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or (meta.get("k1"), meta.get("b")) != (K1, B):
            raise ValueError(f"BM25 index is {meta.get('format')!r} k1 {meta.get('k1')} b {meta.get('b')}, "
                             f"this build reads {FORMAT!r} k1 {K1} b {B}")
        deleted = np.load(folder / "deleted.npy", allow_pickle=False).astype(np.int64)
        for entry in meta["segments"]:
            seg, strings = _Segment.load(folder / entry["name"], entry["first_id"])
            if seg.first_id != out._next_id or seg.n != entry["n"] or seg.terms[0] != len(out.terms):
                raise ValueError(f"BM25 segment {seg.name} does not follow the one before it")
            for t in strings:
                out.vocab[t] = len(out.terms)
                out.terms.append(t)
            live = seg.doc_len >= 0
            out.segments.append(seg)
            out._alive = np.concatenate([out._alive, live])
            out._next_id = seg.first_id + seg.n
            out._grow_df()
            np.add.at(out.df, seg.fwd_terms, 1)  # includes deleted chunks still in postings: taken off below
            out._total_len += int(seg.doc_len[live].sum())
        if out._next_id != meta["next_id"]:
            raise ValueError("BM25 index: segments do not add up to its id range")
        out._ids = np.flatnonzero(out._alive).astype(np.int64)
        out._ids = np.setdiff1d(out._ids, deleted, assume_unique=True)
        out._alive[:] = False
        out._alive[out._ids] = True
        for seg in out.segments:  # a deleted chunk's terms leave the document frequencies
            local = deleted[(deleted >= seg.first_id) & (deleted < seg.first_id + seg.n)] - seg.first_id
            if (seg.doc_len[local] < 0).any():
                raise ValueError(f"BM25 index: a chunk deleted twice in segment {seg.name}")
            out._forget(seg, local)
        out._deleted = deleted
        if len(out) != size or meta.get("rows") != size:
            raise ValueError(f"BM25 index holds {len(out)} chunks, the chunk table {size}")
        out.prepare()
        return out


def _link_segment(source: Path, target: Path) -> bool:
    """Hard-link every file of the saved segment ``source`` into ``target``; False if it is not
    there (or the file system cannot link), and then nothing is left half-linked."""
    names = [f"{n}.npy" for n in _SEGMENT_FILES] + ["terms.json"]
    if not all((source / n).is_file() for n in names):
        return False
    target.mkdir(parents=True, exist_ok=True)
    try:
        for n in names:
            os.link(source / n, target / n)
    except OSError:
        for n in names:
            (target / n).unlink(missing_ok=True)
        return False
    return True
