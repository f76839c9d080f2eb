"""The build's Prefect tasks, in the order ``flows/build_kg.py`` runs them: each a call into
``pipeline`` with its retry policy (``flows.policies``: retryable errors only), the clients it
needs coming from ``flows.clients``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from flows import clients
from flows.policies import llm_slot, retry_options
from pipeline import build, ingest
from pipeline.build import STORE_SLICE, ProgressFn
from pipeline.confidence import AgreementScorer, ConfidenceModel
from pipeline.contracts import TripleContract
from pipeline.embeddings import Embedder
from pipeline.extract import LLMExtractor
from pipeline.ingest import Corpus, SentenceChunker, TextFileLoader
from pipeline.models import (
    Chunk,
    ChunkExtraction,
    Document,
    GraphCheckResult,
    Ontology,
    RunId,
    ScoredGraph,
)
from pipeline.settings import Settings
from pipeline.store import GraphStore
from pipeline.verify import run_graph_checks


@task(name="read_corpus", cache_policy=NO_CACHE)
def read_corpus(corpus: Path, settings: Settings) -> Corpus:
    """The corpus's documents (a long file in parts, read a window at a time), chunked as
    they are read, and the files skipped (``VERIKG_ON_BAD_DOCUMENT``)."""
    loader = TextFileLoader(max_bytes=settings.max_document_bytes,
                            part_chars=settings.document_part_chars,
                            on_bad=settings.on_bad_document)
    return ingest.read_corpus(corpus, loader, SentenceChunker(max_chars=settings.chunk_chars))


@task(name="quarantine_skipped", cache_policy=NO_CACHE, **retry_options())
def quarantine_skipped(store: GraphStore, corpus: Corpus, run_id: str) -> int:
    """Keep the skipped files in the store's quarantine as documents with their reasons; a
    file read this time resolves its record of an earlier build (idempotent)."""
    return store.write_quarantine(
        ingest.skipped_quarantine(corpus.skipped, run_id),
        covered=ingest.loaded_scopes(corpus.documents, run_id)).created


@task(name="load_checked_ontology", cache_policy=NO_CACHE)
def load_checked_ontology(path: Path) -> Ontology:
    return build.checked_ontology(path)


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
    use_embeddings = contract.spec.entity_resolution.use_embeddings
    if use_embeddings and embedder is None:
        embedder = clients.make_embedder(settings)
    return run_graph_checks(scored, ontology, contract.spec, texts=[c.text for c in chunks],
                            embedder=embedder if use_embeddings else None,
                            undone=clients.make_merge_log(settings).undone())


@task(name="store_assertions", cache_policy=NO_CACHE, **retry_options())
def store_assertions(store: GraphStore, scored: ScoredGraph, ontology: Ontology,
                     run_id: str, progress: ProgressFn | None = None,
                     slice_size: int = STORE_SLICE,
                     confidence: ConfidenceModel | None = None) -> int:
    """Write a run's quarantine and assertions, reinforced and contested against the stored
    graph (``pipeline.build.store_run``; idempotent, so a retry ends in the same graph)."""
    return build.store_run(store, scored, ontology, run_id, progress=progress,
                           slice_size=slice_size, confidence=confidence)


@task(name="build_index", cache_policy=NO_CACHE, **retry_options())
def build_index(store: GraphStore, ontology: Ontology, settings: Settings,
                embedder: Embedder | None = None) -> int:
    chosen = embedder or clients.make_embedder(settings)
    index, changed = clients.open_index(settings, store, chosen, ontology)
    if changed:
        clients.save_index(settings, index)
    return index.size


__all__ = ["build_index", "check_graph", "extract_chunk", "load_checked_ontology",
           "quarantine_skipped", "read_corpus", "score_assertions", "store_assertions",
           "store_documents"]
