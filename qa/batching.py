"""Micro-batching of concurrent questions: what lets the chat server answer many people at once.

A server thread per request would run the models one question at a time (they hold a lock: two
cores run one forward pass best). Instead each request hands its question to a ``QuestionBatcher``
and waits; one worker thread takes the first waiting question, gathers whatever else arrives within
``gather_seconds`` (a few milliseconds, up to ``max_batch`` questions) and answers them together
(``Pipeline.ask_many``: one encoder batch, the reader's windows of all of them in shared forward
passes). Twenty people asking at once are then answered in a few batches instead of twenty turns.

The queue is bounded: past ``max_waiting`` questions waiting, ``submit`` raises ``Busy`` at once,
so a user gets a clear "busy, try again" instead of a silent wait. Questions that ask with
different options (``top_k``, filters...) are never mixed in one batch. If a batch fails, its
questions are answered one by one, so one bad question does not fail the others.

>>> batcher = QuestionBatcher(lambda questions: [q.upper() for q in questions])
>>> batcher.ask("who?")
'WHO?'
>>> batcher.close()
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

MAX_BATCH = 16  # questions answered together at most (their windows share forward passes)
GATHER_SECONDS = 0.005  # how long the worker waits for more questions after the first
MAX_WAITING = 64  # questions queued at most; beyond this a user is told to retry


class Busy(RuntimeError):
    """Too many questions are waiting: try again in a moment."""


@dataclass
class _Request:
    question: object
    options: tuple  # sorted (name, value) pairs: the batch key
    future: Future = field(default_factory=Future)


@dataclass
class BatcherStats:
    """What the worker did so far (for logs and tests)."""

    batches: int = 0
    questions: int = 0
    refused: int = 0
    largest_batch: int = 0


class QuestionBatcher:
    """Answers questions handed in from many threads in batches (module docstring).

    ``answer_batch(questions, **options)`` answers a list of questions asked with the same options
    and returns one result per question, in order; it runs on the worker thread only.
    """

    def __init__(self, answer_batch: Callable[..., Sequence], max_batch: int = MAX_BATCH,
                 gather_seconds: float = GATHER_SECONDS, max_waiting: int = MAX_WAITING) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, not {max_batch}")
        if max_waiting < 1:
            raise ValueError(f"max_waiting must be at least 1, not {max_waiting}")
        if gather_seconds < 0:
            raise ValueError(f"gather_seconds must be >= 0, not {gather_seconds}")
        self.answer_batch = answer_batch
        self.max_batch = int(max_batch)
        self.gather_seconds = float(gather_seconds)
        self.max_waiting = int(max_waiting)
        self.stats = BatcherStats()
        self._waiting: deque[_Request] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._worker = threading.Thread(target=self._run, name="question-batcher", daemon=True)
        self._worker.start()

    # ------------------------------------------------------------------ callers' side

    def submit(self, question: object, **options: Hashable) -> Future:
        """Queue a question; the Future holds its result (or the exception answering raised).
        Raises ``Busy`` at once when ``max_waiting`` questions are already waiting."""
        request = _Request(question, tuple(sorted(options.items())))
        with self._cond:
            if self._closed:
                raise RuntimeError("the question batcher is closed")
            if len(self._waiting) >= self.max_waiting:
                self.stats.refused += 1
                raise Busy(f"{len(self._waiting)} questions are waiting to be answered")
            self._waiting.append(request)
            self._cond.notify()
        return request.future

    def ask(self, question: object, timeout: float | None = None, **options: Hashable):
        """Submit and wait for the result (raises what answering raised, or ``Busy``)."""
        return self.submit(question, **options).result(timeout=timeout)

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker after the batch in hand; questions still waiting fail with ``Busy``."""
        with self._cond:
            self._closed = True
            left = list(self._waiting)
            self._waiting.clear()
            self._cond.notify_all()
        for request in left:
            request.future.set_exception(Busy("the server is shutting down"))
        self._worker.join(timeout=timeout)

    # ------------------------------------------------------------------ the worker

    def _next_batch(self) -> list[_Request] | None:
        """The first waiting question and those with its options that arrive within the gather
        window (or are waiting already), up to ``max_batch``; None once closed."""
        with self._cond:
            while not self._waiting and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            deadline = time.monotonic() + self.gather_seconds
            while len(self._waiting) < self.max_batch and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            first = self._waiting[0]
            batch = [r for r in self._waiting if r.options == first.options][: self.max_batch]
            for r in batch:
                self._waiting.remove(r)
            return batch

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            self.stats.batches += 1
            self.stats.questions += len(batch)
            self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
            self._answer(batch)

    def _answer(self, batch: list[_Request]) -> None:
        options = dict(batch[0].options)
        try:
            results = list(self.answer_batch([r.question for r in batch], **options))
            if len(results) != len(batch):
                raise RuntimeError(f"answer_batch returned {len(results)} results for {len(batch)} questions")
        except Exception as exc:  # noqa: BLE001 - isolate the question that fails
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            log.warning("a batch of %d questions failed (%s); answering them one by one", len(batch), exc)
            for r in batch:
                self._answer([r])
            return
        for r, result in zip(batch, results):
            r.future.set_result(result)


def ask_with_fallback(pipeline, questions: Sequence[str], closest: int = 3,
                      filter=None) -> list[tuple[list, list | None]]:
    """The chat's batch: (answers, closest passages when there is no answer) per question, all
    answered with one ``Pipeline.ask_many`` (the questions must be clean: ``clean_question``);
    ``filter`` (qa/filters.py) restricts the articles of the whole batch."""
    answers = pipeline.ask_many(questions, filter=filter)
    return [(a, None if a else pipeline.closest_passages(q, closest, filter=filter))
            for q, a in zip(questions, answers)]
