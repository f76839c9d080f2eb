"""Across builds: sources reinforce a stored triple, and a functional property's new value
contests the stored one (or loses to it), with the change audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.build_tasks import store_assertions
from pipeline.confidence import confidence_of
from pipeline.models import (
    IRI,
    Assertion,
    AssertionStatus,
    ChunkId,
    DocumentId,
    EntityRef,
    LiteralValue,
    Ontology,
    Provenance,
    RunId,
    ScoredGraph,
    Span,
    Triple,
)
from pipeline.store import open_store

T = "https://example.org/toy#"
ACME = EntityRef.make("Acme Rockets", T + "Company")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _year(value: str, chunk: str, agreeing: int, day: int) -> Assertion:
    prov = Provenance(document_id=DocumentId("doc:1"), chunk_id=ChunkId(chunk),
                      span=Span(start=0, end=5), quote="q", model="m", prompt_version="v",
                      run_id=RunId(f"run-{day}"), attempts=1, samples_agreeing=agreeing,
                      samples_total=3, seen_at=T0 + timedelta(days=day))
    triple = Triple(subject=ACME, predicate=IRI(T + "foundingYear"),
                    object=LiteralValue(value=value, datatype=IRI(
                        "http://www.w3.org/2001/XMLSchema#gYear")))
    return Assertion.of(triple, confidence=confidence_of([prov]), provenance=(prov,))


def _store(scored: list[Assertion], store, toy: Ontology, run: str) -> int:  # noqa: ANN001
    return store_assertions.fn(store, ScoredGraph(assertions=tuple(scored), quarantined=()),
                               toy, run)


def test_sources_reinforce_across_runs_and_reruns_add_nothing(tmp_path: Path,
                                                              toy: Ontology) -> None:
    with open_store(f"sqlite:{tmp_path / 'kg.sqlite'}") as store:
        first = _year("1998", "c1", 1, 1)  # 1 of 3 samples
        assert _store([first], store, toy, "run-1") == 1
        again = _year("1998", "c2", 2, 2)  # another chunk, 2 of 3
        assert _store([again], store, toy, "run-2") == 0
        stored = store.get_assertion(first.id)
        assert stored is not None and len(stored.provenance) == 2
        assert stored.confidence == pytest.approx(1 - (1 - 1 / 3) * (1 - 2 / 3), abs=1e-6)
        assert (stored.first_seen, stored.last_seen) == (T0 + timedelta(days=1),
                                                         T0 + timedelta(days=2))
        _store([again], store, toy, "run-2b")  # the same source again: nothing changes
        assert store.get_assertion(first.id) == stored


def test_a_functional_value_from_a_later_run_contests_the_stored_one(tmp_path: Path,
                                                                     toy: Ontology) -> None:
    with open_store(f"sqlite:{tmp_path / 'kg.sqlite'}") as store:
        old = _year("1998", "c1", 1, 1)
        _store([old], store, toy, "run-1")
        new = _year("1999", "c2", 3, 2)  # all samples agree: more confident
        _store([new], store, toy, "run-2")
        got = {a.triple.object_label: a.status for a in store.assertions()}
        assert got == {"1998": AssertionStatus.CONTESTED, "1999": AssertionStatus.DRAFT}
        assert store.counts().contested == 1
        audit = [e for e in store.audit_log() if e.target == old.id]
        assert audit and "run-2" in audit[-1].actor
        # a weaker third value loses and is written contested; the winner stays
        weak = _year("2000", "c3", 1, 3)
        _store([weak], store, toy, "run-3")
        got = {a.triple.object_label: a.status for a in store.assertions()}
        assert got == {"1998": AssertionStatus.CONTESTED, "1999": AssertionStatus.DRAFT,
                       "2000": AssertionStatus.CONTESTED}
