"""Types from evidence, and the severities of the graph checks: a soft check flags and keeps, a
hard one quarantines; the confidence takes the flags' penalties."""

from __future__ import annotations

import json

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from pipeline.confidence import AgreementScorer, ConfidenceModel
from pipeline.contracts import TripleContract, load_contract
from pipeline.contracts.spec import ContractSpec
from pipeline.extract import LLMExtractor
from pipeline.models import (
    AssertionStatus,
    CalibrationMap,
    Chunk,
    Document,
    Ontology,
    RunId,
    ScoredGraph,
    Severity,
    ViolationReason,
)
from pipeline.verify import check_types, run_graph_checks, type_evidence

RUN = RunId("run-types")
TEXT = ("Acme Rockets was founded by Ada Byron. Acme Rockets is based in Seattle. "
        "Seattle was founded by Ada Byron. Globex is based in Seattle.")
TRIPLES = [("Acme Rockets", "founded by", "Ada Byron"), ("Acme Rockets", "based in", "Seattle"),
           ("Globex", "based in", "Seattle"), ("Seattle", "founded by", "Ada Byron")]


def scored(toy: Ontology, text: str = TEXT, triples: list[tuple[str, str, str]] = TRIPLES,
           spec: ContractSpec | None = None) -> ScoredGraph:
    doc = Document.from_text(text, source="x")
    chunk = Chunk.make(doc, 0, 0, len(text))
    raw = json.dumps({"triples": [{"subject": s, "predicate": p, "object": o}
                                  for s, p, o in triples]})
    ex = LLMExtractor(FakeListChatModel(responses=[raw]), TripleContract(spec or load_contract()),
                      samples=1, max_retries=0)
    return AgreementScorer().score([ex.extract(chunk, toy, run_id=RUN)], toy)


def with_graph_severity(severity: Severity) -> ContractSpec:
    spec = load_contract()
    return spec.model_copy(update={"graph": tuple(
        c.model_copy(update={"severity": severity}) if c.check == "types-fit-domain-range"
        else c for c in spec.graph)})


def test_every_statement_is_evidence_of_its_entities_classes(toy: Ontology) -> None:
    graph = scored(toy)
    evidence = type_evidence(graph.assertions, toy)
    seattle = next(e for e in evidence.values() if e.label == "Seattle")
    support = {c.cls.rsplit("#")[-1]: c.support for c in seattle.candidates}
    # a City as the object of two "based in", a Company as the subject of "founded by"
    assert support == {"City": 2, "Company": 1}
    assert seattle.candidates[0].cls.endswith("#City")


def test_a_statement_fits_when_another_statement_allows_its_class(toy: Ontology) -> None:
    """Acme is a Company (founded by) and an Organization (based in): Company is a subclass
    of Organization, so both fit; Seattle founded by Ada does not fit what its two other
    statements say (a City), and only that statement is flagged, with the evidence."""
    graph = scored(toy)
    found = check_types(graph.assertions, toy)
    [(aid, violations)] = found.items()
    flagged = next(a for a in graph.assertions if a.id == aid)
    assert flagged.triple.subject.label == "Seattle"
    [v] = violations
    assert v.reason is ViolationReason.DOMAIN_MISMATCH
    assert "City (2 statements)" in v.detail and "Company" in v.detail


def test_no_other_evidence_means_no_violation(toy: Ontology) -> None:
    """A name met in one statement only: nothing else says what it is, nothing to contradict."""
    graph = scored(toy, "Seattle was founded by Ada Byron.",
                   [("Seattle", "founded by", "Ada Byron")])
    assert check_types(graph.assertions, toy) == {}


def test_a_mistyped_name_elsewhere_never_refuses_a_right_statement(toy: Ontology) -> None:
    """One statement types Seattle as a Company, two as a City: the City statements fit (the
    other City statement allows them), so the majority never decides alone."""
    graph = scored(toy)
    found = check_types(graph.assertions, toy)
    based = [a for a in graph.assertions if a.triple.predicate.endswith("basedIn")]
    assert based and all(a.id not in found for a in based)


def test_soft_type_check_flags_keeps_and_lowers_confidence(toy: Ontology) -> None:
    graph = scored(toy)
    result = run_graph_checks(graph, toy, load_contract(),
                              confidence=ConfidenceModel(penalties={
                                  "types-fit-domain-range": 0.25}))
    assert len(result.graph.assertions) == 4 and not result.graph.quarantined
    seattle = next(a for a in result.graph.assertions if a.triple.subject.label == "Seattle")
    assert [v.check for v in seattle.violations] == ["types-fit-domain-range"]
    assert seattle.violations[0].severity is Severity.SOFT
    assert seattle.confidence == pytest.approx(0.25)  # one sample of one, times the penalty
    assert result.flagged == {"types-fit-domain-range": 1}
    others = [a for a in result.graph.assertions if a is not seattle]
    assert all(a.confidence == pytest.approx(1.0) and not a.violations for a in others)


def test_type_check_promoted_to_hard_quarantines(toy: Ontology) -> None:
    spec = with_graph_severity(Severity.HARD)
    result = run_graph_checks(scored(toy), toy, spec)
    assert len(result.graph.assertions) == 3
    [q] = result.graph.quarantined
    assert q.primary_reason is ViolationReason.DOMAIN_MISMATCH
    assert q.candidate is not None and q.candidate.subject == "Seattle"
    assert all(v.severity is Severity.HARD for v in q.violations)


def test_calibration_maps_the_raw_score(toy: Ontology) -> None:
    cal = CalibrationMap(xs=(0.0, 0.5, 1.0), ys=(0.1, 0.3, 0.8))
    result = run_graph_checks(scored(toy), toy, load_contract(),
                              confidence=ConfidenceModel(calibration=cal))
    conf = sorted(a.confidence for a in result.graph.assertions)
    # raw 0.5 (flagged: 1.0 x default penalty 0.5) -> 0.3; raw 1.0 -> 0.8
    assert conf == pytest.approx([0.3, 0.8, 0.8, 0.8])


def test_a_statement_hard_checks_refused_is_never_reinstated(toy: Ontology) -> None:
    graph = scored(toy, triples=[*TRIPLES, ("Atlantis", "based in", "Seattle")])
    assert any(q.primary_reason is ViolationReason.SUBJECT_NOT_IN_TEXT
               for q in graph.quarantined)
    result = run_graph_checks(graph, toy, load_contract())
    assert {q.id for q in graph.quarantined} <= {q.id for q in result.graph.quarantined}
    assert all(a.status is not AssertionStatus.QUARANTINED for a in result.graph.assertions)
