"""qa.evaluate with a scripted fake pipeline: ranks, summaries and the report, no models."""
from __future__ import annotations

import json

import pytest

from qa.evaluate import (
    EvalQuestion,
    gold_ranks,
    load_questions,
    run_questions,
    summarize_answers,
    summarize_latency,
    summarize_retrieval,
    write_report,
)
from qa.types import Answer, Chunk, Citation, Hit


def _chunk(doc_id: str, i: int, text: str) -> Chunk:
    return Chunk(f"{doc_id}#{i}", doc_id, 0, len(text), text, ((0, len(text)),))


def _answer(text: str, doc_id: str, score: float) -> Answer:
    c = Citation(doc_id, doc_id, f"{doc_id}.txt", 0, len(text), text, text, 0, len(text), f"{doc_id}#0")
    return Answer(text=text, score=score, citations=[c], reader="fake")


class FakeReader:
    name = "fake"
    min_score = 0.5


class FakePipeline:
    """Answers from a script; retrieval lists are fixed per mode."""

    min_score = None
    reader = FakeReader()

    def __init__(self, script: dict[str, tuple[str, str, float]], hits: dict[str, list[Hit]]):
        self.script, self.hits, self.last_timings = script, hits, {}

    def ask(self, question, top_k=3, min_score=None, filter=None):
        threshold = self.reader.min_score if min_score is None else min_score
        self.last_timings = {"encode": 0.01, "search": 0.001, "read": 0.1, "total": 0.111}
        text, doc, score = self.script[question]
        return [_answer(text, doc, score)] if score >= threshold else []

    def retrieve(self, question, mode="hybrid", depth=20, top_k=None, filter=None):
        return self.hits[mode][:depth]


def test_gold_ranks_distinguishes_answer_chunk_from_any_chunk_of_the_doc():
    hits = [Hit(_chunk("b", 0, "Paris is big."), 1.0), Hit(_chunk("a", 0, "Intro text."), 0.9),
            Hit(_chunk("a", 1, "It cost $371 million."), 0.8)]
    assert gold_ranks(hits, "a", ["$371 million"]) == {"answer": 2, "doc": 1}
    assert gold_ranks(hits, "c", ["x"]) == {"answer": None, "doc": None}
    # A gold span found in the wrong article does not count.
    assert gold_ranks(hits, "a", ["Paris"]) == {"answer": None, "doc": 1}


@pytest.fixture
def run():
    questions = [
        EvalQuestion("q1", "cost?", ("$371 million", "371 million"), "a", "number", "how much"),
        EvalQuestion("q2", "who?", ("Dan MacIsaac",), "a", "factoid", "who"),
        EvalQuestion("q3", "unknown?", (), None, "unanswerable", "what"),
        EvalQuestion("q4", "weak?", ("Ontario",), "a", "paraphrase", "what"),
    ]
    script = {
        "cost?": ("371 million", "a", 0.9),  # EM 1
        "who?": ("General Dan MacIsaac", "b", 0.8),  # F1 0.8, cited the wrong article
        "unknown?": ("Kuwait", "b", 0.3),  # below threshold: abstains, correctly
        "weak?": ("Ontario", "a", 0.4),  # below threshold: abstains on an answerable question
    }
    gold = Hit(_chunk("a", 1, "It cost $371 million, said Dan MacIsaac of Ontario."), 1.0)
    other = Hit(_chunk("b", 0, "Nothing here."), 0.5)
    hits = {"bm25": [gold, other], "dense": [other, gold], "hybrid": [other]}
    records, seconds = run_questions(FakePipeline(script, hits), questions, raw_score=True, progress=False)
    return records, seconds


def test_summarize_answers(run):
    records, _ = run
    s = summarize_answers(records)
    assert s["count"] == 4 and s["answerable"] == 3 and s["answered"] == 2
    # EM: q1 1, q2 0, q3 1 (abstained), q4 0 -> 50 %; F1: 1 + 0.8 + 1 + 0 -> 70 %
    assert s["exact_match"] == pytest.approx(50.0)
    assert s["f1"] == pytest.approx(70.0)
    assert s["answerable_f1"] == pytest.approx(100 * 1.8 / 3)
    # Abstained on q3 (right) and q4 (wrong): precision 1/2; the one unanswerable caught: recall 1.
    assert s["abstention_precision"] == pytest.approx(50.0)
    assert s["abstention_recall"] == pytest.approx(100.0)
    # Answered answerable: q1 (cited a, right), q2 (cited b, wrong).
    assert s["citation_accuracy"] == pytest.approx(50.0)
    assert s["f1_by_qtype"]["who"] == {"f1": pytest.approx(80.0), "count": 1}
    assert s["f1_by_category"]["unanswerable"]["f1"] == pytest.approx(100.0)


def test_raw_scores_recorded_without_abstention(run):
    records, _ = run
    assert [r["raw_score"] for r in records] == [0.9, 0.8, 0.3, 0.4]


def test_summarize_retrieval(run):
    records, _ = run
    s = summarize_retrieval(records)
    assert s["count"] == 3  # unanswerable questions are not ranked
    assert s["bm25"]["answer"]["recall"][1] == 1.0
    assert s["dense"]["answer"]["mrr"] == pytest.approx(0.5)
    assert s["hybrid"]["doc"]["recall"][20] == 0.0


def test_summarize_latency(run):
    records, _ = run
    lat = summarize_latency(records, wall_seconds=2.0)
    assert lat["total"]["p50_ms"] == pytest.approx(111.0)
    assert lat["questions_per_second"] == pytest.approx(2.0)


def test_write_report(run, tmp_path):
    records, _ = run
    summary = {"answers": summarize_answers(records), "retrieval": summarize_retrieval(records),
               "latency": summarize_latency(records)}
    meta = {"questions": "q.jsonl", "corpus": "seeds", "index_dir": "idx", "reader": "fake", "retriever": "hybrid",
            "threshold": 0.5, "documents": 2, "chunks": 2, "command": "qa evaluate q.jsonl", "seconds": 1.0,
            "machine": {"date_utc": "2026-01-01 00:00 UTC", "cores": 2, "cpu_model": "cpu", "torch_threads": 2,
                        "torch": "x", "python": "3"}}
    written = write_report(tmp_path / "eval.md", summary=summary, records=records, meta=meta)
    assert all(p.exists() and p.stat().st_size > 0 for p in written)
    text = (tmp_path / "eval.md").read_text()
    assert "qa evaluate q.jsonl" in text and "eval_recall.png" in text
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*"))


def test_load_questions_names_the_bad_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"id": "a", "question": "x?", "answers": [], "doc_id": None}) + "\n{oops\n")
    with pytest.raises(ValueError, match=r"q.jsonl:2"):
        load_questions(path)


def test_cli_registers_evaluate_with_help(capsys):
    from qa.cli import build_parser

    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["evaluate", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--report" in out and "--json" in out and "--reader" in out
