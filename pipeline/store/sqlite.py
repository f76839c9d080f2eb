"""``SQLiteGraphStore``: the embedded default store, one SQLite file, no server.

stdlib ``sqlite3`` in WAL mode with foreign keys on; every public write runs in one
``BEGIN IMMEDIATE`` transaction, so it commits whole or not at all. What a write means (new,
changed, allowed, audited) is decided in ``rules`` exactly as for Neo4j.

The audit log is append-only in the file itself: triggers abort any UPDATE or DELETE of an
``audit`` row, whoever issues it (this class never does; ``reset`` drops the triggers, wipes
the store and puts them back in one transaction, as deleting the file would). Change
requests keep their author, text and filing time the same way.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.errors import StoreError, StoreUnavailableError, VeriKGError
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
)
from pipeline.store import rules
from pipeline.store.base import GraphStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL,
    sha256 TEXT NOT NULL, media_type TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, document_id TEXT NOT NULL REFERENCES documents(id),
    chunk_index INTEGER NOT NULL, text TEXT NOT NULL,
    span_start INTEGER NOT NULL, span_end INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_document ON chunks(document_id);
CREATE TABLE IF NOT EXISTS entities (
    id TEXT PRIMARY KEY, label TEXT NOT NULL, type_iri TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS assertions (
    id TEXT PRIMARY KEY, subject_id TEXT NOT NULL REFERENCES entities(id),
    predicate TEXT NOT NULL, object_id TEXT REFERENCES entities(id),
    literal_value TEXT, literal_datatype TEXT,
    confidence REAL NOT NULL, status TEXT NOT NULL, violations TEXT NOT NULL DEFAULT '[]',
    CHECK ((object_id IS NULL) <> (literal_datatype IS NULL)));
CREATE INDEX IF NOT EXISTS assertions_subject ON assertions(subject_id);
CREATE INDEX IF NOT EXISTS assertions_object ON assertions(object_id);
CREATE INDEX IF NOT EXISTS assertions_status ON assertions(status);
-- provenance points at chunks by id only: the pipeline may store assertions before (or
-- without) their chunks, and Neo4j behaves the same way.
CREATE TABLE IF NOT EXISTS provenance (
    assertion_id TEXT NOT NULL REFERENCES assertions(id) ON DELETE CASCADE,
    chunk_id TEXT NOT NULL, model TEXT NOT NULL, prompt_version TEXT NOT NULL,
    document_id TEXT NOT NULL, span_start INTEGER NOT NULL, span_end INTEGER NOT NULL,
    quote TEXT NOT NULL, run_id TEXT NOT NULL, attempts INTEGER NOT NULL,
    samples_agreeing INTEGER NOT NULL, samples_total INTEGER NOT NULL,
    subject_mention TEXT NOT NULL DEFAULT '', object_mention TEXT NOT NULL DEFAULT '',
    seen_at TEXT, repairs TEXT NOT NULL DEFAULT '[]',
    subject_text TEXT NOT NULL DEFAULT '', object_text TEXT NOT NULL DEFAULT '',
    subject_grounding TEXT NOT NULL DEFAULT '', object_grounding TEXT NOT NULL DEFAULT '',
    corroboration REAL NOT NULL DEFAULT 1.0,
    PRIMARY KEY (assertion_id, chunk_id, model, prompt_version)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quarantine (
    id TEXT PRIMARY KEY, chunk_id TEXT NOT NULL, document_id TEXT NOT NULL,
    run_id TEXT NOT NULL, reason TEXT NOT NULL, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entity_annotations (
    entity_id TEXT NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    property TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (entity_id, property, value)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS change_requests (
    id TEXT PRIMARY KEY, author TEXT NOT NULL, author_role TEXT NOT NULL, kgcl TEXT NOT NULL,
    status TEXT NOT NULL, created_at TEXT NOT NULL, reviewer TEXT NOT NULL DEFAULT '',
    reviewer_role TEXT NOT NULL DEFAULT '', reviewed_at TEXT, reason TEXT NOT NULL DEFAULT '',
    applied_by TEXT NOT NULL DEFAULT '', applied_by_role TEXT NOT NULL DEFAULT '',
    applied_at TEXT);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', 1), ('version', 0);
"""

# after ``_migrate`` (they name columns an older store gains there)
_INDEXES = """
CREATE INDEX IF NOT EXISTS audit_actor ON audit(actor, seq);
CREATE INDEX IF NOT EXISTS audit_action ON audit(action, seq);
CREATE INDEX IF NOT EXISTS audit_target ON audit(target, seq);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
CREATE INDEX IF NOT EXISTS audit_request ON audit(request_id, seq);
CREATE INDEX IF NOT EXISTS change_requests_status ON change_requests(status, created_at);
CREATE INDEX IF NOT EXISTS assertions_flagged ON assertions(id) WHERE violations <> '[]';
"""

#: what makes the audit log append-only and a filed request's text final, in the file itself
_TRIGGERS: dict[str, str] = {
    "audit_append_only_update": "BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit "
                                "log is append-only: entries cannot be changed'); END",
    "audit_append_only_delete": "BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit "
                                "log is append-only: entries cannot be deleted'); END",
    "change_requests_filed_text": "BEFORE UPDATE OF id, author, author_role, kgcl, created_at "
                                  "ON change_requests BEGIN SELECT RAISE(ABORT, 'a change "
                                  "request keeps its author and text once filed'); END",
    "change_requests_kept": "BEFORE DELETE ON change_requests BEGIN SELECT RAISE(ABORT, "
                            "'change requests are kept: they cannot be deleted'); END",
}
_AUDIT_COLUMNS = ("at", "actor", "action", "target", "detail", "role", "before_state",
                  "after_state", "request_id")
_REQUEST_COLUMNS = ("id", "author", "author_role", "kgcl", "status", "created_at", "reviewer",
                    "reviewer_role", "reviewed_at", "reason", "applied_by", "applied_by_role",
                    "applied_at")

_PROVENANCE_COLUMNS = ("assertion_id", "chunk_id", "model", "prompt_version", "document_id",
                       "span_start", "span_end", "quote", "run_id", "attempts",
                       "samples_agreeing", "samples_total", "subject_mention",
                       "object_mention", "seen_at", "repairs", "subject_text", "object_text",
                       "subject_grounding", "object_grounding", "corroboration")
#: SQLite's default limit on bound parameters is 999 in old builds; stay well under it
_IN_BATCH = 500


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a store written by an earlier VeriKG up to the current schema, in place."""
    have = {r[1] for r in conn.execute("PRAGMA table_info(provenance)")}
    for column, decl in (("subject_mention", "TEXT NOT NULL DEFAULT ''"),
                         ("object_mention", "TEXT NOT NULL DEFAULT ''"), ("seen_at", "TEXT"),
                         ("repairs", "TEXT NOT NULL DEFAULT '[]'"),
                         # the supporting spans and how they were grounded: none on what was
                         # written before they were kept
                         ("subject_text", "TEXT NOT NULL DEFAULT ''"),
                         ("object_text", "TEXT NOT NULL DEFAULT ''"),
                         ("subject_grounding", "TEXT NOT NULL DEFAULT ''"),
                         ("object_grounding", "TEXT NOT NULL DEFAULT ''"),
                         # how far other samples corroborate the agreeing ones: full (the
                         # default) on what was written before it was kept
                         ("corroboration", "REAL NOT NULL DEFAULT 1.0")):
        if column not in have:
            conn.execute(f"ALTER TABLE provenance ADD COLUMN {column} {decl}")
    have = {r[1] for r in conn.execute("PRAGMA table_info(assertions)")}
    if "violations" not in have:  # soft violations: none on what was written before them
        conn.execute("ALTER TABLE assertions ADD COLUMN violations TEXT NOT NULL DEFAULT '[]'")
    have = {r[1] for r in conn.execute("PRAGMA table_info(audit)")}
    for column in ("role", "before_state", "after_state", "request_id"):
        if column not in have:
            conn.execute(f"ALTER TABLE audit ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")


class SQLiteGraphStore(GraphStore):
    """The embedded graph store. ``path`` may be ``:memory:`` for throwaway use."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.descriptor = f"sqlite:{self.path}"
        self._conn: sqlite3.Connection | None = None
        # one connection shared by threads (Prefect runs tasks in threads); writes serialise
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> None:
        with self._lock:
            if self._conn is not None:
                return
            try:
                if self.path != ":memory:":
                    Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("PRAGMA busy_timeout=10000")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(_SCHEMA)
                _migrate(conn)
                conn.executescript(_INDEXES)
                _create_triggers(conn)
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
            found = _ids(conn, "documents", wanted)
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
                _bump(conn, [])
        return WriteResult(created=created)

    def write_assertions(self, assertions: Sequence[Assertion], *,
                         actor: str = "pipeline") -> WriteResult:
        batch = rules.merge_batch(assertions)
        rules.check_graph_names(batch)
        with self._tx("writing assertions") as conn:
            plan = self._merge(conn, batch, may_certify=False)
            if plan.changed:
                _bump(conn, [rules.audit_for_write(plan, actor=actor, at=rules.now())])
        return plan.result()

    def write_quarantine(self, items: Sequence[QuarantinedCandidate]) -> WriteResult:
        with self._tx("writing quarantine") as conn:
            created = 0
            for q in items:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO quarantine (id, chunk_id, document_id, run_id, reason,"
                    " payload) VALUES (?, ?, ?, ?, ?, ?)",
                    (q.id, q.chunk_id, q.document_id, q.run_id, q.primary_reason.value,
                     q.model_dump_json()))
                created += cur.rowcount
            if created:
                _bump(conn, [])
        return WriteResult(created=created)

    def apply_changes(self, changes: Sequence[Change], *, actor: str, role: Role,
                      request: ChangeRequest | None = None) -> int:
        rules.check_rights(changes, actor=actor, role=role)
        rules.check_change_names(changes)
        if not changes and request is None:
            return 0
        with self._tx("applying changes") as conn:
            if request is not None:
                self._save_request(conn, request, RequestStatus.APPROVED)
            entries: list[AuditEntry] = []
            at = rules.now()
            rid = request.id if request is not None else ""
            for i, change in enumerate(changes):
                before, after = self._apply_one(conn, change, i, len(changes), actor, role)
                entries.append(rules.audit_for_change(change, actor=actor, at=at, role=role,
                                                      before=before, after=after,
                                                      request_id=rid))
            if request is not None:
                entries.append(rules.request_applied(request, at=at, changes=len(changes)))
            _bump(conn, entries)
        return len(changes)

    def _apply_one(self, conn: sqlite3.Connection, change: Change, i: int, n: int,
                   actor: str, role: str) -> tuple[str, str]:
        """Carry out one change; returns its (before, after) audit states."""
        if isinstance(change, AddAssertion):
            r = conn.execute("SELECT * FROM assertions WHERE id = ?",
                             (change.assertion.id,)).fetchone()
            old = None if r is None else dict(r)
            # rights were checked for the whole batch, a certified add included
            self._merge(conn, rules.merge_batch([change.assertion]), may_certify=True)
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
            if _entity(conn, e.id) is not None:
                raise rules.conflict(change, i, n, f"an entity {e.id} already exists")
            conn.execute("INSERT INTO entities (id, label, type_iri) VALUES (?, ?, ?)",
                         (e.id, e.label, e.type_iri))
            return "", rules.state(rules.entity_state(e))
        if isinstance(change, AddAnnotation | RemoveAnnotation):
            return self._annotate(conn, change, i, n)
        entity = _entity(conn, change.entity_id)
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
        notes = [rules.annotation_from_row(r) for r in conn.execute(
            "SELECT * FROM entity_annotations WHERE entity_id = ?", (entity.id,))]
        conn.execute("DELETE FROM entities WHERE id = ?", (entity.id,))  # annotations cascade
        return rules.state(rules.deleted_entity_state(entity, notes)), ""

    def _annotate(self, conn: sqlite3.Connection, change: AddAnnotation | RemoveAnnotation,
                  i: int, n: int) -> tuple[str, str]:
        a = change.annotation
        if _entity(conn, a.entity_id) is None:
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

    def record_audit(self, entries: Sequence[AuditEntry]) -> None:
        if not entries:
            return
        with self._tx("recording audit entries") as conn:
            _append(conn, entries)

    def save_change_request(self, request: ChangeRequest, *, expect: RequestStatus | None,
                            audit: Sequence[AuditEntry] = ()) -> None:
        with self._tx("saving a change request") as conn:
            self._save_request(conn, request, expect)
            _append(conn, audit)

    def _save_request(self, conn: sqlite3.Connection, request: ChangeRequest,
                      expect: RequestStatus | None) -> None:
        row = conn.execute("SELECT * FROM change_requests WHERE id = ?",
                           (request.id,)).fetchone()
        stored = None if row is None else rules.request_from_row(dict(row))
        rules.check_request_update(stored, request, expect)
        values = rules.request_row(request)
        if stored is None:
            conn.execute(f"INSERT INTO change_requests ({', '.join(_REQUEST_COLUMNS)}) VALUES "
                         f"({', '.join(':' + c for c in _REQUEST_COLUMNS)})", values)
            return
        mutable = [c for c in _REQUEST_COLUMNS
                   if c not in ("id", "author", "author_role", "kgcl", "created_at")]
        conn.execute(f"UPDATE change_requests SET {', '.join(f'{c} = :{c}' for c in mutable)} "
                     "WHERE id = :id", values)

    def _merge(self, conn: sqlite3.Connection, batch: list[Assertion], *,
               may_certify: bool) -> rules.WritePlan:
        ids = [a.id for a in batch]
        existing: dict[AssertionId, rules.ExistingAssertion] = {}
        keys: dict[str, set[rules.ProvenanceKey]] = {}
        for part in _parts(ids):
            marks = _marks(part)
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
        for part in _parts(eids):
            for r in conn.execute("SELECT id, type_iri FROM entities WHERE id IN "
                                  f"({_marks(part)})", part):
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
            f"INSERT INTO provenance ({', '.join(_PROVENANCE_COLUMNS)}) VALUES "
            f"({', '.join(':' + c for c in _PROVENANCE_COLUMNS)})",
            [{"assertion_id": aid, **rules.provenance_row(p)} for aid, p in prov])
        return plan

    def reset(self) -> None:
        with self._tx("resetting the store") as conn:
            # wiping the whole store is the one way entries go, as deleting the file would;
            # the triggers are back before the transaction commits
            for trigger in _TRIGGERS:
                conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            for table in ("provenance", "entity_annotations", "assertions", "entities",
                          "chunks", "documents", "quarantine", "audit", "change_requests"):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            _create_triggers(conn)
            # the version keeps growing, so an index built before the reset reads as stale
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'version'")

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
            for part in _parts(ids):
                for p in conn.execute("SELECT * FROM provenance WHERE assertion_id IN "
                                      f"({_marks(part)})", part):
                    prov.setdefault(p["assertion_id"], []).append(dict(p))
        out = []
        for r in rows:
            subject = {"id": r["subject_id"], "label": r["s_label"], "type_iri": r["s_type"]}
            obj = None if r["object_id"] is None else {
                "id": r["object_id"], "label": r["o_label"], "type_iri": r["o_type"]}
            out.append(rules.assertion_from_rows(dict(r), subject, obj, prov.get(r["id"], [])))
        return sorted(out, key=lambda a: a.id)

    def quarantined(self) -> list[QuarantinedCandidate]:
        with self._read("reading quarantine") as conn:
            rows = conn.execute("SELECT payload FROM quarantine").fetchall()
        items = [QuarantinedCandidate.model_validate_json(r[0]) for r in rows]
        return sorted(items, key=lambda q: q.id)

    def entities(self) -> list[EntityRef]:
        with self._read("reading entities") as conn:
            rows = conn.execute("SELECT id, label, type_iri FROM entities").fetchall()
        return sorted((rules.entity_from_row(r) for r in rows), key=lambda e: e.id)

    def get_chunks(self, ids: Sequence[ChunkId]) -> dict[ChunkId, Chunk]:
        found: dict[ChunkId, Chunk] = {}
        with self._read("reading chunks") as conn:
            for part in _parts(sorted(set(ids))):
                for r in conn.execute(f"SELECT * FROM chunks WHERE id IN ({_marks(part)})", part):
                    found[ChunkId(r["id"])] = Chunk(
                        id=r["id"], document_id=r["document_id"], index=r["chunk_index"],
                        text=r["text"], span=Span(start=r["span_start"], end=r["span_end"]))
        return {k: found[k] for k in sorted(found)}

    def get_documents(self, ids: Sequence[DocumentId]) -> dict[DocumentId, Document]:
        found: dict[DocumentId, Document] = {}
        with self._read("reading documents") as conn:
            for part in _parts(sorted(set(ids))):
                for r in conn.execute(f"SELECT * FROM documents WHERE id IN ({_marks(part)})",
                                      part):
                    found[DocumentId(r["id"])] = Document(**dict(r))
        return {k: found[k] for k in sorted(found)}

    def get_entities(self, ids: Sequence[EntityId]) -> dict[EntityId, EntityRef]:
        found: dict[EntityId, EntityRef] = {}
        with self._read("reading entities") as conn:
            for part in _parts(sorted(set(ids))):
                for r in conn.execute("SELECT id, label, type_iri FROM entities WHERE id IN "
                                      f"({_marks(part)})", part):
                    found[EntityId(r["id"])] = rules.entity_from_row(r)
        return {k: found[k] for k in sorted(found)}

    def annotations(self, entity_id: EntityId | None = None) -> list[EntityAnnotation]:
        with self._read("reading annotations") as conn:
            if entity_id is None:
                rows = conn.execute("SELECT * FROM entity_annotations").fetchall()
            else:
                rows = conn.execute("SELECT * FROM entity_annotations WHERE entity_id = ?",
                                    (entity_id,)).fetchall()
        return sorted((rules.annotation_from_row(dict(r)) for r in rows),
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
        return [rules.audit_from_row(dict(r)) for r in rows]

    def get_change_request(self, request_id: str) -> ChangeRequest | None:
        with self._read("reading a change request") as conn:
            row = conn.execute("SELECT * FROM change_requests WHERE id = ?",
                               (request_id,)).fetchone()
        return None if row is None else rules.request_from_row(dict(row))

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
        return sorted((rules.request_from_row(dict(r)) for r in rows), key=rules.request_order)

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


def _bump(conn: sqlite3.Connection, entries: Iterable[AuditEntry]) -> None:
    """Count one more committed change and append its audit entries (same transaction)."""
    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'version'")
    _append(conn, entries)


def _append(conn: sqlite3.Connection, entries: Iterable[AuditEntry]) -> None:
    """Append audit entries (the only statement that ever writes the audit table)."""
    conn.executemany(f"INSERT INTO audit ({', '.join(_AUDIT_COLUMNS)}) VALUES "
                     f"({', '.join(':' + c for c in _AUDIT_COLUMNS)})",
                     [rules.audit_row(e) for e in entries])


def _create_triggers(conn: sqlite3.Connection) -> None:
    for name, body in _TRIGGERS.items():
        conn.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")


def _entity(conn: sqlite3.Connection, entity_id: str) -> EntityRef | None:
    r = conn.execute("SELECT id, label, type_iri FROM entities WHERE id = ?",
                     (entity_id,)).fetchone()
    return None if r is None else rules.entity_from_row(r)


def _ids(conn: sqlite3.Connection, table: str, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for part in _parts(ids):
        found.update(r[0] for r in conn.execute(
            f"SELECT id FROM {table} WHERE id IN ({_marks(part)})", part))
    return found


def _parts(ids: Sequence[str]) -> Iterator[list[str]]:
    for i in range(0, len(ids), _IN_BATCH):
        yield list(ids[i:i + _IN_BATCH])


def _marks(part: Sequence[str]) -> str:
    return ", ".join("?" * len(part))


def _translate(exc: sqlite3.Error, path: str, action: str) -> VeriKGError:
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return StoreUnavailableError(
            f"the SQLite store at {path} is locked by another writer while {action}; nothing "
            "was committed: retry when the other process has finished")
    return StoreError(f"the SQLite store at {path} refused {action}: {text}; nothing was "
                      "committed")
