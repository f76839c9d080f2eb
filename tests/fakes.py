"""The one stand-in embedder of the tests: deterministic vectors without a model.

``FakeEmbedder`` maps each text to a vector by one of three rules, and can be told to fail:

* ``vectors``: fixed rows for chosen texts, returned exactly as given (a test that wants two
  names at a known similarity writes their vectors down);
* ``others="hash"`` (the default) for every other text: a unit vector drawn from a generator
  seeded by sha256 of the text, and of the model id too while ``keyed_by_model`` (so another
  ``model`` gives other vectors); equal texts embed equally;
* ``others="words"``: a bag of content words (stop words dropped, a plural 's' cut) hashed
  into ``dim`` buckets and normalised, so paraphrases sharing their words come out similar;
* ``others="zeros"``: the zero vector (similar to nothing).

Every call's texts are recorded in ``calls`` (``embedded`` flattens them); with ``fail`` set,
``embed`` raises ``RuntimeError`` as an unavailable model server would, recording nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from pipeline.embeddings import Embedder

#: words the ``"words"`` rule ignores
STOP_WORDS = frozenset((
    "a", "an", "and", "are", "at", "by", "did", "do", "does", "each", "for", "from", "in", "is",
    "it", "of", "on", "the", "to", "was", "were", "what", "when", "where", "which", "who",
    "whom", "whose", "with"))


class FakeEmbedder(Embedder):
    """Deterministic vectors: a fixed table for chosen texts, a rule for the others."""

    def __init__(self, dim: int = 24, model: str = "hash-v1", *,
                 vectors: Mapping[str, Sequence[float]] | None = None,
                 others: Literal["hash", "words", "zeros"] = "hash",
                 keyed_by_model: bool = True, fail: bool = False) -> None:
        self._dim = dim
        self._model = model
        self.vectors = dict(vectors or {})
        self.others = others
        self.keyed_by_model = keyed_by_model
        self.fail = fail
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
        if self.fail:
            raise RuntimeError("the embedding model is unavailable")
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, text in enumerate(texts):
            if text in self.vectors:
                out[i] = np.asarray(self.vectors[text], dtype=np.float32)
            elif self.others == "hash":
                out[i] = self._hashed(text)
            elif self.others == "words":
                out[i] = self._words(text)
        return out

    def _hashed(self, text: str) -> np.ndarray:
        key = f"{self._model}|{text}" if self.keyed_by_model else text
        seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
        v = np.random.default_rng(seed).standard_normal(self._dim)
        return v / np.linalg.norm(v)

    def _words(self, text: str) -> np.ndarray:
        v = np.zeros(self._dim, dtype=np.float32)
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            if word in STOP_WORDS:
                continue
            word = word[:-1] if len(word) > 3 and word.endswith("s") else word
            v[int(hashlib.sha256(word.encode()).hexdigest(), 16) % self._dim] += 1.0
        norm = np.linalg.norm(v)
        return v / norm if norm else v
