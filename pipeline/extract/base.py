"""Extraction interface and its result models."""

from __future__ import annotations

from abc import ABC, abstractmethod

from pipeline.models import (
    Chunk,
    ChunkExtraction,
    Ontology,
    RunId,
)


class Extractor(ABC):
    """Proposes triples for a chunk under an ontology, k samples, each contract-checked."""

    @abstractmethod
    def extract(self, chunk: Chunk, ontology: Ontology, *, run_id: RunId) -> ChunkExtraction: ...
