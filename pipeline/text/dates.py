"""Canonical dates: a date written in English to ISO 8601, alone or everywhere in a text.

Every function here is pure (the per-text scans are cached, which changes nothing but speed).

Dates (``parse_date`` for a whole value, ``find_dates`` for every date written in a text):

- "1920-08-16" (a time after it is ignored), "August 16th, 1920", "Aug. 16, 1920",
  "16 August 1920", "16th of August, 1920", "the 1st of January 1913", "01 January 1962" give
  ``YYYY-MM-DD``; "January 1962", "Jan. 1962", "August of 1920" (and, in ``parse_date`` only,
  "1920-08") give ``YYYY-MM``; a year alone, "1920" or "in 1920", gives ``YYYY`` (a year alone
  is four digits, 1000 to 2999). Month names are English, full or abbreviated, in any case.
- A date that does not exist ("31 February 1920") is None, and in a text it hides the year it
  is written with: nothing of it is reported.
- Not supported, on purpose: numeric day/month forms ("16/08/1920", "08/16/1920", "16.08.1920":
  the order of day and month cannot be told), two-digit years, eras (BC/AD), decades ("the
  1920s"), ranges written inside one date ("August 16-18, 1920"), and "1920-08" in running text
  (prose writes "1901-10" for a range of years far more often than for October 1901).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from pipeline.text.spans import _Spans
from pipeline.text.units import _L, _R, _SCALE_AFTER, _glued, _sign_before, _unit_after

__all__ = ["MONTHS", "FoundDate", "date_covers", "find_dates", "parse_date"]


class FoundDate(NamedTuple):
    """A date written in a text: ``text[start:end]`` is ``written``, ``iso`` its ISO form."""

    start: int
    end: int
    written: str
    iso: str


MONTHS: dict[str, int] = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
_FULL_MONTHS = sorted((k for k in MONTHS if len(k) > 4 or k in ("may", "june", "july")),
                      key=len, reverse=True)
_SHORT_MONTHS = sorted((k for k in MONTHS if k not in _FULL_MONTHS), key=len, reverse=True)

_MONTH = (rf"(?P<month>(?:{'|'.join(_FULL_MONTHS)}){_R}"
          rf"|(?:{'|'.join(_SHORT_MONTHS)})(?:\.|{_R}))")
#: a day written as an ordinal word ("the first of January 1913", "January twenty-first")
DAY_WORDS: dict[str, int] = {
    w: n for n, w in enumerate(
        ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
         "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
         "seventeenth", "eighteenth", "nineteenth", "twentieth"], 1)}
DAY_WORDS.update({f"twenty{sep}{w}": 20 + n for sep in ("-", " ", "")
                  for w, n in list(DAY_WORDS.items())[:9]})
DAY_WORDS.update({"thirtieth": 30, **{f"thirty{sep}first": 31 for sep in ("-", " ", "")}})
_DAY_WORD = "|".join(sorted((re.escape(w) for w in DAY_WORDS), key=len, reverse=True))
_DAY = rf"(?P<day>\d{{1,2}}(?:st|nd|rd|th)?|{_DAY_WORD}){_R}"
_YEAR = rf"(?P<year>\d{{4}}){_R}(?![.,]\d)"
_SEP_Y = r"(?:[ \t]*,[ \t]*|[ \t]+)"        # between the day (or month) and the year
_TIME = r"(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"

_ISO_DAY = re.compile(rf"{_L}(?P<year>\d{{4}})-(?P<month>\d{{2}})-(?P<day>\d{{2}}){_TIME}"
                      rf"{_R}(?![-.,/]\d)")
_ISO_MONTH = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})")
_MDY = re.compile(rf"{_L}{_MONTH}[ \t]+{_DAY}{_SEP_Y}{_YEAR}", re.I)
_DMY = re.compile(rf"{_L}{_DAY}[ \t]+(?:of[ \t]+)?{_MONTH}{_SEP_Y}{_YEAR}", re.I)
_MY = re.compile(rf"{_L}{_MONTH}(?:[ \t]*,[ \t]*|[ \t]+(?:of[ \t]+)?){_YEAR}", re.I)
_Y = re.compile(rf"{_L}(?P<year>[12]\d{{3}}){_R}")
#: a date written in digits only, day and month in either order ("01-01-1913", "16/08/1920")
_NUMERIC = re.compile(rf"{_L}(?P<a>\d{{1,2}})(?P<sep>[-/.])(?P<b>\d{{1,2}})(?P=sep)"
                      rf"(?P<year>\d{{4}}){_R}(?![-./]\d)")

#: what ``parse_date`` drops before a value: "in", "on", "the", a weekday
_DATE_LEAD = re.compile(r"^(?:(?:in|on|the)\s+|(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)+",
                        re.I)


def _iso(year: str, month: str | int | None = None, day: str | None = None) -> str | None:
    """The ISO form of a year, a month or a day, or None if that date does not exist."""
    y = int(year)
    if month is None:
        return f"{y:04d}" if y >= 1 else None
    m = MONTHS[month.casefold().rstrip(".")] if isinstance(month, str) and not month.isdigit() \
        else int(month)
    if day is None:
        return f"{y:04d}-{m:02d}" if y >= 1 and 1 <= m <= 12 else None
    try:
        return date(y, m, int(day)).isoformat()
    except ValueError:
        return None


def _from_match(m: re.Match[str]) -> str | None:
    groups = m.groupdict()
    if "a" in groups:
        return _numeric_iso(groups["a"], groups["b"], groups["year"])
    day = groups.get("day")
    if day is not None:
        word = day.casefold()
        day = str(DAY_WORDS[word]) if word in DAY_WORDS else re.sub(r"\D", "", day)
    return _iso(groups["year"], groups.get("month"), day)


def _numeric_iso(a: str, b: str, year: str) -> str | None:
    """A date in digits with day and month in either order: read only where the order does
    not matter or only one order is a date ("01-01-1913", "16/08/1920"); "03/04/1920" is
    ambiguous and is not read."""
    readings = {r for r in (_iso(year, b, a), _iso(year, a, b)) if r is not None}
    return readings.pop() if len(readings) == 1 else None


#: the patterns of a date in running text, the bare year last
_TEXT_PATTERNS = (_ISO_DAY, _NUMERIC, _MDY, _DMY, _MY)


@lru_cache(maxsize=4096)
def parse_date(value: str) -> str | None:
    """The ISO form of a date written as ``value`` (the whole of it), or None.

    >>> parse_date("August 16th, 1920"), parse_date("January 1962"), parse_date("in 1920")
    ('1920-08-16', '1962-01', '1920')
    """
    s = _DATE_LEAD.sub("", value.strip()).strip()
    if s.endswith(".") and not re.search(r"(?i)\b(?:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|"
                                         r"dec)\.$", s):
        s = s[:-1].rstrip()
    for pattern in (*_TEXT_PATTERNS, _ISO_MONTH, _Y):
        m = pattern.fullmatch(s)
        if m:
            return _from_match(m)
    return None


def _standalone_year(text: str, m: re.Match[str]) -> bool:
    """A four-digit run in ``text`` that reads as a year: not part of a longer number, not a
    signed or currency amount, not followed by a percent sign, a scale word or a unit."""
    s, e = m.span()
    if _glued(text, s, e) or text[e:e + 1] in ("%", "‰"):
        return False
    if _sign_before(text, s) or re.search(r"[$€£¥]\s?$", text[max(0, s - 2):s]):
        return False
    if re.match(r"[eE][-+−]?\d", text[e:]) or _SCALE_AFTER.match(text, e):
        return False
    return _unit_after(text, e) is None


@lru_cache(maxsize=512)
def _dates(text: str) -> tuple[tuple[int, int, str | None, bool], ...]:
    """Every date expression of ``text`` as ``(start, end, iso or None, is_bare_year)``,
    longest first where they overlap, in text order."""
    cands: list[tuple[int, int, str | None, bool]] = []
    for pattern in _TEXT_PATTERNS:
        cands.extend((m.start(), m.end(), _from_match(m), False) for m in pattern.finditer(text))
    cands.extend((m.start(), m.end(), _iso(m.group("year")), True) for m in _Y.finditer(text)
                 if _standalone_year(text, m))
    cands.sort(key=lambda c: (c[0] - c[1], c[0]))
    taken = _Spans()
    kept = [c for c in cands if taken.add(c[0], c[1])]
    return tuple(sorted(kept))


def find_dates(text: str) -> list[FoundDate]:
    """Every date written in ``text``, in order, each with its exact span and ISO value.

    Where two readings overlap the longest wins: "16 August 1920" is one date, never also the
    year "1920" or the month "August 1920"; a date that does not exist is left out whole."""
    return [FoundDate(s, e, text[s:e], iso) for s, e, iso, _ in _dates(text) if iso]


def date_covers(written: str, claimed: str) -> bool:
    """Whether a date written as ISO ``written`` states the ISO date ``claimed``: the same
    date, or a more precise one within it ("1920-08-16" states the year "1920" and the month
    "1920-08"; "1920" does not state "1920-08-16")."""
    return written == claimed or written.startswith(claimed + "-")
