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
    ChangeRequestError,
    ConfigurationError,
    StoreError,
    StoreUnavailableError,
    VeriKGError,
)
from pipeline.models import (
    Assertion,
    AssertionId,
    AssertionStatus,
    AuditEntry,
    Chunk,
    ChunkId,
    Document,
    DocumentId,
    EntityId,
    EntityRef,
    QuarantinedCandidate,
    Role,
    Span,
    WriteResult,
)
from pipeline.store import cypher, rules
from pipeline.store.base import (
    AddAssertion,
    GraphStore,
    RemoveAssertion,
    RenameEntity,
    SetStatus,
    StoreCounts,
)

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
                    for statement in cypher.CONSTRAINTS:
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
                frozenset((k[0], k[1], k[2]) for k in r["keys"]))
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

    def apply_changes(self, changes: Sequence[AddAssertion | RemoveAssertion | RenameEntity
                                              | SetStatus],
                      *, actor: str, role: Role) -> int:
        rules.check_rights(changes, actor=actor, role=role)
        rules.check_graph_names(c.assertion for c in changes if isinstance(c, AddAssertion))
        if not changes:
            return 0
        return self._run("applying changes", self._apply_changes, list(changes), actor,
                         write=True)

    def _apply_changes(self, tx: ManagedTransaction, changes: list[rules.Change],
                       actor: str) -> int:
        at = rules.now()
        entries: list[AuditEntry] = []
        for i, change in enumerate(changes):
            if isinstance(change, AddAssertion):
                # rights were checked for the whole batch, a certified add included
                self._merge(tx, rules.merge_batch([change.assertion]), may_certify=True)
            else:
                if isinstance(change, RemoveAssertion):
                    result = tx.run(cypher.REMOVE_ASSERTION, id=change.assertion_id)
                elif isinstance(change, RenameEntity):
                    result = tx.run(cypher.RENAME_ENTITY, id=change.entity_id,
                                    label=change.new_label)
                else:
                    result = tx.run(cypher.SET_STATUS, id=change.assertion_id,
                                    status=change.status.value)
                if result.single(strict=True)["n"] == 0:
                    raise ChangeRequestError(
                        f"change {i + 1} of {len(changes)} ({rules.describe(change)}) names "
                        f"{rules.audit_target(change)}, which the store does not hold; "
                        "nothing was changed")
            entries.append(rules.audit_for_change(change, actor=actor, at=at))
        _bump(tx, entries)
        return len(changes)

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

    def audit_log(self) -> list[AuditEntry]:
        records = self._run("reading the audit log", _fetch, cypher.AUDIT_LOG, {}, write=False)
        return [rules.audit_from_row(r["e"]) for r in records]

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
