"""Pieces every vector-search benchmark shares: the exact filtered answer and recall@k.

The scripts under ``benchmarks/`` run as ``python benchmarks/NAME.py``, so this folder is on
``sys.path`` and they import this module as ``common``.
"""

from __future__ import annotations

import numpy as np


def clustered_vectors(n: int, dim: int, nq: int, seed: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.random.Generator]:
    """Unit vectors around 1,000 random centres, queries near the centres, each vector's
    cluster, and the generator (for attributes drawn after them, in the same order)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((1000, dim)).astype(np.float32)
    cluster = rng.integers(0, 1000, n)
    x = centres[cluster] + 0.35 * rng.standard_normal((n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = centres[rng.integers(0, 1000, nq)] + 0.35 * rng.standard_normal((nq, dim)).astype(
        np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return x.astype(np.float32), q.astype(np.float32), cluster, rng


def exact_filtered(x: np.ndarray, q: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    """Brute force: the ids of the top ``k`` rows of ``x`` by inner product among the rows
    ``mask`` keeps, best first, padded with -1. Queries go in blocks whose score matrix stays
    under ``_BLOCK_SCORES`` floats: 1,024 queries against 1M rows in one product needed
    ~17 GB of temporaries (scores, their negation, the partition's indices) and got the 1M
    benchmark killed by the OOM killer."""
    rows = np.flatnonzero(mask)
    out = np.full((q.shape[0], k), -1, dtype=np.int64)
    if rows.size == 0:
        return out
    xs = x[rows]
    step = max(1, _BLOCK_SCORES // rows.size)
    for start in range(0, q.shape[0], step):
        s = q[start:start + step] @ xs.T
        if rows.size > k:
            top = np.argpartition(s, rows.size - k, axis=1)[:, rows.size - k:]
        else:
            top = np.tile(np.arange(rows.size), (s.shape[0], 1))
        order = np.take_along_axis(s, top, 1).argsort(axis=1)[:, ::-1]
        picked = rows[np.take_along_axis(top, order, 1)]
        out[start:start + step, :picked.shape[1]] = picked
    return out


_BLOCK_SCORES = 1 << 26  # 256 MiB of float32 scores per block of queries


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of the true top-k ids (padding aside) that ``found`` contains."""
    hits = total = 0
    for f, t in zip(found, truth, strict=True):
        want = set(t[t >= 0].tolist())
        total += len(want)
        hits += len(want & set(f[f >= 0].tolist()))
    return hits / total if total else 1.0
