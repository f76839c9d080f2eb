"""The findings of the ontology checks: reason codes, their severities and rules, the issue.

Every check (``structural``, ``reasoning``, ``cqs``) reports ``OntologyIssue`` values built
with ``issue``: a reason code from ``OntologyIssueCode``, the severity ``RULES`` gives it
(unless the check says otherwise), the IRIs involved and a message. ``sort_issues`` is the
order a report lists them in: by code, as ``RULES`` lists them, then by IRIs and message.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Literal, NamedTuple

from rdflib import URIRef
from rdflib.namespace import split_uri

from pipeline.models import Frozen
from pipeline.ontology.terms import Vocabulary

Severity = Literal["error", "warning"]


class OntologyIssueCode(StrEnum):
    INCONSISTENT = "inconsistent"
    UNSATISFIABLE_CLASS = "unsatisfiable-class"
    SUBCLASS_CYCLE = "subclass-cycle"
    MISSING_DOMAIN = "missing-domain"
    MISSING_RANGE = "missing-range"
    UNDECLARED_TERM = "undeclared-term"
    ORPHAN_CLASS = "orphan-class"
    CLASS_INSTANCE_CONFLATION = "class-instance-conflation"
    DISCONNECTED_SCHEMA = "disconnected-schema"
    DUPLICATE_LABEL = "duplicate-label"
    # how a loader read a quirk of the file (``quirks.NoteCode``): always warnings
    DATATYPE_LIKE_RANGE = "datatype-like-range"
    EMPTY_RANGE = "empty-range"
    UNKNOWN_RANGE = "unknown-range"
    UNKNOWN_DOMAIN = "unknown-domain"
    REDECLARED_PROPERTY = "redeclared-property"
    PROPERTY_KIND_CONFLICT = "property-kind-conflict"
    CQ_UNDEFINED_TERM = "cq-undefined-term"
    CQ_INVALID_QUERY = "cq-invalid-query"
    CQ_UNANSWERED = "cq-unanswered"
    REASONER_TIMEOUT = "reasoner-timeout"
    REASONER_UNAVAILABLE = "reasoner-unavailable"
    REASONER_FAILED = "reasoner-failed"


class Rule(NamedTuple):
    severity: Severity
    rule: str


C = OntologyIssueCode
#: every reason code: its severity and the rule it enforces (``undeclared-term`` is a warning
#: for a term used only as an annotation predicate or an individual, an error otherwise)
RULES: dict[OntologyIssueCode, Rule] = {
    C.INCONSISTENT: Rule("error", "HermiT finds the ontology inconsistent: it has no model; "
                         "the IRIs are the individuals typed into disjoint classes, when found"),
    C.UNSATISFIABLE_CLASS: Rule("error", "HermiT finds a named class equivalent to owl:Nothing "
                                "(no individual can ever belong to it)"),
    C.SUBCLASS_CYCLE: Rule("error", "named classes reach themselves through rdfs:subClassOf "
                           "(one finding per cycle; equivalence is owl:equivalentClass)"),
    C.MISSING_DOMAIN: Rule("error", "an object or datatype property has no rdfs:domain, "
                           "neither its own nor through a super-, equivalent or inverse "
                           "property"),
    C.MISSING_RANGE: Rule("error", "an object or datatype property has no rdfs:range, "
                          "neither its own nor through a super-, equivalent or inverse "
                          "property"),
    C.UNDECLARED_TERM: Rule("error", "a term is used but not declared: a class, property or "
                            "datatype in an axiom (domain, range, subclass, restriction, type), "
                            "or a declared root that is not a class; a warning for a predicate "
                            "used only in annotations or data, or an undeclared individual"),
    C.ORPHAN_CLASS: Rule("warning", "when roots are declared (verify:rootClass on the "
                         "ontology, or --root), a class that is not a root has no named "
                         "superclass"),
    C.CLASS_INSTANCE_CONFLATION: Rule("error", "one IRI is both a class and an individual: "
                                      "declared or used as a class and typed or used as an "
                                      "individual, or an individual with subclasses"),
    C.DISCONNECTED_SCHEMA: Rule("warning", "classes form islands: no subclass axiom, "
                                "restriction or object property (domain to range) links them "
                                "to the largest connected part of the schema (one finding per "
                                "island)"),
    C.DUPLICATE_LABEL: Rule("warning", "two classes, or two properties, share an rdfs:label "
                            "(case-, accent- and space-insensitive, same language)"),
    C.DATATYPE_LIKE_RANGE: Rule("warning", "a property's range is no declared class but an XSD "
                                "datatype or a term named like one (Date, Year, number, "
                                "string, … in any case): VeriKG reads the property as a "
                                "datatype property over that datatype (the term is then not "
                                "an undeclared class)"),
    C.EMPTY_RANGE: Rule("warning", "a relation's range is empty (JSON \"range\": \"\"): "
                        "VeriKG reads it as a datatype property with range rdfs:Literal "
                        "(any value)"),
    C.UNKNOWN_RANGE: Rule("warning", "a relation's range names no concept and no datatype "
                          "(JSON): VeriKG reads it as an object property with an open range "
                          "(owl:Thing, any entity)"),
    C.UNKNOWN_DOMAIN: Rule("warning", "a relation's domain is empty or names no concept "
                           "(JSON): VeriKG reads it with an open domain (any subject)"),
    C.REDECLARED_PROPERTY: Rule("warning", "one relation (the same label or IRI) is declared "
                                "more than once (JSON): VeriKG reads one property whose domain "
                                "and range are the union of the declarations'"),
    C.PROPERTY_KIND_CONFLICT: Rule("warning", "a property is read both as an object and as a "
                                   "datatype property (typed both ways, or declared with a "
                                   "class range and a datatype range): VeriKG reads it as an "
                                   "object property over the class ranges and drops the "
                                   "datatype ones"),
    C.CQ_UNDEFINED_TERM: Rule("error", "a competency question's SPARQL uses an IRI the "
                              "ontology does not define"),
    C.CQ_INVALID_QUERY: Rule("error", "a competency question's SPARQL does not parse"),
    C.CQ_UNANSWERED: Rule("warning", "run over the built knowledge graph, a competency "
                          "question's query returns nothing"),
    C.REASONER_TIMEOUT: Rule("warning", "HermiT did not finish within the time limit: "
                             "consistency and satisfiability are unknown"),
    C.REASONER_UNAVAILABLE: Rule("warning", "no Java to run HermiT: consistency and "
                                 "satisfiability are unknown"),
    C.REASONER_FAILED: Rule("warning", "HermiT or owlready2 failed on the ontology: "
                            "consistency and satisfiability are unknown"),
}
_ORDER = {code: i for i, code in enumerate(RULES)}


class OntologyIssue(Frozen):
    code: OntologyIssueCode
    severity: Severity
    iris: tuple[str, ...]
    message: str


def issue(code: OntologyIssueCode, iris: Iterable[object], message: str,
          severity: Severity | None = None) -> OntologyIssue:
    """A finding with ``code``; its severity is the rule's unless ``severity`` is given."""
    return OntologyIssue(code=code, severity=severity or RULES[code].severity,
                         iris=tuple(str(i) for i in iris), message=message)


def short(iri: object) -> str:
    """The local name of an IRI, for messages (the full IRIs are in ``iris``)."""
    text = str(iri)
    try:
        return split_uri(text)[1] or text
    except ValueError:
        return text


def label_or_name(vocab: Vocabulary, iri: URIRef) -> str:
    """The English (or untagged) label of ``iri``, else its local name, for messages."""
    for text, lang in vocab.labels(iri):
        if lang in (None, "en"):
            return text
    return short(iri)


def sort_issues(issues: Iterable[OntologyIssue]) -> tuple[OntologyIssue, ...]:
    """``issues`` in report order: by code (as ``RULES`` lists them), IRIs, message."""
    return tuple(sorted(issues, key=lambda i: (_ORDER[i.code], i.iris, i.message)))


__all__ = ["RULES", "OntologyIssue", "OntologyIssueCode", "Rule", "Severity", "issue",
           "label_or_name", "short", "sort_issues"]
