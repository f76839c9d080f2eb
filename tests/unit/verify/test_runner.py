"""Confidence across models and the graph section of the contract, end to end on fake LLMs."""

from __future__ import annotations

import json

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from pipeline.confidence import AgreementScorer, ConfidenceModel
from pipeline.contracts import TripleContract, load_contract
from pipeline.extract import LLMExtractor
from pipeline.models import AssertionStatus, Chunk, Document, Ontology, RunId
from pipeline.verify import run_graph_checks

RUN = RunId("run-graph")


def _answer(*triples: tuple[str, str, str]) -> str:
    return json.dumps({"triples": [{"subject": s, "predicate": p, "object": o}
                                   for s, p, o in triples]})


def _extract(text: str, toy: Ontology, answers: dict[str, str]) -> list:
    doc = Document.from_text(text, source="d")
    chunk = Chunk.make(doc, 0, 0, len(text))
    contract = TripleContract(load_contract())
    out = []
    for name, ans in answers.items():
        model = FakeListChatModel(responses=[ans], name=name)
        ex = LLMExtractor(model, contract, samples=1, max_retries=0, model_name=name)
        out.append(ex.extract(chunk, toy, run_id=RUN))
    return out


def test_two_models_on_one_chunk_count_as_samples_of_it(toy: Ontology) -> None:
    text = "Acme Rockets was founded by Ada Byron. Acme Rockets is based in Seattle."
    exs = _extract(text, toy, {
        "a": _answer(("Acme Rockets", "founded by", "Ada Byron"),
                     ("Acme Rockets", "based in", "Seattle")),
        "b": _answer(("Acme Rockets", "founded_by", "Ada Byron"))})
    scored = AgreementScorer().score(exs, toy)
    conf = {a.triple.object_label: a.confidence for a in scored.assertions}
    # a said two things, b confirms one of them: a is half corroborated (a vote of 0.75), b
    # fully (a vote of 1): founded by = (0.75 + 1) / 2, based in = 0.75 / 2
    assert conf == {"Ada Byron": 0.875, "Seattle": 0.375}
    assert {p.model: p.corroboration for a in scored.assertions for p in a.provenance
            if a.triple.object_label == "Ada Byron"} == {"a": 0.5, "b": 1.0}
    founded = next(a for a in scored.assertions if a.triple.object_label == "Ada Byron")
    assert {p.model for p in founded.provenance} == {"a", "b"}
    assert all(p.seen_at is not None and p.subject_mention == "Acme Rockets"
               for p in founded.provenance)
    assert founded.first_seen is not None and founded.first_seen <= founded.last_seen
    repairs = {p.model: p.repairs for p in founded.provenance}
    assert repairs == {"a": (), "b": ("predicate 'founded_by' mapped to 'founded by'",)}


def test_graph_contract_contests_merges_and_reports(toy: Ontology) -> None:
    text = ("Acme Rockets Inc. was founded in 1998 by Ada Byron. Acme Rockets, founded in "
            "1999, is based in Seattle. Globex is based in Paris.")
    exs = _extract(text, toy, {
        "a": _answer(("Acme Rockets Inc.", "founding year", "1998"),
                     ("Acme Rockets", "founded by", "Ada Byron"),
                     ("Acme Rockets", "based in", "Seattle"),
                     ("Globex", "based in", "Paris")),
        "b": _answer(("Acme Rockets", "founding year", "1998"),
                     ("Acme Rockets", "founding year", "1999"))})
    scored = AgreementScorer().score(exs, toy)
    result = run_graph_checks(scored, toy, load_contract(), texts=[text],
                              confidence=ConfidenceModel())
    # "Acme Rockets Inc." and "Acme Rockets" are one company: the merge is recorded
    assert [(m.merged.label, m.canonical.label, m.reason) for m in result.merges] == [
        ("Acme Rockets Inc.", "Acme Rockets", "normalised-form")]
    years = {a.triple.object_label: a for a in result.graph.assertions
             if a.triple.predicate.endswith("foundingYear")}
    # founding year is functional: 1998 (both models) beats 1999 (one), kept as contested.
    # Corroboration sees "Acme Rockets Inc." as "Acme Rockets", as resolution will: b confirms
    # one of a's four statements (a votes 0.625), a one of b's two (b votes 0.75)
    assert years["1998"].status is AssertionStatus.DRAFT
    assert years["1998"].confidence == pytest.approx((0.625 + 0.75) / 2)
    assert years["1999"].status is AssertionStatus.CONTESTED
    assert result.failures["functional-conflict"] == 1
    # Globex — Paris is not connected to the Acme part of the graph
    assert result.failures["isolated-islands"] == 1
    assert {e for i in result.islands for e in i.labels} >= {"Globex", "Paris"}
