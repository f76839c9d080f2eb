"""Moved to ``pipeline.text`` (``pipeline.text.grounding`` and ``pipeline.text.normalise``).

This module re-exports the old names so existing imports keep working until they switch."""

from pipeline.text.grounding import (
    _SENTENCE_END,
    _exact_mentions,
    _inflected_mentions,
    closest_pair,
    find_mention,
    find_mentions,
    sentence_around,
    widen,
)
from pipeline.text.normalise import (
    _WORD,
    _normalise_with_map,
    _stem,
    _stemmed_tokens,
    _stemmer,
    _variants,
    normalise,
)

__all__ = ["_SENTENCE_END", "_WORD", "_exact_mentions", "_inflected_mentions",
           "_normalise_with_map", "_stem", "_stemmed_tokens", "_stemmer", "_variants",
           "closest_pair", "find_mention", "find_mentions", "normalise", "sentence_around",
           "widen"]
