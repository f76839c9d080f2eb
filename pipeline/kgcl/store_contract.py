"""The contracts on a change request: every statement a KGCL command adds to the graph passes
the same checks as an extracted triple, with the same severities (``contracts/*.yaml``).

- The post-conditions (``pipeline.contracts.statement``): a predicate the ontology has, names
  that read as names (``names-are-plain``), no class used as a thing, no self-loop, a value
  where the range wants a number or a date (``literal-is-a-value``), a literal typed by the
  range (``literal-datatype``: "1012" for an integer property is stored as an integer), a
  thing where the property links things (``object-is-individual``). The text checks do not
  apply: a curator's statement has no text, the curator is its evidence.
- The graph's type fit (``types-fit-domain-range``, ``pipeline.verify.types``): the subject
  and object fit the property's domain and range by what the graph says of them — their
  other statements, as the request leaves them, and the class each entity has.
- A new label (``create node``, ``rename``) passes ``names-are-plain`` too.

A hard failure refuses the command, and with it the whole request: ``ContractRefusalError``
names the line, the command and every reason code. A soft failure keeps the statement,
flagged: the assertion carries the violations (``GraphStore.flagged``, ``verikg quarantine
--soft``) and its confidence is 1 times the contract's penalty of each soft check failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.contracts.spec import ContractSpec
from pipeline.contracts.statement import StatementCheck, check_label, check_statement
from pipeline.errors import ContractRefusalError
from pipeline.kgcl.parser import ParsedChange
from pipeline.kgcl.store_workspace import OWL_THING, Workspace, entity_ids
from pipeline.models import (
    Assertion,
    AssertionId,
    AssertionStatus,
    EntityId,
    EntityRef,
    LiteralValue,
    OntologyProperty,
    Severity,
    Triple,
    Violation,
)

if TYPE_CHECKING:
    from pipeline.verify.types import TypeEvidence

#: the graph check a statement's type fit is (``pipeline.verify.types.CHECK``)
TYPE_CHECK = "types-fit-domain-range"


def refusal(pc: ParsedChange, violations: tuple[Violation, ...]) -> ContractRefusalError:
    """The error refusing command ``pc``: one line with its reason codes and why."""
    codes = tuple(dict.fromkeys(v.reason.value for v in violations))
    why = "; ".join(f"[{v.reason.value}] {v.detail}" for v in violations)
    return ContractRefusalError(
        f"line {pc.line}: {pc.text!r} is refused by the contract ({', '.join(codes)}): "
        f"{' '.join(why.split())}; nothing was changed", codes)


class StatementGuard:
    """Checks what the commands of one request add, against the workspace they compile in."""

    def __init__(self, ws: Workspace, spec: ContractSpec) -> None:
        self.ws = ws
        self.spec = spec
        self.onto = ws.ontology

    def label(self, pc: ParsedChange, label: str) -> None:
        """Refuse a label that reads as code or an instruction."""
        hard = check_label(self.spec, self.onto, label)
        if hard:
            raise refusal(pc, hard)

    def assertion(self, pc: ParsedChange, subject: EntityRef, prop: OntologyProperty,
                  obj: EntityRef | str, datatype: str | None = None) -> Assertion:
        """The curated assertion ``subject prop obj`` (``obj``: an entity, or a literal's
        text with the datatype the command writes, if any), checked: refused, or kept with
        its soft violations. Curated means confidence 1 (times the penalties), draft
        (certification is its own recorded step), no provenance (no document stated it)."""
        skip = frozenset({"not-self-loop"}) if (
            isinstance(obj, EntityRef) and obj.id != subject.id) else frozenset()
        verdict: StatementCheck = check_statement(
            self.spec, self.onto, subject.label, prop,
            obj.label if isinstance(obj, EntityRef) else obj, datatype=datatype, skip=skip)
        target: EntityRef | LiteralValue
        if isinstance(obj, EntityRef):
            target = obj
        else:
            assert verdict.literal is not None  # a datatype property's value comes back typed
            target = verdict.literal
        triple = Triple(subject=subject, predicate=prop.iri, object=target)
        draft = Assertion.of(triple, confidence=1.0, provenance=(),
                             status=AssertionStatus.DRAFT)
        # imported here, not with the module: the verify and confidence packages load SHACL
        # and scoring machinery that a request adding no statement never needs
        from pipeline.confidence import ConfidenceModel
        from pipeline.verify.types import type_violations

        hard, soft = list(verdict.hard), list(verdict.soft)
        severity = self.spec.severity(TYPE_CHECK)
        if severity in (Severity.HARD, Severity.SOFT):
            found = type_violations(draft, self._evidence(draft), self.onto)
            typed = [v.model_copy(update={"severity": severity}) for v in found]
            (hard if severity is Severity.HARD else soft).extend(typed)
        if hard:
            raise refusal(pc, (*hard, *soft))
        penalty = ConfidenceModel.from_spec(self.spec).penalty(soft)
        return draft.model_copy(update={"violations": tuple(soft), "confidence": penalty})

    def _evidence(self, a: Assertion) -> dict[EntityId, TypeEvidence]:
        """What the graph says the entities of ``a`` are: their other statements as the
        request leaves them, and the class each entity has (unless ``owl:Thing``)."""
        from pipeline.verify.types import TypeEvidence, type_evidence

        others: dict[str, Assertion] = {}
        for eid in sorted(entity_ids(a)):
            for other in self.ws.neighbours(eid):
                if other.id != a.id:
                    others[other.id] = other
        evidence = dict(type_evidence([*others.values(), a], self.onto))
        named = [a.triple.subject] + ([a.triple.object] if isinstance(a.triple.object,
                                                                      EntityRef) else [])
        for entity in named:
            if entity.type_iri == OWL_THING:
                continue
            held = evidence.get(entity.id)
            statements = dict(held.by_statement) if held is not None else {}
            statements[AssertionId(f"the class of {entity.id}")] = (entity.type_iri,)
            evidence[entity.id] = TypeEvidence(entity=entity.id, label=entity.label,
                                               by_statement=statements)
        return evidence


__all__ = ["StatementGuard", "refusal"]
