"""Loading an OWL ontology (Turtle, RDF/XML, N-Triples) and its competency questions.

rdflib parses the file; classes, properties, domains, ranges and the hierarchy become the
``Ontology`` model that extraction and the contracts work under. A corrupt file raises
``OntologyError`` with the parser's own position and message.

Quirks of real files are read as ``quirks.py`` states and recorded on ``Ontology.notes`` (and
reported by ``ontology check`` as warnings): an object property whose range is no declared
class but is named like a datatype (``concepts#Date``, ``#number``) or is an XSD datatype
becomes a datatype property over that datatype (``datatype-like-range``); a property typed
both object and datatype, or with both class and datatype ranges, is read as an object
property (``property-kind-conflict``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from rdflib import OWL, RDF, RDFS, Graph, URIRef
from rdflib.exceptions import ParserError

from pipeline.errors import OntologyError
from pipeline.models import (
    IRI,
    CompetencyQuestion,
    Ontology,
    OntologyClass,
    OntologyNote,
    OntologyProperty,
    PropertyKind,
    local_name,
)
from pipeline.ontology.quirks import NoteCode, curie, datatype_for_name, is_datatype_iri

_FORMATS = {".ttl": "turtle", ".owl": "xml", ".rdf": "xml", ".xml": "xml", ".nt": "nt",
            ".n3": "n3", ".jsonld": "json-ld"}
CQ_FILENAMES = ("competency_questions.yaml", "competency_questions.yml", "cqs.yaml")


def humanize(name: str) -> str:
    """``launchedFrom`` → ``launched from``; used where a term has no rdfs:label."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ")
    return spaced.lower() if not spaced.isupper() else spaced


def _guess_format(path: Path) -> str:
    if path.suffix.lower() in _FORMATS:
        fmt = _FORMATS[path.suffix.lower()]
        if fmt == "xml" and path.read_bytes()[:200].lstrip().startswith((b"@prefix", b"PREFIX")):
            return "turtle"
        return fmt
    return "turtle"


def parse_graph(path: Path) -> Graph:
    if not path.is_file():
        raise OntologyError(f"{path}: ontology file not found; pass the path of an OWL/Turtle "
                            "file or a folder holding ontology.ttl")
    graph = Graph()
    try:
        graph.parse(path, format=_guess_format(path))
    except (ParserError, SyntaxError, ValueError, Exception) as exc:  # rdflib raises many kinds
        raise OntologyError(f"{path}: cannot parse the ontology ({type(exc).__name__}: "
                            f"{str(exc).strip()[:300]}); fix the file and rerun") from exc
    if len(graph) == 0:
        raise OntologyError(f"{path}: the file parsed but holds no triples")
    return graph


def _label(graph: Graph, node: URIRef) -> str:
    for lbl in graph.objects(node, RDFS.label):
        if getattr(lbl, "language", None) in (None, "en"):
            return str(lbl)
    return humanize(local_name(str(node)))


def _comment(graph: Graph, node: URIRef) -> str:
    return next((str(c) for c in graph.objects(node, RDFS.comment)), "")


def _iris(graph: Graph, node: URIRef, pred: URIRef) -> tuple[IRI, ...]:
    return tuple(sorted(IRI(str(o)) for o in graph.objects(node, pred) if isinstance(o, URIRef)))


@dataclass(frozen=True)
class PropertyReading:
    """The properties of an OWL graph as VeriKG reads them, with a note for each quirk read in a
    non-literal way (``quirks.py``)."""

    properties: tuple[OntologyProperty, ...]
    notes: tuple[OntologyNote, ...]
    #: (property, range as the file writes it) for every range read as a datatype: an XSD or
    #: literal datatype, or a term named like one that is no declared class
    datatype_ranges: frozenset[tuple[str, str]]


def _classes(graph: Graph) -> set[URIRef]:
    return ({s for s in graph.subjects(RDF.type, OWL.Class) if isinstance(s, URIRef)}
            | {s for s in graph.subjects(RDF.type, RDFS.Class) if isinstance(s, URIRef)})


def _quoted(iri: str) -> str:
    return f"'{local_name(iri)}' ({iri})"


def _read_property(graph: Graph, p: URIRef, *, is_obj: bool, is_data: bool,
                   classes: set[URIRef], datatypes: set[URIRef]
                   ) -> tuple[OntologyProperty, list[OntologyNote], set[tuple[str, str]]]:
    """One property: its kind and ranges, a datatype-like range read as a datatype.

    * a datatype property keeps its ranges, a range named like a datatype (not a declared
      class or datatype) read as that datatype;
    * an object property whose ranges are all datatypes (XSD or literal datatypes, or terms
      named like one that are no declared class) becomes a datatype property over them;
    * a property typed both ways, or an object property with both class and datatype ranges,
      is an object property over its class ranges (``property-kind-conflict``);
    * a range that is no declared class and not named like a datatype is kept as written:
      ``ontology check`` reports it as ``undeclared-term``."""
    label = _label(graph, p)
    classes_: list[IRI] = []          # class ranges, and unknown terms of an object property
    data: dict[IRI, IRI] = {}         # datatype ranges as written -> the datatype read
    renamed: dict[IRI, IRI] = {}      # those read by their name (not a datatype IRI)
    unknown: list[IRI] = []           # unknown terms in a datatype property's range
    for r in _iris(graph, p, RDFS.range):
        node = URIRef(r)
        if node in classes:
            classes_.append(r)
        elif is_datatype_iri(r) or node in datatypes:
            data[r] = r
        elif (dt := datatype_for_name(r)) is not None:
            data[r] = renamed[r] = dt
        elif is_data and not is_obj:
            unknown.append(r)          # kept as written; ``undeclared-term`` reports it
        else:
            classes_.append(r)
    notes: list[OntologyNote] = []
    iri = IRI(str(p))

    def said(r: IRI) -> str:
        if r in renamed:
            return (f"{_quoted(r)}, which is no declared class but is named like a datatype "
                    f"({curie(renamed[r])})")
        return f"{curie(r)}, a datatype"

    both = "is typed both owl:ObjectProperty and owl:DatatypeProperty"
    if is_data and not is_obj:
        kind = PropertyKind.DATATYPE
        rng = tuple(dict.fromkeys([*data.values(), *unknown, *classes_]))
        if renamed:
            notes.append(OntologyNote(
                code=NoteCode.DATATYPE_LIKE_RANGE.value,
                message=(f"datatype property '{label}' has rdfs:range "
                         f"{', '.join(said(r) for r in renamed)}: VeriKG reads the range as "
                         f"{', '.join(curie(d) for d in renamed.values())}"),
                iris=(iri, *renamed)))
    elif data and not classes_:
        kind, rng = PropertyKind.DATATYPE, tuple(dict.fromkeys(data.values()))
        reading = (f"VeriKG reads it as a datatype property with range "
                   f"{', '.join(curie(d) for d in rng)}")
        if is_data:
            notes.append(OntologyNote(
                code=NoteCode.PROPERTY_KIND_CONFLICT.value,
                message=(f"property '{label}' {both}, and its rdfs:range is "
                         f"{', '.join(said(r) for r in data)}: {reading}"),
                iris=(iri, *data)))
        else:
            notes.append(OntologyNote(
                code=NoteCode.DATATYPE_LIKE_RANGE.value,
                message=(f"object property '{label}' has rdfs:range "
                         f"{', '.join(said(r) for r in data)}: {reading}"),
                iris=(iri, *data)))
    elif data or (is_obj and is_data):
        kind, rng = PropertyKind.OBJECT, tuple(classes_)
        typed = both if is_data else "is an object property"
        ranges = (f" with class range(s) {', '.join(local_name(c) for c in classes_)} and "
                  f"datatype range(s) {', '.join(said(r) for r in data)}" if data else "")
        dropped = "; the datatype ranges are dropped, so a literal value is refused"
        notes.append(OntologyNote(
            code=NoteCode.PROPERTY_KIND_CONFLICT.value,
            message=(f"property '{label}' {typed}{ranges}: VeriKG reads it as an object "
                     f"property{' over its class ranges' if rng else ''}"
                     f"{dropped if data else ''}"),
            iris=(iri, *classes_, *data)))
    else:
        kind, rng = PropertyKind.OBJECT, tuple(classes_)
    prop = OntologyProperty(iri=iri, label=label, kind=kind,
                            domain=_iris(graph, p, RDFS.domain), range=rng,
                            functional=(p, RDF.type, OWL.FunctionalProperty) in graph,
                            comment=_comment(graph, p))
    return prop, notes, {(iri, r) for r in data}


def read_properties(graph: Graph) -> PropertyReading:
    """Every ``owl:ObjectProperty`` and ``owl:DatatypeProperty`` of ``graph``, once each, in
    the order object properties then datatype properties, by IRI. Several ``rdfs:domain`` or
    ``rdfs:range`` triples are read as alternatives (their union), not OWL's intersection."""
    classes = _classes(graph)
    datatypes = {s for s in graph.subjects(RDF.type, RDFS.Datatype) if isinstance(s, URIRef)}
    obj = {s for s in graph.subjects(RDF.type, OWL.ObjectProperty) if isinstance(s, URIRef)}
    data = {s for s in graph.subjects(RDF.type, OWL.DatatypeProperty)
            if isinstance(s, URIRef)}
    props: list[OntologyProperty] = []
    notes: list[OntologyNote] = []
    read_as_data: set[tuple[str, str]] = set()
    for p in [*sorted(obj, key=str), *sorted(data - obj, key=str)]:
        prop, its_notes, its_data = _read_property(graph, p, is_obj=p in obj,
                                                   is_data=p in data, classes=classes,
                                                   datatypes=datatypes)
        props.append(prop)
        notes += its_notes
        read_as_data |= its_data
    return PropertyReading(tuple(props), tuple(notes), frozenset(read_as_data))


def ontology_from_graph(graph: Graph, *, source: str = "", sha256: str = "") -> Ontology:
    onto_node = next(graph.subjects(RDF.type, OWL.Ontology), None)
    classes = sorted(_classes(graph), key=str)
    out_classes = tuple(
        OntologyClass(iri=IRI(str(c)), label=_label(graph, c),
                      parents=tuple(p for p in _iris(graph, c, RDFS.subClassOf)
                                    if p != str(OWL.Thing)),
                      comment=_comment(graph, c))
        for c in classes)
    reading = read_properties(graph)
    props = reading.properties
    iri = IRI(str(onto_node)) if isinstance(onto_node, URIRef) else IRI(source or "urn:ontology")
    label = _label(graph, onto_node) if isinstance(onto_node, URIRef) else Path(source).stem
    if not out_classes or not props:
        raise OntologyError(f"{source or iri}: found {len(out_classes)} classes and {len(props)} "
                            "properties; extraction needs at least one of each")
    return Ontology(iri=iri, label=label, classes=out_classes, properties=props,
                    source=source, sha256=sha256, notes=reading.notes)


def load_competency_questions(path: Path) -> tuple[CompetencyQuestion, ...]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise OntologyError(f"{path}: cannot read competency questions: {exc}") from exc
    if not isinstance(raw, list):
        raise OntologyError(f"{path}: expected a YAML list of competency questions")
    try:
        return tuple(CompetencyQuestion.model_validate(item) for item in raw)
    except Exception as exc:
        raise OntologyError(f"{path}: invalid competency question: {exc}") from exc


def load_ontology(path: Path | str, cqs: Path | str | None = None) -> Ontology:
    """Load an ontology from a file, or from a folder holding ``ontology.ttl`` and optionally a
    competency-question YAML file beside it."""
    path = Path(path)
    if path.is_dir():
        candidates = [path / "ontology.ttl", *sorted(path.glob("*.ttl")),
                      *sorted(path.glob("*.owl"))]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise OntologyError(f"{path}: no ontology.ttl or *.owl file in this folder")
        if cqs is None:
            cqs = next((path / n for n in CQ_FILENAMES if (path / n).is_file()), None)
        path = found
    elif cqs is None:
        cqs = next((path.parent / n for n in CQ_FILENAMES if (path.parent / n).is_file()), None)
    graph = parse_graph(path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    onto = ontology_from_graph(graph, source=str(path), sha256=sha)
    if cqs is not None:
        onto = onto.model_copy(update={"competency_questions":
                                       load_competency_questions(Path(cqs))})
    return onto
