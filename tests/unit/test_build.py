"""The build's logic between stages (``pipeline.build``): resuming extraction a window at a
time, keeping what finished when a chunk fails, and the ledger run that stays open on an
error and completes otherwise."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from pipeline.build import extract_resuming, extraction_window, ledger_run
from pipeline.ledger import RunLedger
from pipeline.models import Chunk, ChunkExtraction, Document, RunId


def _chunks(n: int) -> list[Chunk]:
    doc = Document.from_text(" ".join(f"Sentence {i}." for i in range(n)), source="d.md")
    return [Chunk.make(doc, i, 0, 5 + i) for i in range(n)]


def _extraction(chunk: Chunk) -> ChunkExtraction:
    return ChunkExtraction(chunk=chunk, model="m", prompt_version="v", contract="c",
                           run_id=RunId("run-1"), samples=())


def test_the_window_follows_the_llm_slots() -> None:
    assert [extraction_window(n) for n in (1, 2, 3)] == [1, 4, 6]


def test_resuming_reads_back_what_is_done_and_extracts_the_rest_in_windows() -> None:
    chunks = _chunks(5)
    done = {chunks[1].id: _extraction(chunks[1])}
    windows: list[list[str]] = []
    recorded: list[str] = []
    seen: list[tuple[str, int, int]] = []

    def submit(window: Sequence[Chunk]) -> list[Callable[[], ChunkExtraction]]:
        windows.append([c.id for c in window])
        return [lambda c=c: _extraction(c) for c in window]

    out = extract_resuming(chunks, done, window=2, submit=submit,
                           record=lambda e: recorded.append(e.chunk.id),
                           progress=lambda *a: seen.append(a))
    assert [e.chunk.id for e in out] == [c.id for c in chunks]
    assert windows == [[chunks[0].id, chunks[2].id], [chunks[3].id, chunks[4].id]]
    assert recorded == [chunks[0].id, chunks[2].id, chunks[3].id, chunks[4].id]
    assert [s[1] for s in seen] == [1, 2, 3, 4, 5] and {s[2] for s in seen} == {5}


def test_a_failed_chunk_keeps_the_rest_of_its_window_and_stops_after_it() -> None:
    chunks = _chunks(4)
    recorded: list[str] = []

    def submit(window: Sequence[Chunk]) -> list[Callable[[], ChunkExtraction]]:
        def fail() -> ChunkExtraction:
            raise RuntimeError("LLM away")

        return [fail if c.id == chunks[0].id else (lambda c=c: _extraction(c)) for c in window]

    with pytest.raises(RuntimeError, match="LLM away"):
        extract_resuming(chunks, {}, window=2, submit=submit,
                         record=lambda e: recorded.append(e.chunk.id))
    assert recorded == [chunks[1].id]  # the second window never started


def test_a_ledger_run_stays_open_on_an_error_and_completes_otherwise(tmp_path: Path) -> None:
    with RunLedger(tmp_path / "ledger.sqlite") as ledger:
        with pytest.raises(ValueError), ledger_run(ledger, "key", store="sqlite:x") as run:
            raise ValueError("boom")
        [row] = ledger.runs()
        assert (row["status"], row["error"]) == ("open", "ValueError: boom")
        with ledger_run(ledger, "key", store="sqlite:x") as again:
            assert again.run_id == run.run_id and again.resumed
        [row] = ledger.runs()
        assert row["status"] == "complete"
