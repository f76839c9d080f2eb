"""The change-request workflow on every backend: who may file, review, apply and certify;
self-review refused; every refusal audited; an approved request applies atomically with the
index, once."""

from __future__ import annotations

import json

import pytest

from pipeline.errors import ChangeRequestError, PermissionDeniedError, UnapprovedRequestError
from pipeline.index.kg_index import KGIndex
from pipeline.kgcl.governance import apply_request, certify, file_request, review_request
from pipeline.kgcl.store_apply import apply_request_text
from pipeline.models import AssertionStatus, RequestStatus
from pipeline.store import GraphStore
from tests.compliance.graph_store_fixtures import Sample
from tests.compliance.kgcl_store_fixtures import (
    ONTOLOGY,
    counting_embedder,
    full_snapshot,
    index_state,
)

RENAME = "rename 'London' to 'Londinium'\ncreate exact synonym 'London' for 'Londinium'"


def refusals(store: GraphStore) -> list[tuple[str, str, str]]:
    return [(e.actor, e.role, e.target) for e in store.audit_log(action="refused")]


def graph(store: GraphStore) -> tuple[object, ...]:
    """The graph without the audit log and change requests (which refusals do write)."""
    return full_snapshot(store)[:4] + (full_snapshot(store)[5], store.version())


def test_a_reader_may_not_file_and_the_refusal_is_audited(filled: GraphStore) -> None:
    before = graph(filled)
    with pytest.raises(PermissionDeniedError, match="role reader"):
        file_request(filled, RENAME, ONTOLOGY, actor="rita", role="reader")
    assert graph(filled) == before and filled.change_requests() == []
    assert refusals(filled) == [("rita", "reader", "change request")]
    with pytest.raises(PermissionDeniedError):
        apply_request_text(RENAME, filled, ONTOLOGY, actor="rita", role="reader")
    assert len(refusals(filled)) == 2 and graph(filled) == before


def test_a_certifier_may_not_file_curation(filled: GraphStore) -> None:
    with pytest.raises(PermissionDeniedError, match="may not rename entity"):
        file_request(filled, RENAME, ONTOLOGY, actor="cert", role="certifier")
    assert refusals(filled) == [("cert", "certifier", "change request")]


def test_an_invalid_request_is_not_filed(filled: GraphStore) -> None:
    before = full_snapshot(filled)
    with pytest.raises(ChangeRequestError, match="line 2: unknown entity 'Atlantis'"):
        file_request(filled, "rename 'London' to 'L'\ndelete 'Atlantis'", ONTOLOGY,
                     actor="cur", role="curator")
    assert full_snapshot(filled) == before


def test_review_needs_a_reviewer_who_is_not_the_author(filled: GraphStore) -> None:
    filed = file_request(filled, RENAME, ONTOLOGY, actor="cur", role="curator")
    assert filed.status is RequestStatus.PENDING and filed.id.startswith("cr-")
    assert filled.get_change_request(filed.id) == filed
    entry = filled.audit_log()[-1]
    assert (entry.action, entry.actor, entry.request_id, entry.detail) == (
        "file_request", "cur", filed.id, RENAME)

    with pytest.raises(PermissionDeniedError, match="may not approve"):
        review_request(filled, filed.id, approve=True, reason="", actor="cur2", role="curator")
    # the author may not review their own request, whatever role they claim, admin included
    with pytest.raises(PermissionDeniedError, match="may not review it"):
        review_request(filled, filed.id, approve=True, reason="", actor="cur", role="admin")
    with pytest.raises(ChangeRequestError, match="needs a reason"):
        review_request(filled, filed.id, approve=False, reason=" ", actor="cert",
                       role="certifier")
    assert filled.get_change_request(filed.id) == filed
    assert refusals(filled) == [("cur2", "curator", filed.id), ("cur", "admin", filed.id)]

    rejected = review_request(filled, filed.id, approve=False, reason="London is London",
                              actor="cert", role="certifier")
    assert (rejected.status, rejected.reviewer, rejected.reason) == (
        RequestStatus.REJECTED, "cert", "London is London")
    assert filled.get_change_request(filed.id) == rejected
    entry = filled.audit_log()[-1]
    assert (entry.action, json.loads(entry.before), json.loads(entry.after)) == (
        "reject_request", {"status": "pending"}, {"status": "rejected"})
    with pytest.raises(ChangeRequestError, match="rejected; only a pending"):
        review_request(filled, filed.id, approve=True, reason="", actor="adm", role="admin")


def test_only_an_approved_request_applies_and_only_once(filled: GraphStore,
                                                        sample: Sample) -> None:
    embedder = counting_embedder()
    index = KGIndex.build(filled, embedder, ontology=ONTOLOGY)
    filed = file_request(filled, RENAME, ONTOLOGY, actor="cur", role="curator")
    before, index_before = graph(filled), index_state(index)
    with pytest.raises(UnapprovedRequestError, match="pending, not approved"):
        apply_request(filled, filed.id, ONTOLOGY, actor="cert", role="certifier", index=index)
    assert graph(filled) == before and index_state(index) == index_before
    assert refusals(filled) == [("cert", "certifier", filed.id)]

    review_request(filled, filed.id, approve=True, reason="ok", actor="cert", role="certifier")
    with pytest.raises(PermissionDeniedError, match="may not apply"):
        apply_request(filled, filed.id, ONTOLOGY, actor="cur", role="curator", index=index)
    outcome = apply_request(filled, filed.id, ONTOLOGY, actor="cert", role="certifier",
                            index=index)
    assert (outcome.commands, outcome.changes) == (2, 2)
    assert outcome.index is not None and outcome.index.action == "delta"
    assert index.version == filled.version()
    city = filled.get_entities([sample.city.id])[sample.city.id]
    assert city.label == "Londinium"
    done = filled.get_change_request(filed.id)
    assert done is not None and done.status is RequestStatus.APPLIED
    assert (done.applied_by, done.reviewer, done.author) == ("cert", "cert", "cur")
    trail = filled.audit_log(request_id=filed.id)
    assert [e.action for e in trail] == ["file_request", "refused", "approve_request",
                                         "refused", "rename_entity", "add_annotation",
                                         "apply_request"]
    # the changes are the author's, in the author's role; applying is the certifier's
    assert [(e.actor, e.role) for e in trail[4:6]] == [("cur", "curator")] * 2
    assert (trail[6].actor, trail[6].role) == ("cert", "certifier")
    with pytest.raises(UnapprovedRequestError, match="applied; only an approved"):
        apply_request(filled, filed.id, ONTOLOGY, actor="cert", role="certifier")


def test_an_approved_request_that_no_longer_applies_changes_nothing(filled: GraphStore) -> None:
    filed = file_request(filled, "rename 'London' to 'Londinium'", ONTOLOGY, actor="cur",
                         role="curator")
    review_request(filled, filed.id, approve=True, reason="", actor="cert", role="certifier")
    apply_request_text("rename 'London' to 'Greater London'", filled, ONTOLOGY, actor="adm",
                       role="admin")
    before = graph(filled)
    with pytest.raises(ChangeRequestError, match="no longer applies.*unknown entity 'London'"):
        apply_request(filled, filed.id, ONTOLOGY, actor="cert", role="certifier")
    assert graph(filled) == before
    stored = filled.get_change_request(filed.id)
    assert stored is not None and stored.status is RequestStatus.APPROVED
    assert filled.audit_log()[-1].action == "apply_failed"
    withdrawn = review_request(filled, filed.id, approve=False, reason="overtaken",
                               actor="cert2", role="certifier")
    assert withdrawn.status is RequestStatus.REJECTED


def test_only_a_certifier_certifies_and_it_is_recorded(filled: GraphStore,
                                                       sample: Sample) -> None:
    before = graph(filled)
    with pytest.raises(PermissionDeniedError, match="may not certify"):
        certify(filled, [sample.works.id], actor="cur", role="curator")
    assert graph(filled) == before
    assert refusals(filled) == [("cur", "curator", sample.works.id)]
    with pytest.raises(ChangeRequestError, match="no assertion 'asr:none'"):
        certify(filled, [sample.works.id, "asr:none"], actor="cert", role="certifier")
    assert graph(filled) == before

    certify(filled, [sample.works.id, sample.located.id], actor="cert", role="certifier",
            reason="checked against the source")
    assert {a.id for a in filled.assertions(status=AssertionStatus.CERTIFIED)} == {
        sample.works.id, sample.located.id}
    entries = filled.audit_log(action="certify")
    assert [(e.actor, e.role) for e in entries] == [("cert", "certifier")] * 2
    assert all("checked against the source" in e.detail for e in entries)
    assert json.loads(entries[0].before) == {"status": "draft"}
    with pytest.raises(ChangeRequestError, match="already certified"):
        certify(filled, [sample.works.id], actor="adm", role="admin")
