"""Building the clients each flow needs from ``Settings`` — the edge where I/O starts.

Library stages take these objects as arguments; only flows and the command line build them.
"""

from __future__ import annotations

import logging
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from flows.secrets import resolve_secrets
from pipeline.embeddings import Embedder, SentenceTransformerEmbedder
from pipeline.errors import IndexError_
from pipeline.extract.prompt import extraction_json_schema
from pipeline.index import KGIndex
from pipeline.llm import SQLiteLLMCache, build_chat_model
from pipeline.models import Ontology
from pipeline.settings import Settings
from pipeline.store import GraphStore, open_store


def make_store(settings: Settings) -> GraphStore:
    """An opened store for ``settings.store`` (embedded SQLite unless a Bolt URI is given)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_store(settings.store_descriptor(),
                      resolve_secrets(settings, ("neo4j_password",)))


def make_chat_model(settings: Settings, ontology: Ontology) -> BaseChatModel:
    """The extraction LLM, its answers shaped by the ontology's schema (predicates limited to
    its labels where the backend enforces schemas), with a persistent response cache so a
    rerun never asks twice."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return build_chat_model(resolve_secrets(settings, ("llm_api_key",)),
                            json_schema=extraction_json_schema(ontology),
                            cache=SQLiteLLMCache(settings.data_dir / "llm_cache.sqlite"))


def make_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(settings.embedding_model or None, device=settings.device,
                                       batch_size=settings.embedding_batch_size,
                                       cache_path=settings.data_dir / "embedding_cache.sqlite",
                                       precision=settings.embedding_precision)


def index_dir(settings: Settings) -> Path:
    return settings.data_dir / "index"


def open_index(settings: Settings, store: GraphStore, embedder: Embedder,
               ontology: Ontology | None) -> tuple[KGIndex, bool]:
    """The saved index if it was built with this embedder, else a new one built from
    ``store``; the flag says whether it must be saved (new, or refreshed because stale)."""
    directory = index_dir(settings)
    if (directory / "kg_index.json").exists():
        try:
            index = KGIndex.load(directory, ontology=ontology)
        except IndexError_ as exc:
            # a process killed while saving leaves the manifest and the vectors disagreeing:
            # the store is the truth, so the index is rebuilt from it
            logging.getLogger(__name__).warning("rebuilding the index: %s", exc)
        else:
            if index.model_id == embedder.model_id:
                return index, index.refresh(store, embedder=embedder)
    return KGIndex.build(store, embedder, ontology=ontology), True
