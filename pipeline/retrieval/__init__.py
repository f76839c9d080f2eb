"""Hybrid retrieval for RAG: vector similarity + exact attribute filters + graph expansion.

``HybridRetriever.search`` returns ``Hit`` objects (assertion or entity, evidence chunks,
neighbouring assertions); ``RetrievalContext.render`` turns them into prompt-ready text with
citations.
"""

from __future__ import annotations

from pipeline.retrieval.hybrid import HybridRetriever
from pipeline.retrieval.models import EvidenceChunk, Hit, RetrievalContext

__all__ = ["EvidenceChunk", "Hit", "HybridRetriever", "RetrievalContext"]
