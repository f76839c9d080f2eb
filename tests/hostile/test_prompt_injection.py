"""Prompt injection inside documents: each document of ``prompt_injection.jsonl`` loads as an
ordinary document, stays inside its ``<document>`` fence in the prompt (the system message is
byte-identical to a clean document's), and the answer of a model that obeys the injection is
quarantined with the expected reasons — nothing it asked for reaches the graph.

Where the document itself writes the payload as a name, grounding accepts it; the
``names-are-plain`` post-condition (reason ``injection-shaped``) is what refuses it. Were such
a label stored anyway, it would be inert data: ``test_cypher_injection.py`` proves that on
both backends for the same payloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from pipeline.extract.prompt import build_messages
from pipeline.ingest import SentenceChunker, TextFileLoader
from pipeline.models import Chunk, Document, Ontology
from pipeline.text.hostile import DOCUMENT_CLOSE, DOCUMENT_OPEN
from tests.hostile.hostile_corpus import params, text
from tests.hostile.test_llm_outputs import check_quarantined, extract_hostile
from tests.toy_ontology import STAGES_TEXT


@pytest.mark.parametrize("case", params("prompt_injection.jsonl"))
def test_injected_document_cannot_steer_the_graph(case: dict[str, Any], toy: Ontology,
                                                  tmp_path: Path) -> None:
    source = tmp_path / "injected.md"
    source.write_text(case["document"], encoding="utf-8")
    [doc] = TextFileLoader().load(source)
    chunk = Chunk.make(doc, 0, 0, len(doc.text))
    assert len(SentenceChunker(max_chars=4000).chunk(doc)) == 1  # one chunk holds it all

    messages = build_messages(chunk.text, toy)
    clean = build_messages(STAGES_TEXT, toy)
    assert isinstance(messages[0], SystemMessage)
    assert messages[0].content == clean[0].content  # nothing of the document leaks upward
    assert [type(m) for m in messages] == [type(m) for m in clean]
    last = messages[-1]
    assert isinstance(last, HumanMessage) and isinstance(last.content, str)
    assert last.content.startswith(DOCUMENT_OPEN + "\n")
    assert last.content.endswith("\n" + DOCUMENT_CLOSE)
    inner = last.content[len(DOCUMENT_OPEN):-len(DOCUMENT_CLOSE)]
    assert DOCUMENT_OPEN not in inner and DOCUMENT_CLOSE not in inner  # the fence holds

    answer = text(case, "hijacked_output")
    result, _ = extract_hostile(answer, chunk, toy)
    assert case["outcome"] == "quarantined"
    check_quarantined(result, answer, toy, case["reasons"], tmp_path / "kg.sqlite")


def test_a_clean_document_still_extracts(toy: Ontology, tmp_path: Path) -> None:
    """The control case: the same pipeline accepts a good answer, so the refusals above are
    the contracts at work, not a harness that refuses everything."""
    doc = Document.from_text(STAGES_TEXT, source="clean.md")
    chunk = Chunk.make(doc, 0, 0, len(doc.text))
    good = ('{"triples": [{"subject": "Acme Rockets", "predicate": "founded by", '
            '"object": "Ada Byron"}]}')
    result, _ = extract_hostile(good, chunk, toy)
    assert len(result.samples[0].accepted) == 1 and not result.samples[0].quarantined
