"""The data that crosses stage boundaries, in one package.

Every stage takes and returns these pydantic models (frozen, ``extra="forbid"``, with ids of
their own types), and imports them from here: a stage never imports another stage for a
type. Ids are content hashes, so the same input always yields the same id and a rebuild of
the same documents is idempotent all the way down to the store.

- ``base``: Ids, the frozen base model and the hashing every id is made with.
- ``documents``: Documents, their chunks and the spans of evidence in them.
- ``ontology``: The ontology a graph is built under: classes, properties, competency questions.
- ``violations``: What a contract check found wrong: reason, check, severity.
- ``graph``: The knowledge graph: entities, values, triples, assertions and their provenance.
- ``extraction``: what extraction yields: candidates, the contract's verdict on an answer,
  samples, quarantine.
- ``verification``: the graph-level stages' results: scored graph, merges, conflicts,
  islands, declarations.
- ``changes``: Changes to a store and to its index: the store's primitives and the index delta.
- ``governance``: Roles, the audit log and change requests.
- ``reports``: reports a build returns: contract statistics, calibration against labels,
  the build report.
"""

from __future__ import annotations

from pipeline.models.base import (
    IRI,
    AssertionId,
    ChunkId,
    DocumentId,
    EntityId,
    Frozen,
    QuarantineId,
    RunId,
    local_name,
    normalize_label,
    stable_hash,
)
from pipeline.models.changes import (
    AddAnnotation,
    AddAssertion,
    Change,
    CreateEntity,
    DeleteEntity,
    IndexDelta,
    IndexRow,
    RemoveAnnotation,
    RemoveAssertion,
    RenameEntity,
    RetypeEntity,
    RowKind,
    SetStatus,
)
from pipeline.models.documents import (
    Chunk,
    Document,
    Evidence,
    SkippedDocument,
    Span,
)
from pipeline.models.extraction import (
    AcceptedTriple,
    AttemptRecord,
    CandidateTriple,
    ChunkExtraction,
    ExtractionScope,
    OutputReport,
    QuarantinedCandidate,
    RejectedCandidate,
    SampleResult,
    WrittenForm,
)
from pipeline.models.governance import (
    AuditEntry,
    ChangeRequest,
    RequestStatus,
    Role,
)
from pipeline.models.graph import (
    Assertion,
    AssertionStatus,
    CalibrationMap,
    EntityAnnotation,
    EntityRef,
    LiteralValue,
    Provenance,
    StoreCounts,
    Triple,
    WriteResult,
)
from pipeline.models.ontology import (
    CompetencyQuestion,
    Ontology,
    OntologyClass,
    OntologyNote,
    OntologyProperty,
    PropertyKind,
)
from pipeline.models.reports import (
    BuildReport,
    CheckStats,
    ContractStats,
    LabelledCalibration,
    LabelledPoint,
)
from pipeline.models.verification import (
    Conflict,
    DeclarationFinding,
    GraphCheckResult,
    Island,
    MergeReason,
    MergeRecord,
    ScoredGraph,
)
from pipeline.models.violations import (
    Severity,
    Violation,
    ViolationReason,
    flag_checks,
)

__all__ = [
    "AcceptedTriple",
    "AddAnnotation",
    "AddAssertion",
    "Assertion",
    "AssertionId",
    "AssertionStatus",
    "AttemptRecord",
    "AuditEntry",
    "BuildReport",
    "CalibrationMap",
    "CandidateTriple",
    "Change",
    "ChangeRequest",
    "CheckStats",
    "Chunk",
    "ChunkExtraction",
    "ChunkId",
    "CompetencyQuestion",
    "Conflict",
    "ContractStats",
    "CreateEntity",
    "DeclarationFinding",
    "DeleteEntity",
    "Document",
    "DocumentId",
    "EntityAnnotation",
    "EntityId",
    "EntityRef",
    "Evidence",
    "ExtractionScope",
    "Frozen",
    "GraphCheckResult",
    "IRI",
    "IndexDelta",
    "IndexRow",
    "Island",
    "LabelledCalibration",
    "LabelledPoint",
    "LiteralValue",
    "MergeReason",
    "MergeRecord",
    "Ontology",
    "OntologyClass",
    "OntologyNote",
    "OntologyProperty",
    "OutputReport",
    "PropertyKind",
    "Provenance",
    "QuarantineId",
    "QuarantinedCandidate",
    "RejectedCandidate",
    "RemoveAnnotation",
    "RemoveAssertion",
    "RenameEntity",
    "RequestStatus",
    "RetypeEntity",
    "Role",
    "RowKind",
    "RunId",
    "SampleResult",
    "ScoredGraph",
    "SetStatus",
    "Severity",
    "SkippedDocument",
    "Span",
    "StoreCounts",
    "Triple",
    "Violation",
    "ViolationReason",
    "WriteResult",
    "WrittenForm",
    "flag_checks",
    "local_name",
    "normalize_label",
    "stable_hash",
]
