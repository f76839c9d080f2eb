"""Exact filtered vector search over the knowledge graph.

Vectors come from a ``pipeline.embeddings.Embedder``; ``VectorIndex`` does exact top-k under
``where`` filters
(parsed safely by ``parse_where``); ``KGIndex`` indexes a ``GraphStore``'s assertions and
entities, knows the store version it reflects, and takes deltas (``IndexDelta``) instead
of rebuilding when the store changes.
"""

from __future__ import annotations

from pipeline.index.kg_index import KGIndex, RefreshResult
from pipeline.index.vector_index import VectorIndex
from pipeline.index.where import CategoricalColumn, WhereExpr, compile_where, parse_where

__all__ = [
    "CategoricalColumn",
    "KGIndex",
    "RefreshResult",
    "VectorIndex",
    "WhereExpr",
    "compile_where",
    "parse_where",
]
