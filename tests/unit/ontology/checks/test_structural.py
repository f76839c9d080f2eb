"""The structural checks on small graphs (the reasoner off), the rules table, the JSON report,
and ``check_ontology`` running exactly what ``check_file`` runs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from rdflib import Graph

from pipeline.models import IRI, Ontology, OntologyClass, OntologyProperty, PropertyKind
from pipeline.ontology import OntologyIssueCode, check_ontology, load_ontology
from pipeline.ontology.checks.issues import RULES
from pipeline.ontology.checks.report import (
    REPORT_SCHEMA,
    CheckReport,
    check_file,
    check_graph,
    read_graph,
)

ROOT = Path(__file__).resolve().parents[4]
PREFIXES = """
@prefix : <https://example.org/c#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<https://example.org/c> a owl:Ontology .
"""
X = "https://example.org/c#"


def report(body: str, roots: Sequence[str] = ()) -> CheckReport:
    g = Graph()
    g.parse(data=PREFIXES + body, format="turtle")
    return check_graph(g, roots=roots, reasoner_timeout_s=0)


def found(rep: CheckReport, code: str) -> list[tuple[str, ...]]:
    return [f.iris for f in rep.findings if f.code.value == code]


def test_every_code_has_a_rule_and_the_issue_codes_are_at_least_the_issue_s() -> None:
    assert set(RULES) == set(OntologyIssueCode)
    required = {"inconsistent", "unsatisfiable-class", "subclass-cycle", "missing-domain",
                "missing-range", "undeclared-term", "orphan-class", "class-instance-conflation",
                "disconnected-schema", "duplicate-label", "cq-undefined-term",
                "cq-invalid-query", "cq-unanswered"}
    assert required <= {c.value for c in OntologyIssueCode}
    errors = {c.value for c, r in RULES.items() if r.severity == "error"}
    assert errors == {"inconsistent", "unsatisfiable-class", "subclass-cycle", "missing-domain",
                      "missing-range", "undeclared-term", "class-instance-conflation",
                      "cq-undefined-term", "cq-invalid-query"}


def test_domain_and_range_are_inherited_from_super_equivalent_and_inverse_properties() -> None:
    rep = report("""
    :A a owl:Class . :B a owl:Class ; rdfs:subClassOf :A .
    :p a owl:ObjectProperty ; rdfs:domain :A ; rdfs:range :B .
    :sub a owl:ObjectProperty ; rdfs:subPropertyOf :p .
    :inv a owl:ObjectProperty ; owl:inverseOf :p .
    :eq a owl:ObjectProperty ; owl:equivalentProperty :p .
    :bare a owl:ObjectProperty .
    :d a owl:DatatypeProperty ; rdfs:domain :A .
    """)
    assert found(rep, "missing-domain") == [(X + "bare",)]
    assert found(rep, "missing-range") == [(X + "bare",), (X + "d",)]


def test_undeclared_is_an_error_in_axioms_and_a_warning_for_predicates() -> None:
    rep = report("""
    :A a owl:Class ; rdfs:subClassOf :Ghost ; skos:definition "fine" ; :remark "hm" .
    :p a owl:ObjectProperty ; rdfs:domain :A ; rdfs:range :A ; rdfs:subPropertyOf :q .
    :d a owl:DatatypeProperty ; rdfs:domain :A ; rdfs:range :A .
    """, roots=[X + "Nope"])
    by_iri = {f.iris[0]: f for f in rep.findings if f.code.value == "undeclared-term"}
    assert set(by_iri) == {X + "Ghost", X + "q", X + "A", X + "remark", X + "Nope"}
    assert by_iri[X + "Ghost"].severity == "error" and by_iri[X + "Ghost"].iris == (
        X + "Ghost", X + "A")
    assert by_iri[X + "q"].severity == "error"
    # a class as the range of a datatype property: "declared as something else"
    assert "declared as something else" in by_iri[X + "A"].message
    assert by_iri[X + "remark"].severity == "warning"
    assert "root" in by_iri[X + "Nope"].message


def test_cycles_are_reported_once_each_self_loops_included() -> None:
    rep = report("""
    :A a owl:Class ; rdfs:subClassOf :B . :B a owl:Class ; rdfs:subClassOf :C .
    :C a owl:Class ; rdfs:subClassOf :A . :D a owl:Class ; rdfs:subClassOf :D .
    :E a owl:Class ; owl:equivalentClass :F . :F a owl:Class .
    """)
    assert found(rep, "subclass-cycle") == [(X + "A", X + "B", X + "C"), (X + "D",)]


def test_orphans_only_when_roots_are_declared_and_deprecated_classes_are_exempt() -> None:
    body = """
    :Root a owl:Class . :Kid a owl:Class ; rdfs:subClassOf :Root .
    :Lost a owl:Class . :Gone a owl:Class ; owl:deprecated true .
    :Defined a owl:Class ; owl:equivalentClass [ owl:intersectionOf ( :Root
        [ a owl:Restriction ; owl:onProperty :p ; owl:someValuesFrom :Kid ] ) ] .
    :p a owl:ObjectProperty ; rdfs:domain :Root ; rdfs:range :Root .
    """
    assert found(report(body), "orphan-class") == []
    assert found(report(body, roots=[X + "Root"]), "orphan-class") == [(X + "Lost",)]
    annotated = body + ("<https://example.org/c> "
                        "<https://verikg.dev/ontology/verify#rootClass> :Root .")
    assert found(report(annotated), "orphan-class") == [(X + "Lost",)]


def test_conflation_a_class_used_as_an_individual() -> None:
    rep = report("""
    :Planet a owl:Class . :Body a owl:Class .
    :orbits a owl:ObjectProperty ; rdfs:domain :Body ; rdfs:range :Body .
    :mars a owl:NamedIndividual, :Body ; :orbits :Planet .
    """)
    assert found(rep, "class-instance-conflation") == [(X + "Planet", X + "mars")]


def test_islands_link_through_restrictions_and_properties_not_disjointness() -> None:
    rep = report("""
    :A a owl:Class . :B a owl:Class ; rdfs:subClassOf [ a owl:Restriction ;
        owl:onProperty :p ; owl:someValuesFrom :A ] .
    :C a owl:Class . :D a owl:Class . :p a owl:ObjectProperty ; rdfs:domain :C ; rdfs:range :A .
    :E a owl:Class ; owl:disjointWith :A .
    :F a owl:Class . :G a owl:Class ; rdfs:subClassOf :F .
    """)
    assert found(rep, "disconnected-schema") == [(X + "D",), (X + "E",), (X + "F", X + "G")]


def test_duplicate_labels_per_kind_and_language() -> None:
    rep = report("""
    :A a owl:Class ; rdfs:label "Space  Agency" . :B a owl:Class ; rdfs:label "space agency"@en .
    :C a owl:Class ; rdfs:label "Agence"@fr . :D a owl:Class ; rdfs:label "agence"@fr .
    :E a owl:Class ; rdfs:label "agence" .
    :p a owl:ObjectProperty ; rdfs:label "space agency" ; rdfs:domain :A ; rdfs:range :A .
    """)
    assert found(rep, "duplicate-label") == [(X + "A", X + "B"), (X + "C", X + "D")]


def test_json_report_schema_is_stable() -> None:
    rep = check_file(ROOT / "ontologies" / "space", reasoner_timeout_s=0)
    data = rep.as_json()
    assert list(data) == ["schema", "ok", "summary", "ontology", "reasoner",
                          "competency_questions", "findings"]
    assert data["schema"] == REPORT_SCHEMA == "verikg.ontology-check/1"
    assert data["summary"] == {"errors": 0, "warnings": 0, "by_code": {}}
    assert set(data["ontology"]) == {
        "source", "iri", "triples", "classes", "object_properties", "datatype_properties",
        "annotation_properties", "individuals", "roots"}
    assert set(data["reasoner"]) == {"reasoner", "status", "unsatisfiable", "seconds",
                                     "detail"}
    assert set(data["competency_questions"]) == {
        "total", "with_sparql", "answered", "asked", "kg", "kg_triples"}
    bad = report(":p a owl:ObjectProperty .").as_json()
    assert bad["ok"] is False
    assert bad["findings"] == [
        {"code": "missing-domain", "severity": "error", "iris": [X + "p"],
         "message": "object property 'p' has no rdfs:domain"},
        {"code": "missing-range", "severity": "error", "iris": [X + "p"],
         "message": "object property 'p' has no rdfs:range"}]


def test_check_ontology_runs_exactly_what_check_file_runs(tmp_path: Path) -> None:
    """The build's check (on the loaded model, re-reading its file) and the command's."""
    text = (ROOT / "ontologies" / "space" / "ontology.ttl").read_text(encoding="utf-8")
    text += """
sp:Rover a owl:Class ; rdfs:subClassOf sp:Spacecraft , sp:CelestialBody .
sp:Spacecraft owl:disjointWith sp:CelestialBody .
sp:Lonely a owl:Class ; rdfs:label "Lonely" .
"""
    path = tmp_path / "space.ttl"
    path.write_text(text, encoding="utf-8")
    from_build = check_ontology(load_ontology(path))
    from_cli = list(check_file(path).findings)
    assert from_build == from_cli
    assert {f.code.value for f in from_build} == {"unsatisfiable-class", "disconnected-schema"}


def test_an_in_memory_ontology_is_checked_as_owl_written_from_the_model() -> None:
    ex = "https://example.org/m#"
    onto = Ontology(
        iri=IRI("https://example.org/m"), label="m",
        classes=(OntologyClass(iri=IRI(ex + "A"), label="A"),
                 OntologyClass(iri=IRI(ex + "B"), label="B", parents=(IRI(ex + "A"),))),
        properties=(OntologyProperty(iri=IRI(ex + "p"), label="p", kind=PropertyKind.OBJECT,
                                     domain=(IRI(ex + "A"),)),
                    OntologyProperty(iri=IRI(ex + "n"), label="n", kind=PropertyKind.DATATYPE,
                                     domain=(IRI(ex + "B"),),
                                     range=(IRI("http://www.w3.org/2001/XMLSchema#string"),))))
    issues = check_ontology(onto, reasoner_timeout_s=0)
    assert [(i.code.value, i.iris) for i in issues] == [("missing-range", (ex + "p",))]


def test_unreadable_files_raise_one_clear_error(tmp_path: Path) -> None:
    from pipeline.errors import OntologyError

    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix : <x#> .\n:a :b ", encoding="utf-8")
    with pytest.raises(OntologyError, match="bad.ttl: cannot parse the ontology"):
        check_file(bad, reasoner_timeout_s=0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(OntologyError, match="no ontology.ttl"):
        check_file(tmp_path / "empty", reasoner_timeout_s=0)
    # Turtle behind an .owl suffix and RDF/XML behind .ttl are both read
    owl = tmp_path / "t.owl"
    owl.write_text(PREFIXES + ":A a owl:Class .", encoding="utf-8")
    assert len(read_graph(owl)) == 2
    g = Graph()
    g.parse(data=PREFIXES + ":A a owl:Class .", format="turtle")
    xml_as_ttl = tmp_path / "x.ttl"
    g.serialize(xml_as_ttl, format="xml")
    assert len(read_graph(xml_as_ttl)) == 2
