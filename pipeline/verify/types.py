"""Types from evidence: which classes an entity's statements give it, and whether a statement
fits them.

An entity's class is never voted on. Every statement about it is evidence: ``X country Y``
types X as the domain of ``country`` and Y as its range. ``type_evidence`` keeps, per entity,
every candidate class with the statements that support it (``ClassSupport``). A statement fits
(``type_violations``) when the evidence *from the entity's other statements* holds at least one
class compatible with what the property needs — the same class, a subclass or a superclass of
it (with the ontology's hierarchy; a Place may be a City) — or when no other statement types
the entity at all. Its own typing is not evidence for itself. So a name typed as a city in one
statement and needed as a country in another breaks nothing unless *every* other statement
says it is something unrelated; then the statement is flagged (``domain-mismatch`` /
``range-mismatch``) with the evidence in the detail. Several declared domains (ranges) read as
alternatives ("any of these"), as the extraction prompt and the SHACL shapes read them.

``entity_classes`` gives each entity's candidates, best supported first: the SHACL data graph
types an entity with all of them, so its class constraints agree with this check.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from pipeline.models import (
    IRI,
    Assertion,
    AssertionId,
    AssertionStatus,
    EntityId,
    EntityRef,
    Frozen,
    Ontology,
    Violation,
    ViolationReason,
)

OWL_THING = "http://www.w3.org/2002/07/owl#Thing"
CHECK = "types-fit-domain-range"


class ClassSupport(Frozen):
    """One candidate class of an entity and the statements that type it so."""

    cls: IRI
    statements: tuple[AssertionId, ...]

    @property
    def support(self) -> int:
        return len(self.statements)


class TypeEvidence(Frozen):
    """Every candidate class of one entity, best supported first."""

    entity: EntityId
    label: str
    #: per statement, the classes it allows for this entity (its property's domain or range)
    by_statement: dict[AssertionId, tuple[IRI, ...]]

    @property
    def candidates(self) -> tuple[ClassSupport, ...]:
        found: dict[IRI, list[AssertionId]] = defaultdict(list)
        for stmt, classes in self.by_statement.items():
            for c in classes:
                found[c].append(stmt)
        ranked = sorted(found.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        return tuple(ClassSupport(cls=c, statements=tuple(sorted(s))) for c, s in ranked)

    def others(self, statement: AssertionId) -> list[tuple[AssertionId, tuple[IRI, ...]]]:
        return [(s, cs) for s, cs in sorted(self.by_statement.items()) if s != statement]


def _declared(classes: tuple[IRI, ...]) -> tuple[IRI, ...]:
    return tuple(c for c in classes if c != OWL_THING)


def _live(assertions: Sequence[Assertion]) -> list[Assertion]:
    return [a for a in assertions
            if a.status not in (AssertionStatus.QUARANTINED, AssertionStatus.CONTESTED)]


def type_evidence(assertions: Sequence[Assertion], ontology: Ontology
                  ) -> dict[EntityId, TypeEvidence]:
    """The candidate classes of every entity the (live) statements mention."""
    by_entity: dict[EntityId, dict[AssertionId, tuple[IRI, ...]]] = defaultdict(dict)
    labels: dict[EntityId, str] = {}
    for a in _live(assertions):
        prop = ontology.get_property(a.triple.predicate)
        if prop is None:
            continue
        t = a.triple
        labels.setdefault(t.subject.id, t.subject.label)
        domain = _declared(prop.domain)
        if domain:
            by_entity[t.subject.id][a.id] = domain
        if isinstance(t.object, EntityRef):
            labels.setdefault(t.object.id, t.object.label)
            rng = _declared(prop.range)
            if rng:
                by_entity[t.object.id][a.id] = rng
    return {e: TypeEvidence(entity=e, label=labels[e], by_statement=dict(s))
            for e, s in sorted(by_entity.items())}


def entity_classes(evidence: dict[EntityId, TypeEvidence]) -> dict[EntityId, tuple[IRI, ...]]:
    return {e: tuple(c.cls for c in ev.candidates) for e, ev in evidence.items()}


def _compatible(ontology: Ontology, have: IRI, need: IRI) -> bool:
    return ontology.is_subclass(have, need) or ontology.is_subclass(need, have)


def _role_fits(ontology: Ontology, ev: TypeEvidence | None, statement: AssertionId,
               need: tuple[IRI, ...]) -> tuple[bool, list[tuple[AssertionId, tuple[IRI, ...]]]]:
    if not need or ev is None:
        return True, []
    others = ev.others(statement)
    if not others:
        return True, []
    fits = any(_compatible(ontology, c, n) for _, cs in others for c in cs for n in need)
    return fits, others


def _describe(ontology: Ontology, label: str, prop_label: str, role: str,
              need: tuple[IRI, ...], others: list[tuple[AssertionId, tuple[IRI, ...]]]) -> str:
    counts: dict[IRI, int] = defaultdict(int)
    for _, cs in others:
        for c in cs:
            counts[c] += 1
    seen = ", ".join(f"{ontology.class_label(c)} ({n} statement{'s' if n > 1 else ''})"
                     for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    wanted = " or ".join(ontology.class_label(n) for n in need)
    return (f"'{label}', the {role} of '{prop_label}', must be a {wanted}; its other statements "
            f"type it as {seen}, none of them a {wanted} or a sub- or superclass of one")


def type_violations(assertion: Assertion, evidence: dict[EntityId, TypeEvidence],
                    ontology: Ontology) -> list[Violation]:
    """Why the statement does not fit what the entity's other statements say it is."""
    prop = ontology.get_property(assertion.triple.predicate)
    if prop is None:
        return []
    t = assertion.triple
    out = []
    need = _declared(prop.domain)
    fits, others = _role_fits(ontology, evidence.get(t.subject.id), assertion.id, need)
    if not fits:
        out.append(Violation(reason=ViolationReason.DOMAIN_MISMATCH, check=CHECK,
                             detail=_describe(ontology, t.subject.label, prop.label, "subject",
                                              need, others)))
    if isinstance(t.object, EntityRef):
        need = _declared(prop.range)
        fits, others = _role_fits(ontology, evidence.get(t.object.id), assertion.id, need)
        if not fits:
            out.append(Violation(reason=ViolationReason.RANGE_MISMATCH, check=CHECK,
                                 detail=_describe(ontology, t.object.label, prop.label,
                                                  "object", need, others)))
    return out


def check_types(assertions: Sequence[Assertion], ontology: Ontology
                ) -> dict[AssertionId, list[Violation]]:
    """The type-fit violations of every live statement that has any (soft by default: the
    caller decides whether they flag or refuse)."""
    evidence = type_evidence(assertions, ontology)
    out: dict[AssertionId, list[Violation]] = {}
    for a in _live(assertions):
        found = type_violations(a, evidence, ontology)
        if found:
            out[a.id] = found
    return out


__all__ = ["CHECK", "ClassSupport", "TypeEvidence", "check_types", "entity_classes",
           "type_evidence", "type_violations"]
