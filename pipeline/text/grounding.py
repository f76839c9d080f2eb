"""Grounding: where a subject or object an LLM proposed is written in a text, and how.

The evidence check against hallucination: a subject or object counts as grounded only when the
text supports it. ``spans.find_mentions`` finds a mention written as such (case, whitespace,
punctuation and inflection aside); ``ground`` and ``ground_all`` go further, and say how each
span supports the mention, in this order of trust:

1. ``exact``: the mention as written (``find_mentions``' exact match); ``inflected``: the same
   words with other inflections ("Pirate Parties" for "Pirate Party").
2. ``kind="value"``: ``date``: a date written in another form that states the mention's date
   ("16 August 1920" for "August 16th, 1920"; "1920-08-16" states the year "1920", not the
   other way round); ``number``: the same number written in another form ("1,250" for
   "1250", "1.2 million" for "1200000") with no conflicting unit.
3. ``kind="name"`` or ``"place"``: ``acronym``: the mention's acronym written with or without
   dots ("U.S." for "US"); ``alias``: another name of it given in ``aliases`` (alias → name);
   ``acronym``: its long form or acronym written in the same text as "Long Name (ACRO)";
   ``alias``: another name of it in the built-in table (``name_tables.ALIASES``);
   ``acronym``: an acronym of three letters or more and a multi-word name with those initials.
4. ``kind="place"`` only: ``demonym``: the word for the place's people ("Italian", "Italians"
   for "Italy", "American" for "USA"), or the place for a demonym mention.

Never grounded, whatever the tier: a number inside a longer number ("1250" in "12,500",
"125" in "1,250.5", "16" in "1920-08-16" or "16/08/1920"), a number with the wrong sign
("6.2" in "−6.2"), a number without its scale word ("1.2" in "1.2 million"), a mention ending
in "%" (or starting with "$") where the text has no such sign, an acronym in lower case ("US"
in "let us"), anything off word boundaries ("US" in "bus" or "USB"), and a demonym used as a
language ("written in French") or inside a phrase that does not mean its place ("the Indian
Ocean", "French fries").

Demonym plurals ("Italians") ground their place: a plural names the place's people exactly as
the singular does, and only objects of place-like properties (``kind="place"``) ever get this
far. Every per-text scan is cached on the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Literal

from pipeline.models import Frozen
from pipeline.text.dates import date_covers, find_dates, parse_date
from pipeline.text.name_tables import DEMONYMS
from pipeline.text.names import (
    _demonym_hits,
    _long_forms,
    _places_by_key,
    _runs_with_initials,
    acronym_key,
    initials,
    long_form,
    name_forms,
    name_key,
    places_of_demonym,
)
from pipeline.text.normalise import WORD_RUN
from pipeline.text.spans import _exact_mentions, _inflected_mentions, _Spans, widen
from pipeline.text.units import _SCALE_AFTER, _sign_before, units_compatible
from pipeline.text.values import _numbers_equal, find_numbers, parse_number

GroundingKind = Literal["name", "place", "value"]
GroundingHow = Literal["exact", "inflected", "date", "number", "alias", "acronym", "demonym"]


# --------------------------------------------------------------------------- grounding


class Grounding(Frozen):
    """A span of a text that supports a mention, and how.

    ``text`` is ``source[start:end]`` exactly as written; ``canonical`` is the canonical form
    of the mention where one is known: the ISO date or ``repr`` of the number of a value, the
    long form of an abbreviation or alias, the place of a demonym."""

    start: int
    end: int
    text: str
    how: GroundingHow
    canonical: str | None = None


#: characters that separate groups of digits in a number ("1,250", "1 250", "16/08", "10:30")
_DIGIT_JOIN = ".,/:\u00a0\u202f\u2009"
_HYPHEN_CHAIN = re.compile(r"\d+(?:-\d+){2,}")


def _in_code(text: str, s: int, e: int) -> bool:
    """Whether ``text[s:e]`` lies inside, and is not all of, a code of three or more
    hyphenated digit groups ("1920-08-16", "978-1-250")."""
    lo = max(0, s - 64)
    while lo > 0 and (text[lo - 1].isdigit() or text[lo - 1] == "-"):
        lo -= 1
    for m in _HYPHEN_CHAIN.finditer(text, lo, min(len(text), e + 64)):
        if m.start() <= s and e <= m.end() and (m.start(), m.end()) != (s, e):
            return True
    return False


_LEADING_THE = re.compile(r"^\s*(?i:the)\s+(?=\S)")


def _acronym_of(mention: str) -> str | None:
    """The acronym a mention is ("the U.S." → "US", "NASA's" → "NASA"), or None."""
    return acronym_key(re.sub(r"['’]s\s*$", "", _LEADING_THE.sub("", mention)))


_SIGNED = re.compile(r"\s*[$€£¥]?\s*([-+−])\d")
_JOINED_BEFORE = re.compile(rf"\d[{_DIGIT_JOIN}]$|[^\W\d_]-$")
_JOINED_AFTER = re.compile(rf"[{_DIGIT_JOIN}]\d")
#: the characters between the digit groups of a number ("1,250.5": ",", ".")
_SEPARATORS = re.compile(r"(?<=\d)[.,](?=\d)")


def _leading_sign(mention: str) -> str:
    m = _SIGNED.match(mention)
    return "-" if m and m.group(1) in "-−" else ""


def _fits(text: str, s: int, e: int, mention: str) -> bool:
    """Whether a span found on the normalised text really holds ``mention``: no digits of a
    longer number on either side, the same sign, the mention's own symbols ("%", "$") there,
    an acronym not in lower case."""
    if s < e and text[s].isdigit():
        if _JOINED_BEFORE.search(text, max(0, s - 2), s):
            return False
        text_sign = "-" if _sign_before(text, s) and text[s - 1] in "-−" else ""
        if text_sign != _leading_sign(mention):
            return False
    if s < e and text[e - 1].isdigit() and (_JOINED_AFTER.match(text, e)
                                             or _SCALE_AFTER.match(text, e)):
        return False
    if _in_code(text, s, e):
        return False
    m = mention.strip()
    if m[-1:] in ("%", "‰", "°") and not (text[e:e + 1] == m[-1] or text[e:e + 2] in
                                          (" " + m[-1], "\t" + m[-1])):
        return False
    if m[:1] in ("$", "€", "£", "¥") and not (text[s - 1:s] == m[0] or
                                              text[max(0, s - 2):s] in (m[0] + " ", m[0] + "\t")):
        return False
    if _SEPARATORS.findall(m) != _SEPARATORS.findall(text[s:e]):
        return False        # "1.25" is not "1,25", nor "1,250" "1.250"
    acronym = _acronym_of(m)
    if acronym is None:
        return True
    # "NASA" may be written "Nasa", but "WHO" is not "Who", nor "US" "us"
    letters = [c for c in text[s:e] if c.isalpha()]
    return all(c.isupper() for c in letters) or (len(acronym) >= 4 and
                                                 any(c.isupper() for c in letters))


def _grow(text: str, s: int, e: int, mention: str) -> tuple[int, int]:
    """A span grown over what the mention writes around its words and the text has too:
    its punctuation ("U.S." keeps its last dot, "12.5%" its percent sign, see ``widen``) and
    a minus sign the text writes in another character ("-6.2" for "−6.2")."""
    s, e = widen(text, (s, e), mention)
    if s > 0 and text[s].isdigit() and _leading_sign(mention) and _sign_before(text, s):
        s -= 1
    return s, e


def _digit_words_agree(text: str, s: int, e: int, mention: str) -> bool:
    """For an inflected match: every word with a digit is written exactly ("1920s" is not
    an inflection of "1920")."""
    return all(a.casefold() == b.casefold() for a, b in
               zip(WORD_RUN.findall(mention), WORD_RUN.findall(text[s:e]), strict=False)
               if any(c.isdigit() for c in a + b))


@lru_cache(maxsize=256)
def _acronym_pattern(key: str) -> re.Pattern[str]:
    plain = re.escape(key)
    alternatives = [plain]
    if key.isalpha():
        alternatives.insert(0, r"\.[ ]?".join(map(re.escape, key)) + r"\.?")
    return re.compile(rf"(?<![^\W_])(?<![^\W_]\.)(?:{'|'.join(alternatives)})(?!\.?[^\W_])")


def _acronym_spans(text: str, key: str) -> list[tuple[int, int]]:
    """Where the acronym ``key`` is written, with or without dots, in its own case:
    "U.S." or "US" for "US", never "us", "bus", "USB" or the "S.A" of "U.S.A."."""
    return [m.span() for m in _acronym_pattern(key).finditer(text)]


def _spans_of(text: str, form: str) -> list[tuple[int, int]]:
    """Where a name is written: an acronym by its letters, anything else as a mention."""
    key = _acronym_of(form)
    if key is not None:
        return _acronym_spans(text, key)
    return [(s, e) for s, e in _exact_mentions(text, form) if _fits(text, s, e, form)]


# ---- the tiers


Tier = Callable[[], list[Grounding]]


def _make(text: str, spans: list[tuple[int, int]], how: GroundingHow,
          canonical: str | None) -> list[Grounding]:
    return [Grounding(start=s, end=e, text=text[s:e], how=how, canonical=canonical)
            for s, e in dict.fromkeys(spans)]


def _value_canonical(mention: str) -> str | None:
    iso = parse_date(mention)
    if iso is not None:
        return iso
    q = parse_number(mention)
    return repr(q.value) if q is not None else None


def _name_canonical(text: str, mention: str, kind: GroundingKind,
                    aliases: Mapping[str, str] | None) -> str | None:
    full = long_form(mention, aliases)
    if full is not None:
        return full
    key = name_key(mention)
    for long, acro, _, _ in _long_forms(text):
        if name_key(acro) == key or name_key(long) == key:
            return long
    if kind == "place":
        places = places_of_demonym(mention)
        if len(places) == 1:
            return places[0]
    return None


def _tiers(text: str, mention: str, kind: GroundingKind,
           aliases: Mapping[str, str] | None, initials: bool = True) -> Iterator[Tier]:
    """The tiers of ``ground`` in their order of trust, each computed only when asked."""
    canonical_cache: list[str | None] = []

    def canonical() -> str | None:
        if not canonical_cache:
            canonical_cache.append(_value_canonical(mention) if kind == "value"
                                   else _name_canonical(text, mention, kind, aliases))
        return canonical_cache[0]

    def exact() -> list[Grounding]:
        spans = [_grow(text, s, e, mention) for s, e in _exact_mentions(text, mention)
                 if _fits(text, s, e, mention)]
        return _make(text, spans, "exact", canonical()) if spans else []

    def inflected() -> list[Grounding]:
        spans = [_grow(text, s, e, mention) for s, e in _inflected_mentions(text, mention)
                 if _fits(text, s, e, mention) and _digit_words_agree(text, s, e, mention)]
        return _make(text, spans, "inflected", canonical()) if spans else []

    yield exact
    yield inflected
    if kind == "value":
        yield lambda: _date_tier(text, mention)
        yield lambda: _number_tier(text, mention)
        return
    yield lambda: _dotted_tier(text, mention, canonical)
    yield lambda: _user_alias_tier(text, mention, aliases)
    yield lambda: _text_long_form_tier(text, mention)
    yield lambda: _table_alias_tier(text, mention)
    if initials:
        yield lambda: _initials_tier(text, mention)
    if kind == "place":
        yield lambda: _demonym_tier(text, mention, aliases)


def _date_tier(text: str, mention: str) -> list[Grounding]:
    iso = parse_date(mention)
    if iso is None:
        return []
    return [Grounding(start=d.start, end=d.end, text=d.written, how="date", canonical=iso)
            for d in find_dates(text) if date_covers(d.iso, iso)]


def _number_tier(text: str, mention: str) -> list[Grounding]:
    q = parse_number(mention)
    if q is None:
        return []
    return [Grounding(start=n.start, end=n.end, text=n.written, how="number",
                      canonical=repr(q.value))
            for n in find_numbers(text)
            if _numbers_equal(n.value, q.value) and units_compatible(q.unit, n.unit)]


def _dotted_tier(text: str, mention: str,
                 canonical: Callable[[], str | None]) -> list[Grounding]:
    key = _acronym_of(mention)
    if key is None:
        return []
    spans = _acronym_spans(text, key)
    return _make(text, spans, "acronym", canonical()) if spans else []


def _pairs_tier(text: str, mention: str, pairs: Iterable[tuple[str, str]],
                how: GroundingHow) -> list[Grounding]:
    """Spans of the other side of every (short, long) pair one side of which is the mention;
    the long form is the canonical name."""
    key = name_key(mention)
    out: list[Grounding] = []
    for short, long in pairs:
        if name_key(short) == key:
            out.extend(_make(text, _spans_of(text, long), how, long))
        elif name_key(long) == key:
            out.extend(_make(text, _spans_of(text, short), how, long))
    return out


def _user_alias_tier(text: str, mention: str,
                     aliases: Mapping[str, str] | None) -> list[Grounding]:
    return _pairs_tier(text, mention, (aliases or {}).items(), "alias")


def _text_long_form_tier(text: str, mention: str) -> list[Grounding]:
    return _pairs_tier(text, mention, ((acro, long) for long, acro, _, _ in _long_forms(text)),
                       "acronym")


def _table_alias_tier(text: str, mention: str) -> list[Grounding]:
    forms = name_forms(mention)
    if not forms:
        return []
    full = long_form(mention)
    return [g for form in forms for g in _make(text, _spans_of(text, form), "alias", full)]


def _initials_tier(text: str, mention: str) -> list[Grounding]:
    key = _acronym_of(mention)
    if key is not None:
        letters = "".join(c for c in key if c.isupper())
        if len(letters) < 3 or not key.isalpha():
            return []
        return [Grounding(start=s, end=e, text=text[s:e], how="acronym", canonical=text[s:e])
                for s, e in _runs_with_initials(text, letters)]
    letters_of = initials(mention)
    if letters_of is None or len(letters_of) < 3 or not letters_of.isalpha():
        return []
    return _make(text, _acronym_spans(text, letters_of), "acronym", mention.strip())


def _demonym_tier(text: str, mention: str,
                  aliases: Mapping[str, str] | None) -> list[Grounding]:
    places = set(_places_by_key().get(name_key(mention), ()))
    full = long_form(mention, aliases)
    if full is not None and full in DEMONYMS:
        places.add(full)
    out: list[Grounding] = []
    if places:
        for s, e, named in _demonym_hits(text):
            hit = sorted(places.intersection(named))
            if hit:
                out.append(Grounding(start=s, end=e, text=text[s:e], how="demonym",
                                     canonical=hit[0]))
    for place in places_of_demonym(mention):
        for form in (place, *name_forms(place, aliases)):
            out.extend(_make(text, _spans_of(text, form), "demonym", place))
    return out


def ground(text: str, mention: str, *, kind: GroundingKind = "name",
           aliases: Mapping[str, str] | None = None, initials: bool = True
           ) -> Grounding | None:
    """The span of ``text`` that best supports ``mention``, or None when the text does not.

    ``kind`` is what the mention is: a ``"value"`` (the object of a datatype property: dates
    and numbers may be written in other forms), a ``"place"`` (the object of a property whose
    range is a place-like class: a demonym supports it too) or any other ``"name"`` (other
    names and acronyms of it support it). ``aliases`` maps an alias to the name it stands for
    (``{"ESA": "European Space Agency"}``), trusted before the built-in table. The most
    trusted tier that finds anything decides; within it, the first span in the text.
    ``initials=False`` leaves out the guess from initials alone (an acronym and a multi-word
    name with those initials, neither written beside the other): a hint for merging
    entities, too weak to count as a text supporting a statement."""
    if not mention.strip():
        return None
    for tier in _tiers(text, mention, kind, aliases, initials):
        found = tier()
        if found:
            return min(found, key=lambda g: (g.start, g.end))
    return None


def ground_all(text: str, mention: str, *, kind: GroundingKind = "name",
               aliases: Mapping[str, str] | None = None) -> list[Grounding]:
    """Every span of ``text`` that supports ``mention``, in text order, each with how it
    does (see ``ground``). Where the spans of two tiers overlap, the more trusted one is kept;
    ``ground`` returns the most trusted of these (the first in the text among equals)."""
    if not mention.strip():
        return []
    spans = _Spans()
    taken = [g for tier in _tiers(text, mention, kind, aliases)
             for g in sorted(tier(), key=lambda g: (g.start, g.end)) if spans.add(g.start, g.end)]
    return sorted(taken, key=lambda g: (g.start, g.end))
