"""Exact top-k on the CPU by BLAS: the float32 scans of ``VectorIndex``'s numpy engine.

``scan`` scores a block of queries against a block of rows with one matrix product (never
more than ``BLOCK_FLOATS`` scores at a time), sets the scores of rows a filter mask rejects to
``-inf``, and keeps each query's top ``k`` by (score desc, id asc) — the order every plan of
the index answers in. Scores are "higher is better": the inner product, or minus the squared
L2 distance when the rows' squared norms are passed. The top-k selection takes the cheapest
of three exact paths: one query (``_topk_one``), wide rows (``_topk_chunked``, which never
partitions every score) and the rest (``_topk_direct``); ties at the k-th score are always
settled by the smaller id.
"""

from __future__ import annotations

import numpy as np

BLOCK_FLOATS = 1 << 24  # cap on the (queries x rows) score block of the exact plans


def scores(qb: np.ndarray, vectors: np.ndarray, sq: np.ndarray | None) -> np.ndarray:
    """Scores of the queries ``qb`` against every row of ``vectors``: ``q.x``, or with the
    rows' squared norms ``sq`` (the l2 metric) ``-|q - x|^2``."""
    s = qb @ vectors.T
    if sq is not None:  # -|q - x|^2 = 2 q.x - |x|^2 - |q|^2
        s = 2.0 * s - sq[None, :] - np.einsum("ij,ij->i", qb, qb)[:, None]
    return s.astype(np.float32, copy=False)


def scan(q: np.ndarray, k: int, vectors: np.ndarray, ids: np.ndarray, sq: np.ndarray | None,
         out_ids: np.ndarray, out_scores: np.ndarray, mask: np.ndarray | None = None) -> None:
    """Exact top-k of ``q`` over ``vectors`` (rows named ``ids``), one BLAS product per block
    of queries; rows where ``mask`` is False never make the answer (a filter applied to the
    scores: unselective filters and unfiltered batches scan every row this way)."""
    m = vectors.shape[0]
    block = max(1, BLOCK_FLOATS // max(m, 1))
    excluded = None if mask is None else np.flatnonzero(~mask)
    for start in range(0, q.shape[0], block):
        qb = q[start:start + block]
        s = scores(qb, vectors, sq)
        if excluded is not None and excluded.size:
            s[:, excluded] = -np.inf
        _topk_block(s, ids, k, out_ids[start:start + block], out_scores[start:start + block])


def _write_topk(scores: np.ndarray, ids: np.ndarray, k: int, out_ids: np.ndarray,
                out_scores: np.ndarray) -> None:
    """Top ``k`` of one query by (score desc, id asc) into the padded output rows."""
    if scores.shape[0] > k:
        # keep everything tying the k-th score, so the id tie-break sees all candidates
        kth = np.partition(scores, scores.shape[0] - k)[scores.shape[0] - k]
        keep = np.flatnonzero(scores >= kth)
        scores, ids = scores[keep], ids[keep]
    order = np.lexsort((ids, -scores))[:k]
    out_ids[: order.shape[0]] = ids[order]
    out_scores[: order.shape[0]] = scores[order]


_CHUNK = 16  # columns per group in the two-stage top-k
_CHUNKED_MIN_COLUMNS = 16384  # measured: below this, argpartition on every score is faster


def _topk_block(s: np.ndarray, ids: np.ndarray, k: int, out_ids: np.ndarray,
                out_scores: np.ndarray) -> None:
    """Top ``k`` of every row of ``s`` by (score desc, id asc); scores of -inf (filtered
    out) are never returned. Wide rows take the two-stage path (``_topk_chunked``)."""
    if s.shape[0] == 1:
        _topk_one(s[0], ids, k, out_ids[0], out_scores[0])
    elif s.shape[1] >= max(_CHUNKED_MIN_COLUMNS, 8 * _CHUNK * k):
        _topk_chunked(s, ids, k, out_ids, out_scores)
    else:
        _topk_direct(s, ids, k, out_ids, out_scores)


def _topk_one(s: np.ndarray, ids: np.ndarray, k: int, out_ids: np.ndarray,
              out_scores: np.ndarray) -> None:
    """Top ``k`` of one query's scores: the single-query path, where numpy's per-call
    overhead is most of the cost, so it makes as few calls as it can (measured: a third of
    ``_topk_direct``'s time on one row)."""
    m = s.shape[0]
    if m > k:
        pick = np.argpartition(s, m - k)[m - k:]
        sc = s[pick]
        kth = sc.min()
        if kth == -np.inf or np.count_nonzero(s >= kth) > k:
            # -inf among the top k (fewer than k allowed rows) or a tie at the k-th score
            # with a row left out: the careful path keeps every tied row for the id tie-break
            keep = np.flatnonzero(s > -np.inf)
            _write_topk(s[keep], ids[keep], k, out_ids, out_scores)
            return
        cand = ids[pick]
    else:
        keep = np.flatnonzero(s > -np.inf)
        sc, cand = s[keep], ids[keep]
    order = np.lexsort((cand, -sc))
    out_ids[: order.shape[0]] = cand[order]
    out_scores[: order.shape[0]] = sc[order]


def _topk_chunked(s: np.ndarray, ids: np.ndarray, k: int, out_ids: np.ndarray,
                  out_scores: np.ndarray) -> None:
    """Exact top-k without partitioning every score. The columns fall into ``nch`` groups
    of ``_CHUNK`` (group g: columns g, g + nch, g + 2 nch, ...; their maxima are ``_CHUNK``
    element-wise maxima of contiguous slices, cheap), plus a ragged tail. The k-th largest
    group maximum ``tau`` is at most the k-th largest score (k distinct scores reach it), and
    every score >= ``tau`` lies in a group whose maximum is >= ``tau``, or in the tail. So the
    top k, ties at the k-th score included, are among those few candidates: sort just them
    by (row, score desc, id asc)."""
    b, m = s.shape
    nch = m // _CHUNK
    full = nch * _CHUNK
    maxima = s[:, :nch].copy()
    for j in range(1, _CHUNK):
        np.maximum(maxima, s[:, j * nch:(j + 1) * nch], out=maxima)
    tau = np.partition(maxima, nch - k, axis=1)[:, nch - k]
    rows, groups = np.nonzero(maxima >= tau[:, None])
    cols = groups[:, None] + nch * np.arange(_CHUNK)[None, :]
    r = np.broadcast_to(rows[:, None], cols.shape).ravel()
    cols = cols.ravel()
    if full < m:  # the tail columns are candidates of every row
        tail = np.arange(full, m)
        r = np.concatenate([r, np.repeat(np.arange(b), tail.shape[0])])
        cols = np.concatenate([cols, np.tile(tail, b)])
    sc = s[r, cols]
    cand = ids[cols]
    order = np.lexsort((cand, -sc, r))
    r, sc, cand = r[order], sc[order], cand[order]
    starts = np.searchsorted(r, np.arange(b))
    rank = np.arange(r.shape[0]) - starts[r]
    take = (rank < k) & np.isfinite(sc)
    out_ids[r[take], rank[take]] = cand[take]
    out_scores[r[take], rank[take]] = sc[take]


def _topk_direct(s: np.ndarray, ids: np.ndarray, k: int, out_ids: np.ndarray,
                 out_scores: np.ndarray) -> None:
    """Top ``k`` of every row by argpartition; rows where the k-th score ties a score left
    out are redone one by one, so ties break exactly."""
    b, m = s.shape
    kk = min(k, m)
    if m > kk:
        pick = np.argpartition(s, m - kk, axis=1)[:, m - kk:]
    else:
        pick = np.broadcast_to(np.arange(m), (b, m))
    sc = np.take_along_axis(s, pick, 1)
    cand = ids[pick]
    order = np.lexsort((cand, -sc), axis=1)
    sc = np.take_along_axis(sc, order, 1)
    cand = np.take_along_axis(cand, order, 1)
    finite = np.isfinite(sc)
    out_ids[:, :kk] = np.where(finite, cand, -1)
    out_scores[:, :kk] = np.where(finite, sc, -np.inf)
    if m > kk:
        kth = sc[:, kk - 1]
        tied = np.isfinite(kth) & ((s >= kth[:, None]).sum(axis=1) > kk)
        for j in np.flatnonzero(tied):
            keep = np.isfinite(s[j])
            out_ids[j] = -1
            out_scores[j] = -np.inf
            _write_topk(s[j][keep], ids[keep], k, out_ids[j], out_scores[j])


__all__ = ["BLOCK_FLOATS", "scan", "scores"]
