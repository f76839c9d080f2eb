"""Spans of a text: where a mention is written, the sentence around a span, disjoint spans.

``find_mention``/``find_mentions`` find a mention written as such (case, whitespace,
punctuation and inflection aside), on a normalised copy of both texts that keeps a map back to
the original offsets, so a span is exact in the source document. ``closest_pair`` picks the
occurrences of two mentions likeliest to state one fact, ``sentence_around`` widens a span to
its sentence for a readable quote and ``widen`` grows a span over the mention's own
punctuation. ``_Spans`` keeps a set of disjoint spans (the readings of dates and numbers and
``ground_all`` keep the first of overlapping ones).
"""

from __future__ import annotations

import bisect
import re

from pipeline.text.normalise import (
    WORD_RUN,
    _normalise_with_map,
    _stem,
    _stemmed_tokens,
    _variants,
)

__all__ = ["closest_pair", "find_mention", "find_mentions", "sentence_around", "widen"]

# where a sentence ends: . ! ? before whitespace, or a line break (headings, list items)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n")


def _inflected_mentions(text: str, mention: str) -> list[tuple[int, int]]:
    """Spans where ``mention`` is written with other inflections ("Pirate Parties" for
    "Pirate Party", "launches" for "launch"): the same word stems in the same order."""
    want = [_stem(w.casefold()) for w in WORD_RUN.findall(mention)]
    if not want:
        return []
    words = _stemmed_tokens(text)
    n = len(want)
    first = want[0]
    return [(words[i][1], words[i + n - 1][2]) for i in range(len(words) - n + 1)
            if words[i][0] == first and all(words[i + k][0] == want[k] for k in range(1, n))]


def find_mentions(text: str, mention: str) -> list[tuple[int, int]]:
    """Every span ``(start, end)`` of ``mention`` in ``text`` on word boundaries, in order.

    Case, punctuation and whitespace never matter; when the mention is not written as such,
    a mention written with other inflections of the same words counts."""
    found = _exact_mentions(text, mention)
    return found or _inflected_mentions(text, mention)


def _exact_mentions(text: str, mention: str) -> list[tuple[int, int]]:
    norm, pos = _normalise_with_map(text)
    found: list[tuple[int, int]] = []
    for variant in _variants(mention):
        start = 0
        while True:
            i = norm.find(variant, start)
            if i < 0:
                break
            j = i + len(variant)
            left_ok = i == 0 or norm[i - 1] == " "
            right_ok = j == len(norm) or norm[j] == " "
            if left_ok and right_ok:
                found.append((pos[i], pos[j - 1] + 1))
            start = i + 1
        if found:
            return found
    return found


def find_mention(text: str, mention: str) -> tuple[int, int] | None:
    """The first span of ``mention`` in ``text`` on word boundaries, or None."""
    spans = find_mentions(text, mention)
    return spans[0] if spans else None


def closest_pair(text: str, first: str, second: str) -> tuple[tuple[int, int],
                                                              tuple[int, int]] | None:
    """The occurrences of two mentions that lie closest together (the likeliest statement of
    a fact naming both), or None if either is missing."""
    a, b = find_mentions(text, first), find_mentions(text, second)
    if not a or not b:
        return None
    ends = [m.start() for m in _SENTENCE_END.finditer(text)]

    def sentence(span: tuple[int, int]) -> int:
        return sum(1 for e in ends if e < span[0])

    return min(((x, y) for x in a for y in b),
               key=lambda p: (sentence(p[0]) != sentence(p[1]),
                              max(p[0][1], p[1][1]) - min(p[0][0], p[1][0]), p[0][0]))


def sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen ``[start, end)`` to the sentence(s) containing it, for a readable quote."""
    left = max(text.rfind(". ", 0, start), text.rfind("\n", 0, start))
    s = 0 if left < 0 else left + 1
    while s < start and text[s].isspace():
        s += 1
    m = re.search(r"[.!?](\s|$)|\n", text[end:])
    e = len(text) if m is None else end + m.start() + 1
    return s, min(e, len(text))


def widen(text: str, span: tuple[int, int], mention: str) -> tuple[int, int]:
    """``span`` grown over the punctuation ``mention`` itself starts or ends with, where the
    text has it too: "(66391) 1999 KW4" keeps its parentheses, "Saturn." gains no period."""
    s, e = span
    m = mention.strip()
    i = 0
    while i < len(m) and not m[i].isalnum() and s > 0 and text[s - 1] == m[i]:
        i += 1
    lead = m[:i]
    if lead and text[s - len(lead):s] == lead:
        s -= len(lead)
    j = len(m)
    while j > 0 and not m[j - 1].isalnum() and e < len(text):
        j -= 1
    trail = m[j:]
    if trail and text[e:e + len(trail)] == trail:
        e += len(trail)
    return s, e


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
