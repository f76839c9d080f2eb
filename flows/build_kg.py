"""The ``build_kg`` flow: documents → chunks → contract-checked extraction → confidence →
graph checks → store (draft) → index. The one place where the order of the build is written.

Each task is a call into ``pipeline`` (``pipeline.build`` holds the logic between stages);
the clients come from ``flows.clients``. A rerun over the same documents adds nothing: ids
are content hashes, the store merges, and the LLM cache answers the same prompts again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from prefect import flow, get_run_logger

from flows import build_tasks as tasks
from flows import clients
from flows.artifacts import publish_build_artifacts
from flows.params import InProcess, with_overrides
from pipeline import build
from pipeline.build import ProgressFn
from pipeline.confidence import ConfidenceModel
from pipeline.confidence.labels import check_calibration, read_labels
from pipeline.contracts import TripleContract, load_contract
from pipeline.embeddings import Embedder
from pipeline.errors import MissingOntologyError, StoreNotFoundError
from pipeline.extract import LLMExtractor
from pipeline.ledger import ChunkStage, RunLedger
from pipeline.models import BuildReport, Chunk, ChunkExtraction, Ontology
from pipeline.settings import Settings


def extract_all(extractor: LLMExtractor, chunks: Sequence[Chunk], ontology: Ontology,
                run_id: str, settings: Settings, ledger: RunLedger,
                done: Mapping[str, ChunkExtraction],
                progress: ProgressFn | None = None) -> list[ChunkExtraction]:
    """Every chunk's extraction (``pipeline.build.extract_resuming``): the ledger's read back,
    the rest as concurrent ``extract_chunk`` task runs, each committed to the ledger."""
    def submit(window: Sequence[Chunk]) -> list[Callable[[], ChunkExtraction]]:
        return [tasks.extract_chunk.submit(extractor, c, ontology, run_id, settings).result
                for c in window]

    return build.extract_resuming(
        chunks, done, window=build.extraction_window(settings.llm_concurrency), submit=submit,
        record=lambda extraction: ledger.record_extraction(run_id, extraction),
        progress=progress)


def _ontology(ontology_path: Path | None, settings: Settings) -> tuple[Ontology, bool]:
    """The build's ontology, checked, and whether the store must record it: the file given,
    else the one the store recorded at its last build (an update needs no --ontology)."""
    if ontology_path is not None:
        return tasks.load_checked_ontology(ontology_path), True
    try:
        with clients.make_store(settings) as store:
            return clients.resolve_ontology(store, None), False
    except StoreNotFoundError as exc:
        raise MissingOntologyError(f"{exc}; a first build needs an ontology: pass --ontology "
                                   "PATH") from exc


def run_build(corpus: Path, ontology_path: Path | None, settings: Settings, *,
              progress: ProgressFn | None = None, chat_model: BaseChatModel | None = None,
              embedder: Embedder | None = None, labels: Path | None = None) -> BuildReport:
    """The build, stage by stage; ``build_kg`` is this as a Prefect flow. ``chat_model`` and
    ``embedder`` replace the configured ones (tests pass fakes).

    The build writes through the run ledger: each chunk's extraction is committed as it
    finishes, chunks are marked checked and stored as the later stages finish. A build that
    dies leaves its run open; the same build again resumes it under the same run id, reads
    the finished chunks back and replays the idempotent store writes. ``labels`` (a labels
    file) checks the stored confidence: the report gets its ECE and a reliability diagram."""
    logger = get_run_logger()
    wanted = read_labels(labels) if labels is not None else None
    clock = build.StageClock()
    with clock.stage("ingest"):
        # read a window at a time and chunked as it is read; a bad file fails the build
        # (VERIKG_ON_BAD_DOCUMENT=fail) or is skipped, reported and quarantined (skip)
        corpus_read = tasks.read_corpus(corpus, settings)
        documents, chunks = corpus_read.documents, corpus_read.chunks
        if corpus_read.skipped:
            logger.warning("build: %d file(s) of %s skipped (%s)", len(corpus_read.skipped),
                           corpus, "; ".join(s.detail for s in corpus_read.skipped[:5]))
    with clock.stage("ontology"):
        ontology, new_ontology = _ontology(ontology_path, settings)
    chunk_ids = [c.id for c in chunks]
    with clients.make_store(settings, create=True) as store, \
            clients.make_ledger(settings) as ledger:
        # the store keeps the ontology it is built with (a new one replaces it, audited):
        # later commands use it when given no --ontology
        if new_ontology:
            clients.record_ontology(store, ontology)
        contract = TripleContract(load_contract("extraction"))
        llm = chat_model or clients.make_chat_model(settings, ontology)
        extractor = LLMExtractor(llm, contract, samples=settings.samples,
                                 max_retries=settings.max_retries)
        key = build.build_key(store, chunks, ontology, extractor, contract)
        # the run's lease first: a second build of the same run stops here, having written
        # nothing (BuildInProgressError names the build that holds it)
        with build.ledger_run(ledger, key, store=store.descriptor) as run:
            with clock.stage("store_documents"):
                new_docs = tasks.store_documents(store, documents, chunks)
                tasks.quarantine_skipped(store, corpus_read, run.run_id)
            with clock.stage("extract"):
                done = ledger.extractions(run.run_id)
                if run.resumed:
                    logger.info("build %s: resuming (attempt %d), %d of %d chunks already "
                                "extracted", run.run_id, run.attempts, len(done), len(chunks))
                extractions = extract_all(extractor, chunks, ontology, run.run_id, settings,
                                          ledger, done, progress)
            confidence = ConfidenceModel.from_spec(contract.spec)
            with clock.stage("confidence"):
                scored = tasks.score_assertions(extractions, ontology, confidence)
            with clock.stage("graph_checks"):
                checked = tasks.check_graph(scored, ontology, contract, chunks, settings,
                                            embedder)
                ledger.mark(run.run_id, chunk_ids, ChunkStage.CHECKED)
            with clock.stage("store"):
                new_assertions = tasks.store_assertions(
                    store, checked.graph, ontology, run.run_id, progress,
                    settings.store_batch_size, confidence)
                clients.make_merge_log(settings).append(checked.merges, run.run_id)
                ledger.mark(run.run_id, chunk_ids, ChunkStage.STORED)
            with clock.stage("index"):
                index_size = tasks.build_index(store, ontology, settings, embedder)
                if progress:
                    progress("index", 1, 1)
            calibration = None if wanted is None else check_calibration(
                wanted, store.assertions(), confidence,
                clients.DataDir.of(settings).calibration_plot,
                bins=contract.spec.confidence.calibration_bins)
            report = build.build_report(
                run=run, store=store, documents=documents, new_documents=new_docs,
                skipped=corpus_read.skipped,
                chunks=chunks, extractions=extractions, checked=checked, contract=contract,
                new_assertions=new_assertions, index_size=index_size,
                stage_seconds=clock.seconds, resumed_chunks=len(done), calibration=calibration)
    logger.info("build %s: %d accepted, %d quarantined, %d new assertions", report.run_id,
                report.accepted, report.quarantined, report.new_assertions)
    return report


@flow(name="build_kg")
def build_kg(corpus: str = "data/sample", ontology: str | None = "ontologies/space",
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
        ontology: ontology file or folder; None: the one the store recorded at its last
            build
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
    report = run_build(Path(corpus), Path(ontology) if ontology else None, chosen,
                       progress=progress,
                       chat_model=chat_model, embedder=embedder,
                       labels=Path(labels) if labels else None)
    with clients.make_store(chosen) as graph:
        publish_build_artifacts(report, build.graph_confidences(graph))
    return report


__all__ = ["build_kg", "run_build"]
