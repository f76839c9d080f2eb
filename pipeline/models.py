"""The data that crosses stage boundaries.

Every stage takes and returns these pydantic models: frozen, ``extra="forbid"``, with ids of
their own types. Ids are content hashes, so the same input always yields the same id and a
rebuild of the same documents is idempotent all the way down to the store.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, NewType

from pydantic import BaseModel, ConfigDict, Field, model_validator

DocumentId = NewType("DocumentId", str)
ChunkId = NewType("ChunkId", str)
EntityId = NewType("EntityId", str)
AssertionId = NewType("AssertionId", str)
QuarantineId = NewType("QuarantineId", str)
RunId = NewType("RunId", str)
IRI = NewType("IRI", str)


class Frozen(BaseModel):
    """Base for stage-boundary models: immutable and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def stable_hash(*parts: str, length: int = 16) -> str:
    """A short, stable hex digest of ``parts`` (NUL-separated so parts cannot run together)."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


_SPACE = re.compile(r"\s+")


def normalize_label(text: str) -> str:
    """Case-, accent- and whitespace-insensitive form of a label, used for entity identity."""
    folded = unicodedata.normalize("NFKC", text).casefold().strip()
    folded = folded.strip(" \t\n\"'`.,;:!?()[]{}")
    return _SPACE.sub(" ", folded)


# --------------------------------------------------------------------------- documents


class Span(Frozen):
    """A half-open character range ``[start, end)`` in a document's text."""

    start: Annotated[int, Field(ge=0)]
    end: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end < self.start:
            raise ValueError(f"span end {self.end} is before start {self.start}")
        return self


class Document(Frozen):
    """One source document; ``id`` is derived from its content, not its path."""

    id: DocumentId
    source: str
    title: str
    text: str
    sha256: str
    media_type: str = "text/plain"

    @classmethod
    def from_text(cls, text: str, *, source: str, title: str | None = None,
                  media_type: str = "text/plain") -> Document:
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return cls(id=DocumentId(f"doc:{sha[:16]}"), source=source, title=title or source,
                   text=text, sha256=sha, media_type=media_type)


class Chunk(Frozen):
    """A piece of a document with the span it came from, so evidence can point back."""

    id: ChunkId
    document_id: DocumentId
    index: Annotated[int, Field(ge=0)]
    text: str
    span: Span

    @classmethod
    def make(cls, document: Document, index: int, start: int, end: int) -> Chunk:
        text = document.text[start:end]
        cid = ChunkId(f"chunk:{stable_hash(document.id, str(start), str(end))}")
        return cls(id=cid, document_id=document.id, index=index, text=text,
                   span=Span(start=start, end=end))


# --------------------------------------------------------------------------- ontology


class OntologyClass(Frozen):
    iri: IRI
    label: str
    parents: tuple[IRI, ...] = ()
    comment: str = ""


class PropertyKind(StrEnum):
    OBJECT = "object"
    DATATYPE = "datatype"


class OntologyProperty(Frozen):
    """An OWL property. ``range`` holds class IRIs (object) or XSD datatype IRIs (datatype)."""

    iri: IRI
    label: str
    kind: PropertyKind
    domain: tuple[IRI, ...] = ()
    range: tuple[IRI, ...] = ()
    functional: bool = False
    comment: str = ""

    @property
    def local_name(self) -> str:
        return local_name(self.iri)


class CompetencyQuestion(Frozen):
    id: str
    text: str
    sparql: str | None = None
    answer_type: str | None = None


def local_name(iri: str) -> str:
    """The part of an IRI after the last ``#`` or ``/``."""
    return re.split(r"[#/]", iri.rstrip("/#"))[-1]


class OntologyNote(Frozen):
    """How a loader read a quirk of an ontology file (a range named like a datatype, an empty
    range, a property declared twice): never a silent guess, reported by ``ontology check``
    as a warning with this code."""

    code: str
    message: str
    iris: tuple[IRI, ...] = ()


class Ontology(Frozen):
    """The schema extraction works under: classes, properties and competency questions."""

    iri: IRI
    label: str
    classes: tuple[OntologyClass, ...]
    properties: tuple[OntologyProperty, ...]
    competency_questions: tuple[CompetencyQuestion, ...] = ()
    source: str = ""
    sha256: str = ""
    #: what the loader read in a non-literal way, and how
    notes: tuple[OntologyNote, ...] = ()

    def get_class(self, iri: str) -> OntologyClass | None:
        return next((c for c in self.classes if c.iri == iri), None)

    def get_property(self, iri: str) -> OntologyProperty | None:
        return next((p for p in self.properties if p.iri == iri), None)

    def ancestors(self, iri: str) -> set[str]:
        """``iri`` and every class above it (cycle-safe)."""
        seen: set[str] = set()
        todo = [iri]
        while todo:
            cur = todo.pop()
            if cur in seen:
                continue
            seen.add(cur)
            cls = self.get_class(cur)
            if cls is not None:
                todo.extend(cls.parents)
        return seen

    def is_subclass(self, sub: str, sup: str) -> bool:
        return sup in self.ancestors(sub)

    def class_label(self, iri: str) -> str:
        cls = self.get_class(iri)
        return cls.label if cls else local_name(iri)


# --------------------------------------------------------------------------- extraction


class CandidateTriple(BaseModel):
    """One triple exactly as an LLM proposed it, before any check. Unknown keys are ignored
    (models add commentary fields); everything else is validated by the contracts."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    subject: str
    predicate: str
    object: str
    evidence: str | None = None


class ViolationReason(StrEnum):
    """Why an LLM output, or one triple of it, was refused. Stable codes: they are stored."""

    MALFORMED_OUTPUT = "malformed-output"
    EMPTY_OUTPUT = "empty-output"
    EMPTY_FIELD = "empty-field"
    UNKNOWN_PREDICATE = "unknown-predicate"
    SUBJECT_NOT_IN_TEXT = "subject-not-in-text"
    OBJECT_NOT_IN_TEXT = "object-not-in-text"
    INJECTION_SHAPED = "injection-shaped"
    SELF_LOOP = "self-loop"
    CLASS_AS_INSTANCE = "class-as-instance"
    LITERAL_DATATYPE = "literal-datatype"
    NOT_A_VALUE = "not-a-value"
    DOMAIN_MISMATCH = "domain-mismatch"
    RANGE_MISMATCH = "range-mismatch"
    DUPLICATE = "duplicate"
    SHACL_VIOLATION = "shacl-violation"
    FUNCTIONAL_CONFLICT = "functional-conflict"
    ISOLATED_ISLAND = "isolated-island"


class Severity(StrEnum):
    """What a failed check does, declared per check in the contract.

    ``hard``: the evidence is certain (no ontology property, a name the text never writes,
    malformed or injection-shaped output): the candidate is refused and quarantined.
    ``soft``: the check can be wrong on true facts (type fit against a quirky ontology, SHACL
    shapes, functional conflicts, a value coerced to its datatype): the statement is kept, the
    violation is recorded on the assertion, lowers its confidence and is reviewable.
    ``info``: reported only (isolated islands)."""

    HARD = "hard"
    SOFT = "soft"
    INFO = "info"


class Violation(Frozen):
    reason: ViolationReason
    check: str
    detail: str
    #: hard for records written before severities existed: they were all refusals
    severity: Severity = Severity.HARD


def flag_checks(violations: Iterable[Violation]) -> tuple[str, ...]:
    """The names of the checks ``violations`` flag a statement for, sorted, each once: the
    informational ones left out."""
    return tuple(sorted({v.check for v in violations if v.severity is not Severity.INFO}))


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


class WrittenForm(StrEnum):
    """How an accepted triple's subject and object are written out (exports, evaluations).

    The model's own surface form is always kept in the provenance; this only picks what is
    written. ``model``: exactly what the model said. ``text``: the span of the document that
    supports it, as written there. ``tidy`` (the default): where the document writes the same
    words, spelled as the document spells them ("AWH_Engineering_College" → "AWH Engineering
    College", "19255 1994 VK8" → "(19255) 1994 VK8"), inside the model's own quotation marks;
    where it writes them another way (a plural, an alias, a demonym, a date or number in
    another form), the model's form, unless that is a value not in a clean canonical form
    ("373513000.0 (kilometres": then the document's wording). ``canonical``: ``tidy`` names,
    canonical values (ISO dates, plain numbers) for literals."""

    MODEL = "model"
    TEXT = "text"
    TIDY = "tidy"
    CANONICAL = "canonical"


class Evidence(Frozen):
    """Where in the corpus a triple is stated."""

    document_id: DocumentId
    chunk_id: ChunkId
    span: Span
    quote: str


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


class AttemptRecord(Frozen):
    """One call of the LLM for a sample: which model and prompt, what came back, what failed."""

    attempt: Annotated[int, Field(ge=1)]
    model: str
    prompt_version: str
    proposed: int = 0
    accepted: int = 0
    #: the violations found in this attempt's answer, as "[reason] detail" lines
    violations: tuple[str, ...] = ()


class QuarantinedCandidate(Frozen):
    """An LLM proposal that failed its contract after every retry, kept with its reasons."""

    id: QuarantineId
    chunk_id: ChunkId
    document_id: DocumentId
    raw: str
    candidate: CandidateTriple | None
    violations: tuple[Violation, ...]
    model: str
    prompt_version: str
    run_id: RunId
    attempts: Annotated[int, Field(ge=1)]
    sample_index: Annotated[int, Field(ge=0)]
    #: every attempt of the sample this candidate came from
    history: tuple[AttemptRecord, ...] = ()

    @classmethod
    def make(cls, *, chunk: Chunk, raw: str, candidate: CandidateTriple | None,
             violations: tuple[Violation, ...], model: str, prompt_version: str,
             run_id: RunId, attempts: int, sample_index: int,
             history: tuple[AttemptRecord, ...] = ()) -> QuarantinedCandidate:
        body = raw if candidate is None else (
            f"{candidate.subject}\x00{candidate.predicate}\x00{candidate.object}")
        digest = stable_hash(chunk.id, model, prompt_version, str(sample_index), body)
        qid = QuarantineId(f"q:{digest}")
        return cls(id=qid, chunk_id=chunk.id, document_id=chunk.document_id, raw=raw,
                   candidate=candidate, violations=violations, model=model,
                   prompt_version=prompt_version, run_id=run_id, attempts=attempts,
                   sample_index=sample_index, history=history)

    @property
    def primary_reason(self) -> ViolationReason:
        return self.violations[0].reason


class AuditEntry(Frozen):
    """One recorded change to the graph: who, when, what (KGCL text or a lifecycle action).

    The audit log is append-only: stores never update or delete an entry (SQLite enforces it
    with triggers). ``before``/``after`` are compact JSON of the object a change touched, as
    it was and as it became ("" where there was none: a creation has no before); ``role`` is
    the role the actor acted in; ``request_id`` ties the entries of a reviewed change request
    together. ``seq`` is the store's position of the entry (0 until stored).
    """

    at: datetime
    actor: str
    action: str
    target: str
    detail: str = ""
    role: str = ""
    before: str = ""
    after: str = ""
    request_id: str = ""
    seq: int = 0


class EntityAnnotation(Frozen):
    """An annotation on a knowledge-graph entity: synonyms, a definition, subset membership,
    obsoletion. ``property`` is the annotation property's IRI (oboInOwl/IAO/OWL terms, as in
    OBO ontologies), ``value`` its text (an entity id for ``term replaced by``)."""

    entity_id: EntityId
    property: IRI
    value: str


class RequestStatus(StrEnum):
    """Where a change request is in review: filed (pending), approved or rejected by a
    reviewer, and applied (approved requests only). Stored: stable values."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    APPLIED = "applied"


class ChangeRequest(Frozen):
    """A KGCL change request filed on a store, reviewed before it may apply.

    ``kgcl`` is the request's text exactly as filed; the review fields are set once, by the
    reviewer; ``applied_*`` once, when it is applied."""

    id: str
    author: str
    author_role: str
    kgcl: str
    status: RequestStatus = RequestStatus.PENDING
    created_at: datetime
    reviewer: str = ""
    reviewer_role: str = ""
    reviewed_at: datetime | None = None
    reason: str = ""
    applied_by: str = ""
    applied_by_role: str = ""
    applied_at: datetime | None = None


class WriteResult(Frozen):
    """What a store write changed: brand-new items versus ones merged into existing ones."""

    created: int = 0
    updated: int = 0


Role = Literal["reader", "curator", "certifier", "admin"]
