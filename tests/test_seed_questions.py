"""The hand-written seed question set: schema, verbatim golds, category minimums, coverage.

The set is the product's own regression benchmark (``qa evaluate``), so a typo in a gold span
would silently cap EM below 100; these checks keep it honest without loading any model.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "qa" / "eval" / "seed_questions.jsonl"
SEEDS = ROOT / "seeds"

CATEGORIES = {"factoid", "number", "paraphrase", "unanswerable"}
QTYPES = {"who", "what", "when", "where", "which", "why", "how", "how many", "how much"}
MINIMUMS = {"paraphrase": 12, "number": 12, "unanswerable": 12}
KEYS = {"id", "question", "answers", "doc_id", "category", "qtype"}


def _load() -> list[dict]:
    with open(QUESTIONS, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _articles() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}


def _paragraphs(text: str) -> list[str]:
    """Blocks separated by newlines (blank or not), kept when >= 80 characters: headlines,
    bylines and "Story continues below advertisement" fall under the bar."""
    return [b.strip() for b in re.split(r"\n+", text) if len(b.strip()) >= 80]


QS = _load()
ARTICLES = _articles()


def test_two_seed_articles_present():
    assert len(ARTICLES) == 2, sorted(ARTICLES)


def test_at_least_70_questions_with_unique_ids():
    assert len(QS) >= 70
    ids = [q["id"] for q in QS]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    assert all(re.fullmatch(r"seed-\d{3}", i) for i in ids)


@pytest.mark.parametrize("q", QS, ids=[q["id"] for q in QS])
def test_schema(q):
    assert set(q) == KEYS
    assert isinstance(q["question"], str) and q["question"].strip().endswith("?")
    assert isinstance(q["answers"], list) and all(isinstance(a, str) and a.strip() for a in q["answers"])
    assert q["category"] in CATEGORIES
    assert q["qtype"] in QTYPES
    if q["category"] == "unanswerable":
        assert q["answers"] == [] and q["doc_id"] is None
    else:
        assert q["answers"], "an answerable question needs at least one gold span"
        assert q["doc_id"] in ARTICLES
        # Gold answers are short spans, not sentences.
        assert all(len(a.split()) <= 10 for a in q["answers"]), q["answers"]


@pytest.mark.parametrize("q", [q for q in QS if q["answers"]], ids=lambda q: q["id"])
def test_gold_answers_are_verbatim_in_their_article(q):
    text = ARTICLES[q["doc_id"]]
    missing = [a for a in q["answers"] if a not in text]
    assert not missing, f"{q['id']}: not verbatim in {q['doc_id']}: {missing}"


def test_category_minimums():
    counts = Counter(q["category"] for q in QS)
    for category, minimum in MINIMUMS.items():
        assert counts[category] >= minimum, (category, counts[category])


def test_questions_are_not_duplicated():
    normalised = Counter(" ".join(q["question"].lower().split()) for q in QS)
    assert not [t for t, n in normalised.items() if n > 1]


@pytest.mark.parametrize("doc_id", sorted(ARTICLES))
def test_every_paragraph_holds_a_gold_answer(doc_id):
    golds = [a for q in QS if q["doc_id"] == doc_id for a in q["answers"]]
    uncovered = [p[:70] for p in _paragraphs(ARTICLES[doc_id]) if not any(a in p for a in golds)]
    assert not uncovered, f"paragraphs of {doc_id} without a question: {uncovered}"


def test_paragraph_splitter_sees_both_layouts():
    # Article 000 separates paragraphs by blank lines, 001 by single newlines.
    counts = {d: len(_paragraphs(t)) for d, t in ARTICLES.items()}
    assert all(n >= 15 for n in counts.values()), counts
