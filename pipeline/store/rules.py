"""The semantics every ``GraphStore`` backend shares, written once.

Both backends read the existing state inside their transaction, ask this module what a write
means (what is new, what changed, who may do it, what the audit log says), and then only carry
the plan out. Keeping the decisions here is what makes SQLite and Neo4j behave identically:
the compliance suite proves it, this module makes it cheap to keep true. What rows the
backends store is in ``forms``; the change-request workflow in ``change_requests``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipeline.errors import ChangeRequestError, PermissionDeniedError, StoreError
from pipeline.models import (
    AddAnnotation,
    AddAssertion,
    Assertion,
    AssertionId,
    AssertionStatus,
    AuditEntry,
    Change,
    Chunk,
    CreateEntity,
    DeleteEntity,
    Document,
    EntityAnnotation,
    EntityId,
    EntityRef,
    LiteralValue,
    Provenance,
    RemoveAnnotation,
    RemoveAssertion,
    RenameEntity,
    RetypeEntity,
    SetStatus,
    Severity,
    Violation,
    WriteResult,
    local_name,
)
from pipeline.store.base import ROLE_RIGHTS

#: the key provenance merges by, within one assertion
ProvenanceKey = tuple[str, str, str]

_GRAPH_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def graph_name(iri: str, what: str) -> str:
    """The local name of ``iri`` if it may become a Neo4j label or relationship type.

    Both backends apply this check so that an ontology term Neo4j would refuse is refused
    everywhere. ``fullmatch`` on purpose: ``re.match`` with ``$`` accepts a trailing newline.
    """
    name = local_name(iri)
    if not _GRAPH_NAME.fullmatch(name):
        raise StoreError(
            f"the {what} {iri!r} has the local name {name!r}, which cannot be a graph label or "
            "relationship type (allowed: a letter or '_' then letters, digits, '_'); rename the "
            "term in the ontology")
    return name


def check_graph_names(assertions: Iterable[Assertion]) -> None:
    """Refuse a batch naming any predicate or entity class that cannot be a graph name."""
    for a in assertions:
        graph_name(a.triple.predicate, "predicate")
        graph_name(a.triple.subject.type_iri, "class")
        if isinstance(a.triple.object, EntityRef):
            graph_name(a.triple.object.type_iri, "class")


def check_change_names(changes: Iterable[Change]) -> None:
    """``check_graph_names`` for a batch of changes: the assertions they add and the classes
    they give entities."""
    check_graph_names(c.assertion for c in changes if isinstance(c, AddAssertion))
    for c in changes:
        if isinstance(c, CreateEntity):
            graph_name(c.entity.type_iri, "class")
        elif isinstance(c, RetypeEntity):
            graph_name(c.type_iri, "class")


def now() -> datetime:
    """The timestamp for audit entries: UTC, stored as ISO text by both backends."""
    return datetime.now(UTC)


def timestamp(at: datetime) -> str:
    """``at`` as stored: UTC ISO text with microseconds always written, so stored times order
    as text (both backends filter the audit log by comparing these strings). A naive
    datetime is taken as UTC."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds")


# --------------------------------------------------------------------------- provenance


def provenance_key(p: Provenance) -> ProvenanceKey:
    return (p.chunk_id, p.model, p.prompt_version)


def provenance_order(p: Provenance) -> tuple[str, str, str, str]:
    """The order reads return provenance in: by document, chunk, model, prompt version.
    (chunk, model, prompt version) is unique per assertion, so the order is total."""
    return (p.document_id, p.chunk_id, p.model, p.prompt_version)


def canonical(assertion: Assertion) -> Assertion:
    """``assertion`` as a store returns it: provenance deduplicated (first wins) and ordered."""
    seen: dict[ProvenanceKey, Provenance] = {}
    for p in assertion.provenance:
        seen.setdefault(provenance_key(p), p)
    ordered = tuple(sorted(seen.values(), key=provenance_order))
    if ordered == assertion.provenance:
        return assertion
    return assertion.model_copy(update={"provenance": ordered})


def merge_batch(assertions: Sequence[Assertion]) -> list[Assertion]:
    """One assertion per id, as if the batch were written item by item: the first occurrence
    gives status and entities, the last gives confidence and violations, provenance is the
    union."""
    merged: dict[AssertionId, Assertion] = {}
    for a in assertions:
        first = merged.get(a.id)
        if first is None:
            merged[a.id] = a
            continue
        merged[a.id] = first.model_copy(update={
            "confidence": a.confidence, "violations": a.violations,
            "provenance": first.provenance + a.provenance})
    return [canonical(merged[k]) for k in sorted(merged)]


# --------------------------------------------------------------------------- write planning


@dataclass(frozen=True)
class ExistingAssertion:
    """What a backend must read back about an assertion to plan a merge into it."""

    confidence: float
    status: AssertionStatus
    provenance_keys: frozenset[ProvenanceKey]
    #: the soft violations stored on it (``violations_from_json`` of the stored text)
    violations: tuple[Violation, ...] = ()


@dataclass
class WritePlan:
    """What a write of assertions must do; backends carry it out inside one transaction."""

    new: list[Assertion] = field(default_factory=list)
    #: entities to create, and existing ones whose class the pipeline now resolves differently
    new_entities: list[EntityRef] = field(default_factory=list)
    retyped: list[EntityRef] = field(default_factory=list)
    confidence: dict[AssertionId, float] = field(default_factory=dict)
    #: existing assertions whose soft violations the write replaces (``()`` clears them)
    violations: dict[AssertionId, tuple[Violation, ...]] = field(default_factory=dict)
    provenance: list[tuple[AssertionId, Provenance]] = field(default_factory=list)
    created: int = 0
    updated: int = 0

    def result(self) -> WriteResult:
        return WriteResult(created=self.created, updated=self.updated)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def plan_write(batch: Sequence[Assertion], existing: Mapping[AssertionId, ExistingAssertion],
               stored_types: Mapping[EntityId, str], *, may_certify: bool) -> WritePlan:
    """Decide what merging ``batch`` (already ``merge_batch``-ed) into the store means.

    New assertions are created with their status, except that only a certifier may create a
    certified one. An existing assertion keeps its status, takes the new confidence and the
    new soft violations (the latest graph check decides them: an empty tuple clears them), and
    gains only provenance whose (chunk, model, prompt version) it lacks: a rerun under another
    run id adds nothing. ``stored_types`` maps the existing entities among those mentioned to their
    class: an existing entity keeps its label (a curator may have renamed it) and takes the
    class of its last mention. ``updated`` counts existing assertions and entities that changed.
    """
    plan = WritePlan()
    mentioned: dict[EntityId, EntityRef] = {}
    for a in batch:
        for ent in _entities_of(a):
            mentioned[ent.id] = ent
        old = existing.get(a.id)
        if old is None:
            if a.status is AssertionStatus.CERTIFIED and not may_certify:
                raise PermissionDeniedError(
                    f"assertion {a.id} would be created as certified; a write stores drafts. "
                    "Certify through apply_changes(SetStatus(...)) as a certifier or admin")
            plan.new.append(a)
            plan.created += 1
            continue
        changed = False
        if a.confidence != old.confidence:
            plan.confidence[a.id] = a.confidence
            changed = True
        if a.violations != old.violations:
            plan.violations[a.id] = a.violations
            changed = True
        for p in a.provenance:
            if provenance_key(p) not in old.provenance_keys:
                plan.provenance.append((a.id, p))
                changed = True
        plan.updated += changed
    for eid in sorted(mentioned):
        ent = mentioned[eid]
        if eid not in stored_types:
            plan.new_entities.append(ent)
        elif stored_types[eid] != ent.type_iri:
            plan.retyped.append(ent)
    plan.updated += len(plan.retyped)
    return plan


def mentioned_entities(batch: Iterable[Assertion]) -> list[EntityId]:
    """Ids of every entity a batch mentions, so a backend can read their stored classes."""
    return sorted({e.id for a in batch for e in _entities_of(a)})


def _entities_of(a: Assertion) -> list[EntityRef]:
    obj = a.triple.object
    return [a.triple.subject, obj] if isinstance(obj, EntityRef) else [a.triple.subject]


def missing_documents(chunks: Sequence[Chunk], documents: Sequence[Document],
                      existing: Iterable[str]) -> list[str]:
    """Document ids that chunks point to but neither the batch nor the store holds."""
    have = {d.id for d in documents} | set(existing)
    return sorted({c.document_id for c in chunks} - have)


# --------------------------------------------------------------------------- role gating


def required_right(change: Change) -> str:
    """The right (see ``ROLE_RIGHTS``) a change needs. Certifying needs ``certify``, and so does
    adding an assertion that is already certified, which would otherwise bypass review."""
    if isinstance(change, SetStatus) and change.status is AssertionStatus.CERTIFIED:
        return "certify"
    if isinstance(change, AddAssertion) and change.assertion.status is AssertionStatus.CERTIFIED:
        return "certify"
    return change.op


def check_rights(changes: Sequence[Change], *, actor: str, role: str) -> None:
    """Refuse the whole batch if ``role`` lacks the right for any change in it."""
    rights = ROLE_RIGHTS.get(role)  # type: ignore[call-overload]
    if rights is None:
        raise PermissionDeniedError(
            f"unknown role {role!r} for {actor!r}; roles are {', '.join(ROLE_RIGHTS)}")
    for i, change in enumerate(changes):
        need = required_right(change)
        if need not in rights:
            raise PermissionDeniedError(
                f"{actor!r} (role {role}) may not {need.replace('_', ' ')} (change {i + 1} of "
                f"{len(changes)}: {describe(change)}); nothing was changed. Ask a user whose "
                "role allows it" + (" (certifier or admin)" if need == "certify" else ""))


# --------------------------------------------------------------------------- audit


def check_status_change(change: SetStatus, old: AssertionStatus, *, actor: str,
                        role: str) -> None:
    """Taking an assertion out of ``certified`` undoes a certification: like certifying, only
    a certifier or admin may. Backends call this with the status they read in the
    transaction, so a refusal rolls the whole batch back."""
    if (old is AssertionStatus.CERTIFIED and change.status is not AssertionStatus.CERTIFIED
            and "certify" not in ROLE_RIGHTS.get(role, frozenset())):  # type: ignore[call-overload]
        raise PermissionDeniedError(
            f"{actor!r} (role {role}) may not take certified assertion {change.assertion_id} "
            f"back to {change.status.value}; nothing was changed. Ask a certifier or admin")


def describe(change: Change) -> str:
    """A short human description of a change, used when it carries no KGCL text."""
    if isinstance(change, AddAssertion):
        t = change.assertion.triple
        return f"add {t.subject.label!r} {local_name(t.predicate)} {t.object_label!r}"
    if isinstance(change, RemoveAssertion):
        return f"remove {change.assertion_id}"
    if isinstance(change, RenameEntity):
        return f"rename {change.entity_id} to {change.new_label!r}"
    if isinstance(change, CreateEntity):
        return f"create entity {change.entity.id} {change.entity.label!r}"
    if isinstance(change, DeleteEntity):
        return f"delete entity {change.entity_id}"
    if isinstance(change, RetypeEntity):
        return f"give {change.entity_id} the class {change.type_iri}"
    if isinstance(change, AddAnnotation | RemoveAnnotation):
        a = change.annotation
        verb = "annotate" if isinstance(change, AddAnnotation) else "remove annotation of"
        return f"{verb} {a.entity_id} {local_name(a.property)} {a.value!r}"
    return f"set status of {change.assertion_id} to {change.status.value}"


def audit_action(change: Change) -> str:
    """The op name, except that certifying is recorded as ``certify``. (A certified
    ``AddAssertion`` stays ``add_assertion``: merged into an existing one it keeps that one's
    status, so it does not necessarily certify anything.)"""
    if isinstance(change, SetStatus) and change.status is AssertionStatus.CERTIFIED:
        return "certify"
    return change.op


def audit_target(change: Change) -> str:
    if isinstance(change, AddAssertion):
        return change.assertion.id
    if isinstance(change, CreateEntity):
        return change.entity.id
    if isinstance(change, RenameEntity | DeleteEntity | RetypeEntity):
        return change.entity_id
    if isinstance(change, AddAnnotation | RemoveAnnotation):
        return change.annotation.entity_id
    return change.assertion_id


def touched(change: Change) -> tuple[set[str], set[str]]:
    """The assertion ids and entity ids a change may alter (what an index delta must look
    at; an entity's label or class change also reaches the assertions that mention it)."""
    if isinstance(change, AddAssertion):
        a = change.assertion
        obj = a.triple.object
        return {a.id}, {a.triple.subject.id} | ({obj.id} if isinstance(obj, EntityRef)
                                                else set())
    if isinstance(change, RemoveAssertion | SetStatus):
        return {change.assertion_id}, set()
    return set(), {audit_target(change)}


def audit_for_change(change: Change, *, actor: str, at: datetime, role: str = "",
                     before: str = "", after: str = "", request_id: str = "") -> AuditEntry:
    """The entry for one applied change; ``detail`` is its KGCL text when it has one."""
    return AuditEntry(at=at, actor=actor, action=audit_action(change),
                      target=audit_target(change), detail=change.kgcl or describe(change),
                      role=role, before=before, after=after, request_id=request_id)


def audit_for_write(plan: WritePlan, *, actor: str, at: datetime) -> AuditEntry:
    """One entry per pipeline write that changed something (per batch, not per assertion)."""
    return AuditEntry(at=at, actor=actor, action="write_assertions", target="assertions",
                      detail=f"created={plan.created} updated={plan.updated}")


# --------------------------------------------------------------------------- before / after


def state(value: Mapping[str, Any] | None) -> str:
    """Compact, key-sorted JSON of an object's state for ``AuditEntry.before``/``after``
    (both backends produce the same text for the same state); "" for none."""
    if value is None:
        return ""
    return json.dumps(dict(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def assertion_state(row: Mapping[str, Any]) -> dict[str, Any]:
    """What the audit records of an assertion, from a row with ``assertion_row``'s keys (an
    absent key reads as None: Neo4j does not store null properties)."""
    out: dict[str, Any] = {"id": row["id"], "subject": row["subject_id"],
                           "predicate": row["predicate"], "status": row["status"],
                           "confidence": float(row["confidence"])}
    if row.get("object_id") is not None:
        out["object"] = row["object_id"]
    else:
        out["literal"] = row.get("literal_value")
        out["datatype"] = row.get("literal_datatype")
    violations = violations_from_json(row.get("violations"))
    if violations:  # absent when none, so the states of unflagged assertions stay as they were
        out["violations"] = [v.model_dump(mode="json") for v in violations]
    return out


def added_states(change: AddAssertion, old: Mapping[str, Any] | None) -> tuple[str, str]:
    """before/after of an ``AddAssertion`` given the stored row (``assertion_row`` keys) of
    the assertion it merges into, if one exists: a merge keeps the stored status and takes
    the new confidence and violations (``plan_write``); the triple is the same, since the id
    is the triple's hash."""
    row = assertion_row(change.assertion)
    if old is None:
        return "", state(assertion_state(row))
    after = assertion_state(row | {"status": old["status"]})
    return state(assertion_state(old)), state(after)


def entity_state(entity: EntityRef) -> dict[str, Any]:
    return {"id": entity.id, "label": entity.label, "type": entity.type_iri}


def annotation_state(annotation: EntityAnnotation) -> dict[str, Any]:
    return {"property": annotation.property, "value": annotation.value}


def deleted_entity_state(entity: EntityRef, annotations: Sequence[EntityAnnotation]
                         ) -> dict[str, Any]:
    return entity_state(entity) | {"annotations": [
        annotation_state(a) for a in sorted(annotations, key=annotation_order)]}


def annotation_order(a: EntityAnnotation) -> tuple[str, str, str]:
    return (a.entity_id, a.property, a.value)


def missing(change: Change, i: int, n: int) -> ChangeRequestError:
    """The error for a change naming something the store does not hold."""
    return ChangeRequestError(
        f"change {i + 1} of {n} ({describe(change)}) names {audit_target(change)}, which the "
        "store does not hold; nothing was changed")


def conflict(change: Change, i: int, n: int, problem: str) -> ChangeRequestError:
    """The error for a change the store's current state does not allow."""
    return ChangeRequestError(f"change {i + 1} of {n} ({describe(change)}): {problem}; "
                              "nothing was changed")


def entity_in_use(change: DeleteEntity, i: int, n: int, uses: int) -> ChangeRequestError:
    return conflict(change, i, n, f"{uses} assertion(s) still name {change.entity_id}; delete "
                    "those edges first (in the same request) or obsolete the entity instead")


#: audit entries recorded by ``record_audit`` for refusals carry this action
REFUSED = "refused"


def refusal(*, actor: str, role: str, target: str, detail: str,
            request_id: str = "") -> AuditEntry:
    """The audit entry for a refused attempt (permission or workflow): who tried what."""
    return AuditEntry(at=now(), actor=actor, action=REFUSED, target=target, detail=detail,
                      role=role, request_id=request_id)


# --------------------------------------------------------------------------- stored values


def assertion_row(a: Assertion) -> dict[str, Any]:
    """An assertion's own properties; the object is an entity id or a literal, never both.
    ``violations`` is ``violations_json`` text; ``violation_checks`` the checks' names (what
    Neo4j queries by)."""
    obj = a.triple.object
    return {"id": a.id, "subject_id": a.triple.subject.id, "predicate": a.triple.predicate,
            "object_id": obj.id if isinstance(obj, EntityRef) else None,
            "literal_value": obj.value if isinstance(obj, LiteralValue) else None,
            "literal_datatype": obj.datatype if isinstance(obj, LiteralValue) else None,
            "confidence": a.confidence, "status": a.status.value,
            "violations": violations_json(a.violations),
            "violation_checks": list(a.violation_checks)}


def review_violations(a: Assertion, check: str | None = None) -> tuple[Violation, ...]:
    """The violations of ``a`` a reviewer acts on (of the check ``check``, when given): every
    one recorded on it but the informational (an assertion carries no refusals: a statement
    that failed a hard check is quarantined, not stored). ``GraphStore.flagged`` returns the
    assertions that have some; the index's ``violations`` column lists their checks."""
    return tuple(v for v in a.violations
                 if v.severity is not Severity.INFO and (check is None or v.check == check))


#: ``violations_json`` of no violations
NO_VIOLATIONS = "[]"


def violations_json(violations: Sequence[Violation]) -> str:
    """An assertion's soft violations as stored by both backends: a compact JSON array of
    ``{"check", "detail", "reason", "severity"}`` objects in the assertion's order
    (``NO_VIOLATIONS`` for none)."""
    return json.dumps([v.model_dump(mode="json") for v in violations], sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))


def violations_from_json(text: str | None) -> tuple[Violation, ...]:
    """The violations ``violations_json`` wrote; none for a store or node written before
    violations were stored (no column value, no property)."""
    if not text:
        return ()
    try:
        return tuple(Violation.model_validate(v) for v in json.loads(text))
    except (ValueError, TypeError) as exc:
        raise StoreError(f"stored violations are not readable: {exc}") from exc
