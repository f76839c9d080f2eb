"""The embedder interface: text in, unit-length float32 vectors out.

Everything downstream (the vector index, the KG index, hybrid retrieval) sees only this, so
a test can hand in a tiny deterministic embedder and a deployment a GPU-backed one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np


class Embedder(ABC):
    """Maps texts to L2-normalised float32 vectors of shape ``(len(texts), dim)``.

    ``model_id`` names the model and its weights: vectors from different ids are not
    comparable, so caches and saved indexes are keyed by it.
    """

    @property
    @abstractmethod
    def model_id(self) -> str: ...

    @property
    @abstractmethod
    def dim(self) -> int: ...

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` in order; the same text always yields the same vector."""


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as contiguous float32."""
    vecs = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return np.ascontiguousarray(vecs / np.where(norms > 0, norms, 1.0), dtype=np.float32)


__all__ = ["Embedder", "l2_normalise"]
