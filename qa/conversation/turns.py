"""A conversation is data: the turns so far, each with what was asked, how it was read and what
the product answered. The chat keeps one per browser session, ``qa predict`` one per
``"conversation"`` id, ``qa chat`` one per terminal session; none of them hides it in a function.

>>> c = Conversation().then(Turn("Who commands the NATO mission?", "Who commands the NATO mission?"))
>>> len(c.turns), c.last.question
(1, 'Who commands the NATO mission?')
"""
from __future__ import annotations

from dataclasses import dataclass

from ..types import Answer

MAX_TURNS = 5  # turns kept: follow-ups refer back one or two turns; older ones only add drift


@dataclass(frozen=True)
class Turn:
    """One question of a conversation and the product's reply to it."""

    question: str  # as the user typed it (cleaned)
    interpreted_as: str  # the standalone question that was answered (== question when it stood alone)
    answers: tuple[Answer, ...] = ()  # best first; () when the product withheld an answer
    referent: str | None = None  # the phrase a pronoun or "what about" of this turn was resolved to
    cue: str = ""  # how it was read (Resolution.cue): "standalone", "pronoun", "ellipsis", ...

    @property
    def top(self) -> Answer | None:
        return self.answers[0] if self.answers else None


@dataclass(frozen=True)
class Conversation:
    """The last ``max_turns`` turns, oldest first. Immutable: ``then`` returns the next state."""

    turns: tuple[Turn, ...] = ()
    max_turns: int = MAX_TURNS

    def __post_init__(self) -> None:
        if self.max_turns < 1:
            raise ValueError(f"max_turns must be at least 1, got {self.max_turns}")
        if len(self.turns) > self.max_turns:
            object.__setattr__(self, "turns", tuple(self.turns[-self.max_turns:]))

    def then(self, turn: Turn) -> "Conversation":
        """This conversation with ``turn`` appended (the oldest turn dropped past ``max_turns``)."""
        return Conversation((*self.turns, turn), self.max_turns)

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def __len__(self) -> int:
        return len(self.turns)
