"""qa.metrics: SQuAD normalisation/EM/F1 (hand cases + parity with torchmetrics on real SQuAD
pairs), retrieval recall@k/MRR, abstention and citation accuracy on hand-worked examples."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from qa.metrics import (
    abstention_scores,
    citation_accuracy,
    exact_match,
    first_relevant_rank,
    max_over_golds,
    mean_reciprocal_rank,
    normalize_answer,
    recall_at_k,
    squad_scores,
    token_f1,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SQUAD_DEV = DATA / "squad_v1.1" / "dev-v1.1.json.gz"


# --- normalisation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, normalised",
    [
        ("The Eiffel Tower", "eiffel tower"),
        ("an apple, a pear and THE plum.", "apple pear and plum"),
        ("  lots \t of\n\nspace  ", "lots of space"),
        ("co-operation", "cooperation"),  # punctuation is deleted, not replaced by a space
        ("$371 million", "371 million"),
        ("theatre anthem another", "theatre anthem another"),  # articles only as whole words
        ("A", ""),
        ("", ""),
        ("Dec. 27", "dec 27"),
        ("OTTAWA – Canada", "ottawa – canada"),  # the en dash is not ASCII punctuation: kept
    ],
)
def test_normalize_answer(raw, normalised):
    assert normalize_answer(raw) == normalised


# --- exact match and F1 ----------------------------------------------------------------------


def test_exact_match_ignores_case_articles_punctuation_whitespace():
    assert exact_match("the Denver  Broncos!", "Denver Broncos") == 1.0
    assert exact_match("Denver", "Denver Broncos") == 0.0


def test_f1_partial_overlap():
    # pred {denver, broncos}, gold {broncos}: P = 1/2, R = 1 -> F1 = 2/3
    assert token_f1("Denver Broncos", "the Broncos") == pytest.approx(2 / 3)


def test_f1_counts_repeated_tokens_once_per_gold_occurrence():
    # pred "cat cat", gold "cat": overlap 1, P = 1/2, R = 1 -> 2/3
    assert token_f1("the cat cat", "a cat") == pytest.approx(2 / 3)


def test_f1_no_overlap_is_zero():
    assert token_f1("Paris", "London") == 0.0


def test_max_over_golds_takes_best_gold():
    golds = ["850 troops", "up to 850 troops", "850"]
    assert max_over_golds(exact_match, "850", golds) == 1.0
    # "about 850": best is gold "850" (P=1/2, R=1) -> 2/3, vs "850 troops" (1/2, 1/2) -> 1/2
    assert max_over_golds(token_f1, "about 850", golds) == pytest.approx(2 / 3)


def test_empty_and_unanswerable_rules():
    # No golds = unanswerable: only an empty prediction (abstaining) is right.
    assert max_over_golds(exact_match, "", []) == 1.0
    assert max_over_golds(token_f1, "   ", []) == 1.0
    assert max_over_golds(exact_match, "Paris", []) == 0.0
    assert max_over_golds(token_f1, "Paris", []) == 0.0
    # Abstaining on an answerable question scores zero.
    assert max_over_golds(token_f1, "", ["Paris"]) == 0.0
    # Both sides normalise to nothing (only articles/punctuation): v2.0 rule says match.
    assert token_f1("the", "a.") == 1.0
    assert exact_match("the", "a.") == 1.0


def test_squad_scores_corpus_average_in_percent():
    scores = squad_scores(["Denver Broncos", "", "Paris"], [["Denver Broncos"], [], ["London"]])
    assert scores["count"] == 3
    assert scores["exact_match"] == pytest.approx(100 * 2 / 3)
    assert scores["f1"] == pytest.approx(100 * 2 / 3)
    assert squad_scores([], []) == {"exact_match": 0.0, "f1": 0.0, "count": 0}


# --- parity with torchmetrics' independent SQuAD implementation ---------------------------


def _real_pairs(limit: int = 400) -> list[tuple[str, list[str]]]:
    """(prediction, golds) pairs from SQuAD v1.1 dev that exercise the rules on real text:
    one annotator's answer scored against the other annotators', and context windows of a few
    widths around the first answer (partial overlaps, cut words, extra punctuation)."""
    with gzip.open(SQUAD_DEV, "rt", encoding="utf-8") as f:
        data = json.load(f)
    pairs: list[tuple[str, list[str]]] = []
    questions = [
        (para["context"], qa)
        for article in data["data"]
        for para in article["paragraphs"]
        for qa in para["qas"]
    ]
    # Every 25th question spreads the sample over all 48 articles.
    for context, qa in questions[::25]:
        texts = [a["text"] for a in qa["answers"]]
        if len(texts) >= 2:
            pairs.append((texts[0], texts[1:]))
        first = qa["answers"][0]
        start, end = first["answer_start"], first["answer_start"] + len(first["text"])
        for pad in (3, 12, 40):
            pairs.append((context[max(0, start - pad):end + pad], texts))
        pairs.append((context[start:start + max(1, len(first["text"]) // 2)], texts))
    return pairs[:limit]


@pytest.fixture
def float64_torch():
    """torchmetrics builds its per-pair tensors in the default dtype and keeps float32 sums;
    float64 lets the comparison hold to 1e-6 instead of float32 round-off."""
    torch = pytest.importorskip("torch")
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(old)


@pytest.mark.skipif(not SQUAD_DEV.exists(), reason=f"SQuAD v1.1 dev not found at {SQUAD_DEV} (../shared/data)")
def test_parity_with_torchmetrics_squad(float64_torch):
    torch = float64_torch
    SQuAD = pytest.importorskip("torchmetrics.text").SQuAD
    pairs = _real_pairs()
    assert len(pairs) >= 300
    metric = SQuAD()
    metric.set_dtype(torch.float64)
    for i, (pred, golds) in enumerate(pairs):
        theirs = metric(
            [{"prediction_text": pred, "id": str(i)}],
            [{"answers": {"text": golds, "answer_start": [0] * len(golds)}, "id": str(i)}],
        )
        assert 100 * max_over_golds(exact_match, pred, golds) == pytest.approx(
            float(theirs["exact_match"]), abs=1e-6), (pred, golds)
        assert 100 * max_over_golds(token_f1, pred, golds) == pytest.approx(
            float(theirs["f1"]), abs=1e-6), (pred, golds)
    ours = squad_scores([p for p, _ in pairs], [g for _, g in pairs])
    theirs = metric.compute()
    assert ours["exact_match"] == pytest.approx(float(theirs["exact_match"]), abs=1e-6)
    assert ours["f1"] == pytest.approx(float(theirs["f1"]), abs=1e-6)
    # The sample must exercise the interesting cases, not just perfect matches.
    assert 5 < ours["exact_match"] < 95 and ours["f1"] > ours["exact_match"]


# --- retrieval -------------------------------------------------------------------------------


def test_first_relevant_rank():
    assert first_relevant_rank([False, False, True, True]) == 2
    assert first_relevant_rank([True]) == 0
    assert first_relevant_rank([False, False]) is None
    assert first_relevant_rank([]) is None


def test_recall_at_k_and_mrr_hand_worked():
    ranks = [0, 2, None, 5]
    assert recall_at_k(ranks, 1) == 0.25
    assert recall_at_k(ranks, 3) == 0.5  # rank 2 is the third result: inside top 3
    assert recall_at_k(ranks, 5) == 0.5  # rank 5 is the sixth: outside top 5
    assert recall_at_k(ranks, 6) == 0.75
    # MRR = (1/1 + 1/3 + 0 + 1/6) / 4 = 0.375; a miss counts as 0 but stays in the denominator.
    assert mean_reciprocal_rank(ranks) == pytest.approx(0.375)
    assert recall_at_k([], 5) == 0.0 and mean_reciprocal_rank([]) == 0.0


# --- abstention and citations ---------------------------------------------------------------


def test_abstention_scores_hand_worked():
    answered = [True, False, False, True, False]
    answerable = [True, True, False, False, False]
    # Abstained on q2, q3, q5; of those q3 and q5 are unanswerable: precision 2/3.
    # Unanswerable are q3, q4, q5; abstained on two of them: recall 2/3.
    s = abstention_scores(answered, answerable)
    assert s["precision"] == pytest.approx(2 / 3)
    assert s["recall"] == pytest.approx(2 / 3)
    assert s["abstained"] == 3 and s["unanswerable"] == 3


def test_abstention_scores_degenerate():
    # Never abstaining: precision undefined -> 0, recall 0.
    s = abstention_scores([True, True], [True, False])
    assert s["precision"] == 0.0 and s["recall"] == 0.0


def test_citation_accuracy_counts_only_answered_answerable():
    cited = ["a", "b", None, "a", "c"]
    gold = ["a", "a", "b", None, "c"]
    # Pairs kept: (a,a) (b,a) (c,c); q3 abstained, q4 unanswerable.
    assert citation_accuracy(cited, gold) == pytest.approx(2 / 3)
    assert citation_accuracy([None], ["a"]) == 0.0
