"""The contract's checks on a statement a person makes rather than a model: a KGCL change to
the graph (``pipeline.kgcl.store_compiler``) passes the same post-conditions, with the same
severities, as an extracted triple.

``check_statement`` runs every enabled post-condition of a contract on one (subject,
property, object) — except the checks that look for the names in the text a model read
(``TEXT_CHECKS``): a curator's statement has no text, its evidence is the curator. A *hard*
failure refuses the statement; a *soft* one keeps it, flagged. A datatype property's value
comes back typed as the contract reads it (the first datatype of the range it parses as
gives the canonical value; one that parses as none is kept as written, as a string, flagged
``literal-datatype``). A datatype the statement writes itself (``"12"^^xsd:integer``) takes
the place of the range for reading the value, and is flagged ``literal-datatype`` when the
property's range does not allow it.

``check_label`` runs ``names-are-plain`` on a name a person gives an entity (a new node, a
rename): a label is the name of a thing, never code.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.contracts.checks import CHECKS, XSD, CandidateState, with_article
from pipeline.contracts.spec import ContractSpec
from pipeline.models import (
    IRI,
    CandidateTriple,
    LiteralValue,
    Ontology,
    OntologyProperty,
    PropertyKind,
    Severity,
    Violation,
    ViolationReason,
)

#: the checks that need the text a statement was read from
TEXT_CHECKS = frozenset({"subject-in-text", "object-in-text"})
XSD_STRING = IRI(XSD + "string")


@dataclass(frozen=True)
class StatementCheck:
    """What the contract says of one statement: the hard violations that refuse it, the soft
    ones it is flagged with, and (for a datatype property) its object as stored."""

    hard: tuple[Violation, ...]
    soft: tuple[Violation, ...]
    literal: LiteralValue | None = None

    @property
    def refused(self) -> bool:
        return bool(self.hard)


def _severity(spec: ContractSpec, name: str) -> Severity | None:
    found = spec.severity(name)
    return None if found is Severity.INFO else found


def _split(found: list[Violation]) -> tuple[tuple[Violation, ...], tuple[Violation, ...]]:
    return (tuple(v for v in found if v.severity is Severity.HARD),
            tuple(v for v in found if v.severity is Severity.SOFT))


def check_statement(spec: ContractSpec, ontology: Ontology, subject: str,
                    prop: OntologyProperty, obj: str, *, datatype: str | None = None,
                    skip: frozenset[str] = frozenset()) -> StatementCheck:
    """The contract's post-conditions on ``subject prop obj`` (labels, or the literal's text
    for a datatype property; ``datatype``: one the statement writes itself), without the
    text checks and the checks named in ``skip``."""
    typed = prop
    if datatype is not None and prop.kind is PropertyKind.DATATYPE:
        typed = prop.model_copy(update={"range": (IRI(datatype),)})
    state = CandidateState(candidate=CandidateTriple(subject=subject, predicate=prop.iri,
                                                     object=obj),
                           chunk=None, ontology=ontology)
    found: list[Violation] = []
    for check in spec.enabled("postconditions"):
        if check.check in TEXT_CHECKS or check.check in skip or check.check not in CHECKS:
            continue
        violation = CHECKS[check.check](state)
        if state.prop is not None and state.prop.iri == prop.iri:
            state.prop = typed  # the value is read as the statement types it
        if violation is not None:
            found.append(violation.model_copy(update={"severity": check.effective_severity}))
    hard, soft = _split(found)
    if prop.kind is not PropertyKind.DATATYPE:
        return StatementCheck(hard, soft)
    if state.literal_value is not None and state.literal_datatype is not None:
        literal = LiteralValue(value=state.literal_value, datatype=IRI(state.literal_datatype))
    else:  # no datatype of the range reads it: kept as written, a string (flagged above)
        literal = LiteralValue(value=obj.strip(), datatype=XSD_STRING)
    severity = _severity(spec, "literal-datatype")
    if datatype is not None and prop.range and IRI(datatype) not in prop.range \
            and severity is not None and not any(v.check == "literal-datatype" for v in found):
        wanted = " or ".join(d.removeprefix(XSD) for d in prop.range)
        hard, soft = _split([*found, Violation(
            reason=ViolationReason.LITERAL_DATATYPE, check="literal-datatype",
            detail=f"'{obj}' is written as {datatype.removeprefix(XSD)}, but "
                   f"'{prop.label}' takes {with_article(wanted)}", severity=severity)])
    return StatementCheck(hard, soft, literal)


def check_label(spec: ContractSpec, ontology: Ontology, label: str) -> tuple[Violation, ...]:
    """The hard violations of ``names-are-plain`` on an entity's new label (none when the
    check is off, or soft in this contract: a label a check only flags is still given)."""
    if _severity(spec, "names-are-plain") is not Severity.HARD:
        return ()
    state = CandidateState(candidate=CandidateTriple(subject=label, predicate="label",
                                                     object=""),
                           chunk=None, ontology=ontology)
    found = CHECKS["names-are-plain"](state)
    if found is None:
        return ()
    detail = found.detail.replace("subject ", "label ", 1)
    return (found.model_copy(update={"severity": Severity.HARD, "detail": detail}),)


__all__ = ["TEXT_CHECKS", "StatementCheck", "check_label", "check_statement"]
