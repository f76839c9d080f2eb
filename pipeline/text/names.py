"""Name variants: abbreviations and their long forms, demonyms and their places.

The data are the tables of ``name_tables`` (``ALIASES``, ``DEMONYMS``, ``NOT_DEMONYMS``,
``STOPWORDS``); this module reads them. An acronym is compared letter for letter, case kept
and dots ignored: "U.S." is "US", and neither is "us". ``long_forms_in_text`` reads "Long Name
(ACRO)" pairs written in a text; ``initials`` gives the acronym a multi-word name abbreviates
to. The scans of a text that grounding makes for names are here too: multi-word names with
given initials (``_runs_with_initials``) and demonyms (``_demonym_hits``), each cached on the
text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from pipeline.text.name_tables import ALIASES, DEMONYMS, NOT_DEMONYMS, STOPWORDS
from pipeline.text.normalise import normalise

__all__ = ["acronym_key", "demonyms_of", "initials", "long_form", "long_forms_in_text",
           "name_forms", "name_key", "places_of_demonym", "same_name"]

_ACRONYM = re.compile(r"[A-Z][A-Za-z&]{1,11}")
_DOTTED = re.compile(r"\s*(?:[A-Za-z&]\.\s?)+[A-Za-z&]?\.?\s*")


@lru_cache(maxsize=65536)
def acronym_key(name: str) -> str | None:
    """``name`` without its dots if it reads as an acronym ("U.S." → "US", "DoD", "AT&T"),
    else None: at least two capitals, fewer small letters than capitals, case kept."""
    text = name.strip().replace(".", "").replace(" ", "") if _DOTTED.fullmatch(name) \
        else name.strip()
    if not _ACRONYM.fullmatch(text):
        return None
    upper = sum(1 for c in text if c.isupper())
    lower = sum(1 for c in text if c.islower())
    return text if upper >= 2 and lower < upper else None


@lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """What two writings of one name share: without a leading "the" and a possessive "'s",
    an acronym without its dots (case kept), any other name normalised."""
    bare = re.sub(r"['’]s\s*$", "", re.sub(r"^\s*(?i:the)\s+(?=\S)", "", name))
    key = acronym_key(bare)
    return key if key is not None else normalise(bare)


def same_name(a: str, b: str, aliases: Mapping[str, str] | None = None) -> bool:
    """Whether ``a`` and ``b`` name the same thing: the same ``name_key``, or forms of one
    entry of ``aliases`` (alias → name) or of ``ALIASES``."""
    if name_key(a) == name_key(b):
        return True
    return name_key(b) in {name_key(f) for f in name_forms(a, aliases)}


def initials(name: str) -> str | None:
    """The capitalised initials of a multi-word name's content words ("European Space
    Agency" → "ESA", "Department of Defense" → "DD"), or None for a single word."""
    words = [w for w in re.findall(r"[^\W_]+", name) if w.casefold() not in STOPWORDS]
    return "".join(w[0] for w in words).upper() if len(words) >= 2 else None


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for long, others in ALIASES.items():
        for form in (long, *others):
            index.setdefault(name_key(form), long)
    return index


def long_form(name: str, aliases: Mapping[str, str] | None = None) -> str | None:
    """The long form ``name`` stands for: through ``aliases`` (alias → name) first, then
    ``ALIASES``; a long form stands for itself. None when neither table knows ``name``."""
    key = name_key(name)
    for alias, full in (aliases or {}).items():
        if name_key(alias) == key or name_key(full) == key:
            return full
    return _alias_index().get(key)


def name_forms(name: str, aliases: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Every other name of the thing ``name`` names, from ``aliases`` and ``ALIASES``
    (not ``name`` itself; empty when neither table knows it)."""
    key = name_key(name)
    out: list[str] = []
    for alias, full in (aliases or {}).items():
        if name_key(alias) == key:
            out.append(full)
        elif name_key(full) == key:
            out.append(alias)
    long = _alias_index().get(key)
    if long is not None:
        out.extend((long, *ALIASES[long]))
    seen = {key}
    result: list[str] = []
    for form in out:
        if name_key(form) not in seen:
            seen.add(name_key(form))
            result.append(form)
    return tuple(result)


# --------------------------------------------------------------------------- in a text

_ACRONYM_IN_PARENS = re.compile(r"\(\s*([A-Za-z][A-Za-z.&]{1,15})\s*\)")
_NAME_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_NAME_GAP = re.compile(r"[ \t]*(?:-|,)?[ \t]*|[ \t]+")
#: how far before "(ACRO)" the long name is looked for
_NAME_WINDOW = 300


def _acronym_letters(label: str) -> str | None:
    key = acronym_key(label)
    return "".join(c for c in key if c.isupper()) if key else None


@lru_cache(maxsize=512)
def _long_forms(text: str) -> tuple[tuple[str, str, int, int], ...]:
    found: list[tuple[str, str, int, int]] = []
    for m in _ACRONYM_IN_PARENS.finditer(text):
        letters = _acronym_letters(m.group(1))
        if letters is None:
            continue
        words = list(_NAME_WORD.finditer(text, max(0, m.start() - _NAME_WINDOW), m.start()))
        need = len(letters) - 1
        gap_end = m.start()
        first: int | None = None
        last_end: int | None = None
        for w in reversed(words):
            if not _NAME_GAP.fullmatch(text, w.end(), gap_end):
                break
            gap_end = w.start()
            word = w.group()
            if word.casefold() in STOPWORDS:
                if first is None:       # the name must end on a content word
                    break
                continue
            if word[0] != letters[need]:
                break
            if last_end is None:
                last_end = w.end()
            first = w.start()
            need -= 1
            if need < 0:
                break
        if need < 0 and first is not None and last_end is not None:
            found.append((text[first:last_end], m.group(1).strip(), first, last_end))
    return tuple(found)


def long_forms_in_text(text: str) -> list[tuple[str, str]]:
    """Every "Long Name (ACRO)" written in ``text`` as ``(long name, acronym)``, in order.

    The long name is the run of words just before the parenthesis whose content words (not
    "of", "and", "the", ...) start with the acronym's capitals, in order, joined by spaces,
    hyphens or commas: "the European Space Agency (ESA)" gives ("European Space Agency",
    "ESA"); "United Nations Educational, Scientific and Cultural Organization (UNESCO)"
    gives the whole name."""
    return [(long, acro) for long, acro, _, _ in _long_forms(text)]


_RUN_GAP = re.compile(r"[ \t]+|[ \t]*-[ \t]*")


@lru_cache(maxsize=512)
def _runs_with_initials(text: str, letters: str) -> tuple[tuple[int, int], ...]:
    """Spans of multi-word names in ``text`` whose capitalised content words start with
    ``letters`` in order, joined by spaces or hyphens ("European Space Agency" for "ESA")."""
    words = list(_NAME_WORD.finditer(text))
    found: list[tuple[int, int]] = []
    for i, first in enumerate(words):
        if first.group()[0] != letters[0] or first.group().casefold() in STOPWORDS:
            continue
        k = 1
        prev = first
        for j in range(i + 1, len(words)):
            w = words[j]
            if k == len(letters) or not _RUN_GAP.fullmatch(text, prev.end(), w.start()):
                break
            prev = w
            if w.group().casefold() in STOPWORDS and not w.group()[0].isupper():
                continue
            if w.group()[0] != letters[k]:
                break
            k += 1
        if k == len(letters) and prev.group()[0].isupper():
            found.append((first.start(), prev.end()))
    return tuple(found)


# --------------------------------------------------------------------------- demonyms


@lru_cache(maxsize=1)
def _demonym_index() -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for place, words in DEMONYMS.items():
        for w in words:
            index.setdefault(w.casefold(), []).append(place)
    return {k: tuple(v) for k, v in index.items()}


def places_of_demonym(word: str) -> tuple[str, ...]:
    """The places ``word`` is a demonym of ("Italian" → ("Italy",); "Italians" too; "Dominican"
    → ("Dominica", "Dominican Republic")), or () when it is none."""
    w = " ".join(word.split()).casefold()
    index = _demonym_index()
    if w in index:
        return index[w]
    return index.get(w[:-1], ()) if w.endswith("s") else ()


def demonyms_of(place: str, aliases: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The demonyms of ``place`` or of the place it is another name of ("USA" → "American")."""
    key = name_key(place)
    out: list[str] = []
    for p, words in DEMONYMS.items():
        if name_key(p) == key:
            out.extend(words)
    long = long_form(place, aliases)
    if long is not None and long in DEMONYMS and name_key(long) != key:
        out.extend(DEMONYMS[long])
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=1)
def _demonym_forms() -> tuple[dict[str, tuple[str, tuple[str, ...]]], int]:
    """Every place name, demonym and non-demonym phrase, casefolded, with what it is, and the
    most words any of them has."""
    forms: dict[str, tuple[str, tuple[str, ...]]] = {}
    for place in DEMONYMS:
        for name in (place, *name_forms(place)):
            if acronym_key(name) is None:
                forms.setdefault(" ".join(name.casefold().split()), ("place", (place,)))
    for phrase in NOT_DEMONYMS:
        forms[phrase.casefold()] = ("blocked", ())
    for word in {w for words in DEMONYMS.values() for w in words}:
        forms.setdefault(word.casefold(), ("demonym", places_of_demonym(word)))
    longest = max(len(_NAME_WORD.findall(f)) for f in forms)
    return forms, longest


@lru_cache(maxsize=1)
def _places_by_key() -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for place in DEMONYMS:
        index.setdefault(name_key(place), []).append(place)
    return {k: tuple(v) for k, v in index.items()}


_LANGUAGE_BEFORE = re.compile(r"(?i)\b(?:in|into|from|speaks?|spoke|spoken|speaking)[ \t]+$")
_LANGUAGE_AFTER = re.compile(r"(?i)[ \t]*(?:[.,;:!?)\]]|$)|[ \t]+(?:and|or|by|as|with|to|for|"
                             r"is|was|in|on|at|but|than)(?![^\W_])")
_LANGUAGE_NOUN = re.compile(r"(?i)(?:[ \t]+|-)(?:language|languages|translation|speaking|"
                            r"speaker|speakers|dialect|word|words)(?![^\W_])")
_FORM_GAP = re.compile(r"[ \t]+|-")


@lru_cache(maxsize=512)
def _demonym_hits(text: str) -> tuple[tuple[int, int, tuple[str, ...]], ...]:
    """Every demonym written in ``text`` (capitalised, singular or plural, not a language,
    not inside a place name or a fixed phrase: "American" is never read in "American Samoa"
    or "South American"), with the places it names. Longest form first, left to right."""
    forms, longest = _demonym_forms()
    words = list(_NAME_WORD.finditer(text))
    hits: list[tuple[int, int, tuple[str, ...]]] = []
    i = 0
    while i < len(words):
        if not words[i].group()[0].isupper():
            i += 1
            continue
        j = i + 1        # words[i:j] is the longest run of joined words, at most ``longest``
        while j < len(words) and j - i < longest and \
                _FORM_GAP.fullmatch(text, words[j - 1].end(), words[j].start()):
            j += 1
        for k in range(j, i, -1):
            s, e = words[i].start(), words[k - 1].end()
            written = " ".join(text[s:e].casefold().split())
            entry = forms.get(written)
            if entry is None and written.endswith("s"):
                entry = forms.get(written[:-1])
                entry = entry if entry is not None and entry[0] == "demonym" else None
            if entry is None:
                continue
            language = _LANGUAGE_NOUN.match(text, e) or (
                _LANGUAGE_BEFORE.search(text, max(0, s - 20), s) and _LANGUAGE_AFTER.match(text, e))
            if entry[0] == "demonym" and not language:
                hits.append((s, e, entry[1]))
            i = k - 1
            break
        i += 1
    return tuple(hits)
