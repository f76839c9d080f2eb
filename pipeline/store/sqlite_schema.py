"""The SQLite store's file: its schema, the migrations of older stores, and the triggers that
make the audit log append-only and a filed change request's text final in the file itself.

``connect`` opens a store file with the settings the store needs (WAL, foreign keys, a busy
timeout) and brings its schema up to date; the column lists and ``parts`` / ``marks`` (ids in
batches of bound parameters) are the shapes the store's statements share.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from pipeline.errors import StoreNotFoundError

SCHEMA = """
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
-- run_id: the latest run that refused it; resolved_by: the later run that did not ('' while
-- it stands); payload: the whole record (every run that refused it among the rest)
CREATE TABLE IF NOT EXISTS quarantine (
    id TEXT PRIMARY KEY, chunk_id TEXT NOT NULL, document_id TEXT NOT NULL,
    run_id TEXT NOT NULL, reason TEXT NOT NULL, payload TEXT NOT NULL,
    resolved_by TEXT NOT NULL DEFAULT '');
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
-- the ontology the store was built with (one row): commands use it when given none
CREATE TABLE IF NOT EXISTS ontology (
    id INTEGER PRIMARY KEY CHECK (id = 1), path TEXT NOT NULL, sha256 TEXT NOT NULL,
    source TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', 1), ('version', 0);
"""

# after ``migrate`` (they name columns an older store gains there)
INDEXES = """
CREATE INDEX IF NOT EXISTS audit_actor ON audit(actor, seq);
CREATE INDEX IF NOT EXISTS audit_action ON audit(action, seq);
CREATE INDEX IF NOT EXISTS audit_target ON audit(target, seq);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
CREATE INDEX IF NOT EXISTS audit_request ON audit(request_id, seq);
CREATE INDEX IF NOT EXISTS change_requests_status ON change_requests(status, created_at);
CREATE INDEX IF NOT EXISTS assertions_flagged ON assertions(id) WHERE violations <> '[]';
CREATE INDEX IF NOT EXISTS quarantine_chunk ON quarantine(chunk_id);
"""

#: what makes the audit log append-only and a filed request's text final, in the file itself
TRIGGERS: dict[str, str] = {
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
AUDIT_COLUMNS = ("at", "actor", "action", "target", "detail", "role", "before_state",
                 "after_state", "request_id")
REQUEST_COLUMNS = ("id", "author", "author_role", "kgcl", "status", "created_at", "reviewer",
                   "reviewer_role", "reviewed_at", "reason", "applied_by", "applied_by_role",
                   "applied_at")

PROVENANCE_COLUMNS = ("assertion_id", "chunk_id", "model", "prompt_version", "document_id",
                      "span_start", "span_end", "quote", "run_id", "attempts",
                      "samples_agreeing", "samples_total", "subject_mention",
                      "object_mention", "seen_at", "repairs", "subject_text", "object_text",
                      "subject_grounding", "object_grounding", "corroboration")
#: SQLite's default limit on bound parameters is 999 in old builds; stay well under it
IN_BATCH = 500


def migrate(conn: sqlite3.Connection) -> None:
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
    have = {r[1] for r in conn.execute("PRAGMA table_info(quarantine)")}
    if "resolved_by" not in have:
        # records stored before a later run could resolve them all stand; their payloads
        # read back with ``runs`` = their one run (``QuarantinedCandidate`` fills it in)
        conn.execute("ALTER TABLE quarantine ADD COLUMN resolved_by TEXT NOT NULL DEFAULT ''")


def create_triggers(conn: sqlite3.Connection) -> None:
    for name, body in TRIGGERS.items():
        conn.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")


def connect(path: str) -> sqlite3.Connection:
    """A connection to the store file at ``path`` (created, with its folder, if missing;
    ``:memory:`` for a throwaway store), its schema created or brought up to date. Raises
    ``OSError`` or ``sqlite3.Error``."""
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(SCHEMA)
    migrate(conn)
    conn.executescript(INDEXES)
    create_triggers(conn)
    return conn


def is_store(path: str) -> bool:
    """Whether ``path`` is an existing SQLite file holding a VeriKG store (its ``meta`` table
    with a schema number), checked read-only: nothing is created or changed."""
    if path == ":memory:" or not Path(path).is_file():
        return False
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return row is not None


def require_store(path: str) -> None:
    """``StoreNotFoundError`` unless ``path`` holds a VeriKG store (``is_store``)."""
    if not is_store(path):
        what = "no VeriKG store" if not Path(path).exists() else "not a VeriKG store"
        raise StoreNotFoundError(f"{what} at {path} (build one with verikg build --corpus "
                                 f"DOCS --ontology ONTOLOGY --store sqlite:{path})")


def parts(ids: Sequence[str]) -> Iterator[list[str]]:
    """``ids`` in batches of at most ``IN_BATCH``, one ``IN (...)`` list each."""
    for i in range(0, len(ids), IN_BATCH):
        yield list(ids[i:i + IN_BATCH])


def marks(part: Sequence[str]) -> str:
    """The ``?`` placeholders of one batch."""
    return ", ".join("?" * len(part))


__all__ = ["AUDIT_COLUMNS", "INDEXES", "IN_BATCH", "PROVENANCE_COLUMNS", "REQUEST_COLUMNS",
           "SCHEMA", "TRIGGERS", "connect", "create_triggers", "is_store", "marks", "migrate",
           "parts", "require_store"]
