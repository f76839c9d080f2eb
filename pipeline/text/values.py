"""Canonical values: numbers to a float and the unit written after them; the same value or not.

Every function here is pure (the per-text scans are cached, which changes nothing but speed).
Dates are read by ``dates``, units by ``units``.

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
- In a text, a unit is read only when ``units`` knows it (``UNITS``: "1,250 people" has the
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

import math
import re
from functools import lru_cache
from typing import NamedTuple

from pipeline.text.dates import _dates, parse_date
from pipeline.text.spans import _Spans
from pipeline.text.units import (
    _CURRENCY,
    _CURRENCY_SCALES,
    _L,
    _NOT_GLUED,
    _R,
    _SCALE_AFTER,
    _SCALES,
    _glued,
    _sign_before,
    _unit_after,
    unit_key,
    units_compatible,
)

__all__ = ["FoundNumber", "Quantity", "find_numbers", "parse_number", "same_value"]


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
