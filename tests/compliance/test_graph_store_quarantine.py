"""The quarantine across builds, the same on every backend (SQLite and real Neo4j): a record
refused again takes the new run's id, attempts and history and keeps every run that refused
it; one a later run covers and no longer refuses stays, marked resolved; nothing is keyed by
(subject, object)."""

from __future__ import annotations

import pytest

from pipeline.models import (
    AttemptRecord,
    CandidateTriple,
    Chunk,
    ExtractionScope,
    QuarantinedCandidate,
    RunId,
    Violation,
    ViolationReason,
)
from pipeline.store import GraphStore
from tests.compliance.graph_store_fixtures import Sample


def _refused(chunk: Chunk, predicate: str, run: str, *, attempts: int = 1, sample: int = 0,
             model: str = "fake-llm") -> QuarantinedCandidate:
    history = tuple(AttemptRecord(attempt=i, model=model, prompt_version="extract-v1",
                                  violations=(f"[unknown-predicate] {predicate} ({run})",))
                    for i in range(1, attempts + 1))
    return QuarantinedCandidate.make(
        chunk=chunk, raw=f"answer of {run}",
        candidate=CandidateTriple(subject="Ada Lovelace", predicate=predicate,
                                  object="Engine Company"),
        violations=(Violation(reason=ViolationReason.UNKNOWN_PREDICATE,
                              check="predicate-in-ontology", detail=f"{predicate} ({run})"),),
        model=model, prompt_version="extract-v1", run_id=RunId(run), attempts=attempts,
        sample_index=sample, history=history, samples_total=2)


def _scope(chunk: Chunk, run: str, *, samples: int = 2,
           model: str = "fake-llm") -> ExtractionScope:
    return ExtractionScope(run_id=RunId(run), chunk_id=chunk.id, model=model,
                           prompt_version="extract-v1", samples=samples)


def _key(q: QuarantinedCandidate) -> tuple[str, int]:
    return (q.candidate.predicate if q.candidate else "", q.sample_index)


def test_two_predicates_for_one_pair_are_two_records(store: GraphStore, sample: Sample) -> None:
    c1 = sample.chunks[0]
    written = [_refused(c1, "invented", "run-1"), _refused(c1, "sold", "run-1")]
    assert store.write_quarantine(written).created == 2
    assert sorted(_key(q) for q in store.quarantined()) == [("invented", 0), ("sold", 0)]


def test_a_record_refused_again_takes_the_new_run_and_keeps_every_run(
        store: GraphStore, sample: Sample) -> None:
    c1 = sample.chunks[0]
    first = _refused(c1, "invented", "run-1")
    assert first.runs == ("run-1",)
    store.write_quarantine([first], covered=[_scope(c1, "run-1")])
    version = store.version()
    again = _refused(c1, "invented", "run-2", attempts=3)
    result = store.write_quarantine([again], covered=[_scope(c1, "run-2")])
    assert (result.created, result.updated) == (0, 1)
    [stored] = store.quarantined()
    assert stored.id == first.id
    assert (stored.run_id, stored.attempts, stored.runs) == ("run-2", 3, ("run-1", "run-2"))
    assert stored.history == again.history and stored.raw == "answer of run-2"
    assert stored.violations == again.violations and stored.resolved_by is None
    assert store.version() > version
    # the same write twice changes nothing the second time
    version = store.version()
    result = store.write_quarantine([again], covered=[_scope(c1, "run-2")])
    assert (result.created, result.updated) == (0, 0)
    assert store.quarantined() == [stored] and store.version() == version


def test_a_record_the_next_run_covers_and_does_not_refuse_is_kept_resolved(
        store: GraphStore, sample: Sample) -> None:
    c1, c2 = sample.chunks[0], sample.chunks[1]
    kept = [_refused(c1, "invented", "run-1"), _refused(c1, "sold", "run-1"),
            _refused(c1, "sold", "run-1", sample=1), _refused(c2, "invented", "run-1"),
            _refused(c1, "invented", "run-1", model="other-llm")]
    store.write_quarantine(kept, covered=[_scope(c1, "run-1"), _scope(c2, "run-1")])
    # run 2 extracts chunk 1 with one sample of fake-llm and refuses only "sold" there
    result = store.write_quarantine([_refused(c1, "sold", "run-2")],
                                    covered=[_scope(c1, "run-2", samples=1)])
    assert (result.created, result.updated) == (0, 2)
    found = {(_key(q), q.model, q.chunk_id == c1.id): (q.run_id, q.resolved_by)
             for q in store.quarantined()}
    assert found == {
        (("invented", 0), "fake-llm", True): ("run-1", "run-2"),  # resolved, kept
        (("sold", 0), "fake-llm", True): ("run-2", None),  # refused again
        (("sold", 1), "fake-llm", True): ("run-1", None),  # a sample run 2 did not draw
        (("invented", 0), "fake-llm", False): ("run-1", None),  # a chunk it did not extract
        (("invented", 0), "other-llm", True): ("run-1", None),  # another model's
    }
    # refused again later: open again, every refusing run kept
    third = _refused(c1, "invented", "run-3")
    store.write_quarantine([third], covered=[_scope(c1, "run-3", samples=1)])
    [reopened] = [q for q in store.quarantined() if q.id == third.id]
    assert (reopened.resolved_by, reopened.runs) == (None, ("run-1", "run-3"))


def test_resolving_is_idempotent_and_a_run_does_not_resolve_its_own_refusal(
        store: GraphStore, sample: Sample) -> None:
    c1 = sample.chunks[0]
    first = _refused(c1, "invented", "run-1")
    store.write_quarantine([first], covered=[_scope(c1, "run-1")])
    assert store.write_quarantine([], covered=[_scope(c1, "run-1")]).updated == 0
    assert store.write_quarantine([], covered=[_scope(c1, "run-2")]).updated == 1
    version = store.version()
    assert store.write_quarantine([], covered=[_scope(c1, "run-2")]).updated == 0
    [resolved] = store.quarantined()
    assert resolved.resolved_by == "run-2" and store.version() == version
    # a still later run that covers it again leaves the first resolution as it was
    assert store.write_quarantine([], covered=[_scope(c1, "run-3")]).updated == 0
    assert store.quarantined() == [resolved]


@pytest.mark.parametrize("twice", [False, True])
def test_one_record_written_twice_in_a_batch_is_one_record(
        store: GraphStore, sample: Sample, twice: bool) -> None:
    c1 = sample.chunks[0]
    batch = [_refused(c1, "invented", "run-1"), _refused(c1, "invented", "run-2", attempts=2)]
    if twice:
        store.write_quarantine(batch[:1])
    result = store.write_quarantine(batch)
    assert (result.created, result.updated) == ((0, 1) if twice else (1, 0))
    [stored] = store.quarantined()
    assert (stored.run_id, stored.attempts, stored.runs) == ("run-2", 2, ("run-1", "run-2"))
