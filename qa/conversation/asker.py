"""``ConversationalAsker``: a Pipeline that answers follow-up questions.

>>> asker = ConversationalAsker(pipeline)                                     # doctest: +SKIP
>>> first = asker.ask("Who commands the NATO training mission in Iraq?")      # doctest: +SKIP
>>> reply = asker.ask("What nationality is she?", first.conversation)         # doctest: +SKIP
>>> reply.resolution.interpreted_as, reply.answers[0].text                     # doctest: +SKIP
('What nationality is Major-General Jennie Carignan?', 'Canadian')

A question that stands alone is asked exactly as ``Pipeline.ask`` would (the history does not
touch it); a follow-up is retrieved with the history (``HistorySearch``) and read as its standalone
rewrite, or as asked when the resolver is not confident (``Reply.resolution.note`` says why).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..filters import Filter
from ..pipeline import Pipeline, clean_question
from ..types import Answer
from .expand import HistoryExpander
from .resolve import FollowUpResolver, Resolution
from .search import HistorySearch
from .turns import Conversation, Turn


@dataclass(frozen=True)
class Reply:
    answers: list[Answer]  # best first; [] = no answer
    resolution: Resolution  # how the question was read
    conversation: Conversation  # the conversation with this turn added: pass it to the next ask
    timings: dict[str, float]  # the pipeline's stages plus "resolve" (seconds)

    @property
    def interpreted_as(self) -> str:
        return self.resolution.interpreted_as


class ConversationalAsker:
    """Wraps one Pipeline; holds no conversation itself (each caller passes its own)."""

    def __init__(self, pipeline: Pipeline, resolver: FollowUpResolver | None = None,
                 expander: HistoryExpander | None = None, neighbours: int = 1) -> None:
        if neighbours < 0:
            raise ValueError(f"neighbours must be >= 0, got {neighbours}")
        self.pipeline = pipeline
        self.resolver = resolver or FollowUpResolver(rarity=self.rarity)
        self.expander = expander or HistoryExpander()
        self.neighbours = neighbours

    def rarity(self, words: Sequence[str]) -> Mapping[str, float | None]:
        """Each word's BM25 IDF in the live index over the index's largest (one passage = 1)."""
        return self.pipeline.corpus_index.term_rarity(words)

    def resolve(self, question: str, conversation: Conversation | None = None) -> Resolution:
        return self.resolver.resolve(clean_question(question), (conversation or Conversation()).turns)

    def ask(self, question: str, conversation: Conversation | None = None, top_k: int | None = None,
            min_score: float | None = None, mode: str | None = None, filter: Filter | None = None,
            answer: Callable[[str, Filter | None], list[Answer]] | None = None) -> Reply:
        """Answer ``question`` in ``conversation`` (None = a new one). Raises ``QuestionError`` like
        ``Pipeline.ask``; the conversation passed in is never changed. ``answer(question, filter)``
        answers a question that needs no history in place of ``Pipeline.ask`` (the chat server's
        batcher, qa/batching.py); follow-ups read with their history always go to the pipeline."""
        question = clean_question(question)
        conversation = conversation or Conversation()
        t0 = time.perf_counter()
        resolution = self.resolver.resolve(question, conversation.turns)
        search = self._search(resolution, conversation) if resolution.depends else None
        resolve_seconds = time.perf_counter() - t0
        if search is None and answer is not None:
            answers = list(answer(resolution.interpreted_as, filter))
        else:
            answers = self.pipeline.ask(resolution.interpreted_as, top_k=top_k, min_score=min_score, mode=mode,
                                        filter=filter, search=search)
        timings = {**self.pipeline.last_timings, "resolve": resolve_seconds}
        turn = Turn(question, resolution.interpreted_as, tuple(answers), resolution.referent, resolution.cue)
        return Reply(answers, resolution, conversation.then(turn), timings)

    def _search(self, resolution: Resolution, conversation: Conversation) -> HistorySearch:
        expansion = self.expander.expand(resolution.interpreted_as, conversation.turns, self.rarity)
        evidence = None
        for turn in reversed(conversation.turns):  # the most recent answer given
            if turn.top is not None and turn.top.citations:
                c = turn.top.citations[0]
                evidence = (c.doc_id, c.chunk_id)
                break
        return HistorySearch(expansion.weights(), evidence, self.neighbours)
