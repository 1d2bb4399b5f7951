"""The segmented BM25 index (qa/index_lexical.py) ranks exactly as a bm25s index built from scratch
over the same chunks, after adds, deletes and merges; updates are searchable at once, saved versions
share unchanged segments by hard link, and a kill -9 during an update leaves the last good version."""
from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import time

import bm25s
import numpy as np
import pytest

from qa import index_lexical
from qa.config import QAConfig
from qa.index_lexical import LexicalIndex, tokenize
from qa.load import load_corpus
from qa.store import current_version, load_index, update_index
from qa.training import data as SD

from .chat_helpers import PYTHON, ROOT
from .conftest import FakeEncoder

SQUAD_DEV = SD.default_data_dir() / SD.SQUAD_V11_DEV
QUESTIONS = ["Who designed the bridge?", "When was the university founded?", "What did the Normans conquer?",
             "How many people live in the city?", "Which team won the Super Bowl?", "the the of",
             "Where is the river Rhine?", "What is the oxygen cycle", "Tesla Tesla electricity", "zzqx unknownword"]


def _word_soup(n: int, seed: int) -> list[str]:
    """Deterministic passages over a Zipf-like vocabulary: frequent and rare terms, repeats, lengths."""
    rng = np.random.default_rng(seed)
    words = [f"word{i}" for i in range(400)] + ["bridge", "river", "city", "university", "team", "oxygen"]
    p = 1.0 / np.arange(1, len(words) + 1)
    return [" ".join(rng.choice(words, size=int(rng.integers(3, 60)), p=p / p.sum())) for _ in range(n)]


def _real_passages(n: int) -> list[str]:
    if not SQUAD_DEV.exists():
        pytest.skip(f"SQuAD v1.1 dev not found at {SQUAD_DEV} (../shared/data, or set QA_DATA_DIR)")
    out: list[str] = []
    for article in SD.load_squad_json(SQUAD_DEV)["data"]:
        for para in article["paragraphs"]:
            if para["context"] not in out:
                out.append(para["context"])
            if len(out) == n:
                return out
    return out


def _bm25s_exact(texts: list[str], query: str, depth: int) -> list[tuple[int, float]]:
    """What the index searched before segments: one bm25s index built over ``texts``."""
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=index_lexical._STEMMER, show_progress=False),
                    show_progress=False)
    tokens = [t for t in tokenize([query])[0] if t in retriever.vocab_dict]
    if not tokens:
        return []
    rows, scores = retriever.retrieve([tokens], k=min(depth, len(texts)), show_progress=False)
    return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if s > 0]


def _assert_same_ranking(ours, theirs):
    """Same rows with the same scores; rows whose scores tie may come in either order."""
    assert len(ours) == len(theirs)
    assert np.allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5)
    theirs_by_row = dict(theirs)
    for row, score in ours:
        if row in theirs_by_row:
            assert score == pytest.approx(theirs_by_row[row], rel=1e-5)
        else:  # only a tie at the cut-off may let another row in
            assert score == pytest.approx(theirs[-1][1], rel=1e-5), (row, score)


def test_same_top_k_as_bm25s_on_real_passages():
    texts = _real_passages(300)
    index = LexicalIndex.build(texts)
    for q in QUESTIONS:
        _assert_same_ranking(index.search(q, 20), _bm25s_exact(texts, q, 20))


def test_adds_deletes_and_merges_keep_the_exact_ranking(monkeypatch):
    monkeypatch.setattr(index_lexical, "MAX_SEGMENTS", 3)
    texts = _word_soup(600, seed=1)
    index = LexicalIndex.build(texts[:300])
    live = list(texts[:300])
    rng = np.random.default_rng(2)
    for step in range(6):  # small adds (new segments, merged past 3) and deletes anywhere
        batch = texts[300 + 50 * step:350 + 50 * step]
        index.add(batch)
        live += batch
        rows = np.sort(rng.choice(len(live), 7, replace=False))
        index.remove_rows(rows)
        live = [t for i, t in enumerate(live) if i not in set(rows.tolist())]
        assert len(index) == len(live) and len(index.segments) <= 3
        for q in ("word0 word5 bridge", "river city word77 word77", "oxygen team word300"):
            _assert_same_ranking(index.search(q, 15), _bm25s_exact(live, q, 15))
    assert index.idf(["bridge"])["bridge"] == pytest.approx(_idf(live, "bridge"))


def _idf(texts, word):
    n, df = len(texts), sum(word in t.split() for t in texts)
    return np.log(1 + (n - df + 0.5) / (df + 0.5))


def test_an_added_article_is_searchable_at_once_and_a_deleted_one_is_gone():
    index = LexicalIndex.build(_word_soup(200, seed=3))
    index.add(["Zebras named Zig and Zag arrived at the zoo."])
    assert index.search("zebras Zig", 3)[0][0] == 200
    index.remove_rows([200])
    assert index.search("zebras Zig", 3) == [] and index.idf(["zebra"])["zebra"] is None
    index.add(["A zebra again."])
    assert [r for r, _ in index.search("zebra", 3)] == [200]
    index.remove_rows([0, 1])  # rows move up, as in a list
    assert [r for r, _ in index.search("zebra", 3)] == [198]
    assert index.search_weighted({"zebra": 1.0}, 3, allowed=np.array([5, 6])) == []


def test_a_copy_is_independent_of_the_live_index():
    live = LexicalIndex.build(_word_soup(100, seed=4))
    before = live.search("word3 river", 10)
    updated = live.copy()
    updated.remove_rows(np.arange(0, 50))
    updated.add(["river river river"])
    assert live.search("word3 river", 10) == before and len(live) == 100
    assert updated.search("river", 1)[0][0] == 50


def test_saved_versions_share_unchanged_segments_by_hard_link(tmp_path):
    texts = _word_soup(300, seed=5)
    index = LexicalIndex.build(texts)
    index.save(tmp_path / "v1")
    loaded = LexicalIndex.load(tmp_path / "v1", 300)
    assert loaded.search("word1 bridge", 20) == index.search("word1 bridge", 20)
    loaded.remove_rows([3])
    loaded.add(["a bridge over the river"])
    loaded.save(tmp_path / "v2", previous=tmp_path / "v1")
    base = index.segments[0].name
    assert os.path.samefile(tmp_path / "v1" / base / "docs.npy", tmp_path / "v2" / base / "docs.npy")
    again = LexicalIndex.load(tmp_path / "v2", 300)
    assert again.search("bridge river word1", 20) == loaded.search("bridge river word1", 20)
    with pytest.raises(ValueError, match="holds 300 chunks, the chunk table 299"):
        LexicalIndex.load(tmp_path / "v2", 299)


def test_store_update_links_the_base_segment_and_keeps_its_checksum(small_corpus, tmp_path, fake_encoder):
    config, idx = QAConfig(), tmp_path / "idx"
    first, _ = update_index(idx, load_corpus(small_corpus)[0], fake_encoder, config)
    (small_corpus / "zebra.txt").write_text("Zebras\n\nThe zoo bought two zebras named Zig and Zag.", encoding="utf-8")
    second, report = update_index(idx, load_corpus(small_corpus)[0], fake_encoder, config)
    assert report.added == ["zebra"] and len(second.lexical.segments) == 2
    base = f"bm25/{first.lexical.segments[0].name}/docs.npy"
    assert (second.path / base).stat().st_nlink == 1  # the old version is gone; its file lives on here
    assert second.manifest["checksums"][base] == first.manifest["checksums"][base]
    hits = second.search_lexical("zebras named Zig", 1)
    assert hits[0][0].doc_id == "zebra"
    assert load_index(idx, fake_encoder, config).search_lexical("zebras named Zig", 1)[0][0].doc_id == "zebra"


# ------------------------------------------------------------------ kill -9 while writing a segment

# In a subprocess: update the index with one more article and stop while the new BM25 segment is being
# written (the base segment already hard-linked into the new version), announcing it in a marker file
# so the test can SIGKILL it exactly there.
KILL_SCRIPT = textwrap.dedent("""
    import pathlib, sys, time
    root, corpus, index_dir, marker = sys.argv[1:5]
    sys.path.insert(0, root)
    from qa import index_lexical
    from qa.pipeline import Pipeline
    from tests.conftest import FakeEncoder

    original = index_lexical._Segment.save
    def save_then_pause(self, folder, terms):
        original(self, folder, terms)
        pathlib.Path(marker).write_text(str(folder))
        time.sleep(120)  # killed here
    index_lexical._Segment.save = save_then_pause
    Pipeline(corpus, index_dir, reader="heuristic", encoder=FakeEncoder()).index(progress=False)
""")


def test_kill_9_while_writing_a_segment_leaves_the_last_good_version(small_corpus, tmp_path):
    config, idx = QAConfig(), tmp_path / "idx"
    before, _ = update_index(idx, load_corpus(small_corpus)[0], FakeEncoder(), config)
    previous = current_version(idx)
    (small_corpus / "zebra.txt").write_text("Zebras\n\nThe zoo bought two zebras named Zig and Zag.", encoding="utf-8")
    script, marker = tmp_path / "update_and_pause.py", tmp_path / "marker"
    script.write_text(KILL_SCRIPT, encoding="utf-8")
    proc = subprocess.Popen([PYTHON, str(script), str(ROOT), str(small_corpus), str(idx), str(marker)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
            assert time.monotonic() < deadline, "the indexing subprocess never reached the kill point"
            time.sleep(0.05)
        written = marker.read_text()
        assert ".tmp-v-" in written  # it died inside the new version, with the base segment linked there
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert current_version(idx) == previous
    survivor = load_index(idx, FakeEncoder(), config)  # checksums verified, base segment intact
    assert set(survivor.documents) == set(before.documents)
    assert survivor.search_lexical("zebras Zig", 3) == [] or survivor.search_lexical("zebras Zig", 3)[0][0].doc_id != "zebra"
    index, report = update_index(idx, load_corpus(small_corpus)[0], FakeEncoder(), config)
    assert report.added == ["zebra"] and not report.rebuilt_because
    assert index.search_lexical("zebras named Zig", 1)[0][0].doc_id == "zebra"
    assert not [p for p in idx.iterdir() if p.name.startswith(".tmp-")]


def test_an_index_from_before_segments_loads_without_re_embedding(small_corpus, tmp_path, fake_encoder):
    """The older format (one bm25s index in bm25/) is rebuilt from the chunk texts at load; the next
    update reuses every vector and writes segments."""
    config, idx = QAConfig(), tmp_path / "idx"
    built, _ = update_index(idx, load_corpus(small_corpus)[0], fake_encoder, config)
    import hashlib
    import json
    import shutil

    bm25 = built.path / "bm25"
    shutil.rmtree(bm25)
    old = bm25s.BM25()
    old.index(bm25s.tokenize([c.text for c in built.chunks], stopwords="en", stemmer=index_lexical._STEMMER,
                             show_progress=False), show_progress=False)
    old.save(str(bm25), show_progress=False)
    manifest = json.loads((built.path / "manifest.json").read_text())
    manifest["checksums"] = {k: v for k, v in manifest["checksums"].items() if not k.startswith("bm25/")}
    manifest["checksums"].update({f"bm25/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest()
                                  for p in bm25.iterdir() if p.is_file()})
    (built.path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    loaded = load_index(idx, fake_encoder, config)
    assert loaded.search_lexical("Who designed the bridge?", 1)[0][0].doc_id == "bridge"
    fake_encoder.encoded.clear()
    (small_corpus / "zebra.txt").write_text("Zebras\n\nThe zoo bought two zebras named Zig and Zag.", encoding="utf-8")
    index, report = update_index(idx, load_corpus(small_corpus)[0], fake_encoder, config)
    assert not report.rebuilt_because and report.chunks_embedded == len(fake_encoder.encoded) == 1
    assert (index.path / "bm25" / "lexical.json").exists()
