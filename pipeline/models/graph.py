"""The knowledge graph: entities, values, triples, assertions and their provenance."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from pipeline.models.base import (
    IRI,
    AssertionId,
    ChunkId,
    DocumentId,
    EntityId,
    Frozen,
    RunId,
    normalize_label,
    stable_hash,
)
from pipeline.models.documents import Span
from pipeline.models.violations import Violation, flag_checks


class EntityRef(Frozen):
    """A node of the knowledge graph: a label and its ontology class.

    The id comes from the normalised label alone, so "NASA" met as the operator of one mission
    and the builder of another is one node; its class is resolved when the graph is assembled
    (the most specific class the ontology's domains and ranges give it)."""

    id: EntityId
    label: str
    type_iri: IRI

    @classmethod
    def make(cls, label: str, type_iri: str) -> EntityRef:
        eid = EntityId(f"ent:{stable_hash(normalize_label(label))}")
        return cls(id=eid, label=label.strip(), type_iri=IRI(type_iri))


class LiteralValue(Frozen):
    value: str
    datatype: IRI


class Triple(Frozen):
    """A checked triple: predicate is an ontology property, subject/object are typed."""

    subject: EntityRef
    predicate: IRI
    object: EntityRef | LiteralValue

    @property
    def key(self) -> AssertionId:
        obj = self.object.id if isinstance(self.object, EntityRef) else (
            f"lit:{self.object.datatype}:{self.object.value}")
        return AssertionId(f"asr:{stable_hash(self.subject.id, self.predicate, obj)}")

    @property
    def object_is_literal(self) -> bool:
        return isinstance(self.object, LiteralValue)

    @property
    def object_label(self) -> str:
        return self.object.value if isinstance(self.object, LiteralValue) else self.object.label


class AssertionStatus(StrEnum):
    DRAFT = "draft"
    CERTIFIED = "certified"
    QUARANTINED = "quarantined"
    #: lost a conflict on a functional property to a more confident or more recent value;
    #: kept and reviewable, not deleted
    CONTESTED = "contested"


class Provenance(Frozen):
    """One independent statement of a triple: where, by which model and prompt, in which run."""

    document_id: DocumentId
    chunk_id: ChunkId
    span: Span
    quote: str
    model: str
    prompt_version: str
    run_id: RunId
    attempts: Annotated[int, Field(ge=1)]
    #: of the samples drawn on this chunk by every model (``samples_total``), how many this
    #: model's agreed on the triple
    samples_agreeing: Annotated[int, Field(ge=0)] = 1
    samples_total: Annotated[int, Field(ge=1)] = 1
    #: the subject and object as this source wrote them (what an entity merge can undo)
    subject_mention: str = ""
    object_mention: str = ""
    #: when this source was extracted; an assertion's first/last seen are the min/max
    seen_at: datetime | None = None
    #: what the contract repaired in this source's statement (e.g. a predicate's surface form)
    repairs: tuple[str, ...] = ()
    #: the spans of this source's chunk that support the subject and the object, exactly as the
    #: document writes them ("August 16th, 1920" for a stored 1920-08-16), and how each was
    #: found there (exact, inflected, date, number, alias, acronym, demonym)
    subject_text: str = ""
    object_text: str = ""
    subject_grounding: str = ""
    object_grounding: str = ""
    #: how far the agreeing samples are corroborated: the mean, over them, of the share of each
    #: sample's accepted statements that another sample of the chunk also made (1 when no
    #: other sample was drawn). A sample the others never confirm is a weaker witness.
    corroboration: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0

    @property
    def support(self) -> float:
        """The share of the chunk's samples that this source contributed in agreement."""
        return self.samples_agreeing / self.samples_total


class Assertion(Frozen):
    """A triple in the graph with its confidence, lifecycle status and provenance."""

    id: AssertionId
    triple: Triple
    confidence: Annotated[float, Field(ge=0.0, le=1.0)]
    status: AssertionStatus = AssertionStatus.DRAFT
    provenance: tuple[Provenance, ...] = ()
    #: the soft checks this statement failed (type fit, SHACL, functional conflict, a value
    #: coerced to its datatype): kept as a fact, flagged and reviewable; the latest graph check
    #: decides them, as it decides the confidence
    violations: tuple[Violation, ...] = ()

    @classmethod
    def of(cls, triple: Triple, *, confidence: float, provenance: tuple[Provenance, ...],
           status: AssertionStatus = AssertionStatus.DRAFT,
           violations: tuple[Violation, ...] = ()) -> Assertion:
        return cls(id=triple.key, triple=triple, confidence=confidence, status=status,
                   provenance=provenance, violations=violations)

    @property
    def violation_checks(self) -> tuple[str, ...]:
        """The names of the checks this assertion failed and is flagged for (soft, not the
        ones kept as info only), sorted, each once."""
        return flag_checks(self.violations)

    @property
    def first_seen(self) -> datetime | None:
        seen = [p.seen_at for p in self.provenance if p.seen_at is not None]
        return min(seen) if seen else None

    @property
    def last_seen(self) -> datetime | None:
        seen = [p.seen_at for p in self.provenance if p.seen_at is not None]
        return max(seen) if seen else None


class CalibrationMap(Frozen):
    """A monotone map from raw confidence to the probability that a statement is right
    (isotonic regression on labelled statements, stored as its breakpoints), and what it was
    fitted on. Between breakpoints it interpolates linearly; outside them it clips."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    fitted_on: str = ""
    count: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _shape(self) -> CalibrationMap:
        if len(self.xs) != len(self.ys) or not self.xs:
            raise ValueError("a calibration map needs as many xs as ys, at least one")
        if any(b < a for a, b in zip(self.xs, self.xs[1:], strict=False)):
            raise ValueError("calibration xs must be ascending")
        if any(b < a for a, b in zip(self.ys, self.ys[1:], strict=False)):
            raise ValueError("calibration ys must be ascending (the map is monotone)")
        if any(not 0 <= v <= 1 for v in (*self.xs, *self.ys)):
            raise ValueError("calibration xs and ys lie in [0, 1]")
        return self

    def apply(self, raw: float) -> float:
        """The calibrated confidence of one raw confidence."""
        xs, ys = self.xs, self.ys
        if raw <= xs[0]:
            return ys[0]
        if raw >= xs[-1]:
            return ys[-1]
        lo, hi = 0, len(xs) - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if xs[mid] <= raw:
                lo = mid
            else:
                hi = mid
        span = xs[hi] - xs[lo]
        if span <= 0:
            return ys[hi]
        return ys[lo] + (ys[hi] - ys[lo]) * (raw - xs[lo]) / span


class EntityAnnotation(Frozen):
    """An annotation on a knowledge-graph entity: synonyms, a definition, subset membership,
    obsoletion. ``property`` is the annotation property's IRI (oboInOwl/IAO/OWL terms, as in
    OBO ontologies), ``value`` its text (an entity id for ``term replaced by``)."""

    entity_id: EntityId
    property: IRI
    value: str


class WriteResult(Frozen):
    """What a store write changed: brand-new items versus ones merged into existing ones."""

    created: int = 0
    updated: int = 0


class StoreCounts(Frozen):
    documents: int = 0
    chunks: int = 0
    entities: int = 0
    assertions: int = 0
    draft: int = 0
    certified: int = 0
    quarantined: int = 0
    contested: int = 0
