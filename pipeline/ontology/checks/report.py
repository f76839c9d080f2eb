"""The ontology check report and its entry points: every check run on one ontology.

``check_graph`` runs every check on an rdflib graph and returns the ``CheckReport`` that
``verikg ontology check`` prints (``--format json`` writes ``as_json()``, schema
``REPORT_SCHEMA``). ``check_file`` reads an ontology file or folder first (``read_graph``,
``resolve_ontology_path``); ``check_ontology`` checks a loaded ``Ontology`` by re-reading the
file it came from (or, for one that exists only in memory, ``ontology_graph``).

With ``kg`` (an rdflib graph of instance data, or a store the caller opened) the competency
questions are also run over a built knowledge graph; the checks never open a store.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rdflib import OWL, RDF, RDFS, Graph, URIRef
from rdflib import Literal as RdfLiteral

from pipeline.errors import OntologyError
from pipeline.models import CompetencyQuestion, Frozen, Ontology, PropertyKind
from pipeline.ontology.checks.cqs import check_cqs, cq_run_findings, run_cqs
from pipeline.ontology.checks.issues import OntologyIssue, sort_issues
from pipeline.ontology.checks.reasoning import reasoner_findings
from pipeline.ontology.checks.structural import (
    check_conflation,
    check_disconnected,
    check_domains_and_ranges,
    check_duplicate_labels,
    check_orphans,
    check_subclass_cycles,
    check_undeclared,
    note_findings,
)
from pipeline.ontology.loader import (
    CQ_FILENAMES,
    load_competency_questions,
    parse_graph,
    read_properties,
)
from pipeline.ontology.reasoner import (
    DEFAULT_REASONER_TIMEOUT_S,
    ReasonerResult,
    read_with_owlready2,
    run_hermit,
)
from pipeline.ontology.terms import uses, vocabulary
from pipeline.store import GraphStore

#: version of the JSON ``verikg ontology check --format json`` writes
REPORT_SCHEMA = "verikg.ontology-check/1"


class CQSummary(Frozen):
    total: int
    with_sparql: int
    #: None until run over a knowledge graph
    answered: int | None = None
    asked: int | None = None
    kg: str | None = None
    kg_triples: int | None = None


class OntologySummary(Frozen):
    source: str
    iri: str | None
    triples: int
    classes: int
    object_properties: int
    datatype_properties: int
    annotation_properties: int
    individuals: int
    roots: tuple[str, ...]


class CheckReport(Frozen):
    """Everything ``verikg ontology check`` prints; ``--format json`` writes ``as_json()``."""

    ontology: OntologySummary
    reasoner: ReasonerResult
    competency_questions: CQSummary
    findings: tuple[OntologyIssue, ...]

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def as_json(self) -> dict[str, Any]:
        """The stable JSON form (schema ``REPORT_SCHEMA``); keys are only ever added."""
        by_code: dict[str, int] = defaultdict(int)
        for f in self.findings:
            by_code[f.code.value] += 1
        return {
            "schema": REPORT_SCHEMA,
            "ok": self.ok,
            "summary": {"errors": self.errors, "warnings": self.warnings,
                        "by_code": dict(sorted(by_code.items()))},
            "ontology": self.ontology.model_dump(mode="json"),
            "reasoner": self.reasoner.model_dump(mode="json"),
            "competency_questions": self.competency_questions.model_dump(mode="json"),
            "findings": [f.model_dump(mode="json") for f in self.findings],
        }


def check_graph(graph: Graph, *, cqs: Sequence[CompetencyQuestion] = (),
                roots: Iterable[str] = (),
                reasoner_timeout_s: float | None = DEFAULT_REASONER_TIMEOUT_S,
                cache_key: str | None = None, source: str = "",
                kg: Graph | GraphStore | None = None, kg_name: str | None = None
                ) -> CheckReport:
    """Run every check on an ontology graph: structure, the reasoner (``reasoner_timeout_s``
    bounds it; 0 or None skips it), the CQs' SPARQL and, with ``kg``, their answers."""
    vocab = vocabulary(graph, roots)
    all_uses = list(uses(vocab))
    # the properties as the loader reads them: the quirks it reads are warnings, and a range
    # it reads as a datatype is neither an undeclared class nor a link between classes
    reading = read_properties(graph)
    findings: list[OntologyIssue] = []
    findings += check_domains_and_ranges(vocab)
    findings += check_undeclared(vocab, all_uses, reading.datatype_ranges)
    findings += check_subclass_cycles(vocab)
    findings += check_orphans(vocab)
    findings += check_conflation(vocab, all_uses)
    findings += check_disconnected(vocab, all_uses, reading.datatype_ranges)
    findings += check_duplicate_labels(vocab)
    findings += note_findings(reading.notes)
    reasoned = run_hermit(graph, timeout_s=reasoner_timeout_s, cache_key=cache_key)
    findings += reasoner_findings(vocab, reasoned)
    findings += check_cqs(vocab, cqs)
    with_sparql = sum(1 for q in cqs if q.sparql)
    cq_summary = CQSummary(total=len(cqs), with_sparql=with_sparql)
    if kg is not None:
        run = run_cqs(kg, cqs)
        findings += cq_run_findings(run)
        cq_summary = cq_summary.model_copy(update={
            "answered": run.answered, "asked": run.asked, "kg": kg_name,
            "kg_triples": run.kg_triples})
    summary = OntologySummary(
        source=source, iri=str(vocab.ontology_iri) if vocab.ontology_iri else None,
        triples=len(graph), classes=len(vocab.classes),
        object_properties=len(vocab.object_properties),
        datatype_properties=len(vocab.datatype_properties),
        annotation_properties=len(vocab.annotation_properties),
        individuals=len(vocab.individuals), roots=tuple(sorted(str(r) for r in vocab.roots)))
    return CheckReport(ontology=summary, reasoner=reasoned, competency_questions=cq_summary,
                       findings=sort_issues(findings))


# --------------------------------------------------------------------------- entry points


_FIRST_ELEMENT = re.compile(r"<(?![?!])(?:[\w.-]+:)?([\w.-]+)")


def _looks_like_owl_xml(path: Path) -> bool:
    """OWL/XML (first element ``Ontology``), which rdflib cannot read; RDF/XML starts with
    ``rdf:RDF``."""
    head = path.read_bytes()[:4000].decode("utf-8", errors="replace")
    if not head.lstrip().startswith("<"):
        return False
    first = _FIRST_ELEMENT.search(re.sub(r"<!--.*?-->", "", head, flags=re.S))
    return first is not None and first.group(1) == "Ontology"


def read_graph(path: Path) -> Graph:
    """Parse an ontology file: OWL/XML through owlready2; Turtle, RDF/XML or N-Triples by
    extension (as ``load_ontology`` does), then by trying each. Raises ``OntologyError`` with
    the first parser's message."""
    if path.is_file() and _looks_like_owl_xml(path):
        return read_with_owlready2(path)
    try:
        return parse_graph(path)
    except OntologyError as first:
        if not path.is_file():
            raise
        for fmt in ("turtle", "xml", "nt"):
            graph = Graph()
            try:
                graph.parse(path, format=fmt)
            except Exception:  # noqa: S112 - try the next format; report the first error
                continue
            if len(graph):
                return graph
        raise first


def resolve_ontology_path(path: Path) -> tuple[Path, Path | None]:
    """The ontology file ``path`` names (a file, or a folder holding ``ontology.ttl`` / a
    ``*.ttl`` / a ``*.owl``) and the CQ file beside it, if any — as ``load_ontology`` finds
    them."""
    if path.is_dir():
        candidates = [path / "ontology.ttl", *sorted(path.glob("*.ttl")),
                      *sorted(path.glob("*.owl"))]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise OntologyError(f"{path}: no ontology.ttl or *.owl file in this folder")
        return found, next((path / n for n in CQ_FILENAMES if (path / n).is_file()), None)
    return path, next((path.parent / n for n in CQ_FILENAMES
                       if (path.parent / n).is_file()), None)


def check_file(path: Path | str, *, cqs: Path | str | None = None, roots: Iterable[str] = (),
               reasoner_timeout_s: float | None = DEFAULT_REASONER_TIMEOUT_S,
               kg: Graph | GraphStore | None = None, kg_name: str | None = None
               ) -> CheckReport:
    """Check the ontology in ``path`` (file or folder) with its CQs (``cqs``, else the CQ file
    beside it). Raises ``OntologyError`` when the file or the CQ file cannot be read."""
    file, found_cqs = resolve_ontology_path(Path(path))
    graph = read_graph(file)
    cq_file = Path(cqs) if cqs is not None else found_cqs
    questions = load_competency_questions(cq_file) if cq_file is not None else ()
    key = hashlib.sha256(file.read_bytes()).hexdigest()
    return check_graph(graph, cqs=questions, roots=roots, reasoner_timeout_s=reasoner_timeout_s,
                       cache_key=key, source=str(file), kg=kg, kg_name=kg_name)


def ontology_graph(onto: Ontology) -> Graph:
    """The ``Ontology`` model as OWL in RDF, for an ontology that exists only in memory."""
    g = Graph()
    node = URIRef(onto.iri)
    g.add((node, RDF.type, OWL.Ontology))
    if onto.label:
        g.add((node, RDFS.label, RdfLiteral(onto.label)))
    for c in onto.classes:
        g.add((URIRef(c.iri), RDF.type, OWL.Class))
        g.add((URIRef(c.iri), RDFS.label, RdfLiteral(c.label)))
        for parent in c.parents:
            g.add((URIRef(c.iri), RDFS.subClassOf, URIRef(parent)))
    for p in onto.properties:
        kind = OWL.ObjectProperty if p.kind is PropertyKind.OBJECT else OWL.DatatypeProperty
        g.add((URIRef(p.iri), RDF.type, kind))
        g.add((URIRef(p.iri), RDFS.label, RdfLiteral(p.label)))
        if p.functional:
            g.add((URIRef(p.iri), RDF.type, OWL.FunctionalProperty))
        for d in p.domain:
            g.add((URIRef(p.iri), RDFS.domain, URIRef(d)))
        for r in p.range:
            g.add((URIRef(p.iri), RDFS.range, URIRef(r)))
    return g


def _source_graph(onto: Ontology) -> tuple[Graph, str]:
    """The graph the ontology was loaded from, when that file is still what was loaded;
    otherwise the model written as OWL."""
    source = Path(onto.source) if onto.source else None
    if source is not None and source.is_file():
        data = source.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if not onto.sha256 or digest == onto.sha256:
            return read_graph(source), digest
    model = onto.model_dump_json(exclude={"competency_questions"})
    return ontology_graph(onto), "model:" + hashlib.sha256(model.encode()).hexdigest()


def check_ontology(onto: Ontology, *, roots: Iterable[str] = (),
                   reasoner_timeout_s: float | None = DEFAULT_REASONER_TIMEOUT_S
                   ) -> list[OntologyIssue]:
    """Every check on a loaded ontology and its competency questions — the same checks
    ``verikg ontology check`` runs on the file it came from — and a warning for each note the
    loader made (``onto.notes``) that the re-read file does not already give."""
    graph, key = _source_graph(onto)
    report = check_graph(graph, cqs=onto.competency_questions, roots=roots,
                         reasoner_timeout_s=reasoner_timeout_s, cache_key=key,
                         source=onto.source)
    findings = list(report.findings)
    seen = {(f.code, f.iris, f.message) for f in findings}
    findings += [f for f in note_findings(onto.notes)
                 if (f.code, f.iris, f.message) not in seen]
    return list(sort_issues(findings))


__all__ = ["REPORT_SCHEMA", "CQSummary", "CheckReport", "OntologySummary", "check_file",
           "check_graph", "check_ontology", "ontology_graph", "read_graph",
           "resolve_ontology_path"]
