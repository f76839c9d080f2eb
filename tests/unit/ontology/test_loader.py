from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import OntologyError
from pipeline.models import Ontology, PropertyKind
from pipeline.ontology import OntologyIssueCode, check_ontology, load_ontology

ROOT = Path(__file__).resolve().parents[3]


def test_loads_classes_properties_and_hierarchy(toy: Ontology) -> None:
    assert {c.label for c in toy.classes} == {"Organization", "Company", "Person", "City"}
    founded = next(p for p in toy.properties if p.label == "founded by")
    assert founded.kind is PropertyKind.OBJECT
    year = next(p for p in toy.properties if p.label == "founding year")
    assert year.kind is PropertyKind.DATATYPE and year.functional
    assert toy.is_subclass("https://example.org/toy#Company", "https://example.org/toy#Organization")
    assert not toy.is_subclass("https://example.org/toy#Person",
                               "https://example.org/toy#Organization")
    assert check_ontology(toy) == []


def test_corrupt_file_gives_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix : <x#> .\n:a :b ", encoding="utf-8")
    with pytest.raises(OntologyError, match="bad.ttl: cannot parse"):
        load_ontology(bad)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(OntologyError, match="not found"):
        load_ontology(tmp_path / "none.ttl")


def test_checks_find_missing_range_cycle_and_bad_cq(tmp_path: Path, toy_path: Path) -> None:
    text = toy_path.read_text() + """
:orphanProp a owl:ObjectProperty ; rdfs:label "orphan prop" ; rdfs:domain :Person .
:A a owl:Class ; rdfs:subClassOf :B . :B a owl:Class ; rdfs:subClassOf :A .
"""
    p = tmp_path / "o.ttl"
    p.write_text(text)
    (tmp_path / "competency_questions.yaml").write_text(
        "- id: cq01\n  text: broken\n  sparql: SELEC ?x WHERE {}\n")
    codes = {i.code for i in check_ontology(load_ontology(p))}
    assert {OntologyIssueCode.MISSING_RANGE, OntologyIssueCode.SUBCLASS_CYCLE,
            OntologyIssueCode.CQ_INVALID_QUERY} <= codes


def test_sample_domain_ontology_is_clean() -> None:
    onto = load_ontology(ROOT / "ontologies" / "space")
    assert 8 <= len(onto.classes) <= 20
    assert 10 <= len(onto.properties) <= 25
    assert len(onto.competency_questions) >= 10
    assert [i for i in check_ontology(onto) if i.severity == "error"] == []
