"""KGCL changes pass the contracts on every store backend: a refusal writes nothing but its
audit entry, a typed literal is stored with its datatype, a flagged statement keeps its soft
violations (issue 19)."""

from __future__ import annotations

import pytest

from pipeline.errors import ContractRefusalError
from pipeline.kgcl import apply_to_store
from pipeline.models import IRI, LiteralValue, Severity
from pipeline.store import GraphStore
from tests.compliance.graph_store_fixtures import FOUNDED_YEAR, WORKS_FOR, Sample, snapshot
from tests.compliance.kgcl_store_fixtures import GYEAR, ONTOLOGY


def test_a_refused_change_leaves_only_its_audit_entry(filled: GraphStore,
                                                      sample: Sample) -> None:
    before = snapshot(filled)
    with pytest.raises(ContractRefusalError, match=r"not-a-value"):
        apply_to_store(f"create edge {sample.company.id} <{FOUNDED_YEAR}> 'long ago'", filled,
                       ONTOLOGY, actor="ann", role="admin")
    after = snapshot(filled)
    assert after[:4] == before[:4] and after[-1] == before[-1]
    [entry] = filled.audit_log(action="refused")
    assert entry.actor == "ann" and "not-a-value" in entry.detail


def test_typed_and_flagged_statements_are_stored_as_such(filled: GraphStore,
                                                         sample: Sample) -> None:
    request = (f"create edge {sample.company.id} <{FOUNDED_YEAR}> 'in 1835'\n"
               f"create edge {sample.city.id} <{WORKS_FOR}> {sample.company.id}")
    assert apply_to_store(request, filled, ONTOLOGY, actor="ann", role="admin") == 2
    years = sorted(a.triple.object.value for a in filled.neighbours(sample.company.id)
                   if a.triple.predicate == FOUNDED_YEAR)  # type: ignore[union-attr]
    assert years == ["1834", "1835"]
    typed = [a for a in filled.neighbours(sample.company.id)
             if a.triple.object == LiteralValue(value="1835", datatype=IRI(GYEAR))]
    assert len(typed) == 1 and typed[0].violations == ()
    [flagged] = filled.flagged()
    assert flagged.triple.subject.id == sample.city.id
    assert [(v.reason.value, v.severity) for v in flagged.violations] == [
        ("domain-mismatch", Severity.SOFT)]
    assert flagged.confidence == pytest.approx(0.5)
