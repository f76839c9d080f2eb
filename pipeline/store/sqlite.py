"""``SQLiteGraphStore``: the embedded default store, one SQLite file, no server.

stdlib ``sqlite3`` in WAL mode with foreign keys on; every public write runs in one
``BEGIN IMMEDIATE`` transaction, so it commits whole or not at all. What a write means (new,
changed, allowed, audited) is decided in ``rules`` exactly as for Neo4j.

The audit log is append-only in the file itself: triggers abort any UPDATE or DELETE of an
``audit`` row, whoever issues it (this class never does; ``reset`` drops the triggers, wipes
the store and puts them back in one transaction, as deleting the file would). Change
requests keep their author, text and filing time the same way.

The file's schema, migrations and triggers are in ``sqlite_schema``; what each write
transaction does (merging assertions, applying changes, saving requests) in ``sqlite_writes``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.errors import StoreError, StoreUnavailableError, VeriKGError
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
from pipeline.store import change_requests, forms, rules
from pipeline.store import sqlite_schema as schema
from pipeline.store import sqlite_writes as writes
from pipeline.store.base import GraphStore, RecordedOntology, ontology_audit


class SQLiteGraphStore(GraphStore):
    """The embedded graph store. ``path`` may be ``:memory:`` for throwaway use."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = str(path)
        #: False: ``open`` refuses a path that holds no VeriKG store instead of creating one
        self.create = create
        self.descriptor = f"sqlite:{self.path}"
        self._conn: sqlite3.Connection | None = None
        # one connection shared by threads (Prefect runs tasks in threads); writes serialise
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> None:
        with self._lock:
            if self._conn is not None:
                return
            if not self.create:
                schema.require_store(self.path)  # never a new, empty store at a typo
            try:
                conn = schema.connect(self.path)
            except (OSError, sqlite3.Error) as exc:
                raise StoreUnavailableError(
                    f"cannot open the SQLite store at {self.path}: {exc}; check that the "
                    "directory is writable and the file is a VeriKG store") from exc
            self._conn = conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def _tx(self, action: str) -> Iterator[sqlite3.Connection]:
        """One write transaction; any failure rolls everything back."""
        with self._lock:
            conn = self._require()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _translate(exc, self.path, action) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _translate(exc, self.path, action) from exc
                raise

    @contextmanager
    def _read(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._require()
            try:
                yield conn
            except sqlite3.Error as exc:
                raise _translate(exc, self.path, action) from exc

    def _require(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"the SQLite store at {self.path} is not open; call open() first "
                             "or use it as a context manager")
        return self._conn

    # ------------------------------------------------------------------ writes

    def upsert_documents(self, documents: Sequence[Document],
                         chunks: Sequence[Chunk]) -> WriteResult:
        with self._tx("upserting documents") as conn:
            wanted = sorted({c.document_id for c in chunks})
            found = writes.existing_ids(conn, "documents", wanted)
            missing = rules.missing_documents(chunks, documents, found)
            if missing:
                raise StoreError(f"chunks refer to documents the store does not hold: "
                                 f"{', '.join(missing[:5])}; upsert those documents with them")
            created = 0
            for d in documents:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO documents (id, source, title, text, sha256, "
                    "media_type) VALUES (?, ?, ?, ?, ?, ?)",
                    (d.id, d.source, d.title, d.text, d.sha256, d.media_type))
                created += cur.rowcount
            new_chunks = 0
            for c in chunks:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO chunks (id, document_id, chunk_index, text, "
                    "span_start, span_end) VALUES (?, ?, ?, ?, ?, ?)",
                    (c.id, c.document_id, c.index, c.text, c.span.start, c.span.end))
                new_chunks += cur.rowcount
            if created or new_chunks:
                writes.bump(conn, [])
        return WriteResult(created=created)

    def write_assertions(self, assertions: Sequence[Assertion], *,
                         actor: str = "pipeline") -> WriteResult:
        batch = rules.merge_batch(assertions)
        rules.check_graph_names(batch)
        with self._tx("writing assertions") as conn:
            plan = writes.merge(conn, batch, may_certify=False)
            if plan.changed:
                writes.bump(conn, [rules.audit_for_write(plan, actor=actor, at=rules.now())])
        return plan.result()

    def write_quarantine(self, items: Sequence[QuarantinedCandidate], *,
                         covered: Sequence[ExtractionScope] = ()) -> WriteResult:
        with self._tx("writing quarantine") as conn:
            plan = writes.write_quarantine(conn, items, covered)
            if plan.rows:
                writes.bump(conn, [])
        return plan.result()

    def apply_changes(self, changes: Sequence[Change], *, actor: str, role: Role,
                      request: ChangeRequest | None = None) -> int:
        rules.check_rights(changes, actor=actor, role=role)
        rules.check_change_names(changes)
        if not changes and request is None:
            return 0
        with self._tx("applying changes") as conn:
            writes.apply_changes(conn, changes, actor=actor, role=role, request=request)
        return len(changes)

    def record_audit(self, entries: Sequence[AuditEntry]) -> None:
        if not entries:
            return
        with self._tx("recording audit entries") as conn:
            writes.append(conn, entries)

    def save_change_request(self, request: ChangeRequest, *, expect: RequestStatus | None,
                            audit: Sequence[AuditEntry] = ()) -> None:
        with self._tx("saving a change request") as conn:
            writes.save_request(conn, request, expect)
            writes.append(conn, audit)

    def reset(self) -> None:
        with self._tx("resetting the store") as conn:
            # wiping the whole store is the one way entries go, as deleting the file would;
            # the triggers are back before the transaction commits
            for trigger in schema.TRIGGERS:
                conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            for table in ("provenance", "entity_annotations", "assertions", "entities",
                          "chunks", "documents", "quarantine", "audit", "change_requests",
                          "ontology"):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            schema.create_triggers(conn)
            # the version keeps growing, so an index built before the reset reads as stale
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'version'")

    def record_ontology(self, ontology: RecordedOntology, *, actor: str) -> bool:
        with self._tx("recording the ontology") as conn:
            old = _ontology(conn)
            if old == ontology:
                return False
            conn.execute("INSERT OR REPLACE INTO ontology (id, path, sha256, source) VALUES "
                         "(1, ?, ?, ?)", (ontology.path, ontology.sha256, ontology.source))
            writes.append(conn, [ontology_audit(old, ontology, actor=actor, at=rules.now())])
        return True

    def ontology_source(self) -> RecordedOntology | None:
        with self._read("reading the ontology") as conn:
            return _ontology(conn)

    # ------------------------------------------------------------------ reads

    def get_assertion(self, assertion_id: AssertionId) -> Assertion | None:
        found = self._assertions("WHERE a.id = ?", (assertion_id,))
        return found[0] if found else None

    def assertions(self, *, status: AssertionStatus | None = None) -> list[Assertion]:
        if status is None:
            return self._assertions("", ())
        return self._assertions("WHERE a.status = ?", (status.value,))

    def neighbours(self, entity_id: EntityId) -> list[Assertion]:
        return self._assertions("WHERE a.subject_id = ? OR a.object_id = ?",
                                (entity_id, entity_id))

    def flagged(self, check: str | None = None) -> list[Assertion]:
        # ``violations <> '[]'`` is the condition of the partial index assertions_flagged
        where = f"WHERE a.violations <> '{rules.NO_VIOLATIONS}'"
        params: tuple[str, ...] = ()
        if check is not None:
            where += (" AND EXISTS (SELECT 1 FROM json_each(a.violations) v "
                      "WHERE json_extract(v.value, '$.check') = ?)")
            params = (check,)
        return [a for a in self._assertions(where, params) if rules.review_violations(a, check)]

    def _assertions(self, where: str, params: tuple[Any, ...]) -> list[Assertion]:
        with self._read("reading assertions") as conn:
            rows = conn.execute(
                "SELECT a.*, s.label AS s_label, s.type_iri AS s_type, o.label AS o_label, "
                "o.type_iri AS o_type FROM assertions a JOIN entities s ON s.id = a.subject_id "
                f"LEFT JOIN entities o ON o.id = a.object_id {where}", params).fetchall()
            prov: dict[str, list[dict[str, Any]]] = {}
            ids = [r["id"] for r in rows]
            for part in schema.parts(ids):
                for p in conn.execute("SELECT * FROM provenance WHERE assertion_id IN "
                                      f"({schema.marks(part)})", part):
                    prov.setdefault(p["assertion_id"], []).append(dict(p))
        out = []
        for r in rows:
            subject = {"id": r["subject_id"], "label": r["s_label"], "type_iri": r["s_type"]}
            obj = None if r["object_id"] is None else {
                "id": r["object_id"], "label": r["o_label"], "type_iri": r["o_type"]}
            out.append(forms.assertion_from_rows(dict(r), subject, obj, prov.get(r["id"], [])))
        return sorted(out, key=lambda a: a.id)

    def quarantined(self) -> list[QuarantinedCandidate]:
        with self._read("reading quarantine") as conn:
            rows = conn.execute("SELECT payload FROM quarantine").fetchall()
        items = [QuarantinedCandidate.model_validate_json(r[0]) for r in rows]
        return sorted(items, key=lambda q: q.id)

    def entities(self) -> list[EntityRef]:
        with self._read("reading entities") as conn:
            rows = conn.execute("SELECT id, label, type_iri FROM entities").fetchall()
        return sorted((forms.entity_from_row(r) for r in rows), key=lambda e: e.id)

    def get_chunks(self, ids: Sequence[ChunkId]) -> dict[ChunkId, Chunk]:
        found: dict[ChunkId, Chunk] = {}
        with self._read("reading chunks") as conn:
            for part in schema.parts(sorted(set(ids))):
                for r in conn.execute("SELECT * FROM chunks WHERE id IN "
                                      f"({schema.marks(part)})", part):
                    found[ChunkId(r["id"])] = Chunk(
                        id=r["id"], document_id=r["document_id"], index=r["chunk_index"],
                        text=r["text"], span=Span(start=r["span_start"], end=r["span_end"]))
        return {k: found[k] for k in sorted(found)}

    def get_documents(self, ids: Sequence[DocumentId]) -> dict[DocumentId, Document]:
        found: dict[DocumentId, Document] = {}
        with self._read("reading documents") as conn:
            for part in schema.parts(sorted(set(ids))):
                for r in conn.execute("SELECT * FROM documents WHERE id IN "
                                      f"({schema.marks(part)})", part):
                    found[DocumentId(r["id"])] = Document(**dict(r))
        return {k: found[k] for k in sorted(found)}

    def get_entities(self, ids: Sequence[EntityId]) -> dict[EntityId, EntityRef]:
        found: dict[EntityId, EntityRef] = {}
        with self._read("reading entities") as conn:
            for part in schema.parts(sorted(set(ids))):
                for r in conn.execute("SELECT id, label, type_iri FROM entities WHERE id IN "
                                      f"({schema.marks(part)})", part):
                    found[EntityId(r["id"])] = forms.entity_from_row(r)
        return {k: found[k] for k in sorted(found)}

    def annotations(self, entity_id: EntityId | None = None) -> list[EntityAnnotation]:
        with self._read("reading annotations") as conn:
            if entity_id is None:
                rows = conn.execute("SELECT * FROM entity_annotations").fetchall()
            else:
                rows = conn.execute("SELECT * FROM entity_annotations WHERE entity_id = ?",
                                    (entity_id,)).fetchall()
        return sorted((forms.annotation_from_row(dict(r)) for r in rows),
                      key=rules.annotation_order)

    def audit_log(self, *, actor: str | None = None, action: str | None = None,
                  target: str | None = None, since: datetime | None = None,
                  until: datetime | None = None,
                  request_id: str | None = None) -> list[AuditEntry]:
        where: list[str] = []
        params: list[str] = []
        for column, value in (("actor", actor), ("action", action), ("target", target),
                              ("request_id", request_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            where.append("at >= ?")
            params.append(rules.timestamp(since))
        if until is not None:
            where.append("at <= ?")
            params.append(rules.timestamp(until))
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        with self._read("reading the audit log") as conn:
            rows = conn.execute(f"SELECT * FROM audit {clause}ORDER BY seq", params).fetchall()
        return [forms.audit_from_row(dict(r)) for r in rows]

    def get_change_request(self, request_id: str) -> ChangeRequest | None:
        with self._read("reading a change request") as conn:
            row = conn.execute("SELECT * FROM change_requests WHERE id = ?",
                               (request_id,)).fetchone()
        return None if row is None else change_requests.request_from_row(dict(row))

    def change_requests(self, *, status: RequestStatus | None = None,
                        author: str | None = None) -> list[ChangeRequest]:
        where: list[str] = []
        params: list[str] = []
        if status is not None:
            where.append("status = ?")
            params.append(status.value)
        if author is not None:
            where.append("author = ?")
            params.append(author)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._read("reading change requests") as conn:
            rows = conn.execute(f"SELECT * FROM change_requests{clause}", params).fetchall()
        return sorted((change_requests.request_from_row(dict(r)) for r in rows),
                      key=change_requests.request_order)

    def counts(self) -> StoreCounts:
        with self._read("counting") as conn:
            def one(sql: str) -> int:
                return int(conn.execute(sql).fetchone()[0])
            by_status = dict(conn.execute(
                "SELECT status, count(*) FROM assertions GROUP BY status").fetchall())
            return StoreCounts(
                documents=one("SELECT count(*) FROM documents"),
                chunks=one("SELECT count(*) FROM chunks"),
                entities=one("SELECT count(*) FROM entities"),
                assertions=sum(by_status.values()),
                draft=by_status.get("draft", 0), certified=by_status.get("certified", 0),
                quarantined=by_status.get("quarantined", 0),
                contested=by_status.get("contested", 0))

    def version(self) -> int:
        with self._read("reading the version") as conn:
            return int(conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0])


# ---------------------------------------------------------------------- helpers


def _ontology(conn: sqlite3.Connection) -> RecordedOntology | None:
    row = conn.execute("SELECT path, sha256, source FROM ontology WHERE id = 1").fetchone()
    return None if row is None else RecordedOntology(path=row["path"], sha256=row["sha256"],
                                                     source=row["source"])


def _translate(exc: sqlite3.Error, path: str, action: str) -> VeriKGError:
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return StoreUnavailableError(
            f"the SQLite store at {path} is locked by another writer while {action}; nothing "
            "was committed: retry when the other process has finished")
    return StoreError(f"the SQLite store at {path} refused {action}: {text}; nothing was "
                      "committed")
