"""Reports a build returns: contract statistics, calibration against labels, the build report."""

from __future__ import annotations

from pipeline.models.base import Frozen
from pipeline.models.documents import SkippedDocument
from pipeline.models.verification import DeclarationFinding, MergeRecord


class CheckStats(Frozen):
    checked: int
    failed: int
    pass_rate: float


class ContractStats(Frozen):
    #: candidate triples the post-conditions examined (every attempt of every sample)
    candidates: int
    samples: int
    #: mean corrective retries per sample, and how many samples needed 1, 2, ... attempts
    retries_per_sample: float
    attempts: dict[str, int]
    checks: dict[str, CheckStats]


class LabelledPoint(Frozen):
    """A labelled statement found in the store, with its raw and stored confidence."""

    assertion: str
    raw: float
    confidence: float
    correct: bool


class LabelledCalibration(Frozen):
    """How well a build's stored confidence matches a labelled sample: the ECE over the
    labelled statements found, and where its reliability diagram was written."""

    labels: int
    found: int
    right: int
    missing: int
    ece: float
    diagram: str


class BuildReport(Frozen):
    run_id: str
    store: str
    documents: int
    new_documents: int
    #: files of the corpus the loader skipped, with their reasons (quarantined as documents)
    skipped_documents: tuple[SkippedDocument, ...] = ()
    chunks: int
    proposed: int
    accepted: int
    quarantined: int
    quarantined_by_reason: dict[str, int]
    #: statements kept but flagged by a soft check, by check (reviewable with
    #: ``verikg quarantine --soft``)
    flagged_by_check: dict[str, int] = {}
    #: properties whose statements, by a majority, contradict their declared domain or range
    declarations: tuple[DeclarationFinding, ...] = ()
    check_failures: dict[str, int]
    #: pass rate of every check and the corrective retries the samples needed
    contract: ContractStats | None = None
    entities: int
    new_assertions: int
    assertions_in_store: int
    index_size: int
    #: entity merges of this build (each reversible with ``pipeline.resolve.undo_merge``)
    merges: tuple[MergeRecord, ...] = ()
    contested: int = 0
    islands: int = 0
    stage_seconds: dict[str, float] = {}
    #: 1 for a build that ran through; more when it resumed a run that died before
    attempts: int = 1
    #: chunks whose extraction an earlier attempt had committed to the run ledger
    resumed_chunks: int = 0
    #: the stored confidence against the labelled sample the build was given, if any
    calibration: LabelledCalibration | None = None
