"""Chunked k-means: the same assignments and centroids as a naive full-distance k-means from
the same start, reproducible from a seed, empty clusters split, FAISS GPU used when present."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import kmeans as km
from benchmarks.kmeans import assign, kmeans, split_empty, train_kmeans, update


def naive_assign(x: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The full n x k distance matrix in float64 and its argmin (first index on ties)."""
    d = ((x[:, None, :].astype(np.float64) - c[None, :, :].astype(np.float64)) ** 2).sum(2)
    return d.argmin(axis=1), d.min(axis=1)


def naive_kmeans(x: np.ndarray, init: np.ndarray, niter: int) -> tuple[np.ndarray, np.ndarray]:
    """Textbook Lloyd iterations (no empty clusters in the data used with it)."""
    c = init.astype(np.float64)
    labels = np.zeros(len(x), dtype=np.int64)
    for _ in range(niter):
        labels, _ = naive_assign(x, c)
        for j in range(len(c)):
            if (labels == j).any():
                c[j] = x[labels == j].astype(np.float64).mean(axis=0)
    return c, labels


def blobs(seed: int, n: int, k: int, dim: int, spread: float = 0.05) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = 3 * rng.standard_normal((k, dim))
    return (centres[rng.integers(0, k, n)] + spread * rng.standard_normal((n, dim))
            ).astype(np.float32)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 200), k=st.integers(1, 40),
       dim=st.integers(1, 16), chunk_rows=st.sampled_from([None, 17, 64]),
       block=st.sampled_from([None, 3, 16]))
def test_tiled_assignment_equals_full_argmin(seed: int, n: int, k: int, dim: int,
                                             chunk_rows: int | None, block: int | None) -> None:
    """Running argmin over centroid blocks == argmin of the full matrix (ties aside)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    c = rng.standard_normal((k, dim)).astype(np.float32)
    labels, dist = assign(torch.from_numpy(x), torch.from_numpy(c), chunk_rows=chunk_rows,
                          centroid_block=block)
    ref_labels, ref_dist = naive_assign(x, c)
    np.testing.assert_allclose(dist.numpy(), ref_dist, rtol=1e-4, atol=1e-4)
    full = ((x[:, None, :].astype(np.float64) - c[None].astype(np.float64)) ** 2).sum(2)
    picked = full[np.arange(n), labels.numpy()]
    differ = labels.numpy() != ref_labels
    assert np.all(~differ | (np.abs(picked - ref_dist) <= 1e-4 * np.maximum(1, ref_dist)))


def test_ties_go_to_the_smaller_centroid() -> None:
    x = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    c = torch.tensor([[5.0, 5.0], [1.0, 1.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    labels, dist = assign(x, c, centroid_block=1)
    assert labels.tolist() == [2, 1] and dist.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_result_as_naive_kmeans_from_the_same_start(seed: int) -> None:
    x = blobs(seed, n=600, k=12, dim=8, spread=0.6)
    rng = np.random.default_rng(seed + 10)
    init = x[rng.choice(len(x), 12, replace=False)]
    ref_c, ref_labels = naive_kmeans(x, init, niter=6)
    result = kmeans(torch.from_numpy(x), 12, niter=6, init=torch.from_numpy(init),
                    chunk_rows=97, centroid_block=5)
    np.testing.assert_allclose(result.centroids.numpy(), ref_c, rtol=1e-5, atol=1e-5)
    labels, _ = naive_assign(x, ref_c)
    got, _ = assign(torch.from_numpy(x), result.centroids)
    np.testing.assert_array_equal(got.numpy(), labels)
    np.testing.assert_array_equal(result.counts.numpy(), np.bincount(ref_labels, minlength=12))
    assert len(result.inertia) == 6 and result.backend == "torch"
    steps = zip(result.inertia, result.inertia[1:], strict=False)
    assert all(b <= a * (1 + 1e-6) for a, b in steps)


def test_update_means_and_keeps_empty_centroids() -> None:
    x = torch.tensor([[0.0, 2.0], [2.0, 0.0], [4.0, 4.0]])
    prev = torch.tensor([[9.0, 9.0], [7.0, 7.0], [5.0, 5.0]])
    c, counts = update(x, torch.tensor([0, 0, 2]), prev, chunk_rows=1)
    assert c.tolist() == [[1.0, 1.0], [7.0, 7.0], [4.0, 4.0]] and counts.tolist() == [2, 0, 1]


def test_seeded_runs_are_reproducible() -> None:
    x = torch.from_numpy(blobs(4, n=500, k=10, dim=6))
    a = kmeans(x, 10, niter=4, seed=7)
    b = kmeans(x, 10, niter=4, seed=7)
    c = kmeans(x, 10, niter=4, seed=8)
    assert torch.equal(a.centroids, b.centroids) and a.inertia == b.inertia
    assert not torch.equal(a.centroids, c.centroids)


def test_empty_clusters_are_split_off_populated_ones() -> None:
    x = torch.from_numpy(blobs(5, n=300, k=6, dim=4))
    init = x[:6].clone()
    init[3:] = init[0]  # duplicates: ties give clusters 3..5 no points at first
    result = kmeans(x, 6, niter=8, init=init, seed=1)
    assert (result.counts > 0).all()
    assert torch.unique(result.centroids, dim=0).shape[0] == 6
    again = kmeans(x, 6, niter=8, init=init, seed=1)
    assert torch.equal(result.centroids, again.centroids)


def test_split_empty_shares_the_count_and_nudges_apart() -> None:
    c = torch.tensor([[1.0, 1.0], [2.0, 2.0], [0.0, 0.0]])
    counts = torch.tensor([1, 9, 0])
    out, sizes = split_empty(c, counts, torch.Generator().manual_seed(0))
    assert sizes.tolist() == [1, 5, 4]  # only cluster 1 can give points (size - 1 > 0)
    eps = 1.0 / 1024
    assert out[2].tolist() == [2 * (1 + eps), 2 * (1 - eps)]
    assert out[1].tolist() == [2 * (1 - eps), 2 * (1 + eps)]


def test_spherical_centroids_are_unit_length() -> None:
    x = torch.from_numpy(blobs(6, n=200, k=5, dim=8))
    result = kmeans(x, 5, niter=3, spherical=True)
    np.testing.assert_allclose(result.centroids.norm(dim=1).numpy(), 1.0, rtol=1e-5)


def test_k_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="k must be"):
        kmeans(torch.zeros(3, 2), 4)
    with pytest.raises(ValueError, match="backend"):
        train_kmeans(torch.zeros(3, 2), 2, backend="cuml")  # type: ignore[arg-type]


def test_train_kmeans_uses_torch_without_faiss_gpus() -> None:
    assert km.faiss_gpus() == 0  # faiss-cpu in the test environment
    x = blobs(7, n=200, k=4, dim=3)
    result = train_kmeans(x, 4, niter=3, seed=2)
    assert result.backend == "torch" and result.centroids.shape == (4, 3)
    with pytest.raises(RuntimeError, match="GPU"):
        train_kmeans(x, 4, backend="faiss")


def test_train_kmeans_uses_faiss_gpu_when_faiss_sees_one(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    import faiss

    calls: dict[str, Any] = {}

    class FakeKmeans:
        def __init__(self, d: int, k: int, **kwargs: Any) -> None:
            calls.update(kwargs, d=d, k=k)
            self.centroids = np.zeros((k, d), dtype=np.float32)
            self.index = faiss.IndexFlatL2(d)
            self.obj = np.array([3.0, 2.0])

        def train(self, data: np.ndarray) -> None:
            calls["n"] = data.shape[0]
            self.index.add(self.centroids)

    monkeypatch.setattr(km, "faiss_gpus", lambda: 1)
    monkeypatch.setattr(faiss, "Kmeans", FakeKmeans)
    result = train_kmeans(torch.from_numpy(blobs(8, n=50, k=3, dim=4)), 3, niter=5, seed=9)
    assert result.backend == "faiss-gpu" and result.inertia == [3.0, 2.0]
    assert calls["gpu"] is True and calls["niter"] == 5 and calls["seed"] == 9
    assert (calls["d"], calls["k"], calls["n"]) == (4, 3, 50)
    assert result.counts.tolist() == [50, 0, 0]
    assert train_kmeans(blobs(8, n=50, k=3, dim=4), 3, backend="torch").backend == "torch"
