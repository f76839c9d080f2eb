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
from typing import TYPE_CHECKING, Any, TypeVar

from rdflib import Graph

from flows.secrets import resolve_secrets
from pipeline.embeddings import Embedder, SentenceTransformerEmbedder
from pipeline.errors import MissingOntologyError, OntologyError, VectorIndexError
from pipeline.index import KGIndex
from pipeline.index.int8_scan import KernelConfig
from pipeline.index.kg_index import MANIFEST
from pipeline.ledger import RunLedger
from pipeline.models import Ontology
from pipeline.ontology import load_ontology
from pipeline.ontology.checks.cqs import kg_graph, kg_source
from pipeline.ontology.loader import ontology_from_graph, parse_graph
from pipeline.resolve.merge_log import MergeLog
from pipeline.settings import EMBEDDED_STORE_FILE, Settings
from pipeline.store import GraphStore, RecordedOntology, open_store

if TYPE_CHECKING:  # the LLM stack loads when a chat model is made, not for every command
    from langchain_core.language_models import BaseChatModel

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


def make_store(settings: Settings, *, create: bool = False) -> GraphStore:
    """An opened store for ``settings.store`` (embedded SQLite unless a Bolt URI is given),
    its password taken from a Prefect Secret block when one is named.

    Only a build (``create=True``) makes a new store; every other command opens an existing
    one, so a mistyped path is a ``StoreNotFoundError``, never a new, empty store."""
    if create:
        DataDir.of(settings).create()
    return open_store(settings.store_descriptor(),
                      resolve_secrets(settings, ("neo4j_password",)), create=create)


def recorded_ontology(ontology: Ontology) -> RecordedOntology:
    """What a store keeps of ``ontology`` (loaded from a file): the file's text as Turtle
    (a Turtle file verbatim, comments and all; another syntax converted), its absolute path
    and the SHA-256 of its bytes."""
    path = Path(ontology.source)
    text = path.read_text(encoding="utf-8") if path.suffix.lower() in (".ttl", ".turtle") \
        else parse_graph(path).serialize(format="turtle")
    return RecordedOntology(source=text, path=str(path.resolve()), sha256=ontology.sha256)


def record_ontology(store: GraphStore, ontology: Ontology, *, actor: str = "build") -> bool:
    """Keep ``ontology`` in ``store`` as the one it was built with (audited when it
    changes): later commands use it when given no ``--ontology``."""
    return store.record_ontology(recorded_ontology(ontology), actor=actor)


def store_ontology(store: GraphStore) -> Ontology | None:
    """The ontology recorded in ``store`` by its build, or None."""
    recorded = store.ontology_source()
    if recorded is None:
        return None
    graph = Graph()
    try:
        graph.parse(data=recorded.source, format="turtle")
    except Exception as exc:  # rdflib raises many kinds; the text was valid when recorded
        raise OntologyError(f"the ontology recorded in {store.descriptor} ({recorded.path}) "
                            f"cannot be read back: {exc}; pass --ontology PATH") from exc
    return ontology_from_graph(graph, source=recorded.path, sha256=recorded.sha256)


def resolve_ontology(store: GraphStore, path: Path | str | None) -> Ontology:
    """The ontology at ``path`` when one is given, else the one recorded in ``store``;
    ``MissingOntologyError`` when there is neither."""
    if path is not None:
        return load_ontology(path)
    found = store_ontology(store)
    if found is None:
        raise MissingOntologyError(f"the store {store.descriptor} has no ontology recorded "
                                   "(it was built before stores kept theirs); pass --ontology "
                                   "PATH")
    return found


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
    with open_store(source, create=False) as store:
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
    from pipeline.extract.prompt import extraction_json_schema
    from pipeline.llm import SQLiteLLMCache, build_chat_model

    where = DataDir.of(settings).create()
    return build_chat_model(resolve_secrets(settings, ("llm_api_key",)),
                            json_schema=extraction_json_schema(ontology),
                            cache=SQLiteLLMCache(where.llm_cache))


def make_chat_models(settings: Settings, schemas: Mapping[K, dict[str, Any]], *,
                     temperature: float, max_tokens: int) -> dict[K, BaseChatModel]:
    """The configured LLM once per JSON schema in ``schemas`` (a backend that enforces
    schemas gets the right one), sampling at ``temperature`` with at least ``max_tokens``,
    answering from the data directory's LLM cache what it was asked before."""
    from pipeline.llm import SQLiteLLMCache, build_chat_model

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
                        cache_dir=Path(settings.kernel_cache) if settings.kernel_cache else None,
                        march=settings.int8_march)


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
           "open_kg", "record_ontology", "recorded_ontology", "resolve_ontology", "save_index",
           "saved_index", "store_ontology"]
