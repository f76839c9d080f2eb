"""Canonical values: dates to ISO 8601, numbers to a float and the unit written after them.

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

Numbers (``parse_number`` for a whole value, ``find_numbers`` for every number in a text):

- digits with English thousands separators and a decimal point: "1,250", "1,250.5", "4.56";
  a sign ("-6.2", "−6.2", "+3"), an exponent ("1.5e6", "1.5E+06"), a scale word ("1.2
  million", "3 billion"), number words ("twelve", "twenty-one", "one hundred and five", "two
  million"), a currency sign before ("$3 billion"), a percent sign or a unit after ("12.5%",
  "1,250 metres", "45 minutes", "45-minute", "5km", "4.56 (kilometrePerSeconds)").
- A number inside a longer number never counts: "1,25" (a European decimal comma),
  "1.250.000", "192.168.1.1", "3.2.1", "16/08", "10:30", codes of three or more hyphenated
  groups ("978-1-250") give no number at all, and neither do numbers glued to letters
  ("A320", "COVID-19", "1920s", "16th", "3D").
- In a text, a unit is read only when this module knows it (``UNITS``: "1,250 people" has the
  unit "people", "1,250 apples" none) and the span of the number covers it; a whole value
  (``parse_number``) takes everything after the number as its unit ("12 apples" → "apples").
  The digits of a full date are not numbers; a year alone is both a date and a number. Number
  words are read wherever they stand ("one of them" holds the number 1).
- Not supported, on purpose: European decimal commas and point thousands ("1.250,5": "1,25"
  and "1.250" read as English or not at all); spaces as thousands separators ("1 250 000":
  three numbers); fractions ("1/2", "½"); ordinals in words ("first"); "a dozen"; "1.2m" for a
  million (but "$1.2m" and "£3bn" are read); "pound" as a unit (weight or money?).

``same_value(a, b)`` says whether two written values are the same date or the same number
(see there for what "same" means with units and with dates of different precision).
"""

from __future__ import annotations

import bisect
import math
import re
from datetime import date
from functools import lru_cache
from typing import NamedTuple

__all__ = ["MONTHS", "UNITS", "FoundDate", "FoundNumber", "Quantity", "date_covers",
           "find_dates", "find_numbers", "parse_date", "parse_number", "same_value", "unit_key",
           "units_compatible"]


class FoundDate(NamedTuple):
    """A date written in a text: ``text[start:end]`` is ``written``, ``iso`` its ISO form."""

    start: int
    end: int
    written: str
    iso: str


class Quantity(NamedTuple):
    """A number and the unit written with it (as written, or None)."""

    value: float
    unit: str | None


class FoundNumber(NamedTuple):
    """A number written in a text: ``text[start:end]`` is ``written`` (the number with its
    sign, currency, scale word and unit), ``value`` its value, ``unit`` its unit as written."""

    start: int
    end: int
    written: str
    value: float
    unit: str | None


# --------------------------------------------------------------------------- dates

MONTHS: dict[str, int] = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
_FULL_MONTHS = sorted((k for k in MONTHS if len(k) > 4 or k in ("may", "june", "july")),
                      key=len, reverse=True)
_SHORT_MONTHS = sorted((k for k in MONTHS if k not in _FULL_MONTHS), key=len, reverse=True)

_L = r"(?<![^\W_])"           # not glued to a letter or digit before
_R = r"(?![^\W_])"            # not glued to a letter or digit after
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


class _Spans:
    """Disjoint spans, sorted, with an overlap test in logarithmic time."""

    def __init__(self, spans: list[tuple[int, int]] | None = None) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for s, e in sorted(spans or []):
            self.starts.append(s)
            self.ends.append(e)

    def overlaps(self, s: int, e: int) -> bool:
        i = bisect.bisect_right(self.starts, s)
        return (i > 0 and self.ends[i - 1] > s) or (i < len(self.starts) and self.starts[i] < e)

    def add(self, s: int, e: int) -> bool:
        """Add ``[s, e)`` unless it overlaps a span already there; whether it was added."""
        if self.overlaps(s, e):
            return False
        i = bisect.bisect_right(self.starts, s)
        self.starts.insert(i, s)
        self.ends.insert(i, e)
        return True


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


# --------------------------------------------------------------------------- units

#: canonical unit → the ways it is written (casefolded; plurals listed, camelCase is split)
UNITS: dict[str, tuple[str, ...]] = {
    "m": ("m", "metre", "metres", "meter", "meters"),
    "km": ("km", "kilometre", "kilometres", "kilometer", "kilometers", "kms"),
    "cm": ("cm", "centimetre", "centimetres", "centimeter", "centimeters"),
    "mm": ("mm", "millimetre", "millimetres", "millimeter", "millimeters"),
    "mi": ("mi", "mile", "miles"),
    "ft": ("ft", "foot", "feet"),
    "inch": ("inch", "inches"),
    "yd": ("yd", "yard", "yards"),
    "au": ("au", "astronomical unit", "astronomical units"),
    "ly": ("ly", "light year", "light years", "light-year", "light-years"),
    "kg": ("kg", "kilogram", "kilograms", "kilogramme", "kilogrammes", "kgs"),
    "g": ("g", "gram", "grams", "gramme", "grammes"),
    "t": ("t", "tonne", "tonnes", "metric ton", "metric tons"),
    "lb": ("lb", "lbs"),
    "s": ("s", "sec", "secs", "second", "seconds"),
    "min": ("min", "mins", "minute", "minutes"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
    "d": ("day", "days"),
    "wk": ("week", "weeks"),
    "mo": ("month", "months"),
    "yr": ("yr", "yrs", "year", "years"),
    "%": ("%", "percent", "per cent", "pct", "percentage"),
    "°C": ("°c", "℃", "celsius", "degree celsius", "degrees celsius"),
    "°F": ("°f", "℉", "fahrenheit", "degree fahrenheit", "degrees fahrenheit"),
    "K": ("kelvin", "kelvins"),
    "ha": ("ha", "hectare", "hectares"),
    "acre": ("acre", "acres"),
    "l": ("l", "litre", "litres", "liter", "liters"),
    "km/h": ("kph", "kmh", "km/h"),
    "mi/h": ("mph",),
    "W": ("w", "watt", "watts"),
    "kW": ("kw", "kilowatt", "kilowatts"),
    "MW": ("mw", "megawatt", "megawatts"),
    "GW": ("gw", "gigawatt", "gigawatts"),
    "$": ("$", "usd", "us$", "dollar", "dollars"),
    "€": ("€", "eur", "euro", "euros"),
    "£": ("£", "gbp", "pound sterling", "pounds sterling"),
    "¥": ("¥", "jpy", "yen"),
    "inhabitants": ("inhabitants", "people", "residents", "persons", "population"),
}
_UNIT_INDEX: dict[str, str] = {form: key for key, forms in UNITS.items() for form in forms}
#: single-letter units that are too often something else when glued to digits ("1920s")
_NOT_GLUED = frozenset({"s", "t", "l", "d", "g", "h", "w", "inch"})
_CURRENCY = "$€£¥"
#: what a currency amount's glued suffix means: "$3bn", "£1.2m", "$5k"
_CURRENCY_SCALES = {"k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9, "b": 1e9, "tn": 1e12}
_SCALES = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_SCALE_AFTER = re.compile(r"[ \t]+(?P<scale>hundred|thousand|million|billion|trillion)"
                          r"(?![^\W_])", re.I)


@lru_cache(maxsize=4096)
def unit_key(unit: str) -> str | None:
    """The canonical form of a unit as written, or None when it is not one this module knows:
    "metres" → "m", "kilometrePerSeconds" → "km/s", "km per second" → "km/s",
    "square kilometres" → "km2", "km²" → "km2", "12.5 per cent" → (not a unit) None."""
    s = unit.strip().strip("()[]").strip()
    s = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", s).casefold()
    s = re.sub(r"\s+", " ", s.replace("²", "2").replace("³", "3")).strip()
    if not s:
        return None
    if s in _UNIT_INDEX:
        return _UNIT_INDEX[s]
    per = re.fullmatch(r"(.+?)\s*(?:/|\bper\b)\s*(.+)", s)
    if per and not s.startswith("per "):
        a, b = unit_key(per.group(1)), unit_key(per.group(2))
        return f"{a}/{b}" if a and b else None
    power = re.fullmatch(r"(square|sq|cubic|cu)\.? (.+)", s)
    if power:
        base = unit_key(power.group(2))
        return f"{base}{'2' if power.group(1).startswith('s') else '3'}" if base else None
    glued = re.fullmatch(r"([a-z]+)([23])", s)
    if glued:
        base = unit_key(glued.group(1))
        return f"{base}{glued.group(2)}" if base else None
    return None


def units_compatible(a: str | None, b: str | None) -> bool:
    """Whether two units, as written, can be one: a missing unit conflicts with nothing; two
    written units must have the same canonical form (an unknown unit: the same words, plural
    "s" aside)."""
    if a is None or b is None:
        return True
    ka, kb = unit_key(a), unit_key(b)
    if ka is not None or kb is not None:
        return ka == kb

    def bare(u: str) -> str:
        words = re.findall(r"[^\W_]+", u.casefold())
        return " ".join(w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words)
    return bare(a) == bare(b)


_UNIT_WORD = r"[^\W\d_]+(?:[23²³](?![^\W_]))?"
_UNIT_AFTER = re.compile(
    rf"(?:[ \t]+|-)(?P<unit>(?:square[ \t]+|sq\.?[ \t]+|cubic[ \t]+)?{_UNIT_WORD}"
    rf"(?:(?:[ \t]*/[ \t]*|[ \t]+per[ \t]+){_UNIT_WORD})?)(?![^\W_])")
_SYMBOL_AFTER = re.compile(r"[ \t]?(?P<unit>%|‰|°[ \t]?[CF](?![^\W_])|℃|℉)")
_PER_CENT = re.compile(r"[ \t]+(?P<unit>per[ \t]?cent)(?![^\W_])", re.I)


def _unit_after(text: str, pos: int) -> tuple[str, int] | None:
    """The unit written right after a number ending at ``pos``, as ``(unit, end)``: a percent
    or degree sign, or a word (or "X per Y", "X/Y") this module knows as a unit."""
    for pattern in (_SYMBOL_AFTER, _PER_CENT):
        m = pattern.match(text, pos)
        if m:
            return m.group("unit"), m.end()
    m = _UNIT_AFTER.match(text, pos)
    if m is None:
        return None
    whole = m.group("unit")
    if unit_key(whole):
        return whole, m.end()
    first = re.match(rf"(?:square[ \t]+|sq\.?[ \t]+|cubic[ \t]+)?{_UNIT_WORD}", whole)
    if first and unit_key(first.group()) and first.end() < len(whole):
        return first.group(), m.start("unit") + first.end()
    return None


# --------------------------------------------------------------------------- numbers

_ONES = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
         "seven": 7, "eight": 8, "nine": 9}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
          "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_NUMBER_WORDS = sorted([*_ONES, *_TEENS, *_TENS, *_SCALES], key=len, reverse=True)
_WORD_TOKEN = rf"(?:{'|'.join(_NUMBER_WORDS)}){_R}"
_WORDS_RUN = re.compile(
    rf"{_L}{_WORD_TOKEN}(?:(?:[ \t]+|[ \t]*-[ \t]*)(?:and[ \t]+)?{_WORD_TOKEN})*", re.I)
_WORD_OR_AND = re.compile(rf"{_WORD_TOKEN}|and{_R}", re.I)

_BODY = re.compile(rf"{_L}\d+(?:[.,]\d+)*")
_VALID_BODY = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_EXPONENT = re.compile(rf"[eE](?P<exp>[-+−]?\d+){_R}")


def _words_value(words: list[str]) -> float | None:
    """The value of number words in order ("twenty", "one" → 21; "one", "hundred", "and",
    "five" → 105), or None when they do not make one number ("one two", "twenty ten")."""
    total = 0
    current = 0
    last = "start"          # the kind of the previous word
    last_scale = math.inf
    for raw in words:
        w = raw.casefold()
        if w == "and":
            if last not in ("hundred", "scale"):
                return None
            last = "and"
            continue
        if w in _ONES:
            if last not in ("start", "tens", "hundred", "scale", "and") or \
                    (w == "zero" and last != "start"):
                return None
            current += _ONES[w]
            last = "zero" if w == "zero" else "ones"
        elif w in _TEENS or w in _TENS:
            if last not in ("start", "hundred", "scale", "and"):
                return None
            current += _TEENS.get(w) or _TENS[w]
            last = "tens" if w in _TENS else "teens"
        elif w == "hundred":
            if last not in ("start", "ones", "teens", "tens") or current >= 100:
                return None
            current = (current or 1) * 100
            last = "hundred"
        elif w in _SCALES:
            scale = _SCALES[w]
            if last in ("and", "zero", "scale") or scale >= last_scale:
                return None
            total += (current or 1) * int(scale)
            current = 0
            last, last_scale = "scale", scale
        else:
            return None
    if last in ("and", "start"):
        return None
    return float(total + current)


def _glued(text: str, s: int, e: int) -> bool:
    """Whether digits at ``text[s:e]`` are part of something longer: "16/08", "10:30",
    "1.5" around a part, "COVID-19", or a code of three or more hyphenated digit groups."""
    if re.search(r"\d[.,/:]$", text[max(0, s - 2):s]) or re.match(r"[.,/:]\d", text[e:e + 2]):
        return True
    if re.search(r"[^\W\d_]-$", text[max(0, s - 2):s]):
        return True
    lo = s
    while True:
        m = re.search(r"\d+-$", text[max(0, lo - 40):lo])
        if not m:
            break
        lo = max(0, lo - 40) + m.start()
    chain = re.match(r"\d+(?:-\d+)*", text[lo:])
    return chain is not None and chain.group().count("-") >= 2


def _sign_before(text: str, s: int) -> int:
    """How many characters of sign stand right before ``s`` (a minus or plus that is not a
    hyphen between two words or numbers): 0 or 1."""
    if s >= 1 and text[s - 1] in "-+−" and (s < 2 or not text[s - 2].isalnum()):
        return 1
    return 0


def _read_digits(text: str, s: int, e: int) -> FoundNumber | None:
    """The number whose digits are ``text[s:e]``, grown over its sign, currency, exponent,
    scale word and unit; None when those digits are not a number on their own."""
    body = text[s:e]
    if not _VALID_BODY.fullmatch(body) or _glued(text, s, e):
        return None
    value = float(body.replace(",", ""))
    start, end = s, e
    unit: str | None = None
    sign = 1.0
    if _sign_before(text, start):
        sign = -1.0 if text[start - 1] in "-−" else 1.0
        start -= 1
    cur = re.search(rf"[{_CURRENCY}][ \t]?$", text[max(0, start - 2):start])
    if cur:
        unit = cur.group()[0]
        start -= len(cur.group())
        if sign == 1.0 and _sign_before(text, start):
            sign = -1.0 if text[start - 1] in "-−" else 1.0
            start -= 1
    exp = _EXPONENT.match(text, end)
    if exp:
        value *= 10.0 ** int(exp.group("exp").replace("−", "-"))
        end = exp.end()
    glued = re.match(r"[^\W\d_]+", text[end:])
    if glued:
        suffix = glued.group()
        if unit is not None and suffix.casefold() in _CURRENCY_SCALES:
            value *= _CURRENCY_SCALES[suffix.casefold()]
        elif unit is None and suffix.casefold() not in _NOT_GLUED and unit_key(suffix) and \
                not re.match(r"[^\W_]", text[end + len(suffix):end + len(suffix) + 1]):
            unit = suffix
        else:
            return None
        end += len(suffix)
    scale = _SCALE_AFTER.match(text, end)
    if scale:
        value *= _SCALES[scale.group("scale").casefold()]
        end = scale.end()
    if unit is None:
        after = _unit_after(text, end)
        if after:
            unit, end = after
    return FoundNumber(start, end, text[start:end], sign * value, unit)


def _read_words(text: str, start: int, end: int) -> list[FoundNumber]:
    """The numbers written in words in the run ``text[start:end]``: the longest prefix that
    reads as one number, then the rest the same way."""
    tokens = list(_WORD_OR_AND.finditer(text, start, end))
    found: list[FoundNumber] = []
    i = 0
    while i < len(tokens):
        for j in range(len(tokens), i, -1):
            value = _words_value([t.group() for t in tokens[i:j]])
            if value is not None:
                s, e = tokens[i].start(), tokens[j - 1].end()
                unit: str | None = None
                after = _unit_after(text, e)
                if after:
                    unit, e = after
                found.append(FoundNumber(s, e, text[s:e], value, unit))
                i = j
                break
        else:
            i += 1
    return found


@lru_cache(maxsize=512)
def _numbers(text: str) -> tuple[FoundNumber, ...]:
    dates = _Spans([(s, e) for s, e, iso, bare in _dates(text) if iso and not bare])
    found = [n for m in _BODY.finditer(text)
             if (n := _read_digits(text, m.start(), m.end())) is not None]
    pos = 0
    for s, e in [*((n.start, n.end) for n in found), (len(text), len(text))]:
        # number words between two numbers written in digits ("$3 billion" has its own)
        for m in _WORDS_RUN.finditer(text, pos, max(pos, s)):
            found.extend(_read_words(text, m.start(), m.end()))
        pos = max(pos, e)
    return tuple(sorted(n for n in found if not dates.overlaps(n.start, n.end)))


def find_numbers(text: str) -> list[FoundNumber]:
    """Every number written in ``text``, in order, with its exact span, value and unit.

    The digits of a full date ("16 August 1920", "1920-08-16") are not numbers here; a year
    written alone is."""
    return list(_numbers(text))


_NUMBER_LEAD = re.compile(rf"(?P<cur>[{_CURRENCY}])?[ \t]*(?P<sign>[-+−])?[ \t]*")
#: words that start a phrase, never a unit ("hundred and", "12 of them")
_NOT_UNITS = frozenset({"a", "an", "and", "as", "at", "by", "for", "from", "in", "is", "of",
                        "on", "or", "than", "the", "to", "was", "with"})
_UNIT_TEXT = re.compile(r"[^\W\d_%‰°℃℉$€£¥][^\d]*\d?|[%‰°℃℉]\s*\w*")


@lru_cache(maxsize=4096)
def parse_number(value: str) -> Quantity | None:
    """The number written as ``value`` (the whole of it) and the unit written after it.

    >>> parse_number("1,250 metres"), parse_number("twenty-one"), parse_number("1,25")
    (Quantity(value=1250.0, unit='metres'), Quantity(value=21.0, unit=None), None)
    """
    s = value.strip()
    lead = _NUMBER_LEAD.match(s)
    assert lead is not None
    pos = lead.end()
    body = re.match(r"\d+(?:[.,]\d+)*", s[pos:])
    if body:
        probe = " " + s          # a space before, so the number stands on its own
        n = _read_digits(probe, 1 + pos, 1 + pos + body.end())
        if n is None or n.start != 1:
            return None
        rest = probe[n.end:].strip()
        number, unit = n.value, n.unit
    else:
        words = _WORDS_RUN.match(s, pos)
        read = _read_words(s, words.start(), words.end()) if words is not None else []
        if len(read) != 1 or read[0].start != pos:
            return None
        rest = s[read[0].end:].strip()
        number, unit = read[0].value, read[0].unit
        if lead.group("sign") in ("-", "−"):
            number = -number
        if lead.group("cur"):
            if unit is not None:
                return None
            unit = lead.group("cur")
    if rest:
        if unit is not None and unit not in _CURRENCY:
            return None
        inner = rest[1:-1].strip() if rest.startswith("(") and rest.endswith(")") else rest
        if not inner or not _UNIT_TEXT.fullmatch(inner) or \
                inner.split()[0].casefold() in _NOT_UNITS:
            return None
        unit = inner if unit is None else f"{unit} {inner}"
    return Quantity(number, unit)


def _numbers_equal(a: float, b: float) -> bool:
    return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0)


def same_value(a: str, b: str) -> bool:
    """Whether two written values are the same date or the same number.

    Dates: the same ISO value, at the same precision. "1920" and "August 16th, 1920" are not
    the same value (one is a year, the other a day), though the second states the first:
    grounding accepts a year where a full date of that year is written (``date_covers``), while
    ``same_value`` keeps dates to an equality, so comparing or merging values never lets a year
    stand for a day. Numbers: equal values (to 1e-9 relative) whose units do not conflict (a
    missing unit conflicts with nothing: "1250" is "1,250 metres"; "1,250 metres" is not
    "1,250 feet"). Anything that is neither: False.
    """
    da, db = parse_date(a), parse_date(b)
    if da is not None and db is not None:
        return da == db
    na, nb = parse_number(a), parse_number(b)
    if na is not None and nb is not None:
        return _numbers_equal(na.value, nb.value) and units_compatible(na.unit, nb.unit)
    return False
