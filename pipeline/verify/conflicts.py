"""Functional-property conflicts: a subject with several values on an ``owl:FunctionalProperty``.

``resolve_functional_conflicts``: a subject with two values for a functional property (two
founding years) keeps the more confident, then the more recent; the others come back
``contested``, not deleted, and the conflict is reported as ``functional-conflict``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC

from pipeline.models import (
    IRI,
    Assertion,
    AssertionId,
    AssertionStatus,
    Conflict,
    EntityId,
    EntityRef,
    LiteralValue,
    Ontology,
    Violation,
    ViolationReason,
    local_name,
)


def _object_key(obj: EntityRef | LiteralValue) -> tuple[str, ...]:
    if isinstance(obj, EntityRef):
        return ("entity", obj.id)
    return ("literal", obj.value, obj.datatype)


def _recency(a: Assertion) -> float:
    seen = a.last_seen
    if seen is None:
        return float("-inf")
    # a naive time is read as UTC, so naive and aware times can be ordered together
    return (seen if seen.tzinfo else seen.replace(tzinfo=UTC)).timestamp()


def _ranked(candidates: list[Assertion]) -> list[Assertion]:
    """Best first: highest confidence, then most recently seen, then smallest id."""
    by_id = sorted(candidates, key=lambda a: a.id)
    return sorted(by_id, key=lambda a: (a.confidence, _recency(a)), reverse=True)


def _conflict_detail(subject: str, prop: str, winner: Assertion, losers: list[Assertion],
                     kept: set[AssertionId]) -> str:
    def show(a: Assertion) -> str:
        seen = a.last_seen
        when = f", last seen {seen.isoformat()}" if seen else ""
        cert = ", certified so left certified" if a.id in kept else ""
        return f"'{a.triple.object_label}' (confidence {a.confidence:.2f}{when}{cert})"

    return (f"'{subject}' has {1 + len({_object_key(a.triple.object) for a in losers})} values "
            f"for '{prop}', which takes one: kept {show(winner)}; contested "
            + ", ".join(show(a) for a in losers))


def resolve_functional_conflicts(assertions: Sequence[Assertion], ontology: Ontology
                                 ) -> tuple[list[Assertion], list[Conflict]]:
    """Settle subjects with more than one value on a functional property.

    The winner is the most confident assertion, then the most recently seen (``last_seen``;
    never seen counts as oldest), then the smallest id. Every assertion with another value
    loses and comes back ``contested``: kept and reviewable, never dropped. A certified loser
    stays certified (the conflict is still reported), and a winner that an earlier run had
    contested is reinstated as a draft. Quarantined assertions are not facts and take no
    part. Values compare by value and datatype (literals) or by entity id.

    Returns every input assertion, in input order, with statuses updated, and the conflicts
    ordered by subject and property."""
    groups: dict[tuple[EntityId, str], list[Assertion]] = defaultdict(list)
    for a in assertions:
        prop = ontology.get_property(a.triple.predicate)
        if prop is not None and prop.functional and a.status is not AssertionStatus.QUARANTINED:
            groups[(a.triple.subject.id, a.triple.predicate)].append(a)
    updated: dict[AssertionId, Assertion] = {}
    conflicts: list[Conflict] = []
    for (subject_id, predicate), members in sorted(groups.items()):
        if len({_object_key(a.triple.object) for a in members}) < 2:
            continue
        winner = _ranked(members)[0]
        won = _object_key(winner.triple.object)
        losers = sorted({a.id: a for a in members
                         if _object_key(a.triple.object) != won}.values(), key=lambda a: a.id)
        kept = {a.id for a in losers if a.status is AssertionStatus.CERTIFIED}
        for a in members:
            if _object_key(a.triple.object) == won:
                if a.status is AssertionStatus.CONTESTED:
                    updated[a.id] = a.model_copy(update={"status": AssertionStatus.DRAFT})
            elif a.id not in kept:
                updated[a.id] = a.model_copy(update={"status": AssertionStatus.CONTESTED})
        prop = ontology.get_property(predicate)
        label = prop.label if prop else local_name(predicate)
        conflicts.append(Conflict(
            subject=subject_id, property=IRI(predicate), winner=winner.id,
            losers=tuple(a.id for a in losers), kept_certified=tuple(sorted(kept)),
            violation=Violation(
                reason=ViolationReason.FUNCTIONAL_CONFLICT, check="functional-conflict",
                detail=_conflict_detail(winner.triple.subject.label, label, winner, losers,
                                        kept))))
    return [updated.get(a.id, a) for a in assertions], conflicts


