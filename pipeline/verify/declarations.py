"""When the data outvote the ontology: a soft check that fails on most statements of one
property speaks about the property's declaration, not about the statements.

Real ontologies declare ranges and domains narrower or other than their properties' real use
(an ``epoch`` declared a number whose every value is a date, a ``birthPlace`` declared on
celestial bodies whose subjects are people). A type check then flags every true statement of
that property, and the flag tells a reviewer nothing about any one of them. So, per property
and soft check: when at least ``min_statements`` statements use the property and at least
``share`` of them fail the check, the check's violations on that property are *waived*: kept on
each assertion as ``info`` (reported, no penalty, not in ``flagged``), and the property's
declaration is reported once as a ``DeclarationFinding`` for the ontology's owner. A check that
fails on a minority of a property's statements keeps flagging them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from pipeline.models import (
    IRI,
    Assertion,
    AssertionStatus,
    DeclarationFinding,
    Ontology,
    Severity,
    local_name,
)

#: the checks whose failures say something about a property's declaration
PROPERTY_CHECKS = frozenset({"types-fit-domain-range", "object-is-individual",
                             "literal-datatype", "shacl"})




def waive_declaration_conflicts(assertions: Sequence[Assertion], ontology: Ontology, *,
                                min_statements: int = 3, share: float = 0.5
                                ) -> tuple[list[Assertion], list[DeclarationFinding]]:
    """``assertions`` with the soft violations of contradicted declarations made ``info``,
    and the findings, ordered by property and check."""
    live = [a for a in assertions
            if a.status not in (AssertionStatus.QUARANTINED, AssertionStatus.CONTESTED)]
    total: dict[str, int] = defaultdict(int)
    failed: dict[tuple[str, str], int] = defaultdict(int)
    for a in live:
        total[a.triple.predicate] += 1
        for check in {v.check for v in a.violations if v.severity is Severity.SOFT}:
            if check in PROPERTY_CHECKS:
                failed[(a.triple.predicate, check)] += 1
    waived = {key for key, n in failed.items()
              if total[key[0]] >= min_statements and n >= share * total[key[0]]}
    if not waived:
        return list(assertions), []
    out = []
    for a in assertions:
        if not any((a.triple.predicate, v.check) in waived for v in a.violations):
            out.append(a)
            continue
        out.append(a.model_copy(update={"violations": tuple(
            v.model_copy(update={"severity": Severity.INFO})
            if (a.triple.predicate, v.check) in waived and v.severity is Severity.SOFT else v
            for v in a.violations)}))
    findings = []
    for predicate, check in sorted(waived):
        prop = ontology.get_property(predicate)
        findings.append(DeclarationFinding(
            predicate=IRI(predicate), label=prop.label if prop else local_name(predicate),
            check=check, failed=failed[(predicate, check)], statements=total[predicate]))
    return out, findings


__all__ = [
    "PROPERTY_CHECKS",
    "waive_declaration_conflicts",
]
