"""Quarantine records of the graph checks (``pipeline.verify.records``): a graph check's record
with the id of a refusal already in the run's quarantine adds its reasons to it, and keeps
the other's."""

from __future__ import annotations

from pipeline.models import (
    CandidateTriple,
    Chunk,
    QuarantinedCandidate,
    RunId,
    Violation,
    ViolationReason,
)
from pipeline.verify.records import add_refusal


def _record(chunk: Chunk, reason: ViolationReason, check: str) -> QuarantinedCandidate:
    return QuarantinedCandidate.make(
        chunk=chunk, raw="{}", candidate=CandidateTriple(subject="Acme Rockets",
                                                         predicate="founded by",
                                                         object="Seattle"),
        violations=(Violation(reason=reason, check=check, detail=check),), model="fake",
        prompt_version="v", run_id=RunId("run-1"), attempts=1, sample_index=0)


def test_a_graph_refusal_of_a_statement_already_refused_adds_its_reasons(chunk: Chunk) -> None:
    contract = _record(chunk, ViolationReason.OBJECT_NOT_IN_TEXT, "object-in-text")
    graph = _record(chunk, ViolationReason.RANGE_MISMATCH, "types-fit-domain-range")
    other = graph.model_copy(update={"id": "q:other"})
    quarantined: dict[str, QuarantinedCandidate] = {contract.id: contract}
    for q in (graph, graph, other):
        add_refusal(quarantined, q)
    assert graph.id == contract.id
    assert [v.check for v in quarantined[contract.id].violations] == [
        "object-in-text", "types-fit-domain-range"]
    assert quarantined["q:other"] == other
