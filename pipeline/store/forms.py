"""Stored forms: provenance, entities, assertions, annotations and audit entries as flat,
primitive rows (a SQL row, a node's or a relationship's properties) and back.

Both backends write and read exactly these forms, so a value reads back the same from SQLite
and from Neo4j; a field an older store lacks reads as its default. An assertion's own row, its
violations and timestamps are in ``rules`` (the write rules need them); change requests are in
``change_requests``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pipeline.models import (
    IRI,
    Assertion,
    AssertionId,
    AssertionStatus,
    AuditEntry,
    ChunkId,
    DocumentId,
    EntityAnnotation,
    EntityId,
    EntityRef,
    LiteralValue,
    Provenance,
    RunId,
    Span,
    Triple,
)
from pipeline.store.rules import provenance_order, timestamp, violations_from_json


def provenance_row(p: Provenance) -> dict[str, Any]:
    """Provenance as flat, primitive properties (a SQL row or a relationship's properties)."""
    return {"document_id": p.document_id, "chunk_id": p.chunk_id, "span_start": p.span.start,
            "span_end": p.span.end, "quote": p.quote, "model": p.model,
            "prompt_version": p.prompt_version, "run_id": p.run_id, "attempts": p.attempts,
            "samples_agreeing": p.samples_agreeing, "samples_total": p.samples_total,
            "subject_mention": p.subject_mention, "object_mention": p.object_mention,
            "seen_at": p.seen_at.isoformat() if p.seen_at else None,
            "repairs": json.dumps(list(p.repairs), ensure_ascii=False),
            "subject_text": p.subject_text, "object_text": p.object_text,
            "subject_grounding": p.subject_grounding, "object_grounding": p.object_grounding,
            "corroboration": p.corroboration}


def provenance_from_row(row: Mapping[str, Any]) -> Provenance:
    """Provenance from its stored form; a field an older store lacks (no column value, no
    relationship property) reads as its default."""
    return Provenance(
        document_id=DocumentId(row["document_id"]), chunk_id=ChunkId(row["chunk_id"]),
        span=Span(start=row["span_start"], end=row["span_end"]), quote=row["quote"],
        model=row["model"], prompt_version=row["prompt_version"], run_id=RunId(row["run_id"]),
        attempts=row["attempts"], samples_agreeing=row["samples_agreeing"],
        samples_total=row["samples_total"], subject_mention=row.get("subject_mention") or "",
        object_mention=row.get("object_mention") or "",
        seen_at=datetime.fromisoformat(row["seen_at"]) if row.get("seen_at") else None,
        repairs=tuple(json.loads(row.get("repairs") or "[]")),
        subject_text=row.get("subject_text") or "", object_text=row.get("object_text") or "",
        subject_grounding=row.get("subject_grounding") or "",
        object_grounding=row.get("object_grounding") or "",
        # 0.0 is a value: only an absent one (an older store) reads as the default
        **({} if row.get("corroboration") is None
           else {"corroboration": float(row["corroboration"])}))


def entity_from_row(row: Mapping[str, Any]) -> EntityRef:
    return EntityRef(id=EntityId(row["id"]), label=row["label"], type_iri=IRI(row["type_iri"]))


def assertion_from_rows(row: Mapping[str, Any], subject: Mapping[str, Any],
                        obj: Mapping[str, Any] | None,
                        provenance: Iterable[Mapping[str, Any]]) -> Assertion:
    """Rebuild an assertion from its stored parts, provenance in ``provenance_order``."""
    target: EntityRef | LiteralValue
    if obj is not None:
        target = entity_from_row(obj)
    else:
        target = LiteralValue(value=row["literal_value"], datatype=IRI(row["literal_datatype"]))
    prov = sorted((provenance_from_row(p) for p in provenance), key=provenance_order)
    return Assertion(id=AssertionId(row["id"]),
                     triple=Triple(subject=entity_from_row(subject),
                                   predicate=IRI(row["predicate"]), object=target),
                     confidence=row["confidence"], status=AssertionStatus(row["status"]),
                     provenance=tuple(prov),
                     violations=violations_from_json(row.get("violations")))


def annotation_row(a: EntityAnnotation) -> dict[str, str]:
    return {"entity_id": a.entity_id, "property": a.property, "value": a.value}


def annotation_from_row(row: Mapping[str, Any]) -> EntityAnnotation:
    return EntityAnnotation(entity_id=EntityId(row["entity_id"]), property=IRI(row["property"]),
                            value=row["value"])


def audit_row(entry: AuditEntry) -> dict[str, str]:
    """An entry as stored (``seq`` is the store's to assign). ``before``/``after`` are stored
    as ``before_state``/``after_state``: BEFORE and AFTER are SQL keywords."""
    return {"at": timestamp(entry.at), "actor": entry.actor, "action": entry.action,
            "target": entry.target, "detail": entry.detail, "role": entry.role,
            "before_state": entry.before, "after_state": entry.after,
            "request_id": entry.request_id}


def audit_from_row(row: Mapping[str, Any]) -> AuditEntry:
    """An entry from its stored form; fields an older store lacks read as empty."""
    return AuditEntry(at=datetime.fromisoformat(row["at"]), actor=row["actor"],
                      action=row["action"], target=row["target"], detail=row["detail"],
                      role=row.get("role") or "", before=row.get("before_state") or "",
                      after=row.get("after_state") or "",
                      request_id=row.get("request_id") or "", seq=int(row.get("seq") or 0))


__all__ = ["annotation_from_row", "annotation_row", "assertion_from_rows", "audit_from_row",
           "audit_row", "entity_from_row", "provenance_from_row", "provenance_row"]
