"""The ``build_kg`` flow: documents → chunks → contract-checked extraction → confidence →
store (draft) → index. The one place where the order of the build is written down.

Every task is a thin call into ``pipeline``. Clients (store, LLM, embedder) are built here from
``Settings`` and passed to the stages. A rerun over the same documents adds nothing: ids are
content hashes, the store merges, and the LLM cache answers the same prompts again.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.artifacts import graph_confidences, publish_build_artifacts
from flows.clients import index_dir, make_chat_model, make_embedder, make_store, open_index
from flows.merges import MergeLog
from flows.params import InProcess, with_overrides
from flows.policies import cached, llm_slot, retry_options
from pipeline.confidence import AgreementScorer, ConfidenceModel, reinforce
from pipeline.confidence.labels import check_calibration, read_labels
from pipeline.contracts import TripleContract, load_contract
from pipeline.contracts.stats import contract_stats
from pipeline.embeddings import Embedder
from pipeline.errors import OntologyError
from pipeline.extract import LLMExtractor
from pipeline.extract.prompt import PROMPT_VERSION
from pipeline.ingest import SentenceChunker, TextFileLoader
from pipeline.ledger import ChunkStage, LedgerRun, RunLedger, run_key
from pipeline.models import (
    Assertion,
    AssertionId,
    BuildReport,
    Chunk,
    ChunkExtraction,
    Document,
    GraphCheckResult,
    Ontology,
    RunId,
    ScoredGraph,
    SetStatus,
)
from pipeline.ontology import check_ontology, load_ontology
from pipeline.settings import Settings
from pipeline.store import GraphStore
from pipeline.verify import resolve_functional_conflicts, run_graph_checks

#: called as ``progress(stage, done, total)`` while long stages run (the CLI draws bars)
ProgressFn = Callable[[str, int, int], None]
#: the run ledger, in the data directory
LEDGER_FILE = "ledger.sqlite"




@task(name="load_documents", cache_policy=NO_CACHE)
def load_documents(corpus: Path) -> list[Document]:
    return TextFileLoader().load(corpus)


@task(name="chunk_documents", cache_policy=NO_CACHE)
def chunk_documents(documents: Sequence[Document], max_chars: int) -> list[Chunk]:
    return SentenceChunker(max_chars=max_chars).chunk_all(documents)


@task(name="load_checked_ontology", cache_policy=NO_CACHE)
def load_checked_ontology(path: Path) -> Ontology:
    onto = load_ontology(path)
    errors = [i for i in check_ontology(onto) if i.severity == "error"]
    if errors:
        lines = "; ".join(f"[{i.code.value}] {i.message}" for i in errors)
        raise OntologyError(f"{path}: the ontology fails its checks: {lines}")
    return onto


@task(name="store_documents", cache_policy=NO_CACHE, **retry_options())
def store_documents(store: GraphStore, documents: Sequence[Document],
                    chunks: Sequence[Chunk]) -> int:
    return store.upsert_documents(documents, chunks).created


@task(name="extract_chunk", cache_policy=NO_CACHE, **retry_options())
def extract_chunk(extractor: LLMExtractor, chunk: Chunk, ontology: Ontology,
                  run_id: str, settings: Settings | None = None) -> ChunkExtraction:
    """One chunk's samples, holding an LLM slot (``VERIKG_LLM_CONCURRENCY`` in this process,
    the ``verikg-llm`` limit across workers)."""
    with llm_slot(settings):
        return extractor.extract(chunk, ontology, run_id=RunId(run_id))


@task(name="score_assertions", cache_policy=NO_CACHE)
def score_assertions(extractions: Sequence[ChunkExtraction], ontology: Ontology,
                     confidence: ConfidenceModel) -> ScoredGraph:
    return AgreementScorer(confidence).score(extractions, ontology)


@task(name="check_graph", cache_policy=NO_CACHE)
def check_graph(scored: ScoredGraph, ontology: Ontology, contract: TripleContract,
                chunks: Sequence[Chunk], settings: Settings,
                embedder: Embedder | None = None) -> GraphCheckResult:
    """The contract's graph section: entity resolution, type fit, functional conflicts, SHACL,
    islands (see ``contracts/extraction.yaml``), each flagging or refusing as declared."""
    policy = contract.spec.entity_resolution
    if policy.use_embeddings and embedder is None:
        embedder = make_embedder(settings)
    return run_graph_checks(scored, ontology, contract.spec,
                              texts=[c.text for c in chunks],
                              embedder=embedder if policy.use_embeddings else None,
                              undone=MergeLog.of(settings).undone())


#: assertions per store transaction while a build writes (each slice commits on its own, so
#: a store that goes away mid-ingest loses at most the slice in flight, which a retry rewrites)
STORE_SLICE = 200


@task(name="store_assertions", cache_policy=NO_CACHE, **retry_options())
def store_assertions(store: GraphStore, scored: ScoredGraph, ontology: Ontology,
                     run_id: str, progress: ProgressFn | None = None,
                     slice_size: int = STORE_SLICE,
                     confidence: ConfidenceModel | None = None) -> int:
    """Write a run's quarantine and assertions. Every write is idempotent (content-hash ids,
    provenance merged by chunk, model and prompt version), so a rerun after a crash at any
    point — between slices, before the status changes — ends in the same graph."""
    # quarantine first: if the assertion write fails, a rerun still finds every reason stored
    store.write_quarantine(scored.quarantined)
    if not scored.assertions:
        return 0
    # what earlier runs found reinforces what this one finds (noisy-OR across chunks); the
    # whole batch is decided against one snapshot, then written slice by slice
    stored = {a.id: a for a in store.assertions()}
    batch = reinforce(scored.assertions, stored, confidence)
    batch, changes = contest_across_runs(batch, stored, ontology, run_id)
    created = 0
    for start in range(0, len(batch), slice_size):
        created += store.write_assertions(batch[start:start + slice_size]).created
        if progress:
            progress("store", min(start + slice_size, len(batch)), len(batch))
    if changes:
        store.apply_changes(changes, actor=f"verikg build {run_id}", role="curator")
    return created


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


@task(name="build_index", cache_policy=NO_CACHE, **retry_options())
def build_index(store: GraphStore, ontology: Ontology, settings: Settings,
                embedder: Embedder | None = None) -> int:
    index, changed = open_index(settings, store, embedder or make_embedder(settings), ontology)
    if changed:
        index.save(index_dir(settings))
    return index.size


def extract_all(extractor: LLMExtractor, chunks: Sequence[Chunk], ontology: Ontology,
                run_id: str, settings: Settings, ledger: RunLedger,
                done: Mapping[str, ChunkExtraction],
                progress: ProgressFn | None = None) -> list[ChunkExtraction]:
    """Every chunk's extraction, in chunk order: the ones the ledger holds read back, the rest
    extracted ``llm_concurrency`` at a time (as concurrent task runs) and each committed to
    the ledger as soon as it finishes. When one fails, the others of its window still finish
    and are kept, then the error is raised: a rerun resumes after them."""
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
    # a window twice the slots keeps them busy past a slow chunk; with one slot the chunks go
    # strictly in order (a scripted LLM's answers then meet the chunks they were written for)
    slots = settings.llm_concurrency
    window = 1 if slots == 1 else 2 * slots
    for start in range(0, len(todo), window):
        futures = [(i, extract_chunk.submit(extractor, chunk, ontology, run_id, settings))
                   for i, chunk in todo[start:start + window]]
        failure: BaseException | None = None
        for i, future in futures:
            try:
                extraction = future.result()
            except Exception as exc:  # noqa: BLE001 - raised below, after the others are kept
                failure = failure or exc
                continue
            ledger.record_extraction(run_id, extraction)
            out[i] = extraction
            finished += 1
            if progress:
                progress("extract", finished, len(chunks))
        if failure is not None:
            raise failure
    return [out[i] for i in range(len(chunks))]


def run_build(corpus: Path, ontology_path: Path, settings: Settings, *,
              progress: ProgressFn | None = None,
              chat_model: BaseChatModel | None = None,
              embedder: Embedder | None = None,
              labels: Path | None = None) -> BuildReport:
    """The build, stage by stage; ``build_kg`` is this as a Prefect flow. ``chat_model``
    replaces the one the settings name (tests pass langchain-core's fake chat models),
    ``embedder`` the sentence-transformers model.

    The build writes through the run ledger (``<data dir>/ledger.sqlite``): each chunk's
    extraction is committed as it finishes, and chunks are marked checked and stored as the
    later stages finish. A build that dies at any point leaves its run open; running the same
    build again resumes it under the same run id, reads the finished chunks back instead of
    asking the LLM, and replays the idempotent store writes.

    ``labels`` (a labels file, ``pipeline.confidence.labels``) checks the stored confidence
    against a labelled sample: the report gets its ECE and a reliability diagram."""
    logger = get_run_logger()
    wanted = read_labels(labels) if labels is not None else None
    timings: dict[str, float] = {}

    @contextmanager
    def stage(name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        timings[name] = round(time.perf_counter() - started, 3)

    with stage("ingest"):
        documents = load_documents(corpus)
        # deterministic: cached by its inputs and its code under the data directory
        chunks = cached(chunk_documents, settings)(documents, settings.chunk_chars)
    with stage("ontology"):
        ontology = load_checked_ontology(ontology_path)

    store = make_store(settings)
    ledger = RunLedger(settings.data_dir / LEDGER_FILE)
    run: LedgerRun | None = None
    try:
        with stage("store_documents"):
            new_docs = store_documents(store, documents, chunks)
        contract = TripleContract(load_contract("extraction"))
        extractor = LLMExtractor(chat_model or make_chat_model(settings, ontology), contract,
                                 samples=settings.samples, max_retries=settings.max_retries)
        run = ledger.begin(run_key(store=store.descriptor, chunks=chunks, ontology=ontology,
                                   model=extractor.model_name, prompt_version=PROMPT_VERSION,
                                   contract=contract.spec.tag, samples=extractor.samples,
                                   max_retries=extractor.max_retries),
                           store=store.descriptor)
        run_id = run.run_id
        with stage("extract"):
            done = ledger.extractions(run_id)
            if run.resumed:
                logger.info("build %s: resuming (attempt %d), %d of %d chunks already "
                            "extracted", run_id, run.attempts, len(done), len(chunks))
            extractions = extract_all(extractor, chunks, ontology, run_id, settings, ledger,
                                      done, progress)
        chunk_ids = [c.id for c in chunks]
        confidence = ConfidenceModel.from_spec(contract.spec)
        with stage("confidence"):
            scored = score_assertions(extractions, ontology, confidence)
        with stage("graph_checks"):
            checked = check_graph(scored, ontology, contract, chunks, settings, embedder)
            scored = checked.graph
            ledger.mark(run_id, chunk_ids, ChunkStage.CHECKED)
        with stage("store"):
            new_assertions = store_assertions(store, scored, ontology, run_id, progress,
                                              settings.store_batch_size, confidence)
            MergeLog.of(settings).append(checked.merges, run_id)
            ledger.mark(run_id, chunk_ids, ChunkStage.STORED)
        with stage("index"):
            index_size = build_index(store, ontology, settings, embedder)
            if progress:
                progress("index", 1, 1)

        labelled = None
        if wanted is not None:
            labelled = check_calibration(wanted, store.assertions(), confidence,
                                         settings.data_dir / "calibration.png",
                                         bins=contract.spec.confidence.calibration_bins)
        failures: Counter[str] = Counter(checked.failures)
        proposed = 0
        for ex in extractions:
            for s in ex.samples:
                failures.update(s.check_failures)
                proposed += s.proposed
        reasons = Counter(q.primary_reason.value for q in scored.quarantined)
        counts = store.counts()
        report = BuildReport(
            run_id=run_id, store=store.descriptor, documents=len(documents),
            new_documents=new_docs, chunks=len(chunks), proposed=proposed,
            accepted=len(scored.assertions), quarantined=len(scored.quarantined),
            quarantined_by_reason=dict(sorted(reasons.items())),
            flagged_by_check=checked.flagged, declarations=checked.declarations,
            check_failures=dict(sorted(failures.items())),
            entities=counts.entities, new_assertions=new_assertions,
            assertions_in_store=counts.assertions, index_size=index_size,
            contract=contract_stats(extractions, contract.spec, checked.failures),
            merges=checked.merges, contested=sum(len(c.losers) for c in checked.conflicts),
            islands=len(checked.islands), stage_seconds=timings, attempts=run.attempts,
            resumed_chunks=len(done), calibration=labelled)
        ledger.complete(run_id)
        logger.info("build %s: %d accepted, %d quarantined, %d new assertions", run_id,
                    report.accepted, report.quarantined, report.new_assertions)
        return report
    except BaseException as exc:
        if run is not None:
            # the run stays open: the next build of the same inputs resumes it
            ledger.fail(run.run_id, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        ledger.close()
        store.close()


# the deployable signature's helpers (kept beside the flow they serve)


@flow(name="build_kg")
def build_kg(corpus: str = "data/sample", ontology: str = "ontologies/space",
             store: str | None = None, data_dir: str | None = None,
             samples: int | None = None, max_retries: int | None = None,
             llm: str | None = None, llm_model: str | None = None,
             settings: InProcess[Settings | None] = None,
             progress: InProcess[ProgressFn | None] = None,
             chat_model: InProcess[BaseChatModel | None] = None,
             embedder: InProcess[Embedder | None] = None,
             labels: str | None = None) -> BuildReport:
    """Build (or update) the knowledge graph from a corpus under an ontology.

    The run publishes its artifacts (counts, contract pass rates, quarantine reasons and the
    confidence plot of the graph) for the Prefect UI.

    Args:
        corpus: file or folder of documents
        ontology: ontology file or folder
        store: store descriptor, sqlite:PATH or a Bolt URI (default VERIKG_STORE)
        data_dir: state folder: embedded store, index, caches (default VERIKG_DATA_DIR)
        samples: samples per chunk, whose agreement is the confidence (default VERIKG_SAMPLES)
        max_retries: corrective re-prompts per sample (default VERIKG_MAX_RETRIES)
        llm: LLM backend, embedded or openai (default VERIKG_LLM; keys stay in the
            environment)
        llm_model: model name for the openai backend (default VERIKG_LLM_MODEL)
        settings: in-process only: the settings to start from (default the environment)
        progress: in-process only: progress(stage, done, total) for progress bars
        chat_model: in-process only: replaces the configured LLM (tests)
        embedder: in-process only: replaces the configured embedder (tests)
        labels: a labelled sample of statements (JSONL or CSV) to check the stored
            confidence against: ECE and a reliability diagram in the report
    """
    chosen = with_overrides(settings, store=store, data_dir=data_dir, samples=samples,
                            max_retries=max_retries, llm=llm, llm_model=llm_model)
    report = run_build(Path(corpus), Path(ontology), chosen, progress=progress,
                       chat_model=chat_model, embedder=embedder,
                       labels=Path(labels) if labels else None)
    with make_store(chosen) as graph:
        publish_build_artifacts(report, graph_confidences(graph))
    return report
