"""A conversation is immutable data: each turn makes a new one, bounded to the last few turns."""
from __future__ import annotations

import pytest

from qa.conversation import Conversation, Turn


def test_then_returns_a_new_conversation_and_leaves_the_old_one():
    a = Conversation()
    b = a.then(Turn("Q1?", "Q1?"))
    assert len(a) == 0 and len(b) == 1 and b.last.question == "Q1?"
    with pytest.raises(AttributeError):
        b.turns = ()  # frozen


def test_only_the_last_max_turns_are_kept():
    c = Conversation(max_turns=2)
    for i in range(5):
        c = c.then(Turn(f"Q{i}?", f"Q{i}?"))
    assert [t.question for t in c.turns] == ["Q3?", "Q4?"]
    with pytest.raises(ValueError, match="max_turns"):
        Conversation(max_turns=0)


def test_a_turn_without_answers_has_no_top():
    assert Turn("Q?", "Q?").top is None
