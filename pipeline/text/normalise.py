"""The normalised form every text comparison of the pipeline makes, with a map back to offsets.

``normalise`` casefolds (after NFKC), turns every character that is not a letter or a digit into
a space and collapses spaces: "Cassini–Huygens's" → "cassini huygens s". Underscores count as
spaces ("AWH_Engineering_College" → "awh engineering college"), since identifiers and IRIs write
names that way. ``_normalise_with_map`` also returns, for every character of the normalised
text, the offset in the original it came from, so a match found on the normalised copy is an
exact span of the source.

Word stems (Porter, from NLTK) are here too: ``stem`` and ``stemmed_words``, cached per word
and per text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: a letter or a digit in any script (``\w`` without the underscore)
_WORD = re.compile(r"[^\W_]", re.UNICODE)
#: a word: a run of letters and digits (underscores separate words)
WORD_RUN = re.compile(r"[^\W_]+", re.UNICODE)


@lru_cache(maxsize=512)
def _normalise_with_map(text: str) -> tuple[str, tuple[int, ...]]:
    """Casefold, turn punctuation into spaces and collapse spaces, keeping original offsets.

    Cached: every candidate of an answer searches the same chunk text several times."""
    out: list[str] = []
    pos: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).casefold():
            if _WORD.match(c):
                out.append(c)
                pos.append(i)
            elif out and out[-1] != " ":
                out.append(" ")
                pos.append(i)
    while out and out[-1] == " ":
        out.pop()
        pos.pop()
    return "".join(out), tuple(pos)


def normalise(text: str) -> str:
    """``text`` casefolded, with punctuation, underscores and runs of spaces as one space."""
    return _normalise_with_map(text)[0].strip()


def _variants(mention: str) -> list[str]:
    """The normalised forms a mention is looked for in: itself, without a possessive "'s",
    without a leading "the"."""
    base = normalise(mention)
    out = [base]
    if re.search(r"['’]s\s*$", mention):  # possessive "Nasa's" → "nasa s" → "nasa"
        out.append(base[:-2])
    if base.startswith("the "):
        out.append(base[4:])
    return [v for v in out if v]


@lru_cache(maxsize=1)
def _stemmer() -> object:
    from nltk.stem import PorterStemmer
    return PorterStemmer()


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer().stem(word)  # type: ignore[attr-defined,no-any-return]


def stem(word: str) -> str:
    """The Porter stem of ``word`` (casefolded first): "Parties" → "parti"."""
    return _stem(word.casefold())


@lru_cache(maxsize=512)
def _stemmed_tokens(text: str) -> tuple[tuple[str, int, int], ...]:
    """``(stem, start, end)`` of every word of ``text`` (offsets in ``text``)."""
    return tuple((_stem(m.group(0).casefold()), m.start(), m.end())
                 for m in WORD_RUN.finditer(text))


def stemmed_words(text: str) -> tuple[tuple[str, int, int], ...]:
    """``(stem, start, end)`` of every word of ``text``, in order (cached per text)."""
    return _stemmed_tokens(text)


#: trailing legal-form words dropped by ``resolution_key`` (one, and never the whole label);
#: deliberately short: "Co", "AG" or "SA" are also ordinary words or initials
_CORPORATE_SUFFIXES = frozenset({"inc", "incorporated", "ltd", "limited", "corp",
                                 "corporation", "llc", "plc", "gmbh"})
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")


def resolution_key(label: str) -> str:
    """The form two labels of one entity share: casefolded, punctuation as spaces, without a
    possessive "'s", a leading "the" or one trailing corporate suffix, with dotted initials
    joined ("U.S." → "us"). Conservative on purpose: nothing else is dropped, and a label that
    is only an article or a suffix keeps it."""
    text = _POSSESSIVE.sub("", unicodedata.normalize("NFKC", label))
    tokens = normalise(text).split()
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    if len(tokens) > 1 and tokens[-1] in _CORPORATE_SUFFIXES:
        tokens = tokens[:-1]
    joined: list[str] = []
    run: list[str] = []
    for tok in [*tokens, ""]:
        if len(tok) == 1 and tok.isalpha():
            run.append(tok)
            continue
        if run:
            joined.extend(["".join(run)] if len(run) > 1 else run)
            run = []
        if tok:
            joined.append(tok)
    return " ".join(joined)


