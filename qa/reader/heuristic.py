"""Baseline reader: the best-matching sentence, then a short span in it chosen by question type.

No training: sentences are scored by IDF-weighted overlap with the question's content words; a
typed question (who / when / where / how many / how much) takes the nearest candidate of that type
that is not itself part of the question; other questions get the whole sentence.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence

from ..chunk import split_sentences
from ..index_lexical import tokenize
from ..types import Passage, ReaderOutput, ReadSpan
from . import dedupe_spans

_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|December|"
           r"Jan\.|Feb\.|Mar\.|Apr\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.")
_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_NUMBER_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
                 "fifty|hundred|dozen|several|hundreds|thousands")
PATTERNS = {
    "when": re.compile(
        rf"\b(?:(?:early |mid-|late )?(?:{_MONTHS})(?: \d{{1,2}})?(?:,? \d{{4}})?|(?:{_DAYS})|"
        rf"(?:mid-|early |late )?(?:spring|summer|fall|autumn|winter)|(?:1[89]|20)\d\d)\b"),
    "number": re.compile(
        rf"(?:(?:about|roughly|approximately|nearly|almost|up to|at least|more than|over) )?"
        rf"(?:\$\s?\d[\d,.]*(?: (?:million|billion|thousand))?|\b\d[\d,.]*(?: ?(?:%|per cent|percent|million|billion|thousand))?|"
        rf"\b(?:{_NUMBER_WORDS})\b)(?: [a-zA-Z-]+)?", re.IGNORECASE),
    "who": re.compile(r"\b(?:[A-Z][\w'’.-]*(?:\s+\([A-Z][\w]*\))?\s+){1,4}[A-Z][\w'’-]+"),
    # The place is group 1: a capitalised name after a locative preposition.
    "where": re.compile(r"\b(?:in|at|to|on|near|from) ((?:the )?[A-Z][\w'’-]+(?:,? [A-Z][\w'’-]+){0,3})"),
}
_FUNCTION_WORDS = frozenset("a an the and or but of in on at to for from by with until than per each as "
                            "into over after before since during is are was were".split())
_QTYPES = [
    ("how many", "number"), ("how much", "number"), ("how long", "number"), ("what year", "when"),
    ("what date", "when"), ("what month", "when"), ("when", "when"), ("who", "who"), ("whom", "who"),
    ("whose", "who"), ("where", "where"), ("which country", "where"), ("which city", "where"),
]


def question_type(question: str) -> str:
    q = question.lower()
    for cue, kind in _QTYPES:
        if re.search(rf"\b{cue}\b", q):
            return kind
    return "other"


class HeuristicReader:
    name = "heuristic"
    min_score = 0.2  # weighted share of the question's IDF mass the answer sentence must match

    def warm_up(self) -> None:  # nothing to load
        return None

    def read(self, question: str, passages: Sequence[Passage], top_k: int = 3) -> ReaderOutput:
        q_terms = set(tokenize([question])[0])
        if not q_terms or not passages:
            return ReaderOutput([], 1.0)
        sentences = []  # (passage index, start, end, terms)
        passage_terms = []
        for i, p in enumerate(passages):
            passage_terms.append(set(tokenize([p.text])[0]))
            for s, e in split_sentences(p.text):
                sentences.append((i, s, e, set(tokenize([p.text[s:e]])[0])))
        n = len(sentences)
        df = {t: sum(1 for *_, terms in sentences if t in terms) for t in q_terms}
        idf = {t: math.log(1 + (n + 1) / (df[t] + 0.5)) for t in q_terms}
        total = sum(idf.values())
        kind = question_type(question)
        q_lower = question.lower()
        spans = []
        for i, s, e, terms in sentences:
            overlap = sum(idf[t] for t in q_terms & terms) / total
            if overlap == 0:
                continue
            # The subject is often in a neighbouring sentence ("It opened on ..."): let the
            # passage's overlap count for a share of the score.
            context = sum(idf[t] for t in q_terms & passage_terms[i]) / total
            overlap = 0.65 * overlap + 0.35 * context
            score = overlap * (1.0 - 0.02 * i)  # earlier passages were ranked higher
            text = passages[i].text
            span = self._typed_span(text, s, e, kind, q_lower)
            if span is None:
                span, score = (s, e), score * (0.6 if kind != "other" else 1.0)
            spans.append(ReadSpan(i, span[0], span[1], max(0.0, min(1.0, score))))
        best = dedupe_spans(spans, passages, top_k)
        return ReaderOutput(best, 1.0 - (best[0].score if best else 0.0))

    @staticmethod
    def _typed_span(text: str, start: int, end: int, kind: str, q_lower: str) -> tuple[int, int] | None:
        pattern = PATTERNS.get(kind)
        if pattern is None:
            return None
        for m in pattern.finditer(text, start, end):
            group = 1 if pattern.groups else 0
            candidate = m.group(group).strip(" ,.")
            words = candidate.split(" ")
            if kind == "number" and len(words) > 1 and words[-1].lower() in _FUNCTION_WORDS:
                candidate = " ".join(words[:-1])  # "$371 million until" -> "$371 million"
            if candidate and candidate.lower() not in q_lower:
                s = m.start(group) + m.group(group).find(candidate)
                return s, s + len(candidate)
        return None
