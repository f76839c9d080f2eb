"""Text infrastructure: normalised comparison, grounding of mentions, canonical values, names.

Imports nothing from the pipeline's stage packages (only ``pipeline.models``), so every stage
may use it:

- ``normalise``: the normalised form of a text, with a map back to offsets; word stems.
- ``spans``: where a mention is written in a text (``find_mention``, ``closest_pair``, ...),
  the sentence around a span.
- ``grounding``: how a text supports a mention (``ground``, ``ground_all``).
- ``dates``: dates to ISO 8601, alone or everywhere in a text.
- ``units``: units, scale words and currency signs written with a number.
- ``values``: numbers to floats, alone or everywhere in a text; whether two values are one.
- ``names``: abbreviations and long forms, demonyms and places, read from the tables of
  ``name_tables``.
- ``hostile``: text that tries to steer a model (instructions, fake fences, names shaped like
  query code), and the document fence of prompts.
"""

from pipeline.text.dates import FoundDate, find_dates, parse_date
from pipeline.text.grounding import Grounding, GroundingHow, GroundingKind, ground, ground_all
from pipeline.text.name_tables import ALIASES, DEMONYMS
from pipeline.text.names import (
    acronym_key,
    long_form,
    long_forms_in_text,
    name_forms,
    places_of_demonym,
    same_name,
)
from pipeline.text.normalise import normalise
from pipeline.text.spans import closest_pair, find_mention, find_mentions, sentence_around, widen
from pipeline.text.values import FoundNumber, Quantity, find_numbers, parse_number, same_value

__all__ = ["ALIASES", "DEMONYMS", "FoundDate", "FoundNumber", "Grounding", "GroundingHow",
           "GroundingKind", "Quantity", "acronym_key", "closest_pair", "find_dates",
           "find_mention", "find_mentions", "find_numbers", "ground", "ground_all",
           "long_form", "long_forms_in_text", "name_forms", "normalise", "parse_date",
           "parse_number", "places_of_demonym", "same_name", "same_value", "sentence_around",
           "widen"]
