"""The stored confidence of a statement: agreement, independent sources, soft-check outcomes,
calibrated.

``raw`` = noisy-OR over the chunks that state the triple of each chunk's sample agreement
(``chunk_supports``: the share of the chunk's samples that made the statement, each weighted by
how far the chunk's other samples corroborate that sample's other statements), times the
contract's ``penalty`` of every soft check the statement failed (each check once). The stored
confidence is ``raw`` passed through the contract's calibration map (isotonic, fitted on
labelled statements: ``verikg calibrate``), so that a confidence of 0.7 means "right about 70%
of the time" on data like the map's. Without a map the raw value is stored. Everything a build
stores goes through one ``ConfidenceModel``: the scorer, the graph checks after they flag
statements, reinforcement across runs and merges.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Annotated

from pydantic import Field

from pipeline.contracts.spec import DEFAULT_PENALTY, ContractSpec
from pipeline.models import CalibrationMap, ChunkId, Frozen, Provenance, Severity, Violation


def noisy_or(supports: Sequence[float]) -> float:
    miss = 1.0
    for s in supports:
        miss *= 1.0 - min(max(s, 0.0), 1.0)
    return 1.0 - miss


#: how much an uncorroborated sample's vote is discounted: a sample none of whose other
#: statements another sample confirms counts 1 - CORROBORATION_WEIGHT of a vote
CORROBORATION_WEIGHT = 0.5


def chunk_supports(provenance: Sequence[Provenance]) -> list[float]:
    """One support per chunk: the samples of every model on that chunk taken together, each
    agreeing sample weighted by how far the chunk's other samples corroborate it.

    ``samples_total`` of a provenance is every sample drawn on its chunk (all models), and
    ``samples_agreeing`` this model's share of them, so the support of a chunk is the weighted
    sum of its provenances' agreeing samples over that total. A weight is
    ``1 - w + w * corroboration`` (``w`` = ``CORROBORATION_WEIGHT``): a sample whose statements
    the others confirm is a full vote, one the others never confirm half a vote."""
    agreeing: dict[ChunkId, float] = defaultdict(float)
    total: dict[ChunkId, int] = defaultdict(int)
    for p in provenance:
        weight = 1.0 - CORROBORATION_WEIGHT + CORROBORATION_WEIGHT * p.corroboration
        agreeing[p.chunk_id] += p.samples_agreeing * weight
        total[p.chunk_id] = max(total[p.chunk_id], p.samples_total)
    return [min(agreeing[c] / total[c], 1.0) for c in sorted(total)]


class ConfidenceModel(Frozen):
    """How raw evidence becomes the confidence a store holds."""

    #: the factor each soft check's failure multiplies the raw confidence by
    penalties: Mapping[str, float] = {}
    default_penalty: Annotated[float, Field(ge=0, le=1)] = DEFAULT_PENALTY
    calibration: CalibrationMap | None = None

    @classmethod
    def from_spec(cls, spec: ContractSpec) -> ConfidenceModel:
        return cls(penalties=spec.penalties(), calibration=spec.calibration_map)

    def uncalibrated(self) -> ConfidenceModel:
        return self.model_copy(update={"calibration": None})

    def penalty(self, violations: Sequence[Violation]) -> float:
        factor = 1.0
        for check in sorted({v.check for v in violations if v.severity is Severity.SOFT}):
            factor *= self.penalties.get(check, self.default_penalty)
        return factor

    def raw(self, provenance: Sequence[Provenance], violations: Sequence[Violation] = (),
            *, extra: Sequence[float] = ()) -> float:
        """Agreement and sources (noisy-OR; ``extra`` are further independent supports, e.g.
        the confidence of a merged-in assertion without provenance), times the penalties."""
        return noisy_or([*chunk_supports(provenance), *extra]) * self.penalty(violations)

    def calibrate(self, raw: float) -> float:
        value = self.calibration.apply(raw) if self.calibration is not None else raw
        return round(min(max(value, 0.0), 1.0), 6)

    def score(self, provenance: Sequence[Provenance], violations: Sequence[Violation] = (),
              *, extra: Sequence[float] = ()) -> float:
        """The confidence to store (rounded for stable storage)."""
        return self.calibrate(self.raw(provenance, violations, extra=extra))


#: raw agreement, no penalties, no calibration
AGREEMENT_ONLY = ConfidenceModel(default_penalty=1.0)

__all__ = ["AGREEMENT_ONLY", "ConfidenceModel", "chunk_supports", "noisy_or"]
