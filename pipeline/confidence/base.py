"""Confidence interface: from contract-checked samples to scored assertions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from pipeline.models import (
    ChunkExtraction,
    Ontology,
    ScoredGraph,
)


class ConfidenceScorer(ABC):
    @abstractmethod
    def score(self, extractions: Sequence[ChunkExtraction], ontology: Ontology) -> ScoredGraph:
        """Assemble assertions (typed entities, provenance) with a confidence in [0, 1]."""
