"""Unanswerable questions made from answerable ones, for training the reader's "no answer".

Real unanswerable questions are ~2% of the training questions (the training-side SQuAD v2.0 dev
articles). This module makes more, of three kinds, each checked automatically:

* ``entity_swap``: a year, number, month or proper name of the question that the paragraph
  contains is replaced by one of the same type that the paragraph does **not** contain
  ("When did Tesla move to Prague?" -> "... to Vienna?"). Check: the new term is absent from the
  paragraph (case-folded).
* ``antonym`` / ``negation``: a comparative or directional word is replaced by its opposite
  ("first" -> "last", "largest" -> "smallest", "before" -> "after"), or the question's auxiliary is
  negated ("did" -> "did not"). Check: the new word is absent from the paragraph, and for
  negation the answer's sentence holds no negation (so the negated question is not answered there).
* ``sibling``: the question asked of another paragraph of the same article. Check: none of the
  gold answer texts occurs in that paragraph.

Automatically made negatives can be easier than real ones (Rajpurkar et al., 2018), so the reader
is judged only on real unanswerable questions (tuning split, held-out benchmark). The edit
families follow Gautam et al. (EMNLP Findings 2023), which found training-free antonym and entity
swaps worth +9.3 F1 on TyDi QA MinSpan.
"""
from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from qa.training.data import SquadRecord

KINDS = ("entity_swap", "antonym", "negation", "sibling")

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_YEAR = re.compile(r"\b(1[5-9]\d\d|20[0-4]\d)\b")
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w.]|\.\d)")
_MONTH = re.compile(r"\b(" + "|".join(_MONTHS) + r")\b")
# A run of capitalised words (allowing "of", "the", "de" inside): a proper name.
_NAME = re.compile(r"\b([A-Z][a-zA-Z\-']+(?:\s+(?:of|the|de|von|van|and)?\s*[A-Z][a-zA-Z\-']+)*)")
_QUESTION_WORDS = frozenset({"What", "Who", "Whom", "Whose", "When", "Where", "Which", "Why", "How",
                             "In", "On", "At", "For", "By", "The", "A", "An", "Is", "Are", "Was",
                             "Were", "Did", "Do", "Does", "To", "From", "After", "Before", "During",
                             "Along", "According", "If", "Of", "As", "Name", "I"})

# Opposites that turn a question about one thing into a question about another. Both directions.
_ANTONYM_PAIRS = (
    ("first", "last"), ("largest", "smallest"), ("biggest", "smallest"), ("highest", "lowest"),
    ("most", "least"), ("before", "after"), ("earliest", "latest"), ("increase", "decrease"),
    ("increased", "decreased"), ("north", "south"), ("east", "west"), ("northern", "southern"),
    ("eastern", "western"), ("longest", "shortest"), ("oldest", "youngest"), ("older", "younger"),
    ("larger", "smaller"), ("higher", "lower"), ("more", "fewer"), ("maximum", "minimum"),
    ("won", "lost"), ("win", "lose"), ("success", "failure"), ("strongest", "weakest"),
    ("best", "worst"), ("richest", "poorest"), ("beginning", "end"), ("start", "end"),
    ("inside", "outside"), ("above", "below"), ("upper", "lower"), ("rise", "fall"),
    ("accepted", "rejected"), ("allowed", "banned"), ("supported", "opposed"), ("early", "late"),
)
_ANTONYMS: dict[str, str] = {}
for _a, _b in _ANTONYM_PAIRS:
    _ANTONYMS.setdefault(_a, _b)
    _ANTONYMS.setdefault(_b, _a)
_ANTONYM_RE = re.compile(r"\b(" + "|".join(sorted(_ANTONYMS, key=len, reverse=True)) + r")\b", re.I)
# An auxiliary directly before a participle or a passive ("is being discussed", "was elected",
# "has won"): "not" goes right after it and the question stays grammatical. "did Dell enact" is
# left alone (the negation would go after the subject).
_AUX_RE = re.compile(r"\b(was|were|is|are|has|have|had|can|could|would|will)\s+(?=being\b|been\b|\w+(?:ed|en|ing)\b)")
_NEGATION_RE = re.compile(r"\b(not|never|no|none|neither|nor|without)\b|n't", re.I)
_SENTENCE_END = re.compile(r"[.!?](?:\s+|$)")


@dataclass(frozen=True)
class GeneratedQuestion:
    """One made-up unanswerable question: the record to train on (no answers), its kind, the
    question it came from, and the (old, new) term for swaps and edits."""

    record: SquadRecord
    kind: str
    original_question: str
    edit: tuple[str, str] | None = None


def _present(term: str, context_folded: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(term.casefold()) + r"(?!\w)", context_folded) is not None


def _replace_once(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


def _match_case(word: str, like: str) -> str:
    if like.isupper():
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


class TermPools:
    """Same-type replacement terms gathered from the training records themselves: years, numbers,
    months and proper names (by word count), so a swap reads like a real question."""

    def __init__(self, records: Sequence[SquadRecord], max_names: int = 20000, seed: int = 0):
        rng = random.Random(seed)
        names: dict[int, set[str]] = defaultdict(set)
        years: set[str] = set()
        numbers: set[str] = set()
        for r in records:
            for text, _ in r.answers[:1]:
                if _YEAR.fullmatch(text):
                    years.add(text)
                elif _NUMBER.fullmatch(text):
                    numbers.add(text)
                elif _NAME.fullmatch(text) and text.split()[0] not in _QUESTION_WORDS:
                    names[len(text.split())].add(text)
        self.years = sorted(years) or [str(y) for y in range(1800, 2030)]
        self.numbers = sorted(numbers) or [str(n) for n in range(2, 500)]
        self.names = {k: rng.sample(sorted(v), min(len(v), max_names)) for k, v in names.items()}

    def pick(self, kind: str, old: str, context_folded: str, rng: random.Random) -> str | None:
        if kind == "year":
            pool = self.years
        elif kind == "number":
            pool = self.numbers
        elif kind == "month":
            pool = list(_MONTHS)
        else:
            pool = self.names.get(len(old.split()), [])
        for _ in range(8):  # a few tries for a term absent from the paragraph
            if not pool:
                return None
            new = rng.choice(pool)
            if new.casefold() != old.casefold() and not _present(new, context_folded):
                return new
        return None


def _swap_candidates(question: str) -> list[tuple[str, int, int, str]]:
    """(type, start, end, text) of the swappable terms of a question."""
    out: list[tuple[str, int, int, str]] = []
    taken: list[tuple[int, int]] = []

    def add(kind, m):
        s, e = m.span(1)
        if any(s < te and ts < e for ts, te in taken):
            return
        taken.append((s, e))
        out.append((kind, s, e, m.group(1)))

    for m in _YEAR.finditer(question):
        add("year", m)
    for m in _MONTH.finditer(question):
        add("month", m)
    for m in _NUMBER.finditer(question):
        add("number", m)
    for m in _NAME.finditer(question):
        words = m.group(1).split()
        if m.start(1) == 0 or words[0] in _QUESTION_WORDS or m.group(1) in _MONTHS:
            continue
        add("name", m)
    return out


def entity_swap(rec: SquadRecord, pools: TermPools, rng: random.Random) -> GeneratedQuestion | None:
    """Swap one term the paragraph contains for a same-type term it does not contain."""
    folded = rec.context.casefold()
    cands = [c for c in _swap_candidates(rec.question) if _present(c[3], folded)]
    rng.shuffle(cands)
    for kind, s, e, old in cands:
        new = pools.pick(kind, old, folded, rng)
        if new is None:
            continue
        q = _replace_once(rec.question, s, e, new)
        return GeneratedQuestion(replace(rec, qid=rec.qid + "#swap", question=q, answers=(), alt_starts=()),
                                 "entity_swap", rec.question, (old, new))
    return None


def _answer_sentence(rec: SquadRecord) -> str:
    text, start = rec.answers[0]
    lo = max((m.end() for m in _SENTENCE_END.finditer(rec.context, 0, start)), default=0)
    m = _SENTENCE_END.search(rec.context, start + len(text))
    return rec.context[lo : m.end() if m else len(rec.context)]


def antonym_edit(rec: SquadRecord, rng: random.Random) -> GeneratedQuestion | None:
    """Replace a comparative/directional word by its opposite, absent from the paragraph."""
    folded = rec.context.casefold()
    ms = list(_ANTONYM_RE.finditer(rec.question))
    rng.shuffle(ms)
    for m in ms:
        old = m.group(1)
        new = _ANTONYMS[old.lower()]
        if _present(new, folded):
            continue
        q = _replace_once(rec.question, m.start(1), m.end(1), _match_case(new, old))
        return GeneratedQuestion(replace(rec, qid=rec.qid + "#antonym", question=q, answers=(), alt_starts=()),
                                 "antonym", rec.question, (old, _match_case(new, old)))
    return None


def negation_edit(rec: SquadRecord) -> GeneratedQuestion | None:
    """Negate the question's auxiliary ("did" -> "did not") when the answer's sentence holds no
    negation, so the negated question is not what the paragraph answers."""
    if not rec.answers or _NEGATION_RE.search(rec.question) or _NEGATION_RE.search(_answer_sentence(rec)):
        return None
    m = _AUX_RE.search(rec.question)
    if m is None:
        return None
    q = rec.question[: m.end(1)] + " not" + rec.question[m.end(1):]
    return GeneratedQuestion(replace(rec, qid=rec.qid + "#negation", question=q, answers=(), alt_starts=()),
                             "negation", rec.question, (m.group(1), m.group(1) + " not"))


def sibling_question(rec: SquadRecord, siblings: Sequence[str], rng: random.Random) -> GeneratedQuestion | None:
    """The question asked of another paragraph of its article that holds none of its answers."""
    others = [c for c in siblings if c != rec.context
              and not any(t.casefold() in c.casefold() for t in rec.answer_texts)]
    if not others:
        return None
    return GeneratedQuestion(replace(rec, qid=rec.qid + "#sibling", context=rng.choice(others), answers=(),
                                     alt_starts=()), "sibling", rec.question)


def passes_checks(g: GeneratedQuestion) -> bool:
    """The automatic checks every generated question must pass (also asserted by the tests)."""
    folded = g.record.context.casefold()
    if g.record.answers:
        return False
    if g.kind == "sibling":
        return g.record.question == g.original_question
    if g.edit is None or g.record.question == g.original_question:
        return False
    new = g.edit[1] if g.kind != "negation" else "not"
    if g.kind == "negation":
        return " not" in g.record.question
    return not _present(new, folded)


def generate_unanswerable(records: Sequence[SquadRecord], fractions: dict[str, float], seed: int = 0,
                          pools: TermPools | None = None) -> tuple[list[GeneratedQuestion], dict]:
    """Made-up unanswerable questions from the answerable ``records``: for each kind, about
    ``fractions[kind]`` of the records are tried (a record yields at most one question per kind).
    Returns the questions that pass ``passes_checks`` and counts per kind (made, tried, rejected)."""
    unknown = set(fractions) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kind(s) {sorted(unknown)}; choose from {', '.join(KINDS)}")
    rng = random.Random(seed)
    answerable = [r for r in records if r.answers]
    pools = pools or TermPools(answerable, seed=seed)
    siblings: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in answerable:
        ctxs = siblings[(r.source, r.title)]
        if not ctxs or ctxs[-1] != r.context:
            ctxs.append(r.context)
    out: list[GeneratedQuestion] = []
    stats: Counter = Counter()
    for r in answerable:
        for kind in KINDS:
            frac = fractions.get(kind, 0.0)
            if frac <= 0 or rng.random() >= frac:
                continue
            stats[f"{kind}_tried"] += 1
            if kind == "entity_swap":
                g = entity_swap(r, pools, rng)
            elif kind == "antonym":
                g = antonym_edit(r, rng)
            elif kind == "negation":
                g = negation_edit(r)
            else:
                g = sibling_question(r, siblings[(r.source, r.title)], rng)
            if g is None:
                stats[f"{kind}_no_edit"] += 1
            elif not passes_checks(g):
                stats[f"{kind}_rejected"] += 1
            else:
                stats[kind] += 1
                out.append(g)
    return out, dict(sorted(stats.items()))
