"""Embeddings and exact filtered vector search over the knowledge graph.

``Embedder`` (``SentenceTransformerEmbedder``: offline MiniLM by default, with a persistent
cache) turns text into vectors; ``VectorIndex`` does exact top-k under ``where`` filters
(parsed safely by ``parse_where``); ``KGIndex`` indexes a ``GraphStore``'s assertions and
entities, knows the store version it reflects, and takes deltas (``IndexDelta``) instead
of rebuilding when the store changes.
"""

from __future__ import annotations

from pipeline.index.base import Embedder, l2_normalise
from pipeline.index.embedder import SentenceTransformerEmbedder, default_model_path
from pipeline.index.kg_index import DeltaMismatchError, KGIndex, RefreshResult, StaleIndexError
from pipeline.index.vector_index import VectorIndex
from pipeline.index.where import CategoricalColumn, WhereExpr, compile_where, parse_where

__all__ = [
    "CategoricalColumn",
    "DeltaMismatchError",
    "Embedder",
    "KGIndex",
    "RefreshResult",
    "SentenceTransformerEmbedder",
    "StaleIndexError",
    "VectorIndex",
    "WhereExpr",
    "compile_where",
    "default_model_path",
    "l2_normalise",
    "parse_where",
]
