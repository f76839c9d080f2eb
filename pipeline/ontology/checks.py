"""Structural checks on an ontology, run before extraction starts (first version).

Each finding is data — a reason code, the IRIs involved, a message and a severity — so a user
sees every problem at once. Errors stop a build; warnings are reported.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from typing import Literal

from rdflib.plugins.sparql import prepareQuery

from pipeline.models import Frozen, Ontology, PropertyKind, normalize_label

XSD = "http://www.w3.org/2001/XMLSchema#"
RDFS_LITERAL = "http://www.w3.org/2000/01/rdf-schema#Literal"


class OntologyIssueCode(StrEnum):
    MISSING_DOMAIN = "missing-domain"
    MISSING_RANGE = "missing-range"
    UNDECLARED_TERM = "undeclared-term"
    SUBCLASS_CYCLE = "subclass-cycle"
    DUPLICATE_LABEL = "duplicate-label"
    CQ_INVALID_QUERY = "cq-invalid-query"


class OntologyIssue(Frozen):
    code: OntologyIssueCode
    severity: Literal["error", "warning"]
    iris: tuple[str, ...]
    message: str


def check_ontology(onto: Ontology) -> list[OntologyIssue]:
    issues: list[OntologyIssue] = []
    class_iris = {c.iri for c in onto.classes}
    for p in onto.properties:
        if not p.domain:
            issues.append(OntologyIssue(code=OntologyIssueCode.MISSING_DOMAIN, severity="error",
                                        iris=(p.iri,), message=f"property '{p.label}' has no "
                                        "rdfs:domain"))
        if not p.range:
            issues.append(OntologyIssue(code=OntologyIssueCode.MISSING_RANGE, severity="error",
                                        iris=(p.iri,), message=f"property '{p.label}' has no "
                                        "rdfs:range"))
        for d in p.domain:
            if d not in class_iris:
                issues.append(OntologyIssue(code=OntologyIssueCode.UNDECLARED_TERM,
                                            severity="error", iris=(p.iri, d),
                                            message=f"domain of '{p.label}' is not a declared "
                                            "class"))
        for r in p.range:
            ok = (r in class_iris if p.kind is PropertyKind.OBJECT
                  else r.startswith(XSD) or r == RDFS_LITERAL)
            if not ok:
                issues.append(OntologyIssue(code=OntologyIssueCode.UNDECLARED_TERM,
                                            severity="error", iris=(p.iri, r),
                                            message=f"range of '{p.label}' is not a declared "
                                            "class or XSD datatype"))
    for c in onto.classes:
        for parent in c.parents:
            if parent not in class_iris:
                issues.append(OntologyIssue(code=OntologyIssueCode.UNDECLARED_TERM,
                                            severity="warning", iris=(c.iri, parent),
                                            message=f"superclass of '{c.label}' is not declared"))
        if any(c.iri in onto.ancestors(p) for p in c.parents):
            issues.append(OntologyIssue(code=OntologyIssueCode.SUBCLASS_CYCLE, severity="error",
                                        iris=(c.iri,), message=f"'{c.label}' is its own "
                                        "superclass through the hierarchy"))
    terms: list[tuple[str, str]] = [(str(t.iri), t.label) for t in onto.classes] + [
        (str(t.iri), t.label) for t in onto.properties]
    labels = Counter(normalize_label(label) for _, label in terms)
    for lbl, n in labels.items():
        if n > 1:
            iris = tuple(iri for iri, label in terms if normalize_label(label) == lbl)
            issues.append(OntologyIssue(code=OntologyIssueCode.DUPLICATE_LABEL,
                                        severity="warning", iris=iris,
                                        message=f"label '{lbl}' names {n} terms"))
    for cq in onto.competency_questions:
        if cq.sparql:
            try:
                prepareQuery(cq.sparql)
            except Exception as exc:
                issues.append(OntologyIssue(code=OntologyIssueCode.CQ_INVALID_QUERY,
                                            severity="error", iris=(cq.id,),
                                            message=f"{cq.id}: SPARQL does not parse: {exc}"))
    return issues
