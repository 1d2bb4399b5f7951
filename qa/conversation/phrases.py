"""Just enough English for follow-up questions: word classes, noun phrases, and where a question's
wh-phrase, auxiliary and main verb are. Rules, not a model: news questions are short and regular,
capitalisation marks names, and every rule here is cheap (microseconds per question).

>>> q = parse_question("How many missiles did Iran fire?")
>>> q.wh_text, q.aux, [p.text for p in q.phrases]
('How many missiles', 'did', ['Iran'])
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# A token: a word with inner hyphens, apostrophes, slashes or dots (U.S., St-Louis, Brig.-Gen.,
# CF-18, Kuwait's), or a number with its currency sign, separators and unit ($371, 2.5, 40%).
_TOKEN = re.compile(r"\$?\d[\d,.]*%?|[^\W\d_](?:[\w'’\-/&]|\.(?=[\w\-]))*\.?|\d\w*")

WH = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how"}
AUX = {"is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "has", "have", "had",
       "will", "would", "can", "could", "should", "shall", "may", "might", "must"}
DO = {"do", "does", "did"}
DETERMINERS = {"the", "a", "an", "this", "that", "these", "those", "some", "any", "each", "every", "all",
               "both", "no", "another", "other", "such", "its", "his", "her", "their", "our", "my", "your"}
PREPOSITIONS = {"of", "in", "on", "at", "to", "from", "by", "with", "for", "about", "into", "onto", "over",
                "under", "after", "before", "since", "until", "till", "during", "between", "among", "through",
                "against", "without", "within", "across", "behind", "beyond", "near", "per", "than", "via",
                "despite", "toward", "towards", "upon", "according", "inside", "outside", "around", "like"}
CONJUNCTIONS = {"and", "or", "but", "nor", "so", "if", "whether", "because", "while", "as", "then"}
PRONOUNS_PERSON = {"he", "she", "him", "her", "his", "hers", "himself", "herself"}
PRONOUNS_THING = {"it", "its", "itself"}
PRONOUNS_PLURAL = {"they", "them", "their", "theirs", "themselves"}
DEMONSTRATIVES = {"this", "that", "these", "those"}
OTHER_PRONOUNS = {"i", "me", "we", "us", "you", "one", "ones", "someone", "anyone", "everyone", "something"}
ADVERBS = {"not", "now", "also", "still", "yet", "just", "only", "even", "ever", "already", "again", "very",
           "really", "there", "here", "then", "next", "later", "else", "much", "many", "long", "far", "often",
           "soon", "first", "last", "most", "more", "less", "least", "so", "too", "exactly", "roughly", "about",
           "out", "up", "off", "down", "away", "back"}  # the last six: particles of phrasal verbs ("carried out")
FUNCTION_WORDS = (WH | AUX | DETERMINERS | PREPOSITIONS | CONJUNCTIONS | PRONOUNS_PERSON | PRONOUNS_THING
                  | PRONOUNS_PLURAL | OTHER_PRONOUNS | ADVERBS)
# Irregular verb forms a question's main verb often takes (regular ones end in -ed or follow an auxiliary).
IRREGULAR_VERBS = {
    "said", "says", "say", "told", "tell", "tells", "took", "take", "takes", "made", "make", "makes", "gave",
    "give", "gives", "went", "go", "goes", "came", "come", "comes", "began", "begin", "begins", "begun", "fought",
    "fight", "led", "lead", "leads", "left", "leave", "leaves", "met", "meet", "sent", "send", "won", "win",
    "lost", "lose", "held", "hold", "holds", "got", "get", "gets", "kept", "keep", "found", "find", "built",
    "build", "bought", "buy", "paid", "pay", "ran", "run", "saw", "see", "seen", "knew", "know", "known",
    "became", "become", "thought", "think", "brought", "bring", "put", "set", "hit", "struck", "strike", "fell",
    "fall", "rose", "rise", "spent", "spend", "stood", "stand", "shot", "shoot", "chose", "choose", "wrote",
    "write", "written", "spoke", "speak", "flew", "fly", "grew", "grow", "caught", "sold", "sell", "taught",
    "teach", "meant", "mean", "happen", "happens", "want", "wants", "need", "needs", "mean", "means"}
# Words that make a capitalised phrase a person rather than a place, group or thing.
TITLES = {"general", "gen.", "brig.-gen.", "brigadier-general", "major-general", "lt.-gen.", "lieutenant-general",
          "maj.-gen.", "col.", "colonel", "capt.", "captain", "sgt.", "sergeant", "officer", "minister", "president",
          "prime", "dr.", "mr.", "mrs.", "ms.", "chief", "commander", "premier", "senator", "king", "queen", "pope",
          "secretary", "mayor", "governor", "judge", "justice", "professor", "prof.", "rev.", "sir", "lady", "lord",
          "admiral", "lieutenant", "corporal", "private", "warrant", "spokesperson", "spokesman", "spokeswoman"}
# Heads that make a phrase a group ("they" or "it"), and heads of names that are not people.
GROUP_WORDS = {"group", "army", "forces", "force", "militia", "militias", "police", "government", "coalition",
               "legislators", "troops", "soldiers", "team", "party", "council", "committee", "company", "people",
               "fighters", "personnel", "units", "staff", "members", "officials", "authorities", "military"}
NAME_NOT_PERSON = {"operation", "force", "forces", "task", "army", "air", "base", "camp", "news", "mail", "group",
                   "ministry", "department", "university", "council", "coalition", "organization", "treaty",
                   "committee", "party", "bank", "city", "province", "state", "states", "nations", "union",
                   "republic", "islamic", "embassy", "school", "mission", "war", "gulf", "north", "south", "east",
                   "west", "atlantic", "canada", "iraq", "kuwait", "iran", "nato", "isis", "daesh", "u.s.", "ctv",
                   "globe", "company", "inc.", "corp.", "ltd.", "agency", "office", "court", "house", "hospital"}
ORDINALS = {"first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "last",
            "next", "new", "old", "former", "late"}
MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december", "jan.", "feb.", "mar.", "apr.", "jun.", "jul.", "aug.", "sep.", "sept.", "oct.",
          "nov.", "dec.", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}


@dataclass(frozen=True)
class Token:
    text: str
    start: int  # offsets into the question text
    end: int

    @property
    def low(self) -> str:
        return self.text.lower()

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()

    @property
    def number(self) -> bool:
        return self.text[:1].isdigit() or self.text[:1] == "$"


def tokens(text: str) -> list[Token]:
    out = []
    for m in _TOKEN.finditer(text):
        word = m.group(0)
        # A final period belongs to an abbreviation (U.S., Dec., Gen.), not to a word ending a sentence.
        if word.endswith(".") and not (len(word) <= 5 and word[:1].isupper() or "." in word[:-1]):
            word = word[:-1]
        out.append(Token(word, m.start(), m.start() + len(word)))
    return out


def is_function(t: Token) -> bool:
    return t.low in FUNCTION_WORDS


def is_verb_like(t: Token) -> bool:
    """A word that reads as a verb where a noun phrase could also stand (-ed forms, irregular forms)."""
    w = t.low
    return not t.capitalised and (w in IRREGULAR_VERBS or (len(w) > 4 and w.endswith("ed")))


def plural_word(word: str) -> bool:
    w = word.lower()
    return len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "'s", "’s"))


@dataclass(frozen=True)
class Phrase:
    """A noun phrase of a question or answer: its words, where it is, and what it could be."""

    text: str
    start: int  # offsets into the text it was cut from
    end: int
    words: tuple[str, ...]  # content words, as written
    role: str = ""  # "subject", "object", "pp" (inside a prepositional phrase), "wh" (the wh-phrase's noun)
    preposition: str = ""  # for role "pp": the preposition that introduces it

    @property
    def head(self) -> str:
        return self.words[-1] if self.words else ""

    @property
    def proper(self) -> bool:
        return any(w[:1].isupper() for w in self.words)

    @property
    def person(self) -> bool:
        """Looks like a person: a title, or two to four capitalised words none of which names a
        place, group or thing (Jennie Carignan, Qassem Soleimani; not Joint Task Force Impact)."""
        return person_name(" ".join(self.words)) is not None

    @property
    def plural(self) -> bool:
        low = [w.lower() for w in self.words]
        if " and " in f" {self.text.lower()} ":
            return True  # "ISIS and Daesh"
        return bool(low) and (plural_word(low[-1]) and not self.words[-1][:1].isupper()
                              or low[-1] in GROUP_WORDS - {"army", "force", "group", "government", "coalition",
                                                           "police", "military", "team", "party", "council",
                                                           "committee", "company"})

    @property
    def group(self) -> bool:
        return bool(self.words) and self.words[-1].lower() in GROUP_WORDS

    @property
    def temporal(self) -> bool:
        """A date, a year or a duration: never what "it" or "he" stands for."""
        low = [w.lower() for w in self.words]
        return bool(low) and all(w in MONTHS or w[:1].isdigit() or w in ("years", "year", "days", "day", "weeks",
                                                                         "months", "mid-december") for w in low)


def noun_phrases(text: str, toks: list[Token] | None = None, verbs: frozenset[Token] = frozenset()) -> list[Phrase]:
    """Maximal runs of content words (determiners kept in front; a phrase after a preposition has
    role "pp"), split where a verb-like word, or one of ``verbs``, stands. Numbers count as
    content ("22 missiles")."""
    toks = tokens(text) if toks is None else toks
    phrases: list[Phrase] = []
    i = 0
    prep = ""
    while i < len(toks):
        t = toks[i]
        if t.low in PREPOSITIONS:
            prep = t.low
            i += 1
            continue
        if is_function(t) and t.low not in DETERMINERS - DEMONSTRATIVES - {"its", "his", "her", "their"}:
            if t.low not in PREPOSITIONS:
                prep = "" if t.low not in DETERMINERS else prep
            i += 1
            continue
        j = i
        while j < len(toks) and toks[j].low in DETERMINERS:
            j += 1
        k = j
        while k < len(toks) and not is_function(toks[k]) and not is_verb_like(toks[k]) and toks[k] not in verbs:
            k += 1
        while (k + 1 < len(toks) and toks[k].low == "and" and toks[k - 1].capitalised and toks[k + 1].capitalised
               and not is_function(toks[k + 1])):
            k += 1
            while k < len(toks) and not is_function(toks[k]) and not is_verb_like(toks[k]) and toks[k] not in verbs:
                k += 1
        if k > j:
            words = tuple(x.text for x in toks[j:k] if x.low != "and")
            phrases.append(Phrase(text[toks[i].start:toks[k - 1].end], toks[i].start, toks[k - 1].end, words,
                                  role="pp" if prep else "", preposition=prep))
            prep = ""
            i = k
        else:
            i = max(j, i + 1)
            prep = ""
    return phrases


@dataclass(frozen=True)
class Question:
    """A question taken apart: ``wh`` is the wh-phrase (with a preposition before it and the noun
    after "how many" / "which" / "what"), ``aux`` the auxiliary after it, ``subject_question``
    whether the wh-phrase is the subject (then no auxiliary inversion: "Who commands X?")."""

    text: str
    toks: tuple[Token, ...]
    wh_start: int  # token indices of the wh-phrase, [wh_start, wh_end); -1 when there is none
    wh_end: int
    wh_word: str  # "who", "when", "how many", ...
    aux_index: int  # token index of the auxiliary after the wh-phrase, -1 when none
    phrases: tuple[Phrase, ...]  # noun phrases outside the wh-phrase, in order, with roles
    subject_question: bool
    lead: str  # a connective in front ("and", "but", "also"), "" when none

    @property
    def wh_text(self) -> str:
        if self.wh_start < 0:
            return ""
        return self.text[self.toks[self.wh_start].start:self.toks[self.wh_end - 1].end]

    @property
    def aux(self) -> str:
        return self.toks[self.aux_index].low if self.aux_index >= 0 else ""

    @property
    def wh_noun(self) -> str:
        """The noun a "how many"/"which"/"what" phrase asks about ("missiles"), else ""."""
        if self.wh_start < 0:
            return ""
        words = [t.text for t in self.toks[self.wh_start:self.wh_end] if not is_function(t)]
        return " ".join(words)

    @property
    def has_verb(self) -> bool:
        """An auxiliary or a verb-like word anywhere, or a word right after a subject wh-phrase."""
        return self.aux_index >= 0 or any(t.low in AUX or is_verb_like(t) for t in self.toks) or self.subject_question


def parse_question(text: str) -> Question:
    toks = tokens(text)
    lead = ""
    start = 0
    while start < len(toks) and toks[start].low in ("and", "but", "also", "so", "then", "now", "ok", "okay", "well"):
        if not lead:
            lead = toks[start].low
        start += 1
    wh_start = wh_end = -1
    wh_word = ""
    for i in range(start, len(toks)):
        after_comma = i > start and "," in text[toks[i - 1].end:toks[i].start]
        if toks[i].low in WH and (i < start + 4 or after_comma):
            wh_start = i
            # a preposition (or two: "according to") in front belongs to it: "At how many bases", "To whom"
            while wh_start > start and toks[wh_start - 1].low in PREPOSITIONS:
                wh_start -= 1
            wh_word = toks[i].low
            wh_end = i + 1
            if wh_word == "how" and wh_end < len(toks) and toks[wh_end].low in ("many", "much", "long", "far", "old",
                                                                                "large", "big", "often", "soon"):
                wh_word = f"how {toks[wh_end].low}"
                wh_end += 1
            if wh_word in ("how many", "how much", "which", "what", "whose"):
                # the noun asked about, up to an auxiliary, a preposition other than "of", or a verb
                k = wh_end
                while k < len(toks) and not (toks[k].low in AUX or (is_function(toks[k]) and toks[k].low != "of")
                                             or is_verb_like(toks[k])):
                    k += 1
                if toks[k - 1].low == "of" if k > wh_end else False:
                    k -= 1
                wh_end = k
            break
    aux_index = wh_end if 0 <= wh_end < len(toks) and toks[wh_end].low in AUX else -1
    subject_question = False
    if wh_start >= 0 and wh_end < len(toks):
        nxt = toks[wh_end]
        if aux_index < 0:
            subject_question = not is_function(nxt)  # "Who commands ...", "What happened ..."
        elif nxt.low not in DO and aux_index + 1 < len(toks):
            # "Which aircraft will come home", "How many engineers were deployed": a verb right
            # after the auxiliary, not a noun phrase (which would make the wh-phrase the object)
            after = toks[aux_index + 1]
            subject_question = is_verb_like(after) or (after.low.endswith("ing") and not after.capitalised)
    verbs = _main_verb_after_do(toks, aux_index) if aux_index >= 0 and toks[aux_index].low in DO else frozenset()
    if subject_question and aux_index < 0:
        verbs = frozenset({toks[wh_end]})  # "Who commands ...": the word after the wh-phrase is the verb
    body = [t for i, t in enumerate(toks) if not (wh_start <= i < wh_end)]
    phrases = noun_phrases(text, body, verbs)
    # Roles: in "did Iran fire ..." the first phrase after a do-auxiliary is the subject; a phrase
    # after the main verb is its object.
    roled = []
    seen_subject = False
    wh_offset = toks[wh_start].start if wh_start >= 0 else -1
    for p in phrases:
        role = p.role
        if not role and p.start < wh_offset:
            role = "adjunct"  # "After Justin Trudeau took office, what ...": before the question proper
        if not role:
            if not seen_subject and (aux_index >= 0 and not subject_question or wh_start < 0):
                role = "subject"
                seen_subject = True
            else:
                role = "object"
        roled.append(Phrase(p.text, p.start, p.end, p.words, role, p.preposition))
    return Question(text, tuple(toks), wh_start, wh_end, wh_word, aux_index, tuple(roled), subject_question, lead)


def _main_verb_after_do(toks: list[Token], aux_index: int) -> frozenset[Token]:
    """The main verb of "did Iran fire", "do Canadians operate helicopters", "did they strike": after
    do-support it is a bare form, so the last lowercase, non-plural word of the first run of
    content words that has one after its first word (or the first word after a pronoun subject)."""
    i = aux_index + 1
    if i < len(toks) and toks[i].low in PRONOUNS_PERSON | PRONOUNS_THING | PRONOUNS_PLURAL | OTHER_PRONOUNS:
        j = i + 1
        while j < len(toks) and is_function(toks[j]):
            j += 1
        return frozenset({toks[j]}) if j < len(toks) else frozenset()
    while i < len(toks):
        if is_function(toks[i]):
            i += 1
            continue
        k = i
        while k < len(toks) and not is_function(toks[k]):
            k += 1
        run = toks[i:k]
        verbs = [t for t in run[1:] if not t.capitalised and not t.number and not plural_word(t.text)]
        if verbs:
            return frozenset({verbs[-1]})
        i = k
    return frozenset()


def person_name(text: str) -> str | None:
    """The person a phrase names, or None: the whole phrase when it carries a title ("Brigadier-General
    Dan MacIsaac"), else its longest run of two to four capitalised words that name no place, group or
    thing ("CTV News' Mercedes Stephenson" -> "Mercedes Stephenson")."""
    toks = tokens(text)
    words = tuple(t.text for t in toks if not is_function(t))
    if not words:
        return None
    titled = [i for i, t in enumerate(toks) if t.capitalised and (t.low in TITLES or "-gen" in t.low)]
    if titled:  # the title and the capitalised words after it, up to a comma: "General Qassem Soleimani"
        i = k = titled[0]
        while k + 1 < len(toks) and toks[k + 1].capitalised and "," not in text[toks[k].end:toks[k + 1].start]:
            k += 1
        if k > i or toks[i].low in ("commander", "chief"):
            return text[toks[i].start:toks[k].end]
    best: list[Token] = []
    run: list[Token] = []
    for t in toks + [Token("", 0, 0)]:
        if t.capitalised and t.low not in NAME_NOT_PERSON and t.low not in MONTHS and t.low not in ORDINALS \
                and not t.text.endswith("'"):
            run.append(t)
            continue
        # a name ends its phrase: "Hercules" in "Hercules transport planes" modifies a noun
        ends_phrase = not t.text or is_function(t) or "," in text[run[-1].end:t.start] if run else False
        if 2 <= len(run) <= 4 and len(run) > len(best) and ends_phrase:
            best = run
        run = []
    return text[best[0].start:best[-1].end] if best else None
