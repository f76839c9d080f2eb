"""``Neo4jGraphStore``: the production store, over Bolt with the official ``neo4j`` driver.

The constructor only records settings; ``open()`` builds the driver, checks the server is
there and creates the uniqueness constraints. Every public write is one managed transaction
(``session.execute_write``): it reads what it needs, lets ``rules`` decide what the write
means, and carries that out with batched ``UNWIND $rows ... MERGE`` statements from ``cypher``.
Driver errors never escape: unavailability becomes ``StoreUnavailableError`` (retryable), any
other failure ``StoreError``, both raised ``from`` the driver's exception.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import neo4j
from neo4j import Driver, GraphDatabase, ManagedTransaction
from neo4j.exceptions import (
    AuthError,
    DriverError,
    IncompleteCommit,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)
from pydantic import SecretStr

from pipeline.errors import (
    ConfigurationError,
    StoreError,
    StoreUnavailableError,
    VeriKGError,
)
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
    ChunkId,
    CreateEntity,
    Document,
    DocumentId,
    EntityAnnotation,
    EntityId,
    EntityRef,
    QuarantinedCandidate,
    RemoveAnnotation,
    RemoveAssertion,
    RenameEntity,
    RequestStatus,
    RetypeEntity,
    Role,
    SetStatus,
    Span,
    StoreCounts,
    WriteResult,
    flag_checks,
)
from pipeline.store import cypher, rules
from pipeline.store.base import GraphStore

T = TypeVar("T")


class Neo4jGraphStore(GraphStore):
    """A graph store in Neo4j 5 (Community, Enterprise or Aura) reached over Bolt.

    ``max_retry_time_s`` bounds how long a transaction is retried while the server is away
    before ``StoreUnavailableError``; ``batch_size`` is the number of rows per ``UNWIND``.
    """

    def __init__(self, uri: str, *, user: str, password: SecretStr, database: str = "neo4j",
                 max_retry_time_s: float = 30.0, connection_timeout_s: float = 10.0,
                 batch_size: int = 1000) -> None:
        self.descriptor = uri
        self._uri = uri
        self._user = user
        self._password = password
        self._database = database
        self._max_retry_time_s = max_retry_time_s
        self._connection_timeout_s = connection_timeout_s
        self._batch = max(1, batch_size)
        self._driver: Driver | None = None

    def __repr__(self) -> str:  # never shows the password
        return f"Neo4jGraphStore({self._uri!r}, user={self._user!r}, database={self._database!r})"

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> None:
        if self._driver is not None:
            return
        secret = self._password.get_secret_value()
        try:
            driver = GraphDatabase.driver(
                self._uri, auth=(self._user, secret) if secret else None,
                max_transaction_retry_time=self._max_retry_time_s,
                connection_timeout=self._connection_timeout_s,
                connection_acquisition_timeout=self._connection_timeout_s * 2,
                # the statements are fixed and tested; "unknown label" notes on a fresh
                # database would only be noise in the log
                notifications_min_severity=neo4j.NotificationMinimumSeverity.OFF)
        except (ValueError, neo4j.exceptions.ConfigurationError) as exc:
            raise ConfigurationError(
                f"cannot use {self._uri!r} as a Neo4j address: {exc}; use bolt://HOST:PORT or "
                "neo4j://HOST:PORT (+s/+ssc for TLS)") from exc
        try:
            with self._translated("connecting"):
                driver.verify_connectivity()
                with driver.session(database=self._database) as session:
                    for statement in cypher.CONSTRAINTS + cypher.INDEXES:
                        session.run(statement).consume()
        except BaseException:
            driver.close()
            raise
        self._driver = driver

    def close(self) -> None:
        if self._driver is not None:
            self._driver.close()
            self._driver = None

    @contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        """Map driver exceptions to VeriKG's, saying where and what to do."""
        try:
            yield
        except VeriKGError:
            raise
        except IncompleteCommit as exc:
            raise StoreUnavailableError(
                f"Neo4j at {self._uri} went away while committing ({action}); the commit may "
                "or may not have happened. Writes are idempotent: retry once the server is "
                "back") from exc
        except (ServiceUnavailable, SessionExpired) as exc:
            raise StoreUnavailableError(
                f"Neo4j at {self._uri} is unavailable while {action}: {exc}. Nothing was "
                "committed. Start it (for development: deploy/neo4j/launch.sh start HOME PORT "
                "PASSWORD) or point VERIKG_STORE at a running server, then retry") from exc
        except AuthError as exc:
            raise StoreError(
                f"Neo4j at {self._uri} refused the credentials of user {self._user!r} while "
                f"{action}; check VERIKG_NEO4J_USER and VERIKG_NEO4J_PASSWORD") from exc
        except Neo4jError as exc:
            raise StoreError(f"Neo4j at {self._uri} refused {action}: {exc.code}: "
                             f"{exc.message}; nothing was committed") from exc
        except DriverError as exc:
            raise StoreError(f"the Neo4j driver failed while {action} against {self._uri}: "
                             f"{exc}; nothing was committed") from exc

    def _run(self, action: str, work: Callable[..., T], *args: Any, write: bool) -> T:
        """Run ``work(tx, *args)`` as one managed transaction (retried on transient errors)."""
        if self._driver is None:
            raise StoreError(f"the Neo4j store at {self._uri} is not open; call open() first "
                             "or use it as a context manager")
        with self._translated(action), self._driver.session(database=self._database) as s:
            if write:
                return s.execute_write(work, *args)
            return s.execute_read(work, *args)

    def _rows(self, tx: ManagedTransaction, query: str, rows: Sequence[dict[str, Any]]) -> None:
        for i in range(0, len(rows), self._batch):
            tx.run(query, rows=list(rows[i:i + self._batch])).consume()

    def _ids(self, tx: ManagedTransaction, query: str, ids: Sequence[str]) -> list[Any]:
        out: list[Any] = []
        for i in range(0, len(ids), self._batch):
            out.extend(tx.run(query, ids=list(ids[i:i + self._batch])))
        return out

    # ------------------------------------------------------------------ writes

    def upsert_documents(self, documents: Sequence[Document],
                         chunks: Sequence[Chunk]) -> WriteResult:
        return self._run("upserting documents", self._upsert_documents, documents, chunks,
                         write=True)

    def _upsert_documents(self, tx: ManagedTransaction, documents: Sequence[Document],
                          chunks: Sequence[Chunk]) -> WriteResult:
        doc_ids = sorted({d.id for d in documents} | {c.document_id for c in chunks})
        stored = {r["id"] for r in self._ids(tx, cypher.EXISTING_DOCUMENTS, doc_ids)}
        missing = rules.missing_documents(chunks, documents, stored)
        if missing:
            raise StoreError(f"chunks refer to documents the store does not hold: "
                             f"{', '.join(missing[:5])}; upsert those documents with them")
        stored_chunks = {r["id"] for r in self._ids(tx, cypher.EXISTING_CHUNKS,
                                                    sorted({c.id for c in chunks}))}
        new_docs = _first_new(documents, stored)
        new_chunks = _first_new(chunks, stored_chunks)
        self._rows(tx, cypher.MERGE_DOCUMENTS, [d.model_dump() for d in new_docs])
        self._rows(tx, cypher.MERGE_CHUNKS, [
            {"id": c.id, "document_id": c.document_id, "chunk_index": c.index, "text": c.text,
             "span_start": c.span.start, "span_end": c.span.end} for c in new_chunks])
        if new_docs or new_chunks:
            _bump(tx, [])
        return WriteResult(created=len(new_docs))

    def write_assertions(self, assertions: Sequence[Assertion], *,
                         actor: str = "pipeline") -> WriteResult:
        batch = rules.merge_batch(assertions)
        rules.check_graph_names(batch)
        return self._run("writing assertions", self._write_assertions, batch, actor,
                         write=True)

    def _write_assertions(self, tx: ManagedTransaction, batch: list[Assertion],
                          actor: str) -> WriteResult:
        plan = self._merge(tx, batch, may_certify=False)
        if plan.changed:
            _bump(tx, [rules.audit_for_write(plan, actor=actor, at=rules.now())])
        return plan.result()

    def _merge(self, tx: ManagedTransaction, batch: list[Assertion], *,
               may_certify: bool) -> rules.WritePlan:
        existing = {
            AssertionId(r["id"]): rules.ExistingAssertion(
                r["confidence"], AssertionStatus(r["status"]),
                frozenset((k[0], k[1], k[2]) for k in r["keys"]),
                rules.violations_from_json(r["violations"]))
            for r in self._ids(tx, cypher.EXISTING_ASSERTIONS, [a.id for a in batch])}
        types = {EntityId(r["id"]): r["type_iri"] for r in self._ids(
            tx, cypher.ENTITY_TYPES, rules.mentioned_entities(batch))}
        plan = rules.plan_write(batch, existing, types, may_certify=may_certify)

        by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for e in plan.new_entities:
            by_label[cypher.class_label(e.type_iri)].append(e.model_dump())
        for label, rows in by_label.items():
            self._rows(tx, cypher.create_entities(label), rows)
        moves: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for e in plan.retyped:
            key = (cypher.class_label(types[e.id]), cypher.class_label(e.type_iri))
            moves[key].append({"id": e.id, "type_iri": e.type_iri})
        for (old, new), rows in moves.items():
            self._rows(tx, cypher.retype_entities(old, new), rows)

        new_rows = [rules.assertion_row(a) for a in plan.new]
        self._rows(tx, cypher.CREATE_ASSERTIONS, new_rows)
        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for a, row in zip(plan.new, new_rows, strict=True):
            if row["object_id"] is not None:
                by_type[cypher.relationship_type(a.triple.predicate)].append(row)
        for rel, rows in by_type.items():
            self._rows(tx, cypher.link_entities(rel), rows)

        prov = [(a.id, p) for a in plan.new for p in a.provenance] + plan.provenance
        self._rows(tx, cypher.ADD_PROVENANCE, [
            {"assertion_id": aid, "chunk_id": p.chunk_id, "model": p.model,
             "prompt_version": p.prompt_version, "props": rules.provenance_row(p)}
            for aid, p in prov])
        self._rows(tx, cypher.SET_CONFIDENCE,
                   [{"id": i, "confidence": c} for i, c in plan.confidence.items()])
        self._rows(tx, cypher.SET_VIOLATIONS, [
            {"id": i, "violations": rules.violations_json(v) if v else None,
             "checks": list(flag_checks(v)) or None}
            for i, v in plan.violations.items()])
        return plan

    def write_quarantine(self, items: Sequence[QuarantinedCandidate]) -> WriteResult:
        return self._run("writing quarantine", self._write_quarantine, items, write=True)

    def _write_quarantine(self, tx: ManagedTransaction,
                          items: Sequence[QuarantinedCandidate]) -> WriteResult:
        stored = {r["id"] for r in self._ids(tx, cypher.EXISTING_QUARANTINE,
                                             sorted({q.id for q in items}))}
        new = _first_new(items, stored)
        self._rows(tx, cypher.MERGE_QUARANTINE, [
            {"id": q.id, "chunk_id": q.chunk_id, "document_id": q.document_id,
             "run_id": q.run_id, "reason": q.primary_reason.value,
             "payload": q.model_dump_json()} for q in new])
        if new:
            _bump(tx, [])
        return WriteResult(created=len(new))

    def apply_changes(self, changes: Sequence[Change], *, actor: str, role: Role,
                      request: ChangeRequest | None = None) -> int:
        rules.check_rights(changes, actor=actor, role=role)
        rules.check_change_names(changes)
        if not changes and request is None:
            return 0
        return self._run("applying changes", self._apply_changes, list(changes), actor, role,
                         request, write=True)

    def _apply_changes(self, tx: ManagedTransaction, changes: list[Change], actor: str,
                       role: str, request: ChangeRequest | None) -> int:
        if request is not None:
            _save_request(tx, request, RequestStatus.APPROVED)
        at = rules.now()
        rid = request.id if request is not None else ""
        entries: list[AuditEntry] = []
        for i, change in enumerate(changes):
            before, after = self._apply_one(tx, change, i, len(changes), actor, role)
            entries.append(rules.audit_for_change(change, actor=actor, at=at, role=role,
                                                  before=before, after=after, request_id=rid))
        if request is not None:
            entries.append(rules.request_applied(request, at=at, changes=len(changes)))
        _bump(tx, entries)
        return len(changes)

    def _apply_one(self, tx: ManagedTransaction, change: Change, i: int, n: int, actor: str,
                   role: str) -> tuple[str, str]:
        """Carry out one change; returns its (before, after) audit states."""
        if isinstance(change, AddAssertion):
            found = tx.run(cypher.ASSERTION_ROW, id=change.assertion.id).single()
            old = None if found is None else found["a"]
            # rights were checked for the whole batch, a certified add included
            self._merge(tx, rules.merge_batch([change.assertion]), may_certify=True)
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
            if _entity(tx, e.id) is not None:
                raise rules.conflict(change, i, n, f"an entity {e.id} already exists")
            self._rows(tx, cypher.create_entities(cypher.class_label(e.type_iri)),
                       [e.model_dump()])
            return "", rules.state(rules.entity_state(e))
        if isinstance(change, AddAnnotation | RemoveAnnotation):
            return _annotate(tx, change, i, n)
        entity = _entity(tx, change.entity_id)
        if entity is None:
            raise rules.missing(change, i, n)
        if isinstance(change, RenameEntity):
            tx.run(cypher.RENAME_ENTITY, id=change.entity_id, label=change.new_label).consume()
            return rules.state({"label": entity.label}), rules.state({"label": change.new_label})
        if isinstance(change, RetypeEntity):
            if entity.type_iri != change.type_iri:
                self._rows(tx, cypher.retype_entities(cypher.class_label(entity.type_iri),
                                                      cypher.class_label(change.type_iri)),
                           [{"id": entity.id, "type_iri": change.type_iri}])
            return (rules.state({"type": entity.type_iri}),
                    rules.state({"type": change.type_iri}))
        uses = int(tx.run(cypher.ENTITY_USES, id=entity.id).single(strict=True)["n"])
        if uses:
            raise rules.entity_in_use(change, i, n, uses)
        notes = [rules.annotation_from_row(r.data())
                 for r in tx.run(cypher.ANNOTATIONS_OF, id=entity.id)]
        tx.run(cypher.DELETE_ENTITY, id=entity.id).consume()
        return rules.state(rules.deleted_entity_state(entity, notes)), ""

    def record_audit(self, entries: Sequence[AuditEntry]) -> None:
        if entries:
            self._run("recording audit entries", _append, list(entries), write=True)

    def save_change_request(self, request: ChangeRequest, *, expect: RequestStatus | None,
                            audit: Sequence[AuditEntry] = ()) -> None:
        self._run("saving a change request", _save_request_audited, request, expect,
                  list(audit), write=True)

    def reset(self) -> None:
        while self._run("resetting the store", _reset_slice, self._batch * 10, write=True):
            pass
        self._run("resetting the store", _bump, [], write=True)

    # ------------------------------------------------------------------ reads

    def get_assertion(self, assertion_id: AssertionId) -> Assertion | None:
        found = self._read_assertions(cypher.ASSERTION, id=assertion_id)
        return found[0] if found else None

    def assertions(self, *, status: AssertionStatus | None = None) -> list[Assertion]:
        return self._read_assertions(cypher.ASSERTIONS,
                                     status=None if status is None else status.value)

    def neighbours(self, entity_id: EntityId) -> list[Assertion]:
        return self._read_assertions(cypher.NEIGHBOURS, id=entity_id)

    def flagged(self, check: str | None = None) -> list[Assertion]:
        return [a for a in self._read_assertions(cypher.FLAGGED, check=check)
                if rules.review_violations(a, check)]

    def _read_assertions(self, query: str, **params: Any) -> list[Assertion]:
        records = self._run("reading assertions", _fetch, query, params, write=False)
        out = [rules.assertion_from_rows(r["a"], r["s"], r["o"], r["provenance"])
               for r in records]
        return sorted(out, key=lambda a: a.id)

    def quarantined(self) -> list[QuarantinedCandidate]:
        records = self._run("reading quarantine", _fetch, cypher.QUARANTINED, {}, write=False)
        items = [QuarantinedCandidate.model_validate_json(r["payload"]) for r in records]
        return sorted(items, key=lambda q: q.id)

    def entities(self) -> list[EntityRef]:
        records = self._run("reading entities", _fetch, cypher.ENTITIES, {}, write=False)
        return sorted((rules.entity_from_row(r) for r in records), key=lambda e: e.id)

    def get_chunks(self, ids: Sequence[ChunkId]) -> dict[ChunkId, Chunk]:
        records = self._run("reading chunks", _fetch, cypher.CHUNKS,
                            {"ids": sorted(set(ids))}, write=False)
        found = {}
        for r in records:
            c = r["c"]
            found[ChunkId(c["id"])] = Chunk(
                id=c["id"], document_id=c["document_id"], index=c["chunk_index"],
                text=c["text"], span=Span(start=c["span_start"], end=c["span_end"]))
        return {k: found[k] for k in sorted(found)}

    def get_documents(self, ids: Sequence[DocumentId]) -> dict[DocumentId, Document]:
        records = self._run("reading documents", _fetch, cypher.DOCUMENTS,
                            {"ids": sorted(set(ids))}, write=False)
        found = {DocumentId(r["d"]["id"]): Document(**r["d"]) for r in records}
        return {k: found[k] for k in sorted(found)}

    def get_entities(self, ids: Sequence[EntityId]) -> dict[EntityId, EntityRef]:
        records = self._run("reading entities", _fetch, cypher.ENTITIES_BY_ID,
                            {"ids": sorted(set(ids))}, write=False)
        found = {EntityId(r["id"]): rules.entity_from_row(r) for r in records}
        return {k: found[k] for k in sorted(found)}

    def annotations(self, entity_id: EntityId | None = None) -> list[EntityAnnotation]:
        records = self._run("reading annotations", _fetch, cypher.ANNOTATIONS,
                            {"id": entity_id}, write=False)
        return sorted((rules.annotation_from_row(r) for r in records),
                      key=rules.annotation_order)

    def audit_log(self, *, actor: str | None = None, action: str | None = None,
                  target: str | None = None, since: datetime | None = None,
                  until: datetime | None = None,
                  request_id: str | None = None) -> list[AuditEntry]:
        params = {"actor": actor, "action": action, "target": target,
                  "since": rules.timestamp(since) if since is not None else None,
                  "until": rules.timestamp(until) if until is not None else None,
                  "request_id": request_id}
        records = self._run("reading the audit log", _fetch, cypher.AUDIT_LOG, params,
                            write=False)
        return [rules.audit_from_row(r["e"]) for r in records]

    def get_change_request(self, request_id: str) -> ChangeRequest | None:
        records = self._run("reading a change request", _fetch, cypher.CHANGE_REQUEST,
                            {"id": request_id}, write=False)
        return rules.request_from_row(records[0]["r"]) if records else None

    def change_requests(self, *, status: RequestStatus | None = None,
                        author: str | None = None) -> list[ChangeRequest]:
        records = self._run("reading change requests", _fetch, cypher.CHANGE_REQUESTS,
                            {"status": status.value if status is not None else None,
                             "author": author}, write=False)
        return sorted((rules.request_from_row(r["r"]) for r in records),
                      key=rules.request_order)

    def counts(self) -> StoreCounts:
        return self._run("counting", _counts, write=False)

    def version(self) -> int:
        records = self._run("reading the version", _fetch, cypher.VERSION,
                            {"meta": cypher.META_ID}, write=False)
        return int(records[0]["version"])


# ---------------------------------------------------------------------- transaction functions


def _fetch(tx: ManagedTransaction, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [record.data() for record in tx.run(query, params)]


def _bump(tx: ManagedTransaction, entries: list[AuditEntry]) -> None:
    """Count one more committed change and append its audit entries (same transaction)."""
    tx.run(cypher.BUMP_VERSION, meta=cypher.META_ID,
           entries=[rules.audit_row(e) for e in entries]).consume()


def _append(tx: ManagedTransaction, entries: list[AuditEntry]) -> None:
    """Append audit entries that record no graph change (the version stays)."""
    tx.run(cypher.APPEND_AUDIT, meta=cypher.META_ID,
           entries=[rules.audit_row(e) for e in entries]).consume()


def _entity(tx: ManagedTransaction, entity_id: str) -> EntityRef | None:
    record = tx.run(cypher.ENTITY, id=entity_id).single()
    return None if record is None else rules.entity_from_row(record["e"])


def _annotate(tx: ManagedTransaction, change: AddAnnotation | RemoveAnnotation, i: int,
              n: int) -> tuple[str, str]:
    a = change.annotation
    if _entity(tx, a.entity_id) is None:
        raise rules.missing(change, i, n)
    row = rules.annotation_row(a)
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


def _save_request(tx: ManagedTransaction, request: ChangeRequest,
                  expect: RequestStatus | None) -> None:
    record = tx.run(cypher.CHANGE_REQUEST, id=request.id).single()
    stored = None if record is None else rules.request_from_row(record["r"])
    rules.check_request_update(stored, request, expect)
    row = rules.request_row(request)
    if stored is None:
        tx.run(cypher.CREATE_CHANGE_REQUEST, row=row).consume()
    else:
        tx.run(cypher.UPDATE_CHANGE_REQUEST, id=request.id, row=row).consume()


def _save_request_audited(tx: ManagedTransaction, request: ChangeRequest,
                          expect: RequestStatus | None, entries: list[AuditEntry]) -> None:
    _save_request(tx, request, expect)
    if entries:
        _append(tx, entries)


def _reset_slice(tx: ManagedTransaction, limit: int) -> int:
    return int(tx.run(cypher.RESET_SLICE, limit=limit).single(strict=True)["n"])


def _counts(tx: ManagedTransaction) -> StoreCounts:
    def one(query: str) -> int:
        return int(tx.run(query).single(strict=True)["n"])
    by_status = {r["status"]: r["n"] for r in tx.run(cypher.COUNT_BY_STATUS)}
    return StoreCounts(
        documents=one(cypher.COUNT_DOCUMENTS), chunks=one(cypher.COUNT_CHUNKS),
        entities=one(cypher.COUNT_ENTITIES), assertions=sum(by_status.values()),
        draft=by_status.get("draft", 0), certified=by_status.get("certified", 0),
        quarantined=by_status.get("quarantined", 0), contested=by_status.get("contested", 0))


def _first_new(items: Sequence[Any], stored: set[str]) -> list[Any]:
    """Items whose id is not stored yet, first occurrence only (as SQLite's INSERT OR IGNORE)."""
    seen = set(stored)
    out = []
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            out.append(item)
    return out
