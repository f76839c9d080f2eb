"""Grounded grammars: which spans a document offers, and how a schema marks and sheds them."""

from __future__ import annotations

import json

import pytest

from pipeline.extract.prompt import EXTRACTION_JSON_SCHEMA
from pipeline.llm.grammar import (
    GROUNDED,
    candidate_mentions,
    find_document,
    schema_grammar,
    strip_markers,
)
from pipeline.text.hostile import DOCUMENT_CLOSE, DOCUMENT_OPEN

TEXT = ("# Rosetta\n\nRosetta was launched in 2004 on an Ariane 5 rocket from Guiana Space "
        'Centre. It landed on comet 67P/Churyumov-Gerasimenko, the "rubber duck".')


def test_mentions_are_exact_substrings_within_one_sentence() -> None:
    mentions = candidate_mentions(TEXT)
    assert all(m in TEXT for m in mentions)
    for expected in ("Rosetta", "Ariane 5", "Guiana Space Centre", "2004",
                     "comet 67P/Churyumov-Gerasimenko", "rubber duck"):
        assert expected in mentions
    assert not any("Centre. It" in m for m in mentions)  # never across a sentence end
    assert not any("\n" in m for m in mentions)  # nor across lines
    assert all(len(m.split()) <= 8 for m in mentions)
    assert "Centre." not in mentions and "Centre" in mentions  # punctuation trimmed


def test_document_is_taken_from_the_last_fenced_text() -> None:
    example = f"{DOCUMENT_OPEN}\nan example\n{DOCUMENT_CLOSE}"
    chunk = f"{DOCUMENT_OPEN}\n{TEXT}\n{DOCUMENT_CLOSE}"
    assert find_document([example, chunk, "please fix the answer"]) == TEXT
    assert find_document(["no fence here"]) is None


def test_markers_are_stripped_without_touching_the_original() -> None:
    assert GROUNDED in json.dumps(EXTRACTION_JSON_SCHEMA)
    clean = strip_markers(EXTRACTION_JSON_SCHEMA)
    assert GROUNDED not in json.dumps(clean)
    assert GROUNDED in json.dumps(EXTRACTION_JSON_SCHEMA)


def test_grammar_restricts_grounded_fields_to_document_spans() -> None:
    pytest.importorskip("llama_cpp")
    gbnf = schema_grammar(EXTRACTION_JSON_SCHEMA, TEXT)
    assert "grounded-mention ::=" in gbnf
    assert '"Ariane 5"' in gbnf or '"Ariane' in gbnf
    assert gbnf.count("grounded-mention") == 3  # subject, object, and the rule itself
    assert r'\\\"rubber' in gbnf  # a quote in the text: JSON-escaped, then GBNF-escaped
    plain = schema_grammar(EXTRACTION_JSON_SCHEMA, None)
    assert "grounded-mention" not in plain
