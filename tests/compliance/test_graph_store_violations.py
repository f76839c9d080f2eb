"""Soft violations on assertions, on every backend: stored with the statement, read back exactly
by every read, replaced by the newest write (an empty tuple clears them) like the confidence,
counted and audited as an update, and listed for review by ``flagged()``."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.errors import PermissionDeniedError
from pipeline.models import (
    AddAssertion,
    Assertion,
    AssertionStatus,
    RemoveAssertion,
    SetStatus,
    Severity,
    Violation,
    ViolationReason,
)
from pipeline.store import GraphStore, Neo4jGraphStore, SQLiteGraphStore, canonical
from tests.compliance.graph_store_fixtures import (
    EX,
    INJECTIONS,
    Sample,
    assertion,
    snapshot,
)

SHACL = Violation(reason=ViolationReason.SHACL_VIOLATION, check="shacl",
                  detail="Engine Company is not a sh:class ex:Organization",
                  severity=Severity.SOFT)
DOMAIN = Violation(reason=ViolationReason.DOMAIN_MISMATCH, check="types-fit-domain-range",
                   detail="the subject is a City, the domain is Person", severity=Severity.SOFT)
RANGE = Violation(reason=ViolationReason.RANGE_MISMATCH, check="types-fit-domain-range",
                  detail="the object is a Person, the range is Organization",
                  severity=Severity.SOFT)
CONFLICT = Violation(reason=ViolationReason.FUNCTIONAL_CONFLICT, check="functional-conflict",
                     detail="foundedYear has 2 values", severity=Severity.SOFT)
ISLAND = Violation(reason=ViolationReason.ISOLATED_ISLAND, check="isolated-islands",
                   detail="an island of 2 entities", severity=Severity.INFO)


def flag(a: Assertion, *violations: Violation, **update: object) -> Assertion:
    return a.model_copy(update={"violations": violations, **update})


def test_violations_round_trip_through_every_read(store: GraphStore, sample: Sample) -> None:
    works = flag(sample.works, DOMAIN, RANGE, SHACL)  # order kept, two of one check
    founded = flag(sample.founded, CONFLICT)
    written = sorted([works, sample.located, sample.babbage_works, founded],
                     key=lambda a: a.id)
    store.upsert_documents(sample.documents, sample.chunks)
    assert store.write_assertions(written).created == 4
    assert store.assertions() == written
    for a in written:
        assert store.get_assertion(a.id) == a
    assert store.assertions(status=AssertionStatus.DRAFT) == written
    assert store.neighbours(sample.company.id) == written
    got = store.get_assertion(works.id)
    assert got is not None and got.violations == (DOMAIN, RANGE, SHACL)
    assert got.violation_checks == ("shacl", "types-fit-domain-range")
    assert store.get_assertion(sample.located.id).violations == ()  # type: ignore[union-attr]


def test_flagged_lists_assertions_with_soft_violations(store: GraphStore,
                                                       sample: Sample) -> None:
    works = flag(sample.works, DOMAIN, SHACL)
    founded = flag(sample.founded, CONFLICT)
    island = flag(sample.located, ISLAND)  # informational: reported, not flagged
    store.write_assertions([works, founded, island, sample.babbage_works])
    assert store.flagged() == sorted([works, founded], key=lambda a: a.id)
    assert store.flagged("shacl") == [works]
    assert store.flagged("types-fit-domain-range") == [works]
    assert store.flagged("functional-conflict") == [founded]
    assert store.flagged("isolated-islands") == []
    assert store.flagged("no-such-check") == [] and store.flagged("shac") == []
    assert store.get_assertion(island.id) == island  # still stored and read with its note


def test_flagged_on_an_empty_or_unflagged_store_is_empty(filled: GraphStore) -> None:
    assert filled.flagged() == [] and filled.flagged("shacl") == []


def test_a_rewrite_replaces_the_violations_like_the_confidence(filled: GraphStore,
                                                               sample: Sample) -> None:
    first = flag(sample.works, DOMAIN, confidence=0.45)
    version, entries = filled.version(), len(filled.audit_log())
    result = filled.write_assertions([first])
    assert (result.created, result.updated) == (0, 1)
    assert filled.get_assertion(sample.works.id) == first
    assert filled.version() == version + 1
    assert [(e.action, e.detail) for e in filled.audit_log()[entries:]] == [
        ("write_assertions", "created=0 updated=1")]
    # the newest graph check decides: another set of violations replaces the stored one
    second = flag(sample.works, SHACL, confidence=0.45)
    assert filled.write_assertions([second]).updated == 1
    assert filled.get_assertion(sample.works.id) == second
    assert filled.flagged("types-fit-domain-range") == [] and filled.flagged() == [second]
    # the same write again changes nothing, not even the version
    before = snapshot(filled)
    assert (filled.write_assertions([second]).updated, snapshot(filled)) == (0, before)
    # an empty tuple clears them
    assert filled.write_assertions([flag(second)]).updated == 1
    assert filled.get_assertion(sample.works.id).violations == ()  # type: ignore[union-attr]
    assert filled.flagged() == []


def test_a_rewrite_keeps_the_status_and_takes_the_violations(filled: GraphStore,
                                                             sample: Sample) -> None:
    filled.apply_changes([SetStatus(assertion_id=sample.works.id,
                                    status=AssertionStatus.CERTIFIED)],
                         actor="carol", role="certifier")
    filled.write_assertions([flag(sample.works, SHACL)])
    stored = filled.get_assertion(sample.works.id)
    assert stored is not None and stored.status is AssertionStatus.CERTIFIED
    assert stored.violations == (SHACL,)
    assert filled.flagged() == [stored]


def test_duplicates_in_one_batch_take_the_last_violations(store: GraphStore,
                                                          sample: Sample) -> None:
    first, *_ = sample.works.provenance
    a = flag(sample.works, DOMAIN, provenance=(first,))
    b = flag(sample.works, SHACL, confidence=0.5)
    assert store.write_assertions([a, b]).created == 1
    assert store.assertions() == [flag(sample.works, SHACL, confidence=0.5)]
    store.write_assertions([b, flag(sample.works, confidence=0.5)])
    assert store.flagged() == []


def test_a_merged_add_records_the_violations_before_and_after(filled: GraphStore,
                                                              sample: Sample) -> None:
    filled.write_assertions([flag(sample.works, DOMAIN)])
    filled.apply_changes([AddAssertion(assertion=flag(sample.works, SHACL, confidence=0.3))],
                         actor="cur", role="curator")
    entry = filled.audit_log()[-1]
    before, after = json.loads(entry.before), json.loads(entry.after)
    assert before["violations"] == [DOMAIN.model_dump(mode="json")]
    assert after["violations"] == [SHACL.model_dump(mode="json")]
    assert (before["confidence"], after["confidence"]) == (0.9, 0.3)
    assert filled.flagged("shacl")[0].confidence == 0.3
    # removing a flagged assertion records what it carried; an unflagged one has no such key
    filled.apply_changes([RemoveAssertion(assertion_id=sample.works.id),
                          RemoveAssertion(assertion_id=sample.located.id)],
                         actor="cur", role="curator")
    removed, plain = filled.audit_log()[-2:]
    assert json.loads(removed.before)["violations"][0]["check"] == "shacl"
    assert "violations" not in json.loads(plain.before)
    assert filled.flagged() == []


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_looking_violations_are_stored_verbatim(store: GraphStore, sample: Sample,
                                                          text: str) -> None:
    odd = Violation(reason=ViolationReason.SHACL_VIOLATION, check=text, detail=text,
                    severity=Severity.SOFT)
    a = flag(sample.works, odd)
    store.write_assertions([a])
    assert store.get_assertion(a.id) == a
    assert store.flagged(text) == [a] and store.flagged() == [a]
    assert store.counts().assertions == 1


def test_a_refused_batch_leaves_the_violations_as_they_were(filled: GraphStore,
                                                            sample: Sample) -> None:
    filled.write_assertions([flag(sample.works, SHACL)])
    before = snapshot(filled)
    certified = assertion(sample.people[1], EX + "knows", sample.people[0],
                          status=AssertionStatus.CERTIFIED)
    with pytest.raises(PermissionDeniedError, match="certif"):
        filled.write_assertions([flag(sample.works, DOMAIN), certified])
    assert snapshot(filled) == before and filled.flagged() == [flag(sample.works, SHACL)]


# --------------------------------------------------------------------------- per backend


def test_sqlite_adds_the_violations_column_to_an_older_store(tmp_path: Path,
                                                            sample: Sample) -> None:
    path = tmp_path / "old.sqlite"
    with SQLiteGraphStore(path) as st:
        st.upsert_documents(sample.documents, sample.chunks)
        st.write_assertions(sample.assertions)
    # what an earlier VeriKG wrote: no violations column (nor its index)
    conn = sqlite3.connect(path)
    conn.execute("DROP INDEX assertions_flagged")
    conn.execute("ALTER TABLE assertions DROP COLUMN violations")
    conn.commit()
    conn.close()
    with SQLiteGraphStore(path) as st:
        assert st.assertions() == sample.assertions and st.flagged() == []
        assert st.write_assertions([flag(sample.works, SHACL)]).updated == 1
        assert st.flagged() == [flag(sample.works, SHACL)]


def test_sqlite_reads_flagged_through_its_partial_index(tmp_path: Path) -> None:
    with SQLiteGraphStore(tmp_path / "kg.sqlite") as st:
        conn = st._require()
        plan = " ".join(str(r[-1]) for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM assertions a WHERE a.violations <> '[]'"))
    assert "assertions_flagged" in plan


@pytest.mark.neo4j
def test_neo4j_keeps_violations_as_properties_only_when_there_are_some(
        neo4j_store: Neo4jGraphStore, sample: Sample) -> None:
    neo4j_store.reset()
    neo4j_store.write_assertions([flag(sample.works, DOMAIN, RANGE, SHACL), sample.located])
    driver = neo4j_store._driver
    assert driver is not None
    with driver.session(database=neo4j_store._database) as session:
        rows = {r["id"]: r for r in session.run(
            "MATCH (a:Assertion) RETURN a.id AS id, a.violations AS violations, "
            "a.violation_checks AS checks")}
        flagged, plain = rows[sample.works.id], rows[sample.located.id]
        assert flagged["checks"] == ["shacl", "types-fit-domain-range"]
        assert [v["check"] for v in json.loads(flagged["violations"])] == [
            "types-fit-domain-range", "types-fit-domain-range", "shacl"]
        assert plain["violations"] is None and plain["checks"] is None
        # a node written before violations were stored reads as unflagged
        session.run("MATCH (a:Assertion {id: $id}) REMOVE a.violations, a.violation_checks",
                    id=sample.works.id).consume()
    assert neo4j_store.get_assertion(sample.works.id).violations == ()  # type: ignore[union-attr]
    assert neo4j_store.flagged() == []
    # clearing removes the properties again
    neo4j_store.write_assertions([flag(sample.located, SHACL)])
    neo4j_store.write_assertions([sample.located])
    with driver.session(database=neo4j_store._database) as session:
        record = session.run("MATCH (a:Assertion {id: $id}) RETURN keys(a) AS keys",
                             id=sample.located.id).single()
    assert record is not None and "violations" not in record["keys"]
    assert "violation_checks" not in record["keys"]


@pytest.mark.neo4j
def test_both_backends_agree_on_violations(tmp_path: Path, neo4j_store: Neo4jGraphStore,
                                           sample: Sample) -> None:
    neo4j_store.reset()
    with SQLiteGraphStore(tmp_path / "kg.sqlite") as lite:
        for backend in (lite, neo4j_store):
            backend.upsert_documents(sample.documents, sample.chunks)
            backend.write_assertions([flag(sample.works, DOMAIN, SHACL),
                                      flag(sample.founded, CONFLICT),
                                      flag(sample.located, ISLAND), sample.babbage_works])
            backend.write_assertions([flag(sample.works, SHACL, confidence=0.4),
                                      flag(sample.founded)])
            backend.apply_changes([AddAssertion(assertion=flag(sample.babbage_works, RANGE))],
                                  actor="ann", role="admin")
        reads: list[Callable[[GraphStore], object]] = [
            lambda s: s.assertions(), lambda s: s.flagged(), lambda s: s.flagged("shacl"),
            lambda s: s.flagged("types-fit-domain-range"), lambda s: s.counts(),
            lambda s: s.neighbours(sample.company.id),
            lambda s: [(e.actor, e.action, e.target, e.detail, e.before, e.after)
                       for e in s.audit_log()]]
        for read in reads:
            assert read(lite) == read(neo4j_store)
        assert [a.id for a in lite.flagged()] == sorted([sample.works.id,
                                                         sample.babbage_works.id])


def test_canonical_keeps_violations(sample: Sample) -> None:
    a = flag(sample.works, SHACL, DOMAIN)
    assert canonical(a).violations == (SHACL, DOMAIN)


@pytest.mark.neo4j
def test_neo4j_keeps_informational_violations_without_flagging(
        neo4j_store: Neo4jGraphStore, sample: Sample) -> None:
    neo4j_store.reset()
    island = flag(sample.located, ISLAND)
    neo4j_store.write_assertions([island, flag(sample.works, SHACL)])
    neo4j_store.write_assertions([flag(sample.works, SHACL, ISLAND)])  # replaced by a write
    driver = neo4j_store._driver
    assert driver is not None
    with driver.session(database=neo4j_store._database) as session:
        rows = {r["id"]: (r["violations"] is not None, r["checks"]) for r in session.run(
            "MATCH (a:Assertion) RETURN a.id AS id, a.violations AS violations, "
            "a.violation_checks AS checks")}
    assert rows == {island.id: (True, None), sample.works.id: (True, ["shacl"])}
    assert neo4j_store.get_assertion(island.id) == island
    assert neo4j_store.flagged() == [flag(sample.works, SHACL, ISLAND)]
    assert neo4j_store.flagged("isolated-islands") == []
