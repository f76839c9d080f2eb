"""``Neo4jGraphStore``: the production store, over Bolt with the official ``neo4j`` driver.

The constructor only records settings; ``open()`` builds the driver, checks the server is
there and creates the uniqueness constraints. Every public write is one managed transaction
(``session.execute_write``): it reads what it needs, lets ``rules`` decide what the write
means, and carries that out with batched ``UNWIND $rows ... MERGE`` statements from ``cypher``
(the transaction functions of the writes are in ``neo4j_writes``).
Driver errors never escape: unavailability becomes ``StoreUnavailableError`` (retryable), any
other failure ``StoreError``, both raised ``from`` the driver's exception.
"""

from __future__ import annotations

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
    Assertion,
    AssertionId,
    AssertionStatus,
    AuditEntry,
    Change,
    ChangeRequest,
    Chunk,
    ChunkId,
    Document,
    DocumentId,
    EntityAnnotation,
    EntityId,
    EntityRef,
    ExtractionScope,
    QuarantinedCandidate,
    RequestStatus,
    Role,
    Span,
    StoreCounts,
    WriteResult,
)
from pipeline.store import change_requests, cypher, forms, rules
from pipeline.store import neo4j_writes as writes
from pipeline.store.base import GraphStore, RecordedOntology, ontology_audit

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

    # ------------------------------------------------------------------ writes

    def upsert_documents(self, documents: Sequence[Document],
                         chunks: Sequence[Chunk]) -> WriteResult:
        return self._run("upserting documents", writes.upsert_documents, documents, chunks,
                         self._batch, write=True)

    def write_assertions(self, assertions: Sequence[Assertion], *,
                         actor: str = "pipeline") -> WriteResult:
        batch = rules.merge_batch(assertions)
        rules.check_graph_names(batch)
        return self._run("writing assertions", writes.write_assertions, batch, actor,
                         self._batch, write=True)

    def write_quarantine(self, items: Sequence[QuarantinedCandidate], *,
                         covered: Sequence[ExtractionScope] = ()) -> WriteResult:
        return self._run("writing quarantine", writes.write_quarantine, items, covered,
                         self._batch, write=True)

    def apply_changes(self, changes: Sequence[Change], *, actor: str, role: Role,
                      request: ChangeRequest | None = None) -> int:
        rules.check_rights(changes, actor=actor, role=role)
        rules.check_change_names(changes)
        if not changes and request is None:
            return 0
        return self._run("applying changes", writes.apply_changes, list(changes), actor, role,
                         request, self._batch, write=True)

    def record_audit(self, entries: Sequence[AuditEntry]) -> None:
        if entries:
            self._run("recording audit entries", writes.append, list(entries), write=True)

    def save_change_request(self, request: ChangeRequest, *, expect: RequestStatus | None,
                            audit: Sequence[AuditEntry] = ()) -> None:
        self._run("saving a change request", writes.save_request_audited, request, expect,
                  list(audit), write=True)

    def reset(self) -> None:
        while self._run("resetting the store", _reset_slice, self._batch * 10, write=True):
            pass
        self._run("resetting the store", writes.bump, [], write=True)

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
        out = [forms.assertion_from_rows(r["a"], r["s"], r["o"], r["provenance"])
               for r in records]
        return sorted(out, key=lambda a: a.id)

    def quarantined(self) -> list[QuarantinedCandidate]:
        records = self._run("reading quarantine", _fetch, cypher.QUARANTINED, {}, write=False)
        items = [QuarantinedCandidate.model_validate_json(r["payload"]) for r in records]
        return sorted(items, key=lambda q: q.id)

    def entities(self) -> list[EntityRef]:
        records = self._run("reading entities", _fetch, cypher.ENTITIES, {}, write=False)
        return sorted((forms.entity_from_row(r) for r in records), key=lambda e: e.id)

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
        found = {EntityId(r["id"]): forms.entity_from_row(r) for r in records}
        return {k: found[k] for k in sorted(found)}

    def annotations(self, entity_id: EntityId | None = None) -> list[EntityAnnotation]:
        records = self._run("reading annotations", _fetch, cypher.ANNOTATIONS,
                            {"id": entity_id}, write=False)
        return sorted((forms.annotation_from_row(r) for r in records),
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
        return [forms.audit_from_row(r["e"]) for r in records]

    def get_change_request(self, request_id: str) -> ChangeRequest | None:
        records = self._run("reading a change request", _fetch, cypher.CHANGE_REQUEST,
                            {"id": request_id}, write=False)
        return change_requests.request_from_row(records[0]["r"]) if records else None

    def change_requests(self, *, status: RequestStatus | None = None,
                        author: str | None = None) -> list[ChangeRequest]:
        records = self._run("reading change requests", _fetch, cypher.CHANGE_REQUESTS,
                            {"status": status.value if status is not None else None,
                             "author": author}, write=False)
        return sorted((change_requests.request_from_row(r["r"]) for r in records),
                      key=change_requests.request_order)

    def counts(self) -> StoreCounts:
        return self._run("counting", _counts, write=False)

    def record_ontology(self, ontology: RecordedOntology, *, actor: str) -> bool:
        return bool(self._run("recording the ontology", _record_ontology, ontology, actor,
                              write=True))

    def ontology_source(self) -> RecordedOntology | None:
        records = self._run("reading the ontology", _fetch, cypher.ONTOLOGY,
                            {"meta": cypher.META_ID}, write=False)
        return RecordedOntology(**records[0]["o"]) if records else None

    def version(self) -> int:
        records = self._run("reading the version", _fetch, cypher.VERSION,
                            {"meta": cypher.META_ID}, write=False)
        return int(records[0]["version"])


# ---------------------------------------------------------------------- transaction functions


def _fetch(tx: ManagedTransaction, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [record.data() for record in tx.run(query, params)]


def _record_ontology(tx: ManagedTransaction, ontology: RecordedOntology, actor: str) -> bool:
    record = tx.run(cypher.ONTOLOGY, meta=cypher.META_ID).single()
    old = RecordedOntology(**record["o"]) if record is not None else None
    if old == ontology:
        return False
    tx.run(cypher.SET_ONTOLOGY, meta=cypher.META_ID, path=ontology.path,
           sha256=ontology.sha256, source=ontology.source).consume()
    writes.append(tx, [ontology_audit(old, ontology, actor=actor, at=rules.now())])
    return True


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
