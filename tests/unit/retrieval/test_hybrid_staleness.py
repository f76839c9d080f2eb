"""The retriever never searches a stale index silently: it refreshes it with a delta before
each search (default) or refuses with StaleIndexError (``auto_refresh=False``), and it never
returns an assertion the store no longer holds, even when another writer removed it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.errors import StaleIndexError
from pipeline.index.kg_index import KGIndex
from pipeline.models import (
    IRI,
    AddAssertion,
    Assertion,
    AssertionId,
    AssertionStatus,
    ChunkId,
    DocumentId,
    EntityRef,
    Provenance,
    RemoveAssertion,
    RunId,
    SetStatus,
    Severity,
    Span,
    Triple,
    Violation,
    ViolationReason,
)
from pipeline.retrieval import HybridRetriever
from pipeline.store.sqlite import SQLiteGraphStore
from tests.fakes import FakeEmbedder

NS = "https://example.org/space#"


def fact(subject: str, predicate: str, obj: str, quote: str) -> Assertion:
    p = Provenance(document_id=DocumentId("doc:1"), chunk_id=ChunkId("chunk:1"),
                   span=Span(start=0, end=len(quote)), quote=quote, model="hand",
                   prompt_version="v1", run_id=RunId("run-test"), attempts=1)
    return Assertion.of(Triple(subject=EntityRef.make(subject, NS + "Mission"),
                               predicate=IRI(NS + predicate),
                               object=EntityRef.make(obj, NS + "Organization")),
                        confidence=0.8, provenance=(p,))


FACTS = [fact(f"Mission {i}", "operatedBy", f"Agency {i % 4}", f"Mission {i} was run by "
              f"Agency {i % 4}") for i in range(12)]
EVERYTHING = 'kind == "assertion" or kind == "entity"'


@pytest.fixture()
def path(tmp_path: Path) -> Path:
    return tmp_path / "kg.sqlite"


@pytest.fixture()
def store(path: Path) -> Iterator[SQLiteGraphStore]:
    s = SQLiteGraphStore(path)
    s.open()
    s.write_assertions(FACTS)
    yield s
    s.close()


@pytest.fixture()
def other_writer(path: Path, store: SQLiteGraphStore) -> Iterator[SQLiteGraphStore]:
    """A second connection to the same file: a writer the retriever knows nothing about."""
    s = SQLiteGraphStore(path)
    s.open()
    yield s
    s.close()


@pytest.fixture()
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


def returned_ids(retriever: HybridRetriever, k: int = 100) -> set[str]:
    hits = retriever.search_batch(["Mission run by an agency", "Agency 1"], k=k,
                                  where=EVERYTHING, expand=0)
    return {h.id for per_query in hits for h in per_query}


def test_a_removed_assertion_is_never_returned(store: SQLiteGraphStore,
                                               other_writer: SQLiteGraphStore,
                                               embedder: FakeEmbedder) -> None:
    index = KGIndex.build(store, embedder)
    retriever = HybridRetriever(store, index, embedder)
    assert {a.id for a in FACTS} <= returned_ids(retriever)
    removed: set[str] = set()
    for victim in FACTS[::3]:
        other_writer.apply_changes([RemoveAssertion(assertion_id=victim.id)], actor="bob",
                                   role="curator")
        removed.add(victim.id)
        assert index.is_stale(store)
        got = returned_ids(retriever)
        assert not got & removed
        assert {a.id for a in FACTS} - removed <= got
        last = index.last_refresh
        assert last is not None and last.action == "delta" and last.removed == 1
        assert last.embedded == 0 and not index.is_stale(store)


def test_a_removal_during_hydration_is_not_returned(store: SQLiteGraphStore,
                                                    other_writer: SQLiteGraphStore,
                                                    embedder: FakeEmbedder) -> None:
    """The store changes between the index search and the hydration of its hits: the search
    runs again on the refreshed index instead of answering with what was removed."""
    victim = FACTS[0]

    class Racing(SQLiteGraphStore):
        raced = False

        def get_assertion(self, assertion_id: AssertionId) -> Assertion | None:
            if not self.raced:
                self.raced = True
                other_writer.apply_changes([RemoveAssertion(assertion_id=victim.id)],
                                           actor="bob", role="curator")
            return super().get_assertion(assertion_id)

    racing = Racing(store.path)
    racing.open()
    try:
        retriever = HybridRetriever(racing, KGIndex.build(racing, embedder), embedder)
        hits = retriever.search(victim.provenance[0].quote, k=5, where='kind == "assertion"')
        assert racing.raced and victim.id not in {h.id for h in hits}
        assert all(h.assertion is not None for h in hits)
        assert not retriever.index.is_stale(racing)
    finally:
        racing.close()


def test_a_status_change_reaches_the_filter_without_embedding(
        store: SQLiteGraphStore, other_writer: SQLiteGraphStore, embedder: FakeEmbedder) -> None:
    retriever = HybridRetriever(store, KGIndex.build(store, embedder), embedder)
    where = "status == 'certified'"
    assert retriever.search("Mission", k=5, where=where) == []
    other_writer.apply_changes([SetStatus(assertion_id=FACTS[5].id,
                                          status=AssertionStatus.CERTIFIED)],
                               actor="cy", role="certifier")
    embedder.calls.clear()
    hits = retriever.search("Mission", k=5, where=where)
    assert [h.id for h in hits] == [FACTS[5].id]
    assert hits[0].assertion is not None
    assert hits[0].assertion.status is AssertionStatus.CERTIFIED
    assert retriever.index.last_embedded == 0
    assert embedder.calls == [["Mission"]]  # the query only


def test_new_soft_violations_reach_the_filter_without_embedding(
        store: SQLiteGraphStore, other_writer: SQLiteGraphStore, embedder: FakeEmbedder) -> None:
    """Another writer's graph check flags a statement: the next search filters on it (a
    delta of one row's attributes), and the context tells the reader the fact is flagged."""
    retriever = HybridRetriever(store, KGIndex.build(store, embedder), embedder)
    where = '"shacl" in violations'
    assert retriever.search("Mission", k=5, where=where) == []
    shacl = Violation(reason=ViolationReason.SHACL_VIOLATION, check="shacl",
                      detail="Agency 3 is not an Organization", severity=Severity.SOFT)
    other_writer.write_assertions([FACTS[3].model_copy(update={"violations": (shacl,),
                                                               "confidence": 0.4})])
    embedder.calls.clear()
    hits = retriever.search("Mission", k=5, where=where)
    assert [h.id for h in hits] == [FACTS[3].id]
    assert hits[0].assertion is not None and hits[0].assertion.violations == (shacl,)
    assert retriever.index.last_embedded == 0 and embedder.calls == [["Mission"]]
    clean = retriever.search_batch(["Mission 3"], k=50, where="kind == 'assertion' and "
                                                             "violations == 0", expand=0)[0]
    assert FACTS[3].id not in {h.id for h in clean} and len(clean) == len(FACTS) - 1
    text = retriever.context("Mission 3", k=1, where=where).render()
    assert "confidence 0.40, draft, flagged: shacl" in text
    # a violation kept as information only (an outvoted declaration) flags nothing
    info = shacl.model_copy(update={"severity": Severity.INFO})
    other_writer.write_assertions([FACTS[3].model_copy(update={"violations": (info,)})])
    every = "kind == 'assertion'"
    hit = next(h for h in retriever.search("Mission 3", k=50, where=every)
               if h.id == FACTS[3].id)
    assert hit.assertion is not None and hit.assertion.violations == (info,)
    text = retriever.context("Mission 3", k=50, where=every).render()
    line = next(x for x in text.splitlines() if x.startswith("[") and hit.label in x)
    assert line.endswith("draft)") and "flagged" not in text
    # cleared by the next write: unflagged again, nothing embedded
    other_writer.write_assertions([FACTS[3]])
    assert retriever.search("Mission", k=5, where=where) == []
    assert retriever.index.last_embedded == 0


def test_without_auto_refresh_a_stale_index_raises(store: SQLiteGraphStore,
                                                   other_writer: SQLiteGraphStore,
                                                   embedder: FakeEmbedder) -> None:
    index = KGIndex.build(store, embedder)
    retriever = HybridRetriever(store, index, embedder, auto_refresh=False)
    assert FACTS[1].id in returned_ids(retriever)  # fresh: searches normally
    other_writer.apply_changes([RemoveAssertion(assertion_id=FACTS[1].id)], actor="bob",
                               role="curator")
    version = index.version
    with pytest.raises(StaleIndexError, match="refresh the index"):
        retriever.search("Mission", k=3)
    assert index.version == version  # it did not refresh behind the caller's back
    result = index.sync(store)
    assert result.action == "delta" and result.removed == 1
    assert FACTS[1].id not in returned_ids(retriever)
    # a write that only adds is refused just the same until the index is refreshed
    extra = fact("Mission 99", "operatedBy", "Agency 9", "Mission 99 was run by Agency 9")
    other_writer.apply_changes([AddAssertion(assertion=extra)], actor="bob", role="curator")
    with pytest.raises(StaleIndexError):
        retriever.search("Mission", k=3)
    assert index.refresh(store) is True
    assert extra.id in returned_ids(retriever)
