"""History-aware query expansion for a follow-up's retrieval, after HQE (Lin et al., "Query
Reformulation using Query History for Passage Retrieval in Conversational Search", 2020;
castorini/chatty-goose): the rare words of the earlier questions and answers join the BM25 query,
weighted below the question's own words.

HQE scores a word's rarity by BM25 and keeps two tiers: topic words (rarity >= R_topic) from every
earlier turn, sub-topic words (R_sub <= rarity < R_topic) from the most recent ones. Here rarity is
the word's IDF in the live index divided by the index's largest IDF (a word in one passage = 1), so
the thresholds mean the same on a 44-passage and a 5,000-passage corpus; the weights decay with a
turn's age so the last turn counts most.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from . import phrases as P
from .resolve import Rarity
from .turns import Turn


@dataclass(frozen=True)
class Expansion:
    """Weights for the words of one follow-up's BM25 query."""

    own: dict[str, float]  # the question's own words (the rewrite's), weight 1
    history: dict[str, float]  # earlier turns' rare words, weights < 1

    def weights(self) -> dict[str, float]:
        return {**self.history, **self.own}  # a word of the question keeps its full weight


@dataclass(frozen=True)
class HistoryExpander:
    """``topic`` / ``subtopic``: rarity thresholds (HQE's R_topic, R_sub, on the [0, 1] scale);
    ``topic_weight`` / ``subtopic_weight``: BM25 weights of those words (the question's own are 1);
    ``decay``: factor per turn of age; ``subtopic_turns``: how many recent turns give sub-topic
    words (HQE's M); ``max_terms``: a cap, so a long answer cannot drown the question."""

    topic: float = 0.6
    subtopic: float = 0.4
    topic_weight: float = 0.5
    subtopic_weight: float = 0.25
    decay: float = 0.7
    subtopic_turns: int = 1
    max_terms: int = 12

    def __post_init__(self) -> None:
        if not 0.0 <= self.subtopic <= self.topic <= 1.0:
            raise ValueError(f"need 0 <= subtopic <= topic <= 1, got {self.subtopic}, {self.topic}")
        if not (0.0 < self.topic_weight < 1.0 and 0.0 <= self.subtopic_weight <= self.topic_weight):
            raise ValueError("history words must weigh less than the question's own: 0 < topic_weight < 1, "
                             f"0 <= subtopic_weight <= topic_weight; got {self.topic_weight}, {self.subtopic_weight}")

    def expand(self, question: str, turns: Sequence[Turn], rarity: Rarity) -> Expansion:
        own_words = _content_words(question)
        own = {w: 1.0 for w in own_words}
        seen = {w.lower() for w in own_words}
        per_turn: list[list[str]] = []
        for turn in reversed(list(turns)):  # most recent first
            text = turn.interpreted_as + (" " + turn.top.text if turn.top else "")
            per_turn.append([w for w in _content_words(text) if w.lower() not in seen])
        scores = rarity(sorted({w for words in per_turn for w in words}))
        history: dict[str, float] = {}
        for age, words in enumerate(per_turn):
            for w in words:
                r = scores.get(w)
                if r is None:
                    continue
                if r >= self.topic:
                    weight = self.topic_weight * self.decay ** age
                elif r >= self.subtopic and age < self.subtopic_turns:
                    weight = self.subtopic_weight * self.decay ** age
                else:
                    continue
                key = w.lower()
                history[key] = max(history.get(key, 0.0), weight)
        kept = dict(sorted(history.items(), key=lambda kv: (-kv[1], kv[0]))[: self.max_terms])
        return Expansion(own, kept)


def _content_words(text: str) -> list[str]:
    out, seen = [], set()
    for t in P.tokens(text):
        if P.is_function(t) or t.low in seen:
            continue
        seen.add(t.low)
        out.append(t.text)
    return out
