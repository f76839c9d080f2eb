"""Isolated islands: parts of the graph no statement connects to the rest.

``find_islands``: groups of entities not linked to the main graph are reported as
``isolated-island`` findings (severity info); nothing is quarantined or flagged for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from pipeline.models import (
    Assertion,
    AssertionId,
    AssertionStatus,
    EntityId,
    EntityRef,
    Island,
    Violation,
    ViolationReason,
)


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
