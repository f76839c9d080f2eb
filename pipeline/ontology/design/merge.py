"""Merging the panel's competency questions by embedding similarity.

Agents propose overlapping questions in different words ("Which agency operated each
mission?" / "Who operated the missions?"). Questions are embedded with the build's embedder and
folded, greedily in proposal order, into the first earlier candidate whose first question is at
least ``threshold`` similar (cosine of unit vectors); the same question up to case, spacing and
punctuation merges at similarity 1 without asking the embedder. Every merge is recorded with
its similarity, rounded to 4 decimals so the transcript is byte-stable. The order makes the
result deterministic: candidates keep the wording of their first proposal and ids in order of
appearance (``cq01``, ``cq02``...).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.embeddings.base import Embedder
from pipeline.models import normalize_label
from pipeline.ontology.design.transcript import CandidateRecord, MergeRecord, ProposalRecord


class QuestionMerger:
    """Holds the candidates so far; ``add`` folds in one round's proposals."""

    def __init__(self, embedder: Embedder, threshold: float) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self._heads: list[ProposalRecord] = []
        self._vectors: list[np.ndarray] = []
        self._members: list[list[ProposalRecord]] = []

    def add(self, proposals: Sequence[ProposalRecord]) -> list[MergeRecord]:
        """Fold ``proposals`` into the candidates; returns the merges this made."""
        if not proposals:
            return []
        vectors = np.asarray(self.embedder.embed([p.text for p in proposals]), dtype=np.float64)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.where(norms > 0, norms, 1.0)
        merges = []
        for proposal, vector in zip(proposals, vectors, strict=True):
            best, score = self._closest(proposal, vector)
            if best is not None and score >= self.threshold:
                head = self._heads[best]
                self._members[best].append(proposal)
                merges.append(MergeRecord(candidate=self._id(best), kept=head.id,
                                          merged=proposal.id, similarity=score,
                                          kept_text=head.text, merged_text=proposal.text))
            else:
                self._heads.append(proposal)
                self._vectors.append(vector)
                self._members.append([proposal])
        return merges

    def _closest(self, proposal: ProposalRecord, vector: np.ndarray) -> tuple[int | None, float]:
        key = normalize_label(proposal.text)
        best: int | None = None
        score = -1.0
        for i, (head, head_vector) in enumerate(zip(self._heads, self._vectors, strict=True)):
            sim = 1.0 if normalize_label(head.text) == key else round(
                float(np.clip(np.dot(vector, head_vector), -1.0, 1.0)), 4)
            if sim > score:  # strictly greater: ties go to the earlier candidate
                best, score = i, sim
        return best, score

    @staticmethod
    def _id(index: int) -> str:
        return f"cq{index + 1:02d}"

    @property
    def candidates(self) -> list[CandidateRecord]:
        out = []
        for i, (head, members) in enumerate(zip(self._heads, self._members, strict=True)):
            answer_type = next((m.answer_type for m in members if m.answer_type), "")
            agents = tuple(dict.fromkeys(m.agent for m in members))
            out.append(CandidateRecord(id=self._id(i), text=head.text, answer_type=answer_type,
                                       proposals=tuple(m.id for m in members), agents=agents))
        return out


__all__ = ["QuestionMerger"]
