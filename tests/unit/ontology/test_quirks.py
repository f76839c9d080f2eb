"""Quirks of real ontology files: how the OWL loader reads them (``Ontology.notes``) and how
``ontology check`` reports them (warnings, never errors), on Turtle written here and on the
Text2KGBench development files of the shared data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph

from pipeline.models import IRI, Ontology, OntologyClass, OntologyNote, OntologyProperty
from pipeline.models import PropertyKind as K
from pipeline.ontology import OntologyIssueCode, check_ontology, load_ontology
from pipeline.ontology.checks.issues import RULES
from pipeline.ontology.checks.report import CheckReport, check_file, check_graph
from pipeline.ontology.loader import ontology_from_graph, read_properties
from pipeline.ontology.quirks import NoteCode, datatype_for_name
from verikg_cli.shared_data import shared_data_dir

ROOT = Path(__file__).resolve().parents[3]
XSD = "http://www.w3.org/2001/XMLSchema#"
LITERAL = "http://www.w3.org/2000/01/rdf-schema#Literal"
X = "https://example.org/q#"
PREFIXES = """
@prefix : <https://example.org/q#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://example.org/q> a owl:Ontology .
:Company a owl:Class . :Person a owl:Class . :City a owl:Class .
"""
#: one property per quirk; :Party is undeclared and not named like a datatype
QUIRKS = """
:founded a owl:ObjectProperty ; rdfs:domain :Company ; rdfs:range :Date .
:revenue a owl:ObjectProperty ; rdfs:domain :Company ; rdfs:range :NUMBER .
:born a owl:ObjectProperty ; rdfs:domain :Person ; rdfs:range xsd:date .
:motto a owl:ObjectProperty ; rdfs:domain :Company ; rdfs:range rdfs:Literal .
:since a owl:DatatypeProperty ; rdfs:domain :Company ; rdfs:range :year .
:name a owl:DatatypeProperty ; rdfs:domain :Company ; rdfs:range xsd:string .
:party a owl:ObjectProperty ; rdfs:domain :Person ; rdfs:range :Party .
:seat a owl:ObjectProperty ; rdfs:domain :Company ; rdfs:range :City , :string .
:code a owl:ObjectProperty , owl:DatatypeProperty ; rdfs:domain :City ; rdfs:range xsd:string .
:place a owl:ObjectProperty ; rdfs:domain :Company , :Person ; rdfs:range :City .
"""


def graph(body: str) -> Graph:
    g = Graph()
    g.parse(data=PREFIXES + body, format="turtle")
    return g


def report(body: str) -> CheckReport:
    return check_graph(graph(body), reasoner_timeout_s=0)


def found(rep: CheckReport, code: str) -> list[tuple[str, ...]]:
    return [f.iris for f in rep.findings if f.code.value == code]


# --------------------------------------------------------------------------- the name rule


@pytest.mark.parametrize(("name", "datatype"), [
    ("Year", "gYear"), ("YEAR", "gYear"), ("year month", "gYearMonth"), ("Date", "date"),
    ("date", "date"), ("DateTime", "dateTime"), ("date_time", "dateTime"),
    ("Timestamp", "dateTime"), ("Time", "time"), ("Number", "decimal"), ("number", "decimal"),
    ("Integer", "integer"), ("int", "integer"), ("Decimal", "decimal"), ("FLOAT", "float"),
    ("Double", "double"), ("String", "string"), ("Text", "string"), ("Boolean", "boolean"),
    ("nonNegativeInteger", "nonNegativeInteger"), ("anyURI", "anyURI"),
    # xsd-like local names and prefixes, xsd IRIs, and IRIs whose local name is the name
    ("xsd:date", "date"), ("xs:gYear", "gYear"), ("xsd_string", "string"),
    ("xsd:token", "token"), (XSD + "gYear", "gYear"),
    ("https://example.org/concepts#Date", "date"), ("https://example.org/c/number", "decimal"),
    ("https://example.org/c#xsd:integer", "integer"),
])
def test_a_range_named_like_a_datatype_maps_to_it(name: str, datatype: str) -> None:
    assert datatype_for_name(name) == XSD + datatype


@pytest.mark.parametrize("name", ["Literal", "literal", "rdfs:Literal", LITERAL])
def test_literal_is_rdfs_literal(name: str) -> None:
    assert datatype_for_name(name) == LITERAL


@pytest.mark.parametrize("name", [
    "", "City", "Party", "Q4830453", "Dates", "birthDate", "DateOfBirth",
    # XSD names that are also ordinary class names need an explicit xsd: prefix
    "Language", "Name", "Duration", "Token", "Long",
])
def test_other_names_are_not_datatypes(name: str) -> None:
    assert datatype_for_name(name) is None


# --------------------------------------------------------------------------- the OWL loader


def test_the_owl_loader_reads_each_quirk_and_notes_it() -> None:
    onto = ontology_from_graph(graph(QUIRKS))
    p = {prop.label: prop for prop in onto.properties}
    assert len(onto.properties) == len({prop.iri for prop in onto.properties}) == 10
    # an undeclared range named like a datatype: a datatype property over that datatype
    assert (p["founded"].kind, p["founded"].range) == (K.DATATYPE, (XSD + "date",))
    assert (p["revenue"].kind, p["revenue"].range) == (K.DATATYPE, (XSD + "decimal",))
    # an XSD datatype or rdfs:Literal given to an object property
    assert (p["born"].kind, p["born"].range) == (K.DATATYPE, (XSD + "date",))
    assert (p["motto"].kind, p["motto"].range) == (K.DATATYPE, (LITERAL,))
    # a datatype property whose range is named like a datatype
    assert (p["since"].kind, p["since"].range) == (K.DATATYPE, (XSD + "gYear",))
    # as the file says: no note
    assert (p["name"].kind, p["name"].range) == (K.DATATYPE, (XSD + "string",))
    assert (p["party"].kind, p["party"].range) == (K.OBJECT, (X + "Party",))
    # several domains stay their union
    assert (p["place"].kind, p["place"].domain) == (K.OBJECT, (X + "Company", X + "Person"))
    # a class range and a datatype-like one: the object reading wins
    assert (p["seat"].kind, p["seat"].range) == (K.OBJECT, (X + "City",))
    # typed both ways, only datatype ranges: a datatype property (and one property, not two)
    assert (p["code"].kind, p["code"].range) == (K.DATATYPE, (XSD + "string",))

    by_prop: dict[str, OntologyNote] = {n.iris[0]: n for n in onto.notes}
    assert {k: n.code for k, n in by_prop.items()} == {
        X + "founded": "datatype-like-range", X + "revenue": "datatype-like-range",
        X + "born": "datatype-like-range", X + "motto": "datatype-like-range",
        X + "since": "datatype-like-range", X + "seat": "property-kind-conflict",
        X + "code": "property-kind-conflict"}
    assert len(onto.notes) == len(by_prop)
    founded = by_prop[X + "founded"].message
    assert "'founded'" in founded and "'Date'" in founded and "xsd:date" in founded
    assert "datatype property" in founded
    assert "'NUMBER'" in by_prop[X + "revenue"].message
    assert "xsd:decimal" in by_prop[X + "revenue"].message
    seat = by_prop[X + "seat"].message
    assert "'seat'" in seat and "object property" in seat and "dropped" in seat
    assert by_prop[X + "founded"].iris == (X + "founded", X + "Date")


def test_an_object_property_typed_both_ways_with_a_class_range_stays_an_object_property() -> None:
    onto = ontology_from_graph(graph(
        ":p a owl:ObjectProperty , owl:DatatypeProperty ; rdfs:domain :City ; rdfs:range :City ."))
    (prop,) = onto.properties
    assert (prop.kind, prop.range) == (K.OBJECT, (X + "City",))
    assert [n.code for n in onto.notes] == ["property-kind-conflict"]


def test_a_declared_class_named_like_a_datatype_is_a_class() -> None:
    onto = ontology_from_graph(graph("""
    :Date a owl:Class .
    :founded a owl:ObjectProperty ; rdfs:domain :Company ; rdfs:range :Date .
    """))
    (prop,) = onto.properties
    assert (prop.kind, prop.range) == (K.OBJECT, (X + "Date",))
    assert onto.notes == ()


def test_an_ontology_without_quirks_gets_no_notes() -> None:
    assert load_ontology(ROOT / "ontologies" / "space").notes == ()
    body = """
    :worksFor a owl:ObjectProperty ; rdfs:domain :Person ; rdfs:range :Company .
    :basedIn a owl:ObjectProperty ; rdfs:domain :Company ; rdfs:range :City .
    :age a owl:DatatypeProperty ; rdfs:domain :Person ; rdfs:range xsd:integer .
    """
    assert ontology_from_graph(graph(body)).notes == ()
    assert read_properties(graph(body)).datatype_ranges == {(X + "age", XSD + "integer")}
    assert report(body).findings == ()


# --------------------------------------------------------------------------- the checks


NOTE_CODES = {c.value for c in NoteCode}


def test_every_note_code_is_a_warning_rule_with_a_readme_line() -> None:
    assert {c.value for c in OntologyIssueCode} >= NOTE_CODES
    assert all(RULES[OntologyIssueCode(c)].severity == "warning" for c in NOTE_CODES)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Ontology checks", 1)[1].split("\n## ", 1)[0]
    for code in RULES:
        assert re.search(rf"`{re.escape(code.value)}`", section), code


def test_quirks_are_warnings_and_datatype_like_ranges_are_not_undeclared_classes() -> None:
    rep = report(QUIRKS + """
    # Date is also a superclass here: that use is still an undeclared class
    :Anniversary a owl:Class ; rdfs:subClassOf :Date .
    """)
    notes = [f for f in rep.findings if f.code.value in NOTE_CODES]
    assert notes and all(f.severity == "warning" for f in notes)
    assert {f.iris[0] for f in notes if f.code.value == "datatype-like-range"} == {
        X + "founded", X + "revenue", X + "born", X + "motto", X + "since"}
    assert {f.iris[0] for f in notes if f.code.value == "property-kind-conflict"} == {
        X + "seat", X + "code"}
    undeclared = {f.iris[0]: f for f in rep.findings if f.code.value == "undeclared-term"}
    # NUMBER, year and string are only datatype-like ranges: no longer undeclared classes
    assert set(undeclared) == {X + "Party", X + "Date"}
    assert undeclared[X + "Party"].severity == "error"
    assert undeclared[X + "Party"].iris == (X + "Party", X + "party")
    # Date is reported for the subclass axiom only, not for the range of 'founded'
    assert undeclared[X + "Date"].severity == "error"
    assert undeclared[X + "Date"].iris == (X + "Date", X + "Anniversary")
    assert rep.errors == 2


def test_an_undeclared_datatype_not_named_like_one_stays_an_error() -> None:
    rep = report(":d a owl:DatatypeProperty ; rdfs:domain :City ; rdfs:range :Thingy .")
    assert [(f.iris, f.severity) for f in rep.findings
            if f.code.value == "undeclared-term"] == [((X + "Thingy", X + "d"), "error")]
    assert not [f for f in rep.findings if f.code.value in NOTE_CODES]


def test_a_datatype_like_range_links_no_classes() -> None:
    # Company and Person share only the range 'number', which is a datatype: two islands
    rep = report("""
    :revenue a owl:ObjectProperty ; rdfs:domain :Company ; rdfs:range :number .
    :height a owl:ObjectProperty ; rdfs:domain :Person ; rdfs:range :number .
    :mayor a owl:ObjectProperty ; rdfs:domain :City ; rdfs:range :Person .
    """)
    assert found(rep, "disconnected-schema") == [(X + "Company",)]


def test_check_file_and_check_ontology_report_the_loader_s_notes_once(tmp_path: Path) -> None:
    path = tmp_path / "quirky.ttl"
    path.write_text(PREFIXES + QUIRKS, encoding="utf-8")
    onto = load_ontology(path)
    from_cli = check_file(path, reasoner_timeout_s=0)
    from_build = check_ontology(onto, reasoner_timeout_s=0)
    assert from_build == list(from_cli.findings)
    notes = [(f.code.value, f.iris, f.message) for f in from_build if f.code.value in NOTE_CODES]
    assert set(notes) == {(n.code, n.iris, n.message) for n in onto.notes}
    assert len(notes) == len(onto.notes) == 7
    # the JSON report stays valid and counts the warnings by code
    data = from_cli.as_json()
    assert data["summary"]["by_code"]["datatype-like-range"] == 5
    assert data["summary"]["by_code"]["property-kind-conflict"] == 2
    assert data["summary"]["errors"] == 1  # Party
    assert all(f["severity"] == "warning" for f in data["findings"]
               if f["code"] in NOTE_CODES)


def test_check_ontology_reports_the_notes_of_an_in_memory_ontology() -> None:
    ex = "https://example.org/m#"
    note = OntologyNote(code="unknown-range", message="relation 'p' has range 'Q1' …",
                        iris=(IRI(ex + "p"),))
    onto = Ontology(
        iri=IRI("https://example.org/m"), label="m",
        classes=(OntologyClass(iri=IRI(ex + "A"), label="A"),),
        properties=(OntologyProperty(iri=IRI(ex + "p"), label="p", kind=K.OBJECT,
                                     domain=(IRI(ex + "A"),), range=(IRI(ex + "A"),)),),
        notes=(note, OntologyNote(code="not-a-code", message="ignored")))
    issues = check_ontology(onto, reasoner_timeout_s=0)
    assert [(i.code.value, i.severity, i.iris, i.message) for i in issues] == [
        ("unknown-range", "warning", (ex + "p",), note.message)]


# --------------------------------------------------------------------------- the shared dev files


def _t2k_owl() -> dict[str, Path]:
    shared = shared_data_dir()
    base = (shared or Path("shared-data-not-found")) / "text2kgbench"
    files = {name: base / family / "ontologies" / "owl" / f"ont_{name}.ttl"
             for family, name in [("dbpedia_webnlg", "1_university"),
                                  ("dbpedia_webnlg", "7_company"),
                                  ("dbpedia_webnlg", "8_celestialbody"),
                                  ("wikidata_tekgen", "6_computer"),
                                  ("wikidata_tekgen", "8_politics")]}
    for name, path in files.items():
        assert path.is_file(), (f"the shared Text2KGBench ontology {name} is not at {path}; "
                                "set VERIKG_SHARED_DATA to the folder holding text2kgbench/")
    return files


DEV = _t2k_owl()
#: the object properties of each dev file whose range is an undeclared term named like a
#: datatype (concepts#number, #string, #date / #Date)
DATATYPE_LIKE = {"1_university": 14, "7_company": 11, "8_celestialbody": 17,
                 "6_computer": 0, "8_politics": 0}


@pytest.mark.parametrize("name", list(DEV))
def test_dev_turtle_files_have_no_error_from_datatype_like_ranges(name: str) -> None:
    rep = check_file(DEV[name], reasoner_timeout_s=0)
    onto = load_ontology(DEV[name])
    datatype_named = {iri for p in onto.properties for iri in p.range
                      if datatype_for_name(iri) is not None}
    for f in rep.findings:
        if f.severity == "error":
            assert f.code.value != "undeclared-term" or datatype_for_name(f.iris[0]) is None, f
    like = [f for f in rep.findings if f.code.value == "datatype-like-range"]
    assert len(like) == len(onto.notes) == DATATYPE_LIKE[name]
    assert all(f.severity == "warning" for f in like)
    # every property read from a datatype-like range is a datatype property over XSD
    for note in onto.notes:
        prop = onto.get_property(note.iris[0])
        assert prop is not None and prop.kind is K.DATATYPE
        assert all(r.startswith(XSD) for r in prop.range)
    assert all(r.startswith(XSD) for r in datatype_named)


def test_dev_turtle_readings_in_detail() -> None:
    company = load_ontology(DEV["7_company"])
    c = "https://cenguix.github.io/Text2KGBench/ont_7_company/"
    founding = company.get_property(c + "relations#foundingDate")
    revenue = company.get_property(c + "relations#revenue")
    party = company.get_property(c + "relations#leaderParty")
    assert founding is not None and revenue is not None and party is not None
    assert (founding.kind, founding.range) == (K.DATATYPE, (XSD + "date",))
    assert (revenue.kind, revenue.range) == (K.DATATYPE, (XSD + "decimal",))
    # Party is undeclared and no datatype: kept as written, and still an error
    assert (party.kind, party.range) == (K.OBJECT, (c + "concepts#Party",))
    rep = check_file(DEV["7_company"], reasoner_timeout_s=0)
    assert [f.iris[0] for f in rep.findings if f.severity == "error"] == [
        c + "concepts#Party"]
    # the celestial body file has no error left at all
    assert check_file(DEV["8_celestialbody"], reasoner_timeout_s=0).errors == 0
