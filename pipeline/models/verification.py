"""The graph-level stages' results: scored graph, merges, conflicts, islands, declarations."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from pipeline.models.base import IRI, AssertionId, EntityId, Frozen, stable_hash
from pipeline.models.extraction import ExtractionScope, QuarantinedCandidate
from pipeline.models.graph import Assertion, EntityRef
from pipeline.models.violations import Violation


class ScoredGraph(Frozen):
    assertions: tuple[Assertion, ...]
    quarantined: tuple[QuarantinedCandidate, ...]
    #: the extractions these came from (chunk, model, prompt version, samples): a stored
    #: refusal they cover and do not refuse again is resolved when the run is stored
    covered: tuple[ExtractionScope, ...] = ()


MergeReason = Literal["normalised-form", "alias", "embedding"]


class MergeRecord(Frozen):
    """One merge: ``merged`` becomes ``canonical``, and why.

    ``score`` is 1.0 for the normalised-form and alias rules and the cosine similarity for the
    embedding rule. They are those of the strongest direct link between the two entities, or,
    when ``merged`` joined the group only through other members, of the weakest link on that
    chain. ``id`` hashes the (canonical, merged) pair."""

    id: str
    canonical: EntityRef
    merged: EntityRef
    reason: MergeReason
    score: Annotated[float, Field(ge=-1.0, le=1.0)]

    @model_validator(mode="after")
    def _distinct(self) -> MergeRecord:
        if self.canonical.id == self.merged.id:
            raise ValueError(f"an entity cannot be merged into itself ({self.merged.id})")
        return self

    @classmethod
    def make(cls, canonical: EntityRef, merged: EntityRef, reason: MergeReason,
             score: float) -> MergeRecord:
        return cls(id=f"merge:{stable_hash(canonical.id, merged.id)}", canonical=canonical,
                   merged=merged, reason=reason, score=min(max(float(score), -1.0), 1.0))


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


class Island(Frozen):
    """A group of entities linked among themselves but not to the main graph."""

    entities: tuple[EntityId, ...]
    labels: tuple[str, ...]
    #: the assertions whose subject is in the island (literal facts included)
    assertions: tuple[AssertionId, ...]
    violation: Violation


class DeclarationFinding(Frozen):
    """A property whose statements, by a majority, contradict its declaration."""

    predicate: IRI
    label: str
    check: str
    failed: int
    statements: int

    @property
    def detail(self) -> str:
        return (f"{self.failed} of {self.statements} statements of '{self.label}' fail "
                f"{self.check}: read as the ontology's declaration, not the statements' fault "
                "(their violations are kept as info, without penalty)")


class GraphCheckResult(Frozen):
    graph: ScoredGraph
    merges: tuple[MergeRecord, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    islands: tuple[Island, ...] = ()
    #: how many assertions (or merges, conflicts, islands) each graph check flagged or refused
    failures: dict[str, int] = {}
    #: of those, the soft violations recorded on assertions, by check
    flagged: dict[str, int] = {}
    #: properties whose statements, by a majority, contradict their declaration
    declarations: tuple[DeclarationFinding, ...] = ()
