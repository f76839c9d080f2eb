"""The run ledger: runs resume until complete, extractions read back exactly, stages only
move forward, and a damaged ledger is a clear error."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.errors import StoreError
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
