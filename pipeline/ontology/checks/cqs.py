"""Competency questions as checks: their SPARQL must parse, use only the ontology's terms, and —
run over a built knowledge graph — return something.

A CQ file is the YAML list ``ontologies/space/competency_questions.yaml`` uses: ``id``,
``text``, ``sparql`` and ``answer_type`` per question (``load_competency_questions``).

The terms of a query are the IRIs in its algebra (triple patterns, property paths, ``VALUES``,
``BIND``, filters), not its ``PREFIX`` lines: a prefix declared and never used is harmless.
RDF, RDFS, OWL and XSD terms, the annotation vocabularies ``terms.py`` lists and the IRIs of
knowledge-graph entities (``urn:verikg:entity:``) are always defined.

Answering runs the queries over the instance data only — the graph as the store exports it,
every entity typed with its class and named with ``rdfs:label``
(``pipeline.store.rdf.to_rdf``) — not over data plus ontology, where a query for
``rdfs:label`` would be answered by the schema itself.
Draft and certified assertions count; contested and quarantined ones do not.

The checks never open a store: they take an rdflib graph or a store the caller opened
(``kg_source`` says which a ``--kg`` argument names; ``flows.clients.open_kg`` opens it).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, SequencePath
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query

from pipeline.errors import OntologyError
from pipeline.models import IRI, AssertionStatus, CompetencyQuestion, Frozen, Ontology
from pipeline.ontology.checks.issues import OntologyIssue, OntologyIssueCode, issue, short
from pipeline.ontology.terms import Vocabulary
from pipeline.store import GraphStore
from pipeline.store.rdf import ENTITY_NS, to_rdf

#: file suffixes read as RDF by ``kg_source``; any other existing file is taken for a SQLite
#: store
RDF_SUFFIXES = {".ttl": "turtle", ".nt": "nt", ".rdf": "xml", ".owl": "xml", ".xml": "xml",
                ".jsonld": "json-ld", ".n3": "n3", ".trig": "trig", ".nq": "nquads"}

C = OntologyIssueCode


class CQResult(Frozen):
    """One competency question run over a knowledge graph."""

    id: str
    text: str
    #: rows of a SELECT, 1/0 for ASK, triples of CONSTRUCT/DESCRIBE; None when it did not run
    answers: int | None
    answered: bool
    error: str = ""


class CQRun(Frozen):
    """The competency questions run over one knowledge graph: which ones it answers."""

    results: tuple[CQResult, ...]
    #: assertions / triples the graph held
    kg_triples: int

    @property
    def asked(self) -> int:
        return sum(1 for r in self.results if r.answers is not None or r.error)

    @property
    def answered(self) -> int:
        return sum(1 for r in self.results if r.answered)

    @property
    def share_answered(self) -> float:
        return self.answered / self.asked if self.asked else 0.0


def parse_cq(cq: CompetencyQuestion) -> tuple[Query | None, str]:
    """The prepared query and ``""``, or ``None`` and the parser's message."""
    if not cq.sparql:
        return None, ""
    try:
        return prepareQuery(cq.sparql), ""
    except Exception as exc:  # pyparsing and rdflib raise several kinds
        return None, " ".join(str(exc).split())[:300]


def _walk(node: Any, seen: set[int]) -> Iterator[URIRef]:
    if isinstance(node, URIRef):
        yield node
        return
    if isinstance(node, (str, int, float)) or node is None or id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, (AlternativePath, SequencePath, NegatedPath)):
        for arg in node.args:
            yield from _walk(arg, seen)
    elif isinstance(node, InvPath):
        yield from _walk(node.arg, seen)
    elif isinstance(node, MulPath):
        yield from _walk(node.path, seen)
    elif isinstance(node, dict):  # rdflib's CompValue is an OrderedDict
        for value in node.values():
            yield from _walk(value, seen)
    elif isinstance(node, (list, tuple, set, frozenset)):
        for value in node:
            yield from _walk(value, seen)


def query_iris(query: Query) -> set[URIRef]:
    """Every IRI a prepared query's algebra mentions."""
    return set(_walk(query.algebra, set()))


def undefined_terms(query: Query, vocab: Vocabulary) -> list[URIRef]:
    """The IRIs ``query`` uses that ``vocab`` does not define (sorted)."""
    return sorted(i for i in query_iris(query)
                  if not vocab.defines(i) and not str(i).startswith(ENTITY_NS))


def check_cqs(vocab: Vocabulary, cqs: Sequence[CompetencyQuestion]) -> list[OntologyIssue]:
    """Syntax and terms of each CQ's SPARQL (a CQ without a query is not checked)."""
    issues: list[OntologyIssue] = []
    for cq in cqs:
        query, error = parse_cq(cq)
        if query is None:
            if cq.sparql:
                issues.append(issue(C.CQ_INVALID_QUERY, [cq.id],
                                    f"{cq.id}: SPARQL does not parse: {error}"))
            continue
        missing = undefined_terms(query, vocab)
        if missing:
            issues.append(issue(C.CQ_UNDEFINED_TERM, [cq.id, *missing],
                                f"{cq.id}: the query uses "
                                f"{', '.join(short(m) for m in missing)}, which the ontology "
                                "does not define"))
    return issues


# --------------------------------------------------------------------------- answering


def kg_graph(store: GraphStore, *, ontology_iri: str = "urn:ontology") -> Graph:
    """The instance data of a store as RDF: its draft and certified assertions."""
    assertions = [a for status in (AssertionStatus.DRAFT, AssertionStatus.CERTIFIED)
                  for a in store.assertions(status=status)]
    empty = Ontology(iri=IRI(ontology_iri), label="", classes=(), properties=())
    return to_rdf(assertions, empty)


def kg_source(spec: str) -> Graph | str:
    """The knowledge graph ``spec`` names: an RDF file (by its suffix), read into an rdflib
    graph of instance data, or the descriptor of the store that holds it (a SQLite store file,
    ``sqlite:PATH`` or a Bolt URI) for the caller to open and pass on (or export with
    ``kg_graph``). Raises an ``OntologyError`` with a clear message when the file is missing
    or does not parse, or when no SQLite store is at the path (opening one would create an
    empty store; a check must not)."""
    path = Path(spec)
    if path.suffix.lower() in RDF_SUFFIXES and not spec.startswith(("sqlite:", "bolt", "neo4j")):
        if not path.is_file():
            raise OntologyError(f"{spec}: knowledge-graph file not found")
        graph = Graph()
        try:
            graph.parse(path, format=RDF_SUFFIXES[path.suffix.lower()])
        except Exception as exc:  # rdflib raises many kinds
            raise OntologyError(f"{spec}: cannot parse the knowledge graph "
                                f"({type(exc).__name__}: {str(exc).strip()[:300]})") from exc
        return graph
    descriptor = spec if ":" in spec and not path.is_file() else f"sqlite:{spec}"
    if descriptor.startswith("sqlite:") and not Path(descriptor[len("sqlite:"):]).is_file():
        raise OntologyError(f"{spec}: no knowledge-graph store at this path")
    return descriptor


def _count(result: Any) -> int:
    if result.type == "ASK":
        return int(bool(result.askAnswer))
    if result.type == "SELECT":
        return sum(1 for _ in result)
    return len(result.graph) if result.graph is not None else 0


def run_cqs(kg: Graph | GraphStore, cqs: Sequence[CompetencyQuestion]) -> CQRun:
    """Run every CQ that has a SPARQL query over ``kg`` (an rdflib graph, or a store whose
    instance data ``kg_graph`` exports). A query that does not parse is recorded with its
    error and counts as unanswered."""
    graph = kg if isinstance(kg, Graph) else kg_graph(kg)
    results: list[CQResult] = []
    for cq in cqs:
        if not cq.sparql:
            continue
        query, error = parse_cq(cq)
        if query is None:
            results.append(CQResult(id=cq.id, text=cq.text, answers=None, answered=False,
                                    error=f"does not parse: {error}"))
            continue
        try:
            n = _count(graph.query(query))
        except Exception as exc:  # evaluation errors: unknown functions, bad casts
            results.append(CQResult(id=cq.id, text=cq.text, answers=None, answered=False,
                                    error=f"{type(exc).__name__}: {str(exc)[:200]}"))
            continue
        results.append(CQResult(id=cq.id, text=cq.text, answers=n, answered=n > 0))
    return CQRun(results=tuple(results), kg_triples=len(graph))


def cq_run_findings(run: CQRun) -> list[OntologyIssue]:
    """``cq-unanswered`` for each question ``run`` asked that got no answer."""
    issues = []
    for r in run.results:
        if r.answered:
            continue
        why = f" ({r.error})" if r.error else ""
        issues.append(issue(C.CQ_UNANSWERED, [r.id], f"{r.id}: '{r.text}' has no answer in "
                            f"the knowledge graph ({run.kg_triples} triples){why}"))
    return issues


def check_cqs_against(kg: Graph | GraphStore, cqs: Sequence[CompetencyQuestion]
                      ) -> list[OntologyIssue]:
    """``cq-unanswered`` for each CQ whose query returns nothing over ``kg`` (an rdflib graph
    of instance data, or an open store, exported with ``kg_graph``). ``run_cqs`` gives the
    per-question counts."""
    return cq_run_findings(run_cqs(kg, cqs))


__all__ = ["RDF_SUFFIXES", "CQResult", "CQRun", "check_cqs", "check_cqs_against",
           "cq_run_findings", "kg_graph", "kg_source", "parse_cq", "query_iris", "run_cqs",
           "undefined_terms"]
