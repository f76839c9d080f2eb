"""The run ledger: runs resume until complete, extractions read back exactly, stages only
move forward, a damaged ledger is a clear error, and one build at a time holds a run (two
processes racing for it: exactly one wins; a killed build's lease is taken over)."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import socket
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import BuildInProgressError, StoreError
from pipeline.ledger import ChunkStage, RunLedger, RunStatus, run_key
from pipeline.models import Chunk, ChunkExtraction, Document, Ontology, RunId, SampleResult


def _chunks() -> list[Chunk]:
    doc = Document.from_text("Acme was founded by Ada. Globex is based in Springfield.",
                             source="a.txt")
    return [Chunk.make(doc, 0, 0, 24), Chunk.make(doc, 1, 25, len(doc.text))]


def _extraction(chunk: Chunk, run_id: str) -> ChunkExtraction:
    sample = SampleResult(sample_index=0, attempts=2, accepted=(), quarantined=(),
                          check_failures={"predicate-in-ontology": 1}, proposed=3)
    return ChunkExtraction(chunk=chunk, model="fake:m", prompt_version="v9", contract="c1",
                           run_id=RunId(run_id), samples=(sample,),
                           extracted_at=datetime(2026, 11, 27, tzinfo=UTC))


def _onto(iri: str) -> Ontology:
    return Ontology(iri=iri, label=iri, classes=(), properties=())


def _key(chunks: list[Chunk], /, **change: object) -> str:
    args: dict = dict(store="sqlite:/x", chunks=chunks, ontology=_onto("urn:o"),
                      model="fake:m", prompt_version="v9", contract="c1", samples=3,
                      max_retries=1)
    args.update(change)
    return run_key(**args)


def test_an_open_run_resumes_until_it_completes(tmp_path: Path) -> None:
    chunks = _chunks()
    key = _key(chunks)
    with RunLedger(tmp_path / "ledger.sqlite") as ledger:
        first = ledger.begin(key, store="sqlite:/x")
        assert first.attempts == 1 and not first.resumed
        ledger.record_extraction(first.run_id, _extraction(chunks[0], first.run_id))
        ledger.fail(first.run_id, "StoreUnavailableError: gone")
    with RunLedger(tmp_path / "ledger.sqlite") as ledger:  # a new process
        again = ledger.begin(key, store="sqlite:/x")
        assert again.run_id == first.run_id and again.attempts == 2 and again.resumed
        done = ledger.extractions(again.run_id)
        assert done == {chunks[0].id: _extraction(chunks[0], first.run_id)}
        # recording the same chunk again keeps the first record
        ledger.record_extraction(again.run_id, _extraction(chunks[0], "other"))
        assert ledger.extractions(again.run_id)[chunks[0].id].run_id == first.run_id
        ledger.complete(again.run_id)
        later = ledger.begin(key, store="sqlite:/x")
        assert later.run_id != first.run_id and later.attempts == 1
        statuses = {r["run_id"]: r["status"] for r in ledger.runs()}
        assert statuses == {first.run_id: RunStatus.COMPLETE.value,
                            later.run_id: RunStatus.OPEN.value}


def test_stages_move_forward_only(tmp_path: Path) -> None:
    chunks = _chunks()
    with RunLedger(tmp_path / "ledger.sqlite") as ledger:
        run = ledger.begin(_key(chunks), store="s")
        for c in chunks:
            ledger.record_extraction(run.run_id, _extraction(c, run.run_id))
        ledger.mark(run.run_id, [chunks[0].id], ChunkStage.STORED)
        ledger.mark(run.run_id, [c.id for c in chunks], ChunkStage.CHECKED)
        assert ledger.stages(run.run_id) == {chunks[0].id: ChunkStage.STORED,
                                             chunks[1].id: ChunkStage.CHECKED}
        assert ledger.summary(run.run_id) == {"extracted": 0, "checked": 1, "stored": 1}


def test_the_key_changes_with_whatever_shapes_an_extraction() -> None:
    chunks = _chunks()
    base = _key(chunks)
    assert _key(list(reversed(chunks))) == base  # order of chunks does not matter
    for change in ({"store": "bolt://h"}, {"model": "fake:n"}, {"samples": 4},
                   {"max_retries": 0}, {"prompt_version": "v10"}, {"contract": "c2"},
                   {"chunks": chunks[:1]}, {"ontology": _onto("urn:p")}):
        assert _key(chunks, **change) != base, change


def test_a_damaged_ledger_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="run ledger .* cannot be opened"):
        RunLedger(path)


# ---------------------------------------------------------------------- the run's lease


def _claim(path: Path, key: str, start: Any, results: Any, hold: Any) -> None:
    """A build's claim in its own process: report won or busy, keep the lease until told."""
    ledger = RunLedger(path)
    start.wait()
    try:
        run = ledger.begin(key, store="s")
        results.put(("won", run.run_id, run.attempts, os.getpid()))
    except BuildInProgressError as exc:
        results.put(("busy", str(exc), 0, os.getpid()))
    hold.wait(30)
    ledger.close()


@pytest.mark.parametrize("round_", range(6))
def test_two_processes_racing_for_a_run_one_wins(tmp_path: Path, round_: int) -> None:
    path = tmp_path / "ledger.sqlite"
    key = _key(_chunks())
    if round_ % 2:  # an open run an earlier build left: both try to resume it
        with RunLedger(path) as ledger:
            left = ledger.begin(key, store="s")
            ledger.fail(left.run_id, "killed")
    ctx = mp.get_context("fork")
    start, hold, results = ctx.Barrier(2), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_claim, args=(path, key, start, results, hold))
             for _ in range(2)]
    for p in procs:
        p.start()
    try:
        got = sorted([results.get(timeout=30) for _ in procs])
    finally:
        hold.set()
        for p in procs:
            p.join(30)
    busy, won = got
    assert (won[0], busy[0]) == ("won", "busy"), got
    assert won[2] == (2 if round_ % 2 else 1)
    assert (f"run {won[1]} is being built by pid {won[3]} on host {socket.gethostname()}"
            in busy[1]), busy[1]
    assert "rerun when it finishes" in busy[1]
    with RunLedger(path) as ledger:
        assert [(r["run_id"], r["attempts"]) for r in ledger.runs()] == [(won[1], won[2])]


def _claim_then_wait(path: Path, key: str, results: Any) -> None:
    ledger = RunLedger(path)
    run = ledger.begin(key, store="s")
    results.put(run.run_id)
    time.sleep(60)  # killed before this ends


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]


def test_the_lease_of_a_killed_build_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    key = _key(_chunks())
    ctx = mp.get_context("fork")
    results = ctx.Queue()
    proc = ctx.Process(target=_claim_then_wait, args=(path, key, results))
    proc.start()
    try:
        run_id = results.get(timeout=30)
        pid = proc.pid
        assert pid is not None
        with RunLedger(path) as ledger, pytest.raises(BuildInProgressError, match=f"pid {pid}"):
            ledger.begin(key, store="s")  # alive: its lease holds
        os.kill(pid, signal.SIGKILL)  # kill -9: no release, a zombie until reaped
        deadline = time.monotonic() + 10
        while _state(pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)
        with RunLedger(path) as ledger:
            again = ledger.begin(key, store="s")
            assert (again.run_id, again.attempts, again.resumed) == (run_id, 2, True)
            ledger.complete(again.run_id)
    finally:
        proc.join(10)


def _lease(path: Path, **columns: object) -> None:
    with sqlite3.connect(path) as conn:
        sets = ", ".join(f"{k} = ?" for k in columns)
        conn.execute(f"UPDATE runs SET {sets}", tuple(columns.values()))  # noqa: S608


def test_another_hosts_lease_binds_until_it_expires(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    key = _key(_chunks())
    with RunLedger(path) as ledger:
        run = ledger.begin(key, store="s")
    _lease(path, owner="t0", owner_host="elsewhere", owner_pid=4242,
           leased_since="2026-01-01T00:00:00+00:00", lease_expires=time.time() + 300)
    with RunLedger(path) as ledger:
        with pytest.raises(BuildInProgressError, match="pid 4242 on host elsewhere since "
                                                       "2026-01-01T00:00:00"):
            ledger.begin(key, store="s")
        _lease(path, lease_expires=time.time() - 1)
        assert ledger.begin(key, store="s").run_id == run.run_id


def test_a_second_ledger_in_the_same_process_is_refused_and_the_lease_renews(
        tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    key = _key(_chunks())
    with RunLedger(path, lease_seconds=0.2) as first, RunLedger(path) as second:
        run = first.begin(key, store="s")
        with pytest.raises(BuildInProgressError, match=f"pid {os.getpid()}"):
            second.begin(key, store="s")
        time.sleep(0.5)  # longer than the lease: the heartbeat kept it
        [row] = sqlite3.connect(path).execute("SELECT lease_expires FROM runs").fetchall()
        assert row[0] > time.time()
        first.fail(run.run_id, "stopped")  # released: the next build resumes at once
        assert second.begin(key, store="s").attempts == 2


def test_a_build_whose_run_was_taken_over_stops_at_its_next_write(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    chunks = _chunks()
    with RunLedger(path) as ledger:
        run = ledger.begin(_key(chunks), store="s")
        _lease(path, owner="other", owner_host="elsewhere", owner_pid=7,
               leased_since="2026-01-01T00:00:00+00:00", lease_expires=time.time() + 300)
        with pytest.raises(BuildInProgressError, match="taken over"):
            ledger.record_extraction(run.run_id, _extraction(chunks[0], run.run_id))
        with pytest.raises(BuildInProgressError, match="taken over"):
            ledger.complete(run.run_id)
        ledger.fail(run.run_id, "lost")  # leaves the new owner's lease alone
        assert ledger.extractions(run.run_id) == {}
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT owner, status FROM runs").fetchall() == [("other", "open")]


def test_a_ledger_written_before_leases_gets_them(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, run_key TEXT NOT NULL, "
                     "status TEXT NOT NULL, store TEXT NOT NULL, started_at TEXT NOT NULL, "
                     "updated_at TEXT NOT NULL, attempts INTEGER NOT NULL, "
                     "error TEXT NOT NULL DEFAULT '')")
        conn.execute("INSERT INTO runs VALUES ('run-old', 'k', 'open', 's', '2026-01-01', "
                     "'2026-01-01', 1, 'killed')")
    with RunLedger(path) as ledger:
        run = ledger.begin("k", store="s")
        assert (run.run_id, run.attempts) == ("run-old", 2)
