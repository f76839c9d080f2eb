"""Text2KGBench's ontology JSON read as a VeriKG ontology: each quirk read by the rules the OWL
loader shares (``pipeline.ontology.quirks``) and recorded on ``Ontology.notes``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.evaluation.bench_ontology import BenchOntology, load_bench_ontology
from pipeline.models import OntologyProperty
from pipeline.models import PropertyKind as K
from pipeline.ontology.quirks import NoteCode
from tests.unit.evaluation.t2k_data import ONTOLOGIES, ontology_file

XSD = "http://www.w3.org/2001/XMLSchema#"
LITERAL = "http://www.w3.org/2000/01/rdf-schema#Literal"
BASE = "urn:text2kgbench:t#"
CONCEPTS = [{"qid": "Q1", "label": "company"}, {"qid": "Q2", "label": "person"},
            {"qid": "Q3", "label": "city"}]


def load(tmp_path: Path, relations: list[dict[str, Any]],
         concepts: list[dict[str, str]] | None = None) -> BenchOntology:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"title": "T", "id": "t", "concepts": concepts or CONCEPTS,
                                "relations": relations}), encoding="utf-8")
    return load_bench_ontology(path)


def rel(label: str, domain: str, rng: str) -> dict[str, str]:
    return {"pid": label, "label": label, "domain": domain, "range": rng}


def props(bench: BenchOntology) -> dict[str, OntologyProperty]:
    return {p.label: p for p in bench.ontology.properties}


def notes(bench: BenchOntology) -> dict[str, list[str]]:
    """The note codes of each property (by local name)."""
    out: dict[str, list[str]] = {}
    for n in bench.ontology.notes:
        out.setdefault(n.iris[0].removeprefix(BASE), []).append(n.code)
    return out


@pytest.mark.parametrize(("rng", "datatype"), [
    ("string", XSD + "string"), ("number", XSD + "decimal"), ("date", XSD + "date"),
    ("Date", XSD + "date"), ("Year", XSD + "gYear"), ("DateTime", XSD + "dateTime"),
    ("Integer", XSD + "integer"), ("Text", XSD + "string"), ("boolean", XSD + "boolean"),
    ("xsd:gYear", XSD + "gYear"), (XSD + "double", XSD + "double"), ("Literal", LITERAL),
])
def test_a_range_named_like_a_datatype_is_a_datatype_property(tmp_path: Path, rng: str,
                                                               datatype: str) -> None:
    bench = load(tmp_path, [rel("founded", "Q1", rng)])
    (prop,) = bench.ontology.properties
    assert (prop.kind, prop.domain, prop.range) == (K.DATATYPE, (BASE + "Company",), (datatype,))
    (note,) = bench.ontology.notes
    assert note.code == "datatype-like-range"
    assert "'founded'" in note.message and f"'{rng}'" in note.message
    assert "datatype property" in note.message


def test_an_empty_range_is_any_literal(tmp_path: Path) -> None:
    bench = load(tmp_path, [rel("staff", "Q1", "")])
    (prop,) = bench.ontology.properties
    assert (prop.kind, prop.range) == (K.DATATYPE, (LITERAL,))
    (note,) = bench.ontology.notes
    assert note.code == "empty-range" and "'staff'" in note.message
    assert "rdfs:Literal" in note.message


@pytest.mark.parametrize("rng", ["Q4830453", "Party"])
def test_a_range_naming_nothing_is_an_open_object_range(tmp_path: Path, rng: str) -> None:
    bench = load(tmp_path, [rel("developer", "Q1", rng)])
    (prop,) = bench.ontology.properties
    assert (prop.kind, prop.range) == (K.OBJECT, ())
    (note,) = bench.ontology.notes
    assert note.code == "unknown-range"
    assert "'developer'" in note.message and f"'{rng}'" in note.message
    assert "open range" in note.message


def test_a_domain_naming_nothing_is_open(tmp_path: Path) -> None:
    bench = load(tmp_path, [rel("a", "", "Q3"), rel("b", "Q9", "Q3")])
    assert [p.domain for p in bench.ontology.properties] == [(), ()]
    assert notes(bench) == {"a": ["unknown-domain"], "b": ["unknown-domain"]}


def test_a_concept_range_is_an_object_property_even_one_named_like_a_datatype(
        tmp_path: Path) -> None:
    bench = load(tmp_path, [rel("mayor", "Q3", "Q2"), rel("on", "Q1", "Date")],
                 concepts=[*CONCEPTS, {"qid": "Date", "label": "date"}])
    p = props(bench)
    assert (p["mayor"].kind, p["mayor"].range) == (K.OBJECT, (BASE + "Person",))
    assert (p["on"].kind, p["on"].range) == (K.OBJECT, (BASE + "Date",))
    assert bench.ontology.notes == ()


def test_a_relation_declared_twice_is_one_property_with_the_union(tmp_path: Path) -> None:
    relations = [rel("location", "Q1", "Q3"), rel("name", "Q1", "string"),
                 rel("location", "Q2", "Q3"), {**rel("birth place", "Q2", "Q3"), "pid": "P19"},
                 rel("birthPlace", "Q1", "Q1")]
    bench = load(tmp_path, relations)
    p = props(bench)
    assert [x.label for x in bench.ontology.properties] == ["location", "name", "birth place"]
    assert len({x.iri for x in bench.ontology.properties}) == 3
    assert (p["location"].kind, p["location"].domain, p["location"].range) == (
        K.OBJECT, (BASE + "Company", BASE + "Person"), (BASE + "City",))
    # "birth place" and "birthPlace" give the same IRI: one property
    assert p["birth place"].iri == BASE + "birthPlace"
    assert (p["birth place"].domain, p["birth place"].range) == (
        (BASE + "Person", BASE + "Company"), (BASE + "City", BASE + "Company"))
    assert notes(bench) == {"location": ["redeclared-property"],
                            "name": ["datatype-like-range"],
                            "birthPlace": ["redeclared-property"]}
    located = next(n for n in bench.ontology.notes if n.iris[0] == BASE + "location")
    assert "'location' is declared 2 times" in located.message
    assert "company or person" in located.message and "city" in located.message
    # the benchmark's labels stay as the file gives them (the metrics read them as a set)
    assert bench.relation_labels == ("location", "name", "location", "birth place",
                                     "birthPlace")
    assert bench.conformant_relations == {"location", "name", "birth_place", "birthPlace"}


def test_a_redeclaration_with_an_open_side_opens_the_union(tmp_path: Path) -> None:
    bench = load(tmp_path, [rel("located", "Q1", "Q3"), rel("located", "", "Q99"),
                            rel("height", "Q1", "number"), rel("height", "Q2", "")])
    p = props(bench)
    assert (p["located"].kind, p["located"].domain, p["located"].range) == (K.OBJECT, (), ())
    assert (p["height"].kind, p["height"].range) == (K.DATATYPE, (LITERAL,))
    assert p["height"].domain == (BASE + "Company", BASE + "Person")
    assert notes(bench)["located"] == ["unknown-domain", "unknown-range", "redeclared-property"]


def test_declarations_disagreeing_on_kind_read_as_an_object_property(tmp_path: Path) -> None:
    bench = load(tmp_path, [rel("seat", "Q1", "Q3"), rel("seat", "Q1", "string")])
    (prop,) = bench.ontology.properties
    assert (prop.kind, prop.domain, prop.range) == (K.OBJECT, (BASE + "Company",),
                                                    (BASE + "City",))
    assert notes(bench) == {"seat": ["datatype-like-range", "redeclared-property",
                                     "property-kind-conflict"]}
    conflict = bench.ontology.notes[-1]
    assert "object property" in conflict.message and "dropped" in conflict.message


def test_every_note_code_of_the_json_loader_is_a_known_one(tmp_path: Path) -> None:
    bench = load(tmp_path, [rel("a", "Q1", "Date"), rel("b", "", ""), rel("c", "Q1", "Q9"),
                            rel("c", "Q2", "string")])
    assert {n.code for n in bench.ontology.notes} == {c.value for c in NoteCode}


def test_an_ontology_without_quirks_gets_no_notes(tmp_path: Path) -> None:
    bench = load(tmp_path, [rel("mayor", "Q3", "Q2"), rel("employer", "Q2", "Q1")])
    assert bench.ontology.notes == ()
    assert load_bench_ontology(ontology_file("wikidata_tekgen", "8_politics")).ontology.notes \
        == ()


#: per dev file: the note codes, counted
DEV_NOTES = {
    "1_university": {"datatype-like-range": 14, "empty-range": 1},
    "7_company": {"datatype-like-range": 11, "unknown-range": 1},
    "8_celestialbody": {"datatype-like-range": 17},
    "6_computer": {"unknown-range": 1},
    "8_politics": {},
}


@pytest.mark.parametrize(("family", "ontology"), ONTOLOGIES)
def test_dev_files(family: str, ontology: str) -> None:
    path = ontology_file(family, ontology)
    raw = json.loads(path.read_text(encoding="utf-8"))
    bench = load_bench_ontology(path)
    counts: dict[str, int] = {}
    for n in bench.ontology.notes:
        counts[n.code] = counts.get(n.code, 0) + 1
    assert counts == DEV_NOTES[ontology]
    assert bench.relation_labels == tuple(r["label"] for r in raw["relations"])
    assert len(bench.ontology.properties) == len(raw["relations"])
    p = props(bench)
    for r in raw["relations"]:
        if r["range"] in ("string", "number", "date", "Date", ""):
            assert p[r["label"]].kind is K.DATATYPE, r
