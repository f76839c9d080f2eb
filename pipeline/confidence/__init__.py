"""Confidence: agreement across samples, reinforcement across sources, soft-check penalties,
calibration."""

from pipeline.confidence.agreement import (
    AgreementScorer,
    confidence_of,
    most_specific,
    reinforce,
)
from pipeline.confidence.base import ConfidenceScorer
from pipeline.confidence.scoring import AGREEMENT_ONLY, ConfidenceModel, chunk_supports, noisy_or

__all__ = [
    "AGREEMENT_ONLY",
    "AgreementScorer",
    "ConfidenceModel",
    "ConfidenceScorer",
    "chunk_supports",
    "confidence_of",
    "most_specific",
    "noisy_or",
    "reinforce",
]
