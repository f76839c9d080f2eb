"""Extraction interface and its result models."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Annotated

from pydantic import Field

from pipeline.contracts.runner import AcceptedTriple
from pipeline.models import AttemptRecord, Chunk, Frozen, Ontology, QuarantinedCandidate, RunId


class SampleResult(Frozen):
    """One independent sample of the extraction step for a chunk, after its retries."""

    sample_index: Annotated[int, Field(ge=0)]
    attempts: Annotated[int, Field(ge=1)]
    accepted: tuple[AcceptedTriple, ...] = ()
    quarantined: tuple[QuarantinedCandidate, ...] = ()
    #: how often each check failed across this sample's attempts (contract statistics)
    check_failures: dict[str, int] = Field(default_factory=dict)
    proposed: int = 0
    #: every attempt: model, prompt version and the violations found (provenance of retries)
    history: tuple[AttemptRecord, ...] = ()


class ChunkExtraction(Frozen):
    chunk: Chunk
    model: str
    prompt_version: str
    contract: str
    run_id: RunId
    samples: tuple[SampleResult, ...]
    #: when the extraction ran (the provenance's "seen at")
    extracted_at: datetime | None = None


class Extractor(ABC):
    """Proposes triples for a chunk under an ontology, k samples, each contract-checked."""

    @abstractmethod
    def extract(self, chunk: Chunk, ontology: Ontology, *, run_id: RunId) -> ChunkExtraction: ...
