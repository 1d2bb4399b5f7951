"""Answers that changed over time: reports of different dates that answer a question differently.

News gets updated: a 2017 article says Canada commits "up to 850 troops", one from January 2020
says "roughly 800". When the best answers come from articles of different dates and disagree, the
reader wants the newest first and the others beside it, with their dates:

    roughly 800 troops
      Reports over time: January 2020: roughly 800 troops (The Globe and Mail) · 2017: up to 850 troops (CTV News)

``reports_over_time`` does that to a ranked answer list. Only answers the ranker found nearly as
likely as the best one take part (``SCORE_SHARE``): a weak candidate from a newer article is a
wrong answer, not a newer report. When the question names a period ("in 2019"; detected
elsewhere), pass ``newest_first=False``: the best answer for that period stays first and the
others are still listed with their dates.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

# A rival report scores at least this share of the best answer's probability: the ranker finds
# the two about equally likely, and only the dates can tell them apart. At 0.5, the seed set's
# "How many Canadian army engineers were deployed to Besmaya?" had its right "Approximately 20"
# (2017, 0.50) displaced by "200" trainers in Baghdad (2020, 0.34): another figure, not a newer report.
SCORE_SHARE = 0.8
MAX_REPORTS = 4  # other reports listed beside an answer
_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
# Figures, in digits or words: what changes between reports ("two buses", then "seven buses").
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
                     r"|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty"
                     r"|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|trillion|dozen)\b",
                     re.IGNORECASE)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class EarlierReport:
    """Another article's answer to the same question, and when and where it was published.
    ``start``/``end`` index that article's text (``answer == text[start:end]``)."""

    answer: str
    published: str  # ISO: YYYY-MM-DD, YYYY-MM or YYYY
    source: str
    doc_id: str
    start: int
    end: int
    title: str = ""

    def to_dict(self) -> dict:
        return {"answer": self.answer, "published": self.published, "source": self.source,
                "doc_id": self.doc_id, "start": self.start, "end": self.end, "title": self.title}

    def line(self) -> str:
        """"2017: up to 850 troops (CTV News)"."""
        from ..extract.dates import readable_date

        return f"{readable_date(self.published)}: {self.answer}" + (f" ({self.source})" if self.source else "")


def date_key(iso: str) -> tuple[int, int, int] | None:
    """A sortable (year, month, day) for an ISO date, 0 where the date is less precise; None
    when there is no date."""
    m = _ISO.match(iso or "")
    if not m:
        return None
    return int(m[1]), int(m[2] or 0), int(m[3] or 0)


def same_period(a: str, b: str) -> bool:
    """Dates that cannot be told apart: equal, or one holds the other ("2017" and "2017-06")."""
    return a.startswith(b) or b.startswith(a)


def agree(a: str, b: str) -> bool:
    """Two answers that say the same thing: "850" and "up to 850 troops" (same numbers), "the
    troops" and "troops" (one's words inside the other's)."""
    na = [n.casefold() for n in _NUMBER.findall(a.replace(",", ""))]
    nb = [n.casefold() for n in _NUMBER.findall(b.replace(",", ""))]
    if na or nb:
        return sorted(na) == sorted(nb)
    wa, wb = set(_WORD.findall(a.casefold())), set(_WORD.findall(b.casefold()))
    return bool(wa and wb) and (wa <= wb or wb <= wa)


def _report(answer) -> EarlierReport | None:
    c = answer.citations[0] if answer.citations else None
    if c is None or date_key(c.published) is None:
        return None
    return EarlierReport(answer.text, c.published, c.source, c.doc_id, c.start, c.end, c.title)


def reports_over_time(answers: Sequence, newest_first: bool = True, share: float = SCORE_SHARE) -> list:
    """``answers`` (best first) with the reports of other dates beside the first one.

    Takes part: the best answer when it is a figure, and the figures scoring at least ``share``
    of it, whose first citation is dated, that disagree with every better one (``agree``). When two or more of them have dates that can be told apart, the newest becomes the
    first answer (with ``newest_first``; else the best stays first) and carries the others, newest
    first, as ``earlier_reports``. Nothing else changes order; nothing is dropped."""
    answers = list(answers)
    if len(answers) < 2 or answers[0].score <= 0:
        return answers
    best = answers[0]
    best_report = _report(best)
    if best_report is None:
        return answers
    if not _NUMBER.search(best.text):
        # Two names or phrases from two articles are most often two candidates, one wrong, not a
        # fact that changed: on the seed set, "Canadian trainers" (2020) would have displaced the
        # right "Peshmerga" (2017). Figures are what news reports revise.
        return answers
    taking: list[tuple[object, EarlierReport]] = [(best, best_report)]
    for answer in answers[1:]:
        if answer.score < share * best.score or not _NUMBER.search(answer.text):
            continue
        report = _report(answer)
        if report is None or any(agree(answer.text, a.text) for a, _ in taking):
            continue
        if any(same_period(report.published, r.published) for _, r in taking):
            continue  # same time, different words: a disagreement the dates cannot settle
        taking.append((answer, report))
    if len(taking) < 2:
        return answers
    by_date = sorted(taking, key=lambda pair: date_key(pair[1].published), reverse=True)  # stable: score breaks ties
    lead = by_date[0][0] if newest_first else best
    others = tuple(r for a, r in by_date if a is not lead)[:MAX_REPORTS]
    first = replace(lead, earlier_reports=others)
    return [first] + [a for a in answers if a is not lead]


def newer_passages(passages: Sequence, best, documents) -> tuple[set[int], float]:
    """For adaptive reading (qa/adaptive.py): the passages, of ``passages``, from articles dated
    after the article of the accepted ``best`` span (a ``ReadSpan``) when that span is a figure,
    and the score share a rival report needs (``SCORE_SHARE``). Adaptive reading would otherwise
    skip a newer article that ranks lower, and ``reports_over_time`` would never see its figure."""
    passage = passages[best.passage_index]
    if not _NUMBER.search(passage.text[best.start:best.end]):
        return set(), SCORE_SHARE
    doc = documents.get(passage.doc_id)
    own = date_key(doc.published) if doc is not None else None
    if own is None:
        return set(), SCORE_SHARE
    newer = set()
    for i, p in enumerate(passages):
        other = documents.get(p.doc_id)
        key = date_key(other.published) if other is not None else None
        if key is not None and key > own and not same_period(other.published, doc.published):
            newer.add(i)
    return newer, SCORE_SHARE


def timeline(answer) -> str:
    """"January 2020: roughly 800 troops (The Globe and Mail) · 2017: up to 850 troops (CTV
    News)": the answer's own report, then the others; "" when it has none."""
    others = getattr(answer, "earlier_reports", ())
    if not others:
        return ""
    own = _report(answer)
    return " · ".join(r.line() for r in ([own] if own else []) + list(others))
