"""Publication dates as the ISO strings the rest of the package keeps: YYYY-MM-DD, YYYY-MM or YYYY.

Dates arrive written many ways (a feed's RFC 822 stamp, an ISO timestamp with a zone, "January 14,
2020" in a byline, "2020-01" in front matter). ``iso_date`` accepts those and nothing vaguer: a
value it cannot read raises ``ValueError`` saying so, so a wrong date is reported, never guessed
(feedparser, for one, turns "2024-13-45" into 2025-01-01). A timestamp keeps the day it was
written for (its own time zone), not the UTC day.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import re

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")
_MONTHS = {m.lower(): i for i, m in enumerate(MONTH_NAMES, 1)}
_MONTHS.update({name[:3]: i for name, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9

_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_ISO_STAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ]\d{2}:\d{2}")
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_WRITTEN = [
    re.compile(rf"^{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})$"),  # January 14, 2020
    re.compile(rf"^(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(?P<year>\d{{4}})$"),  # 14 January 2020
    re.compile(rf"^{_MONTH}\s+(?P<year>\d{{4}})$"),  # January 2020
]
# Where a written date may sit in running text: after a cue word, on a byline or dateline.
DATE_IN_TEXT = re.compile(
    r"\b(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{1,2}\s+[A-Z][a-z]{2,8}\s+\d{4}"
    r"|[A-Z][a-z]{2,8}\s+\d{4}|\d{4}-\d{2}-\d{2})\b")
_CUE = re.compile(r"\b(published|posted|updated|dated|issued|released)\b[:\s]", re.IGNORECASE)


def iso_date(value: str) -> str:
    """``value`` as YYYY-MM-DD / YYYY-MM / YYYY, or ValueError naming the value.

    >>> iso_date("Fri, 12 May 2023 09:30:00 -0300"), iso_date("2024-10-08T22:05:00-06:00")
    ('2023-05-12', '2024-10-08')
    >>> iso_date("Jan. 14, 2020"), iso_date("2020-01"), iso_date("October 2023")
    ('2020-01-14', '2020-01', '2023-10')
    """
    text = " ".join(str(value).split())
    if not text:
        raise ValueError("the date is empty")
    m = _ISO.match(text)
    if m:
        y, mo, d = m.groups()
        return _checked(int(y), int(mo) if mo else None, int(d) if d else None, text)
    m = _ISO_STAMP.match(text)
    if m:
        return _checked(int(m[1]), int(m[2]), int(m[3]), text)
    if re.match(r"^[A-Za-z]{3},\s", text) or re.match(r"^\d{1,2} [A-Za-z]{3} \d{4} \d{2}:\d{2}", text):
        try:
            stamp = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            stamp = None
        if stamp is not None:
            return stamp.date().isoformat()
    for pattern in _WRITTEN:
        m = pattern.match(text)
        if m:
            month = _MONTHS.get(m["month"].lower().rstrip("."))
            if month is None:
                break
            day = int(m["day"]) if "day" in m.groupdict() and m["day"] else None
            return _checked(int(m["year"]), month, day, text)
    raise ValueError(f"{value!r} is not a date (write it as YYYY-MM-DD, or YYYY-MM, or YYYY)")


def _checked(year: int, month: int | None, day: int | None, text: str) -> str:
    try:
        dt.date(year, month or 1, day or 1)
    except ValueError:
        raise ValueError(f"{text!r} is not a real date (write it as YYYY-MM-DD, or YYYY-MM, or YYYY)") from None
    if not 1000 <= year <= 2999:
        raise ValueError(f"{text!r} has an unlikely year")
    if day is not None:
        return f"{year:04d}-{month:02d}-{day:02d}"
    return f"{year:04d}-{month:02d}" if month is not None else f"{year:04d}"


def date_from_lines(lines, max_chars: int = 90) -> str:
    """The publication date of a byline or dateline among ``lines`` (short lines that name a date
    after a cue such as "Published", or hold nothing but a date); "" when none does. Dates in
    running text are not taken: "the bridge opened on March 3, 2021" is not when it was written."""
    for line in lines:
        line = line.strip()
        if not line or len(line) > max_chars:
            continue
        cue = _CUE.search(line)
        for m in DATE_IN_TEXT.finditer(line):
            if cue is None and line.strip(" .,") != m.group(0):
                continue
            if cue is not None and m.start() < cue.start():
                continue
            try:
                return iso_date(m.group(0))
            except ValueError:
                continue
    return ""


def readable_date(iso: str) -> str:
    """An ISO date as people write it: "2020-01-14" -> "January 14, 2020", "2020-01" -> "January
    2020", "2017" -> "2017"; anything else is returned as it is."""
    m = _ISO.match(iso or "")
    if not m:
        return iso or ""
    year, month, day = m.groups()
    if not month or not 1 <= int(month) <= 12:
        return year
    name = MONTH_NAMES[int(month) - 1]
    return f"{name} {int(day)}, {year}" if day else f"{name} {year}"
