"""One behavioural suite for ``GraphStore``, run against every backend (SQLite and real Neo4j).

Every test takes the ``store`` fixture, so each proves the same behaviour on both; a backend
that passes here can replace the other anywhere in the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from pipeline.errors import ChangeRequestError, PermissionDeniedError, StoreError
from pipeline.models import (
    IRI,
    AddAssertion,
    AssertionId,
    AssertionStatus,
    Chunk,
    Document,
    DocumentId,
    EntityId,
    EntityRef,
    RemoveAssertion,
    RenameEntity,
    SetStatus,
    StoreCounts,
)
from pipeline.store import GraphStore, Neo4jGraphStore, SQLiteGraphStore, canonical
from tests.compliance.graph_store_fixtures import (
    CITY,
    CRAFTED_IRIS,
    EX,
    INJECTIONS,
    PERSON,
    WORKS_FOR,
    Sample,
    assertion,
    changes,
    provenance,
    snapshot,
)

DRAFT, CERTIFIED, QUARANTINED = (AssertionStatus.DRAFT, AssertionStatus.CERTIFIED,
                                 AssertionStatus.QUARANTINED)


# --------------------------------------------------------------------------- basics


def test_open_is_idempotent_and_a_new_store_is_empty(store: GraphStore) -> None:
    store.open()
    assert store.counts() == StoreCounts()
    assert store.assertions() == [] and store.entities() == [] and store.quarantined() == []
    assert store.audit_log() == [] and store.get_assertion(AssertionId("asr:none")) is None
    assert isinstance(store.version(), int)


def test_documents_and_chunks_round_trip_and_merge_by_id(store: GraphStore,
                                                         sample: Sample) -> None:
    assert store.upsert_documents(sample.documents, sample.chunks).created == 2
    version = store.version()
    assert store.upsert_documents(sample.documents, sample.chunks).created == 0
    assert store.version() == version
    docs = store.get_documents([*(d.id for d in sample.documents), DocumentId("doc:missing")])
    assert docs == {d.id: d for d in sample.documents}
    chunks = store.get_chunks([c.id for c in reversed(sample.chunks)])
    assert chunks == {c.id: c for c in sample.chunks}
    assert store.get_chunks([]) == {} and store.get_documents([]) == {}
    assert store.counts() == StoreCounts(documents=2, chunks=3)


def test_a_chunk_of_an_unknown_document_is_refused(store: GraphStore, sample: Sample) -> None:
    before = snapshot(store)
    with pytest.raises(StoreError, match="does not hold"):
        store.upsert_documents(sample.documents[:1], sample.chunks)
    assert snapshot(store) == before


def test_assertions_round_trip_identically(filled: GraphStore, sample: Sample) -> None:
    assert filled.assertions() == sample.assertions
    for a in sample.assertions:
        assert filled.get_assertion(a.id) == a
    assert filled.entities() == sample.entities
    assert filled.assertions(status=DRAFT) == sample.assertions
    assert filled.assertions(status=CERTIFIED) == []
    literal = filled.get_assertion(sample.founded.id)
    assert literal is not None and literal.triple.object == sample.founded.triple.object


def test_provenance_comes_back_in_one_deterministic_order(store: GraphStore,
                                                          sample: Sample) -> None:
    shuffled = sample.works.model_copy(
        update={"provenance": tuple(reversed(sample.works.provenance))})
    assert shuffled != sample.works
    store.write_assertions([shuffled])
    assert store.get_assertion(sample.works.id) == sample.works == canonical(shuffled)


def test_provenance_may_name_chunks_that_are_stored_later(store: GraphStore,
                                                           sample: Sample) -> None:
    store.write_assertions(sample.assertions)
    assert store.counts() == StoreCounts(entities=4, assertions=4, draft=4)
    assert store.get_chunks([c.id for c in sample.chunks]) == {}
    assert store.upsert_documents(sample.documents, sample.chunks).created == 2
    assert store.get_chunks([c.id for c in sample.chunks]) == {c.id: c for c in sample.chunks}
    assert store.counts().chunks == 3 and store.assertions() == sample.assertions


def test_counts_and_neighbours(filled: GraphStore, sample: Sample) -> None:
    assert filled.counts() == StoreCounts(documents=2, chunks=3, entities=4, assertions=4,
                                          draft=4)
    company = filled.neighbours(sample.company.id)
    assert company == sample.assertions  # subject of two, object of two
    assert filled.neighbours(sample.city.id) == [sample.located]
    assert filled.neighbours(EntityId("ent:missing")) == []


def test_mentions_seen_times_contested_status_and_attempt_history_round_trip(
        store: GraphStore, sample: Sample) -> None:
    from datetime import UTC, datetime

    from pipeline.models import AttemptRecord

    seen = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    a = sample.works
    fixed = ("predicate 'works_for' mapped to 'works for'",)
    prov = tuple(p.model_copy(update={"subject_mention": "the Acme", "object_mention": "ADA",
                                      "seen_at": seen, "repairs": fixed})
                 for p in a.provenance)
    a = a.model_copy(update={"provenance": prov})
    store.upsert_documents(sample.documents, sample.chunks)
    store.write_assertions([a])
    got = store.get_assertion(a.id)
    assert got == a and got.first_seen == seen == got.last_seen
    store.apply_changes([SetStatus(assertion_id=a.id, status=AssertionStatus.CONTESTED)],
                        actor="pipeline", role="curator")
    assert store.counts().contested == 1
    assert store.get_assertion(a.id).status is AssertionStatus.CONTESTED
    history = (AttemptRecord(attempt=1, model="m", prompt_version="v", proposed=2,
                             violations=("[object-not-in-text] x",)),)
    q = sample.quarantine[0].model_copy(update={"history": history})
    store.write_quarantine([q])
    assert [x.history for x in store.quarantined() if x.id == q.id] == [history]


def test_quarantine_round_trips_and_merges_by_id(store: GraphStore, sample: Sample) -> None:
    assert store.write_quarantine(sample.quarantine).created == 2
    version = store.version()
    assert store.write_quarantine(sample.quarantine).created == 0
    assert store.quarantined() == sample.quarantine
    assert store.version() == version
    assert store.counts().assertions == 0  # quarantined candidates are not assertions


# --------------------------------------------------------------------------- idempotent merges


def test_an_identical_second_write_changes_nothing(filled: GraphStore,
                                                   sample: Sample) -> None:
    before = snapshot(filled)
    result = filled.write_assertions(sample.assertions)
    assert (result.created, result.updated) == (0, 0)
    assert snapshot(filled) == before


def test_a_rerun_under_another_run_id_adds_no_provenance(filled: GraphStore,
                                                         sample: Sample) -> None:
    rerun = [a.model_copy(update={"provenance": tuple(
        p.model_copy(update={"run_id": "run-2", "attempts": 3}) for p in a.provenance)})
        for a in sample.assertions]
    before = snapshot(filled)
    assert filled.write_assertions(rerun).created == 0
    assert snapshot(filled) == before  # the first run's provenance stays as it was


def test_new_provenance_and_confidence_merge_into_an_existing_assertion(
        filled: GraphStore, sample: Sample) -> None:
    d1, c1 = sample.documents[0], sample.chunks[0]
    other_model = provenance(d1, c1, "Ada Lovelace works for the Engine Company",
                             model="other-llm")
    newer = sample.works.model_copy(update={"confidence": 0.95, "provenance": (other_model,)})
    version = filled.version()
    result = filled.write_assertions([newer])
    assert (result.created, result.updated) == (0, 1)
    stored = filled.get_assertion(sample.works.id)
    assert stored is not None and stored.confidence == 0.95
    assert stored == canonical(sample.works.model_copy(update={
        "confidence": 0.95, "provenance": sample.works.provenance + (other_model,)}))
    assert filled.version() == version + 1
    assert filled.audit_log()[-1].action == "write_assertions"


def test_duplicates_in_one_batch_merge_as_if_written_in_turn(store: GraphStore,
                                                             sample: Sample) -> None:
    first, *_ = sample.works.provenance
    a = sample.works.model_copy(update={"provenance": (first,)})
    b = sample.works.model_copy(update={"confidence": 0.5})
    assert store.write_assertions([a, b]).created == 1
    assert store.assertions() == [sample.works.model_copy(update={"confidence": 0.5})]


def test_a_rewrite_keeps_the_status_and_takes_the_new_confidence(filled: GraphStore,
                                                                 sample: Sample) -> None:
    filled.apply_changes([SetStatus(assertion_id=sample.works.id, status=CERTIFIED)],
                         actor="carol", role="certifier")
    filled.write_assertions([sample.works.model_copy(update={"confidence": 0.4})])
    stored = filled.get_assertion(sample.works.id)
    assert stored is not None and (stored.status, stored.confidence) == (CERTIFIED, 0.4)


def test_a_pipeline_write_cannot_create_a_certified_assertion(filled: GraphStore,
                                                              sample: Sample) -> None:
    before = snapshot(filled)
    new = assertion(sample.people[1], EX + "knows", sample.people[0], status=CERTIFIED)
    with pytest.raises(PermissionDeniedError, match="certif"):
        filled.write_assertions([new])
    assert snapshot(filled) == before


def test_an_entity_keeps_its_curated_label_and_takes_its_resolved_class(
        filled: GraphStore, sample: Sample) -> None:
    ada = sample.people[0]
    filled.apply_changes([RenameEntity(entity_id=ada.id, new_label="Augusta Ada King")],
                         actor="cur", role="curator")
    scientist = EntityRef(id=ada.id, label=ada.label, type_iri=IRI(EX + "Scientist"))
    moved = sample.works.model_copy(update={"triple": sample.works.triple.model_copy(
        update={"subject": scientist})})
    assert filled.write_assertions([moved]).updated == 1
    stored = next(e for e in filled.entities() if e.id == ada.id)
    assert (stored.label, stored.type_iri) == ("Augusta Ada King", EX + "Scientist")


def test_the_version_grows_only_when_something_changes(store: GraphStore,
                                                       sample: Sample) -> None:
    versions = [store.version()]
    for write in (lambda: store.upsert_documents(sample.documents, sample.chunks),
                  lambda: store.write_assertions(sample.assertions),
                  lambda: store.write_quarantine(sample.quarantine)):
        write()
        versions.append(store.version())
        write()
        assert store.version() == versions[-1]
    assert versions == sorted(set(versions))


def test_reset_deletes_everything_but_the_version_never_goes_back(filled: GraphStore) -> None:
    version = filled.version()
    filled.reset()
    assert filled.counts() == StoreCounts() and filled.audit_log() == []
    assert filled.assertions() == [] and filled.quarantined() == []
    assert filled.version() > version


# --------------------------------------------------------------------------- changes and roles


ALLOWED = {
    "reader": set(),
    "curator": {"add", "remove", "rename", "draft"},
    "certifier": {"draft", "certify", "add_certified"},
    "admin": {"add", "add_certified", "remove", "rename", "draft", "certify"},
}


@pytest.mark.parametrize("role", sorted(ALLOWED))
@pytest.mark.parametrize("kind", ["add", "add_certified", "remove", "rename", "draft",
                                  "certify"])
def test_roles_gate_every_kind_of_change(filled: GraphStore, sample: Sample, role: str,
                                         kind: str) -> None:
    change = changes(sample)[kind]()
    before = snapshot(filled)
    if kind in ALLOWED[role]:
        assert filled.apply_changes([change], actor="someone", role=role) == 1  # type: ignore[arg-type]
        assert filled.audit_log()[-1].actor == "someone"
        assert filled.version() == before[-1] + 1  # type: ignore[operator]
    else:
        with pytest.raises(PermissionDeniedError):
            filled.apply_changes([change], actor="someone", role=role)  # type: ignore[arg-type]
        assert snapshot(filled) == before


def test_a_refused_change_refuses_the_whole_batch(filled: GraphStore, sample: Sample) -> None:
    before = snapshot(filled)
    batch = [changes(sample)[k]() for k in ("rename", "remove", "certify")]
    with pytest.raises(PermissionDeniedError, match="certif"):
        filled.apply_changes(batch, actor="cur", role="curator")
    with pytest.raises(PermissionDeniedError, match="role"):
        filled.apply_changes(batch, actor="x", role="superuser")  # type: ignore[arg-type]
    assert snapshot(filled) == before


@pytest.mark.parametrize("bad", [
    RemoveAssertion(assertion_id=AssertionId("asr:missing")),
    SetStatus(assertion_id=AssertionId("asr:missing"), status=QUARANTINED),
    RenameEntity(entity_id=EntityId("ent:missing"), new_label="Nobody"),
])
def test_a_batch_naming_an_unknown_id_applies_nothing(
        filled: GraphStore, sample: Sample,
        bad: RemoveAssertion | SetStatus | RenameEntity) -> None:
    before = snapshot(filled)
    batch = [changes(sample)["add"](), changes(sample)["rename"](), bad,
             changes(sample)["remove"]()]
    with pytest.raises(ChangeRequestError, match="change 3 of 4"):
        filled.apply_changes(batch, actor="admin", role="admin")
    assert snapshot(filled) == before


def test_applied_changes_take_effect_and_are_audited(filled: GraphStore,
                                                     sample: Sample) -> None:
    make = changes(sample)
    batch = [make["add"](), make["rename"](), make["remove"](), make["certify"]()]
    version = filled.version()
    audit = len(filled.audit_log())
    assert filled.apply_changes(batch, actor="ann", role="admin") == 4
    assert filled.apply_changes([], actor="ann", role="admin") == 0
    assert filled.version() == version + 1
    knows = make["add"]().assertion  # type: ignore[union-attr]
    assert filled.get_assertion(knows.id) == knows
    assert filled.get_assertion(sample.located.id) is None
    assert next(e for e in filled.entities() if e.id == sample.city.id).label == "Londinium"
    certified = filled.assertions(status=CERTIFIED)
    assert [a.id for a in certified] == [sample.works.id]
    assert filled.counts() == StoreCounts(documents=2, chunks=3, entities=4, assertions=4,
                                          draft=3, certified=1)
    entries = filled.audit_log()[audit:]
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("ann", "add_assertion", knows.id), ("ann", "rename_entity", sample.city.id),
        ("ann", "remove_assertion", sample.located.id), ("ann", "certify", sample.works.id)]
    assert entries[0].detail == "create edge ada knows babbage"
    assert "Londinium" in entries[1].detail
    assert all(e.at.tzinfo is not None for e in entries)
    assert filled.neighbours(sample.city.id) == []


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_looking_text_is_stored_verbatim(store: GraphStore, sample: Sample,
                                                   text: str) -> None:
    doc = Document.from_text(f"{text} works for {text}.", source=text, title=text)
    chunk = Chunk.make(doc, 0, 0, len(doc.text))
    person = EntityRef.make(text, PERSON)
    place = EntityRef.make(f"{text} city", CITY)
    odd = assertion(person, WORKS_FOR, place, provenance(doc, chunk, text))
    store.upsert_documents([doc], [chunk])
    store.write_assertions([odd])
    store.apply_changes([RenameEntity(entity_id=place.id, new_label=text + "'s", kgcl=text)],
                        actor=text, role="curator")
    assert store.get_documents([doc.id]) == {doc.id: doc}
    assert store.get_chunks([chunk.id]) == {chunk.id: chunk}
    stored = store.get_assertion(odd.id)
    assert stored is not None and stored.triple.subject.label == text.strip()
    assert stored.provenance[0].quote == text
    assert store.audit_log()[-1].detail == text and store.audit_log()[-1].actor == text
    assert store.counts() == StoreCounts(documents=1, chunks=1, entities=2, assertions=1,
                                         draft=1)


@pytest.mark.parametrize("iri", CRAFTED_IRIS)
@pytest.mark.parametrize("where", ["predicate", "class"])
def test_a_crafted_ontology_name_is_refused(filled: GraphStore, sample: Sample, iri: str,
                                            where: str) -> None:
    if where == "predicate":
        bad = assertion(sample.people[0], iri, sample.city)
    else:
        bad = assertion(EntityRef.make("Someone new", iri), WORKS_FOR, sample.company)
    before = snapshot(filled)
    with pytest.raises(StoreError, match="cannot be a graph label"):
        filled.write_assertions([sample.works, bad])
    with pytest.raises(StoreError, match="cannot be a graph label"):
        filled.apply_changes([AddAssertion(assertion=bad)], actor="a", role="admin")
    assert snapshot(filled) == before


def test_an_ontology_class_named_like_the_store_structure_stays_an_entity(
        store: GraphStore, sample: Sample) -> None:
    report = EntityRef.make("Annual report", EX + "Document")
    cites = assertion(report, EX + "PART_OF", sample.company)
    store.write_assertions([cites])
    assert store.assertions() == [cites]
    assert store.counts() == StoreCounts(entities=2, assertions=1, draft=1)


def test_a_store_that_is_not_open_says_so(tmp_path: Path) -> None:
    for closed in (SQLiteGraphStore(tmp_path / "x.sqlite"),
                   Neo4jGraphStore("bolt://127.0.0.1:1", user="neo4j",
                                   password=SecretStr("unused-pass"))):
        with pytest.raises(StoreError, match="not open"):
            closed.counts()


@pytest.mark.neo4j
def test_both_backends_return_identical_objects(tmp_path: Path, neo4j_store: Neo4jGraphStore,
                                                sample: Sample) -> None:
    neo4j_store.reset()
    with SQLiteGraphStore(tmp_path / "kg.sqlite") as lite:
        for backend in (lite, neo4j_store):
            backend.upsert_documents(sample.documents, sample.chunks)
            backend.write_assertions(list(reversed(sample.assertions)))
            backend.write_quarantine(sample.quarantine)
            make = changes(sample)
            backend.apply_changes([make["rename"](), make["certify"](), make["add"]()],
                                  actor="ann", role="admin")
        reads: list[Callable[[GraphStore], object]] = [
            lambda s: s.assertions(), lambda s: s.entities(), lambda s: s.quarantined(),
            lambda s: s.counts(), lambda s: s.neighbours(sample.company.id),
            lambda s: s.get_chunks([c.id for c in sample.chunks]),
            lambda s: s.get_documents([d.id for d in sample.documents]),
            lambda s: [(e.actor, e.action, e.target, e.detail) for e in s.audit_log()]]
        for read in reads:
            assert read(lite) == read(neo4j_store)
