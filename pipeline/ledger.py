"""The run ledger: what a build has done so far, so a crash costs time and never data.

A build writes through the ledger, chunk by chunk: each chunk's extraction (every sample, every
corrective retry, every quarantined candidate) is committed here the moment it is finished,
and the chunks are marked ``checked`` once the graph contract has run over them and ``stored``
once their assertions and quarantine are in the graph store. A build that dies — SIGKILL, a
store that stays away, a power cut — leaves its run ``open``; the next build of the same
inputs resumes that run: same run id (so provenance is identical), the finished chunks read
back from here instead of asking the LLM again, the rest extracted, and the idempotent store
writes replayed. The result is exactly the graph an uninterrupted build writes.

The ledger is one SQLite file (WAL, a transaction per step), beside the LLM cache in the data
directory. It knows nothing of Prefect or of any particular store.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from pipeline.errors import StoreError
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


class RunLedger:
    """The ledger in ``path`` (created on first use). Not shared between processes that
    build the same key at the same time: one build per key at once, as with any job queue."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        # extraction tasks may finish on several threads: one transaction at a time
        self._lock = threading.RLock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None,
                                         check_same_thread=False, timeout=30)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"the run ledger {self.path} cannot be opened ({exc}); move it "
                             "aside and rerun (the build will start over, the store merges)"
                             ) from exc

    def close(self) -> None:
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
        """The open run of ``key`` (one more attempt of it), or a new run."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT run_id, attempts FROM runs WHERE run_key = ? AND status = ? "
                "ORDER BY started_at DESC LIMIT 1", (key, RunStatus.OPEN.value)).fetchone()
            if row is not None:
                run_id, attempts = row[0], row[1] + 1
                conn.execute("UPDATE runs SET attempts = ?, updated_at = ?, error = '' "
                             "WHERE run_id = ?", (attempts, _now(), run_id))
            else:
                run_id, attempts = f"run-{uuid.uuid4().hex[:12]}", 1
                conn.execute(
                    "INSERT INTO runs (run_id, run_key, status, store, started_at, "
                    "updated_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (run_id, key, RunStatus.OPEN.value, store, _now(), _now(), attempts))
        return LedgerRun(run_id=run_id, run_key=key, attempts=attempts, status=RunStatus.OPEN)

    def fail(self, run_id: str, error: str) -> None:
        """Note why an attempt stopped; the run stays open so the next build resumes it."""
        with self._tx() as conn:
            conn.execute("UPDATE runs SET error = ?, updated_at = ? WHERE run_id = ?",
                         (error[:2000], _now(), run_id))

    def complete(self, run_id: str) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE runs SET status = ?, updated_at = ?, error = '' "
                         "WHERE run_id = ?", (RunStatus.COMPLETE.value, _now(), run_id))

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


__all__ = ["ChunkStage", "LedgerRun", "RunLedger", "RunStatus", "run_key"]
