"""Regression guard: the seed question set end to end through the real Pipeline (real encoder and
reader, offline) must stay at or above the floors in ``qa/eval/regression_floors.json``.

The floors are a measured level minus a stated margin, recorded with the date and reader; when a
change legitimately moves a figure, re-measure with ``make eval`` and update the file in the same
commit, saying why.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLOORS = ROOT / "qa" / "eval" / "regression_floors.json"


@pytest.fixture(scope="module", params=["faiss", "milvus"])
def seed_eval(request, tmp_path_factory):
    """The seed set through each index backend (FAISS + bm25s, Milvus Lite): the same floors hold."""
    from qa.backends import make_backend
    from qa.evaluate import SEED_QUESTIONS, evaluate

    floors = json.loads(FLOORS.read_text(encoding="utf-8"))
    index_dir = tmp_path_factory.mktemp("seed_index")
    summary, _records, meta = evaluate(SEED_QUESTIONS, corpus=ROOT / "seeds", index_dir=index_dir,
                                       reader=floors["reader"], progress=False,
                                       backend=make_backend(request.param, index_dir))
    return floors, summary["answers"], meta


def test_floors_file_is_complete():
    floors = json.loads(FLOORS.read_text(encoding="utf-8"))
    assert {"measured_utc", "reader", "margin", "measured", "floors"} <= set(floors)
    assert set(floors["floors"]) == {"exact_match", "f1", "abstention_precision", "abstention_recall",
                                     "citation_accuracy"}
    for name, floor in floors["floors"].items():
        assert 0 <= floor <= floors["measured"][name], name


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["exact_match", "f1", "abstention_precision", "abstention_recall",
                                    "citation_accuracy"])
def test_seed_set_stays_above_floor(seed_eval, metric):
    floors, answers, meta = seed_eval
    assert meta["reader"] == floors["reader"]
    value = answers[metric] or 0.0
    floor = floors["floors"][metric]
    assert value >= floor, (f"{metric} on the seed set fell to {value:.1f} (< floor {floor:.1f}; measured "
                            f"{floors['measured'][metric]:.1f} on {floors['measured_utc']} with the "
                            f"{floors['reader']} reader)")
