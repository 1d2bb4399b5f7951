"""The Milvus backend: the same index in Milvus, through pymilvus's ``MilvusClient``.

One code path for both kinds of Milvus: ``uri`` is a local path ending in ``.db`` (Milvus Lite,
embedded in this process, nothing to start) or ``http://host:19530`` (a Milvus server or cluster
that several chat replicas can share). Two collections, named from ``collection``:

``<collection>_chunks``  one row per chunk, primary key = the chunk id (``doc_id#n``): the chunk's
    offsets, sentence spans and text, its dense vector (inner product on normalised vectors),
    ``terms`` (the chunk's BM25 tokens, stemmed exactly as bm25s stems them for the FAISS store)
    turned into a sparse vector by Milvus's built-in BM25 function, and the scalar fields a
    ``Filter`` is applied to inside the search: ``published_lo``/``published_hi`` (the publication
    date as yyyymmdd integers: a partial date covers its whole year or month) and ``source``.
``<collection>_documents``  the articles' exact text (in parts: a VARCHAR holds at most 65,535
    bytes) and, on part 0, the article's manifest record (hash, title, path, chunk count, ...);
    one more row, ``__manifest__``, holds the settings the index was built with. (Milvus needs a
    vector field in every collection: ``marker`` is a constant 2-d vector, never searched.)

Updates go article by article: the rows of removed and changed articles are deleted, new ones
upserted, and the manifest row is marked incomplete first and complete last, so an update that
dies half-way is detected on the next load and the collections are rebuilt. Every request reads
at Strong consistency: the default (Bounded) would hide an update's own writes from the next read.
"""
from __future__ import annotations

import json
import logging
import os
import re
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from ..chunk import chunk_document
from ..config import QAConfig
from ..embed import Encoder
from ..filters import Filter
from ..index_dense import DenseSpec
from ..news.timex import TIMEX_VERSION, rows_from_json, with_dates
from ..types import Chunk, Document
from .base import (
    IndexLocationError,
    IndexProblem,
    Plan,
    UpdateReport,
    check_settings,
    expected_settings,
    file_in_the_way,
    file_record,
)

log = logging.getLogger(__name__)


class _NoMvccNotice(logging.Filter):
    """Milvus Lite does not hand out MVCC timestamps; pymilvus's query iterator warns about it on
    every call and then reads at the client's time, which Strong consistency makes correct."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "mvccTs" not in record.getMessage()


logging.getLogger("pymilvus.client.iterator.query_iterator").addFilter(_NoMvccNotice())

DEFAULT_COLLECTION = "qa_news"
CONSISTENCY = "Strong"
MANIFEST_ID = "__manifest__"
MAX_VARCHAR = 65_535  # bytes: Milvus's VARCHAR limit
TEXT_PART_CHARS = 16_000  # 4 bytes a character at most in UTF-8: a part always fits
WRITE_BATCH = 512  # rows per insert/upsert request
ID_BATCH = 256  # doc ids per "doc_id in [...]" expression
CHUNK_FIELDS = ["chunk_id", "doc_id", "doc_start", "doc_end", "sentences", "text"]
# The analyzer only splits: ``terms`` is already lower-cased, stemmed and stopped (qa/index_lexical.py).
# Milvus Lite's default stop list would drop more words than bm25s does, so it is replaced by one
# token that never occurs (bm25s keeps tokens of 2+ characters).
ANALYZER = {"tokenizer": "standard", "filter": [{"type": "stop", "stop_words": ["_"]}]}
BM25_PARAMS = {"bm25_k1": 1.5, "bm25_b": 0.75}  # bm25s's defaults: the two backends score alike


def is_server_uri(uri: str) -> bool:
    return uri.startswith(("http://", "https://", "tcp://", "unix:"))


def date_bounds(published: str) -> tuple[int, int]:
    """(first, last) day a publication date covers, as yyyymmdd integers: "2020" -> (20200000,
    20209999), "2020-05" -> (20200500, 20200599); (-1, -1) when unknown or not an ISO date."""
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", published.strip())
    if not m:
        return -1, -1
    year, month, day = m.groups()
    lo = int(year) * 10_000 + int(month or 0) * 100 + int(day or 0)
    hi = int(year) * 10_000 + (int(month) * 100 if month else 9900) + (int(day) if day else 99)
    return lo, hi


def filter_expression(filter: Filter | None) -> str | None:
    """The Milvus boolean expression of ``filter`` ("" = everything; None = nothing can match).

    Same semantics as ``Filter.matches_fields``: comparing dates at the shorter of two precisions
    is comparing the day ranges they cover, so ``since`` admits an article whose last day is on or
    after since's first day, and ``until`` one whose first day is on or before until's last day."""
    if filter is None:
        return ""
    parts = []
    if filter.since or filter.until:
        parts.append("published_lo >= 0")
    if filter.since:
        parts.append(f"published_hi >= {date_bounds(filter.since)[0]}")
    if filter.until:
        parts.append(f"published_lo <= {date_bounds(filter.until)[1]}")
    if filter.sources is not None:
        if not filter.sources:
            return None
        parts.append(f"source in [{', '.join(json.dumps(s) for s in sorted(filter.sources))}]")
    return " and ".join(parts)


def _in_list(field: str, values: Sequence[str]) -> str:
    return f"{field} in [{', '.join(json.dumps(v) for v in values)}]"


def _fits(text: str) -> bool:
    return len(text.encode("utf-8")) <= MAX_VARCHAR


def _clip(text: str) -> str:
    """``text`` cut (at a space) to fit a VARCHAR."""
    data = text.encode("utf-8")
    if len(data) <= MAX_VARCHAR:
        return text
    cut = data[:MAX_VARCHAR].decode("utf-8", errors="ignore")
    return cut.rsplit(" ", 1)[0]


class MilvusBackend:
    """An index in Milvus at ``uri`` (a Milvus Lite ``.db`` path, or a server URL)."""

    name = "milvus"

    def __init__(self, uri: str, collection: str = DEFAULT_COLLECTION, token: str = "",
                 timeout: float = 30.0) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,200}", collection):
            raise ValueError(f"Milvus collection name {collection!r}: use letters, digits and _ (not first a digit)")
        self.uri = str(uri)
        self.collection = collection
        self.chunks_name = f"{collection}_chunks"
        self.docs_name = f"{collection}_documents"
        self.token = token or os.environ.get("MILVUS_TOKEN", "")
        self.timeout = timeout
        self._client = None

    def describe(self) -> str:
        kind = "Milvus server" if is_server_uri(self.uri) else "Milvus Lite"
        return f"{kind} {self.uri} (collections {self.chunks_name}, {self.docs_name})"

    # ------------------------------------------------------------ connecting

    def client(self):
        """The ``MilvusClient``, connected on first use; ``IndexLocationError`` for a bad location."""
        if self._client is None:
            from pymilvus import MilvusClient

            if not is_server_uri(self.uri):
                self._check_local_location()
            # A server may drop an idle shared channel (gRPC GOAWAY "too_many_pings") just as a new
            # client reuses it; pymilvus's own recovery then fails once. One more try, after a pause.
            attempts = 2 if is_server_uri(self.uri) else 1
            for attempt in range(attempts):
                try:
                    self._client = MilvusClient(self.uri, token=self.token, timeout=self.timeout)
                    break
                except Exception as exc:  # pymilvus raises its own types for every connection failure
                    if attempt + 1 == attempts:
                        raise self._location_error(exc) from exc
                    time.sleep(1.0)
        return self._client

    def _check_local_location(self) -> None:
        path = Path(self.uri)
        if path.suffix != ".db":
            raise IndexLocationError(f"--milvus-uri {self.uri}: a Milvus Lite location is a path ending in .db "
                                     "(e.g. embeddings/milvus.db), a server one a URL such as http://localhost:19530")
        if path.exists() and not path.is_dir():
            raise IndexLocationError(f"--milvus-uri {self.uri} is a file, not a Milvus Lite data folder (Milvus Lite "
                                     "3 keeps its data in a folder of that name): move the file away or choose "
                                     "another --milvus-uri")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise IndexLocationError(f"cannot create the folder {path.parent} for --milvus-uri {self.uri}: "
                                     f"{file_in_the_way(path.parent)} is a file; choose another path") from exc
        except OSError as exc:
            raise IndexLocationError(f"cannot create the folder {path.parent} for --milvus-uri {self.uri}: "
                                     f"{exc.strerror or exc}; choose a path you can write to") from exc
        target = path if path.exists() else path.parent
        if not os.access(target, os.W_OK | os.X_OK):
            raise IndexLocationError(f"cannot write to {target} (permission denied) for --milvus-uri {self.uri}; "
                                     "choose a path you can write to, or fix its permissions")

    def _location_error(self, exc: Exception) -> IndexLocationError:
        text = str(exc)
        if "No space left" in text or "Disk quota" in text:
            return IndexLocationError(f"Milvus at {self.uri} cannot write: no space left on its disk; free space or "
                                      "choose another --milvus-uri (the index is unchanged where the write failed)")
        if "locked" in text.lower():
            return IndexLocationError(f"the Milvus Lite data folder {self.uri} is in use by another process (Milvus "
                                      "Lite serves one process); stop it, or run a Milvus server and pass "
                                      "--milvus-uri http://host:19530 to share one index")
        if is_server_uri(self.uri):
            return IndexLocationError(f"cannot reach Milvus at {self.uri}: {text[:300]}; start the server or fix "
                                      "--milvus-uri (and MILVUS_TOKEN if it needs one)")
        return IndexLocationError(f"cannot open Milvus Lite at {self.uri}: {text[:300]}")

    def _call(self, method: str, *args, **kwargs):
        """A client request; disk-full and connection failures become ``IndexLocationError``."""
        try:
            return getattr(self.client(), method)(*args, **kwargs)
        except IndexLocationError:
            raise
        except Exception as exc:
            text = str(exc)
            if "No space left" in text or "Disk quota" in text or "UNAVAILABLE" in text or "Fail connecting" in text:
                raise self._location_error(exc) from exc
            raise

    # ------------------------------------------------------------ schema

    def _create(self, dimension: int, spec: DenseSpec) -> None:
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        client = self.client()
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("chunk_id", DataType.VARCHAR, is_primary=True, max_length=2048)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=2048)
        schema.add_field("doc_start", DataType.INT64)
        schema.add_field("doc_end", DataType.INT64)
        schema.add_field("sentences", DataType.VARCHAR, max_length=MAX_VARCHAR)
        schema.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
        schema.add_field("terms", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                         analyzer_params=ANALYZER)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=int(dimension))
        schema.add_field("published_lo", DataType.INT64)
        schema.add_field("published_hi", DataType.INT64)
        schema.add_field("source", DataType.VARCHAR, max_length=2048)
        schema.add_function(Function(name="terms_bm25", function_type=FunctionType.BM25,
                                     input_field_names=["terms"], output_field_names=["sparse"]))
        index = client.prepare_index_params()
        if spec.kind == "flat":
            index.add_index(field_name="dense", index_type="FLAT", metric_type="IP")
        else:
            index.add_index(field_name="dense", index_type="IVF_SQ8", metric_type="IP", params={"nlist": spec.nlist})
        index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=BM25_PARAMS)
        self._create_collection(self.chunks_name, schema, index)

        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("part_id", DataType.VARCHAR, is_primary=True, max_length=2100)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=2048)
        schema.add_field("part", DataType.INT64)
        schema.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
        schema.add_field("record", DataType.VARCHAR, max_length=MAX_VARCHAR)
        schema.add_field("marker", DataType.FLOAT_VECTOR, dim=2)
        index = client.prepare_index_params()
        index.add_index(field_name="marker", index_type="FLAT", metric_type="IP")
        self._create_collection(self.docs_name, schema, index)

    def _create_collection(self, name: str, schema, index) -> None:
        self._call("create_collection", name, schema=schema, consistency_level=CONSISTENCY)
        # sync=False: the collection is empty, so its indexes are ready at once; pymilvus would
        # otherwise poll each one's state after a fixed half-second sleep.
        self._call("create_index", name, index, sync=False)
        self._call("load_collection", name)

    def drop(self) -> None:
        """Remove both collections (a rebuild starts from nothing)."""
        for name in (self.chunks_name, self.docs_name):
            if self._call("has_collection", name):
                self._call("drop_collection", name)

    def _check_schema(self, dimension: int) -> None:
        want = {"chunk_id", "doc_id", "doc_start", "doc_end", "sentences", "text", "terms", "sparse", "dense",
                "published_lo", "published_hi", "source"}
        info = self._call("describe_collection", self.chunks_name)
        have = {f["name"]: f for f in info.get("fields", [])}
        if set(have) != want:
            raise IndexProblem("damaged", f"collection {self.chunks_name} has fields {sorted(have)}, "
                                          f"expected {sorted(want)}")
        dim = int(have["dense"].get("params", {}).get("dim", -1))
        if dim != dimension:
            raise IndexProblem("mismatch", f"collection {self.chunks_name} holds {dim}-d vectors, "
                                           f"the encoder makes {dimension}-d ones")
        docs = {f["name"] for f in self._call("describe_collection", self.docs_name).get("fields", [])}
        if docs != {"part_id", "doc_id", "part", "text", "record", "marker"}:
            raise IndexProblem("damaged", f"collection {self.docs_name} has fields {sorted(docs)}")

    # ------------------------------------------------------------ loading

    def load(self, encoder: Encoder, config: QAConfig) -> "MilvusIndex":
        """Open and verify the index; ``IndexProblem`` saying what is wrong."""
        has = [self._call("has_collection", n) for n in (self.chunks_name, self.docs_name)]
        if not any(has):
            raise IndexProblem("missing", f"no index in {self.describe()}")
        if not all(has):
            missing = [n for n, h in zip((self.chunks_name, self.docs_name), has) if not h]
            raise IndexProblem("damaged", f"collection {missing[0]} is missing")
        for name in (self.chunks_name, self.docs_name):
            self._call("load_collection", name)  # a reopened Milvus Lite folder serves nothing until loaded
        manifest = self._read_manifest()
        check_settings(manifest, encoder, config)
        self._check_schema(int(encoder.dimension))
        if not manifest.get("complete"):
            raise IndexProblem("damaged", "an update of this index did not finish")
        files = self._read_files()
        counts = manifest.get("counts", {})
        chunks = self._count(self.chunks_name, "")
        if not (len(files) == counts.get("documents") and chunks == counts.get("chunks")
                == sum(f["chunks"] for f in files.values())):
            raise IndexProblem("damaged", f"index counts disagree: {len(files)} articles and {chunks} chunks stored, "
                                          f"manifest says {counts}")
        manifest["files"] = files
        return MilvusIndex(self, manifest)

    def _read_manifest(self) -> dict:
        rows = self._call("get", self.docs_name, ids=[MANIFEST_ID], output_fields=["record"])
        if not rows:
            raise IndexProblem("damaged", f"collection {self.docs_name} has no manifest row")
        try:
            manifest = json.loads(rows[0]["record"])
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexProblem("damaged", f"the manifest row of {self.docs_name} is unreadable: {exc}") from exc
        if not isinstance(manifest, dict):
            raise IndexProblem("damaged", f"the manifest row of {self.docs_name} is not an object")
        return manifest

    def _read_files(self) -> dict[str, dict]:
        files = {}
        for row in self._iterate(self.docs_name, "part == 0", ["doc_id", "record"]):
            try:
                record = json.loads(row["record"])
                files[row["doc_id"]] = {k: v for k, v in record.items() if k not in ("parts", "document")}
            except (ValueError, AttributeError) as exc:
                raise IndexProblem("damaged", f"the record of article {row['doc_id']!r} is unreadable") from exc
        return dict(sorted(files.items()))

    def _count(self, collection: str, expression: str) -> int:
        rows = self._call("query", collection, filter=expression, output_fields=["count(*)"],
                          consistency_level=CONSISTENCY)
        return int(rows[0]["count(*)"])

    def _iterate(self, collection: str, expression: str, output_fields: list[str], batch: int = 1000) -> Iterator[dict]:
        """All rows matching ``expression``, in pages (a million-article index streams)."""
        iterator = self._call("query_iterator", collection, batch_size=batch, filter=expression,
                              output_fields=output_fields, consistency_level=CONSISTENCY)
        try:
            while True:
                page = iterator.next()
                if not page:
                    return
                yield from page
        finally:
            iterator.close()

    def fetch_documents(self, doc_ids: Sequence[str]) -> dict[str, Document]:
        """The articles ``doc_ids`` with their exact text, reassembled from their parts."""
        out: dict[str, Document] = {}
        names = {f.name for f in fields(Document)}
        for start in range(0, len(doc_ids), ID_BATCH):
            ids = list(doc_ids[start:start + ID_BATCH])
            parts: dict[str, list[tuple[int, str]]] = {}
            records: dict[str, dict] = {}
            for row in self._iterate(self.docs_name, _in_list("doc_id", ids), ["doc_id", "part", "text", "record"]):
                parts.setdefault(row["doc_id"], []).append((int(row["part"]), row["text"]))
                if int(row["part"]) == 0:
                    records[row["doc_id"]] = json.loads(row["record"])
            for doc_id, pieces in parts.items():
                record = records.get(doc_id)
                pieces.sort()
                if record is None or [p for p, _ in pieces] != list(range(record.get("parts", 1))):
                    raise IndexProblem("damaged", f"article {doc_id!r} is incomplete in {self.docs_name}")
                meta = {k: v for k, v in record.get("document", {}).items() if k in names}
                meta["pages"] = tuple(int(p) for p in meta.get("pages") or ())  # JSON keeps them as a list
                meta["dates"] = rows_from_json(meta.get("dates"))
                out[doc_id] = Document(**{**meta, "doc_id": doc_id, "text": "".join(t for _, t in pieces)})
        return out

    # ------------------------------------------------------------ updating

    def update(self, documents: Sequence[Document], encoder: Encoder, config: QAConfig,
               progress: bool = False) -> tuple["MilvusIndex", UpdateReport]:
        """Bring the collections in line with ``documents``, article by article (only new or changed
        articles are embedded; removed ones are deleted)."""
        started = time.perf_counter()
        report = UpdateReport(path=self.describe())
        try:
            old = self.load(encoder, config)
        except IndexProblem as problem:
            old = None
            if problem.kind != "missing":
                report.rebuilt_because = str(problem)
                log.warning("rebuilding the Milvus index: %s", problem)
        # An article whose record changed is rewritten whole here, even when only its date changed:
        # its chunk rows carry the date and outlet the filters read.
        plan = Plan.of(old.manifest["files"] if old is not None else {}, documents)
        report.unchanged, report.added, report.updated, report.removed = (
            plan.unchanged, plan.added, plan.updated, plan.removed)
        # Dates found by another version of qa/news/timex.py: the articles' records are rewritten
        # with new ones (their chunks and vectors stay).
        redate = [] if old is None or old.manifest.get("timex_version") == TIMEX_VERSION else list(plan.unchanged)
        if old is not None and not (plan.added or plan.updated or plan.removed or redate):
            report.chunks_total = old.chunk_count
            report.seconds = time.perf_counter() - started
            return old, report

        changed = set(plan.added) | set(plan.updated)
        fresh = [c for doc in documents if doc.doc_id in changed
                 for c in chunk_document(doc, config.chunk_sentences, config.chunk_overlap, config.chunk_max_chars)]
        # Embedding is the slow part and writes nothing: a failure here leaves the index as it was.
        vectors = encoder.encode([c.text for c in fresh], progress=progress)
        total = (old.chunk_count - sum(old.manifest["files"][d]["chunks"] for d in plan.removed + plan.updated)
                 if old is not None else 0) + len(fresh)
        if old is None:
            self.drop()
            spec = DenseSpec.for_size(total, config.dense_flat_max, config.dense_nprobe)
            self._create(int(encoder.dimension), spec)
            manifest = {**expected_settings(encoder, config), "dense": spec.to_dict()}
        else:
            manifest = {k: v for k, v in old.manifest.items() if k != "files"}
        manifest["timex_version"] = TIMEX_VERSION
        self._write_manifest({**manifest, "complete": False})
        gone = sorted(set(plan.removed) | set(plan.updated))
        for start in range(0, len(gone), ID_BATCH):
            expression = _in_list("doc_id", gone[start:start + ID_BATCH])
            self._call("delete", self.docs_name, filter=expression)
            self._call("delete", self.chunks_name, filter=expression)
        # Each new or changed article with its time expressions, resolved against its date.
        by_id = {d.doc_id: (with_dates(d) if d.doc_id in changed or d.doc_id in redate else d) for d in documents}
        self._write_chunks(fresh, vectors, by_id, progress)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        files = dict(old.manifest["files"]) if old is not None else {}
        for doc_id in gone:
            files.pop(doc_id, None)
        per_doc: dict[str, int] = {}
        for c in fresh:
            per_doc[c.doc_id] = per_doc.get(c.doc_id, 0) + 1
        for doc in documents:
            if doc.doc_id in changed:
                files[doc.doc_id] = file_record(doc, per_doc.get(doc.doc_id, 0), now)
        self._write_documents([by_id[d] for d in sorted(changed | set(redate))], files)
        files = dict(sorted(files.items()))
        manifest = {**manifest, "created": now, "complete": True,
                    "counts": {"documents": len(files), "chunks": sum(f["chunks"] for f in files.values())}}
        self._write_manifest(manifest)
        index = MilvusIndex(self, {**manifest, "files": files},
                            preloaded={d: doc for d, doc in by_id.items() if d in changed or d in redate})
        report.chunks_embedded = len(fresh)
        report.chunks_total = index.chunk_count
        report.seconds = time.perf_counter() - started
        return index, report

    def _write_manifest(self, manifest: dict) -> None:
        self._call("upsert", self.docs_name, [{"part_id": MANIFEST_ID, "doc_id": "", "part": -1, "text": "",
                                               "record": json.dumps(manifest, sort_keys=True), "marker": [1.0, 0.0]}])

    def _write_chunks(self, chunks: Sequence[Chunk], vectors: np.ndarray, by_id: Mapping[str, Document],
                      progress: bool) -> None:
        from ..index_lexical import tokenize
        from tqdm import tqdm

        for start in tqdm(range(0, len(chunks), WRITE_BATCH), desc="write to Milvus", unit="batch",
                          disable=not progress or len(chunks) <= WRITE_BATCH):
            part = chunks[start:start + WRITE_BATCH]
            terms = tokenize([c.text for c in part])
            rows = []
            for c, toks, vec in zip(part, terms, vectors[start:start + WRITE_BATCH]):
                doc = by_id[c.doc_id]
                lo, hi = date_bounds(doc.published)
                rows.append({
                    "chunk_id": c.chunk_id, "doc_id": c.doc_id, "doc_start": c.doc_start, "doc_end": c.doc_end,
                    "sentences": json.dumps([list(s) for s in c.sentences]),
                    # A chunk too long for a VARCHAR (one giant sentence) is sliced from its article instead.
                    "text": c.text if _fits(c.text) else "",
                    "terms": _clip(" ".join(toks)), "dense": [float(x) for x in vec],
                    "published_lo": lo, "published_hi": hi, "source": doc.source.strip().casefold()[:500],
                })
            self._call("upsert", self.chunks_name, rows)

    def _write_documents(self, documents: Sequence[Document], files: Mapping[str, dict]) -> None:
        rows = []
        for doc in documents:
            pieces = [doc.text[i:i + TEXT_PART_CHARS] for i in range(0, len(doc.text), TEXT_PART_CHARS)] or [""]
            meta = {k: v for k, v in asdict(doc).items() if k not in ("doc_id", "text")}
            record = json.dumps({**files[doc.doc_id], "parts": len(pieces), "document": meta})
            while not _fits(record) and meta["dates"]:  # a VARCHAR holds 64 kB: keep the dates that fit
                meta["dates"] = meta["dates"][:len(meta["dates"]) // 2]
                record = json.dumps({**files[doc.doc_id], "parts": len(pieces), "document": meta})
            for k, piece in enumerate(pieces):
                rows.append({"part_id": f"{doc.doc_id}#{k}", "doc_id": doc.doc_id, "part": k, "text": piece,
                             "record": record if k == 0 else "", "marker": [1.0, 0.0]})
            if len(rows) >= WRITE_BATCH:
                self._call("upsert", self.docs_name, rows)
                rows = []
        if rows:
            self._call("upsert", self.docs_name, rows)


class _LazyDocuments(Mapping):
    """doc_id -> Document, fetched from Milvus on first use and kept (a few thousand, LRU).

    Iterating lists the articles of this index's manifest; looking one up also finds an article
    another process added to the shared collections since (a hit can come from it)."""

    def __init__(self, backend: MilvusBackend, doc_ids: Sequence[str], preloaded: Mapping[str, Document] | None,
                 keep: int = 4096) -> None:
        self._backend = backend
        self._ids = list(doc_ids)
        self._known = set(self._ids)
        self._keep = max(keep, len(preloaded or ()))
        self._cache: OrderedDict[str, Document] = OrderedDict(
            (d, preloaded[d]) for d in self._ids if preloaded and d in preloaded)

    def __getitem__(self, doc_id: str) -> Document:
        doc = self._cache.get(doc_id)
        if doc is None:
            found = self._backend.fetch_documents([doc_id])
            if doc_id not in found:
                if doc_id in self._known:
                    raise IndexProblem("damaged", f"article {doc_id!r} is listed but not stored in "
                                                  f"{self._backend.docs_name}")
                raise KeyError(doc_id)
            self._cache.update(found)
            doc = found[doc_id]
            self._trim()
        self._cache.move_to_end(doc_id)
        return doc

    def __contains__(self, doc_id) -> bool:
        return doc_id in self._known or doc_id in self._cache

    def _trim(self) -> None:
        while len(self._cache) > self._keep:
            self._cache.popitem(last=False)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def values(self):  # fetch in batches, not one request per article
        for start in range(0, len(self._ids), ID_BATCH):
            batch = self._ids[start:start + ID_BATCH]
            wanted = [d for d in batch if d not in self._cache]
            fetched = self._backend.fetch_documents(wanted) if wanted else {}
            for d in batch:
                yield self._cache.get(d) or fetched[d]


class MilvusIndex:
    """A ``ChunkIndex`` over the Milvus collections (qa/backends/base.py)."""

    def __init__(self, backend: MilvusBackend, manifest: dict, preloaded: Mapping[str, Document] | None = None) -> None:
        self.backend = backend
        self.manifest = manifest
        self.documents = _LazyDocuments(backend, list(manifest["files"]), preloaded)
        self.spec = DenseSpec.from_dict(manifest.get("dense", {}))
        self.path = None

    @property
    def chunk_count(self) -> int:
        return int(self.manifest["counts"]["chunks"])

    def _chunks(self, rows) -> list[tuple[Chunk, float]]:
        out = []
        for hit in rows:
            e = hit["entity"]
            text = e["text"]
            if not text:  # too long for a VARCHAR: sliced from the article
                text = self.documents[e["doc_id"]].text[e["doc_start"]:e["doc_end"]]
            chunk = Chunk(hit.get("chunk_id") or e["chunk_id"], e["doc_id"], int(e["doc_start"]), int(e["doc_end"]),
                          text, tuple((int(a), int(b)) for a, b in json.loads(e["sentences"])))
            out.append((chunk, float(hit["distance"])))
        return out

    def all_chunks(self) -> list[Chunk]:
        rows = self.backend._iterate(self.backend.chunks_name, "", CHUNK_FIELDS)
        chunks = self._chunks({"entity": r, "distance": 0.0} for r in rows)
        return [c for c, _ in sorted(chunks, key=lambda p: (p[0].doc_id, p[0].doc_start, p[0].chunk_id))]

    def _search_params(self) -> dict:
        if self.spec.kind == "flat":
            return {"metric_type": "IP"}
        return {"metric_type": "IP", "params": {"nprobe": self.spec.nprobe}}

    def search_dense(self, vector: np.ndarray, depth: int, filter: Filter | None = None) -> list[tuple[Chunk, float]]:
        expression = filter_expression(filter)
        if expression is None or depth <= 0 or self.chunk_count == 0:
            return []
        rows = self.backend._call("search", self.backend.chunks_name, data=[[float(x) for x in vector]],
                                  anns_field="dense", limit=depth, filter=expression, output_fields=CHUNK_FIELDS,
                                  search_params=self._search_params(), consistency_level=CONSISTENCY)
        return self._chunks(rows[0])

    def search_lexical(self, question: str, depth: int, filter: Filter | None = None,
                       weights: Mapping[str, float] | None = None) -> list[tuple[Chunk, float]]:
        from ..index_lexical import tokenize

        expression = filter_expression(filter)
        if weights is not None:
            # Milvus's BM25 function scores a text query: every word of positive weight is searched,
            # at equal weight (the FAISS store weighs each one; docs/backends.md).
            question = " ".join(w for w, weight in weights.items() if weight > 0)
        terms = " ".join(tokenize([question])[0])
        if expression is None or depth <= 0 or not terms or self.chunk_count == 0:
            return []
        rows = self.backend._call("search", self.backend.chunks_name, data=[terms], anns_field="sparse",
                                  limit=depth, filter=expression, output_fields=CHUNK_FIELDS,
                                  search_params={"metric_type": "BM25"}, consistency_level=CONSISTENCY)
        # Milvus Lite reports BM25 as a negative distance, a server as a positive score: the order is
        # the same (best first), so the score is its magnitude; fusion uses ranks only.
        return [(c, abs(s)) for c, s in self._chunks(rows[0]) if s != 0]

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        if doc_id not in self.manifest["files"]:
            return []
        rows = self.backend._iterate(self.backend.chunks_name, _in_list("doc_id", [doc_id]), CHUNK_FIELDS)
        chunks = [c for c, _ in self._chunks({"entity": r, "distance": 0.0} for r in rows)]
        return sorted(chunks, key=lambda c: (c.doc_start, c.chunk_id))

    def term_rarity(self, words: Sequence[str]) -> Mapping[str, float | None]:
        return {w: None for w in words}  # the BM25 statistics live inside Milvus, out of reach

    def search_fused(self, question: str, vector: np.ndarray, depth: int, top_k: int, rrf_k: int = 60,
                     filter: Filter | None = None) -> list[tuple[Chunk, float]]:
        """Both lists fused inside Milvus by its RRF ranker (``hybrid_search``): one request instead
        of two, but no per-list ranks, which the answer ranker needs; scripts/bench_large.py
        compares it with our fusion."""
        from pymilvus import AnnSearchRequest, RRFRanker

        from ..index_lexical import tokenize

        expression = filter_expression(filter)
        if expression is None or self.chunk_count == 0:
            return []
        requests = [AnnSearchRequest(data=[[float(x) for x in vector]], anns_field="dense",
                                     param=self._search_params(), limit=depth, expr=expression or None)]
        terms = " ".join(tokenize([question])[0])
        if terms:
            requests.append(AnnSearchRequest(data=[terms], anns_field="sparse", param={"metric_type": "BM25"},
                                             limit=depth, expr=expression or None))
        rows = self.backend._call("hybrid_search", self.backend.chunks_name, requests, RRFRanker(rrf_k),
                                  limit=top_k, output_fields=CHUNK_FIELDS, consistency_level=CONSISTENCY)
        return self._chunks(rows[0])
