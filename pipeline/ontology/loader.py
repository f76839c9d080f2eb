"""Loading an OWL ontology (Turtle, RDF/XML, N-Triples) and its competency questions.

rdflib parses the file; classes, properties, domains, ranges and the hierarchy become the
``Ontology`` model that extraction and the contracts work under. A corrupt file raises
``OntologyError`` with the parser's own position and message.
"""

from __future__ import annotations

import hashlib
import re
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
    OntologyProperty,
    PropertyKind,
    local_name,
)

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


def ontology_from_graph(graph: Graph, *, source: str = "", sha256: str = "") -> Ontology:
    onto_node = next(graph.subjects(RDF.type, OWL.Ontology), None)
    classes = sorted({s for s in graph.subjects(RDF.type, OWL.Class) if isinstance(s, URIRef)}
                     | {s for s in graph.subjects(RDF.type, RDFS.Class)
                        if isinstance(s, URIRef)}, key=str)
    out_classes = tuple(
        OntologyClass(iri=IRI(str(c)), label=_label(graph, c),
                      parents=tuple(p for p in _iris(graph, c, RDFS.subClassOf)
                                    if p != str(OWL.Thing)),
                      comment=_comment(graph, c))
        for c in classes)
    props: list[OntologyProperty] = []
    for kind, rdf_type in ((PropertyKind.OBJECT, OWL.ObjectProperty),
                           (PropertyKind.DATATYPE, OWL.DatatypeProperty)):
        for p in sorted({s for s in graph.subjects(RDF.type, rdf_type)
                         if isinstance(s, URIRef)}, key=str):
            props.append(OntologyProperty(
                iri=IRI(str(p)), label=_label(graph, p), kind=kind,
                domain=_iris(graph, p, RDFS.domain), range=_iris(graph, p, RDFS.range),
                functional=(p, RDF.type, OWL.FunctionalProperty) in graph,
                comment=_comment(graph, p)))
    iri = IRI(str(onto_node)) if isinstance(onto_node, URIRef) else IRI(source or "urn:ontology")
    label = _label(graph, onto_node) if isinstance(onto_node, URIRef) else Path(source).stem
    if not out_classes or not props:
        raise OntologyError(f"{source or iri}: found {len(out_classes)} classes and {len(props)} "
                            "properties; extraction needs at least one of each")
    return Ontology(iri=iri, label=label, classes=out_classes, properties=tuple(props),
                    source=source, sha256=sha256)


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
