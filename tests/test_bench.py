"""scripts/bench.py helpers that need no model: SQuAD paragraphs become corpus files intact."""
from __future__ import annotations

import pytest

from qa.load import load_corpus
from qa.training.data import SquadRecord

from .scripts_helpers import load_script


@pytest.fixture(scope="module")
def bench():
    return load_script("bench")


def _rec(qid, title, context, answer):
    return SquadRecord(qid, "test", title, context, f"question {qid}?", ((answer, context.index(answer)),))


RECORDS = [
    _rec("1", "Super_Bowl_50", "Denver won. It was in 2016.", "Denver"),
    _rec("2", "Super_Bowl_50", "Denver won. It was in 2016.", "2016"),
    _rec("3", "Super_Bowl_50", "  The halftime show: Coldplay.\n", "Coldplay"),
    _rec("4", "AC/DC (band)", "Formed in Sydney.", "Sydney"),
]


def test_doc_ids_are_per_paragraph_stable_and_file_safe(bench):
    ids = bench.doc_ids_for(RECORDS)
    assert list(ids.values()) == ["Super_Bowl_50__0000", "Super_Bowl_50__0001", "AC_DC_(band)__0000"]


def test_corpus_files_load_back_as_the_exact_paragraphs(bench, tmp_path):
    ids = bench.doc_ids_for(RECORDS)
    assert bench.write_corpus(RECORDS, ids, tmp_path, progress=False) == 3
    docs, skipped = load_corpus(tmp_path)
    assert not skipped
    assert {d.doc_id: d.text for d in docs} == {doc_id: context for (_, context), doc_id in ids.items()}
    questions = bench.as_questions(RECORDS, ids)
    assert [q.doc_id for q in questions] == ["Super_Bowl_50__0000"] * 2 + ["Super_Bowl_50__0001", "AC_DC_(band)__0000"]
    assert questions[1].answers == ("2016",)


def test_report_shows_both_relevance_tables_with_the_measured_recall(bench):
    from qa.evaluate import summarize_retrieval

    # question 1: gold paragraph first everywhere; question 2: answer chunk only at rank 6 by BM25
    ranks = [{m: {"answer": 0, "doc": 0} for m in ("bm25", "dense", "hybrid")},
             {"bm25": {"answer": 6, "doc": 1}, "dense": {"answer": None, "doc": None}, "hybrid": {"answer": 2, "doc": 0}}]
    rt = summarize_retrieval([{"ranks": r} for r in ranks])
    rt["seconds"] = 1.0
    res = {"machine": {"date_utc": "d", "cores": 2, "cpu_model": "c", "torch": "t", "torch_threads": 2, "python": "p"},
           "command": "bench", "reader_note": "n", "json_name": "bench.json", "retrieval": rt, "recall_png": "r.png"}
    md = bench.render(res)
    doc_part, answer_part = md.split("Relevant = a chunk of the question's own paragraph:")[1].split("Stricter:")
    bm25_doc = next(line for line in doc_part.splitlines() if line.startswith("| bm25"))
    bm25_answer = next(line for line in answer_part.splitlines() if line.startswith("| bm25"))
    # BM25 by paragraph: R@1 1 of 2, R@10 2 of 2; by answer chunk: R@5 1 of 2 (rank 6), R@10 2 of 2
    assert bm25_doc.split("|")[2].strip() == "50.0" and bm25_doc.split("|")[4].strip() == "100.0"
    assert bm25_answer.split("|")[3].strip() == "50.0" and bm25_answer.split("|")[4].strip() == "100.0"
