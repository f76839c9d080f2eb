"""Answering hybrid queries over the built graph (text + an attribute predicate)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.clients import (
    make_embedder,
    make_store,
    open_index,
    resolve_ontology,
    save_index,
    store_ontology,
)
from pipeline.errors import ConfigurationError
from pipeline.models import Frozen
from pipeline.retrieval import Hit, HybridRetriever
from pipeline.settings import Settings


class Query(Frozen):
    text: str
    where: str | None = None
    about: str = ""
    k: int = 5


class QueryAnswer(Frozen):
    query: Query
    hits: tuple[Hit, ...]


def load_queries(path: Path) -> list[Query]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return [Query.model_validate(q) for q in raw]
    except Exception as exc:
        raise ConfigurationError(f"{path}: cannot read queries: {exc}") from exc


@task(name="answer_queries", cache_policy=NO_CACHE)
def answer_queries(queries: Sequence[Query], settings: Settings,
                   ontology_path: Path | None = None) -> list[QueryAnswer]:
    store = make_store(settings)
    try:
        # the ontology given, else the one the store was built with (labels for the index
        # rows and for ``where``: predicate == "located in")
        ontology = (resolve_ontology(store, ontology_path) if ontology_path
                    else store_ontology(store))
        embedder = make_embedder(settings)
        index, changed = open_index(settings, store, embedder, ontology)
        retriever = HybridRetriever(store, index, embedder, ontology=ontology)
        before = index.version
        answers = [QueryAnswer(query=q, hits=tuple(retriever.search(q.text, k=q.k,
                                                                    where=q.where)))
                   for q in queries]
        if changed or index.version != before:
            save_index(settings, index)  # keep what was built or refreshed
        return answers
    finally:
        store.close()


@flow(name="query_kg")
def query_kg(text: str, where: str | None = None, k: int = 5,
             ontology: str | None = None) -> list[QueryAnswer]:
    """Hybrid retrieval over the knowledge graph: ``text`` ranked by meaning, ``where`` exact;
    ``ontology`` defaults to the one the store was built with."""
    return answer_queries([Query(text=text, where=where, k=k)], Settings(),
                          Path(ontology) if ontology else None)
