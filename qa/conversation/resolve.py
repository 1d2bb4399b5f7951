"""Does a question lean on the conversation, and if so, what standalone question does it mean?

``FollowUpResolver.resolve(question, turns)`` returns a ``Resolution``: whether the question depends
on the history (a pronoun or demonstrative with nothing to point to inside the question, an
ellipsis such as "At what cost?", an "and what about X?", or a very short question with no rare word
of its own), and the standalone rewrite the reader reads ("What nationality is she?" after "Who
commands the NATO mission?" answered "Jennie Carignan" -> "What nationality is Jennie Carignan?").
A question that names its own topic stands alone: the history must not leak into it. When no
referent fits, or two fit equally well, the resolution says so (``confident=False``) and the
question is answered as asked. Nothing here generates text: a rewrite is the question with a phrase
of an earlier question or answer put in, or an earlier question with a phrase swapped.

Candidates for a pronoun come from the turns before, most recent first; within a turn, in an order
set by what the pronoun can stand for (a person for "she", a thing for "it", a group or plural for
"they") and by the usual preferences of reference resolution: the answer to a who/which/what question
is the entity the user just learned about, the subject of "What is X?" is what a later "it" means,
and a subject is preferred to an object (centering).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from . import phrases as P
from .phrases import Phrase, Question, parse_question
from .turns import Turn

# rarity(words) -> word -> IDF / the index's largest IDF, in [0, 1]; None for stop words and words
# no passage contains (they cannot name a topic the articles know).
Rarity = Callable[[Sequence[str]], Mapping[str, "float | None"]]

_WHAT_ABOUT = re.compile(r"^\s*(?:and|but|so|also)?\s*,?\s*(?:what|how)\s+about\s+(?P<x>.+?)\s*\??\s*$", re.I)
_SAY_VERBS = {"said", "say", "says", "think", "thinks", "thought", "claim", "claimed", "claims", "believe",
              "believes", "told", "tell", "tells", "report", "reported", "reports", "confirm", "confirmed"}
_BE = {"is", "are", "was", "were", "be", "been"}

STANDALONE, FIRST, PRONOUN, ELLIPSIS, WHAT_ABOUT, UNDERSPECIFIED = (
    "standalone", "first", "pronoun", "ellipsis", "what-about", "underspecified")


@dataclass(frozen=True)
class Resolution:
    """How a question was read. ``interpreted_as`` is what the reader reads: the rewrite when the
    question depends on the history and a referent was found with confidence, else the question."""

    question: str
    interpreted_as: str
    depends: bool  # the history takes part (retrieval expansion, previous passages)
    confident: bool  # False: the referent was ambiguous or missing; answered as asked
    cue: str  # one of STANDALONE, FIRST, PRONOUN, ELLIPSIS, WHAT_ABOUT, UNDERSPECIFIED
    referent: str | None = None  # the phrase put in for a pronoun, or swapped in by "what about"
    note: str = ""  # one sentence for the user: what was resolved, or why it was not

    @property
    def rewritten(self) -> bool:
        return self.interpreted_as != self.question

    def explanation(self) -> str | None:
        """The line a reply shows under a follow-up's answer; None for a question that stood alone."""
        if not self.depends:
            return None
        return f"Interpreted as: {self.interpreted_as}" if self.confident else self.note


@dataclass
class _Anaphor:
    index: int  # token index in the question
    kind: str  # "person", "thing", "plural", "place", "proposition", "demonstrative"
    span: tuple[int, int]  # question offsets to replace
    possessive: bool = False
    noun: str = ""  # for "those troops": the noun that names what is meant


class FollowUpResolver:
    """Reads a question against the turns before it (see the module docstring).

    ``rarity`` tells which words are rare in the indexed articles (BM25 IDF scaled to [0, 1]);
    a word at or above ``rare`` counts as a topic of its own. ``short_words``: a question of at
    most this many words, with no name, number or rare word, is taken to continue the conversation.
    ``lookback``: how many earlier turns a referent is searched in.
    """

    def __init__(self, rarity: Rarity | None = None, rare: float = 0.6, short_words: int = 5,
                 lookback: int = 3) -> None:
        if not 0.0 <= rare <= 1.0:
            raise ValueError(f"rare must be in [0, 1], got {rare}")
        if short_words < 0 or lookback < 1:
            raise ValueError(f"short_words must be >= 0 and lookback >= 1, got {short_words}, {lookback}")
        self.rarity = rarity
        self.rare = rare
        self.short_words = short_words
        self.lookback = lookback

    # ------------------------------------------------------------------ the decision

    def resolve(self, question: str, turns: Sequence[Turn]) -> Resolution:
        if not turns:
            return Resolution(question, question, False, True, FIRST)
        recent = list(turns)[-self.lookback:][::-1]  # most recent first
        m = _WHAT_ABOUT.match(question)
        if m:
            return self._what_about(question, m.group("x"), recent)
        q = parse_question(question)
        content = [t for t in q.toks if not P.is_function(t)]
        if q.lead and not q.has_verb and q.wh_start < 0 and len(q.toks) > 1:
            rest = question[q.toks[1].start:] if len(q.toks) > 1 else ""
            return self._what_about(question, rest, recent)  # "And the combat-arms units?"
        anaphors = _anaphors(q)
        if anaphors:
            return self._pronoun(question, q, anaphors, recent)
        if q.wh_start >= 0 and not q.has_verb:
            return self._ellipsis(question, q, recent)  # "At what cost?", "Until when?"
        if not self._names_own_topic(q) and len(content) + (q.wh_start >= 0) <= self.short_words:
            return self._underspecified(question, q, recent)
        return Resolution(question, question, False, True, STANDALONE)

    def _names_own_topic(self, q: Question) -> bool:
        """A name (capitalised word past the first), a number, or a word rare in the articles."""
        words = [t for t in q.toks if not P.is_function(t) and not P.is_verb_like(t)]
        if any(t.number or (t.capitalised and t is not q.toks[0]) for t in words):
            return True
        if self.rarity is None:
            return bool(words)
        scores = self.rarity([t.text for t in words])
        return any((scores.get(t.text) or 0.0) >= self.rare for t in words)

    # ------------------------------------------------------------------ pronouns

    def _pronoun(self, question: str, q: Question, anaphors: list[_Anaphor], recent: list[Turn]) -> Resolution:
        text = question
        referents: list[str] = []
        done_kinds: set[str] = set()
        for a in sorted(anaphors, key=lambda a: a.span[0]):
            # "Where did he give his interview?": the first mention is replaced, the rest stay pronouns
            if a.kind in done_kinds and a.kind != "demonstrative":
                a.skip = True  # type: ignore[attr-defined]
            done_kinds.add(a.kind)
        chosen: dict[int, str] = {}
        for a in anaphors:
            if getattr(a, "skip", False):
                continue
            word = question[a.span[0]:a.span[1]]
            if a.kind == "proposition":
                prop = proposition(recent[0])
                if not prop:
                    return _unsure(question, PRONOUN, f"I could not tell what “{word}” refers to, so I answered "
                                   "the question as asked.")
                chosen[a.index] = "that " + prop
                continue
            found = self._referent(a, recent, exclude=set(referents))
            if found is None:
                return _unsure(question, PRONOUN, f"I could not tell who or what “{word}” refers to, so I answered "
                               "the question as asked.")
            phrase = _definite(found)
            referents.append(phrase)
            chosen[a.index] = phrase + (("'" if phrase.endswith("s") else "'s") if a.possessive else "")
        for a in sorted(anaphors, key=lambda a: -a.span[0]):  # from the end: earlier offsets stay valid
            if a.index in chosen:
                text = text[:a.span[0]] + chosen[a.index] + text[a.span[1]:]
        first = min((a for a in anaphors if a.index in chosen), key=lambda a: a.span[0])
        referent = referents[0] if referents else None
        shown = chosen[first.index]
        return Resolution(question, _tidy(text), True, True, PRONOUN, referent,
                          f"“{question[first.span[0]:first.span[1]]}” read as “{shown}”")

    def _referent(self, a: _Anaphor, recent: list[Turn], exclude: set[str] = frozenset()) -> str | None:
        """The phrase an anaphor stands for, searched turn by turn, most recent first."""
        for turn in recent:
            for cand in _candidates(turn, a.kind, a.noun):
                if _definite(cand) not in exclude:
                    return cand
        return None

    # ------------------------------------------------------------------ ellipsis

    def _ellipsis(self, question: str, q: Question, recent: list[Turn]) -> Resolution:
        """A wh-fragment ("At how many bases?") completed with the previous question's clause and its
        answer: "At how many bases did Iran fire 22 missiles?"."""
        prev = recent[0]
        pq = parse_question(prev.interpreted_as)
        if pq.wh_start < 0:
            return _unsure(question, ELLIPSIS, "I could not tell what this follows on from, so I answered the "
                           "question as asked.")
        wh = q.wh_text
        tail = question[q.toks[q.wh_end - 1].end:].strip().rstrip("?").strip() if q.wh_end > 0 else ""
        if q.wh_word in ("how many", "how much") and not q.wh_noun and pq.wh_word == q.wh_word and pq.wh_noun:
            wh = f"{wh} {pq.wh_noun}"  # "How many in Iraq?" after "How many troops ...?"
        clause, answer_phrase = _clause_parts(prev, pq)
        if q.wh_word == pq.wh_word and q.wh_word not in ("what", "which") and not q.wh_noun:
            answer_phrase = ""  # "How many in Iraq?" after "How many troops ...?" asks for the number anew
        if tail:
            clause = _replace_pp(clause, tail)
            tail = ""
        if pq.subject_question:
            text = f"{wh} {answer_phrase} {clause}" if answer_phrase else f"{wh} {clause}"
        else:
            text = f"{wh} {clause} {answer_phrase}" if answer_phrase else f"{wh} {clause}"
        return Resolution(question, _tidy(text), True, True, ELLIPSIS, None,
                          "completed from the previous question")

    # ------------------------------------------------------------------ "and what about X?"

    def _what_about(self, question: str, x: str, recent: list[Turn]) -> Resolution:
        """The previous question with ``x`` swapped in for the phrase it replaces: "What about Joint
        Task Force Impact?" after "Who commands the NATO training mission?" -> "Who commands Joint
        Task Force Impact?"."""
        x = x.strip().rstrip("?").strip()
        xt = P.tokens(x)
        if not xt:
            return _unsure(question, WHAT_ABOUT, "I could not tell what to ask about, so I answered the question "
                           "as asked.")
        if xt[0].low in P.PREPOSITIONS:  # "And in coalition training?", "And of the NATO mission?"
            # the latest question with a phrase of the same preposition, else the previous one
            prev = next((t for t in recent if any(p.role == "pp" and p.preposition == xt[0].low
                                                  for p in parse_question(t.interpreted_as).phrases)), recent[0])
            inner = P.noun_phrases(x)
            return Resolution(question, _tidy(_replace_pp(_strip_q(prev.interpreted_as), x) + "?"), True, True,
                              WHAT_ABOUT, inner[0].text if inner else None, f"the previous question, asked about “{x}”")
        if all(P.is_function(t) and t.low not in P.DETERMINERS for t in xt):  # "And now?"
            prev = recent[0]
            return Resolution(question, _tidy(f"{_strip_q(prev.interpreted_as)} {x}?"), True, True, WHAT_ABOUT, None,
                              f"the previous question, asked about “{x}”")
        xp = P.noun_phrases(x)
        target = xp[-1] if xp else Phrase(x, 0, len(x), tuple(t.text for t in xt))
        best: list[tuple[float, int, Turn, Phrase]] = []
        for age, turn in enumerate(recent):
            for score, cand in _swap_candidates(turn, target):
                best.append((score - age, -age, turn, cand))
        best.sort(key=lambda b: (-b[0], -b[1]))
        if not best or best[0][0] < 1 or (len(best) > 1 and best[1][0] == best[0][0]
                                          and best[1][3].text != best[0][3].text and best[1][2] is best[0][2]):
            return _unsure(question, WHAT_ABOUT, f"I could not tell which part of the earlier question “{x}” "
                           "replaces, so I answered the question as asked.")
        _, _, turn, cand = best[0]
        base = turn.interpreted_as
        start = base.find(cand.text)
        text = base[:start] + x + base[start + len(cand.text):]
        return Resolution(question, _tidy(text), True, True, WHAT_ABOUT, x,
                          f"the earlier question, with “{x}” in place of “{cand.text}”")

    # ------------------------------------------------------------------ short, topicless questions

    def _underspecified(self, question: str, q: Question, recent: list[Turn]) -> Resolution:
        """"Who took the photograph?": no name, number or rare word of its own. The conversation's
        topic (the previous question's main phrase) is added after it."""
        prev = recent[0]
        topics = [p.text for p in parse_question(prev.interpreted_as).phrases
                  if p.role in ("subject", "object") and (p.proper or p.words and p.words[0][:1].isdigit())]
        if prev.referent:
            topics = [prev.referent] + [t for t in topics if t != prev.referent]
        if not topics:
            return _unsure(question, UNDERSPECIFIED, "This question may follow on from the previous one, but I "
                           "could not tell how, so I answered it as asked.")
        topic = " and ".join(topics[:2])
        return Resolution(question, _tidy(f"{_strip_q(question)}, about {topic}?"), True, True, UNDERSPECIFIED,
                          topics[0], f"read as being about “{topic}”")


# ---------------------------------------------------------------------- helpers


def _unsure(question: str, cue: str, note: str) -> Resolution:
    return Resolution(question, question, True, False, cue, None, note)


def _strip_q(text: str) -> str:
    return text.strip().rstrip("?").strip()


def _tidy(text: str) -> str:
    text = " ".join(text.split()).replace(" ,", ",").replace(" ?", "?")
    text = text[:1].upper() + text[1:]
    return text if text.endswith("?") else text.rstrip(".") + "?"


def _definite(phrase: str) -> str:
    """"A second Hercules aircraft" -> "the second Hercules aircraft": a referent is known by now."""
    m = re.match(r"^(a|an)\s+", phrase, re.I)
    return "the " + phrase[m.end():] if m else phrase


def _anaphors(q: Question) -> list[_Anaphor]:
    """Pronouns and demonstratives that point outside the question."""
    toks = q.toks
    out: list[_Anaphor] = []
    for i, t in enumerate(toks):
        w = t.low
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        prv = toks[i - 1] if i > 0 else None
        before = q.text[:t.start]
        if w in P.PRONOUNS_PERSON:
            poss = w == "his" or (w == "her" and nxt is not None and not P.is_function(nxt))
            if _bound(before, "person", poss):
                continue
            out.append(_Anaphor(i, "person", (t.start, t.end), poss))
        elif w in P.PRONOUNS_THING:
            if _bound(before, "thing", w == "its"):
                continue
            out.append(_Anaphor(i, "thing", (t.start, t.end), w == "its"))
        elif w in P.PRONOUNS_PLURAL:
            if _bound(before, "plural", w in ("their", "theirs")):
                continue
            out.append(_Anaphor(i, "plural", (t.start, t.end), w in ("their", "theirs")))
        elif w in P.DEMONSTRATIVES:
            if nxt is None or nxt.low in P.PREPOSITIONS or nxt.low in P.AUX:
                kind = "proposition" if w in ("this", "that") else "plural"
                out.append(_Anaphor(i, kind, (t.start, t.end)))
            elif not P.is_function(nxt) and not nxt.capitalised and not nxt.number:
                if w == "that" and prv is not None and prv.low in _SAY_VERBS:
                    continue  # "said that troops ...": a complement clause
                out.append(_Anaphor(i, "demonstrative", (t.start, nxt.end), noun=nxt.text))
        elif w == "so" and prv is not None and prv.low in _SAY_VERBS and (nxt is None):
            out.append(_Anaphor(i, "proposition", (t.start, t.end)))
        elif w == "there":
            if (nxt is not None and nxt.low in _BE) or (prv is not None and prv.low in _BE):
                continue  # "are there", "there were": existential, not a place
            out.append(_Anaphor(i, "place", (t.start, t.end)))
    return out


_CLAUSE_BOUNDARY = _SAY_VERBS | {"that", "after", "before", "when", "because", "while", "if", "since", "until",
                                 "whether", "although", "though", "once"}


def _bound(before: str, kind: str, possessive: bool) -> bool:
    """Whether the question itself, before the pronoun, names what it points to ("How many soldiers
    did the Iraqi army say it lost?"). A non-possessive pronoun cannot stand for the subject of its
    own clause ("How did the U.S. respond to it?": "it" is not the U.S.), so it is bound only across
    a clause boundary; a possessive can ("Where did the army send its troops?")."""
    for p in P.noun_phrases(before):
        if not possessive and not any(t.low in _CLAUSE_BOUNDARY for t in P.tokens(before[p.end:])):
            continue
        if kind == "person" and p.person:
            return True
        if kind == "thing" and p.proper and not p.person and not p.plural:
            return True
        if kind == "plural" and (p.plural or p.group):
            return True
    return False


def _answer_phrase(turn: Turn, person: bool = False) -> Phrase | None:
    """The top answer as a noun phrase, when it is one (not a clause, a date or a bare number).
    For a person, an answer that is only a description ("a Canadian") is widened to the name set
    beside it in its sentence ("a Canadian, Major-General Jennie Carignan")."""
    top = turn.top
    if top is None:
        return None
    text = top.text.strip()
    if person and top.citations:
        named = _appositive_name(top.citations[0])
        if named:
            text = named
    if person:
        text = P.person_name(text) or text
    toks = P.tokens(text)
    if len(toks) > 6:  # "the changes to Canada's contribution to the coalition fighting ISIS": its head
        lead = P.noun_phrases(text)
        if lead and lead[0].start == 0 and not text[:lead[0].start].strip():
            text = lead[0].text
            toks = P.tokens(text)
    if not toks or len(toks) > 6 or any(P.is_verb_like(t) for t in toks) or toks[0].low in P.PREPOSITIONS:
        return None
    phrase = Phrase(text, 0, len(text), tuple(t.text for t in toks if not P.is_function(t)))
    if not phrase.words or phrase.temporal or all(t.number or t.low in P.FUNCTION_WORDS for t in toks):
        return None
    return phrase


def _appositive_name(citation) -> str | None:
    """The capitalised name right after ", " following the answer in its sentence, when the answer
    itself names no one (news style: "under the command of a Canadian, Major-General Jennie Carignan")."""
    answer = Phrase(citation.text, 0, 0, tuple(t.text for t in P.tokens(citation.text) if not P.is_function(t)))
    if answer.person:
        return None
    after = citation.sentence[citation.end - citation.sentence_start:]
    m = re.match(r"^,\s+((?:[A-Z][\w.'’\-]*\s+){0,4}[A-Z][\w'’\-]*)", after)
    if m:
        name = m.group(1)
        if Phrase(name, 0, 0, tuple(name.split())).person:
            return name
    return None


def _turn_phrases(turn: Turn) -> tuple[Question, list[Phrase]]:
    q = parse_question(turn.interpreted_as)
    subjects = [p for p in q.phrases if p.role == "subject"]
    objects = [p for p in q.phrases if p.role == "object"]
    pps = [p for p in q.phrases if p.role == "pp"]
    return q, subjects + objects + pps


def _candidates(turn: Turn, kind: str, noun: str = ""):
    """Phrases of one turn an anaphor of ``kind`` can stand for, best first."""
    q, ordered = _turn_phrases(turn)
    if turn.cue == ELLIPSIS:
        ordered = []  # its clause is the turn before's, whose phrases are looked at next
    definitional = (q.wh_word in ("what", "who", "where", "when") and q.aux in _BE
                    and len(q.phrases) == 1 and q.phrases[0].proper)
    # The answer is the "it" of the next question when the question asked for a thing ("Which aircraft
    # ...?", "What was sent ...?"); a who-answer is an agent, and "What did X centre on?" is about X.
    asked_entity = q.wh_word in ("which", "what") and bool(q.wh_noun or q.subject_question) and not definitional
    wh_phrase = None
    if q.wh_noun and q.wh_word in ("how many", "which", "what"):
        noun_text = q.wh_noun
        wh_phrase = Phrase(("the " if not noun_text.split()[-1][:1].isupper() else "") + noun_text, 0, 0,
                           tuple(noun_text.split()), "wh")
    if kind == "demonstrative":
        stem = noun.lower().rstrip("s")
        pool = P.noun_phrases(turn.top.text) if turn.top is not None else []  # the answer's phrases first
        pool += ordered + ([wh_phrase] if wh_phrase else [])
        for p in pool:
            if any(w.lower().rstrip("s") == stem for w in p.words):
                yield p.text
        return
    if kind == "person":
        ans = _answer_phrase(turn, person=True)
        if ans is not None and ans.person:
            yield ans.text
        if turn.referent and Phrase(turn.referent, 0, 0, tuple(turn.referent.split())).person:
            yield turn.referent
        for p in ordered:
            if p.person:
                yield p.text
        if q.wh_word == "who" and q.aux in _BE and q.aux_index + 1 < len(q.toks):
            # "Who is the commander of Joint Task Force-Iraq?" unanswered: "he" is that commander
            yield _strip_q(q.text[q.toks[q.aux_index + 1].start:])
        return
    if kind == "thing":
        if definitional:
            yield q.phrases[0].text
        if turn.referent and _thing(Phrase(turn.referent, 0, 0, tuple(turn.referent.split()))):
            yield turn.referent
        ans = _answer_phrase(turn)
        if asked_entity and ans is not None and _thing(ans):
            yield ans.text
        # things before groups: "it" after "a Shia militia group carried out the rocket attack"
        things = [p for p in ordered if _thing(p)]
        for p in sorted(things, key=lambda p: p.group):
            yield p.text
        return  # a where/when/how answer is a place, a time or a manner: not what "it" means
    if kind == "plural":
        ans = _answer_phrase(turn)
        if ans is not None and (ans.plural or ans.group):
            yield ans.text
        if turn.referent:
            ref = Phrase(turn.referent, 0, 0, tuple(turn.referent.split()))
            if ref.plural or ref.group:
                yield turn.referent
        if wh_phrase is not None and (wh_phrase.plural or wh_phrase.group):
            yield wh_phrase.text
        for p in ordered:
            if (p.plural or p.group) and not p.temporal:
                yield p.text
        return
    if kind == "place":
        if q.wh_word == "where":
            ans = _answer_phrase(turn)
            if ans is not None:
                yield ans.text
            elif turn.top is not None:
                yield turn.top.text
        for p in ordered:
            if p.role == "pp" and p.preposition in ("in", "at", "to", "from", "inside", "near") and p.proper:
                yield p.text


def _thing(p: Phrase) -> bool:
    """What "it" can stand for: not a person, time or plural, and more than a bare common noun
    ("join" in "sent to join ...", "training")."""
    referable = p.proper or len(p.words) >= 2 or P.tokens(p.text)[0].low in P.DETERMINERS
    return bool(p.words) and referable and not p.person and not p.temporal and not p.plural


def _clause_parts(turn: Turn, q: Question) -> tuple[str, str]:
    """(the previous question without its wh-phrase, the answer in the wh-phrase's place):
    "How many missiles did Iran fire?" answered "22" -> ("did Iran fire", "22 missiles")."""
    text = _strip_q(turn.interpreted_as)
    toks = q.toks
    wh_first, wh_last = toks[q.wh_start], toks[q.wh_end - 1]
    clause = (text[:wh_first.start] + text[wh_last.end:]).strip(" ,")
    answer = turn.top.text.strip() if turn.top else ""
    if len(P.tokens(answer)) > 5:  # a long answer adds its own words to the next question: keep its head
        lead = P.noun_phrases(answer)
        answer = lead[0].text if lead and lead[0].start == 0 else ""
    prep = toks[q.wh_start].low if toks[q.wh_start].low in P.PREPOSITIONS else ""
    if q.wh_word in ("how many", "how much"):
        noun = q.wh_noun
        if answer and noun and not any(w.lower() in answer.lower() for w in noun.split()):
            answer = f"{answer} {noun}"
        elif not answer:
            answer = noun
    elif not answer and q.wh_noun:
        answer = ("the " if not q.wh_noun.split()[-1][:1].isupper() else "") + q.wh_noun
    if prep and answer and not answer.lower().startswith(prep):
        answer = f"{prep} {answer}"
    return clause, answer


def proposition(turn: Turn) -> str:
    """The previous question turned into a statement with its answer in place, for "Who said so?":
    "Since when had Canadian troops been at higher alert?" + "since about Dec. 28" ->
    "Canadian troops had been at higher alert since about Dec. 28"."""
    q = parse_question(turn.interpreted_as)
    if q.wh_start < 0 or turn.top is None:
        return ""
    clause, answer = _clause_parts(turn, q)
    if q.subject_question:
        return f"{answer} {clause}".strip()
    ct = P.tokens(clause)
    if ct and ct[0].low in P.AUX:
        aux, rest = ct[0].text, clause[ct[0].end:].strip()
        if aux.lower() in P.DO:
            clause = rest
        else:  # "had Canadian troops been at ..." -> "Canadian troops had been at ..."
            rt = P.tokens(rest)
            k = 0
            while k < len(rt) and not (rt[k].low in P.AUX or P.is_verb_like(rt[k]) or rt[k].low in P.PREPOSITIONS
                                       or rt[k].low.endswith("ly")):
                k += 1
            if 0 < k < len(rt):
                clause = f"{rest[:rt[k - 1].end]} {aux} {rest[rt[k].start:]}"
    return f"{clause} {answer}".strip()


def _replace_pp(clause: str, tail: str) -> str:
    """``clause`` with ``tail``'s leading prepositional phrase in place of the clause's last one with
    the same preposition ("in all" -> "in Iraq before the strikes"), else with ``tail`` at the end."""
    tt = P.tokens(tail)
    if tt and tt[0].low in P.PREPOSITIONS:
        ct = P.tokens(clause)
        at = [i for i, t in enumerate(ct) if t.low == tt[0].low]
        if at:
            i = at[-1]
            k = i + 1
            while k < len(ct) and not (ct[k].low in P.PREPOSITIONS or ct[k].low in P.AUX or P.is_verb_like(ct[k])):
                k += 1
            end = ct[k - 1].end if k > i + 1 else ct[i].end
            return f"{clause[:ct[i].start]}{tail}{clause[end:]}"
    return f"{clause} {tail}"


def _swap_candidates(turn: Turn, x: Phrase):
    """(score, phrase) for each phrase of an earlier question that ``x`` could replace. Scores: a
    shared word 3, the phrase the turn itself resolved to 2, object 2, subject 1, the head's
    capitalisation and number matching ``x``'s one each; never a person for a non-person (or back)."""
    q, ordered = _turn_phrases(turn)
    pool = list(ordered)
    if turn.referent and turn.referent in turn.interpreted_as:
        ref = P.noun_phrases(turn.referent)
        if ref:
            pool.insert(0, Phrase(turn.referent, 0, 0, ref[-1].words, "referent"))
    x_words = {w.lower().rstrip("s") for w in x.words}
    for p in pool:
        if not p.words or p.temporal:
            continue
        score = 0.0
        if x_words & {w.lower().rstrip("s") for w in p.words}:
            score += 3
        score += {"referent": 3, "object": 2, "subject": 1}.get(p.role, 0)
        score += (p.head[:1].isupper()) == (x.head[:1].isupper())
        score += P.plural_word(p.head) == P.plural_word(x.head)
        if p.person != x.person:
            continue  # "What about Joint Task Force Impact?" never replaces a person
        yield score, p
