"""Units, scale words and currency signs written with a number, and what stands around its digits.

``UNITS`` maps each canonical unit to the ways it is written; ``unit_key`` gives the canonical
form of a unit as written ("kilometrePerSeconds" → "km/s", "square kilometres" → "km2") and
``units_compatible`` whether two written units can be one. The scale words ("million") and
currency signs (with their glued suffixes: "$3bn") a number may carry live here too, with the
tests on the characters right around a number's digits (``_glued``: part of something longer;
``_sign_before``: a minus or plus sign) that the readings of dates and numbers share.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["UNITS", "unit_key", "units_compatible"]

_L = r"(?<![^\W_])"           # not glued to a letter or digit before
_R = r"(?![^\W_])"            # not glued to a letter or digit after


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
