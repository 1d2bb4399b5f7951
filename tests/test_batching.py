"""qa/batching.py: concurrent questions answered together, in order, within a bounded queue."""
from __future__ import annotations

import threading
import time

import pytest

from qa.batching import Busy, QuestionBatcher, ask_with_fallback
from qa.pipeline import Pipeline

from .conftest import FakeEncoder


class Recorder:
    """An answer_batch that records its batches and can hold the first one until released."""

    def __init__(self, hold_first: bool = False):
        self.batches: list[tuple[list, dict]] = []
        self.release = threading.Event()
        self.started = threading.Event()
        if not hold_first:
            self.release.set()

    def __call__(self, questions, **options):
        self.batches.append((list(questions), options))
        self.started.set()
        self.release.wait(10)
        return [f"{q}!" for q in questions]


def submit_while_held(batcher, recorder, questions, **options):
    """Hold the worker on a first question, queue ``questions``, release: they form the next batch."""
    first = batcher.submit("first")
    assert recorder.started.wait(5)
    futures = [batcher.submit(q, **options) for q in questions]
    recorder.release.set()
    return first, futures


def test_questions_waiting_together_are_answered_in_one_batch_in_order():
    recorder = Recorder(hold_first=True)
    batcher = QuestionBatcher(recorder, max_batch=8, gather_seconds=0.0)
    try:
        first, futures = submit_while_held(batcher, recorder, [f"q{i}" for i in range(5)])
        assert first.result(5) == "first!"
        assert [f.result(5) for f in futures] == [f"q{i}!" for i in range(5)]
    finally:
        batcher.close()
    assert [b for b, _ in recorder.batches] == [["first"], ["q0", "q1", "q2", "q3", "q4"]]
    assert batcher.stats.largest_batch == 5 and batcher.stats.questions == 6


def test_questions_arriving_within_the_gather_window_share_a_batch():
    recorder = Recorder()
    batcher = QuestionBatcher(recorder, max_batch=8, gather_seconds=0.5)
    try:
        futures = [batcher.submit("a")]
        time.sleep(0.05)  # well inside the window
        futures.append(batcher.submit("b"))
        assert [f.result(5) for f in futures] == ["a!", "b!"]
    finally:
        batcher.close()
    assert [b for b, _ in recorder.batches] == [["a", "b"]]


def test_batches_never_exceed_max_batch():
    recorder = Recorder(hold_first=True)
    batcher = QuestionBatcher(recorder, max_batch=3, gather_seconds=0.0)
    try:
        _, futures = submit_while_held(batcher, recorder, [str(i) for i in range(7)])
        assert [f.result(5) for f in futures] == [f"{i}!" for i in range(7)]
    finally:
        batcher.close()
    assert [len(b) for b, _ in recorder.batches] == [1, 3, 3, 1]


def test_questions_with_different_options_are_not_mixed():
    recorder = Recorder(hold_first=True)
    batcher = QuestionBatcher(recorder, max_batch=8, gather_seconds=0.0)
    try:
        first = batcher.submit("first")
        assert recorder.started.wait(5)
        a = batcher.submit("a", top_k=1)
        b = batcher.submit("b", top_k=3)
        c = batcher.submit("c", top_k=1)
        recorder.release.set()
        assert (first.result(5), a.result(5), b.result(5), c.result(5)) == ("first!", "a!", "b!", "c!")
    finally:
        batcher.close()
    assert recorder.batches[1:] == [(["a", "c"], {"top_k": 1}), (["b"], {"top_k": 3})]


def test_past_the_bound_a_question_is_refused_at_once_and_nothing_is_lost():
    recorder = Recorder(hold_first=True)
    batcher = QuestionBatcher(recorder, max_batch=4, gather_seconds=0.0, max_waiting=2)
    try:
        first = batcher.submit("first")
        assert recorder.started.wait(5)
        kept = [batcher.submit("a"), batcher.submit("b")]
        t0 = time.monotonic()
        with pytest.raises(Busy):
            batcher.submit("c")
        assert time.monotonic() - t0 < 1  # refused, not left waiting
        assert batcher.stats.refused == 1
        recorder.release.set()
        assert [f.result(5) for f in (first, *kept)] == ["first!", "a!", "b!"]
        assert batcher.ask("d", timeout=5) == "d!"  # room again once the queue drains
    finally:
        batcher.close()


def test_a_failing_question_fails_alone():
    def answer(questions):
        if "bad" in questions:
            raise ValueError("cannot answer bad")
        return [q.upper() for q in questions]

    recorder = Recorder(hold_first=True)
    calls = []

    def held(questions):
        calls.append(list(questions))
        if questions == ["first"]:
            recorder.started.set()
            recorder.release.wait(10)
        return answer(questions)

    batcher = QuestionBatcher(held, max_batch=8, gather_seconds=0.0)
    try:
        first = batcher.submit("first")
        assert recorder.started.wait(5)
        good, bad, other = batcher.submit("good"), batcher.submit("bad"), batcher.submit("other")
        recorder.release.set()
        assert (first.result(5), good.result(5), other.result(5)) == ("FIRST", "GOOD", "OTHER")
        with pytest.raises(ValueError, match="cannot answer bad"):
            bad.result(5)
    finally:
        batcher.close()
    assert calls[1] == ["good", "bad", "other"] and ["good"] in calls and ["bad"] in calls


def test_close_refuses_what_is_still_waiting():
    recorder = Recorder(hold_first=True)
    batcher = QuestionBatcher(recorder, max_batch=1, gather_seconds=0.0)
    first = batcher.submit("first")
    assert recorder.started.wait(5)
    waiting = batcher.submit("later")
    closer = threading.Thread(target=batcher.close)
    closer.start()
    with pytest.raises(Busy):
        waiting.result(5)
    recorder.release.set()
    closer.join(5)
    assert first.result(5) == "first!"
    with pytest.raises(RuntimeError, match="closed"):
        batcher.submit("after")


@pytest.mark.parametrize("kwargs", [{"max_batch": 0}, {"max_waiting": 0}, {"gather_seconds": -1}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        QuestionBatcher(lambda qs: qs, **kwargs)


def test_many_threads_asking_at_once_get_their_own_answers(small_corpus, tmp_path):
    """Real Pipeline (heuristic reader, fake encoder): each thread's reply is its own question's,
    exactly what asking alone gives, and concurrent questions were batched."""
    p = Pipeline(small_corpus, tmp_path / "index", reader="heuristic", encoder=FakeEncoder())
    p.warm_up()
    questions = ["Who designed the new Tay bridge?", "How many bushels of apples were picked?",
                 "When did the storm strike Halifax?", "Who painted the Mona Lisa?"] * 3
    alone = {q: ask_with_fallback(p, [q])[0] for q in set(questions)}
    batcher = QuestionBatcher(lambda qs: ask_with_fallback(p, qs), max_batch=8, gather_seconds=0.05)
    results: dict[int, tuple] = {}

    def ask(i: int) -> None:
        results[i] = batcher.ask(questions[i], timeout=30)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(questions))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        batcher.close()
    assert len(results) == len(questions)
    for i, q in enumerate(questions):
        answers, closest = results[i]
        want_answers, want_closest = alone[q]
        assert [a.to_dict() for a in answers] == [a.to_dict() for a in want_answers]
        assert (closest is None) == (want_closest is None)
    assert batcher.stats.largest_batch > 1
