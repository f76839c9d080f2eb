"""KGCL change requests on the knowledge graph, the same on every store backend."""

from __future__ import annotations

import pytest

from pipeline.errors import ChangeRequestError, PermissionDeniedError
from pipeline.kgcl import apply_to_store
from pipeline.models import (
    IRI,
    Ontology,
    OntologyClass,
    OntologyProperty,
    PropertyKind,
    Triple,
)
from pipeline.store import GraphStore
from tests.compliance.graph_store_fixtures import (
    EX,
    FOUNDED_YEAR,
    LOCATED_IN,
    WORKS_FOR,
    Sample,
    snapshot,
)

ONTOLOGY = Ontology(
    iri=IRI("http://example.org/onto"), label="sample",
    classes=tuple(OntologyClass(iri=IRI(EX + n), label=n)
                  for n in ("Person", "Organization", "City")),
    properties=(
        OntologyProperty(iri=IRI(WORKS_FOR), label="works for", kind=PropertyKind.OBJECT,
                         domain=(IRI(EX + "Person"),), range=(IRI(EX + "Organization"),)),
        OntologyProperty(iri=IRI(LOCATED_IN), label="located in", kind=PropertyKind.OBJECT,
                         domain=(IRI(EX + "Organization"),), range=(IRI(EX + "City"),)),
        OntologyProperty(iri=IRI(FOUNDED_YEAR), label="founded year",
                         kind=PropertyKind.DATATYPE, domain=(IRI(EX + "Organization"),),
                         range=(IRI("http://www.w3.org/2001/XMLSchema#gYear"),)),
    ))


def test_request_applies_rename_create_and_delete(filled: GraphStore, sample: Sample) -> None:
    ada, babbage = sample.people
    request = f"""
rename {ada.id} from 'Ada Lovelace' to 'Augusta Ada King'
create edge {babbage.id} ex:locatedIn {sample.city.id}
delete edge 'Charles Babbage' ex:worksFor 'Engine Company'
"""
    assert apply_to_store(request, filled, ONTOLOGY, actor="curie", role="curator") == 3
    labels = {e.id: e.label for e in filled.entities()}
    assert labels[ada.id] == "Augusta Ada King"
    assert filled.get_assertion(sample.babbage_works.id) is None
    created = Triple(subject=babbage, predicate=IRI(LOCATED_IN), object=sample.city).key
    new = filled.get_assertion(created)
    # Babbage is a Person and 'located in' wants an Organization: applied, but flagged as
    # an extracted statement would be (the contract's soft type fit), its confidence halved
    assert new is not None and new.violation_checks == ("types-fit-domain-range",)
    assert new.confidence == pytest.approx(0.5)
    audit = [e for e in filled.audit_log() if e.actor == "curie"]
    assert len(audit) == 3
    assert any("rename" in e.detail for e in audit)


@pytest.mark.parametrize("bad", [
    "rename ent:doesnotexist from 'x' to 'y'",
    "delete edge 'London' ex:worksFor 'Engine Company'",
    "create edge 'Ada Lovelace' ex:inventedBy 'London'",
    "obsolete 'Atlantis'",
    "this is not kgcl",
])
def test_a_failing_fifth_command_leaves_the_store_exactly_as_before(
        filled: GraphStore, sample: Sample, bad: str) -> None:
    ada, babbage = sample.people
    before = snapshot(filled)
    request = "\n".join([
        f"rename {ada.id} from 'Ada Lovelace' to 'A. L.'",
        f"create edge {babbage.id} ex:locatedIn {sample.city.id}",
        "delete edge 'Charles Babbage' ex:worksFor 'Engine Company'",
        f"rename {babbage.id} from 'Charles Babbage' to 'C. B.'",
        bad,
    ])
    with pytest.raises(ChangeRequestError, match="line 5"):
        apply_to_store(request, filled, ONTOLOGY, actor="curie", role="curator")
    assert snapshot(filled) == before


def test_reader_may_not_change_anything(filled: GraphStore, sample: Sample) -> None:
    before = snapshot(filled)
    with pytest.raises(PermissionDeniedError):
        apply_to_store(f"rename {sample.city.id} from 'London' to 'Londinium'", filled,
                       ONTOLOGY, actor="rita", role="reader")
    assert snapshot(filled)[:4] == before[:4]


def test_dry_run_changes_nothing(filled: GraphStore, sample: Sample) -> None:
    before = snapshot(filled)
    n = apply_to_store(f"rename {sample.city.id} from 'London' to 'Londinium'", filled,
                       ONTOLOGY, actor="curie", role="curator", dry_run=True)
    assert n == 1 and snapshot(filled) == before
