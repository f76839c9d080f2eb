"""Graph-level contract checks: run on the assembled graph, before anything is stored.

``check_types``: every entity has one class (the most specific its statements agree on, see
``pipeline.confidence.most_specific``); an assertion whose subject's class does not fall under
the property's domain, or whose object's class does not fall under its range (subclass
reasoning), is quarantined with ``domain-mismatch`` / ``range-mismatch`` — kept and reviewable,
not stored as a fact. Example: "Guiana Space Centre" is a launch site in most statements, so
"Rosetta — launched on — Guiana Space Centre" (range: launch vehicle) is quarantined.

``resolve_functional_conflicts``: a subject with two values for an ``owl:FunctionalProperty``
(two founding years) keeps the more confident, then the more recent; the other comes back
``contested``, not deleted, and the conflict is reported as ``functional-conflict``.

``find_islands``: groups of entities not linked to the main graph are reported as
``isolated-island`` warnings; nothing is quarantined for it.

The SHACL form of the schema checks is in ``pipeline.contracts.shacl``.
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
    CandidateTriple,
    Chunk,
    EntityId,
    EntityRef,
    Frozen,
    LiteralValue,
    Ontology,
    QuarantinedCandidate,
    RunId,
    Span,
    Violation,
    ViolationReason,
    local_name,
)

OWL_THING = "http://www.w3.org/2002/07/owl#Thing"


def _fits(ontology: Ontology, cls: str, allowed: tuple[str, ...]) -> bool:
    return not allowed or cls == OWL_THING or any(ontology.is_subclass(cls, a) for a in allowed)


def type_violations(assertion: Assertion, ontology: Ontology) -> list[Violation]:
    prop = ontology.get_property(assertion.triple.predicate)
    if prop is None:
        return []
    t = assertion.triple
    out = []
    if not _fits(ontology, t.subject.type_iri, prop.domain):
        out.append(Violation(
            reason=ViolationReason.DOMAIN_MISMATCH, check="types-fit-domain-range",
            detail=f"'{t.subject.label}' is a {ontology.class_label(t.subject.type_iri)} in "
                   f"the graph, but '{prop.label}' needs a "
                   f"{' or '.join(ontology.class_label(d) for d in prop.domain)}"))
    if isinstance(t.object, EntityRef) and not _fits(ontology, t.object.type_iri, prop.range):
        out.append(Violation(
            reason=ViolationReason.RANGE_MISMATCH, check="types-fit-domain-range",
            detail=f"'{t.object.label}' is a {ontology.class_label(t.object.type_iri)} in "
                   f"the graph, but '{prop.label}' needs a "
                   f"{' or '.join(ontology.class_label(r) for r in prop.range)}"))
    return out


def quarantine_records(assertion: Assertion, violations: list[Violation],
                ontology: Ontology) -> list[QuarantinedCandidate]:
    t = assertion.triple
    prop = ontology.get_property(t.predicate)
    cand = CandidateTriple(subject=t.subject.label,
                           predicate=prop.label if prop else local_name(t.predicate),
                           object=t.object_label)
    out = []
    for p in assertion.provenance:
        # a stand-in chunk carrying the ids the record needs; the stored chunk is the real one
        chunk = Chunk(id=p.chunk_id, document_id=p.document_id, index=0, text=p.quote,
                      span=Span(start=p.span.start, end=p.span.end))
        out.append(QuarantinedCandidate.make(
            chunk=chunk, raw=p.quote, candidate=cand, violations=tuple(violations),
            model=p.model, prompt_version=p.prompt_version, run_id=RunId(p.run_id),
            attempts=p.attempts, sample_index=0))
    return out


def check_types(assertions: Sequence[Assertion], ontology: Ontology
                ) -> tuple[list[Assertion], list[QuarantinedCandidate]]:
    """Split ``assertions`` into those whose entity classes fit domain and range, and
    quarantine records for the rest (one per provenance, with the violations)."""
    kept: list[Assertion] = []
    quarantined: dict[str, QuarantinedCandidate] = {}
    for a in assertions:
        violations = type_violations(a, ontology)
        if violations:
            quarantined.update((q.id, q) for q in quarantine_records(a, violations, ontology))
        else:
            kept.append(a)
    return kept, sorted(quarantined.values(), key=lambda q: q.id)


# --------------------------------------------------------------------------- functional conflicts


class Conflict(Frozen):
    """Several values for one subject on a functional property, and how it was settled."""

    subject: EntityId
    property: IRI
    winner: AssertionId
    #: every assertion whose value differs from the winner's (each now contested, unless
    #: certified: see ``kept_certified``)
    losers: tuple[AssertionId, ...]
    #: losers left certified: a certified fact is never demoted, the conflict only reported
    kept_certified: tuple[AssertionId, ...] = ()
    violation: Violation


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


# --------------------------------------------------------------------------- islands


class Island(Frozen):
    """A group of entities linked among themselves but not to the main graph."""

    entities: tuple[EntityId, ...]
    labels: tuple[str, ...]
    #: the assertions whose subject is in the island (literal facts included)
    assertions: tuple[AssertionId, ...]
    violation: Violation


def find_islands(assertions: Sequence[Assertion]) -> list[Island]:
    """The connected components of the entity graph other than the largest, as warnings.

    Entities are linked by object-property assertions (either direction); a literal value
    links nothing, so an entity known only by its literal facts is an island of its own.
    Quarantined assertions are not part of the graph. The largest component is the one with
    most entities (ties: the one holding the smallest entity id); islands come largest first,
    then by smallest entity id. Nothing is quarantined: an island is often a true but
    unconnected fact, and a hint that an entity merge or a relation was missed."""
    parent: dict[EntityId, EntityId] = {}
    labels: dict[EntityId, str] = {}

    def find(x: EntityId) -> EntityId:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def add(ent: EntityRef) -> None:
        if ent.id not in parent:
            parent[ent.id] = ent.id
            labels[ent.id] = ent.label

    live = [a for a in assertions if a.status is not AssertionStatus.QUARANTINED]
    for a in live:
        add(a.triple.subject)
        if isinstance(a.triple.object, EntityRef):
            add(a.triple.object)
            ra, rb = find(a.triple.subject.id), find(a.triple.object.id)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    components: dict[EntityId, list[EntityId]] = defaultdict(list)
    for ent in sorted(parent):
        components[find(ent)].append(ent)
    ranked = sorted(components.values(), key=lambda c: (-len(c), c[0]))
    if len(ranked) < 2:
        return []
    main = len(ranked[0])
    facts: dict[EntityId, list[AssertionId]] = defaultdict(list)
    for a in live:
        facts[find(a.triple.subject.id)].append(a.id)
    islands = []
    for members in ranked[1:]:
        names = tuple(labels[e] for e in members)
        shown = ", ".join(f"'{n}'" for n in names[:5]) + (", ..." if len(names) > 5 else "")
        count = f"{len(members)} entities" if len(members) > 1 else "1 entity"
        islands.append(Island(
            entities=tuple(members), labels=names,
            assertions=tuple(sorted(set(facts[find(members[0])]))),
            violation=Violation(
                reason=ViolationReason.ISOLATED_ISLAND, check="isolated-islands",
                detail=f"{count} ({shown}) not connected to the main graph "
                       f"({main} entities)")))
    return islands
