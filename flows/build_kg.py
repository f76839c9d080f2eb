"""The ``build_kg`` flow: documents → chunks → contract-checked extraction → confidence →
store (draft) → index. The one place where the order of the build is written down.

Every task is a thin call into ``pipeline``. Clients (store, LLM, embedder) are built here from
``Settings`` and passed to the stages. A rerun over the same documents adds nothing: ids are
content hashes, the store merges, and the LLM cache answers the same prompts again.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.clients import index_dir, make_chat_model, make_embedder, make_store, open_index
from flows.merges import MergeLog
from pipeline.confidence import AgreementScorer, ScoredGraph, reinforce
from pipeline.contracts import TripleContract, load_contract
from pipeline.contracts.graph_checks import resolve_functional_conflicts
from pipeline.contracts.graph_contract import GraphCheckResult, run_graph_contract
from pipeline.contracts.stats import ContractStats, contract_stats
from pipeline.errors import OntologyError
from pipeline.extract import ChunkExtraction, LLMExtractor
from pipeline.ingest import SentenceChunker, TextFileLoader
from pipeline.models import Assertion, AssertionId, Chunk, Document, Frozen, Ontology, RunId
from pipeline.ontology import check_ontology, load_ontology
from pipeline.resolve import MergeRecord
from pipeline.settings import Settings
from pipeline.store import GraphStore
from pipeline.store.base import SetStatus

#: called as ``progress(stage, done, total)`` while long stages run (the CLI draws bars)
ProgressFn = Callable[[str, int, int], None]


class BuildReport(Frozen):
    run_id: str
    store: str
    documents: int
    new_documents: int
    chunks: int
    proposed: int
    accepted: int
    quarantined: int
    quarantined_by_reason: dict[str, int]
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


@task(name="store_documents", cache_policy=NO_CACHE)
def store_documents(store: GraphStore, documents: Sequence[Document],
                    chunks: Sequence[Chunk]) -> int:
    return store.upsert_documents(documents, chunks).created


@task(name="extract_chunk", cache_policy=NO_CACHE)
def extract_chunk(extractor: LLMExtractor, chunk: Chunk, ontology: Ontology,
                  run_id: str) -> ChunkExtraction:
    return extractor.extract(chunk, ontology, run_id=RunId(run_id))


@task(name="score_assertions", cache_policy=NO_CACHE)
def score_assertions(extractions: Sequence[ChunkExtraction], ontology: Ontology) -> ScoredGraph:
    return AgreementScorer().score(extractions, ontology)


@task(name="check_graph", cache_policy=NO_CACHE)
def check_graph(scored: ScoredGraph, ontology: Ontology, contract: TripleContract,
                chunks: Sequence[Chunk], settings: Settings) -> GraphCheckResult:
    """The contract's graph section: entity resolution, domain/range, functional conflicts,
    SHACL, islands (see ``contracts/extraction.yaml``)."""
    policy = contract.spec.entity_resolution
    embedder = make_embedder(settings) if policy.use_embeddings else None
    return run_graph_contract(scored, ontology, contract.spec,
                              texts=[c.text for c in chunks], embedder=embedder,
                              undone=MergeLog.of(settings).undone())


@task(name="store_assertions", cache_policy=NO_CACHE)
def store_assertions(store: GraphStore, scored: ScoredGraph, ontology: Ontology,
                     run_id: str) -> int:
    # quarantine first: if the assertion write fails, a rerun still finds every reason stored
    store.write_quarantine(scored.quarantined)
    if not scored.assertions:
        return 0
    # what earlier runs found reinforces what this one finds (noisy-OR across chunks)
    stored = {a.id: a for a in store.assertions()}
    batch = reinforce(scored.assertions, stored)
    batch, changes = contest_across_runs(batch, stored, ontology, run_id)
    created = store.write_assertions(batch).created
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


@task(name="build_index", cache_policy=NO_CACHE)
def build_index(store: GraphStore, ontology: Ontology, settings: Settings) -> int:
    index, changed = open_index(settings, store, make_embedder(settings), ontology)
    if changed:
        index.save(index_dir(settings))
    return index.size


def run_build(corpus: Path, ontology_path: Path, settings: Settings, *,
              progress: ProgressFn | None = None,
              chat_model: BaseChatModel | None = None) -> BuildReport:
    """The build, stage by stage; ``build_kg`` is this as a Prefect flow. ``chat_model``
    replaces the one the settings name (tests pass langchain-core's fake chat models)."""
    logger = get_run_logger()
    timings: dict[str, float] = {}
    run_id = f"run-{uuid.uuid4().hex[:12]}"

    @contextmanager
    def stage(name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        timings[name] = round(time.perf_counter() - started, 3)

    with stage("ingest"):
        documents = load_documents(corpus)
        chunks = chunk_documents(documents, settings.chunk_chars)
    with stage("ontology"):
        ontology = load_checked_ontology(ontology_path)

    store = make_store(settings)
    try:
        with stage("store_documents"):
            new_docs = store_documents(store, documents, chunks)
        with stage("extract"):
            contract = TripleContract(load_contract("extraction"))
            extractor = LLMExtractor(chat_model or make_chat_model(settings, ontology), contract,
                                     samples=settings.samples, max_retries=settings.max_retries)
            extractions: list[ChunkExtraction] = []
            for i, chunk in enumerate(chunks):
                extractions.append(extract_chunk(extractor, chunk, ontology, run_id))
                if progress:
                    progress("extract", i + 1, len(chunks))
        with stage("confidence"):
            scored = score_assertions(extractions, ontology)
        with stage("graph_checks"):
            checked = check_graph(scored, ontology, contract, chunks, settings)
            scored = checked.graph
        with stage("store"):
            new_assertions = store_assertions(store, scored, ontology, run_id)
            MergeLog.of(settings).append(checked.merges, run_id)
        with stage("index"):
            index_size = build_index(store, ontology, settings)

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
            check_failures=dict(sorted(failures.items())),
            entities=counts.entities, new_assertions=new_assertions,
            assertions_in_store=counts.assertions, index_size=index_size,
            contract=contract_stats(extractions, contract.spec, checked.failures),
            merges=checked.merges, contested=sum(len(c.losers) for c in checked.conflicts),
            islands=len(checked.islands), stage_seconds=timings)
        logger.info("build %s: %d accepted, %d quarantined, %d new assertions", run_id,
                    report.accepted, report.quarantined, report.new_assertions)
        return report
    finally:
        store.close()


@flow(name="build_kg")
def build_kg(corpus: str = "data/sample", ontology: str = "ontologies/space",
             settings: Settings | None = None, progress: ProgressFn | None = None,
             chat_model: BaseChatModel | None = None) -> BuildReport:
    """Build (or update) the knowledge graph from a corpus under an ontology.

    ``settings`` defaults to the environment (``VERIKG_*``); ``progress`` is an in-process
    callback for the command line's progress bars."""
    return run_build(Path(corpus), Path(ontology), settings or Settings(), progress=progress,
                     chat_model=chat_model)
