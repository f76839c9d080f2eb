"""Confidence: agreement across samples, reinforcement across sources."""

from pipeline.confidence.agreement import (
    AgreementScorer,
    confidence_of,
    most_specific,
    noisy_or,
    reinforce,
)
from pipeline.confidence.base import ConfidenceScorer, ScoredGraph

__all__ = ["AgreementScorer", "ConfidenceScorer", "ScoredGraph", "confidence_of", "most_specific",
           "noisy_or", "reinforce"]
