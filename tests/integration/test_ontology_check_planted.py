"""Planted defects: one per reason code, each put into a real ontology's graph (rdflib, written
to a temporary file in Turtle, RDF/XML or N-Triples), found by ``verikg ontology check`` with
the right code and IRIs — and absent from the clean file's findings.

The structural plants run with the reasoner off (``--reasoner-timeout 0``) to keep the suite
fast; the reasoner's own codes (``inconsistent``, ``unsatisfiable-class``) and its failure
modes run HermiT for real.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import owlready2
import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef

from pipeline.ontology.terms import ROOT_CLASS, named_superclasses, vocabulary
from tests.integration.ontology_check_data import OBO, REAL, check, concepts, found, load, relations

IND = Namespace("https://example.org/planted/individuals#")
NOREASON = ("--reasoner-timeout", "0")


@pytest.fixture(scope="module")
def clean() -> dict[str, dict[str, Any]]:
    """The structural findings of each real file, untouched (reasoner off)."""
    return {name: check(str(path), *NOREASON)[1] for name, path in REAL.items()}


def write(graph: Graph, tmp_path: Path, name: str) -> Path:
    fmt = {".ttl": "turtle", ".owl": "xml", ".nt": "nt"}[Path(name).suffix]
    path = tmp_path / name
    graph.serialize(path, format=fmt, encoding="utf-8")
    return path


def add_restriction(g: Graph, cls: URIRef, prop: URIRef, kind: URIRef, filler: URIRef) -> None:
    r = BNode()
    g.add((r, RDF.type, OWL.Restriction))
    g.add((r, OWL.onProperty, prop))
    g.add((r, kind, filler))
    g.add((cls, RDFS.subClassOf, r))


# --------------------------------------------------------------------------- the reasoner


def test_inconsistent(tmp_path: Path) -> None:
    """politics: human and organization made disjoint, and one individual typed as both."""
    c = concepts("politics")
    g = load("politics")
    g.add((c.Q5, OWL.disjointWith, c.Q43229))
    g.add((IND.jane, RDF.type, OWL.NamedIndividual))
    g.add((IND.jane, RDF.type, c.Q5))
    g.add((IND.jane, RDF.type, c.Q43229))
    exit_code, report = check(str(write(g, tmp_path, "politics.ttl")))
    assert exit_code == 1
    assert report["reasoner"]["status"] == "inconsistent"
    assert found(report, "inconsistent") == [(str(IND.jane), str(c.Q43229), str(c.Q5))]
    # the same file without the individual is consistent: the disjointness alone is fine
    g.remove((IND.jane, None, None))
    exit_code, report = check(str(write(g, tmp_path, "politics-disjoint.ttl")))
    assert report["reasoner"]["status"] == "ok" and found(report, "inconsistent") == []


def test_unsatisfiable_class(tmp_path: Path) -> None:
    """company: a Company subclass whose key people must exist and all be cities, with Person
    and City disjoint — unsatisfiable only through the restrictions (HermiT, not a lookup)."""
    c, r = concepts("company"), relations("company")
    g = load("company")
    g.add((c.Person, OWL.disjointWith, c.City))
    g.add((c.Conglomerate, RDF.type, OWL.Class))
    g.add((c.Conglomerate, RDFS.label, Literal("Conglomerate")))
    g.add((c.Conglomerate, RDFS.subClassOf, c.Company))
    add_restriction(g, c.Conglomerate, r.keyPerson, OWL.someValuesFrom, c.Person)
    add_restriction(g, c.Conglomerate, r.keyPerson, OWL.allValuesFrom, c.City)
    exit_code, report = check(str(write(g, tmp_path, "company.owl")))  # RDF/XML
    assert exit_code == 1
    assert report["reasoner"]["status"] == "ok"
    assert report["reasoner"]["unsatisfiable"] == [str(c.Conglomerate)]
    assert found(report, "unsatisfiable-class") == [(str(c.Conglomerate),)]
    _, clean_report = check(str(REAL["company"]))
    assert found(clean_report, "unsatisfiable-class") == []


# --------------------------------------------------------------------------- structure


def test_subclass_cycle(tmp_path: Path, clean: dict[str, dict[str, Any]]) -> None:
    """GO: cellular_component made a subclass of nucleus, one of its own descendants."""
    g = load("go-nucleus")
    cc, nucleus = OBO.GO_0005575, OBO.GO_0005634
    expected = (set(g.transitive_objects(nucleus, RDFS.subClassOf))
                & set(g.transitive_subjects(RDFS.subClassOf, cc)))
    assert {cc, nucleus} <= expected
    g.add((cc, RDFS.subClassOf, nucleus))
    exit_code, report = check(str(write(g, tmp_path, "go.nt")), *NOREASON)  # N-Triples
    assert exit_code == 1
    assert found(report, "subclass-cycle") == [tuple(sorted(str(i) for i in expected))]
    assert found(clean["go-nucleus"], "subclass-cycle") == []


def test_missing_domain(tmp_path: Path, clean: dict[str, dict[str, Any]]) -> None:
    r = relations("politics")
    g = load("politics")
    g.remove((r.P102, RDFS.domain, None))
    exit_code, report = check(str(write(g, tmp_path, "politics.ttl")), *NOREASON)
    assert exit_code == 1
    assert found(report, "missing-domain") == [(str(r.P102),)]
    assert found(clean["politics"], "missing-domain") == []


def test_missing_range(tmp_path: Path, clean: dict[str, dict[str, Any]]) -> None:
    r = relations("celestialbody")
    g = load("celestialbody")
    g.remove((r.apoapsis, RDFS.range, None))
    exit_code, report = check(str(write(g, tmp_path, "celestialbody.owl")), *NOREASON)
    assert exit_code == 1
    assert found(report, "missing-range") == [(str(r.apoapsis),)]
    assert found(clean["celestialbody"], "missing-range") == []


def test_undeclared_term(tmp_path: Path, clean: dict[str, dict[str, Any]]) -> None:
    """company: the declaration of Country removed; the relations that use it remain."""
    c = concepts("company")
    g = load("company")
    users = sorted({str(s) for s in g.subjects(RDFS.range, c.Country)}
                   | {str(s) for s in g.subjects(RDFS.domain, c.Country)})
    assert users
    g.remove((c.Country, RDF.type, OWL.Class))
    exit_code, report = check(str(write(g, tmp_path, "company.ttl")), *NOREASON)
    assert exit_code == 1
    assert (str(c.Country), *users) in found(report, "undeclared-term")
    assert [i for i in found(clean["company"], "undeclared-term") if i[0] == str(c.Country)] == []


def test_orphan_class(tmp_path: Path, clean: dict[str, dict[str, Any]]) -> None:
    """GO with its top classes declared roots (verify:rootClass): clean, no orphan; with the
    nucleus's superclass axiom removed, the nucleus is an orphan."""
    g = load("go-nucleus")
    vocab = vocabulary(g)
    tops = sorted(cls for cls in vocab.classes - vocab.deprecated
                  if not named_superclasses(vocab, cls))
    onto = next(g.subjects(RDF.type, OWL.Ontology))
    for top in tops:
        g.add((onto, ROOT_CLASS, top))
    exit_code, with_roots = check(str(write(g, tmp_path, "go-roots.ttl")), *NOREASON)
    assert with_roots["ontology"]["roots"] == [str(t) for t in tops]
    assert found(with_roots, "orphan-class") == []
    nucleus = OBO.GO_0005634
    g.remove((nucleus, RDFS.subClassOf, OBO.GO_0043231))
    exit_code, report = check(str(write(g, tmp_path, "go-orphan.ttl")), *NOREASON)
    assert exit_code == 1
    assert found(report, "orphan-class") == [(str(nucleus),)]
    assert found(clean["go-nucleus"], "orphan-class") == []  # no roots, no orphan check


def test_orphan_class_with_roots_from_the_command_line(tmp_path: Path) -> None:
    """politics has no hierarchy: with one root given by --root, every other class is an
    orphan; a warning, so the exit code stays 0."""
    c = concepts("politics")
    exit_code, report = check(str(REAL["politics"]), "--root", str(c.Q5), *NOREASON)
    assert exit_code == 0
    orphans = [i[0] for i in found(report, "orphan-class")]
    assert str(c.Q5) not in orphans and len(orphans) == 12
    assert str(c.Q43229) in orphans


def test_class_instance_conflation_punned_class(tmp_path: Path,
                                                clean: dict[str, dict[str, Any]]) -> None:
    """GO: the nucleus class also typed as an individual of 'organelle'."""
    g = load("go-nucleus")
    g.add((OBO.GO_0005634, RDF.type, OBO.GO_0043226))
    exit_code, report = check(str(write(g, tmp_path, "go.ttl")), *NOREASON)
    assert exit_code == 1
    assert found(report, "class-instance-conflation") == [
        (str(OBO.GO_0005634), str(OBO.GO_0043226))]
    assert found(clean["go-nucleus"], "class-instance-conflation") == []


def test_class_instance_conflation_individual_with_subclasses(
        tmp_path: Path, clean: dict[str, dict[str, Any]]) -> None:
    """university: MIT is a University individual, and a class is declared its subclass."""
    c = concepts("university")
    g = load("university")
    g.add((c.MIT, RDF.type, OWL.NamedIndividual))
    g.add((c.MIT, RDF.type, c.University))
    g.add((c.MITSloan, RDF.type, OWL.Class))
    g.add((c.MITSloan, RDFS.subClassOf, c.MIT))
    exit_code, report = check(str(write(g, tmp_path, "university.ttl")), *NOREASON)
    assert exit_code == 1
    [finding] = [f for f in report["findings"] if f["code"] == "class-instance-conflation"]
    assert tuple(finding["iris"]) == (str(c.MIT), str(c.MITSloan))
    assert "an individual with subclasses" in finding["message"]
    assert found(clean["university"], "class-instance-conflation") == []


def test_disconnected_schema(tmp_path: Path, clean: dict[str, dict[str, Any]]) -> None:
    """company: two new classes linked to each other by a new relation, to nothing else."""
    c, r = concepts("company"), relations("company")
    g = load("company")
    for cls in (c.Mascot, c.Animal):
        g.add((cls, RDF.type, OWL.Class))
        g.add((cls, RDFS.label, Literal(str(cls).rsplit("#", 1)[1])))
    g.add((r.mascotSpecies, RDF.type, OWL.ObjectProperty))
    g.add((r.mascotSpecies, RDFS.domain, c.Mascot))
    g.add((r.mascotSpecies, RDFS.range, c.Animal))
    exit_code, report = check(str(write(g, tmp_path, "company.ttl")), *NOREASON)
    assert found(report, "disconnected-schema") == [(str(c.Animal), str(c.Mascot))]
    assert found(clean["company"], "disconnected-schema") == []


def test_duplicate_label(tmp_path: Path, clean: dict[str, dict[str, Any]]) -> None:
    """celestialbody: Place gets a second label that reads like CelestialBody's."""
    c = concepts("celestialbody")
    g = load("celestialbody")
    g.add((c.Place, RDFS.label, Literal("  CELESTIALBODY ", lang="en")))
    exit_code, report = check(str(write(g, tmp_path, "celestialbody.ttl")), *NOREASON)
    assert found(report, "duplicate-label") == [(str(c.CelestialBody), str(c.Place))]
    assert found(clean["celestialbody"], "duplicate-label") == []


# --------------------------------------------------------------------------- competency questions

UNI_CQS = """
- id: q1
  text: Who is the rector of each university?
  sparql: |
    PREFIX c: <https://cenguix.github.io/Text2KGBench/ont_1_university/concepts#>
    PREFIX r: <https://cenguix.github.io/Text2KGBench/ont_1_university/relations#>
    PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    SELECT ?uniLabel ?rectorLabel WHERE {
      ?uni a c:University ; r:rector ?rector ; rdfs:label ?uniLabel .
      ?rector rdfs:label ?rectorLabel .
    }
  answer_type: Person
"""
UNDEFINED_CQ = """
- id: q2
  text: Who is the chancellor, and which dean runs which school?
  sparql: |
    PREFIX c: <https://cenguix.github.io/Text2KGBench/ont_1_university/concepts#>
    PREFIX r: <https://cenguix.github.io/Text2KGBench/ont_1_university/relations#>
    SELECT ?uni ?who ?school WHERE {
      ?uni a c:University ; r:chancellor ?who .
      OPTIONAL { ?school a c:School ; r:dean ?d }
    }
  answer_type: Person
"""
INVALID_CQ = """
- id: q3
  text: broken
  sparql: SELEC ?x WHERE { ?x ?p ?o }
"""
UNANSWERED_CQ = """
- id: q4
  text: Which sports does each university offer?
  sparql: |
    PREFIX r: <https://cenguix.github.io/Text2KGBench/ont_1_university/relations#>
    SELECT ?uni ?sport WHERE { ?uni r:sportsOffered ?sport }
  answer_type: Sport
"""


def cq_file(tmp_path: Path, name: str, *blocks: str) -> Path:
    path = tmp_path / name
    path.write_text("".join(blocks), encoding="utf-8")
    return path


def test_cq_undefined_term(tmp_path: Path) -> None:
    c, r = concepts("university"), relations("university")
    uni = str(REAL["university"])
    _, good = check(uni, "--cqs", str(cq_file(tmp_path, "good.yaml", UNI_CQS)), *NOREASON)
    assert found(good, "cq-undefined-term") == []
    assert good["competency_questions"]["total"] == 1
    _, report = check(uni, "--cqs", str(cq_file(tmp_path, "bad.yaml", UNI_CQS, UNDEFINED_CQ)),
                      *NOREASON)
    # dean is a relation of the ontology; chancellor and School are not
    assert found(report, "cq-undefined-term") == [("q2", str(c.School), str(r.chancellor))]


def test_cq_invalid_query(tmp_path: Path) -> None:
    uni = str(REAL["university"])
    _, good = check(uni, "--cqs", str(cq_file(tmp_path, "good.yaml", UNI_CQS)), *NOREASON)
    assert found(good, "cq-invalid-query") == []
    _, report = check(uni, "--cqs", str(cq_file(tmp_path, "bad.yaml", UNI_CQS, INVALID_CQ)),
                      *NOREASON)
    assert found(report, "cq-invalid-query") == [("q3",)]
    [f] = [f for f in report["findings"] if f["code"] == "cq-invalid-query"]
    assert f["severity"] == "error" and "SPARQL does not parse" in f["message"]


def test_cq_unanswered(tmp_path: Path) -> None:
    """A knowledge graph (instance data, Turtle) with a university and its rector and no
    sports: q1 is answered, q4 is not."""
    c, r = concepts("university"), relations("university")
    kg = Graph()
    mit, rector = URIRef("urn:verikg:entity:mit"), URIRef("urn:verikg:entity:kornbluth")
    kg.add((mit, RDF.type, c.University))
    kg.add((mit, RDFS.label, Literal("MIT")))
    kg.add((mit, r.rector, rector))
    kg.add((rector, RDF.type, c.Person))
    kg.add((rector, RDFS.label, Literal("Sally Kornbluth")))
    kg_path = write(kg, tmp_path, "kg.ttl")
    uni = str(REAL["university"])
    _, good = check(uni, "--cqs", str(cq_file(tmp_path, "good.yaml", UNI_CQS)),
                    "--kg", str(kg_path), *NOREASON)
    assert found(good, "cq-unanswered") == []
    assert good["competency_questions"]["answered"] == 1
    _, report = check(uni, "--cqs", str(cq_file(tmp_path, "all.yaml", UNI_CQS, UNANSWERED_CQ)),
                      "--kg", str(kg_path), *NOREASON)
    assert found(report, "cq-unanswered") == [("q4",)]
    assert report["competency_questions"] == {
        "total": 2, "with_sparql": 2, "answered": 1, "asked": 2, "kg": str(kg_path),
        "kg_triples": 5}


# --------------------------------------------------------------------------- reasoner failures


def test_reasoner_timeout_is_a_warning(tmp_path: Path) -> None:
    g = load("politics")
    g.add((URIRef("http://example.com/ontology"), RDFS.comment, Literal("timeout run")))
    exit_code, report = check(str(write(g, tmp_path, "politics.ttl")),
                              "--reasoner-timeout", "0.001")
    assert exit_code == 0  # politics has warnings only; an unknown answer is not an error
    assert report["reasoner"]["status"] == "timeout"
    assert found(report, "reasoner-timeout") == [("http://example.com/ontology",)]


def test_missing_java_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    g = load("politics")
    g.add((URIRef("http://example.com/ontology"), RDFS.comment, Literal("no java run")))
    monkeypatch.setattr(owlready2, "JAVA_EXE", str(tmp_path / "no-such-java"))
    exit_code, report = check(str(write(g, tmp_path, "politics.ttl")))
    assert exit_code == 0
    assert report["reasoner"]["status"] == "unavailable"
    [f] = [f for f in report["findings"] if f["code"] == "reasoner-unavailable"]
    assert f["severity"] == "warning" and "no Java" in f["message"]


def test_reasoner_failure_is_a_warning(tmp_path: Path) -> None:
    """politics with an ill-typed literal ("abc" as an xsd:integer): owlready2 refuses the
    input; the check reports it and goes on."""
    c, r = concepts("politics"), relations("politics")
    g = load("politics")
    g.add((r.termCount, RDF.type, OWL.DatatypeProperty))
    g.add((r.termCount, RDFS.domain, c.Q5))
    g.add((r.termCount, RDFS.range, rdflib.XSD.integer))
    g.add((IND.jane, RDF.type, c.Q5))
    g.add((IND.jane, r.termCount, Literal("abc", datatype=rdflib.XSD.integer)))
    exit_code, report = check(str(write(g, tmp_path, "politics.ttl")))
    assert report["reasoner"]["status"] == "failed"
    assert [f["severity"] for f in report["findings"]
            if f["code"] == "reasoner-failed"] == ["warning"]
    assert exit_code == 0
