"""K-means for IVF training on any torch device, without the N x K distance matrix: a
benchmark helper (``benchmarks/gpu.py`` times it); the library itself trains no IVF.

Flash-KMeans style Lloyd iterations:

- **assignment** (``assign``): the points are read in chunks; each chunk is scored against
  blocks of centroids with one matrix product (``|c|^2 - 2 x.c``: ``|x|^2`` does not change
  the argmin) and a running minimum/argmin is kept across the blocks, so only a
  ``chunk x block`` tile exists at a time. Ties go to the smaller centroid index, as a full
  ``argmin`` would.
- **update** (``update``): per-cluster sums by ``index_add_`` (float64 sums: on CUDA the
  atomics' order then cannot change the float32 centroids in practice) and counts by
  ``bincount``.
- **empty clusters** are split off the populated ones as FAISS does: an empty centroid takes a
  copy of a cluster drawn with probability proportional to its size minus one, both copies
  nudged apart by ``1/1024`` in opposite directions, and that cluster's count is shared.

Everything random (the initial sample and the splits) comes from a CPU ``torch.Generator``
seeded with ``seed``, so a run is reproducible on any device. ``train_kmeans`` uses
``faiss.Kmeans(..., gpu=True)`` when FAISS sees a GPU (``faiss.get_num_gpus() > 0``) and this
module's chunked k-means otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from torch import Tensor

Backend = Literal["auto", "torch", "faiss"]
_TILE = 1 << 24  # elements of one (points x centroids) distance tile: 64 MiB in float32
_SPLIT_EPS = 1.0 / 1024.0


@dataclass(frozen=True)
class KMeansResult:
    """Trained centroids and how they were obtained."""

    centroids: Tensor  #: (k, d) float32 on the device of the training points
    counts: Tensor  #: (k,) int64: points per cluster at the last update (after splits)
    inertia: list[float] = field(default_factory=list)  #: sum of squared distances, per iteration
    backend: str = "torch"  #: "torch" or "faiss-gpu"


def assign(x: Tensor, centroids: Tensor, *, chunk_rows: int | None = None,
           centroid_block: int | None = None, centroid_norms: Tensor | None = None
           ) -> tuple[Tensor, Tensor]:
    """Nearest centroid (int64) and squared distance (float32) of every row of ``x``,
    computed tile by tile with a running argmin (never the full ``n x k`` matrix)."""
    n, k = x.shape[0], centroids.shape[0]
    c = centroids.to(x.device, torch.float32)
    cn = centroid_norms if centroid_norms is not None else (c * c).sum(dim=1)
    block = centroid_block or min(k, 1024)
    rows = chunk_rows or max(1024, _TILE // max(1, block))
    labels = torch.empty(n, dtype=torch.int64, device=x.device)
    dist = torch.empty(n, dtype=torch.float32, device=x.device)
    for start in range(0, n, rows):
        xc = x[start:start + rows].float()
        best, arg = _nearest(xc, c, cn, block)
        labels[start:start + rows] = arg
        dist[start:start + rows] = (best + (xc * xc).sum(dim=1)).clamp_min_(0.0)
    return labels, dist


def update(x: Tensor, labels: Tensor, previous: Tensor, *, chunk_rows: int | None = None
           ) -> tuple[Tensor, Tensor]:
    """New centroids (the mean of each cluster's points; an empty cluster keeps its previous
    centroid) and the count of points per cluster."""
    k, d = previous.shape
    sums = torch.zeros(k, d, dtype=torch.float64, device=x.device)
    rows = chunk_rows or max(1024, _TILE // max(1, d))
    for start in range(0, x.shape[0], rows):
        sums.index_add_(0, labels[start:start + rows], x[start:start + rows].double())
    counts = torch.bincount(labels, minlength=k)
    filled = counts > 0
    means = sums / counts.clamp_min(1).unsqueeze(1)
    out = torch.where(filled.unsqueeze(1), means.float(), previous.to(x.device, torch.float32))
    return out, counts


def kmeans(x: Tensor, k: int, *, niter: int = 20, seed: int = 0, init: Tensor | None = None,
           spherical: bool = False, chunk_rows: int | None = None,
           centroid_block: int | None = None) -> KMeansResult:
    """Lloyd's k-means on ``x`` (n, d) on its own device: ``niter`` rounds of ``assign`` +
    ``update`` + empty-cluster splits, starting from ``init`` or from ``k`` distinct points
    drawn with ``seed``. ``spherical`` normalises the centroids after each update (for
    inner-product IVF)."""
    n = x.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k must be in [1, {n}] for {n} points, got {k}")
    gen = torch.Generator(device="cpu").manual_seed(seed)
    if init is None:
        pick = torch.randperm(n, generator=gen)[:k].sort().values.to(x.device)
        centroids = x.index_select(0, pick).float()
    else:
        centroids = init.to(x.device, torch.float32).clone()
    if spherical:
        centroids = _normalised(centroids)
    counts = torch.zeros(k, dtype=torch.int64, device=x.device)
    inertia: list[float] = []
    for _ in range(niter):
        labels, dist = assign(x, centroids, chunk_rows=chunk_rows, centroid_block=centroid_block)
        inertia.append(float(dist.double().sum()))
        centroids, counts = update(x, labels, centroids, chunk_rows=chunk_rows)
        centroids, counts = split_empty(centroids, counts, gen)
        if spherical:
            centroids = _normalised(centroids)
    return KMeansResult(centroids=centroids, counts=counts, inertia=inertia, backend="torch")


def split_empty(centroids: Tensor, counts: Tensor, gen: torch.Generator
                ) -> tuple[Tensor, Tensor]:
    """Give every empty cluster half of a populated one (FAISS's rule, see the module
    docstring); the cluster to split is drawn from ``gen``."""
    sizes = counts.tolist()
    empty = [j for j, s in enumerate(sizes) if s == 0]
    if not empty or sum(sizes) == 0:
        return centroids, counts
    c = centroids.clone()
    sign = torch.ones(c.shape[1], device=c.device)
    sign[1::2] = -1.0  # alternate the direction of the nudge per dimension, as FAISS does
    for j in empty:
        weights = torch.tensor([max(s - 1, 0) for s in sizes], dtype=torch.float64)
        if float(weights.sum()) <= 0:
            break  # every cluster has at most one point: nothing to split
        src = int(torch.multinomial(weights, 1, generator=gen))
        base = c[src].clone()
        c[j] = base * (1 + _SPLIT_EPS * sign)
        c[src] = base * (1 - _SPLIT_EPS * sign)
        sizes[j] = sizes[src] // 2
        sizes[src] -= sizes[j]
    return c, torch.tensor(sizes, dtype=counts.dtype, device=counts.device)


def train_kmeans(x: Tensor | np.ndarray, k: int, *, niter: int = 20, seed: int = 0,
                 spherical: bool = False, backend: Backend = "auto",
                 device: str | torch.device | None = None) -> KMeansResult:
    """IVF coarse centroids: FAISS GPU k-means when ``backend`` allows it and FAISS sees a GPU,
    else the chunked torch k-means on ``device`` (default: where ``x`` is, CPU for numpy)."""
    if backend not in ("auto", "torch", "faiss"):
        raise ValueError(f"unknown k-means backend {backend!r}")
    xt = torch.as_tensor(x)
    target = torch.device(device) if device is not None else xt.device
    if backend != "torch" and faiss_gpus() > 0:
        return _faiss_kmeans(xt, k, niter=niter, seed=seed, spherical=spherical, device=target)
    if backend == "faiss":
        raise RuntimeError("backend='faiss' needs FAISS with GPU support and a visible GPU")
    return kmeans(xt.to(target), k, niter=niter, seed=seed, spherical=spherical)


def faiss_gpus() -> int:
    """GPUs FAISS can use (0 for faiss-cpu, or when FAISS is missing)."""
    try:
        import faiss
    except ImportError:  # pragma: no cover - a declared dependency
        return 0
    get = getattr(faiss, "get_num_gpus", None)
    return int(get()) if get is not None else 0


# ------------------------------------------------------------------- helpers


def _nearest(xc: Tensor, c: Tensor, cn: Tensor, block: int) -> tuple[Tensor, Tensor]:
    """Running (min, argmin) of ``|c|^2 - 2 x.c`` over blocks of centroids; a later block
    wins only when strictly closer (ties keep the smaller index)."""
    best = torch.full((xc.shape[0],), float("inf"), dtype=torch.float32, device=xc.device)
    arg = torch.zeros(xc.shape[0], dtype=torch.int64, device=xc.device)
    for start in range(0, c.shape[0], block):
        tile = torch.addmm(cn[start:start + block].unsqueeze(0), xc, c[start:start + block].T,
                           alpha=-2.0)
        index = tile.argmin(dim=1)  # the first minimum on ties (argmin's documented rule)
        value = tile.gather(1, index.unsqueeze(1)).squeeze(1)
        closer = value < best
        best = torch.where(closer, value, best)
        arg = torch.where(closer, index + start, arg)
    return best, arg


def _normalised(c: Tensor) -> Tensor:
    norms = c.norm(dim=1, keepdim=True)
    return torch.where(norms > 0, c / norms.clamp_min(1e-30), c)


def _faiss_kmeans(x: Tensor, k: int, *, niter: int, seed: int, spherical: bool,
                  device: torch.device) -> KMeansResult:
    """``faiss.Kmeans(..., gpu=True)`` on a host copy of ``x``."""
    import faiss

    data = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
    km = faiss.Kmeans(data.shape[1], k, niter=niter, seed=seed, spherical=spherical,
                      gpu=True, verbose=False)
    km.train(data)
    centroids = torch.from_numpy(np.asarray(km.centroids, dtype=np.float32)).to(device)
    _, labels = km.index.search(data, 1)
    counts = torch.bincount(torch.from_numpy(labels.reshape(-1).astype(np.int64)),
                            minlength=k).to(device)
    obj = [float(v) for v in np.asarray(getattr(km, "obj", []), dtype=np.float64)]
    return KMeansResult(centroids=centroids, counts=counts, inertia=obj, backend="faiss-gpu")


__all__ = ["KMeansResult", "assign", "faiss_gpus", "kmeans", "split_empty", "train_kmeans",
           "update"]
