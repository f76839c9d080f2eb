"""The graph section of a contract: the checks on the assembled graph of a build, in order.

1. **resolve-entities** — mentions of one entity merge (normalised form, aliases, and label
   embeddings above a threshold when an embedder is given); every merge is returned as a
   ``MergeRecord`` and can be undone (``pipeline.resolve.undo_merge``).
2. **types-fit-domain-range** — an assertion whose subject or object class does not fall under
   the property's domain or range (subclass reasoning) is quarantined.
3. **functional-conflict** — two values of a functional property for one subject: the more
   confident (then the more recent) wins, the others are kept as ``contested``.
4. **shacl** — the batch against SHACL shapes generated from the ontology (pyshacl); what
   violates them is quarantined.
5. **isolated-islands** — parts of the graph no statement connects to the rest: reported as
   warnings, nothing is quarantined.

Each step runs only when the contract enables it; what each one failed is counted per check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pipeline.confidence.base import ScoredGraph
from pipeline.contracts.graph_checks import (
    Conflict,
    Island,
    check_types,
    find_islands,
    quarantine_records,
    resolve_functional_conflicts,
)
from pipeline.contracts.shacl import validate_batch
from pipeline.contracts.spec import ContractSpec
from pipeline.index.base import Embedder
from pipeline.models import AssertionStatus, EntityRef, Frozen, Ontology, QuarantinedCandidate
from pipeline.resolve import EntityResolver, MergeRecord, apply_merges, mention_counts


class GraphCheckResult(Frozen):
    graph: ScoredGraph
    merges: tuple[MergeRecord, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    islands: tuple[Island, ...] = ()
    #: how many assertions (or merges, conflicts, islands) each graph check flagged
    failures: dict[str, int] = {}


def run_graph_contract(scored: ScoredGraph, ontology: Ontology, spec: ContractSpec, *,
                       texts: Sequence[str] = (), embedder: Embedder | None = None,
                       undone: frozenset[str] = frozenset()) -> GraphCheckResult:
    """Run the graph section of ``spec``. ``undone`` holds ids of merges a curator undid:
    they are not made again."""
    enabled = {c.check for c in spec.enabled("graph")}
    assertions = list(scored.assertions)
    quarantined: dict[str, QuarantinedCandidate] = {q.id: q for q in scored.quarantined}
    failures: Counter[str] = Counter()
    merges: list[MergeRecord] = []
    if "resolve-entities" in enabled:
        policy = spec.entity_resolution
        entities: dict[str, EntityRef] = {}
        for a in assertions:
            for e in (a.triple.subject, a.triple.object):
                if isinstance(e, EntityRef):
                    entities.setdefault(e.id, e)
        resolver = EntityResolver(embedder if policy.use_embeddings else None,
                                  threshold=policy.embedding_threshold,
                                  aliases=dict(policy.aliases))
        merges = [m for m in resolver.plan(sorted(entities.values(), key=lambda e: e.id),
                                           ontology, texts, mentions=mention_counts(assertions))
                  if m.id not in undone]
        if merges:
            assertions = apply_merges(assertions, merges)
        failures["resolve-entities"] = len(merges)
    if "types-fit-domain-range" in enabled:
        assertions, refused = check_types(assertions, ontology)
        quarantined.update((q.id, q) for q in refused)
        failures["types-fit-domain-range"] = len({q.chunk_id + str(q.candidate)
                                                  for q in refused})
    conflicts: list[Conflict] = []
    if "functional-conflict" in enabled:
        assertions, conflicts = resolve_functional_conflicts(assertions, ontology)
        failures["functional-conflict"] = sum(len(c.losers) for c in conflicts)
    if "shacl" in enabled and assertions:
        live = [a for a in assertions if a.status is not AssertionStatus.CONTESTED]
        violations = validate_batch(live, ontology)
        failures["shacl"] = len(violations)
        kept = []
        for a in assertions:
            found = violations.get(a.id)
            if found:
                quarantined.update((q.id, q) for q in quarantine_records(a, found, ontology))
            else:
                kept.append(a)
        assertions = kept
    islands: list[Island] = []
    if "isolated-islands" in enabled:
        islands = find_islands(assertions)
        failures["isolated-islands"] = len(islands)
    graph = ScoredGraph(assertions=tuple(sorted(assertions, key=lambda a: a.id)),
                        quarantined=tuple(sorted(quarantined.values(), key=lambda q: q.id)))
    return GraphCheckResult(graph=graph, merges=tuple(merges), conflicts=tuple(conflicts),
                            islands=tuple(islands), failures=dict(failures))


__all__ = ["GraphCheckResult", "run_graph_contract"]
