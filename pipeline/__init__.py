"""VeriKG's library: build a knowledge graph you can trust from documents, change it with KGCL,
and query it. These are the names a user needs; everything else is reachable by its module
(see ``docs/architecture.md`` for the map).

Read documents and an ontology::

    documents = load_documents("corpus/")             # .txt/.md files → Document
    chunks = SentenceChunker().chunk_all(documents)   # → Chunk, spans kept
    ontology = load_ontology("ontology.ttl")          # → Ontology
    issues = check_ontology(ontology)                 # → [OntologyIssue], errors first

Open a store (embedded SQLite by default, Neo4j by a Bolt URI), index it and retrieve::

    with open_store("sqlite:graph.sqlite") as store:
        embedder = SentenceTransformerEmbedder()      # offline MiniLM, shipped in a package
        index = KGIndex.build(store, embedder, ontology=ontology)
        retriever = HybridRetriever(store, index, embedder)
        hits = retriever.search("Who founded it?", k=5, where="confidence >= 0.5")

Change it with KGCL, atomically, audited, and the index kept in step::

    apply_to_store('rename ex:a from "Old" to "New"', store, ontology,
                   actor="ada", role="curator", index=index)

Every error VeriKG raises on purpose is a ``VeriKGError`` (the tree is in ``pipeline.errors``).
The names load on first use, so ``import pipeline`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.contracts import TripleContract, load_contract
    from pipeline.embeddings import Embedder, SentenceTransformerEmbedder
    from pipeline.errors import VeriKGError
    from pipeline.extract import LLMExtractor
    from pipeline.index import KGIndex
    from pipeline.ingest import SentenceChunker, load_documents
    from pipeline.kgcl import apply_to_graph, apply_to_store, parse_change_request
    from pipeline.models import Assertion, Chunk, Document, Ontology, Triple
    from pipeline.ontology import check_ontology, load_ontology
    from pipeline.retrieval import HybridRetriever
    from pipeline.settings import Settings
    from pipeline.store import GraphStore, open_store

#: public name → the module that defines it
_EXPORTS: dict[str, str] = {
    # inputs
    "load_documents": "pipeline.ingest",
    "SentenceChunker": "pipeline.ingest",
    "load_ontology": "pipeline.ontology",
    "check_ontology": "pipeline.ontology",
    # extraction under a contract
    "load_contract": "pipeline.contracts",
    "TripleContract": "pipeline.contracts",
    "LLMExtractor": "pipeline.extract",
    # the graph
    "open_store": "pipeline.store",
    "GraphStore": "pipeline.store",
    # retrieval
    "Embedder": "pipeline.embeddings",
    "SentenceTransformerEmbedder": "pipeline.embeddings",
    "KGIndex": "pipeline.index",
    "HybridRetriever": "pipeline.retrieval",
    # changes
    "parse_change_request": "pipeline.kgcl",
    "apply_to_store": "pipeline.kgcl",
    "apply_to_graph": "pipeline.kgcl",
    # the types a user holds
    "Document": "pipeline.models",
    "Chunk": "pipeline.models",
    "Ontology": "pipeline.models",
    "Triple": "pipeline.models",
    "Assertion": "pipeline.models",
    "Settings": "pipeline.settings",
    "VeriKGError": "pipeline.errors",
}

__all__ = [
    "Assertion",
    "Chunk",
    "Document",
    "Embedder",
    "GraphStore",
    "HybridRetriever",
    "KGIndex",
    "LLMExtractor",
    "Ontology",
    "SentenceChunker",
    "SentenceTransformerEmbedder",
    "Settings",
    "Triple",
    "TripleContract",
    "VeriKGError",
    "apply_to_graph",
    "apply_to_store",
    "check_ontology",
    "load_contract",
    "load_documents",
    "load_ontology",
    "open_store",
    "parse_change_request",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
