"""The packaged MiniLM embedder: offline, lazy, normalised, de-duplicating and cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.embeddings import SentenceTransformerEmbedder
from pipeline.errors import ConfigurationError


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(batch_size=2)


def test_construction_does_no_io(tmp_path: Path) -> None:
    e = SentenceTransformerEmbedder(tmp_path / "no-such-model", cache_path=tmp_path / "c.db")
    assert e._model is None and not (tmp_path / "c.db").exists()
    with pytest.raises(ConfigurationError, match="does not exist"):
        e.embed(["hello"])


def test_vectors_are_unit_float32_and_ordered(embedder: SentenceTransformerEmbedder) -> None:
    texts = ["a rocket launch", "NASA operated Cassini", "a rocket launch", "", "x" * 3000]
    vecs = embedder.embed(texts)
    assert vecs.dtype == np.float32 and vecs.shape == (5, embedder.dim) == (5, 384)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(vecs[0], vecs[2])
    alone = embedder.embed(["NASA operated Cassini"])
    np.testing.assert_allclose(alone[0], vecs[1], atol=1e-5)  # batching does not matter
    assert embedder.embed([]).shape == (0, 384)
    with pytest.raises(TypeError):
        embedder.embed("one string")  # type: ignore[arg-type]


def test_duplicates_are_encoded_once(embedder: SentenceTransformerEmbedder) -> None:
    before = embedder.encoded_count
    embedder.embed(["same", "same", "other", "same"])
    assert embedder.encoded_count - before == 2


def test_model_id_names_the_packaged_model(embedder: SentenceTransformerEmbedder) -> None:
    assert embedder.model_id.startswith("sentence-transformers/all-MiniLM-L6-v2@")
    assert embedder.model_id == SentenceTransformerEmbedder().model_id


def test_persistent_cache_skips_unchanged_texts(tmp_path: Path,
                                                embedder: SentenceTransformerEmbedder) -> None:
    cache = tmp_path / "emb.sqlite"
    first = SentenceTransformerEmbedder(cache_path=cache)
    first._model = embedder._model  # share the loaded weights; the cache is what's tested
    a = first.embed(["Cassini orbited Saturn", "Voyager 2 visited Neptune"])
    assert first.encoded_count == 2
    first.close()
    second = SentenceTransformerEmbedder(cache_path=cache)
    second._model = embedder._model
    b = second.embed(["Voyager 2 visited Neptune", "Cassini orbited Saturn", "Juno"])
    assert second.encoded_count == 1  # only the new text ran through the model
    np.testing.assert_array_equal(b[0], a[1])
    np.testing.assert_array_equal(b[1], a[0])
    second.close()
