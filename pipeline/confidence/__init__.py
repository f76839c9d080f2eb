"""Confidence: agreement across samples, reinforcement across sources."""

from pipeline.confidence.agreement import AgreementScorer, most_specific, noisy_or
from pipeline.confidence.base import ConfidenceScorer, ScoredGraph

__all__ = ["AgreementScorer", "ConfidenceScorer", "ScoredGraph", "most_specific", "noisy_or"]
