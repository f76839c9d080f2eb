"""The build's own logic, between its stages: what ``flows/build_kg.py`` sequences as tasks.

- **the ontology**, refused when its checks find an error (``checked_ontology``);
- **the run**: what makes two builds the same one (``build_key``), and a ledger run that is
  completed when the build finishes and stays open, with its error, when it dies
  (``ledger_run``), so the next build of the same inputs resumes it;
- **resuming extraction**: the chunks the ledger holds are read back, the rest extracted a
  window at a time, each kept as soon as it finishes (``extract_resuming``);
- **the stored graph**: a run's assertions are reinforced by what earlier runs stored and
  contest a functional property's stored values (``reconcile_with_graph``), then written
  slice by slice (``store_run``);
- **the report**: its counts and arithmetic (``build_report``), with the time per stage
  (``StageClock``).

Plain functions and classes: no Prefect, no settings, no environment. The clients (store,
ledger, extractor) are passed in.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from pipeline.confidence import ConfidenceModel, reinforce
from pipeline.contracts import TripleContract
from pipeline.contracts.stats import contract_stats
from pipeline.errors import OntologyError
from pipeline.extract import LLMExtractor
from pipeline.extract.prompt import PROMPT_VERSION
from pipeline.ledger import LedgerRun, RunLedger, run_key
from pipeline.models import (
    Assertion,
    AssertionId,
    AssertionStatus,
    BuildReport,
    Chunk,
    ChunkExtraction,
    Document,
    GraphCheckResult,
    LabelledCalibration,
    Ontology,
    ScoredGraph,
    SetStatus,
    SkippedDocument,
)
from pipeline.ontology import check_ontology, load_ontology
from pipeline.store import GraphStore
from pipeline.verify import resolve_functional_conflicts

#: called as ``progress(stage, done, total)`` while long stages run (the CLI draws bars)
ProgressFn = Callable[[str, int, int], None]
#: assertions per store transaction while a build writes (each slice commits on its own, so
#: a store that goes away mid-ingest loses at most the slice in flight, which a retry rewrites)
STORE_SLICE = 200


class StageClock:
    """Wall-clock seconds per stage, in the order the stages ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - started, 3)


def checked_ontology(path: Path) -> Ontology:
    """The ontology at ``path``; an ``OntologyError`` naming every failed check when any
    check finds an error (warnings do not stop a build)."""
    onto = load_ontology(path)
    errors = [i for i in check_ontology(onto) if i.severity == "error"]
    if errors:
        lines = "; ".join(f"[{i.code.value}] {i.message}" for i in errors)
        raise OntologyError(f"{path}: the ontology fails its checks: {lines}")
    return onto


def build_key(store: GraphStore, chunks: Sequence[Chunk], ontology: Ontology,
              extractor: LLMExtractor, contract: TripleContract) -> str:
    """The ledger key of a build: its store, chunks, ontology and everything that shapes an
    extraction (model, prompt version, contract, samples, retries)."""
    return run_key(store=store.descriptor, chunks=chunks, ontology=ontology,
                   model=extractor.model_name, prompt_version=PROMPT_VERSION,
                   contract=contract.spec.tag, samples=extractor.samples,
                   max_retries=extractor.max_retries)


@contextmanager
def ledger_run(ledger: RunLedger, key: str, *, store: str) -> Iterator[LedgerRun]:
    """The ledger's run for ``key`` (a new one, or the open one it resumes), completed when
    the block finishes; a block that raises leaves it open with the error recorded, so the
    next build of the same inputs resumes it under the same run id."""
    run = ledger.begin(key, store=store)
    try:
        yield run
        ledger.complete(run.run_id)
    except BaseException as exc:
        ledger.fail(run.run_id, f"{type(exc).__name__}: {exc}")
        raise


def extraction_window(concurrency: int) -> int:
    """Chunks in flight at once for ``concurrency`` LLM slots: twice the slots keeps them busy
    past a slow chunk; with one slot the chunks go strictly in order (a scripted LLM's
    answers then meet the chunks they were written for)."""
    return 1 if concurrency == 1 else 2 * concurrency


#: starts the extraction of a window of chunks; one callable per chunk returns its result
#: (or raises its error), e.g. the ``result`` of a submitted task's future
SubmitFn = Callable[[Sequence[Chunk]], Sequence[Callable[[], ChunkExtraction]]]


def extract_resuming(chunks: Sequence[Chunk], done: Mapping[str, ChunkExtraction], *,
                     window: int, submit: SubmitFn,
                     record: Callable[[ChunkExtraction], None],
                     progress: ProgressFn | None = None) -> list[ChunkExtraction]:
    """Every chunk's extraction, in chunk order: the ones in ``done`` (what the ledger holds)
    read back, the rest extracted ``window`` at a time through ``submit`` and each passed to
    ``record`` as soon as it finishes. When one fails, the others of its window still finish
    and are recorded, then the error is raised: a rerun resumes after them."""
    out: dict[int, ChunkExtraction] = {}
    todo: list[tuple[int, Chunk]] = []
    for i, chunk in enumerate(chunks):
        found = done.get(chunk.id)
        if found is None:
            todo.append((i, chunk))
        else:
            out[i] = found
    finished = len(out)
    if progress:
        for n in range(1, finished + 1):
            progress("extract", n, len(chunks))
    for start in range(0, len(todo), window):
        batch = todo[start:start + window]
        results = submit([chunk for _, chunk in batch])
        failure: BaseException | None = None
        for (i, _), result in zip(batch, results, strict=True):
            try:
                extraction = result()
            except Exception as exc:  # noqa: BLE001 - raised below, after the others are kept
                failure = failure or exc
                continue
            record(extraction)
            out[i] = extraction
            finished += 1
            if progress:
                progress("extract", finished, len(chunks))
        if failure is not None:
            raise failure
    return [out[i] for i in range(len(chunks))]


def contest_across_runs(batch: Sequence[Assertion], stored: Mapping[AssertionId, Assertion],
                        ontology: Ontology, run_id: str
                        ) -> tuple[list[Assertion], list[SetStatus]]:
    """Functional-property conflicts between this run and the graph: the values of a subject
    already stored compete with the new ones (confidence, then recency); status changes of
    stored assertions become audited ``SetStatus`` changes, new ones are written contested."""
    functional = {p.iri for p in ontology.properties if p.functional}
    slots = {(a.triple.subject.id, a.triple.predicate) for a in batch
             if a.triple.predicate in functional}
    if not slots:
        return list(batch), []
    ids = {a.id for a in batch}
    rivals = [a for a in stored.values() if a.id not in ids
              and (a.triple.subject.id, a.triple.predicate) in slots]
    if not rivals:
        return list(batch), []
    # a batch item already in the store competes with the status it has there
    current = [stored[a.id].model_copy(update={"confidence": a.confidence,
                                               "provenance": a.provenance})
               if a.id in stored else a for a in batch]
    resolved, _ = resolve_functional_conflicts([*current, *rivals], ontology)
    status = {a.id: a.status for a in resolved}
    out = [a.model_copy(update={"status": status[a.id]}) for a in batch]
    changes = [SetStatus(assertion_id=a.id, status=status[a.id],
                         kgcl=f"# {run_id}: functional-property conflict resolved")
               for a in [*current, *rivals]
               if a.id in stored and stored[a.id].status != status[a.id]]
    return out, changes


def reconcile_with_graph(assertions: Sequence[Assertion],
                         stored: Mapping[AssertionId, Assertion], ontology: Ontology,
                         run_id: str, confidence: ConfidenceModel | None = None
                         ) -> tuple[list[Assertion], list[SetStatus]]:
    """A run's assertions against the ``stored`` graph: what earlier runs found reinforces
    what this one finds (noisy-OR across chunks), then functional-property values contest
    the stored ones (``contest_across_runs``). Returns the batch to write and the status
    changes of stored assertions."""
    batch = reinforce(assertions, stored, confidence)
    return contest_across_runs(batch, stored, ontology, run_id)


def store_run(store: GraphStore, scored: ScoredGraph, ontology: Ontology, run_id: str, *,
              progress: ProgressFn | None = None, slice_size: int = STORE_SLICE,
              confidence: ConfidenceModel | None = None) -> int:
    """Write a run's quarantine and assertions; returns the assertions created. Every write
    is idempotent (content-hash ids, provenance merged by chunk, model and prompt version),
    so a rerun after a crash at any point — between slices, before the status changes —
    ends in the same graph."""
    # quarantine first: if the assertion write fails, a rerun still finds every reason stored.
    # What the run refuses again takes its run id, attempts and history (every refusing run
    # is kept); what it covered and no longer refuses stays, marked resolved by it
    store.write_quarantine(scored.quarantined, covered=scored.covered)
    if not scored.assertions:
        return 0
    # the whole batch is decided against one snapshot, then written slice by slice
    stored = {a.id: a for a in store.assertions()}
    batch, changes = reconcile_with_graph(scored.assertions, stored, ontology, run_id,
                                          confidence)
    created = 0
    for start in range(0, len(batch), slice_size):
        created += store.write_assertions(batch[start:start + slice_size]).created
        if progress:
            progress("store", min(start + slice_size, len(batch)), len(batch))
    if changes:
        store.apply_changes(changes, actor=f"verikg build {run_id}", role="curator")
    return created


def graph_confidences(store: GraphStore) -> list[float]:
    """The confidence of every assertion in the graph (draft, certified, contested): what
    the build left, new and reinforced alike."""
    return [a.confidence for a in store.assertions()
            if a.status is not AssertionStatus.QUARANTINED]


def build_report(*, run: LedgerRun, store: GraphStore, documents: Sequence[Document],
                 new_documents: int, chunks: Sequence[Chunk],
                 extractions: Sequence[ChunkExtraction], checked: GraphCheckResult,
                 contract: TripleContract, new_assertions: int, index_size: int,
                 stage_seconds: Mapping[str, float], resumed_chunks: int,
                 calibration: LabelledCalibration | None = None,
                 skipped: Sequence[SkippedDocument] = ()) -> BuildReport:
    """The build's report: counts from every stage (proposed over every sample, accepted and
    quarantined after the graph checks, the store's totals), check failures of the answers
    and of the graph, the contract's pass rates, merges, contested values and islands, and
    the files of the corpus skipped with their reasons."""
    scored = checked.graph
    failures: Counter[str] = Counter(checked.failures)
    proposed = 0
    for ex in extractions:
        for s in ex.samples:
            failures.update(s.check_failures)
            proposed += s.proposed
    reasons = Counter(q.primary_reason.value for q in scored.quarantined)
    counts = store.counts()
    return BuildReport(
        run_id=run.run_id, store=store.descriptor, documents=len(documents),
        new_documents=new_documents, skipped_documents=tuple(skipped), chunks=len(chunks),
        proposed=proposed,
        accepted=len(scored.assertions), quarantined=len(scored.quarantined),
        quarantined_by_reason=dict(sorted(reasons.items())),
        flagged_by_check=checked.flagged, declarations=checked.declarations,
        check_failures=dict(sorted(failures.items())),
        entities=counts.entities, new_assertions=new_assertions,
        assertions_in_store=counts.assertions, index_size=index_size,
        contract=contract_stats(extractions, contract.spec, checked.failures),
        merges=checked.merges, contested=sum(len(c.losers) for c in checked.conflicts),
        islands=len(checked.islands), stage_seconds=dict(stage_seconds),
        attempts=run.attempts, resumed_chunks=resumed_chunks, calibration=calibration)


__all__ = ["STORE_SLICE", "ProgressFn", "StageClock", "SubmitFn", "build_key",
           "build_report", "checked_ontology", "contest_across_runs", "extract_resuming",
           "extraction_window", "graph_confidences", "ledger_run", "reconcile_with_graph",
           "store_run"]
