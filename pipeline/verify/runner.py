"""The graph section of a contract: the checks on the assembled graph of a build, in order.

1. **resolve-entities** — mentions of one entity merge (normalised form, aliases, and label
   embeddings above a threshold when an embedder is given); every merge is returned as a
   ``MergeRecord`` and can be undone (``pipeline.resolve.undo_merge``).
2. **types-fit-domain-range** — a statement whose entity's *other* statements give it no class
   compatible with the property's domain or range (``pipeline.verify.types``).
3. **functional-conflict** — two values of a functional property for one subject: the more
   confident (then the more recent) wins, the others are kept as ``contested``.
4. **shacl** — the batch against SHACL shapes generated from the ontology (pyshacl), each
   entity typed with its candidate classes.
5. **declarations-outvoted** — a soft check that fails on most statements of one property
   speaks about the property's declaration: those violations become ``info`` (no penalty) and
   the property is reported (``pipeline.verify.declarations``).
6. **isolated-islands** — parts of the graph no statement connects to the rest: reported only.

Each check runs only when the contract enables it, with the contract's severity: a *soft*
check (the default for 2–4) records its violation on the assertion, which stays in the graph;
a *hard* one quarantines the statement (one record per source), or, for a functional conflict,
the losing values. At the end every assertion is scored again by the build's
``ConfidenceModel``: agreement and sources, times the penalty of each soft check it failed,
calibrated. What each check found is counted per check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pipeline.confidence import AGREEMENT_ONLY, ConfidenceModel
from pipeline.contracts.spec import ContractSpec
from pipeline.embeddings.base import Embedder
from pipeline.models import (
    Assertion,
    AssertionId,
    AssertionStatus,
    Conflict,
    DeclarationFinding,
    EntityRef,
    GraphCheckResult,
    Island,
    MergeRecord,
    Ontology,
    QuarantinedCandidate,
    ScoredGraph,
    Severity,
    Violation,
)
from pipeline.resolve import EntityResolver, apply_merges, mention_counts
from pipeline.verify.conflicts import resolve_functional_conflicts
from pipeline.verify.declarations import waive_declaration_conflicts
from pipeline.verify.islands import find_islands
from pipeline.verify.records import add_refusal, quarantine_records
from pipeline.verify.shacl import validate_batch
from pipeline.verify.types import check_types, entity_classes, type_evidence


def _flag(assertion: Assertion, found: Sequence[Violation]) -> Assertion:
    kept = list(assertion.violations)
    for v in found:
        if v not in kept:
            kept.append(v)
    return assertion.model_copy(update={"violations": tuple(kept)})


class _Outcome:
    """Applies one check's findings with its severity: flag (soft) or quarantine (hard)."""

    def __init__(self, ontology: Ontology, quarantined: dict[str, QuarantinedCandidate],
                 failures: Counter[str]) -> None:
        self.ontology = ontology
        self.quarantined = quarantined
        self.failures = failures

    def apply(self, check: str, severity: Severity, assertions: list[Assertion],
              found: dict[AssertionId, list[Violation]]) -> list[Assertion]:
        self.failures[check] += len(found)
        kept = []
        for a in assertions:
            vs = [v.model_copy(update={"severity": severity}) for v in found.get(a.id, [])]
            if not vs:
                kept.append(a)
            elif severity is Severity.HARD:
                for q in quarantine_records(a, vs, self.ontology):
                    add_refusal(self.quarantined, q)
            else:
                kept.append(_flag(a, vs))
        return kept


def run_graph_checks(scored: ScoredGraph, ontology: Ontology, spec: ContractSpec, *,
                     texts: Sequence[str] = (), embedder: Embedder | None = None,
                     undone: frozenset[str] = frozenset(),
                     confidence: ConfidenceModel | None = None) -> GraphCheckResult:
    """Run the graph section of ``spec``. ``undone`` holds ids of merges a curator undid:
    they are not made again. ``confidence`` scores the result (default: the contract's own
    penalties and calibration)."""
    model = confidence or ConfidenceModel.from_spec(spec)
    enabled = {c.check: c.effective_severity for c in spec.enabled("graph")}
    assertions = list(scored.assertions)
    quarantined: dict[str, QuarantinedCandidate] = {q.id: q for q in scored.quarantined}
    failures: Counter[str] = Counter()
    outcome = _Outcome(ontology, quarantined, failures)
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
            assertions = apply_merges(assertions, merges, confidence=AGREEMENT_ONLY)
        failures["resolve-entities"] = len(merges)
    if "types-fit-domain-range" in enabled:
        assertions = outcome.apply("types-fit-domain-range", enabled["types-fit-domain-range"],
                                   assertions, check_types(assertions, ontology))
    # conflicts are settled on the confidence the statements have so far (flags included)
    assertions = [a.model_copy(update={"confidence": model.score(a.provenance, a.violations)})
                  if a.provenance else a for a in assertions]
    conflicts: list[Conflict] = []
    if "functional-conflict" in enabled:
        assertions, conflicts = resolve_functional_conflicts(assertions, ontology)
        losers = {loser: c.violation for c in conflicts for loser in c.losers}
        assertions = outcome.apply("functional-conflict", enabled["functional-conflict"],
                                   assertions, {k: [v] for k, v in losers.items()})
    if "shacl" in enabled and assertions:
        live = [a for a in assertions if a.status is not AssertionStatus.CONTESTED]
        classes = entity_classes(type_evidence(live, ontology))
        assertions = outcome.apply("shacl", enabled["shacl"], assertions,
                                   validate_batch(live, ontology, classes=classes))
    findings: list[DeclarationFinding] = []
    if "declarations-outvoted" in enabled:
        policy_d = spec.declarations
        assertions, findings = waive_declaration_conflicts(
            assertions, ontology, min_statements=policy_d.min_statements, share=policy_d.share)
        failures["declarations-outvoted"] = len(findings)
    islands: list[Island] = []
    if "isolated-islands" in enabled:
        islands = find_islands(assertions)
        failures["isolated-islands"] = len(islands)
    rescored = [a.model_copy(update={"confidence": model.score(a.provenance, a.violations)})
                if a.provenance else a for a in assertions]
    graph = ScoredGraph(assertions=tuple(sorted(rescored, key=lambda a: a.id)),
                        quarantined=tuple(sorted(quarantined.values(), key=lambda q: q.id)),
                        covered=scored.covered)
    counts: Counter[str] = Counter(c for a in rescored for c in a.violation_checks)
    return GraphCheckResult(graph=graph, merges=tuple(merges), conflicts=tuple(conflicts),
                            islands=tuple(islands), failures=dict(failures),
                            flagged=dict(sorted(counts.items())),
                            declarations=tuple(findings))


__all__ = [
    "run_graph_checks",
]
