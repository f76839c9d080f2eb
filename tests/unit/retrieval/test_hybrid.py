"""Hybrid retrieval over a real SQLite store with the real packaged MiniLM embedder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.embeddings import SentenceTransformerEmbedder
from pipeline.errors import InputError
from pipeline.index import KGIndex
from pipeline.models import (
    IRI,
    AddAssertion,
    Assertion,
    AssertionStatus,
    Chunk,
    Document,
    EntityRef,
    LiteralValue,
    Provenance,
    RemoveAssertion,
    RunId,
    SetStatus,
    Span,
    Triple,
)
from pipeline.retrieval import HybridRetriever, RetrievalContext
from pipeline.store.sqlite import SQLiteGraphStore

NS = "https://example.org/space#"
CASSINI = Document.from_text(
    "The Cassini mission was operated by NASA in partnership with ESA. "
    "Cassini was launched on a Titan IV rocket in 1997. "
    "The probe orbited Saturn for thirteen years before its final plunge.",
    source="data/cassini.md", title="Cassini overview")
VOYAGER = Document.from_text(
    "Voyager 2 was built by the Jet Propulsion Laboratory. "
    "In 1989 Voyager 2 flew past Neptune, the first spacecraft to do so.",
    source="data/voyager.md", title="Voyager notes")
DOCS = {d.id: d for d in (CASSINI, VOYAGER)}
CHUNKS = {d.id: Chunk.make(d, 0, 0, len(d.text)) for d in DOCS.values()}


def ent(label: str, cls: str) -> EntityRef:
    return EntityRef.make(label, NS + cls)


def assertion(subject: EntityRef, predicate: str, obj: EntityRef | LiteralValue,
              doc: Document, quote: str, confidence: float) -> Assertion:
    start = doc.text.index(quote)
    prov = Provenance(document_id=doc.id, chunk_id=CHUNKS[doc.id].id,
                      span=Span(start=start, end=start + len(quote)), quote=quote,
                      model="hand", prompt_version="v1", run_id=RunId("run-test"), attempts=1)
    return Assertion.of(Triple(subject=subject, predicate=IRI(NS + predicate), object=obj),
                        confidence=confidence, provenance=(prov,))


MISSION, NASA = ent("Cassini mission", "Mission"), ent("NASA", "Organization")
TITAN, SATURN = ent("Titan IV", "Rocket"), ent("Saturn", "Planet")
VOYAGER2, JPL = ent("Voyager 2", "Spacecraft"), ent("Jet Propulsion Laboratory", "Organization")
NEPTUNE = ent("Neptune", "Planet")
OPERATED = assertion(MISSION, "operatedBy", NASA, CASSINI,
                     "The Cassini mission was operated by NASA", 0.9)
LAUNCHED = assertion(MISSION, "launchedOn", TITAN, CASSINI,
                     "Cassini was launched on a Titan IV rocket", 0.8)
ORBITED = assertion(MISSION, "orbited", SATURN, CASSINI, "The probe orbited Saturn", 0.7)
YEAR = assertion(MISSION, "launchYear",
                 LiteralValue(value="1997", datatype=IRI("http://www.w3.org/2001/XMLSchema#gYear")),
                 CASSINI, "launched on a Titan IV rocket in 1997", 0.5)
BUILT = assertion(VOYAGER2, "builtBy", JPL, VOYAGER,
                  "Voyager 2 was built by the Jet Propulsion Laboratory", 0.6)
VISITED = assertion(VOYAGER2, "visited", NEPTUNE, VOYAGER,
                    "In 1989 Voyager 2 flew past Neptune", 0.95)
ALL = [OPERATED, LAUNCHED, ORBITED, YEAR, BUILT, VISITED]


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[SQLiteGraphStore]:
    s = SQLiteGraphStore(tmp_path / "kg.sqlite")
    s.open()
    s.upsert_documents(list(DOCS.values()), list(CHUNKS.values()))
    s.write_assertions(ALL)
    yield s
    s.close()


@pytest.fixture()
def retriever(store: SQLiteGraphStore, embedder: SentenceTransformerEmbedder
              ) -> HybridRetriever:
    return HybridRetriever(store, KGIndex.build(store, embedder), embedder)


def test_index_has_a_row_per_assertion_and_entity(store: SQLiteGraphStore,
                                                   retriever: HybridRetriever) -> None:
    assert retriever.index.size == len(ALL) + len(store.entities()) == 6 + 7
    assert not retriever.index.is_stale(store)


@pytest.mark.parametrize(("query", "expected"), [
    ("Which space agency ran the Cassini probe?", OPERATED),
    ("What rocket carried Cassini into space?", LAUNCHED),
    ("Which planet did Voyager 2 fly by?", VISITED),
    ("Who constructed the Voyager spacecraft?", BUILT),
])
def test_paraphrased_query_ranks_the_right_assertion_first(
        retriever: HybridRetriever, query: str, expected: Assertion) -> None:
    hits = retriever.search(query, k=3, where='kind == "assertion"')
    assert hits[0].id == expected.id
    assert hits[0].assertion is not None and hits[0].assertion.triple == expected.triple
    assert hits[0].score >= hits[1].score >= hits[2].score


def test_where_filters_exactly(retriever: HybridRetriever) -> None:
    hits = retriever.search("space exploration", k=10, where='predicate == "visited"')
    assert [h.id for h in hits] == [VISITED.id]
    planets = retriever.search("a planet", k=10, where='kind == "entity" and type == "Planet"')
    assert {h.id for h in planets} == {SATURN.id, NEPTUNE.id}
    assert all(h.entity is not None and h.assertion is None for h in planets)
    confident = retriever.search("mission", k=20,
                                 where='kind == "assertion" and confidence >= 0.8')
    assert {h.id for h in confident} == {OPERATED.id, LAUNCHED.id, VISITED.id}
    subjects = retriever.search("mission", k=20, where='type == "Spacecraft"')
    assert {h.id for h in subjects} == {BUILT.id, VISITED.id, VOYAGER2.id}


def test_evidence_points_to_the_document_and_span(retriever: HybridRetriever) -> None:
    hit = retriever.search("Which space agency ran the Cassini probe?", k=1,
                           where='kind == "assertion"')[0]
    assert hit.id == OPERATED.id
    (ev,) = hit.evidence
    assert ev.document_id == CASSINI.id and ev.chunk_id == CHUNKS[CASSINI.id].id
    assert ev.document_title == "Cassini overview" and ev.document_source == "data/cassini.md"
    assert CASSINI.text[ev.span.start:ev.span.end] == ev.quote == OPERATED.provenance[0].quote
    assert ev.quote in ev.chunk_text
    entity_hit = retriever.search("Neptune", k=1, where='kind == "entity"')[0]
    assert entity_hit.id == NEPTUNE.id
    assert [e.document_id for e in entity_hit.evidence] == [VOYAGER.id]


def test_neighbours_expand_through_the_graph(retriever: HybridRetriever) -> None:
    hit = retriever.search("Which space agency ran the Cassini probe?", k=1,
                           where='predicate == "operatedBy"', expand=1)[0]
    assert {a.id for a in hit.neighbours} == {LAUNCHED.id, ORBITED.id, YEAR.id}
    assert retriever.search("Cassini", k=1, where='predicate == "operatedBy"',
                            expand=0)[0].neighbours == ()
    saturn = retriever.search("Saturn", k=1, where='kind == "entity" and type == "Planet"',
                              expand=2)[0]
    assert saturn.id == SATURN.id
    # hop 1: Cassini orbited Saturn; hop 2: everything else about Cassini
    assert saturn.neighbours[0].id == ORBITED.id
    assert {a.id for a in saturn.neighbours} == {ORBITED.id, OPERATED.id, LAUNCHED.id, YEAR.id}


def test_certified_only(store: SQLiteGraphStore, retriever: HybridRetriever) -> None:
    assert retriever.search("Cassini", k=5, certified_only=True) == []
    store.apply_changes([SetStatus(assertion_id=LAUNCHED.id, status=AssertionStatus.CERTIFIED)],
                        actor="ada", role="certifier")
    hits = retriever.search("Cassini", k=5, certified_only=True)
    assert [h.id for h in hits] == [LAUNCHED.id]
    assert hits[0].assertion is not None
    assert hits[0].assertion.status is AssertionStatus.CERTIFIED
    assert hits[0].neighbours == ()  # its neighbours are all drafts
    # the filter is combined as a tree: a crafted where cannot escape certified_only
    sneaky = retriever.search("Cassini", k=5, where='status == "draft" or kind == "entity"',
                              certified_only=True)
    assert sneaky == []


def test_a_store_write_makes_the_index_stale_and_search_refreshes(
        store: SQLiteGraphStore, retriever: HybridRetriever) -> None:
    index = retriever.index
    juno = ent("Juno", "Mission")
    doc = Document.from_text("Juno is a NASA probe orbiting Jupiter, operated by NASA.",
                             source="data/juno.md", title="Juno")
    chunk = Chunk.make(doc, 0, 0, len(doc.text))
    store.upsert_documents([doc], [chunk])
    new = Assertion.of(
        Triple(subject=juno, predicate=IRI(NS + "operatedBy"), object=NASA), confidence=0.85,
        provenance=(Provenance(document_id=doc.id, chunk_id=chunk.id,
                               span=Span(start=0, end=len(doc.text)), quote=doc.text,
                               model="hand", prompt_version="v1", run_id=RunId("r2"),
                               attempts=1),))
    store.apply_changes([AddAssertion(assertion=new)], actor="ada", role="curator")
    assert index.is_stale(store)
    hits = retriever.search("Which probe is orbiting Jupiter?", k=1,
                            where='kind == "assertion"')
    assert hits[0].id == new.id
    assert not index.is_stale(store)
    assert index.last_embedded == 2  # the new assertion and the new entity, nothing else
    store.apply_changes([RemoveAssertion(assertion_id=new.id)], actor="ada", role="curator")
    hits = retriever.search("Which probe is orbiting Jupiter?", k=20,
                            where='kind == "assertion"')
    assert new.id not in {h.id for h in hits}
    assert index.last_embedded == 0  # rows only went away


def test_search_batch_matches_single_searches(retriever: HybridRetriever) -> None:
    queries = ["Which space agency ran the Cassini probe?", "Which planet did Voyager 2 fly by?"]
    batch = retriever.search_batch(queries, k=4, where='kind == "assertion"')
    singles = [retriever.search(q, k=4, where='kind == "assertion"') for q in queries]
    assert [[h.id for h in hits] for hits in batch] == [[h.id for h in s] for s in singles]
    for got, want in zip(batch, singles, strict=True):
        for a, b in zip(got, want, strict=True):
            assert a.score == pytest.approx(b.score, abs=1e-5)


def test_saved_index_loads_fresh_and_answers_the_same(
        tmp_path: Path, store: SQLiteGraphStore, retriever: HybridRetriever,
        embedder: SentenceTransformerEmbedder) -> None:
    retriever.index.save(tmp_path / "index")
    loaded = KGIndex.load(tmp_path / "index", embedder)
    assert not loaded.is_stale(store) and loaded.size == retriever.index.size
    again = HybridRetriever(store, loaded, embedder)
    q = "Which space agency ran the Cassini probe?"
    assert [h.id for h in again.search(q, k=5)] == [h.id for h in retriever.search(q, k=5)]
    assert loaded.last_embedded == 0


def test_render_cites_documents_and_spans(retriever: HybridRetriever) -> None:
    ctx = retriever.context("Which space agency ran the Cassini probe?", k=2,
                            where='kind == "assertion"')
    assert isinstance(ctx, RetrievalContext)
    text = ctx.render()
    start = CASSINI.text.index("The Cassini mission was operated by NASA")
    assert "[1] Cassini mission — operated by — NASA" in text
    assert 'evidence [S1]: "The Cassini mission was operated by NASA"' in text
    assert f"[S1] Cassini overview (data/cassini.md), chars {start}-{start + 40}" in text
    assert "related: Cassini mission" in text
    assert "nothing relevant" in RetrievalContext(query="x", hits=()).render()


def test_as_langchain_retriever_returns_cited_documents(store: SQLiteGraphStore,
                                                        retriever: HybridRetriever) -> None:
    from langchain_core.retrievers import BaseRetriever

    lc = retriever.as_langchain(k=2, where='kind == "assertion"')
    assert isinstance(lc, BaseRetriever)
    docs = lc.invoke("Which space agency ran the Cassini probe?")
    assert len(docs) == 2 and docs[0].metadata["id"] == OPERATED.id
    top = docs[0]
    assert top.metadata["kind"] == "assertion" and top.metadata["status"] == "draft"
    assert top.metadata["evidence"] and top.metadata["evidence"][0]["end"] > 0
    assert '"' in top.page_content  # the quote that states it
    certified = retriever.as_langchain(certified_only=True)
    assert certified.invoke("Cassini") == []
    store.apply_changes([SetStatus(assertion_id=LAUNCHED.id, status=AssertionStatus.CERTIFIED)],
                        actor="ada", role="certifier")
    assert [d.metadata["id"] for d in certified.invoke("Cassini")] == [LAUNCHED.id]
    with pytest.raises(InputError):
        retriever.as_langchain(where="kind ==")
