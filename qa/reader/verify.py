"""A second opinion on answerability: is this answer, in this passage, really what was asked?

The reader and the answer ranker (qa/rank.py) see span scores and retrieval ranks. Both are fooled
by a near miss: a passage about the right thing that does not say what the question asks ("How
long a sentence was he *given*?" read in a passage about the ten years he *faces*; a name the
question asks about that the passage never mentions). The verifier is a calibrator in the sense of
Kamath, Jia & Liang (2020, *Selective Question Answering under Domain Shift*): a small model over the
ranker's own output plus features of the question against the answer's passage, fitted on the
tuning split (``qa/training/verifier.py``), whose output is shown to people as P(right).

Features of one answer (order of ``FEATURES``):

* ``ranker_logit``: the answer ranker's logit (reader score + retrieval ranks + no-answer);
* ``margin_logit``: how far this answer's ranker logit is above the best *other* answer's;
* ``key_terms_in_passage``: share of the question's names, numbers and years that the passage holds
  (1 when it has none);
* ``key_terms_near_answer``: the same, within the answer's neighbourhood (its sentence and the next);
* ``content_near_answer``: share of the question's content words found near the answer;
* ``content_in_passage``: share of the question's content words found in the passage;
* ``answer_in_question``: share of the answer's words that the question already says (an answer
  that repeats the question is rarely right);
* ``content_in_sentence``: share of the question's content words in the answer's own sentence;
* ``type_mismatch``: 1 when the question asks for a number or a time and the answer holds none.

It is cheap (string work on a few candidates), so answering is no slower than before.
"""
from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

FEATURES = ("ranker_logit", "margin_logit", "key_terms_in_passage", "key_terms_near_answer",
            "content_near_answer", "content_in_passage", "answer_in_question", "content_in_sentence",
            "type_mismatch")

log = logging.getLogger(__name__)

_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_KEY = re.compile(r"\b(?:\d[\d,.]*|[A-Z][a-zA-Z\-]+)\b")
# Function words and question words: they say nothing about whether a passage answers.
_STOP = frozenset("""
a an the of in on at to for from by with about as into over after before during under between through
and or but nor so yet if then than that this these those there here it its is are was were be been
being am do does did done doing have has had having can could will would shall should may might must
what who whom whose which when where why how much many whats wheres whos
he she they them his her their him we us our you your i me my not no
one ones also other another some any all each most more such own same s
""".split())
_NEAR_CHARS = 200
_ASKS_NUMBER = re.compile(r"^\W*(how (many|much|long|old|far|large|big|high|tall|often)|what (percentage|percent|"
                          r"number|amount|proportion|fraction))\b", re.I)
_ASKS_TIME = re.compile(r"^\W*(when|what (year|date|month|day|time|century|decade)|in (what|which) "
                        r"(year|month|century|decade))\b", re.I)
_NUMBERISH = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
                        r"fifty|hundred|thousand|million|billion|dozen|half|several|few|many)\b", re.I)
_TIMEISH = re.compile(r"\d|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\b(mon|tues|wednes|thurs|fri|"
                      r"satur|sun)day\b|\b(century|decade|year|month|week|day|today|yesterday|tomorrow|spring|"
                      r"summer|autumn|fall|winter|morning|night|era|age|period|dynasty|reign)s?\b", re.I)
_SENTENCE_END = re.compile(r"[.!?](?=\s)")
# The chat's words for a calibrated P(right): "low confidence" below LOW (more likely wrong than
# right), "high" from HIGH. Stated in the README.
LOW_CONFIDENCE = 0.5
HIGH_CONFIDENCE = 0.8  # "near the answer": this many characters either side of it


def _stem(word: str) -> str:
    # Crude but enough for coverage: "face", "faces", "faced" and "invaded", "invasion" share a
    # four-letter prefix; case folds.
    w = word.casefold().replace("’", "'").split("'")[0]
    return w[:4]


@lru_cache(maxsize=512)
def content_terms(text: str) -> frozenset[str]:
    # cached: the candidates of one question mostly share a few passages
    return frozenset(_stem(w) for w in _WORD.findall(text) if w.casefold() not in _STOP and len(w) > 1)


def key_terms(question: str) -> set[str]:
    """Names, numbers and years of the question (not its first word, capitalised anyway)."""
    out = set()
    for m in _KEY.finditer(question):
        if m.start() == 0 or m.group(0).casefold() in _STOP:
            continue
        out.add(_stem(m.group(0).rstrip(".,")))
    return out


def _share(wanted: set[str], have: set[str]) -> float:
    return 1.0 if not wanted else len(wanted & have) / len(wanted)


def _logit(p: float) -> float:
    p = min(max(float(p), 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def type_mismatch(question: str, answer: str) -> float:
    """1.0 when the question asks for a number (or a time) and the answer holds none."""
    if _ASKS_NUMBER.search(question) and not _NUMBERISH.search(answer):
        return 1.0
    if _ASKS_TIME.search(question) and not _TIMEISH.search(answer):
        return 1.0
    return 0.0


def _sentence_of(passage: str, start: int, end: int) -> str:
    lo = max((m.end() for m in _SENTENCE_END.finditer(passage, 0, start)), default=0)
    m = _SENTENCE_END.search(passage, end)
    return passage[lo : m.end() if m else len(passage)]


def features(question: str, passage: str, start: int, end: int, ranker_probability: float,
             best_other_probability: float | None) -> list[float]:
    """The feature vector of one answer ``passage[start:end]`` (order of ``FEATURES``)."""
    near = passage[max(0, start - _NEAR_CHARS) : end + _NEAR_CHARS]
    passage_terms, near_terms = content_terms(passage), content_terms(near)
    q_terms, q_keys = content_terms(question), key_terms(question)
    answer_terms = content_terms(passage[start:end])
    logit = _logit(ranker_probability)
    margin = logit - _logit(best_other_probability) if best_other_probability is not None else 5.0
    return [
        logit,
        max(-5.0, min(5.0, margin)),
        _share(q_keys, passage_terms),
        _share(q_keys, near_terms),
        _share(q_terms - answer_terms, near_terms),
        _share(q_terms - answer_terms, passage_terms),
        (len(answer_terms & q_terms) / len(answer_terms)) if answer_terms else 0.0,
        _share(q_terms - answer_terms, content_terms(_sentence_of(passage, start, end))),
        type_mismatch(question, passage[start:end]),
    ]


@dataclass(frozen=True)
class AnswerVerifier:
    """Logistic model over ``FEATURES``: P(the answer is right). ``min_score`` is the abstention
    threshold on it, chosen on the tuning split for ``unanswerable_prior``; ``low_confidence`` is
    the P(right) under which the chat says "low confidence"."""

    weights: tuple[float, ...]
    bias: float
    min_score: float
    low_confidence: float = LOW_CONFIDENCE
    unanswerable_prior: float = 0.2

    def probability(self, x: Sequence[float]) -> float:
        z = self.bias + sum(w * v for w, v in zip(self.weights, x))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def score(self, question: str, passage: str, start: int, end: int, ranker_probability: float,
              best_other_probability: float | None) -> float:
        return self.probability(features(question, passage, start, end, ranker_probability, best_other_probability))

    def to_dict(self) -> dict:
        return {"features": list(FEATURES), "weights": [float(w) for w in self.weights], "bias": float(self.bias),
                "min_score": float(self.min_score), "low_confidence": float(self.low_confidence),
                "unanswerable_prior": float(self.unanswerable_prior)}

    @classmethod
    def from_dict(cls, d: Mapping) -> "AnswerVerifier":
        if list(d.get("features", [])) != list(FEATURES):
            raise ValueError(f"answer verifier features {d.get('features')} differ from this version's {list(FEATURES)}")
        weights = tuple(float(w) for w in d["weights"])
        if len(weights) != len(FEATURES) or not all(math.isfinite(w) for w in weights):
            raise ValueError("answer verifier weights are damaged")
        return cls(weights=weights, bias=float(d["bias"]), min_score=float(d["min_score"]),
                   low_confidence=float(d.get("low_confidence", LOW_CONFIDENCE)),
                   unanswerable_prior=float(d.get("unanswerable_prior", 0.2)))


def load_verifier(meta: Mapping, reader_name: str | None = None) -> AnswerVerifier | None:
    """The verifier stored in a reader's ``reader.json`` for ``reader_name`` (fitted on that
    reader's behaviour), or None: a reader without one keeps its ranker's scores."""
    d = (meta.get("answer_verifiers") or {}).get(reader_name or meta.get("name", "span"))
    if not d:
        return None
    if list(d.get("features", [])) != list(FEATURES):
        # fitted by another version: its weights mean other things. The ranker's scores stand.
        log.warning("the answer verifier in reader.json was fitted on other features; ignored "
                    "(refit it: python scripts/fit_verifier.py)")
        return None
    return AnswerVerifier.from_dict(d)
