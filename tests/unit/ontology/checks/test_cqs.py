"""Competency questions: the IRIs a query uses, and answering over a graph or a store."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef

from flows.clients import open_kg
from pipeline.errors import OntologyError
from pipeline.models import (
    IRI,
    Assertion,
    AssertionStatus,
    Chunk,
    CompetencyQuestion,
    Document,
    EntityRef,
    Provenance,
    RunId,
    Triple,
)
from pipeline.ontology import load_competency_questions, load_ontology
from pipeline.ontology.checks.cqs import (
    check_cqs_against,
    kg_graph,
    parse_cq,
    query_iris,
    run_cqs,
)
from pipeline.store import SQLiteGraphStore

ROOT = Path(__file__).resolve().parents[4]
SP = Namespace("https://verikg.dev/ontology/space#")


def cq(id_: str, sparql: str | None, text: str = "q") -> CompetencyQuestion:
    return CompetencyQuestion(id=id_, text=text, sparql=sparql)


def test_query_iris_read_the_algebra_not_the_prefixes() -> None:
    query, error = parse_cq(cq("q", """
        PREFIX sp: <https://verikg.dev/ontology/space#>
        PREFIX unused: <https://example.org/unused#>
        SELECT ?m WHERE {
          ?m sp:destination|sp:landedOn ?b .
          ?b ^sp:orbits/sp:partOf* ?c .
          ?c !(sp:forbidden) ?d .
          VALUES ?k { sp:Planet }
          BIND(sp:Moon AS ?moon)
          FILTER(?d != <https://example.org/literal-iri>)
        }"""))
    assert query is not None, error
    iris = {str(i) for i in query_iris(query)}
    assert {str(SP[n]) for n in ("destination", "landedOn", "orbits", "partOf", "forbidden",
                                 "Planet", "Moon")} <= iris
    assert "https://example.org/literal-iri" in iris
    assert not any(i.startswith("https://example.org/unused#") for i in iris)


def test_parse_errors_come_back_as_text() -> None:
    query, error = parse_cq(cq("q", "SELEC ?x WHERE {}"))
    assert query is None and "Expected" in error
    assert parse_cq(cq("q", None)) == (None, "")


def test_run_cqs_counts_select_ask_and_construct_rows() -> None:
    g = Graph()
    g.add((URIRef("urn:a"), RDF.type, SP.Mission))
    g.add((URIRef("urn:a"), RDFS.label, Literal("Apollo 11")))
    run = run_cqs(g, [
        cq("sel", "SELECT ?m WHERE { ?m a <https://verikg.dev/ontology/space#Mission> }"),
        cq("ask", "ASK { ?m a <https://verikg.dev/ontology/space#Planet> }"),
        cq("con", "CONSTRUCT { ?m <urn:p> ?l } WHERE { ?m <http://www.w3.org/2000/01/"
                  "rdf-schema#label> ?l }"),
        cq("bad", "SELEC nothing"),
        cq("none", None),
    ])
    by_id = {r.id: r for r in run.results}
    assert set(by_id) == {"sel", "ask", "con", "bad"}
    assert (by_id["sel"].answers, by_id["sel"].answered) == (1, True)
    assert (by_id["ask"].answers, by_id["ask"].answered) == (0, False)
    assert by_id["con"].answers == 1
    assert by_id["bad"].answers is None and "does not parse" in by_id["bad"].error
    assert (run.asked, run.answered, run.kg_triples) == (4, 2, 2)
    assert run.share_answered == 0.5


@pytest.fixture()
def store_path(tmp_path: Path) -> Path:
    """A store with one accepted fact (Juno operated by NASA) and one contested fact."""
    doc = Document.from_text("Juno was operated by NASA.", source="juno.md", title="Juno")
    chunk = Chunk.make(doc, 0, 0, len(doc.text))
    juno = EntityRef.make("Juno", str(SP.RoboticMission))
    nasa = EntityRef.make("NASA", str(SP.SpaceAgency))
    jupiter = EntityRef.make("Jupiter", str(SP.Planet))
    prov = Provenance(document_id=doc.id, chunk_id=chunk.id, span=chunk.span, quote=doc.text,
                      model="fake", prompt_version="v1", run_id=RunId("r1"), attempts=1)
    operated = Assertion.of(Triple(subject=juno, predicate=IRI(str(SP.operatedBy)),
                                   object=nasa), confidence=0.9, provenance=(prov,))
    landed = Assertion.of(Triple(subject=juno, predicate=IRI(str(SP.landedOn)),
                                 object=jupiter), confidence=0.2, provenance=(prov,))
    landed = landed.model_copy(update={"status": AssertionStatus.CONTESTED})
    path = tmp_path / "kg.sqlite"
    with SQLiteGraphStore(path) as st:
        st.upsert_documents([doc], [chunk])
        st.write_assertions([operated, landed])
    return path


def test_space_cqs_over_a_store_count_draft_facts_only(store_path: Path) -> None:
    cqs = load_competency_questions(ROOT / "ontologies" / "space" / "competency_questions.yaml")
    with SQLiteGraphStore(store_path) as st:
        graph = kg_graph(st)
        run = run_cqs(st, cqs)
        issues = check_cqs_against(st, cqs)
    # the contested landing is not exported
    assert (None, SP.landedOn, None) not in graph
    answered = [r.id for r in run.results if r.answered]
    # which missions NASA operated; which agencies there are (country and year optional)
    assert answered == ["cq01", "cq11"]
    assert run.asked == len(cqs) == 12
    assert sorted(i.iris[0] for i in issues) == sorted(c.id for c in cqs
                                                       if c.id not in answered)
    assert {i.code.value for i in issues} == {"cq-unanswered"}
    assert all(i.severity == "warning" for i in issues)


def test_open_kg_reads_rdf_files_and_stores_and_refuses_what_is_not_there(
        tmp_path: Path, store_path: Path) -> None:
    with open_kg(str(store_path)) as g1, open_kg(f"sqlite:{store_path}") as g2:
        assert len(g1) == len(g2) > 0
    ttl = tmp_path / "kg.ttl"
    ttl.write_text("<urn:a> a <urn:B> .\n", encoding="utf-8")
    with open_kg(str(ttl)) as g3:
        assert len(g3) == 1
    with pytest.raises(OntologyError, match="not found"), open_kg(str(tmp_path / "none.ttl")):
        pass
    with pytest.raises(OntologyError, match="no knowledge-graph store"), \
            open_kg(f"sqlite:{tmp_path / 'none.sqlite'}"):
        pass
    assert not (tmp_path / "none.sqlite").exists()  # the check created no empty store
    broken = tmp_path / "broken.ttl"
    broken.write_text("<urn:a> a ", encoding="utf-8")
    with pytest.raises(OntologyError, match="cannot parse the knowledge graph"), \
            open_kg(str(broken)):
        pass


def test_the_space_ontology_defines_every_term_its_cqs_use() -> None:
    from pipeline.ontology.checks.cqs import check_cqs
    from pipeline.ontology.terms import vocabulary

    onto = load_ontology(ROOT / "ontologies" / "space")
    g = Graph()
    g.parse(ROOT / "ontologies" / "space" / "ontology.ttl")
    assert check_cqs(vocabulary(g), onto.competency_questions) == []
