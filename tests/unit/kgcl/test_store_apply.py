"""KGCL on the graph, property-tested on the embedded store: random valid requests keep the
delta-maintained index equal to a fresh build of the store and embed only new texts; a
request with one bad command anywhere changes nothing, in store or index. Plus the small
pure helpers (CURIE expansion, literal values)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import ChangeRequestError
from pipeline.index.kg_index import KGIndex
from pipeline.kgcl.store_apply import apply_request_text
from pipeline.kgcl.store_workspace import OWL_THING, expand, parse_value, value_of
from pipeline.models import (
    IRI,
    Assertion,
    ChunkId,
    DocumentId,
    EntityRef,
    Ontology,
    OntologyClass,
    OntologyProperty,
    PropertyKind,
    Provenance,
    RunId,
    Span,
    Triple,
)
from pipeline.store import SQLiteGraphStore
from tests.fakes import FakeEmbedder

NS = "https://example.org/space#"
ONTO = Ontology(
    iri=IRI("https://example.org/space"), label="space",
    classes=(OntologyClass(iri=IRI(NS + "Mission"), label="Mission"),
             OntologyClass(iri=IRI(NS + "RoboticMission"), label="Robotic mission",
                           parents=(IRI(NS + "Mission"),)),
             OntologyClass(iri=IRI(NS + "Agency"), label="Agency")),
    properties=(OntologyProperty(iri=IRI(NS + "operatedBy"), label="operated by",
                                 kind=PropertyKind.OBJECT),
                OntologyProperty(iri=IRI(NS + "partner"), label="partner",
                                 kind=PropertyKind.OBJECT)))


MISSIONS = [EntityRef.make(f"Mission {i}", NS + "Mission") for i in range(4)]
AGENCIES = [EntityRef.make(f"Agency {i}", NS + "Agency") for i in range(3)]


def seed_store(path: Path) -> SQLiteGraphStore:
    store = SQLiteGraphStore(path)
    store.open()
    facts = []
    for i, m in enumerate(MISSIONS):
        a = AGENCIES[i % len(AGENCIES)]
        quote = f"{m.label} was operated by {a.label}."
        prov = Provenance(document_id=DocumentId("doc:1"), chunk_id=ChunkId(f"chunk:{i}"),
                          span=Span(start=0, end=len(quote)), quote=quote, model="m",
                          prompt_version="v1", run_id=RunId("r"), attempts=1)
        facts.append(Assertion.of(Triple(subject=m, predicate=IRI(NS + "operatedBy"),
                                         object=a), confidence=0.7, provenance=(prov,)))
    store.write_assertions(facts)
    return store


# one random command: it may be valid or not for the store's state at that point
command = st.one_of(
    st.builds(lambda i, n: f"rename {MISSIONS[i].id} to 'Mission {i} v{n}'",
              st.integers(0, 3), st.integers(0, 9)),
    st.builds(lambda i, j: f"create edge {MISSIONS[i].id} sp:partner {AGENCIES[j].id}",
              st.integers(0, 3), st.integers(0, 2)),
    st.builds(lambda i, j: f"delete edge {MISSIONS[i].id} sp:operatedBy {AGENCIES[j].id}",
              st.integers(0, 3), st.integers(0, 2)),
    st.builds(lambda n: f"create node ent:new{n} 'New thing {n}'", st.integers(0, 3)),
    st.builds(lambda i, n: f"create synonym 'alias {n}' for {AGENCIES[i].id}",
              st.integers(0, 2), st.integers(0, 3)),
    st.builds(lambda i: f"deepen {MISSIONS[i].id} from sp:Mission to sp:RoboticMission",
              st.integers(0, 3)),
    st.builds(lambda i: f"rename 'Agency {i}' to 'Agency {i} (renamed)'", st.integers(0, 2)),
)


def rows(index: KGIndex) -> list[tuple[str, str, str, str]]:
    return sorted((r.kind, r.kgid, r.text, r.type_iri) for r in index.rows())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(command, min_size=1, max_size=5), min_size=1, max_size=5))
def test_random_requests_keep_the_index_equal_to_a_fresh_build(
        requests: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = seed_store(Path(tmp) / "kg.sqlite")
        try:
            embedder = FakeEmbedder(12, "recorder-v1", keyed_by_model=False)
            index = KGIndex.build(store, embedder, ontology=ONTO)
            for request in requests:
                text = "\n".join(request)
                before_rows, before_version = rows(index), store.version()
                before_audit = len(store.audit_log())
                known = {r[2] for r in before_rows}
                embedder.calls.clear()
                try:
                    apply_request_text(text, store, ONTO, actor="cur", role="curator",
                                       index=index)
                except ChangeRequestError:
                    # all or nothing: an invalid command anywhere leaves everything as it was
                    assert rows(index) == before_rows and store.version() == before_version
                    assert len(store.audit_log()) == before_audit
                    assert embedder.embedded == []
                    continue
                fresh = KGIndex.build(store, FakeEmbedder(12, "recorder-v1", keyed_by_model=False),
                                      ontology=ONTO)
                assert rows(index) == rows(fresh) and index.version == store.version()
                # only texts the index did not hold were embedded, each once
                assert len(embedder.embedded) == len(set(embedder.embedded))
                assert not set(embedder.embedded) & known
        finally:
            store.close()


def test_the_helpers_read_kgcl_values() -> None:
    assert expand("rdf:type") == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    assert expand("<https://x.org/a>") == "https://x.org/a"
    assert expand("sp:partner") == "sp:partner"  # an unknown prefix stays as written
    assert expand("owl:Thing") == OWL_THING
    assert parse_value('"1834"^^xsd:gYear') == ("1834",
                                                "http://www.w3.org/2001/XMLSchema#gYear")
    assert parse_value("'x y'") == ("x y", None)
    assert parse_value('"bonjour"@fr') == ("bonjour", None)
    assert parse_value("plain") == ("plain", None)

    class Split:
        old_value = "1834"
        old_datatype = "xsd:gYear"

    assert value_of(Split(), "old_value", "old_datatype") == (
        "1834", "http://www.w3.org/2001/XMLSchema#gYear")


@pytest.mark.parametrize("text, problem", [
    ("create edge ent:none sp:partner 'Agency 0'", "line 1: unknown entity 'ent:none'"),
    ("create edge 'Mission 0' sp:flies 'Agency 0'", "'sp:flies' is not a property"),
    ("delete edge 'Mission 0' sp:partner 'Agency 0'", "no such edge"),
    ("create edge 'Mission 0' sp:operatedBy 'Agency 0'", "already exists"),
    ("rename 'Mission 0' to 'Mission 0'", "already labelled"),
    ("create node ent:x 'X'\ncreate node ent:x 'Y'", "line 2: an entity ent:x already exists"),
    ("delete edge 'Mission 0' rdf:type sp:Mission", "exactly one class"),
    ("create edge 'Mission 0' rdf:type sp:Planet", "not a class of the ontology"),
])
def test_errors_name_the_line_and_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    store = seed_store(tmp_path / "kg.sqlite")
    try:
        with pytest.raises(ChangeRequestError, match=problem.replace("(", r"\(")):
            apply_request_text(text, store, ONTO, actor="cur", role="curator")
    finally:
        store.close()
