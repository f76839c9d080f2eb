"""HermiT through owlready2: answers, bounds and failure modes, one World per ontology."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import owlready2
import pytest
from rdflib import Graph

from pipeline.errors import OntologyError
from pipeline.ontology import reasoner
from pipeline.ontology.reasoner import (
    ReasonerStatus,
    parse_hermit_output,
    read_with_owlready2,
    run_hermit,
)

HEAD = """
@prefix : <https://example.org/r#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://example.org/r> a owl:Ontology ; owl:imports <https://example.org/not-fetched> .
:A a owl:Class . :B a owl:Class ; owl:disjointWith :A .
:year a owl:DatatypeProperty ; rdfs:domain :A ; rdfs:range xsd:gYear .
"""
UNSAT = HEAD + ":C a owl:Class ; rdfs:subClassOf :A, :B .\n:D a owl:Class ; rdfs:subClassOf :C .\n"
INCONSISTENT = HEAD + ":x a owl:NamedIndividual, :A, :B .\n"


def graph(text: str) -> Graph:
    g = Graph()
    g.parse(data=text, format="turtle")
    return g


def test_parse_hermit_output() -> None:
    out = ("http://www.w3.org/2002/07/owl#Thing is satisfiable.\n"
           "Classes equivalent to 'http://www.w3.org/2002/07/owl#Nothing':\n"
           "\thttp://ex.org/o#D\n\thttp://ex.org/o#C\n\thttp://www.w3.org/2002/07/owl#Nothing\n")
    assert parse_hermit_output(out) == (True, ("http://ex.org/o#C", "http://ex.org/o#D"))
    assert parse_hermit_output("Exception in thread \"main\" org.semanticweb.owlapi.reasoner."
                               "InconsistentOntologyException: Inconsistent ontology") == (False,
                                                                                          ())
    assert parse_hermit_output("<http://www.w3.org/2002/07/owl#Thing> is not satisfiable.") == (
        False, ())
    assert parse_hermit_output("http://www.w3.org/2002/07/owl#Thing is satisfiable.\n") == (
        True, ())


def test_unsatisfiable_classes_with_unsupported_datatypes_and_imports_ignored() -> None:
    result = run_hermit(graph(UNSAT), timeout_s=120)
    assert result.status is ReasonerStatus.OK, result.detail
    assert result.unsatisfiable == ("https://example.org/r#C", "https://example.org/r#D")


def test_inconsistent_then_a_clean_ontology_never_mixes_with_it() -> None:
    """Each run loads its ontology into a World of its own: the inconsistent one leaves
    nothing behind for the next."""
    assert run_hermit(graph(INCONSISTENT), timeout_s=120).status is ReasonerStatus.INCONSISTENT
    clean = run_hermit(graph(HEAD), timeout_s=120)
    assert clean.status is ReasonerStatus.OK and clean.unsatisfiable == ()


def test_skipped_timeout_and_missing_java(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    assert run_hermit(graph(HEAD), timeout_s=0).status is ReasonerStatus.SKIPPED
    assert run_hermit(graph(HEAD), timeout_s=None).status is ReasonerStatus.SKIPPED
    late = run_hermit(graph(HEAD), timeout_s=0.001)
    assert late.status is ReasonerStatus.TIMEOUT and "0.001 s" in late.detail
    monkeypatch.setattr(owlready2, "JAVA_EXE", str(tmp_path / "no-java"))
    gone = run_hermit(graph(HEAD), timeout_s=60)
    assert gone.status is ReasonerStatus.UNAVAILABLE and "no Java" in gone.detail


def test_java_error_is_a_failure_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_run(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        return subprocess.CompletedProcess(args, 1, b"", b"Exception in thread \"main\" "
                                           b"java.lang.OutOfMemoryError: Java heap space\n"
                                           b"\tat somewhere\n")

    monkeypatch.setattr(reasoner.subprocess, "run", fake_run)
    result = run_hermit(graph(HEAD), timeout_s=60)
    assert result.status is ReasonerStatus.FAILED
    assert "OutOfMemoryError" in result.detail and "at somewhere" not in result.detail


def test_completed_answers_are_reused_by_content_key(monkeypatch: pytest.MonkeyPatch) -> None:
    reasoner.clear_cache()
    first = run_hermit(graph(UNSAT), timeout_s=120, cache_key="unsat-v1")

    def no_java(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("HermiT started again for a cached key")

    monkeypatch.setattr(reasoner.subprocess, "run", no_java)
    assert run_hermit(graph(UNSAT), timeout_s=120, cache_key="unsat-v1") == first


OWL_XML = """<?xml version="1.0"?>
<!-- a comment before the root -->
<Ontology xmlns="http://www.w3.org/2002/07/owl#" ontologyIRI="https://example.org/x">
  <Declaration><Class IRI="https://example.org/x#A"/></Declaration>
  <Declaration><Class IRI="https://example.org/x#B"/></Declaration>
  <SubClassOf><Class IRI="https://example.org/x#B"/><Class IRI="https://example.org/x#A"/>
  </SubClassOf>
</Ontology>
"""


def test_owl_xml_is_read_through_owlready2(tmp_path: Path) -> None:
    path = tmp_path / "x.owx"
    path.write_text(OWL_XML, encoding="utf-8")
    g = read_with_owlready2(path)
    subclass = ("https://example.org/x#B", "http://www.w3.org/2000/01/rdf-schema#subClassOf",
                "https://example.org/x#A")
    assert subclass in {(str(s), str(p), str(o)) for s, p, o in g}
    bad = tmp_path / "bad.owx"
    bad.write_text("<Ontology xmlns='http://www.w3.org/2002/07/owl#'><Declaration>",
                   encoding="utf-8")
    with pytest.raises(OntologyError, match="bad.owx: cannot parse"):
        read_with_owlready2(bad)
