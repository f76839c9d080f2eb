"""Cypher (and SQL) payloads pushed straight through the store APIs, on SQLite and on a real
Neo4j: each case of ``cypher_injection.jsonl`` is either stored and read back verbatim as data
(labels, literals, texts, actors, annotation values, change-request text, ids) or refused with
the expected error before anything is written (names that would have to become a Neo4j label or
relationship type, ids the store does not hold). Either way the sentinel graph stays whole, no
table, label or relationship type appears that the schema and ontology do not name.

A change request that would give the graph such a name (a rename, a new node, an edge naming
an entity so labelled) is refused by the contract's ``names-are-plain`` (reason
``injection-shaped``), and the refusal is the one entry it leaves in the audit log; a literal
value of a string property may quote anything and is stored verbatim."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import neo4j
import pytest
from pydantic import SecretStr

from pipeline import errors
from pipeline.kgcl import apply_to_store
from pipeline.models import (
    IRI,
    AddAnnotation,
    AddAssertion,
    AssertionId,
    CandidateTriple,
    ChangeRequest,
    Chunk,
    CreateEntity,
    Document,
    EntityAnnotation,
    EntityId,
    EntityRef,
    LiteralValue,
    OntologyProperty,
    PropertyKind,
    QuarantinedCandidate,
    RemoveAssertion,
    RenameEntity,
    RetypeEntity,
    RunId,
    Violation,
    ViolationReason,
)
from pipeline.store import GraphStore, SQLiteGraphStore
from pipeline.store.cypher import RESERVED
from tests.compliance.graph_store_fixtures import (
    CITY,
    EX,
    ORGANIZATION,
    PERSON,
    WORKS_FOR,
    Sample,
    assertion,
    provenance,
    snapshot,
)
from tests.compliance.kgcl_store_fixtures import ONTOLOGY
from tests.hostile.hostile_corpus import params

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
MOTTO = EX + "motto"
#: the sample ontology with a string property, whose values may quote anything
MOTTO_ONTOLOGY = ONTOLOGY.model_copy(update={"properties": (*ONTOLOGY.properties, OntologyProperty(
    iri=IRI(MOTTO), label="motto", kind=PropertyKind.DATATYPE, domain=(IRI(ORGANIZATION),),
    range=(IRI(XSD_STRING),)))})
#: every label and relationship type the schema and the sentinel's ontology may create
ALLOWED_NAMES = RESERVED | {"Person", "Organization", "City", "worksFor", "locatedIn",
                            "foundedYear", "motto", "knows"}


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_uri: str, neo4j_password: SecretStr) -> Iterator[neo4j.Driver]:
    """A driver of our own, to look at the database the way an attacker's success would show."""
    secret = neo4j_password.get_secret_value()
    driver = neo4j.GraphDatabase.driver(neo4j_uri, auth=("neo4j", secret) if secret else None)
    yield driver
    driver.close()


def schema_names(store: GraphStore, request: pytest.FixtureRequest) -> set[str]:
    """Tables of a SQLite store; labels and relationship types of a Neo4j one."""
    if isinstance(store, SQLiteGraphStore):
        with sqlite3.connect(store.path) as conn:
            return {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    driver: neo4j.Driver = request.getfixturevalue("neo4j_driver")
    labels, _, _ = driver.execute_query("CALL db.labels() YIELD label RETURN label")
    types, _, _ = driver.execute_query(
        "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType AS t")
    return {r["label"] for r in labels} | {r["t"] for r in types}


def kgcl_quote(text: str) -> str:
    """``text`` as a single-quoted KGCL label (the parser's escapes)."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return f"'{escaped}'"


# --------------------------------------------------------------------------- each target


def _entity_label(store: GraphStore, s: Sample, payload: str) -> None:
    odd = assertion(EntityRef.make(payload, PERSON), WORKS_FOR, s.company)
    store.write_assertions([odd])
    stored = store.get_assertion(odd.id)
    assert stored is not None and stored.triple.subject.label == payload.strip()


def _literal_value(store: GraphStore, s: Sample, payload: str) -> None:
    odd = assertion(s.company, MOTTO, LiteralValue(value=payload, datatype=IRI(XSD_STRING)))
    store.write_assertions([odd])
    stored = store.get_assertion(odd.id)
    assert stored is not None and stored.triple.object == odd.triple.object


def _document(payload: str, *, as_source: bool) -> tuple[Document, Chunk]:
    if as_source:
        doc = Document.from_text("An ordinary sentence.", source=payload, title=payload)
    else:
        doc = Document.from_text(f"{payload} works for the Engine Company.",
                                 source="hostile.md", title="hostile")
    return doc, Chunk.make(doc, 0, 0, len(doc.text))


def _document_round_trip(store: GraphStore, payload: str, *, as_source: bool) -> None:
    doc, chunk = _document(payload, as_source=as_source)
    store.upsert_documents([doc], [chunk])
    assert store.get_documents([doc.id]) == {doc.id: doc}
    assert store.get_chunks([chunk.id]) == {chunk.id: chunk}


def _provenance_quote(store: GraphStore, s: Sample, payload: str) -> None:
    doc, chunk = _document(payload, as_source=False)
    odd = assertion(s.people[1], EX + "knows", s.people[0], provenance(doc, chunk, payload))
    store.upsert_documents([doc], [chunk])
    store.write_assertions([odd])
    stored = store.get_assertion(odd.id)
    assert stored is not None and stored.provenance[0].quote == payload


def _quarantine_raw(store: GraphStore, s: Sample, payload: str) -> None:
    item = QuarantinedCandidate.make(
        chunk=s.chunks[0], raw=payload,
        candidate=CandidateTriple(subject=payload, predicate=payload, object=payload),
        violations=(Violation(reason=ViolationReason.UNKNOWN_PREDICATE, check="predicate",
                              detail=payload),),
        model="fake", prompt_version="extract-v1", run_id=RunId(payload), attempts=1,
        sample_index=0)
    store.write_quarantine([item])
    assert item in store.quarantined()


def _rename(store: GraphStore, s: Sample, payload: str) -> None:
    store.apply_changes([RenameEntity(entity_id=s.city.id, new_label=payload, kgcl=payload)],
                        actor="ann", role="curator")
    assert store.get_entities([s.city.id])[s.city.id].label == payload
    assert store.audit_log()[-1].detail == payload


def _audit_actor(store: GraphStore, s: Sample, payload: str) -> None:
    store.apply_changes([RenameEntity(entity_id=s.city.id, new_label="Londinium")],
                        actor=payload, role="curator")
    [entry] = store.audit_log(actor=payload)
    assert entry.actor == payload


def _annotation(store: GraphStore, s: Sample, payload: str) -> None:
    note = EntityAnnotation(entity_id=s.city.id, property=IRI(RDFS_COMMENT), value=payload)
    store.apply_changes([AddAnnotation(annotation=note, kgcl=payload)], actor="ann",
                        role="curator")
    assert store.annotations(s.city.id) == [note]


def _change_request(store: GraphStore, s: Sample, payload: str) -> None:
    request = ChangeRequest(id="cr-hostile", author=payload, author_role="curator",
                            kgcl=payload, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    store.save_change_request(request, expect=None)
    assert store.get_change_request("cr-hostile") == request
    assert store.change_requests(author=payload) == [request]


def _kgcl_literal(store: GraphStore, s: Sample, payload: str) -> None:
    request = f"create edge {s.company.id} <{MOTTO}> {kgcl_quote(payload)}"
    assert apply_to_store(request, store, MOTTO_ONTOLOGY, actor="ann", role="admin") == 1
    [motto] = [a for a in store.neighbours(s.company.id) if a.triple.predicate == MOTTO]
    assert motto.triple.object == LiteralValue(value=payload, datatype=IRI(XSD_STRING))
    assert motto.violations == ()


def _entity_id(store: GraphStore, s: Sample, payload: str) -> None:
    entity = EntityRef(id=EntityId(payload), label="Hostile", type_iri=IRI(PERSON))
    store.apply_changes([CreateEntity(entity=entity, kgcl=payload)], actor="ann",
                        role="curator")
    assert store.get_entities([EntityId(payload)]) == {EntityId(payload): entity}


VERBATIM: dict[str, Callable[[GraphStore, Sample, str], None]] = {
    "entity-label": _entity_label,
    "literal-value": _literal_value,
    "document-text": lambda st, s, p: _document_round_trip(st, p, as_source=False),
    "document-source": lambda st, s, p: _document_round_trip(st, p, as_source=True),
    "provenance-quote": _provenance_quote,
    "quarantine-raw": _quarantine_raw,
    "rename-label": _rename,
    "audit-actor": _audit_actor,
    "annotation-value": _annotation,
    "change-request-text": _change_request,
    "kgcl-literal": _kgcl_literal,
    "entity-id": _entity_id,
}

REFUSED: dict[str, Callable[[GraphStore, Sample, str], object]] = {
    "predicate-iri": lambda st, s, p: st.write_assertions(
        [s.works, assertion(s.people[0], EX + p, s.city)]),
    "class-iri": lambda st, s, p: st.write_assertions(
        [s.works, assertion(EntityRef.make("Someone new", EX + p), WORKS_FOR, s.company)]),
    "retype-class": lambda st, s, p: st.apply_changes(
        [RetypeEntity(entity_id=s.city.id, type_iri=IRI(EX + p))], actor="ann", role="admin"),
    "create-entity-class": lambda st, s, p: st.apply_changes(
        [AddAssertion(assertion=assertion(s.people[1], EX + "knows", s.people[0])),
         CreateEntity(entity=EntityRef(id=EntityId("ent:hostile"), label="x",
                                       type_iri=IRI(EX + p)))], actor="ann", role="admin"),
    "unknown-id": lambda st, s, p: st.apply_changes(
        [RenameEntity(entity_id=s.city.id, new_label="Londinium"),
         RemoveAssertion(assertion_id=AssertionId(p))], actor="ann", role="curator"),
}


def _hostile_person(store: GraphStore, s: Sample, payload: str) -> str:
    """An entity labelled ``payload`` in the store (written through its API, where a label is
    inert data), for a change request to name."""
    odd = EntityRef.make(payload, PERSON)
    store.write_assertions([assertion(odd, EX + "knows", s.people[0])])
    return odd.id


#: change requests giving the graph a name: (setup, the request)
KGCL_REFUSED: dict[str, Callable[[GraphStore, Sample, str], str]] = {
    "kgcl-rename": lambda st, s, p: f"rename {s.city.id} from 'London' to {kgcl_quote(p)}",
    "kgcl-create-node": lambda st, s, p: f"create node ent:hostile {kgcl_quote(p)}",
    "kgcl-create-edge": lambda st, s, p: (
        f"create edge {_hostile_person(st, s, p)} <{WORKS_FOR}> {s.company.id}"),
}


def _refused_by_the_contract(store: GraphStore, s: Sample, case: dict[str, Any]) -> None:
    """The request is refused naming the reason; nothing is written but the audited
    refusal."""
    kgcl = KGCL_REFUSED[case["category"]](store, s, case["payload"])
    before = snapshot(store)
    error = getattr(errors, case["expected"]["error"])
    with pytest.raises(error, match=case["expected"]["match"]) as info:
        apply_to_store(kgcl, store, ONTOLOGY, actor="mallory", role="admin")
    assert "\n" not in str(info.value)
    after = snapshot(store)
    assert after[:4] == before[:4] and after[-1] == before[-1]  # the graph is as it was
    [entry] = store.audit_log()[len(before[4]):]  # type: ignore[arg-type]
    assert (entry.action, entry.actor) == ("refused", "mallory")
    assert "injection-shaped" in entry.detail


@pytest.mark.parametrize("case", params("cypher_injection.jsonl"))
def test_payload_is_data_or_refused(case: dict[str, Any], filled: GraphStore, sample: Sample,
                                    request: pytest.FixtureRequest) -> None:
    payload, expected = case["payload"], case["expected"]
    before, names = snapshot(filled), schema_names(filled, request)
    if expected["outcome"] == "stored-verbatim":
        VERBATIM[case["category"]](filled, sample, payload)
    elif expected.get("audited"):
        _refused_by_the_contract(filled, sample, case)
    else:
        assert expected["outcome"] == "refused"
        error = getattr(errors, expected["error"])
        with pytest.raises(error, match=expected["match"]):
            REFUSED[case["category"]](filled, sample, payload)
        assert snapshot(filled) == before  # nothing at all was written
    # the sentinel graph is whole: every document, chunk, assertion and quarantined item
    assert filled.get_documents([d.id for d in sample.documents]).keys() == {
        d.id for d in sample.documents}
    assert len(filled.get_chunks([c.id for c in sample.chunks])) == len(sample.chunks)
    for a in sample.assertions:
        kept = filled.get_assertion(a.id)
        assert kept is not None and kept.triple.predicate == a.triple.predicate
    assert set(sample.quarantine) <= set(filled.quarantined())
    assert len(filled.entities()) >= len(sample.entities)
    # and no label, relationship type or table came from the payload
    after = schema_names(filled, request)
    assert after <= names | ALLOWED_NAMES, after - names - ALLOWED_NAMES
    if not isinstance(filled, SQLiteGraphStore):
        assert after <= ALLOWED_NAMES, after - ALLOWED_NAMES
    # the city stays a City: a rename changes its label, never its class
    assert filled.get_entities([sample.city.id])[sample.city.id].type_iri == CITY
