"""The automatic half of the critic's review: what a draft must pass before it is accepted.

A draft is rendered to the files the panel would write, loaded back with ``load_ontology``
and checked with ``check_ontology`` — exactly what ``verikg ontology check`` runs on the
output — plus the panel's own checks:

* structure: term names unique, superclasses and domains/ranges declared, datatype ranges
  that are XSD datatypes, every question in scope with exactly one query, answer types that
  name a class or a datatype;
* queries: each parses (``cq-invalid-query``), is a SELECT or ASK query without ``SERVICE``
  (``cq-not-select``), uses only terms the ontology defines plus rdf/rdfs/owl/xsd
  (``cq-undefined-term``), and runs over the ontology graph with rdflib (``cq-query-fails``).

Findings carry reason codes and IRIs like ``check_ontology``'s; errors block acceptance.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef
from rdflib.paths import Path as RDFPath
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue

from pipeline.errors import OntologyError
from pipeline.models import CompetencyQuestion, Ontology
from pipeline.ontology import check_ontology, load_ontology
from pipeline.ontology.design.prompts import EXAMPLE_TERMS
from pipeline.ontology.design.render import (
    STANDARD_PREFIXES,
    XSD,
    datatype_iri,
    prepare_sparql,
    render_cq_yaml,
    render_turtle,
)
from pipeline.ontology.design.schemas import DraftAnswer
from pipeline.ontology.design.transcript import CandidateRecord, DesignFinding, Severity

CQ_FILE_HEADER = ("Competency questions written by the VeriKG ontology design panel.\n"
                  "Each query runs over instance data typed with rdf:type, named with "
                  "rdfs:label\nand linked by the ontology's properties.")


def humanize_name(text: str) -> str:
    """``publicationYear`` → ``publication year``, lower-cased (for word comparisons)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text).replace("_", " ").lower()


@dataclass
class DraftCheck:
    """A rendered draft and everything found wrong with it."""

    turtle: str
    cq_yaml: str
    questions: list[CompetencyQuestion]
    findings: list[DesignFinding] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    ontology: Ontology | None = None

    @property
    def errors(self) -> list[DesignFinding]:
        return [f for f in self.findings if f.severity == "error"]


def _finding(code: str, severity: Severity, iris: Sequence[str], message: str,
             source: str) -> DesignFinding:
    return DesignFinding(code=code, severity=severity, iris=tuple(iris), message=message,
                         source=source)  # type: ignore[arg-type]


def structure_findings(draft: DraftAnswer, questions: Sequence[CandidateRecord],
                       namespace: str, context: str = "") -> list[DesignFinding]:
    """Problems visible in the draft itself, before any file is written.

    ``context`` (the domain description, questions and corpus sample) lets the check tell a
    term copied from the prompt's format example (small models do) from one the domain uses.
    """
    found: list[DesignFinding] = []
    words = set(re.findall(r"[a-z]+", humanize_name(context)))
    for name in draft.term_names():
        if name in EXAMPLE_TERMS and not set(re.findall(r"[a-z]+", humanize_name(name))) <= words:
            found.append(_finding("example-copied", "error", [namespace + name],
                                  f"'{name}' comes from the format example (a library), not "
                                  "from this domain; model the domain's own terms",
                                  "structure"))
    names = draft.term_names()
    for name in sorted({n for n in names if names.count(n) > 1}):
        found.append(_finding("duplicate-term", "error", [namespace + name],
                              f"'{name}' is declared {names.count(name)} times (as a class or "
                              "property); every term needs its own name", "structure"))
    classes = {c.name for c in draft.classes}
    for c in draft.classes:
        for parent in c.parents:
            if parent not in classes:
                found.append(_finding("undeclared-term", "error",
                                      [namespace + c.name, namespace + parent],
                                      f"superclass '{parent}' of '{c.name}' is not a class of "
                                      "the draft", "structure"))
    for op in draft.object_properties:
        for what, value in (("domain", op.domain), ("range", op.range)):
            if value and value not in classes:
                found.append(_finding("undeclared-term", "error",
                                      [namespace + op.name, namespace + value],
                                      f"{what} '{value}' of '{op.name}' is not a class of the "
                                      "draft", "structure"))
    for dp in draft.datatype_properties:
        if dp.domain and dp.domain not in classes:
            found.append(_finding("undeclared-term", "error",
                                  [namespace + dp.name, namespace + dp.domain],
                                  f"domain '{dp.domain}' of '{dp.name}' is not a class of the "
                                  "draft", "structure"))
        if dp.range and datatype_iri(dp.range) is None:
            found.append(_finding("unknown-datatype", "error", [namespace + dp.name],
                                  f"range '{dp.range}' of '{dp.name}' is not an XSD datatype "
                                  "(use e.g. xsd:string, xsd:integer, xsd:date, xsd:gYear)",
                                  "structure"))
    wanted = {q.id for q in questions}
    counts: dict[str, int] = {}
    for q in draft.queries:
        counts[q.cq] = counts.get(q.cq, 0) + 1
        if q.cq not in wanted:
            found.append(_finding("cq-unknown", "error", [q.cq],
                                  f"a query is given for '{q.cq}', which is not a question in "
                                  f"scope ({', '.join(sorted(wanted))})", "cq"))
        elif q.answer_type and q.answer_type.split(":")[-1] not in classes \
                and datatype_iri(q.answer_type) is None:
            found.append(_finding("cq-answer-type", "error", [q.cq],
                                  f"{q.cq}: answer type '{q.answer_type}' is neither a class "
                                  "of the draft nor an XSD datatype", "cq"))
    for cq in sorted(wanted):
        if counts.get(cq, 0) == 0:
            found.append(_finding("cq-missing-query", "error", [cq],
                                  f"{cq} has no SPARQL query", "cq"))
        elif counts[cq] > 1:
            found.append(_finding("cq-duplicate-query", "error", [cq],
                                  f"{cq} has {counts[cq]} queries; give exactly one", "cq"))
    return found


def _terms(node: Any) -> Iterator[URIRef]:
    """Every IRI in a query's algebra (triple patterns, paths, expressions)."""
    if isinstance(node, URIRef):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _terms(value)
    elif isinstance(node, list | tuple | set | frozenset):
        for value in node:
            yield from _terms(value)
    elif isinstance(node, RDFPath):
        for value in vars(node).values():
            yield from _terms(value)


def _uses_service(node: Any) -> bool:
    if isinstance(node, CompValue) and node.name == "ServiceGraphPattern":
        return True
    if isinstance(node, dict):
        return any(_uses_service(v) for v in node.values())
    if isinstance(node, list | tuple):
        return any(_uses_service(v) for v in node)
    return False


def query_findings(question: CompetencyQuestion, ontology: Ontology,
                   graph: Graph) -> list[DesignFinding]:
    """Parse, vet and run one competency question's query over the ontology graph."""
    if not question.sparql:
        return []
    try:
        prepared = prepareQuery(question.sparql)
    except Exception as exc:  # rdflib raises pyparsing errors and others
        return [_finding("cq-invalid-query", "error", [question.id],
                         f"{question.id}: SPARQL does not parse: {str(exc).strip()[:300]}",
                         "cq")]
    algebra = prepared.algebra
    if algebra.name not in ("SelectQuery", "AskQuery") or _uses_service(algebra):
        return [_finding("cq-not-select", "error", [question.id],
                         f"{question.id}: a competency question must be a SELECT or ASK query "
                         "over the local graph (no SERVICE)", "cq")]
    defined = {str(ontology.iri)} | {str(c.iri) for c in ontology.classes} | {
        str(p.iri) for p in ontology.properties}
    standard = tuple(STANDARD_PREFIXES.values())
    undefined = sorted({str(t) for t in _terms(algebra)
                        if str(t) not in defined and not str(t).startswith(standard)})
    found = [_finding("cq-undefined-term", "error", [question.id, term],
                      f"{question.id}: the query uses <{term}>, which the ontology does not "
                      "define", "cq") for term in undefined]
    if not found:
        try:
            graph.query(prepared)
        except Exception as exc:
            found.append(_finding("cq-query-fails", "error", [question.id],
                                  f"{question.id}: the query fails when run: "
                                  f"{type(exc).__name__}: {str(exc).strip()[:300]}", "cq"))
    return found


def _issue_finding(issue: Any, scrub: str) -> DesignFinding:
    code = getattr(issue.code, "value", issue.code)
    message = str(issue.message).replace(scrub, "")
    return DesignFinding(code=str(code), severity=issue.severity, iris=tuple(issue.iris),
                         message=message, source="checks")


def _answer_type(value: str) -> str | None:
    """A class as its local name (as in ``ontologies/space``), a datatype as ``xsd:name``."""
    if not value:
        return None
    datatype = datatype_iri(value)
    return "xsd:" + datatype.removeprefix(XSD) if datatype else value.split(":")[-1]


def check_draft(draft: DraftAnswer, questions: Sequence[CandidateRecord], *, ontology_iri: str,
                prefix: str, label: str, comment: str, context: str = "") -> DraftCheck:
    """Render ``draft``, load it back as the panel's output files, and run every check."""
    namespace = ontology_iri + "#"
    turtle = render_turtle(draft, ontology_iri=ontology_iri, prefix=prefix, label=label,
                           comment=comment)
    by_id = {q.id: q for q in questions}
    queries = {q.cq: q for q in draft.queries if q.cq in by_id}
    cqs: list[CompetencyQuestion] = []
    repairs: list[str] = []
    for cq_id in sorted(by_id):
        q = queries.get(cq_id)
        sparql = None
        if q is not None:
            sparql, added = prepare_sparql(q.sparql, prefix=prefix, namespace=namespace)
            if added:
                repairs.append(f"{cq_id}: added PREFIX declarations for "
                               + ", ".join(f"{p}:" for p in added))
        answer_type = (q.answer_type if q is not None and q.answer_type
                       else by_id[cq_id].answer_type)
        cqs.append(CompetencyQuestion(id=cq_id, text=by_id[cq_id].text, sparql=sparql,
                                      answer_type=_answer_type(answer_type)))
    cq_yaml = render_cq_yaml(cqs, header=CQ_FILE_HEADER)
    result = DraftCheck(turtle=turtle, cq_yaml=cq_yaml, questions=cqs, repairs=repairs,
                        findings=structure_findings(draft, questions, namespace, context))
    with tempfile.TemporaryDirectory(prefix="verikg-design-") as tmp:
        folder = Path(tmp)
        (folder / "ontology.ttl").write_text(turtle, encoding="utf-8")
        (folder / "competency_questions.yaml").write_text(cq_yaml, encoding="utf-8")
        scrub = str(folder) + "/"
        try:
            onto = load_ontology(folder)
        except OntologyError as exc:
            result.findings.append(_finding("unloadable", "error", [ontology_iri],
                                            str(exc).replace(scrub, ""), "checks"))
            return result
        try:
            issues = check_ontology(onto)
        except Exception as exc:  # a crash in a check is a finding, not the panel's end
            result.findings.append(_finding("check-failed", "error", [ontology_iri],
                                            f"check_ontology failed: {type(exc).__name__}: "
                                            f"{str(exc).replace(scrub, '')[:300]}", "checks"))
            issues = []
        result.findings += [_issue_finding(i, scrub) for i in issues]
        graph = Graph()
        graph.parse(data=turtle, format="turtle")
    result.ontology = onto.model_copy(update={"source": "ontology.ttl"})
    for question in cqs:
        result.findings += query_findings(question, onto, graph)
    result.findings = _dedupe(result.findings)
    return result


_RANK = {"error": 0, "warning": 1}


def _dedupe(findings: list[DesignFinding]) -> list[DesignFinding]:
    """One finding per (code, IRIs): the panel's own checks and ``check_ontology`` overlap
    (``undeclared-term``, ``cq-invalid-query``); the more severe wins, then the first."""
    best: dict[tuple[str, tuple[str, ...]], DesignFinding] = {}
    for f in findings:
        key = (f.code, tuple(sorted(f.iris)))
        if key not in best or _RANK[f.severity] < _RANK[best[key].severity]:
            best[key] = f
    return sorted(best.values(), key=lambda f: (_RANK[f.severity], f.code, f.iris, f.message))


__all__ = ["CQ_FILE_HEADER", "DraftCheck", "check_draft", "humanize_name", "query_findings",
           "structure_findings"]
