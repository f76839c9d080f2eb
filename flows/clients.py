"""The composition root: every client a flow or a command needs, built from ``Settings``.

This module — and only this one — opens stores, builds chat models and embedders, opens the
index, the run ledger and the merge log, and names the files under the data directory
(``DataDir``). Library stages take these objects as arguments; flows and the command line get
them from here, so a secret is resolved (``flows.secrets``) and a path spelled in one place.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from rdflib import Graph

from flows.secrets import resolve_secrets
from pipeline.embeddings import Embedder, SentenceTransformerEmbedder
from pipeline.errors import VectorIndexError
from pipeline.extract.prompt import extraction_json_schema
from pipeline.index import KGIndex
from pipeline.index.int8_scan import KernelConfig
from pipeline.index.kg_index import MANIFEST
from pipeline.ledger import RunLedger
from pipeline.llm import SQLiteLLMCache, build_chat_model
from pipeline.models import Ontology
from pipeline.ontology.checks.cqs import kg_graph, kg_source
from pipeline.resolve.merge_log import MergeLog
from pipeline.settings import EMBEDDED_STORE_FILE, Settings
from pipeline.store import GraphStore, open_store

K = TypeVar("K")


@dataclass(frozen=True)
class DataDir:
    """The data directory (``VERIKG_DATA_DIR``) and every file and folder kept in it."""

    root: Path

    @classmethod
    def of(cls, settings: Settings) -> DataDir:
        return cls(Path(settings.data_dir))

    @property
    def store(self) -> Path:
        """The embedded SQLite store (``Settings.store_descriptor`` for a bare ``sqlite:``)."""
        return self.root / EMBEDDED_STORE_FILE

    @property
    def ledger(self) -> Path:
        """The run ledger: what each build has done, so a rerun resumes it."""
        return self.root / "ledger.sqlite"

    @property
    def merges(self) -> Path:
        """The merge log: every entity merge the builds made, and the undone ones."""
        return self.root / "merges.jsonl"

    @property
    def index(self) -> Path:
        """The knowledge-graph index (its manifest and vectors)."""
        return self.root / "index"

    @property
    def llm_cache(self) -> Path:
        """The LLM's answers, so a rerun never asks twice."""
        return self.root / "llm_cache.sqlite"

    @property
    def embedding_cache(self) -> Path:
        return self.root / "embedding_cache.sqlite"

    @property
    def calibration_plot(self) -> Path:
        """The reliability diagram of a build checked against labels."""
        return self.root / "calibration.png"

    @property
    def prefect_results(self) -> Path:
        """Cached results of the deterministic tasks (an absolute path: Prefect's storage)."""
        return self.root.resolve() / "prefect-results"

    def create(self) -> DataDir:
        self.root.mkdir(parents=True, exist_ok=True)
        return self


def make_store(settings: Settings) -> GraphStore:
    """An opened store for ``settings.store`` (embedded SQLite unless a Bolt URI is given),
    its password taken from a Prefect Secret block when one is named."""
    DataDir.of(settings).create()
    return open_store(settings.store_descriptor(),
                      resolve_secrets(settings, ("neo4j_password",)))


@contextmanager
def open_kg(spec: str) -> Iterator[Graph]:
    """The knowledge graph ``spec`` names (``kg_source``: an RDF file, a SQLite store file,
    ``sqlite:PATH`` or a Bolt URI) as an rdflib graph of instance data; a store is opened for
    the export and closed afterwards. Raises an ``OntologyError`` (or the store's own error)
    with a clear message when it cannot be read."""
    source = kg_source(spec)
    if isinstance(source, Graph):
        yield source
        return
    with open_store(source) as store:
        yield kg_graph(store)


def make_ledger(settings: Settings) -> RunLedger:
    """The run ledger of the data directory (created on first use)."""
    return RunLedger(DataDir.of(settings).ledger)


def make_merge_log(settings: Settings) -> MergeLog:
    """The merge log of the data directory."""
    return MergeLog(DataDir.of(settings).merges)


def make_chat_model(settings: Settings, ontology: Ontology) -> BaseChatModel:
    """The extraction LLM, its answers shaped by the ontology's schema (predicates limited to
    its labels where the backend enforces schemas), with a persistent response cache so a
    rerun never asks twice."""
    where = DataDir.of(settings).create()
    return build_chat_model(resolve_secrets(settings, ("llm_api_key",)),
                            json_schema=extraction_json_schema(ontology),
                            cache=SQLiteLLMCache(where.llm_cache))


def make_chat_models(settings: Settings, schemas: Mapping[K, dict[str, Any]], *,
                     temperature: float, max_tokens: int) -> dict[K, BaseChatModel]:
    """The configured LLM once per JSON schema in ``schemas`` (a backend that enforces
    schemas gets the right one), sampling at ``temperature`` with at least ``max_tokens``,
    answering from the data directory's LLM cache what it was asked before."""
    where = DataDir.of(settings).create()
    tuned = resolve_secrets(settings).model_copy(update={
        "llm_temperature": temperature,
        "llm_max_tokens": max(settings.llm_max_tokens, max_tokens)})
    cache = SQLiteLLMCache(where.llm_cache)
    return {key: build_chat_model(tuned, json_schema=schema, cache=cache)
            for key, schema in schemas.items()}


def embedding_bar(total: int) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A Rich progress bar on stderr for one long embedding call: (per-batch update, stop)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn("embedding"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), console=Console(stderr=True), transient=True)
    task = bar.add_task("embedding", total=total)
    bar.start()
    return (lambda done, _total: bar.update(task, completed=done)), bar.stop


def make_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(settings.embedding_model or None, device=settings.device,
                                       batch_size=settings.embedding_batch_size,
                                       cache_path=DataDir.of(settings).embedding_cache,
                                       precision=settings.embedding_precision,
                                       bar=embedding_bar)


def make_int8_kernel(settings: Settings) -> KernelConfig:
    """Whether and where the vector index's int8 scan kernel is built."""
    return KernelConfig(enabled=settings.int8_kernel,
                        cache_dir=Path(settings.kernel_cache) if settings.kernel_cache else None)


def open_index(settings: Settings, store: GraphStore, embedder: Embedder,
               ontology: Ontology | None) -> tuple[KGIndex, bool]:
    """The saved index if it was built with this embedder, else a new one built from
    ``store``; the flag says whether it must be saved (new, or refreshed because stale)."""
    directory = DataDir.of(settings).index
    if (directory / MANIFEST).exists():
        try:
            index = KGIndex.load(directory, ontology=ontology,
                                 int8_kernel=make_int8_kernel(settings))
        except VectorIndexError as exc:
            # a process killed while saving leaves the manifest and the vectors disagreeing:
            # the store is the truth, so the index is rebuilt from it
            logging.getLogger(__name__).warning("rebuilding the index: %s", exc)
        else:
            if index.model_id == embedder.model_id:
                return index, index.refresh(store, embedder=embedder)
    return KGIndex.build(store, embedder, ontology=ontology,
                         int8_kernel=make_int8_kernel(settings)), True


def saved_index(settings: Settings, store: GraphStore, embedder: Embedder | None,
                ontology: Ontology | None) -> KGIndex | None:
    """The index saved in the data directory if it was built from ``store`` with this
    embedder's model (the configured one when ``embedder`` is None); None otherwise (an
    index of another store is left alone)."""
    directory = DataDir.of(settings).index
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("store") != store.descriptor:
        return None
    chosen = embedder or make_embedder(settings)
    if manifest.get("model_id") != chosen.model_id:
        return None
    return KGIndex.load(directory, chosen, ontology=ontology,
                        int8_kernel=make_int8_kernel(settings))


def save_index(settings: Settings, index: KGIndex) -> Path:
    """Save ``index`` as the data directory's index."""
    return index.save(DataDir.of(settings).index)


__all__ = ["DataDir", "embedding_bar", "make_chat_model", "make_chat_models", "make_embedder",
           "make_int8_kernel", "make_ledger", "make_merge_log", "make_store", "open_index",
           "open_kg", "save_index", "saved_index"]
