"""A deterministic stand-in embedder for tests that need an index but not a model.

Each text maps to a unit vector seeded by a hash of the model id and the text, so equal texts
embed equally, a different ``model`` gives different vectors, and every call is recorded.
(Importable from any test: pytest puts this folder, where the root conftest lives, on the path.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from pipeline.embeddings.base import Embedder


class HashEmbedder(Embedder):
    """Deterministic unit vectors from a hash of the text; records every text it embeds."""

    def __init__(self, dim: int = 24, model: str = "hash-v1") -> None:
        self._dim = dim
        self._model = model
        self.calls: list[list[str]] = []

    @property
    def model_id(self) -> str:
        return self._model

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def embedded(self) -> list[str]:
        """Every text embedded so far, in order."""
        return [t for call in self.calls for t in call]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(f"{self._model}|{text}".encode()).digest()[:8],
                                  "little")
            v = np.random.default_rng(seed).standard_normal(self._dim)
            out[i] = v / np.linalg.norm(v)
        return out
