"""What the Neo4j store's write transactions do, as transaction functions.

Each public write of ``Neo4jGraphStore`` runs one of these in a managed transaction
(``session.execute_write(work, *args)``): it reads what it needs, asks ``rules`` (and
``change_requests``) what the write means, and carries the plan out with the batched
statements of ``cypher`` — ``size`` rows per ``UNWIND``. Nothing here opens a session or
translates driver errors; the store does both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from neo4j import ManagedTransaction

from pipeline.errors import StoreError
from pipeline.models import (
    AddAnnotation,
    AddAssertion,
    Assertion,
    AssertionId,
    AssertionStatus,
    AuditEntry,
    Change,
    ChangeRequest,
    Chunk,
    CreateEntity,
    Document,
    EntityId,
    EntityRef,
    ExtractionScope,
    QuarantinedCandidate,
    RemoveAnnotation,
    RemoveAssertion,
    RenameEntity,
    RequestStatus,
    RetypeEntity,
    SetStatus,
    WriteResult,
    flag_checks,
)
from pipeline.store import change_requests, cypher, forms, rules
from pipeline.store.quarantine import covered_chunks, plan_quarantine


def run_rows(tx: ManagedTransaction, query: str, rows: Sequence[dict[str, Any]],
             size: int) -> None:
    """Run ``query`` over ``rows`` (``$rows``), ``size`` rows at a time."""
    for i in range(0, len(rows), size):
        tx.run(query, rows=list(rows[i:i + size])).consume()


def run_ids(tx: ManagedTransaction, query: str, ids: Sequence[str], size: int) -> list[Any]:
    """The records of ``query`` over ``ids`` (``$ids``), asked ``size`` ids at a time."""
    out: list[Any] = []
    for i in range(0, len(ids), size):
        out.extend(tx.run(query, ids=list(ids[i:i + size])))
    return out


# --------------------------------------------------------------------------- the pipeline's writes


def upsert_documents(tx: ManagedTransaction, documents: Sequence[Document],
                     chunks: Sequence[Chunk], size: int) -> WriteResult:
    doc_ids = sorted({d.id for d in documents} | {c.document_id for c in chunks})
    stored = {r["id"] for r in run_ids(tx, cypher.EXISTING_DOCUMENTS, doc_ids, size)}
    missing = rules.missing_documents(chunks, documents, stored)
    if missing:
        raise StoreError(f"chunks refer to documents the store does not hold: "
                         f"{', '.join(missing[:5])}; upsert those documents with them")
    stored_chunks = {r["id"] for r in run_ids(tx, cypher.EXISTING_CHUNKS,
                                              sorted({c.id for c in chunks}), size)}
    new_docs = first_new(documents, stored)
    new_chunks = first_new(chunks, stored_chunks)
    run_rows(tx, cypher.MERGE_DOCUMENTS, [d.model_dump() for d in new_docs], size)
    run_rows(tx, cypher.MERGE_CHUNKS, [
        {"id": c.id, "document_id": c.document_id, "chunk_index": c.index, "text": c.text,
         "span_start": c.span.start, "span_end": c.span.end} for c in new_chunks], size)
    if new_docs or new_chunks:
        bump(tx, [])
    return WriteResult(created=len(new_docs))


def write_assertions(tx: ManagedTransaction, batch: list[Assertion], actor: str,
                     size: int) -> WriteResult:
    plan = merge(tx, batch, may_certify=False, size=size)
    if plan.changed:
        bump(tx, [rules.audit_for_write(plan, actor=actor, at=rules.now())])
    return plan.result()


def merge(tx: ManagedTransaction, batch: list[Assertion], *, may_certify: bool,
          size: int) -> rules.WritePlan:
    """Merge ``batch`` (already ``merge_batch``-ed) as ``rules.plan_write`` decides."""
    existing = {
        AssertionId(r["id"]): rules.ExistingAssertion(
            r["confidence"], AssertionStatus(r["status"]),
            frozenset((k[0], k[1], k[2]) for k in r["keys"]),
            rules.violations_from_json(r["violations"]))
        for r in run_ids(tx, cypher.EXISTING_ASSERTIONS, [a.id for a in batch], size)}
    types = {EntityId(r["id"]): r["type_iri"] for r in run_ids(
        tx, cypher.ENTITY_TYPES, rules.mentioned_entities(batch), size)}
    plan = rules.plan_write(batch, existing, types, may_certify=may_certify)

    by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in plan.new_entities:
        by_label[cypher.class_label(e.type_iri)].append(e.model_dump())
    for label, rows in by_label.items():
        run_rows(tx, cypher.create_entities(label), rows, size)
    moves: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in plan.retyped:
        key = (cypher.class_label(types[e.id]), cypher.class_label(e.type_iri))
        moves[key].append({"id": e.id, "type_iri": e.type_iri})
    for (old, new), rows in moves.items():
        run_rows(tx, cypher.retype_entities(old, new), rows, size)

    new_rows = [rules.assertion_row(a) for a in plan.new]
    run_rows(tx, cypher.CREATE_ASSERTIONS, new_rows, size)
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a, row in zip(plan.new, new_rows, strict=True):
        if row["object_id"] is not None:
            by_type[cypher.relationship_type(a.triple.predicate)].append(row)
    for rel, rows in by_type.items():
        run_rows(tx, cypher.link_entities(rel), rows, size)

    prov = [(a.id, p) for a in plan.new for p in a.provenance] + plan.provenance
    run_rows(tx, cypher.ADD_PROVENANCE, [
        {"assertion_id": aid, "chunk_id": p.chunk_id, "model": p.model,
         "prompt_version": p.prompt_version, "props": forms.provenance_row(p)}
        for aid, p in prov], size)
    run_rows(tx, cypher.SET_CONFIDENCE,
             [{"id": i, "confidence": c} for i, c in plan.confidence.items()], size)
    run_rows(tx, cypher.SET_VIOLATIONS, [
        {"id": i, "violations": rules.violations_json(v) if v else None,
         "checks": list(flag_checks(v)) or None}
        for i, v in plan.violations.items()], size)
    return plan


def write_quarantine(tx: ManagedTransaction, items: Sequence[QuarantinedCandidate],
                     covered: Sequence[ExtractionScope], size: int) -> WriteResult:
    """Write a run's quarantine as ``quarantine.plan_quarantine`` decides: new records
    created, records refused again or resolved replaced in place."""
    stored: dict[str, QuarantinedCandidate] = {}
    for query, keys in ((cypher.STORED_QUARANTINE, sorted({q.id for q in items})),
                        (cypher.QUARANTINE_OF_CHUNKS, covered_chunks(covered))):
        for r in run_ids(tx, query, keys, size):
            q = QuarantinedCandidate.model_validate_json(r["payload"])
            stored[q.id] = q
    plan = plan_quarantine(items, stored, covered)
    run_rows(tx, cypher.MERGE_QUARANTINE, [
        {"id": q.id, "chunk_id": q.chunk_id, "document_id": q.document_id,
         "run_id": q.run_id, "reason": q.primary_reason.value,
         "resolved_by": q.resolved_by or "", "payload": q.model_dump_json()}
        for q in plan.rows], size)
    if plan.rows:
        bump(tx, [])
    return plan.result()


def first_new(items: Sequence[Any], stored: set[str]) -> list[Any]:
    """Items whose id is not stored yet, first occurrence only (as SQLite's INSERT OR IGNORE)."""
    seen = set(stored)
    out = []
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            out.append(item)
    return out


# --------------------------------------------------------------------------- changes


def apply_changes(tx: ManagedTransaction, changes: list[Change], actor: str, role: str,
                  request: ChangeRequest | None, size: int) -> int:
    """Carry out ``changes`` (rights and names already checked) with an audit entry each;
    with ``request``, mark the approved request applied."""
    if request is not None:
        save_request(tx, request, RequestStatus.APPROVED)
    at = rules.now()
    rid = request.id if request is not None else ""
    entries: list[AuditEntry] = []
    for i, change in enumerate(changes):
        before, after = apply_one(tx, change, i, len(changes), actor, role, size)
        entries.append(rules.audit_for_change(change, actor=actor, at=at, role=role,
                                              before=before, after=after, request_id=rid))
    if request is not None:
        entries.append(change_requests.request_applied(request, at=at, changes=len(changes)))
    bump(tx, entries)
    return len(changes)


def apply_one(tx: ManagedTransaction, change: Change, i: int, n: int, actor: str, role: str,
              size: int) -> tuple[str, str]:
    """Carry out one change; returns its (before, after) audit states."""
    if isinstance(change, AddAssertion):
        found = tx.run(cypher.ASSERTION_ROW, id=change.assertion.id).single()
        old = None if found is None else found["a"]
        # rights were checked for the whole batch, a certified add included
        merge(tx, rules.merge_batch([change.assertion]), may_certify=True, size=size)
        return rules.added_states(change, old)
    if isinstance(change, RemoveAssertion | SetStatus):
        record = tx.run(cypher.ASSERTION_ROW, id=change.assertion_id).single()
        if record is None:
            raise rules.missing(change, i, n)
        row = record["a"]
        if isinstance(change, RemoveAssertion):
            tx.run(cypher.REMOVE_ASSERTION, id=change.assertion_id).consume()
            return rules.state(rules.assertion_state(row)), ""
        rules.check_status_change(change, AssertionStatus(row["status"]), actor=actor,
                                  role=role)
        tx.run(cypher.SET_STATUS, id=change.assertion_id,
               status=change.status.value).consume()
        return (rules.state({"status": row["status"]}),
                rules.state({"status": change.status.value}))
    if isinstance(change, CreateEntity):
        e = change.entity
        if get_entity(tx, e.id) is not None:
            raise rules.conflict(change, i, n, f"an entity {e.id} already exists")
        run_rows(tx, cypher.create_entities(cypher.class_label(e.type_iri)),
                 [e.model_dump()], size)
        return "", rules.state(rules.entity_state(e))
    if isinstance(change, AddAnnotation | RemoveAnnotation):
        return annotate(tx, change, i, n)
    entity = get_entity(tx, change.entity_id)
    if entity is None:
        raise rules.missing(change, i, n)
    if isinstance(change, RenameEntity):
        tx.run(cypher.RENAME_ENTITY, id=change.entity_id, label=change.new_label).consume()
        return rules.state({"label": entity.label}), rules.state({"label": change.new_label})
    if isinstance(change, RetypeEntity):
        if entity.type_iri != change.type_iri:
            run_rows(tx, cypher.retype_entities(cypher.class_label(entity.type_iri),
                                                cypher.class_label(change.type_iri)),
                     [{"id": entity.id, "type_iri": change.type_iri}], size)
        return (rules.state({"type": entity.type_iri}),
                rules.state({"type": change.type_iri}))
    uses = int(tx.run(cypher.ENTITY_USES, id=entity.id).single(strict=True)["n"])
    if uses:
        raise rules.entity_in_use(change, i, n, uses)
    notes = [forms.annotation_from_row(r.data())
             for r in tx.run(cypher.ANNOTATIONS_OF, id=entity.id)]
    tx.run(cypher.DELETE_ENTITY, id=entity.id).consume()
    return rules.state(rules.deleted_entity_state(entity, notes)), ""


def get_entity(tx: ManagedTransaction, entity_id: str) -> EntityRef | None:
    record = tx.run(cypher.ENTITY, id=entity_id).single()
    return None if record is None else forms.entity_from_row(record["e"])


def annotate(tx: ManagedTransaction, change: AddAnnotation | RemoveAnnotation, i: int,
             n: int) -> tuple[str, str]:
    a = change.annotation
    if get_entity(tx, a.entity_id) is None:
        raise rules.missing(change, i, n)
    row = forms.annotation_row(a)
    held = int(tx.run(cypher.HAS_ANNOTATION, row).single(strict=True)["n"]) > 0
    note = rules.state(rules.annotation_state(a))
    if isinstance(change, AddAnnotation):
        if held:
            raise rules.conflict(change, i, n, "the entity already has this annotation")
        tx.run(cypher.ADD_ANNOTATION, row).consume()
        return "", note
    if not held:
        raise rules.conflict(change, i, n, "the entity has no such annotation")
    tx.run(cypher.REMOVE_ANNOTATION, row).consume()
    return note, ""


# --------------------------------------------------------------------------- audit and requests


def bump(tx: ManagedTransaction, entries: list[AuditEntry]) -> None:
    """Count one more committed change and append its audit entries (same transaction)."""
    tx.run(cypher.BUMP_VERSION, meta=cypher.META_ID,
           entries=[forms.audit_row(e) for e in entries]).consume()


def append(tx: ManagedTransaction, entries: list[AuditEntry]) -> None:
    """Append audit entries that record no graph change (the version stays)."""
    tx.run(cypher.APPEND_AUDIT, meta=cypher.META_ID,
           entries=[forms.audit_row(e) for e in entries]).consume()


def save_request(tx: ManagedTransaction, request: ChangeRequest,
                 expect: RequestStatus | None) -> None:
    """File ``request`` or record its review, if that is a legal step from what is stored."""
    record = tx.run(cypher.CHANGE_REQUEST, id=request.id).single()
    stored = None if record is None else change_requests.request_from_row(record["r"])
    change_requests.check_request_update(stored, request, expect)
    row = change_requests.request_row(request)
    if stored is None:
        tx.run(cypher.CREATE_CHANGE_REQUEST, row=row).consume()
    else:
        tx.run(cypher.UPDATE_CHANGE_REQUEST, id=request.id, row=row).consume()


def save_request_audited(tx: ManagedTransaction, request: ChangeRequest,
                         expect: RequestStatus | None, entries: list[AuditEntry]) -> None:
    save_request(tx, request, expect)
    if entries:
        append(tx, entries)


__all__ = ["annotate", "append", "apply_changes", "apply_one", "bump", "first_new",
           "get_entity", "merge", "run_ids", "run_rows", "save_request", "save_request_audited",
           "upsert_documents", "write_assertions", "write_quarantine"]
