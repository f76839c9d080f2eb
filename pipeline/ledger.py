"""The run ledger: what a build has done so far, so a crash costs time and never data.

A build writes through the ledger, chunk by chunk: each chunk's extraction (every sample, every
corrective retry, every quarantined candidate) is committed here the moment it is finished,
and the chunks are marked ``checked`` once the graph contract has run over them and ``stored``
once their assertions and quarantine are in the graph store. A build that dies — SIGKILL, a
store that stays away, a power cut — leaves its run ``open``; the next build of the same
inputs resumes that run: same run id (so provenance is identical), the finished chunks read
back from here instead of asking the LLM again, the rest extracted, and the idempotent store
writes replayed. The result is exactly the graph an uninterrupted build writes.

One build at a time per run: ``begin`` takes the run's **lease** — owner (host, pid, the
process's start time and a random token), since when, and an expiry renewed by every write
and by a heartbeat thread every ``lease_seconds / 4`` — with a conditional update inside one
``BEGIN IMMEDIATE`` transaction, so of two builds that race for the same open run exactly one
wins. The other does not wait: it fails at once with ``BuildInProgressError`` ("run X is being
built by pid N on host H since T; rerun when it finishes"), before it has done anything. A
lease whose owner died (SIGKILL, a power cut) is taken over: on the same host as soon as its
pid is gone (a zombie or a reused pid with another start time counts as gone), on another
host once it has expired. A build whose lease was taken over (it stalled past the expiry)
fails at its next write instead of writing beside the new owner. ``complete`` and ``fail``
release the lease.

The ledger is one SQLite file (WAL, a transaction per step), beside the LLM cache in the data
directory. It knows nothing of Prefect or of any particular store.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from pipeline.errors import BuildInProgressError, StoreError
from pipeline.models import Chunk, ChunkExtraction, Ontology, stable_hash

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    run_key     TEXT NOT NULL,
    status      TEXT NOT NULL,
    store       TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_by_key ON runs (run_key, status);
CREATE TABLE IF NOT EXISTS chunks (
    run_id      TEXT NOT NULL REFERENCES runs (run_id),
    chunk_id    TEXT NOT NULL,
    stage       TEXT NOT NULL,
    extraction  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (run_id, chunk_id)
);
"""


#: the lease of an open run (added to a ledger written before leases existed)
_LEASE_COLUMNS = {"owner": "TEXT NOT NULL DEFAULT ''", "owner_host": "TEXT NOT NULL DEFAULT ''",
                  "owner_pid": "INTEGER NOT NULL DEFAULT 0",
                  "owner_start": "TEXT NOT NULL DEFAULT ''",
                  "leased_since": "TEXT NOT NULL DEFAULT ''",
                  "lease_expires": "REAL NOT NULL DEFAULT 0"}
#: how long a lease lasts without renewal (what another host waits for a dead build's run)
LEASE_SECONDS = 120.0


class RunStatus(StrEnum):
    OPEN = "open"            # started, not finished: the next build of the same key resumes it
    COMPLETE = "complete"


class ChunkStage(StrEnum):
    EXTRACTED = "extracted"  # every sample is in the ledger
    CHECKED = "checked"      # scored and through the graph contract with the rest of the run
    STORED = "stored"        # its assertions and quarantine are in the graph store


_ORDER = {ChunkStage.EXTRACTED: 0, ChunkStage.CHECKED: 1, ChunkStage.STORED: 2}


@dataclass(frozen=True)
class LedgerRun:
    """One build as the ledger knows it; ``resumed`` when an earlier attempt died."""

    run_id: str
    run_key: str
    attempts: int
    status: RunStatus

    @property
    def resumed(self) -> bool:
        return self.attempts > 1


def run_key(*, store: str, chunks: Sequence[Chunk], ontology: Ontology, model: str,
            prompt_version: str, contract: str, samples: int, max_retries: int) -> str:
    """What makes two builds the same build: the store they write to, the chunks (content
    hashes), the ontology, and everything that shapes an extraction. A different model or
    sample count is a different build and never resumes this one's extractions."""
    onto = ontology.sha256 or stable_hash(ontology.model_dump_json(), length=64)
    return stable_hash(store, onto, model, prompt_version, contract, str(samples),
                       str(max_retries), *sorted(c.id for c in chunks), length=32)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def _start_time(pid: int) -> str:
    """When process ``pid`` started, in clock ticks since boot ("" where /proc is absent):
    with the pid it names one process, never a later one that reuses the pid."""
    fields = _proc_stat(pid)
    return fields[19] if fields and len(fields) > 19 else ""


@dataclass(frozen=True)
class LeaseOwner:
    """A build holding a run: its host, pid, process start time and a random token (one per
    ``RunLedger``)."""

    token: str
    host: str
    pid: int
    start: str

    @classmethod
    def here(cls) -> LeaseOwner:
        pid = os.getpid()
        return cls(token=uuid.uuid4().hex, host=socket.gethostname(), pid=pid,
                   start=_start_time(pid))


#: tokens of the leases ledgers of this process hold now (a pid alone cannot tell a live
#: ledger of this process from an earlier process that had the same pid)
_HELD_HERE: set[str] = set()
_HELD_LOCK = threading.Lock()


def owner_alive(owner: LeaseOwner) -> bool:
    """Whether ``owner``, a process of this host, is still running: its pid exists, is not a
    zombie and started when the owner did (a reused pid is another process)."""
    if owner.pid == os.getpid():
        with _HELD_LOCK:
            return owner.token in _HELD_HERE
    fields = _proc_stat(owner.pid)
    if fields is not None:
        if fields[0] in ("Z", "X"):
            return False
        return not owner.start or (len(fields) > 19 and fields[19] == owner.start)
    if Path("/proc/self/stat").exists():
        return False  # /proc is there and the pid is not
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLedger:
    """The ledger in ``path`` (created on first use), shared safely by processes: a run is
    built by the one holding its lease (``begin``), any other fails fast."""

    def __init__(self, path: Path, *, lease_seconds: float = LEASE_SECONDS) -> None:
        self.path = Path(path)
        self.lease_seconds = lease_seconds
        self.owner = LeaseOwner.here()
        # extraction tasks may finish on several threads: one transaction at a time
        self._lock = threading.RLock()
        self._claims: set[str] = set()
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None,
                                         check_same_thread=False, timeout=30)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(SCHEMA)
            self._add_lease_columns()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"the run ledger {self.path} cannot be opened ({exc}); move it "
                             "aside and rerun (the build will start over, the store merges)"
                             ) from exc

    def _add_lease_columns(self) -> None:
        with self._tx() as conn:
            have = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
            for name, decl in _LEASE_COLUMNS.items():
                if name not in have:
                    conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {decl}")

    def close(self) -> None:
        """Stop the heartbeat and release every lease this ledger still holds."""
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
        try:
            if self._claims:
                with self._tx() as conn:
                    conn.execute("UPDATE runs SET owner = '', lease_expires = 0 WHERE owner = ?",
                                 (self.owner.token,))
        finally:
            self._claims.clear()
            with _HELD_LOCK:
                _HELD_HERE.discard(self.owner.token)
            self._conn.close()

    def __enter__(self) -> RunLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # ------------------------------------------------------------------ runs

    def begin(self, key: str, *, store: str) -> LedgerRun:
        """The open run of ``key`` (one more attempt of it), or a new run, with its lease
        taken by this ledger; ``BuildInProgressError`` when a live build holds it."""
        me = self.owner
        with self._tx() as conn:
            row = conn.execute(
                "SELECT run_id, attempts, owner, owner_host, owner_pid, owner_start, "
                "leased_since, lease_expires FROM runs WHERE run_key = ? AND status = ? "
                "ORDER BY started_at DESC LIMIT 1", (key, RunStatus.OPEN.value)).fetchone()
            lease = (me.token, me.host, me.pid, me.start, _now(), self._expiry())
            if row is not None:
                run_id, attempts, held_by = row[0], row[1] + 1, row[2]
                if held_by and held_by != me.token and self._held(row):
                    raise BuildInProgressError(_busy(run_id, row))
                # the claim: taken only if nobody claimed it since it was read
                cur = conn.execute(
                    "UPDATE runs SET attempts = ?, updated_at = ?, error = '', owner = ?, "
                    "owner_host = ?, owner_pid = ?, owner_start = ?, leased_since = ?, "
                    "lease_expires = ? WHERE run_id = ? AND status = ? AND owner = ?",
                    (attempts, _now(), *lease, run_id, RunStatus.OPEN.value, held_by))
                if cur.rowcount != 1:
                    raise BuildInProgressError(f"run {run_id} was claimed by another build at "
                                               "the same moment; rerun when it finishes")
            else:
                run_id, attempts = f"run-{uuid.uuid4().hex[:12]}", 1
                conn.execute(
                    "INSERT INTO runs (run_id, run_key, status, store, started_at, "
                    "updated_at, attempts, owner, owner_host, owner_pid, owner_start, "
                    "leased_since, lease_expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, key, RunStatus.OPEN.value, store, _now(), _now(), attempts,
                     *lease))
        self._claim(run_id)
        return LedgerRun(run_id=run_id, run_key=key, attempts=attempts, status=RunStatus.OPEN)

    def _held(self, row: sqlite3.Row | tuple[object, ...]) -> bool:
        """Whether the lease of ``row`` (as ``begin`` reads it) still binds: on this host
        while its owner lives, on another until it expires."""
        owner = LeaseOwner(token=str(row[2]), host=str(row[3]), pid=int(str(row[4])),
                           start=str(row[5]))
        if owner.host == self.owner.host:
            return owner_alive(owner)
        return float(str(row[7])) > time.time()

    def _expiry(self) -> float:
        return time.time() + self.lease_seconds

    def _claim(self, run_id: str) -> None:
        with _HELD_LOCK:
            _HELD_HERE.add(self.owner.token)
        self._claims.add(run_id)
        if self._heartbeat is None:
            self._heartbeat = threading.Thread(target=self._beat, name="ledger-lease",
                                               daemon=True)
            self._heartbeat.start()

    def _beat(self) -> None:
        """Renew the leases this ledger holds until it closes (a long stage writes nothing
        to the ledger for minutes)."""
        while not self._stop.wait(self.lease_seconds / 4):
            try:
                with self._tx() as conn:
                    conn.execute("UPDATE runs SET lease_expires = ? WHERE owner = ?",
                                 (self._expiry(), self.owner.token))
            except (sqlite3.Error, ValueError):
                continue  # busy now or closing: the next beat, or close, settles it

    def _guard(self, conn: sqlite3.Connection, run_id: str) -> None:
        """Renew this ledger's lease of ``run_id`` inside a write, or refuse the write when
        another build has taken the run over."""
        cur = conn.execute("UPDATE runs SET lease_expires = ? WHERE run_id = ? AND owner = ?",
                           (self._expiry(), run_id, self.owner.token))
        if cur.rowcount == 1:
            return
        row = conn.execute("SELECT run_id, attempts, owner, owner_host, owner_pid, "
                           "owner_start, leased_since, lease_expires FROM runs "
                           "WHERE run_id = ?", (run_id,)).fetchone()
        if row is None or not row[2]:
            raise BuildInProgressError(f"run {run_id} is not held by this build (begin it "
                                       "first); rerun the build")
        raise BuildInProgressError(_busy(run_id, row) + "; this build stops (its lease "
                                   "expired and the run was taken over)")

    def _release(self, run_id: str) -> None:
        self._claims.discard(run_id)

    def fail(self, run_id: str, error: str) -> None:
        """Note why an attempt stopped and release its lease; the run stays open so the
        next build resumes it (a run another build took over is left to that build)."""
        with self._tx() as conn:
            conn.execute("UPDATE runs SET error = ?, updated_at = ?, owner = '', "
                         "lease_expires = 0 WHERE run_id = ? AND owner = ?",
                         (error[:2000], _now(), run_id, self.owner.token))
        self._release(run_id)

    def complete(self, run_id: str) -> None:
        with self._tx() as conn:
            self._guard(conn, run_id)
            conn.execute("UPDATE runs SET status = ?, updated_at = ?, error = '', owner = '', "
                         "lease_expires = 0 WHERE run_id = ?",
                         (RunStatus.COMPLETE.value, _now(), run_id))
        self._release(run_id)

    def runs(self) -> list[dict[str, object]]:
        """Every run, newest first (for ``verikg runs`` and the tests)."""
        with self._lock:
            cur = self._conn.execute(
                "SELECT run_id, run_key, status, store, started_at, updated_at, attempts, "
                "error FROM runs ORDER BY started_at DESC")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    # ------------------------------------------------------------------ chunks

    def record_extraction(self, run_id: str, extraction: ChunkExtraction) -> None:
        """Commit one chunk's finished extraction (all samples): from now on a resumed run
        reads it back instead of asking the LLM again."""
        with self._tx() as conn:
            self._guard(conn, run_id)
            conn.execute(
                "INSERT INTO chunks (run_id, chunk_id, stage, extraction, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_id, chunk_id) DO NOTHING",
                (run_id, extraction.chunk.id, ChunkStage.EXTRACTED.value,
                 extraction.model_dump_json(), _now()))

    def extractions(self, run_id: str) -> dict[str, ChunkExtraction]:
        """The chunks of ``run_id`` already extracted, by chunk id. A row that does not
        read back (written by an incompatible version) is left out and extracted again."""
        out: dict[str, ChunkExtraction] = {}
        for chunk_id, payload in self._conn.execute(
                "SELECT chunk_id, extraction FROM chunks WHERE run_id = ?", (run_id,)):
            try:
                out[chunk_id] = ChunkExtraction.model_validate_json(payload)
            except ValueError:
                continue
        return out

    def mark(self, run_id: str, chunk_ids: Iterable[str], stage: ChunkStage) -> None:
        """Move chunks forward to ``stage`` (never back)."""
        ids = list(chunk_ids)
        allowed = [s.value for s, rank in _ORDER.items() if rank < _ORDER[stage]]
        marks = ",".join("?" * len(allowed))
        with self._tx() as conn:
            self._guard(conn, run_id)
            for i in range(0, len(ids), 500):
                part = ids[i:i + 500]
                conn.execute(
                    f"UPDATE chunks SET stage = ?, updated_at = ? WHERE run_id = ? "
                    f"AND stage IN ({marks}) AND chunk_id IN ({','.join('?' * len(part))})",
                    (stage.value, _now(), run_id, *allowed, *part))

    def stages(self, run_id: str) -> dict[str, ChunkStage]:
        return {cid: ChunkStage(stage) for cid, stage in self._conn.execute(
            "SELECT chunk_id, stage FROM chunks WHERE run_id = ?", (run_id,))}

    def summary(self, run_id: str) -> dict[str, int]:
        """How many chunks of ``run_id`` reached each stage."""
        counts = {s.value: 0 for s in ChunkStage}
        for stage, n in self._conn.execute(
                "SELECT stage, COUNT(*) FROM chunks WHERE run_id = ? GROUP BY stage", (run_id,)):
            counts[stage] = n
        return counts


def _busy(run_id: str, row: sqlite3.Row | tuple[object, ...]) -> str:
    expires = datetime.fromtimestamp(float(str(row[7])), UTC).isoformat(timespec="seconds")
    return (f"run {run_id} is being built by pid {row[4]} on host {row[3]} since {row[6]}; "
            f"rerun when it finishes (its lease, renewed while it runs, ends at {expires})")


__all__ = ["LEASE_SECONDS", "ChunkStage", "LeaseOwner", "LedgerRun", "RunLedger", "RunStatus",
           "owner_alive", "run_key"]
