"""The hand-written conversation set (qa/eval/conversations.jsonl): schema, verbatim golds, enough
conversations and follow-ups of each kind, in order, without loading any model."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from qa.eval.conversations import CONVERSATIONS, FOLLOW_UPS, load_conversations

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = {p.stem: p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))}
ROWS = [json.loads(line) for line in CONVERSATIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
KEYS = {"id", "conversation", "question", "answers", "doc_id", "category", "qtype", "follow_up", "mentions"}


def test_size_and_kinds():
    turns = load_conversations()
    follow = [t for t in turns if t.follow_up != "first"]
    assert len({t.conversation for t in turns}) >= 25 and len(follow) >= 60
    kinds = Counter(t.follow_up for t in follow)
    assert all(kinds[k] >= 5 for k in FOLLOW_UPS), kinds
    assert sum(1 for t in follow if not t.answerable) >= 5  # unanswerable follow-ups


def test_each_conversation_opens_with_a_first_turn_and_lines_are_in_order():
    by_conv: dict[str, list[dict]] = {}
    for r in ROWS:
        by_conv.setdefault(r["conversation"], []).append(r)
    seen_order = list(dict.fromkeys(r["conversation"] for r in ROWS))
    assert [r["conversation"] for r in ROWS] == [c for c in seen_order for _ in by_conv[c]]  # contiguous
    for conv, rows in by_conv.items():
        assert [r["follow_up"] == "first" for r in rows] == [True] + [False] * (len(rows) - 1), conv
        assert [r["id"] for r in rows] == [f"{conv}-{i}" for i in range(1, len(rows) + 1)]
    assert len({r["id"] for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_schema_and_verbatim_golds(row):
    assert KEYS <= set(row) <= KEYS | {"standalone"}
    assert re.fullmatch(r"conv-\d{2}", row["conversation"]) and row["question"].strip().endswith("?")
    if row["answers"]:
        assert row["doc_id"] in ARTICLES
        missing = [a for a in row["answers"] if a not in ARTICLES[row["doc_id"]]]
        assert not missing, f"not verbatim in {row['doc_id']}: {missing}"
    else:
        assert row["doc_id"] is None and row["category"] == "unanswerable"
    if row["follow_up"] in ("pronoun", "ellipsis", "what-about"):
        assert row["mentions"], "a dependent follow-up names what its interpretation must mention"
    if row["follow_up"] != "first":
        assert row.get("standalone", "").endswith("?")  # the hand-written standalone form
    if row["follow_up"] in ("first", "switch"):
        assert row["mentions"] == []


def test_a_bad_line_is_named(tmp_path):
    bad = tmp_path / "c.jsonl"
    bad.write_text('{"id": "c-1", "conversation": "c", "question": "Q?", "follow_up": "first"}\n'
                   '{"id": "c-2", "conversation": "c", "question": "Q?", "follow_up": "sideways"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"c.jsonl:2: follow_up 'sideways'"):
        load_conversations(bad)
    bad.write_text("not json\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"c.jsonl:1: not a conversation turn"):
        load_conversations(bad)
