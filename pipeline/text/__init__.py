"""Text infrastructure: normalised comparison, grounding of mentions, canonical values, names.

Imports nothing from the pipeline's stage packages (only ``pipeline.models``), so every stage
may use it:

- ``normalise``: the normalised form of a text, with a map back to offsets; word stems.
- ``grounding``: where a mention is written in a text (``find_mention``, ``closest_pair``, ...)
  and how a text supports it (``ground``, ``ground_all``).
- ``values``: dates to ISO 8601 and numbers to floats, alone or everywhere in a text.
- ``names``: abbreviations and long forms, demonyms and places.
"""

from pipeline.text.grounding import (
    Grounding,
    GroundingHow,
    GroundingKind,
    closest_pair,
    find_mention,
    find_mentions,
    ground,
    ground_all,
    sentence_around,
    widen,
)
from pipeline.text.names import (
    ALIASES,
    DEMONYMS,
    acronym_key,
    long_form,
    long_forms_in_text,
    name_forms,
    places_of_demonym,
    same_name,
)
from pipeline.text.normalise import normalise
from pipeline.text.values import (
    FoundDate,
    FoundNumber,
    Quantity,
    find_dates,
    find_numbers,
    parse_date,
    parse_number,
    same_value,
)

__all__ = ["ALIASES", "DEMONYMS", "FoundDate", "FoundNumber", "Grounding", "GroundingHow",
           "GroundingKind", "Quantity", "acronym_key", "closest_pair", "find_dates",
           "find_mention", "find_mentions", "find_numbers", "ground", "ground_all",
           "long_form", "long_forms_in_text", "name_forms", "normalise", "parse_date",
           "parse_number", "places_of_demonym", "same_name", "same_value", "sentence_around",
           "widen"]
