"""History expansion (HQE): earlier turns' rare words join the query below the question's own."""
from __future__ import annotations

import pytest

from qa.conversation import HistoryExpander, Turn
from qa.types import Answer

RARITY = {"Carignan": 0.95, "Jennie": 0.9, "NATO": 0.8, "mission": 0.45, "training": 0.3, "Iraq": 0.2,
          "commands": 0.7, "nationality": None}


def rarity(words):
    return {w: RARITY.get(w) for w in words}


def test_rare_history_words_weigh_less_than_the_question_and_common_ones_are_left_out():
    turns = [Turn("Who commands the NATO training mission in Iraq?", "Who commands the NATO training mission in Iraq?",
                  (Answer("Jennie Carignan", 0.9, []),))]
    e = HistoryExpander().expand("What nationality is Jennie Carignan?", turns, rarity)
    assert e.own == {"nationality": 1.0, "Jennie": 1.0, "Carignan": 1.0}
    assert e.history == {"nato": 0.5, "commands": 0.5, "mission": 0.25}  # topic 0.5, sub-topic 0.25
    assert "training" not in e.history and "iraq" not in e.history  # too common
    assert e.weights()["Carignan"] == 1.0  # a word of the question keeps its own weight


def test_older_turns_count_less_and_subtopic_words_come_only_from_the_last():
    old = Turn("What is the NATO mission?", "What is the NATO mission?")
    new = Turn("Who commands it?", "Who commands the NATO mission?")
    e = HistoryExpander().expand("What nationality?", [old, Turn("Anything else?", "Anything else?")], rarity)
    assert e.history["nato"] == pytest.approx(0.5 * 0.7)
    assert "mission" not in e.history  # sub-topic word of an older turn
    e = HistoryExpander(max_terms=1).expand("What nationality?", [old, new], rarity)
    assert len(e.history) == 1


def test_history_words_must_weigh_less_than_the_question():
    with pytest.raises(ValueError, match="weigh less"):
        HistoryExpander(topic_weight=1.0)
    with pytest.raises(ValueError, match="subtopic"):
        HistoryExpander(topic=0.3, subtopic=0.5)
