"""Adaptive reading depth: read the best-retrieved passages first, the rest only while they could
still change the answer.

The answer ranker (qa/rank.py) orders the candidates of a question by a linear function of the
reader score and the retrieval ranks of the candidate's passage; its last feature, the question's
no-answer probability, is the same for every candidate. So a passage's candidates can reach at most
its ``ceiling`` (the ranker's value at a perfect reader score, known before reading it), and after
each round of reading:

* a passage whose ceiling is not above the best answer so far cannot hold a better answer: while
  that answer clears the abstention threshold, the passage is skipped unread;
* reading stops when no passage is left, or when none could outrank the best answer and the best
  answer already clears the threshold: reading more can only lower the question's no-answer
  probability, which raises every candidate's probability alike, so an accepted answer stays
  accepted and stays first;
* while the best answer is below the threshold, every remaining passage is read if a lower
  no-answer probability (down to the ranker's floor) could still lift it over the threshold;
  if not even that could, only the passages whose own best possible answer could clear it.

So the first answer and whether it is given are those of reading every passage (only further
answers below the first may differ). Nothing here is tuned: the rule follows from the ranker's
coefficients, so a refitted ranker (new weights, ``scripts/fit_ranker.py``) brings its own stopping
points. The first round reads through the reader's exact model, later rounds through its cheaper
one when it has one (``SpanReader.later_quantize``). Measured in ``reports/bench.md``.

Questions are read together: each round's passages of every question still reading go through
the reader in one batch (``SpanReader.find_batch``).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .rank import AnswerRanker
from .types import Hit, Passage, ReaderOutput

# (passages, the accepted best span) -> (indices of passages that may hold a rival report, score share)
Rivals = Callable[[Sequence[Passage], object], tuple[set[int], float]]

# Passages read per round before the rule is checked again; after the last size, all that remain.
ROUNDS = (1, 1)


@dataclass(frozen=True)
class AdaptiveResult:
    output: ReaderOutput
    passages_read: int


@dataclass
class _Question:
    question: str
    passages: Sequence[Passage]
    hits: Sequence[Hit]
    todo: list[int]
    candidates: object  # qa.reader.span.Candidates
    read: int = 0


def read_passages(reader, ranker: AnswerRanker | None, threshold: float,
                  jobs: Sequence[tuple[str, Sequence[Passage], Sequence[Hit]]], top_k: int,
                  rivals: Rivals | None = None) -> list[AdaptiveResult]:
    """Read each (question, passages, hits) job: adaptively when there is a ``ranker`` and the
    reader can read passages apart (``find_batch``), else every passage, in one reader batch when
    the reader has ``read_batch``. ``rivals``: see ``read_adaptively``."""
    if ranker is not None and hasattr(reader, "find_batch"):
        return read_adaptively(reader, ranker, threshold, jobs, top_k, rivals=rivals)
    if hasattr(reader, "read_batch"):
        outputs = reader.read_batch([(q, ps) for q, ps, _ in jobs], top_k=top_k)
    else:
        outputs = [reader.read(q, ps, top_k=top_k) for q, ps, _ in jobs]
    return [AdaptiveResult(o, len(ps)) for o, (_, ps, _) in zip(outputs, jobs)]


def read_adaptively(reader, ranker: AnswerRanker, threshold: float,
                    jobs: Sequence[tuple[str, Sequence[Passage], Sequence[Hit]]], top_k: int,
                    rounds: Sequence[int] = ROUNDS, rivals: Rivals | None = None) -> list[AdaptiveResult]:
    """Read each (question, passages, hits) job adaptively (module docstring); ``passages[i]`` is
    the text of ``hits[i]``, best first. ``reader`` is a ``SpanReader`` (``find_batch``);
    ``top_k`` spans are kept per question, as ``reader.read`` would keep them.

    ``rivals(passages, best_span) -> (passage indices, share)``: passages that may hold another
    report of the accepted answer (a newer article's figure, qa/news/changed.py); they are read
    too while their best possible answer could reach ``share`` of the best answer's probability,
    so that a report of another date is seen, not skipped for ranking lower."""
    from .reader.span import Candidates

    states = [_Question(q, ps, hs, list(range(len(ps))), Candidates()) for q, ps, hs in jobs]
    for n, size in enumerate((*rounds, None)):
        active = [s for s in states if s.todo]
        if not active:
            break
        requests = [(s.question, s.passages, s.todo[:size] if size else s.todo) for s in active]
        results = reader.find_batch(requests, top_k, later=n > 0)  # later rounds: the reader's cheaper model
        for s, (_, _, chosen), found in zip(active, requests, results):
            s.candidates = s.candidates.merge(found)
            s.read += len(chosen)
            s.todo = s.todo[len(chosen):]
            if s.todo:
                s.todo = _still_worth_reading(s, ranker, threshold, top_k, rivals)
    return [AdaptiveResult(s.candidates.select(s.passages, top_k), s.read) for s in states]


def _still_worth_reading(s: _Question, ranker: AnswerRanker, threshold: float, top_k: int,
                         rivals: Rivals | None = None) -> list[int]:
    """The unread passages of ``s`` that could change its answer (module docstring), and those
    that could hold a rival report of it (``read_adaptively``'s ``rivals``)."""
    output = s.candidates.select(s.passages, top_k)
    no_answer = output.no_answer_score
    ceiling = {i: ranker.ceiling(i, s.hits[i].ranks) for i in s.todo}
    if output.spans:
        best = max(output.spans, key=lambda span: ranker.order_key(span.score, span.passage_index,
                                                                   s.hits[span.passage_index].ranks))
        ranks = s.hits[best.passage_index].ranks
        key = ranker.order_key(best.score, best.passage_index, ranks)
        accepted = ranker.score(best.score, best.passage_index, ranks, no_answer)
        if accepted >= threshold:
            keep = {i for i in s.todo if ceiling[i] > key}  # accepted: only a better answer changes it
            if rivals is not None:
                others, share = rivals(s.passages, best)
                keep |= {i for i in s.todo if i in others
                         and ranker.score(1.0, i, s.hits[i].ranks, no_answer) >= share * accepted}
            return [i for i in s.todo if i in keep]
        if ranker.highest_probability(key, no_answer) >= threshold:
            return s.todo  # any passage's no-answer probability could still lift it over the threshold
    # Nothing read so far can be answered, whatever else is read: only passages whose own
    # answers could clear the threshold can change that.
    return [i for i in s.todo if ranker.highest_probability(ceiling[i], no_answer) >= threshold]
