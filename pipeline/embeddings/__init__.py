"""Embeddings: the ``Embedder`` interface (text in, unit-length float32 vectors out) and the
default ``SentenceTransformerEmbedder`` (the MiniLM model shipped in a package, loaded offline,
with a persistent cache). Entity resolution, ontology design, the KG index and retrieval all
see only the interface."""

from __future__ import annotations

from pipeline.embeddings.base import Embedder, l2_normalise
from pipeline.embeddings.embedder import SentenceTransformerEmbedder, default_model_path

__all__ = ["Embedder", "SentenceTransformerEmbedder", "default_model_path", "l2_normalise"]
