"""The quarantine end to end (``pipeline.store.quarantine``): what a scripted LLM's answers
leave in the store after extraction, confidence, the graph checks and ``store_run``, and what
a second build does to the records of the first. Nothing is keyed by (subject, object): two
predicates for one pair are two records, in every stage."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from pipeline.build import store_run
from pipeline.confidence import AgreementScorer
from pipeline.contracts import TripleContract, load_contract
from pipeline.extract import LLMExtractor
from pipeline.models import (
    Chunk,
    Ontology,
    QuarantinedCandidate,
    RunId,
    ScoredGraph,
    ViolationReason,
)
from pipeline.store import GraphStore, SQLiteGraphStore
from pipeline.verify import run_graph_checks
from tests.toy_ontology import answer

#: two statements about one pair, both refused (neither predicate is in the ontology)
TWO_PREDICATES = answer(("Acme Rockets", "invented", "Seattle"),
                        ("Acme Rockets", "sells", "Seattle"))
GOOD = answer(("Acme Rockets", "founded by", "Ada Byron"),
              ("Acme Rockets", "based in", "Seattle"))


def _run(chunk: Chunk, toy: Ontology, responses: list[str], run: str, *, samples: int = 1,
         retries: int = 0) -> ScoredGraph:
    """One build's stages up to the store: extraction, confidence, graph checks."""
    contract = TripleContract(load_contract("extraction"))
    ex = LLMExtractor(FakeListChatModel(responses=responses), contract, samples=samples,
                      max_retries=retries, model_name="fake", sleep=lambda s: None)
    extraction = ex.extract(chunk, toy, run_id=RunId(run))
    scored = AgreementScorer().score([extraction], toy)
    return run_graph_checks(scored, toy, contract.spec).graph


def _store(store: GraphStore, chunk: Chunk, toy: Ontology, scored: ScoredGraph,
           run: str) -> None:
    store.upsert_documents([], [])
    store_run(store, scored, toy, run)


def _statements(items: list[QuarantinedCandidate]) -> list[tuple[str, int]]:
    return sorted((q.candidate.predicate if q.candidate else "", q.sample_index)
                  for q in items)


def test_two_refused_predicates_for_one_pair_are_two_records_in_the_store(
        chunk: Chunk, toy: Ontology, tmp_path: Path) -> None:
    scored = _run(chunk, toy, [TWO_PREDICATES] * 4, "run-1", samples=2, retries=1)
    with SQLiteGraphStore(tmp_path / "kg.sqlite") as store:
        _store(store, chunk, toy, scored, "run-1")
        stored = store.quarantined()
    # two statements in each of two samples: four records, none overwriting another
    assert _statements(stored) == [("invented", 0), ("invented", 1), ("sells", 0), ("sells", 1)]
    assert all(q.primary_reason is ViolationReason.UNKNOWN_PREDICATE for q in stored)
    assert all(q.samples_total == 2 and q.attempts == 2 and q.runs == ("run-1",)
               for q in stored)


def test_a_refusal_beside_an_accepted_predicate_is_kept_when_the_retry_drops_it(
        chunk: Chunk, toy: Ontology, tmp_path: Path) -> None:
    """The retry repeats the accepted statement and leaves the refused one out: that is no
    correction of the refused predicate, so its refusal stands."""
    first = answer(("Acme Rockets", "invented", "Seattle"), ("Acme Rockets", "based in", "Seattle"))
    again = answer(("Acme Rockets", "based in", "Seattle"))
    scored = _run(chunk, toy, [first, again], "run-1", retries=1)
    assert len(scored.assertions) == 1
    with SQLiteGraphStore(tmp_path / "kg.sqlite") as store:
        _store(store, chunk, toy, scored, "run-1")
        assert _statements(store.quarantined()) == [("invented", 0)]


def test_a_retry_that_corrects_the_predicate_leaves_no_refusal(
        chunk: Chunk, toy: Ontology) -> None:
    scored = _run(chunk, toy, [answer(("Acme Rockets", "invented", "Seattle")),
                               answer(("Acme Rockets", "based in", "Seattle"))], "run-1",
                  retries=1)
    assert len(scored.assertions) == 1 and scored.quarantined == ()


def test_a_second_build_that_refuses_again_updates_the_record_and_keeps_both_runs(
        chunk: Chunk, toy: Ontology, tmp_path: Path) -> None:
    with SQLiteGraphStore(tmp_path / "kg.sqlite") as store:
        _store(store, chunk, toy, _run(chunk, toy, [TWO_PREDICATES], "run-1"), "run-1")
        first = store.quarantined()
        # the second build retries once more: its own attempts and history
        _store(store, chunk, toy, _run(chunk, toy, [TWO_PREDICATES] * 2, "run-2", retries=1),
               "run-2")
        second = store.quarantined()
    assert [q.id for q in second] == [q.id for q in first]
    assert all(q.run_id == "run-1" and q.attempts == 1 for q in first)
    assert all(q.run_id == "run-2" and q.attempts == 2 and len(q.history) == 2
               and q.runs == ("run-1", "run-2") and q.resolved_by is None for q in second)


def test_a_second_build_that_accepts_resolves_the_record_and_a_third_reopens_it(
        chunk: Chunk, toy: Ontology, tmp_path: Path) -> None:
    with SQLiteGraphStore(tmp_path / "kg.sqlite") as store:
        _store(store, chunk, toy, _run(chunk, toy, [TWO_PREDICATES], "run-1"), "run-1")
        _store(store, chunk, toy, _run(chunk, toy, [GOOD], "run-2"), "run-2")
        resolved = store.quarantined()
        assert len(store.assertions()) == 2
        _store(store, chunk, toy, _run(chunk, toy, [TWO_PREDICATES], "run-3"), "run-3")
        reopened = store.quarantined()
    # kept as history, marked resolved by the run that no longer refused them
    assert _statements(resolved) == [("invented", 0), ("sells", 0)]
    assert all(q.resolved_by == "run-2" and q.run_id == "run-1" for q in resolved)
    assert all(q.resolved_by is None and q.runs == ("run-1", "run-3") for q in reopened)


def test_a_build_of_more_samples_resolves_only_the_samples_it_drew(
        chunk: Chunk, toy: Ontology, tmp_path: Path) -> None:
    with SQLiteGraphStore(tmp_path / "kg.sqlite") as store:
        _store(store, chunk, toy, _run(chunk, toy, [TWO_PREDICATES] * 2, "run-1", samples=2),
               "run-1")
        _store(store, chunk, toy, _run(chunk, toy, [GOOD], "run-2", samples=1), "run-2")
        by_sample = {(q.candidate.predicate if q.candidate else "", q.sample_index):
                     q.resolved_by for q in store.quarantined()}
    assert by_sample == {("invented", 0): "run-2", ("sells", 0): "run-2",
                         ("invented", 1): None, ("sells", 1): None}


_OLD_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE quarantine (
    id TEXT PRIMARY KEY, chunk_id TEXT NOT NULL, document_id TEXT NOT NULL,
    run_id TEXT NOT NULL, reason TEXT NOT NULL, payload TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('schema', 1), ('version', 3);
"""


def test_a_store_written_before_runs_were_kept_is_migrated(
        chunk: Chunk, toy: Ontology, tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    [old] = [q for q in _run(chunk, toy, [TWO_PREDICATES], "run-1").quarantined
             if q.candidate and q.candidate.predicate == "sells"]
    payload = json.loads(old.model_dump_json())
    for key in ("runs", "resolved_by", "samples_total"):  # what an older VeriKG wrote
        del payload[key]
    conn = sqlite3.connect(path)
    conn.executescript(_OLD_SCHEMA)
    conn.execute("INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?)",
                 (old.id, old.chunk_id, old.document_id, old.run_id, "unknown-predicate",
                  json.dumps(payload)))
    conn.commit()
    conn.close()
    with SQLiteGraphStore(path) as store:
        [read] = store.quarantined()
        assert read.runs == ("run-1",) and read.resolved_by is None
        _store(store, chunk, toy, _run(chunk, toy, [GOOD], "run-2"), "run-2")
        [resolved] = store.quarantined()
    assert resolved.resolved_by == "run-2" and resolved.id == old.id
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT resolved_by FROM quarantine").fetchall() == [("run-2",)]
    finally:
        conn.close()
