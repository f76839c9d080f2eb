"""Small fixtures for the stage tests: a toy ontology written here, and chunks of text."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.models import Chunk, Document, Ontology
from pipeline.ontology import load_ontology

TOY_TTL = """
@prefix : <https://example.org/toy#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<https://example.org/toy> a owl:Ontology ; rdfs:label "toy" .
:Organization a owl:Class ; rdfs:label "Organization" .
:Company a owl:Class ; rdfs:subClassOf :Organization ; rdfs:label "Company" .
:Person a owl:Class ; rdfs:label "Person" .
:City a owl:Class ; rdfs:label "City" .
:foundedBy a owl:ObjectProperty ; rdfs:label "founded by" ;
    rdfs:domain :Company ; rdfs:range :Person .
:basedIn a owl:ObjectProperty ; rdfs:label "based in" ;
    rdfs:domain :Organization ; rdfs:range :City .
:foundingYear a owl:DatatypeProperty, owl:FunctionalProperty ; rdfs:label "founding year" ;
    rdfs:domain :Company ; rdfs:range xsd:gYear .
:employees a owl:DatatypeProperty ; rdfs:label "employees" ;
    rdfs:domain :Organization ; rdfs:range xsd:integer .
"""

TEXT = ("Acme Rockets was founded by Ada Byron in 1998. Acme Rockets is based in Seattle. "
        "The company has 250 employees.")


@pytest.fixture()
def toy_path(tmp_path: Path) -> Path:
    p = tmp_path / "toy.ttl"
    p.write_text(TOY_TTL, encoding="utf-8")
    return p


@pytest.fixture()
def toy(toy_path: Path) -> Ontology:
    return load_ontology(toy_path)


@pytest.fixture()
def doc() -> Document:
    return Document.from_text("# Acme\n\n" + TEXT, source="acme.md", title="Acme")


@pytest.fixture()
def chunk(doc: Document) -> Chunk:
    start = doc.text.index("Acme Rockets")
    return Chunk.make(doc, 0, start, len(doc.text))
