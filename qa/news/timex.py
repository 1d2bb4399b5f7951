"""Time expressions in article text, found and resolved against the article's publication date.

>>> [(t.text, t.value) for t in find_time_expressions(
...     "Trump went to Walter Reed on Saturday. The vote is scheduled for Feb. 14.", "2019-11-18")]
[('Saturday', '2019-11-16'), ('Feb. 14', '2020-02-14')]

What is found (``find_time_expressions``):

* absolute: "November 18, 2019", "18 November 2019", "Monday, Nov. 18", "Nov. 18", "Feb. 14",
  "August 2016", "2019" (after a word such as "in", "since", "the"), "2019-11-18", "the 1990s";
* relative: "Saturday" (in "on Saturday" too), "last Wednesday", "next Tuesday", "in February",
  "mid-December", "last month", "earlier this year", "two years ago", "yesterday", "today",
  "this week", "next year".

Resolution (``resolve``) keeps the precision the text gives: a day (YYYY-MM-DD), a month (YYYY-MM)
or a year (YYYY); a week or weekend is a range of days, ``START/END``. What has no year or is
relative is placed by the sentence's tense: "was evicted in April" is the April on or before the
article, "is scheduled to take place in February" the February on or after it, a weekday likewise
(AP style names the weekday even for the day of the story itself); with no tense to go on, a
weekday is taken as past (news reports what happened) and a month or day as the nearest one.
"last Wednesday" is the one before the article's day, "next Tuesday" the one after.

When the article's own date is only a month or a year ("2020-01", "2017"), every relative
expression is resolved against the first and the last day it could be, and the value is the range
that spans both (``2019-12-28/2020-01-25`` for "Saturday" in a January 2020 article); what both
give alike stays a single value ("last Wednesday" of "2020-01" is still a range, "2019" is "2019").
Without an article date, only expressions that name their year are kept.

Why not dateparser for all of it: it reads each phrase on its own, so it cannot see the tense of
the sentence (``PREFER_DATES_FROM`` is one setting per call), has no "mid-December" or "earlier
this year", and cannot find the phrases in running text without false hits ("May", "March",
"Sunday Times"). It is measured beside this resolver on the same fixtures by
``scripts/timex_quality.py`` (reports/extract.md), where it does serve as the reference for
reading a phrase once the tense is known.

Finding is regular expressions only (no imports beyond the standard library): indexing pays a
few milliseconds per article.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

# Bump when finding or resolving changes: indexes record it and recompute their articles' dates.
TIMEX_VERSION = 1

DAY, WEEK, MONTH, YEAR = "day", "week", "month", "year"

_MONTHS = {"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
           "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
           "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
           "oct": 10, "nov": 11, "dec": 12}
_WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20}

# Month names as news prints them; case-sensitive (a capital letter: "may" is the verb). A bare
# abbreviation without a dot ("Nov 18") is allowed only before a day.
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
          r"|Jan\.|Feb\.|Mar\.|Apr\.|Aug\.|Sept\.|Sep\.|Oct\.|Nov\.|Dec\.)")
_MONTH_BEFORE_DAY = _MONTH[:-1] + r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)"
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DAYNUM = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[7-9]\d\d|20\d\d)"
_NUM = r"(?:\d{1,3}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + ")"
# Words before a bare month or year that make it a time ("in March", "since 2019", "the 2019 vote").
_LEAD = (r"(?:[Ii]n|[Oo]n|[Ss]ince|[Uu]ntil|[Tt]ill|[Bb]y|[Ff]rom|[Tt]hrough|[Dd]uring|[Bb]efore|[Aa]fter|"
         r"[Bb]etween|[Oo]f|and|or|to|[Aa]round|[Ee]arly|[Ll]ate|[Tt]his|[Ll]ast|[Nn]ext|[Tt]he|[Ee]nd|"
         r"[Ss]tart|[Bb]eginning|[Mm]iddle|[Cc]irca|[Aa]s\s+of|[Ff]or)")

_PATTERNS: list[tuple[str, re.Pattern]] = [
    # 2019-11-18
    ("iso", re.compile(r"(?<![\d-])(?P<y>" + _YEAR + r")-(?P<m>0[1-9]|1[0-2])-(?P<d>[0-2]\d|3[01])(?![\d-])")),
    # (Monday,) Nov. 18(, 2019) -- the year and the weekday are optional
    ("month_day", re.compile(r"(?:(?P<wd>" + _WEEKDAY + r"),?\s+)?(?P<mon>" + _MONTH_BEFORE_DAY + r")\s+(?P<d>"
                             + _DAYNUM + r")\b(?!:|\.\d|,\d)(?:,?\s+(?P<y>" + _YEAR + r")\b(?![,.]\d))?")),
    # (Monday,) 18 November(, 2019)
    ("day_month", re.compile(r"(?:(?P<wd>" + _WEEKDAY + r"),?\s+)?(?<![\d.,])(?P<d>" + _DAYNUM
                             + r")\s+(?:of\s+)?(?P<mon>" + _MONTH + r")(?:,?\s+(?P<y>" + _YEAR + r")\b(?![,.]\d))?")),
    # (early / mid- / late) August 2016
    ("month_year", re.compile(r"(?:(?P<mod>[Ee]arly|[Mm]id|[Ll]ate)[- ])?(?P<mon>" + _MONTH
                              + r"),?\s+(?:of\s+)?(?P<y>" + _YEAR + r")\b(?![,.]\d)")),
    # last / next / this December
    ("rel_month", re.compile(r"(?P<rel>(?i:last|next|this(?:\s+(?:past|coming))?))\s+(?P<mon>" + _MONTH + r")(?![A-Za-z])")),
    # mid-December, early March, in February (a bare month needs a leading word; text excludes it)
    ("month", re.compile(r"(?P<mod>(?:[Ee]arly|[Mm]id|[Ll]ate)[- ])?(?P<mon>" + _MONTH + r")(?![A-Za-z])(?!\s*\d)")),
    # last Wednesday, next Tuesday, this Friday
    ("rel_weekday", re.compile(r"(?P<rel>(?i:last|next|this(?:\s+(?:past|coming))?|coming|past))\s+(?P<wd>"
                               + _WEEKDAY + r")\b(?!s)")),
    ("weekday", re.compile(r"(?P<wd>" + _WEEKDAY + r")\b(?!s\b|')")),
    # earlier this year, late last month, early next week
    ("part_of", re.compile(r"(?i:(?P<part>earlier|later|early|late|the\s+end\s+of|the\s+start\s+of|the\s+beginning\s+of)"
                           r"\s+(?P<rel>this|last|next)\s+(?P<unit>week|month|year))\b")),
    # last month, this week, next year, last weekend
    ("rel_unit", re.compile(r"(?i:(?P<rel>last|next|this)\s+(?P<unit>weekend|week|month|year))\b")),
    # two years ago, 3 days ago, a decade ago
    ("ago", re.compile(r"(?i:(?P<n>" + _NUM + r")\s+(?P<unit>day|week|month|year|decade)s?\s+ago)\b")),
    # yesterday, today, tomorrow, tonight, last night, this morning
    ("deictic", re.compile(r"\b(?i:(?P<word>yesterday|today|tomorrow|tonight|last\s+night|"
                           r"this\s+(?:morning|afternoon|evening)))\b")),
    # the 1990s
    ("decade", re.compile(r"(?<=\b[Tt]he\s)(?:(?P<mod>early|mid|late)[- ])?(?P<y>(?:1[7-9]|20)\d0)s\b")),
    # in 2019, since 2019, the 2019 election (a bare year needs a leading word)
    ("year", re.compile(r"(?<![\d$€£#.,/-])(?P<y>" + _YEAR + r")\b(?![,.]\d|%|-\d|–\d|\s*(?:per\s*cent|percent))")),
]
_NOT_A_WEEKDAY_BEFORE = re.compile(r"(?:first|second|third|fourth|every|each|Good|Black|Super|Cyber|Bloody|Ash|Easter|Palm|Holy|Shrove|Fat|Maundy|"
                                   r"Giving|Manic|Blue|Mad)\s+$")
_NOT_A_WEEKDAY_AFTER = re.compile(r"\s+(?:Times|Telegraph|Mirror|Express|Herald|Post|Star|Mail|Club|Sport|Review|"
                                  r"Independent|Night|Morning|Afternoon|Evening|Service|School|Show|Edition|"
                                  r"Magazine|Sun|Observer|Business|Briefing|League)\b")
_YEAR_LEAD = re.compile(r"(?:\b" + _LEAD + r"|\b(?:mid|early|late)-|['’]s)\s*$")
# "of 2019 people": a count, not a year (a plural word, or one of the usual counted nouns, follows)
_COUNT_AFTER = re.compile(r"\s+(?:(?!was\b|has\b|is\b|as\b|its\b|this\b|his\b|times\b|elections\b|games\b|"
                          r"olympics\b|polls\b|talks\b|protests\b|floods\b|riots\b|accords\b)[a-z]+s\b|"
                          r"people\b|staff\b|police\b|personnel\b|cattle\b|sheep\b|feet\b|men\b|women\b|"
                          r"children\b|kilometres\b|miles\b|metres\b)")


@dataclass(frozen=True)
class Span:
    """A resolved time: the first and last day it may be, and the precision the text gave."""

    first: dt.date
    last: dt.date
    precision: str  # DAY | WEEK | MONTH | YEAR

    def value(self) -> str:
        """ISO: YYYY-MM-DD, YYYY-MM or YYYY when the span is one such unit, else START/END."""
        p = self.precision
        if p in (DAY, WEEK):
            return self.first.isoformat() if self.first == self.last else f"{self.first}/{self.last}"
        if p == MONTH:
            a, b = self.first.strftime("%Y-%m"), self.last.strftime("%Y-%m")
        else:
            a, b = f"{self.first.year:04d}", f"{self.last.year:04d}"
        return a if a == b else f"{a}/{b}"

    def union(self, other: "Span") -> "Span":
        return Span(min(self.first, other.first), max(self.last, other.last), self.precision)


@dataclass(frozen=True)
class TimeExpression:
    """A time expression of an article: ``text == article_text[start:end]`` and its resolved
    ``value`` (ISO, see ``Span.value``)."""

    text: str
    start: int
    end: int
    value: str

    def to_dict(self) -> dict:
        return {"text": self.text, "start": self.start, "end": self.end, "value": self.value}

    def readable(self) -> str:
        return readable(self.value)


# ------------------------------------------------------------------ the article's own date

def date_range(published: str) -> tuple[dt.date, dt.date] | None:
    """The first and last day an ISO date (YYYY-MM-DD, YYYY-MM or YYYY) may be; None when it is not one."""
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", (published or "").strip())
    if not m:
        return None
    try:
        y = int(m[1])
        if m[3]:
            d = dt.date(y, int(m[2]), int(m[3]))
            return d, d
        if m[2]:
            mo = int(m[2])
            return dt.date(y, mo, 1), dt.date(y, mo, calendar.monthrange(y, mo)[1])
        return dt.date(y, 1, 1), dt.date(y, 12, 31)
    except ValueError:
        return None


# ------------------------------------------------------------------ tense

_FUTURE_WORDS = {"will", "shall", "won't", "'ll", "upcoming", "would", "scheduled", "expected", "slated",
                 "planned", "plans", "plan", "planning", "tomorrow", "next", "coming", "aims", "intends", "due"}
# Present tense in news announces what is planned: "the council meets on Monday", "the vote is on
# Friday", "the Super Bowl kicks off on Sunday".
_SCHEDULED = {"is", "are", "meets", "meet", "opens", "starts", "begins", "ends", "resumes", "returns", "closes",
              "launches", "arrives", "departs", "votes", "plays", "faces", "hosts", "visits", "travels", "heads",
              "kicks", "runs", "goes", "takes", "hold", "holds", "expires", "reopens", "premieres", "airs"}
_PAST_WORDS = {"was", "were", "had", "did", "didn't", "wasn't", "weren't", "hadn't", "ago", "said", "went", "came",
               "took", "gave", "made", "met", "told", "saw", "began", "left", "held", "won", "lost", "fell", "rose",
               "sent", "spent", "struck", "fled", "flew", "broke", "brought", "bought", "caught", "fought", "found",
               "got", "grew", "hit", "kept", "knew", "led", "paid", "put", "ran", "sat", "set", "shot", "sold",
               "spoke", "stood", "thought", "threw", "understood", "wrote", "yesterday", "earlier", "last",
               "previously", "already", "been", "became", "chose", "drew", "drove", "ate", "forgot", "heard",
               "hid", "rang", "rode", "sang", "sank", "swam", "tore", "wore", "woke", "won", "returned"}
# "-ed" words that are not past tense, or that announce a future ("is expected to").
_NOT_PAST_ED = {"need", "speed", "seed", "feed", "bed", "red", "shed", "bled", "indeed", "hundred", "based",
                "armed", "united", "related", "interested", "concerned", "scheduled", "expected", "slated",
                "planned", "proposed", "anticipated", "supposed", "required", "allowed", "aged", "advanced",
                "used", "limited", "detailed", "mixed", "naked", "wicked", "sacred", "beloved", "alleged",
                "accused", "injured", "wounded", "killed", "detained", "embed", "proceed", "exceed", "succeed",
                "ted", "ned", "ed", "fred", "reed", "breed", "greed", "weed"}
_WORD = re.compile(r"[A-Za-z]+(?:['’][a-z]+)?")
_CLAUSE_END = re.compile(r"[.;!?](?=\s+[A-Z\"“‘(])|\n")
PAST, FUTURE, NONE = "past", "future", ""


def _word_tense(word: str, previous: str, following: str = "") -> str:
    w = word.lower().replace("’", "'")
    if previous in ("be", "being") and w != "due":
        return NONE  # "will be paid", "to be held": the tense is in the words before
    if w == "set" and following in ("for", "to"):
        return FUTURE  # "a vote set for Tuesday", "set to open"
    if w in ("expected", "scheduled", "slated", "planned", "set", "due", "supposed"):
        # "was scheduled to", "had been expected": a plan made in the past; "is set for": a plan
        if previous in ("was", "were", "had", "been"):
            return PAST
        return FUTURE if w != "set" or previous in ("is", "are", "'s", "be") else PAST
    if w == "since":
        return PAST
    if w in _FUTURE_WORDS or w.endswith("'ll"):
        return FUTURE
    if w in _PAST_WORDS:
        return PAST
    if w in _SCHEDULED:
        return FUTURE
    if w.endswith("ed") and len(w) > 4 and w not in _NOT_PAST_ED:
        return PAST
    if w in ("killed", "injured", "wounded", "detained", "accused", "alleged"):
        return PAST if previous not in ("be", "is", "are", "being") else NONE
    return NONE


def tense_at(text: str, start: int, end: int, before: int = 90, after: int = 60) -> str:
    """PAST, FUTURE or NONE: the tense of the clause around ``text[start:end]``, from the nearest
    tense-marking word before the expression (within its sentence), else the nearest after it."""
    lo = max(0, start - before)
    head = text[lo:start]
    cut = None
    for m in _CLAUSE_END.finditer(head):
        cut = m.end()
    if cut is not None:
        head = head[cut:]
    tail = text[end:end + after]
    m = _CLAUSE_END.search(tail)
    if m:
        tail = tail[:m.start()]
    words = _WORD.findall(head)
    for i in range(len(words) - 1, -1, -1):  # the nearest word before the expression first
        found = _word_tense(words[i], words[i - 1].lower() if i else "",
                            words[i + 1].lower() if i + 1 < len(words) else "")
        if found:
            return found
    words = _WORD.findall(tail)
    for i, w in enumerate(words):
        found = _word_tense(w, words[i - 1].lower() if i else "", words[i + 1].lower() if i + 1 < len(words) else "")
        if found:
            return found
    return NONE


# ------------------------------------------------------------------ resolving one phrase

def _month_span(y: int, m: int) -> Span:
    return Span(dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1]), MONTH)


def _year_span(y: int) -> Span:
    return Span(dt.date(y, 1, 1), dt.date(y, 12, 31), YEAR)


def _day(d: dt.date) -> Span:
    return Span(d, d, DAY)


def _week_of(d: dt.date) -> Span:
    monday = d - dt.timedelta(days=d.weekday())
    return Span(monday, monday + dt.timedelta(days=6), WEEK)


def _shift_months(d: dt.date, months: int) -> tuple[int, int]:
    total = d.year * 12 + d.month - 1 + months
    return total // 12, total % 12 + 1


def _weekday(base: dt.date, weekday: int, tense: str, rel: str = "") -> dt.date:
    back = (base.weekday() - weekday) % 7  # days since the last such day (0 = the base day itself)
    ahead = (weekday - base.weekday()) % 7
    if rel == "last" or rel == "this past" or rel == "past":
        return base - dt.timedelta(days=back or 7)
    if rel == "next" or rel == "this coming" or rel == "coming":
        return base + dt.timedelta(days=ahead or 7)
    if tense == FUTURE:
        return base + dt.timedelta(days=ahead)
    return base - dt.timedelta(days=back)  # past, and by default: news reports what happened


def _year_for(bounds: tuple[dt.date, dt.date], month: int, day: int | None, tense: str) -> int:
    """The year of a year-less date, given the first and last day the article may be from: on or
    before the article (past), on or after it (future), else the nearest. Measured against the
    whole period an article dated only "2020-01" may be from, so its "Jan. 3" stays January 2020."""
    first, last = bounds

    def key(y: int) -> tuple[dt.date, dt.date]:  # first and last day the phrase can mean in year y
        if day is not None:
            d = dt.date(y, month, min(day, calendar.monthrange(y, month)[1]))
            return d, d
        s = _month_span(y, month)
        return s.first, s.last

    candidates = list(range(first.year - 1, last.year + 2))
    if tense == PAST:
        return max(y for y in candidates if key(y)[0] <= last)
    if tense == FUTURE:
        return min(y for y in candidates if key(y)[1] >= first)

    def distance(y: int) -> int:
        a, b = key(y)
        return 0 if a <= last and b >= first else min(abs((a - last).days), abs((b - first).days))

    return min(candidates, key=lambda y: (distance(y), not first.year <= y <= last.year))


def _resolve_on(kind: str, g: dict, base: dt.date, tense: str,
                bounds: tuple[dt.date, dt.date] | None = None) -> Span | None:
    """One expression's span relative to one possible article day ``base`` (``bounds``: the first
    and last day the article may be from, for the year of a year-less date)."""
    bounds = bounds or (base, base)
    if kind in ("month_day", "day_month", "iso"):
        mon = int(g["m"]) if kind == "iso" else _MONTHS[g["mon"].rstrip(".").lower()]
        day = int(re.match(r"\d+", g["d"]).group(0))
        year = int(g["y"]) if g.get("y") else _year_for(bounds, mon, day, tense)
        try:
            return _day(dt.date(year, mon, day))
        except ValueError:
            return None
    if kind == "month_year":
        return _month_span(int(g["y"]), _MONTHS[g["mon"].rstrip(".").lower()])
    if kind == "month":
        mon = _MONTHS[g["mon"].rstrip(".").lower()]
        return _month_span(_year_for(bounds, mon, None, tense), mon)
    if kind == "rel_month":
        mon = _MONTHS[g["mon"].rstrip(".").lower()]
        rel = " ".join(g["rel"].lower().split())
        if rel in ("last", "this past"):
            year = base.year if mon < base.month else base.year - 1
        elif rel in ("next", "this coming"):
            year = base.year if mon > base.month else base.year + 1
        else:  # "this March": the one of the article's year
            year = base.year
        return _month_span(year, mon)
    if kind in ("weekday", "rel_weekday"):
        rel = " ".join((g.get("rel") or "").lower().split())
        if rel == "this":
            rel = ""
        return _day(_weekday(base, _WEEKDAYS[g["wd"].lower()], tense, rel))
    if kind in ("rel_unit", "part_of"):
        rel, unit = g["rel"].lower(), g["unit"].lower()
        step = {"last": -1, "this": 0, "next": 1}[rel]
        if unit == "year":
            return _year_span(base.year + step)
        if unit == "month":
            return _month_span(*_shift_months(base, step))
        week = _week_of(base + dt.timedelta(days=7 * step))
        if unit == "weekend":
            return Span(week.first + dt.timedelta(days=5), week.last, WEEK)
        return week
    if kind == "ago":
        n = _NUMBERS.get(g["n"].lower()) if not g["n"].isdigit() else int(g["n"])
        unit = g["unit"].lower()
        if unit in ("day", "week"):
            return _day(base - dt.timedelta(days=n * (7 if unit == "week" else 1)))
        if unit == "month":
            return _month_span(*_shift_months(base, -n))
        return _year_span(base.year - n * (10 if unit == "decade" else 1))
    if kind == "deictic":
        word = " ".join(g["word"].lower().split())
        offset = {"yesterday": -1, "last night": -1, "tomorrow": 1}.get(word, 0)
        return _day(base + dt.timedelta(days=offset))
    if kind == "decade":
        y = int(g["y"])
        first, last = {"early": (y, y + 3), "mid": (y + 3, y + 6), "late": (y + 6, y + 9)}.get(
            (g.get("mod") or "").lower(), (y, y + 9))
        return Span(dt.date(first, 1, 1), dt.date(last, 12, 31), YEAR)
    if kind == "year":
        return _year_span(int(g["y"]))
    return None


_ABSOLUTE = {"iso", "month_year", "decade", "year"}


def resolve(kind: str, groups: dict, published: str, tense: str = NONE) -> str | None:
    """The ISO value of one expression of ``kind`` (a pattern name) in an article dated
    ``published``; None when it cannot be placed (no article date for a relative phrase)."""
    if kind in _ABSOLUTE or (kind in ("month_day", "day_month") and groups.get("y")):
        span = _resolve_on(kind, groups, dt.date(2000, 1, 1), tense)
        return span.value() if span else None
    bounds = date_range(published)
    if bounds is None:
        return None
    first, last = bounds
    a = _resolve_on(kind, groups, first, tense, bounds)
    if a is None:
        return None
    if last == first:
        return a.value()
    b = _resolve_on(kind, groups, last, tense, bounds)
    return a.union(b).value() if b else a.value()


# ------------------------------------------------------------------ finding

def _acceptable(kind: str, m: re.Match, text: str) -> bool:
    s, e = m.span()
    if kind in ("weekday", "rel_weekday", "month_day", "day_month") and m.groupdict().get("wd"):
        if _NOT_A_WEEKDAY_BEFORE.search(text[max(0, s - 12):s]) or (
                kind == "weekday" and _NOT_A_WEEKDAY_AFTER.match(text, e)):
            return False
    if kind == "month":
        lead = text[max(0, s - 24):s]
        if not (m.group("mod") or re.search(r"(?:\b" + _LEAD + r"\s+|-)$", lead)):
            return False
        if text.startswith("'s", e) or text.startswith("’s", e):
            return m.group("mon") not in ("May", "March")  # "May's government", "March's rally"
        # "to March on Washington", "Theresa May said": a verb or a name, not a month
        if m.group("mon") in ("May", "March") and not m.group("mod") and re.search(
                r"\b(?:to|the|Theresa|Brian|Prime\s+Minister)\s+$", lead):
            return False
        return True
    if kind == "year":
        lead = text[max(0, s - 24):s]
        if not _YEAR_LEAD.search(lead):
            return False
        if _COUNT_AFTER.match(text, e):  # "of 2019 people": a number, not a year
            return False
    return True


# Every expression holds one of these words (or a year): the patterns run only on the stretches of
# text around them, which makes finding about ten times faster on news text.
_TRIGGER = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Mon|Tue|Wed|Thu|Fri|Sat|Sun|"
                      r"(?i:ago|week|weekend|month|year|yesterday|today|tomorrow|tonight|night|morning|afternoon|"
                      r"evening)\b|1[7-9]\d\d|20\d\d)")
_REACH = 48  # characters an expression may extend before or after its trigger word


def _stretches(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for m in _TRIGGER.finditer(text):
        lo, hi = max(0, m.start() - _REACH), min(len(text), m.end() + _REACH)
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def find_time_expressions(text: str, published: str = "") -> list[TimeExpression]:
    """Every time expression of ``text`` that can be placed, in text order, with its ISO value
    resolved against ``published`` (the article's date: YYYY-MM-DD, YYYY-MM, YYYY or "")."""
    found: list[tuple[int, int, str, re.Match]] = []
    seen: set[tuple[int, int, str]] = set()
    for lo, hi in _stretches(text):
        for kind, pattern in _PATTERNS:
            for m in pattern.finditer(text, lo, hi):  # look-behinds still see the text before lo
                key = (m.start(), m.end(), kind)
                if m.end() > m.start() and key not in seen and _acceptable(kind, m, text):
                    seen.add(key)
                    found.append((m.start(), m.end(), kind, m))
    # The longest expression wins where two overlap ("Monday, Nov. 18, 2019" over "Monday" and "2019").
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    out: list[TimeExpression] = []
    taken_until = -1
    for start, end, kind, m in found:
        if start < taken_until:
            continue
        groups = m.groupdict()
        tense = NONE
        if kind not in _ABSOLUTE and not groups.get("y"):
            tense = tense_at(text, start, end)
        value = resolve(kind, groups, published, tense)
        if value is None:
            continue
        out.append(TimeExpression(text[start:end], start, end, value))
        taken_until = end
    return out


def as_rows(expressions) -> tuple[tuple[int, int, str], ...]:
    """The compact form an index stores: (start, end, value) per expression."""
    return tuple((t.start, t.end, t.value) for t in expressions)


def within(rows, text: str, start: int, end: int) -> list[TimeExpression]:
    """The stored expressions ``rows`` ((start, end, value), of an article ``text``) that lie inside
    ``text[start:end]`` (an answer's span), as ``TimeExpression``s."""
    return [TimeExpression(text[int(s):int(e)], int(s), int(e), v) for s, e, v in rows
            if start <= int(s) and int(e) <= end]


def with_dates(doc, previous=None):
    """``doc`` (a ``qa.types.Document``) with ``dates``: its time expressions, found and resolved
    against its own date. ``previous``, the same article as indexed before, lends its dates when
    its text and date are the same (nothing to recompute)."""
    from dataclasses import replace

    if previous is not None and previous.text == doc.text and previous.published == doc.published:
        return replace(doc, dates=tuple(tuple(r) for r in previous.dates))
    return replace(doc, dates=as_rows(find_time_expressions(doc.text, doc.published)))


def rows_from_json(rows) -> tuple[tuple[int, int, str], ...]:
    """Stored dates read back from JSON (lists) as the tuples ``Document.dates`` holds."""
    return tuple((int(s), int(e), str(v)) for s, e, v in rows or ())


# ------------------------------------------------------------------ for people

_HAS_YEAR = re.compile(r"\b(?:1[7-9]|20)\d\d\b")


def informative(expressions) -> list[TimeExpression]:
    """The expressions whose resolved date tells a reader something the words do not: "Saturday",
    "Feb. 14", "last month", not "2014" or "March 2019"."""
    return [t for t in expressions if "/" in t.value or not _HAS_YEAR.search(t.text)]


def beside(answer_text: str, expressions) -> str:
    """The note shown next to an answer's words: "· Sat 16 Nov 2019" when the answer is one time
    expression, "(Saturday · Sat 16 Nov 2019)" for one inside a longer answer; "" when none tells
    anything. The answer's own words are never changed."""
    shown = informative(expressions)
    if not shown:
        return ""
    if len(shown) == 1 and shown[0].text == answer_text.strip():
        return f"· {shown[0].readable()}"
    return "(" + "; ".join(f"{t.text} · {t.readable()}" for t in shown) + ")"


def readable(value: str) -> str:
    """An ISO value as a reader would write it: "2019-11-16" -> "Sat 16 Nov 2019", "2020-02" ->
    "Feb 2020", "2019" -> "2019", a range "2019-11-18/2019-11-24" -> "18 Nov – 24 Nov 2019"."""
    if "/" in value:
        a, b = value.split("/", 1)
        ra, rb = _readable_one(a, weekday=False), _readable_one(b, weekday=False)
        if len(a) == 10 and a[:4] == b[:4]:
            ra = ra[:-5]
        return f"{ra} – {rb}"
    return _readable_one(value)


def _readable_one(value: str, weekday: bool = True) -> str:
    try:
        if len(value) == 10:
            d = dt.date.fromisoformat(value)
            return (d.strftime("%a ") if weekday else "") + f"{d.day} {d.strftime('%b %Y')}"
        if len(value) == 7:
            return dt.date(int(value[:4]), int(value[5:]), 1).strftime("%b %Y")
    except ValueError:
        pass
    return value
