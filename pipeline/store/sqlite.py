"""``SQLiteGraphStore``: the embedded default store, one SQLite file, no server.

stdlib ``sqlite3`` in WAL mode with foreign keys on; every public write runs in one
``BEGIN IMMEDIATE`` transaction, so it commits whole or not at all. What a write means (new,
changed, allowed, audited) is decided in ``rules`` exactly as for Neo4j.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.errors import ChangeRequestError, StoreError, StoreUnavailableError, VeriKGError
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
from pipeline.store import rules
from pipeline.store.base import (
    AddAssertion,
    GraphStore,
    RemoveAssertion,
    RenameEntity,
    SetStatus,
    StoreCounts,
)

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
    confidence REAL NOT NULL, status TEXT NOT NULL,
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
    PRIMARY KEY (assertion_id, chunk_id, model, prompt_version)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quarantine (
    id TEXT PRIMARY KEY, chunk_id TEXT NOT NULL, document_id TEXT NOT NULL,
    run_id TEXT NOT NULL, reason TEXT NOT NULL, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, detail TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', 1), ('version', 0);
"""

_PROVENANCE_COLUMNS = ("assertion_id", "chunk_id", "model", "prompt_version", "document_id",
                       "span_start", "span_end", "quote", "run_id", "attempts",
                       "samples_agreeing", "samples_total", "subject_mention",
                       "object_mention", "seen_at", "repairs")
#: SQLite's default limit on bound parameters is 999 in old builds; stay well under it
_IN_BATCH = 500


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a store written by an earlier VeriKG up to the current schema, in place."""
    have = {r[1] for r in conn.execute("PRAGMA table_info(provenance)")}
    for column, decl in (("subject_mention", "TEXT NOT NULL DEFAULT ''"),
                         ("object_mention", "TEXT NOT NULL DEFAULT ''"), ("seen_at", "TEXT"),
                         ("repairs", "TEXT NOT NULL DEFAULT '[]'")):
        if column not in have:
            conn.execute(f"ALTER TABLE provenance ADD COLUMN {column} {decl}")


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

    def apply_changes(self, changes: Sequence[AddAssertion | RemoveAssertion | RenameEntity
                                              | SetStatus],
                      *, actor: str, role: Role) -> int:
        rules.check_rights(changes, actor=actor, role=role)
        rules.check_graph_names(c.assertion for c in changes if isinstance(c, AddAssertion))
        if not changes:
            return 0
        with self._tx("applying changes") as conn:
            entries: list[AuditEntry] = []
            at = rules.now()
            for i, change in enumerate(changes):
                self._apply_one(conn, change, i, len(changes))
                entries.append(rules.audit_for_change(change, actor=actor, at=at))
            _bump(conn, entries)
        return len(changes)

    def _apply_one(self, conn: sqlite3.Connection, change: rules.Change, i: int,
                   n: int) -> None:
        if isinstance(change, AddAssertion):
            # rights were checked for the whole batch, a certified add included
            self._merge(conn, rules.merge_batch([change.assertion]), may_certify=True)
            return
        if isinstance(change, RemoveAssertion):
            cur = conn.execute("DELETE FROM assertions WHERE id = ?", (change.assertion_id,))
        elif isinstance(change, RenameEntity):
            cur = conn.execute("UPDATE entities SET label = ? WHERE id = ?",
                               (change.new_label, change.entity_id))
        else:
            cur = conn.execute("UPDATE assertions SET status = ? WHERE id = ?",
                               (change.status.value, change.assertion_id))
        if cur.rowcount == 0:
            raise ChangeRequestError(
                f"change {i + 1} of {n} ({rules.describe(change)}) names "
                f"{rules.audit_target(change)}, which the store does not hold; nothing was "
                "changed")

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
            for r in conn.execute("SELECT id, confidence, status FROM assertions WHERE id IN "
                                  f"({marks})", part):
                existing[AssertionId(r[0])] = rules.ExistingAssertion(
                    r[1], AssertionStatus(r[2]), frozenset(keys.get(r[0], ())))
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
            "literal_datatype, confidence, status) VALUES (:id, :subject_id, :predicate, "
            ":object_id, :literal_value, :literal_datatype, :confidence, :status)",
            [rules.assertion_row(a) for a in plan.new])
        conn.executemany("UPDATE assertions SET confidence = ? WHERE id = ?",
                         [(c, i) for i, c in plan.confidence.items()])
        prov = [(a.id, p) for a in plan.new for p in a.provenance] + plan.provenance
        conn.executemany(
            f"INSERT INTO provenance ({', '.join(_PROVENANCE_COLUMNS)}) VALUES "
            f"({', '.join(':' + c for c in _PROVENANCE_COLUMNS)})",
            [{"assertion_id": aid, **rules.provenance_row(p)} for aid, p in prov])
        return plan

    def reset(self) -> None:
        with self._tx("resetting the store") as conn:
            for table in ("provenance", "assertions", "entities", "chunks", "documents",
                          "quarantine", "audit"):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
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

    def audit_log(self) -> list[AuditEntry]:
        with self._read("reading the audit log") as conn:
            rows = conn.execute("SELECT * FROM audit ORDER BY seq").fetchall()
        return [rules.audit_from_row(r) for r in rows]

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
    conn.executemany("INSERT INTO audit (at, actor, action, target, detail) VALUES "
                     "(:at, :actor, :action, :target, :detail)",
                     [rules.audit_row(e) for e in entries])


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
