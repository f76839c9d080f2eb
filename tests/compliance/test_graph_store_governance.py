"""The GraphStore contract's governance additions, on every backend: entity primitives and
annotations with before/after audit, audit-only entries that leave the version alone, audit
queries, change requests and their legal moves, and decertification rights."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.errors import ChangeRequestError, PermissionDeniedError, StoreError
from pipeline.models import (
    IRI,
    AddAnnotation,
    AssertionStatus,
    AuditEntry,
    ChangeRequest,
    CreateEntity,
    DeleteEntity,
    EntityAnnotation,
    EntityId,
    EntityRef,
    RemoveAnnotation,
    RemoveAssertion,
    RequestStatus,
    RetypeEntity,
    SetStatus,
)
from pipeline.store import GraphStore, cypher
from tests.compliance.graph_store_fixtures import EX, PERSON, Sample, changes, snapshot
from tests.compliance.kgcl_store_fixtures import full_snapshot

SYNONYM = IRI("http://www.geneontology.org/formats/oboInOwl#hasExactSynonym")


def note(entity: EntityRef | EntityId, value: str, prop: str = SYNONYM) -> EntityAnnotation:
    eid = entity.id if isinstance(entity, EntityRef) else entity
    return EntityAnnotation(entity_id=eid, property=IRI(prop), value=value)


# --------------------------------------------------------------------------- primitives


def test_entities_can_be_created_retyped_annotated_and_deleted(filled: GraphStore) -> None:
    newcomer = EntityRef(id=EntityId("ent:newcomer"), label="Newcomer",
                         type_iri=IRI("http://www.w3.org/2002/07/owl#Thing"))
    version = filled.version()
    assert filled.apply_changes([
        CreateEntity(entity=newcomer, kgcl="create node ent:newcomer 'Newcomer'"),
        RetypeEntity(entity_id=newcomer.id, type_iri=IRI(PERSON)),
        AddAnnotation(annotation=note(newcomer, "New one")),
        AddAnnotation(annotation=note(newcomer, "N.", EX + "nickname")),
    ], actor="cur", role="curator") == 4
    assert filled.version() == version + 1
    stored = filled.get_entities([newcomer.id, EntityId("ent:none")])
    assert stored == {newcomer.id: newcomer.model_copy(update={"type_iri": PERSON})}
    assert filled.annotations(newcomer.id) == sorted(
        [note(newcomer, "New one"), note(newcomer, "N.", EX + "nickname")],
        key=lambda a: (a.property, a.value))
    entries = filled.audit_log()[-4:]
    assert [e.action for e in entries] == ["create_entity", "retype_entity", "add_annotation",
                                           "add_annotation"]
    assert all(e.role == "curator" and e.actor == "cur" for e in entries)
    assert json.loads(entries[0].after) == {"id": "ent:newcomer", "label": "Newcomer",
                                            "type": "http://www.w3.org/2002/07/owl#Thing"}
    assert entries[0].before == "" and entries[0].detail == "create node ent:newcomer 'Newcomer'"
    assert json.loads(entries[1].before)["type"].endswith("Thing")
    assert json.loads(entries[1].after)["type"] == PERSON

    filled.apply_changes([RemoveAnnotation(annotation=note(newcomer, "N.", EX + "nickname")),
                          DeleteEntity(entity_id=newcomer.id)], actor="cur", role="curator")
    assert filled.get_entities([newcomer.id]) == {} and filled.annotations(newcomer.id) == []
    deleted = json.loads(filled.audit_log()[-1].before)
    assert deleted["label"] == "Newcomer" and deleted["annotations"] == [
        {"property": SYNONYM, "value": "New one"}]


def test_the_audit_records_before_and_after_of_assertion_changes(filled: GraphStore,
                                                                sample: Sample) -> None:
    filled.apply_changes([SetStatus(assertion_id=sample.works.id,
                                    status=AssertionStatus.CERTIFIED),
                          RemoveAssertion(assertion_id=sample.located.id)],
                         actor="cert", role="admin")
    certify, remove = filled.audit_log()[-2:]
    assert (json.loads(certify.before), json.loads(certify.after)) == (
        {"status": "draft"}, {"status": "certified"})
    assert json.loads(remove.before) == {
        "id": sample.located.id, "subject": sample.company.id, "predicate": EX + "locatedIn",
        "object": sample.city.id, "status": "draft", "confidence": 0.8}
    assert remove.after == ""
    added = changes(sample)["add"]()
    filled.apply_changes([added], actor="cur", role="curator")
    entry = filled.audit_log()[-1]
    assert entry.before == "" and json.loads(entry.after)["predicate"] == EX + "knows"


@pytest.mark.parametrize("bad", ["delete_used", "create_existing", "annotate_twice",
                                 "remove_absent", "retype_missing"])
def test_a_primitive_the_state_does_not_allow_refuses_the_batch(filled: GraphStore,
                                                               sample: Sample,
                                                               bad: str) -> None:
    ada = sample.people[0]
    first = AddAnnotation(annotation=note(ada, "Ada"))
    offending = {
        "delete_used": DeleteEntity(entity_id=sample.city.id),
        "create_existing": CreateEntity(entity=sample.city),
        "annotate_twice": AddAnnotation(annotation=note(ada, "Ada")),
        "remove_absent": RemoveAnnotation(annotation=note(ada, "Countess")),
        "retype_missing": RetypeEntity(entity_id=EntityId("ent:none"), type_iri=IRI(PERSON)),
    }[bad]
    before = full_snapshot(filled)
    with pytest.raises(ChangeRequestError, match="change 2 of 2"):
        filled.apply_changes([first, offending], actor="cur", role="curator")
    assert full_snapshot(filled) == before


def test_only_a_certifier_may_take_an_assertion_out_of_certified(filled: GraphStore,
                                                                sample: Sample) -> None:
    works = sample.works.id
    filled.apply_changes([SetStatus(assertion_id=works, status=AssertionStatus.CERTIFIED)],
                         actor="cert", role="certifier")
    before = snapshot(filled)
    demote = SetStatus(assertion_id=works, status=AssertionStatus.DRAFT)
    with pytest.raises(PermissionDeniedError, match="certified"):
        filled.apply_changes([changes(sample)["rename"](), demote], actor="cur",
                             role="curator")
    assert snapshot(filled) == before
    filled.apply_changes([demote], actor="cert", role="certifier")
    assert filled.get_assertion(works).status is AssertionStatus.DRAFT  # type: ignore[union-attr]


# --------------------------------------------------------------------------- the audit log


def test_recorded_entries_leave_the_graph_and_its_version_alone(filled: GraphStore) -> None:
    before = snapshot(filled)
    last = filled.audit_log()[-1].seq
    entry = AuditEntry(at=datetime.now(UTC), actor="rita", action="refused", target="x",
                       detail="no", role="reader")
    filled.record_audit([entry])
    after = snapshot(filled)
    assert after[-1] == before[-1] and after[:4] == before[:4]
    stored = filled.audit_log()[-1]
    assert stored.model_copy(update={"seq": 0}) == entry.model_copy(
        update={"at": stored.at})
    assert stored.seq > last  # positions grow (Neo4j keeps counting across a reset)


def test_the_audit_log_is_queryable(filled: GraphStore, sample: Sample) -> None:
    t0 = datetime.now(UTC)
    make = changes(sample)
    filled.apply_changes([make["rename"]()], actor="ann", role="curator")
    filled.apply_changes([make["certify"]()], actor="bob", role="certifier")
    filled.record_audit([AuditEntry(at=datetime.now(UTC), actor="ann", action="refused",
                                    target="cr-1", detail="no", request_id="cr-1")])
    assert [e.action for e in filled.audit_log(actor="ann")] == ["rename_entity", "refused"]
    assert [e.actor for e in filled.audit_log(action="certify")] == ["bob"]
    assert [e.action for e in filled.audit_log(target=sample.city.id)] == ["rename_entity"]
    assert [e.target for e in filled.audit_log(request_id="cr-1")] == ["cr-1"]
    assert [e.actor for e in filled.audit_log(actor="ann", action="refused")] == ["ann"]
    recent = filled.audit_log(since=t0)
    assert [e.actor for e in recent] == ["ann", "bob", "ann"]
    assert filled.audit_log(until=t0 - timedelta(days=1)) == []
    assert filled.audit_log(since=t0, until=datetime.now(UTC) + timedelta(seconds=5)) == recent
    naive = t0.replace(tzinfo=None)  # a naive bound is UTC
    assert filled.audit_log(since=naive) == recent
    seqs = [e.seq for e in filled.audit_log()]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_no_cypher_statement_edits_or_deletes_audit_entries() -> None:
    """Neo4j has no triggers: the append-only rule is kept by the statements themselves."""
    statements = {name: value for name, value in vars(cypher).items()
                  if isinstance(value, str) and name.isupper()}
    touching = {name for name, text in statements.items() if "AuditEntry" in text}
    assert touching == {"BUMP_VERSION", "APPEND_AUDIT", "AUDIT_LOG"} | {
        n for n in touching if n.startswith("CONSTRAINT")}
    for name in ("BUMP_VERSION", "APPEND_AUDIT"):
        text = statements[name]
        assert "CREATE (e:AuditEntry)" in text
        assert not re.search(r"\b(DELETE|REMOVE|MERGE \(e:AuditEntry)", text)
    assert not re.search(r"\b(SET|DELETE|REMOVE|CREATE|MERGE)\b", statements["AUDIT_LOG"])


# --------------------------------------------------------------------------- change requests


def request(rid: str = "cr-1", **update: object) -> ChangeRequest:
    base = ChangeRequest(id=rid, author="cur", author_role="curator",
                         kgcl="rename 'London' to 'Londinium'",
                         created_at=datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC))
    return base.model_copy(update=update)


def test_change_requests_round_trip_and_move_only_forward(filled: GraphStore) -> None:
    version = filled.version()
    filed = request()
    filed_entry = AuditEntry(at=datetime.now(UTC), actor="cur", action="file_request",
                             target="cr-1", detail=filed.kgcl, request_id="cr-1")
    filled.save_change_request(filed, expect=None, audit=[filed_entry])
    assert filled.get_change_request("cr-1") == filed
    assert filled.get_change_request("cr-none") is None
    assert filled.version() == version
    assert filled.audit_log()[-1].action == "file_request"
    with pytest.raises(ChangeRequestError, match="already exists"):
        filled.save_change_request(filed, expect=None)

    approved = filed.model_copy(update={"status": RequestStatus.APPROVED, "reviewer": "cert",
                                        "reviewer_role": "certifier",
                                        "reviewed_at": datetime.now(UTC), "reason": "fine"})
    filled.save_change_request(approved, expect=RequestStatus.PENDING)
    assert filled.get_change_request("cr-1") == approved
    before = full_snapshot(filled)
    # a second reviewer deciding the same request loses: it is no longer pending
    with pytest.raises(ChangeRequestError, match="approved, not pending"):
        filled.save_change_request(approved.model_copy(update={
            "status": RequestStatus.REJECTED}), expect=RequestStatus.PENDING)
    with pytest.raises(ChangeRequestError, match="cannot go from approved to pending"):
        filled.save_change_request(filed, expect=RequestStatus.APPROVED)
    with pytest.raises(StoreError, match="kgcl cannot change"):
        filled.save_change_request(approved.model_copy(update={
            "kgcl": "delete 'London'", "status": RequestStatus.REJECTED}),
            expect=RequestStatus.APPROVED)
    assert full_snapshot(filled) == before

    filled.save_change_request(request("cr-2"), expect=None)
    filled.save_change_request(request("cr-0", author="ann"), expect=None)
    assert [r.id for r in filled.change_requests()] == ["cr-0", "cr-1", "cr-2"]
    assert [r.id for r in filled.change_requests(status=RequestStatus.PENDING)] == ["cr-0",
                                                                                    "cr-2"]
    assert [r.id for r in filled.change_requests(author="ann")] == ["cr-0"]


def test_applying_a_request_marks_it_applied_in_the_same_transaction(filled: GraphStore,
                                                                     sample: Sample) -> None:
    rename = changes(sample)["rename"]()
    filled.save_change_request(request(), expect=None)
    applied = request(status=RequestStatus.APPLIED, applied_by="cert",
                      applied_by_role="certifier", applied_at=datetime.now(UTC))
    before = full_snapshot(filled)
    with pytest.raises(ChangeRequestError, match="pending, not approved"):
        filled.apply_changes([rename], actor="cur", role="curator", request=applied)
    assert full_snapshot(filled) == before

    approved = request(status=RequestStatus.APPROVED, reviewer="cert")
    filled.save_change_request(approved, expect=RequestStatus.PENDING)
    with pytest.raises(StoreError, match="cannot change its review"):
        filled.apply_changes([rename], actor="cur", role="curator", request=applied)
    applied = approved.model_copy(update={"status": RequestStatus.APPLIED,
                                          "applied_by": "cert", "applied_by_role": "certifier",
                                          "applied_at": datetime.now(UTC)})
    # the batch fails: neither the graph nor the request changes
    before = full_snapshot(filled)
    with pytest.raises(ChangeRequestError):
        filled.apply_changes([rename, DeleteEntity(entity_id=EntityId("ent:none"))],
                             actor="cur", role="curator", request=applied)
    assert full_snapshot(filled) == before

    version = filled.version()
    assert filled.apply_changes([rename], actor="cur", role="curator", request=applied) == 1
    assert filled.version() == version + 1
    stored = filled.get_change_request("cr-1")
    assert stored is not None and stored.status is RequestStatus.APPLIED
    assert stored.applied_by == "cert" and stored.reviewer == "cert"
    change, done = filled.audit_log()[-2:]
    assert (change.action, change.actor, change.request_id) == ("rename_entity", "cur", "cr-1")
    assert (done.action, done.actor, done.role, done.target) == ("apply_request", "cert",
                                                                "certifier", "cr-1")
    with pytest.raises(ChangeRequestError, match="applied, not approved"):
        filled.apply_changes([rename], actor="cur", role="curator", request=applied)


def test_reset_wipes_requests_and_annotations_too(filled: GraphStore, sample: Sample) -> None:
    filled.save_change_request(request(), expect=None)
    filled.apply_changes([AddAnnotation(annotation=note(sample.city, "Londinium"))],
                         actor="cur", role="curator")
    filled.reset()
    assert filled.change_requests() == [] and filled.annotations() == []
    assert filled.audit_log() == []
    # and the store works as before afterwards (the append-only guards are back)
    filled.record_audit([AuditEntry(at=datetime.now(UTC), actor="a", action="x", target="t")])
    assert len(filled.audit_log()) == 1
