"""What the SQLite store's write transactions do, on the connection of the open transaction.

Merging assertions (``merge``), applying changes with their before/after audit states
(``apply_changes``, ``apply_one``, ``annotate``), saving change requests and appending audit
entries. Every function runs inside the caller's ``BEGIN IMMEDIATE`` transaction and decides
nothing itself: ``rules`` and ``change_requests`` say what a write means, exactly as for Neo4j.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from pipeline.models import (
    AddAnnotation,
    AddAssertion,
    Assertion,
    AssertionId,
    AssertionStatus,
    AuditEntry,
    Change,
    ChangeRequest,
    CreateEntity,
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
)
from pipeline.store import change_requests, forms, rules
from pipeline.store import sqlite_schema as schema
from pipeline.store.quarantine import QuarantinePlan, covered_chunks, plan_quarantine


def bump(conn: sqlite3.Connection, entries: Iterable[AuditEntry]) -> None:
    """Count one more committed change and append its audit entries (same transaction)."""
    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'version'")
    append(conn, entries)


def append(conn: sqlite3.Connection, entries: Iterable[AuditEntry]) -> None:
    """Append audit entries (the only statement that ever writes the audit table)."""
    conn.executemany(f"INSERT INTO audit ({', '.join(schema.AUDIT_COLUMNS)}) VALUES "
                     f"({', '.join(':' + c for c in schema.AUDIT_COLUMNS)})",
                     [forms.audit_row(e) for e in entries])


def get_entity(conn: sqlite3.Connection, entity_id: str) -> EntityRef | None:
    r = conn.execute("SELECT id, label, type_iri FROM entities WHERE id = ?",
                     (entity_id,)).fetchone()
    return None if r is None else forms.entity_from_row(r)


def existing_ids(conn: sqlite3.Connection, table: str, ids: Sequence[str]) -> set[str]:
    """The ``ids`` that ``table`` holds."""
    found: set[str] = set()
    for part in schema.parts(ids):
        found.update(r[0] for r in conn.execute(
            f"SELECT id FROM {table} WHERE id IN ({schema.marks(part)})", part))
    return found


def apply_changes(conn: sqlite3.Connection, changes: Sequence[Change], *, actor: str,
                  role: str, request: ChangeRequest | None) -> None:
    """Carry out ``changes`` (rights and names already checked) with an audit entry each;
    with ``request``, mark the approved request applied."""
    if request is not None:
        save_request(conn, request, RequestStatus.APPROVED)
    entries: list[AuditEntry] = []
    at = rules.now()
    rid = request.id if request is not None else ""
    for i, change in enumerate(changes):
        before, after = apply_one(conn, change, i, len(changes), actor, role)
        entries.append(rules.audit_for_change(change, actor=actor, at=at, role=role,
                                              before=before, after=after, request_id=rid))
    if request is not None:
        entries.append(change_requests.request_applied(request, at=at, changes=len(changes)))
    bump(conn, entries)


def apply_one(conn: sqlite3.Connection, change: Change, i: int, n: int, actor: str,
              role: str) -> tuple[str, str]:
    """Carry out one change; returns its (before, after) audit states."""
    if isinstance(change, AddAssertion):
        r = conn.execute("SELECT * FROM assertions WHERE id = ?",
                         (change.assertion.id,)).fetchone()
        old = None if r is None else dict(r)
        # rights were checked for the whole batch, a certified add included
        merge(conn, rules.merge_batch([change.assertion]), may_certify=True)
        return rules.added_states(change, old)
    if isinstance(change, RemoveAssertion | SetStatus):
        row = conn.execute("SELECT * FROM assertions WHERE id = ?",
                           (change.assertion_id,)).fetchone()
        if row is None:
            raise rules.missing(change, i, n)
        if isinstance(change, RemoveAssertion):
            conn.execute("DELETE FROM assertions WHERE id = ?", (change.assertion_id,))
            return rules.state(rules.assertion_state(dict(row))), ""
        rules.check_status_change(change, AssertionStatus(row["status"]), actor=actor,
                                  role=role)
        conn.execute("UPDATE assertions SET status = ? WHERE id = ?",
                     (change.status.value, change.assertion_id))
        return (rules.state({"status": row["status"]}),
                rules.state({"status": change.status.value}))
    if isinstance(change, CreateEntity):
        e = change.entity
        if get_entity(conn, e.id) is not None:
            raise rules.conflict(change, i, n, f"an entity {e.id} already exists")
        conn.execute("INSERT INTO entities (id, label, type_iri) VALUES (?, ?, ?)",
                     (e.id, e.label, e.type_iri))
        return "", rules.state(rules.entity_state(e))
    if isinstance(change, AddAnnotation | RemoveAnnotation):
        return annotate(conn, change, i, n)
    entity = get_entity(conn, change.entity_id)
    if entity is None:
        raise rules.missing(change, i, n)
    if isinstance(change, RenameEntity):
        conn.execute("UPDATE entities SET label = ? WHERE id = ?",
                     (change.new_label, change.entity_id))
        return rules.state({"label": entity.label}), rules.state({"label": change.new_label})
    if isinstance(change, RetypeEntity):
        conn.execute("UPDATE entities SET type_iri = ? WHERE id = ?",
                     (change.type_iri, change.entity_id))
        return (rules.state({"type": entity.type_iri}),
                rules.state({"type": change.type_iri}))
    uses = int(conn.execute("SELECT count(*) FROM assertions WHERE subject_id = ? OR "
                            "object_id = ?", (entity.id, entity.id)).fetchone()[0])
    if uses:
        raise rules.entity_in_use(change, i, n, uses)
    notes = [forms.annotation_from_row(r) for r in conn.execute(
        "SELECT * FROM entity_annotations WHERE entity_id = ?", (entity.id,))]
    conn.execute("DELETE FROM entities WHERE id = ?", (entity.id,))  # annotations cascade
    return rules.state(rules.deleted_entity_state(entity, notes)), ""


def annotate(conn: sqlite3.Connection, change: AddAnnotation | RemoveAnnotation, i: int,
             n: int) -> tuple[str, str]:
    a = change.annotation
    if get_entity(conn, a.entity_id) is None:
        raise rules.missing(change, i, n)
    key = (a.entity_id, a.property, a.value)
    held = conn.execute("SELECT 1 FROM entity_annotations WHERE entity_id = ? AND "
                        "property = ? AND value = ?", key).fetchone() is not None
    note = rules.state(rules.annotation_state(a))
    if isinstance(change, AddAnnotation):
        if held:
            raise rules.conflict(change, i, n, "the entity already has this annotation")
        conn.execute("INSERT INTO entity_annotations (entity_id, property, value) VALUES "
                     "(?, ?, ?)", key)
        return "", note
    if not held:
        raise rules.conflict(change, i, n, "the entity has no such annotation")
    conn.execute("DELETE FROM entity_annotations WHERE entity_id = ? AND property = ? AND "
                 "value = ?", key)
    return note, ""


def save_request(conn: sqlite3.Connection, request: ChangeRequest,
                 expect: RequestStatus | None) -> None:
    """File ``request`` or record its review, if that is a legal step from what is stored."""
    row = conn.execute("SELECT * FROM change_requests WHERE id = ?",
                       (request.id,)).fetchone()
    stored = None if row is None else change_requests.request_from_row(dict(row))
    change_requests.check_request_update(stored, request, expect)
    values = change_requests.request_row(request)
    if stored is None:
        conn.execute(f"INSERT INTO change_requests ({', '.join(schema.REQUEST_COLUMNS)}) "
                     f"VALUES ({', '.join(':' + c for c in schema.REQUEST_COLUMNS)})", values)
        return
    mutable = [c for c in schema.REQUEST_COLUMNS
               if c not in ("id", "author", "author_role", "kgcl", "created_at")]
    conn.execute(f"UPDATE change_requests SET {', '.join(f'{c} = :{c}' for c in mutable)} "
                 "WHERE id = :id", values)


def merge(conn: sqlite3.Connection, batch: list[Assertion], *,
          may_certify: bool) -> rules.WritePlan:
    """Merge ``batch`` (already ``merge_batch``-ed) as ``rules.plan_write`` decides."""
    ids = [a.id for a in batch]
    existing: dict[AssertionId, rules.ExistingAssertion] = {}
    keys: dict[str, set[rules.ProvenanceKey]] = {}
    for part in schema.parts(ids):
        marks = schema.marks(part)
        for r in conn.execute("SELECT assertion_id, chunk_id, model, prompt_version FROM "
                              f"provenance WHERE assertion_id IN ({marks})", part):
            keys.setdefault(r[0], set()).add((r[1], r[2], r[3]))
        for r in conn.execute("SELECT id, confidence, status, violations FROM assertions "
                              f"WHERE id IN ({marks})", part):
            existing[AssertionId(r[0])] = rules.ExistingAssertion(
                r[1], AssertionStatus(r[2]), frozenset(keys.get(r[0], ())),
                rules.violations_from_json(r[3]))
    eids = rules.mentioned_entities(batch)
    types: dict[EntityId, str] = {}
    for part in schema.parts(eids):
        for r in conn.execute("SELECT id, type_iri FROM entities WHERE id IN "
                              f"({schema.marks(part)})", part):
            types[EntityId(r[0])] = r[1]
    plan = rules.plan_write(batch, existing, types, may_certify=may_certify)
    conn.executemany("INSERT INTO entities (id, label, type_iri) VALUES (?, ?, ?)",
                     [(e.id, e.label, e.type_iri) for e in plan.new_entities])
    conn.executemany("UPDATE entities SET type_iri = ? WHERE id = ?",
                     [(e.type_iri, e.id) for e in plan.retyped])
    conn.executemany(
        "INSERT INTO assertions (id, subject_id, predicate, object_id, literal_value, "
        "literal_datatype, confidence, status, violations) VALUES (:id, :subject_id, "
        ":predicate, :object_id, :literal_value, :literal_datatype, :confidence, :status, "
        ":violations)",
        [rules.assertion_row(a) for a in plan.new])
    conn.executemany("UPDATE assertions SET confidence = ? WHERE id = ?",
                     [(c, i) for i, c in plan.confidence.items()])
    conn.executemany("UPDATE assertions SET violations = ? WHERE id = ?",
                     [(rules.violations_json(v), i) for i, v in plan.violations.items()])
    prov = [(a.id, p) for a in plan.new for p in a.provenance] + plan.provenance
    conn.executemany(
        f"INSERT INTO provenance ({', '.join(schema.PROVENANCE_COLUMNS)}) VALUES "
        f"({', '.join(':' + c for c in schema.PROVENANCE_COLUMNS)})",
        [{"assertion_id": aid, **forms.provenance_row(p)} for aid, p in prov])
    return plan


def write_quarantine(conn: sqlite3.Connection, items: Sequence[QuarantinedCandidate],
                     covered: Sequence[ExtractionScope]) -> QuarantinePlan:
    """Write a run's quarantine as ``quarantine.plan_quarantine`` decides: new records
    inserted, records refused again or resolved replaced in place."""
    stored: dict[str, QuarantinedCandidate] = {}
    for column, keys in (("id", sorted({q.id for q in items})),
                         ("chunk_id", covered_chunks(covered))):
        for part in schema.parts(keys):
            for r in conn.execute(f"SELECT payload FROM quarantine WHERE {column} IN "  # noqa: S608
                                  f"({schema.marks(part)})", part):
                q = QuarantinedCandidate.model_validate_json(r[0])
                stored[q.id] = q
    plan = plan_quarantine(items, stored, covered)
    conn.executemany(
        "INSERT INTO quarantine (id, chunk_id, document_id, run_id, reason, resolved_by, "
        "payload) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "run_id = excluded.run_id, reason = excluded.reason, "
        "resolved_by = excluded.resolved_by, payload = excluded.payload",
        [(q.id, q.chunk_id, q.document_id, q.run_id, q.primary_reason.value,
          q.resolved_by or "", q.model_dump_json()) for q in plan.rows])
    return plan


__all__ = ["annotate", "append", "apply_changes", "apply_one", "bump", "existing_ids",
           "get_entity", "merge", "save_request", "write_quarantine"]
