"""One contract, two backends (qa/backends/): every test here runs against FAISS + bm25s, Milvus Lite
and a Milvus server through --milvus-uri http://127.0.0.1:PORT (milvus-lite's gRPC server, started
by the ``milvus_server_uri`` fixture; or the one MILVUS_URI names): build, reload, incremental
updates by article, mismatches and damage detected and rebuilt, filters inside the search, bad locations."""
from __future__ import annotations

import itertools
import json
from dataclasses import replace

import numpy as np
import pytest

from qa.backends import IndexLocationError, IndexProblem
from qa.config import QAConfig
from qa.filters import Filter
from qa.load import load_corpus

from .conftest import ARTICLES, BACKENDS, FakeEncoder

CONFIG = QAConfig()
ZEBRA = "Zebras at the zoo\n\nThe zoo bought two zebras named Zig and Zag."


def _update(backend, corpus, encoder, config=CONFIG):
    docs, _ = load_corpus(corpus)
    return backend.update(docs, encoder, config)


def _ids(index):
    return sorted(c.chunk_id for c in index.all_chunks())


def test_build_then_reload_is_the_same_index(backend_name, make_backend, small_corpus, fake_encoder):
    backend = make_backend(backend_name)
    built, report = _update(backend, small_corpus, fake_encoder)
    assert sorted(report.added) == sorted(ARTICLES) and report.chunks_total == built.chunk_count > 0
    loaded = backend.load(fake_encoder, CONFIG)
    assert _ids(loaded) == _ids(built) and loaded.chunk_count == built.chunk_count
    for c in loaded.all_chunks():  # exact offsets survive the round trip
        assert loaded.documents[c.doc_id].text[c.doc_start:c.doc_end] == c.text
        assert c.sentences[0][0] == c.doc_start and c.sentences[-1][1] == c.doc_end
    assert set(loaded.manifest["files"]) == set(ARTICLES)
    assert loaded.manifest["encoder"] == {"name": fake_encoder.name, "dimension": 64}
    assert all(len(f["sha256"]) == 64 and f["chunks"] > 0 for f in loaded.manifest["files"].values())


def test_unchanged_articles_are_not_reembedded(backend_name, make_backend, small_corpus, fake_encoder):
    backend = make_backend(backend_name)
    _update(backend, small_corpus, fake_encoder)
    fake_encoder.encoded.clear()
    _, report = _update(backend, small_corpus, fake_encoder)
    assert fake_encoder.encoded == [] and report.unchanged == sorted(ARTICLES) and not report.changed


def _own_vector_is_first(index, encoder, exact=True):
    """Searching each chunk's own vector finds that chunk: ids and vectors stay aligned. (An 8-bit
    quantised vector added after training may score its own query a little below 1.)"""
    for c in index.all_chunks():
        (top, score), *_ = index.search_dense(encoder.encode([c.text])[0], 3)
        assert top.text == c.text and (score > 0.97 or not exact), (c.chunk_id, top.chunk_id, score)


@pytest.mark.parametrize("dense", ["flat", "approximate"])
def test_add_delete_add_keeps_ids_aligned(backend_name, make_backend, small_corpus, dense):
    # approximate: a tiny size threshold makes the FAISS store (and Milvus) use IVF-SQ8, all lists probed
    config = QAConfig(dense_flat_max=2, dense_nprobe=1024) if dense == "approximate" else CONFIG
    encoder = FakeEncoder()
    backend = make_backend(backend_name)
    index, _ = _update(backend, small_corpus, encoder, config)
    if dense == "approximate" and backend_name == "faiss":
        assert index.manifest["dense"]["kind"] == "ivf_sq8"
    (small_corpus / "harvest.txt").unlink()
    index, report = _update(backend, small_corpus, encoder, config)
    assert report.removed == ["harvest"] and not report.rebuilt_because
    assert "harvest" not in index.documents and all(c.doc_id != "harvest" for c in index.all_chunks())
    exact = dense == "flat"
    _own_vector_is_first(index, encoder, exact)
    (small_corpus / "zebra.txt").write_text(ZEBRA, encoding="utf-8")
    encoder.encoded.clear()
    index, report = _update(backend, small_corpus, encoder, config)
    assert report.added == ["zebra"] and encoder.encoded and all("zebra" in t.lower() for t in encoder.encoded)
    _own_vector_is_first(index, encoder, exact)
    assert index.search_lexical("zebras named Zig", 3)[0][0].doc_id == "zebra"
    assert index.search_dense(encoder.encode(["zebras named Zig and Zag"])[0], 1)[0][0].doc_id == "zebra"
    reloaded = backend.load(encoder, config)
    assert _ids(reloaded) == _ids(index)
    _own_vector_is_first(reloaded, encoder, exact)


def test_changed_article_is_replaced(backend_name, make_backend, small_corpus, fake_encoder):
    backend = make_backend(backend_name)
    _update(backend, small_corpus, fake_encoder)
    (small_corpus / "storm.txt").write_text("Storm update\n\nThe storm Fiona is now called a hurricane.",
                                            encoding="utf-8")
    fake_encoder.encoded.clear()
    index, report = _update(backend, small_corpus, fake_encoder)
    assert report.updated == ["storm"] and report.unchanged == ["bridge", "harvest"]
    assert all("hurricane" in t for t in fake_encoder.encoded)
    storm = " ".join(c.text for c in index.all_chunks() if c.doc_id == "storm")
    assert "hurricane" in storm and "150 km/h" not in storm
    assert index.documents["storm"].text.endswith("hurricane.")
    assert index.search_lexical("hurricane", 5)[0][0].doc_id == "storm"


def test_other_encoder_or_chunking_is_a_mismatch_and_rebuilds(backend_name, make_backend, small_corpus, fake_encoder):
    backend = make_backend(backend_name)
    _update(backend, small_corpus, fake_encoder)
    other = FakeEncoder(dimension=32, name="other")
    with pytest.raises(IndexProblem) as info:
        backend.load(other, CONFIG)
    assert info.value.kind == "mismatch"
    with pytest.raises(IndexProblem, match="chunking"):
        backend.load(fake_encoder, QAConfig(chunk_sentences=2))
    index, report = _update(backend, small_corpus, other)
    assert "encoder" in report.rebuilt_because and len(other.encoded) == index.chunk_count
    assert backend.load(other, CONFIG).chunk_count == index.chunk_count


def test_empty_corpus_gives_an_empty_index(backend_name, make_backend, tmp_path, fake_encoder):
    (tmp_path / "empty").mkdir()
    backend = make_backend(backend_name)
    index, report = _update(backend, tmp_path / "empty", fake_encoder)
    assert index.chunk_count == 0 and report.chunks_total == 0
    assert backend.load(fake_encoder, CONFIG).all_chunks() == []
    assert index.search_dense(fake_encoder.encode(["x"])[0], 5) == [] and index.search_lexical("bridge", 5) == []


def test_dense_search_matches_brute_force(backend_name, make_backend, small_corpus, fake_encoder):
    backend = make_backend(backend_name)
    index, _ = _update(backend, small_corpus, fake_encoder)
    chunks = index.all_chunks()
    vectors = fake_encoder.encode([c.text for c in chunks])
    q = fake_encoder.encode(["storm winds Halifax"])[0]
    got = index.search_dense(q, 4)
    want = np.sort(vectors @ q)[::-1][:4]
    assert np.allclose([s for _, s in got], want, atol=1e-5)
    assert [c.chunk_id for c, _ in got][0] == chunks[int(np.argmax(vectors @ q))].chunk_id


def test_lexical_ranking_is_the_same_on_both_backends(make_backend, small_corpus, fake_encoder):
    """Milvus's BM25 function scores the very tokens bm25s scores (same stems, k1, b): same order."""
    faiss_index, _ = _update(make_backend("faiss"), small_corpus, fake_encoder)
    milvus_index, _ = _update(make_backend("milvus"), small_corpus, fake_encoder)
    for question in ["Nova Scotia power storm", "apples prices weather", "bridge cars a day", "Fiona"]:
        a = [c.chunk_id for c, _ in faiss_index.search_lexical(question, 10)]
        b = [c.chunk_id for c, _ in milvus_index.search_lexical(question, 10)]
        assert a and a == b, question


# ------------------------------------------------------------------ filters inside the search

def _with_metadata(corpus):
    docs, _ = load_corpus(corpus)
    meta = {"bridge": {"published": "2021-03-03", "source": "Tay Times"},
            "storm": {"published": "2022-09", "source": "Halifax Herald"},
            "harvest": {"published": "2022", "source": "Tay Times"}}
    return [replace(d, **meta.get(d.doc_id, {})) for d in docs]


@pytest.mark.parametrize("kind", ["dense", "lexical"])
def test_a_filter_is_applied_inside_the_search(backend_name, make_backend, small_corpus, fake_encoder, kind):
    backend = make_backend(backend_name)
    index, _ = backend.update(_with_metadata(small_corpus), fake_encoder, CONFIG)
    question = "Who designed the Tay bridge in Nova Scotia?"

    def search(f, depth=10):
        if kind == "dense":
            return [c.doc_id for c, _ in index.search_dense(fake_encoder.encode([question])[0], depth, f)]
        return [c.doc_id for c, _ in index.search_lexical(question, depth, f)]

    assert search(None)[0] == "bridge"
    assert search(Filter(since="2022")) and set(search(Filter(since="2022"))) <= {"storm", "harvest"}
    assert set(search(Filter(since="2022-10"))) <= {"harvest"}  # "2022" covers the whole year
    assert set(search(Filter(until="2021-12-31"))) == {"bridge"}
    assert set(search(Filter(sources=frozenset({"TAY TIMES"})))) <= {"bridge", "harvest"}
    assert search(Filter(until="1999")) == [] and search(Filter(sources=frozenset({"nobody"}))) == []
    # in full depth: the filtered list is the admitted chunks ranked alone, not a cut of the unfiltered one
    admitted = [d for d in search(None, depth=100) if d != "bridge"]
    assert search(Filter(since="2022"), depth=3) == admitted[:3]
    reloaded = backend.load(fake_encoder, CONFIG)  # the metadata is stored, not only held in memory
    assert reloaded.documents["storm"].source == "Halifax Herald" and reloaded.documents["storm"].published == "2022-09"


def test_milvus_filter_expression_agrees_with_filter_matches():
    from qa.backends.milvus import date_bounds, filter_expression

    dates = ["", "2020", "2020-01", "2020-01-15", "2020-02", "2019-12-31", "2021", "garbage"]
    bounds = [None, "2020", "2020-01", "2020-01-15", "2020-01-16", "2019", "2021-01-01"]
    for published, since, until in itertools.product(dates, bounds, bounds):
        try:
            f = Filter(since=since, until=until)
        except ValueError:  # since after until
            continue
        expression = filter_expression(f)
        lo, hi = date_bounds(published)
        env = {"published_lo": lo, "published_hi": hi, "source": ""}
        got = eval(expression, {}, env) if expression else True  # the expression is Python-compatible
        want = f.matches_fields(published, "") if published != "garbage" else not (since or until)
        assert got == want, (published, since, until, expression)
    assert filter_expression(Filter(sources=frozenset({'a "quoted" outlet'}))) == 'source in ["a \\"quoted\\" outlet"]'
    assert filter_expression(Filter(sources=frozenset({" "}))) is None  # admits nothing


# ------------------------------------------------------------------ damage and bad locations

def _damage_milvus(backend, how):
    client = backend.client()
    if how == "chunks-dropped":
        client.drop_collection(backend.chunks_name)
    elif how == "rows-lost":
        client.delete(backend.chunks_name, filter='doc_id == "storm"')
    elif how == "manifest-garbage":
        client.upsert(backend.docs_name, [{"part_id": "__manifest__", "doc_id": "", "part": -1, "text": "",
                                           "record": "{not json", "marker": [1.0, 0.0]}])
    elif how == "update-unfinished":
        manifest = json.loads(client.get(backend.docs_name, ids=["__manifest__"], output_fields=["record"])[0]["record"])
        client.upsert(backend.docs_name, [{"part_id": "__manifest__", "doc_id": "", "part": -1, "text": "",
                                           "record": json.dumps({**manifest, "complete": False}), "marker": [1.0, 0.0]}])


MILVUS = [b for b in BACKENDS if b.startswith("milvus")]  # embedded, and through a server


@pytest.mark.parametrize("name", MILVUS)
@pytest.mark.parametrize("how, reason", [
    ("chunks-dropped", "is missing"), ("rows-lost", "counts disagree"),
    ("manifest-garbage", "unreadable"), ("update-unfinished", "did not finish"),
])
def test_damaged_milvus_collection_is_detected_and_rebuilt(make_backend, small_corpus, how, reason, name):
    backend = make_backend(name)
    _, first = _update(backend, small_corpus, FakeEncoder())
    _damage_milvus(backend, how)
    with pytest.raises(IndexProblem, match=reason) as info:
        backend.load(FakeEncoder(), CONFIG)
    assert info.value.kind == "damaged"
    encoder = FakeEncoder()
    index, report = _update(backend, small_corpus, encoder)
    assert reason in report.rebuilt_because and len(encoder.encoded) == index.chunk_count == first.chunks_total
    assert backend.load(encoder, CONFIG).chunk_count == index.chunk_count


@pytest.mark.parametrize("name", MILVUS)
def test_milvus_update_that_dies_half_way_is_rebuilt_next_time(make_backend, small_corpus, monkeypatch, name):
    from qa.backends import milvus

    backend = make_backend(name)
    _update(backend, small_corpus, FakeEncoder())
    (small_corpus / "zebra.txt").write_text(ZEBRA, encoding="utf-8")

    def die(self, *args, **kwargs):
        raise RuntimeError("killed (simulated)")

    monkeypatch.setattr(milvus.MilvusBackend, "_write_documents", die)
    with pytest.raises(RuntimeError, match="simulated"):
        _update(backend, small_corpus, FakeEncoder())
    monkeypatch.undo()
    with pytest.raises(IndexProblem, match="did not finish"):
        backend.load(FakeEncoder(), CONFIG)
    index, report = _update(backend, small_corpus, FakeEncoder())
    assert report.rebuilt_because and set(index.documents) == set(ARTICLES) | {"zebra"}


@pytest.mark.parametrize("where", ["a-file", "under-a-file"])
def test_an_index_location_that_is_a_file_gets_a_clear_message(backend_name, make_backend, small_corpus,
                                                               tmp_path, fake_encoder, where):
    if backend_name == "milvus-server":
        pytest.skip("a server URI has no local location")
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder", encoding="utf-8")
    if backend_name == "faiss":
        backend = make_backend("faiss", blocker if where == "a-file" else blocker / "sub")
    else:
        from qa.backends.milvus import MilvusBackend

        backend = MilvusBackend(str(tmp_path / "x.db") if where == "a-file" else str(blocker / "sub" / "x.db"))
        if where == "a-file":
            (tmp_path / "x.db").write_text("an old milvus-lite file", encoding="utf-8")
    with pytest.raises(IndexLocationError, match="is a file|a file"):
        _update(backend, small_corpus, fake_encoder)
    assert blocker.read_text(encoding="utf-8") == "not a folder"  # nothing lost


def test_a_read_only_index_folder_still_serves_an_index_that_is_up_to_date(make_backend, small_corpus, tmp_path,
                                                                          fake_encoder, monkeypatch):
    import os

    backend = make_backend("faiss", tmp_path / "ro")
    _update(backend, small_corpus, fake_encoder)
    # chmod would not stop root (the tests may run as root): the store asks os.access, so ask it to say no
    real_access = os.access
    monkeypatch.setattr("qa.store.os.access", lambda p, mode: False if str(p) == str(tmp_path / "ro")
                        else real_access(p, mode))
    index, report = _update(backend, small_corpus, fake_encoder)
    assert report.unchanged == sorted(ARTICLES) and index.chunk_count > 0
    (small_corpus / "zebra.txt").write_text(ZEBRA, encoding="utf-8")
    with pytest.raises(IndexLocationError, match="permission denied"):
        _update(backend, small_corpus, fake_encoder)


def test_a_full_disk_gets_a_clear_message_and_keeps_the_index(make_backend, small_corpus, fake_encoder, monkeypatch):
    import errno

    backend = make_backend("faiss")
    before, _ = _update(backend, small_corpus, fake_encoder)
    (small_corpus / "zebra.txt").write_text(ZEBRA, encoding="utf-8")

    def full(self, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("qa.index_dense.DenseIndex.save", full)
    with pytest.raises(IndexLocationError, match="no space left.*previous index is unchanged"):
        _update(backend, small_corpus, fake_encoder)
    monkeypatch.undo()
    assert _ids(backend.load(fake_encoder, CONFIG)) == _ids(before)


@pytest.mark.parametrize("name", MILVUS)
def test_milvus_disk_full_becomes_a_location_error(make_backend, small_corpus, fake_encoder, monkeypatch, name):
    from pymilvus.exceptions import MilvusException

    backend = make_backend(name)
    _update(backend, small_corpus, fake_encoder)
    (small_corpus / "zebra.txt").write_text(ZEBRA, encoding="utf-8")
    client = backend.client()

    def full(*args, **kwargs):
        raise MilvusException(message="write wal: [Errno 28] No space left on device")

    monkeypatch.setattr(client, "upsert", full)
    with pytest.raises(IndexLocationError, match="no space left"):
        _update(backend, small_corpus, fake_encoder)


def test_answers_and_citations_are_identical_on_both_backends(make_backend, small_corpus, tmp_path):
    from qa import Pipeline

    questions = ["Who designed the Tay bridge?", "How many homes lost power?", "When did the bridge open?",
                 "How much did the bridge cost?", "What did Dr. Lee say?"]
    answers = {}
    for name in ("faiss", "milvus"):
        p = Pipeline(small_corpus, tmp_path / name, reader="heuristic", encoder=FakeEncoder(),
                     backend=make_backend(name, tmp_path / name))
        p.warm_up()
        answers[name] = [[a.to_dict() for a in p.ask(q, top_k=3, min_score=0.0)] for q in questions]
        hits = [[(h.chunk.chunk_id, h.ranks) for h in p.retrieve(q)] for q in questions]
        answers[name + "-hits"] = hits
    assert answers["faiss"] == answers["milvus"] and any(answers["faiss"])
    assert answers["faiss-hits"] == answers["milvus-hits"]


@pytest.mark.parametrize("name", MILVUS)
def test_two_replicas_share_one_milvus_index(make_backend, small_corpus, tmp_path, name):
    """One replica indexes a new article; another, started before, answers from it at once (Strong
    consistency) without re-reading anything."""
    from qa import Pipeline
    from qa.backends.milvus import MilvusBackend

    writer_backend = make_backend(name, tmp_path / "shared")
    writer = Pipeline(small_corpus, tmp_path / "shared", reader="heuristic", encoder=FakeEncoder(), backend=writer_backend)
    writer.warm_up()
    reader = Pipeline(small_corpus, tmp_path / "shared", reader="heuristic", encoder=FakeEncoder(),
                      backend=MilvusBackend(writer_backend.uri, writer_backend.collection))
    reader.warm_up()
    assert not reader.last_update.changed
    (small_corpus / "zebra.txt").write_text(ZEBRA, encoding="utf-8")
    writer.index(progress=False)
    answer = reader.ask("What were the two zebras named?", min_score=0.0)[0]
    c = answer.citations[0]
    assert c.doc_id == "zebra" and ZEBRA[c.start:c.end] == answer.text
