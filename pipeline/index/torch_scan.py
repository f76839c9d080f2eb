"""Exact filtered top-k by a chunked scan in PyTorch, on any device (CPU in tests, CUDA in use).

FAISS's classic GPU indexes ignore ``IDSelector`` s, so the GPU side of ``VectorIndex`` cannot
hand them a filter. ``filtered_topk`` applies the filter inside its own scan instead:

1. the stored vectors are read in chunks of rows; each chunk is scored against a block of
   queries with one matrix product (never the whole ``nq x n`` score matrix when it is large);
2. the scores of the rows the filter rejects are set to ``-inf`` before a per-chunk
   ``topk``;
3. the running top-k is merged with each chunk's; queries with fewer than ``k`` allowed rows
   are padded with row ``-1`` and score ``-inf``.

Scores are "higher is better": the inner product for ``metric="ip"``, minus the squared L2
distance for ``metric="l2"`` (as ``VectorIndex``). Results are ordered by score, ties by the
smaller row.

Half-precision storage (``float16``/``bfloat16``) halves the bytes each scan reads. The scan
then only *selects candidates*; their scores are recomputed in float32 from the exact vectors,
so the answer is still the exact one. Which candidates must be kept follows from a rigorous
error bound ``E`` (``half_error_bound``): every approximate score is within ``E`` of the exact
one, so the exact k-th best score is at least ``a_k - E`` (``a_k``: the k-th best approximate
score), and a row can only be in the exact top-k if its approximate score is at least
``a_k - 2E``. The scan keeps the best ``m`` approximate scores; when the m-th of them is
already below ``a_k - 2E`` every row that could matter is among them, otherwise the query is
scanned again with ``2m`` candidates (the threshold gets a slack of ``2^-20 |a_k|`` for the
float32 arithmetic that computes it). The bound, what it assumes, and ``exact_matmul`` (the
float32 accumulation it needs, switched on for every call) are
``pipeline.index.torch_precision``; a batch whose scores could overflow float16 falls back to
the float32 scan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from pipeline.index.torch_precision import Metric, exact_matmul, half_error_bound, unit_roundoff

HALF_DTYPES = (torch.float16, torch.bfloat16)
SCORE_BLOCK = 1 << 26  # elements of one (queries x rows) score block: 256 MiB in float32
MIN_CHUNK_ROWS = 4096
_THRESHOLD_SLACK = 2.0**-20  # relative slack for the float32 arithmetic of the threshold
_HOST_FINISH_MAX = 16384  # candidate scores finished on the host; more: on their device


@dataclass
class ScanStats:
    """What one ``filtered_topk`` call did (filled in when passed as ``stats``)."""

    passes: int = 0  #: scans over the stored vectors
    candidates: int = 0  #: the largest candidate count a query needed (half storage)
    reranked: int = 0  #: candidate rows rescored in float32 (half storage)
    fallback: bool = False  #: half storage could overflow: the float32 scan answered


# ------------------------------------------------------------------- public API


def filtered_topk(queries: Tensor, vectors: Tensor, k: int, *, allowed: Tensor | None = None,
                  metric: Metric = "ip", row_norms: Tensor | None = None,
                  chunk_rows: int | None = None, exact_vectors: Tensor | None = None,
                  candidates: int | None = None, stats: ScanStats | None = None
                  ) -> tuple[Tensor, Tensor]:
    """Exact top-``k`` of each query over the rows ``allowed`` keeps (all rows when ``None``).

    ``queries`` (nq, d) and ``vectors`` (n, d) live on any device (queries and the mask are
    moved to the vectors' device). ``row_norms``: squared L2 norms of the (exact) rows, float32
    (n,), computed when missing; pass them to avoid a pass over the vectors. ``chunk_rows``:
    rows scored per matrix product (default: a ``SCORE_BLOCK`` budget). Half-precision
    ``vectors`` are scanned for candidates that are rescored from ``exact_vectors`` (float32,
    any device, of which ``vectors`` must be the rounding; default: the half vectors
    themselves, upcast); ``candidates`` is the first candidate count per query (default
    ``max(2k, k + 64)``), doubled for the queries whose bound needs more. ``stats`` receives
    what the call did.

    Returns ``(scores, rows)``: float32 and int64 CPU tensors (the results are finished on
    the host, where callers read them), each (nq, k), best first, padded with ``-inf`` /
    ``-1``.
    """
    q, allowed, row_norms = _validated(queries, vectors, k, allowed, metric, row_norms)
    stats = stats if stats is not None else ScanStats()
    nq, n = q.shape[0], vectors.shape[0]
    if nq == 0 or n == 0:
        return _host(*_host_padding(nq, k))
    with exact_matmul():
        if vectors.dtype in HALF_DTYPES:
            exact = exact_vectors if exact_vectors is not None else vectors
            norms = row_norms if row_norms is not None else squared_norms(exact, chunk_rows)
            return _half_topk(q, vectors, exact, k, allowed, metric, norms, chunk_rows,
                              candidates or max(2 * k, k + 64), stats)
        if row_norms is None and metric == "l2":
            row_norms = squared_norms(vectors, chunk_rows)
        return _exact_topk(q, vectors, k, allowed, metric, row_norms, chunk_rows, stats)


def squared_norms(vectors: Tensor, chunk_rows: int | None = None) -> Tensor:
    """``|x|^2`` of every row in float32, computed chunk by chunk (bounded temporaries)."""
    n = vectors.shape[0]
    step = chunk_rows or max(MIN_CHUNK_ROWS, SCORE_BLOCK // max(1, vectors.shape[1]))
    out = torch.empty(n, dtype=torch.float32, device=vectors.device)
    for start in range(0, n, step):
        chunk = vectors[start:start + step].float()
        out[start:start + step] = (chunk * chunk).sum(dim=1)
    return out


def plan_blocks(nq: int, n: int, chunk_rows: int | None = None) -> tuple[int, int]:
    """(queries per block, rows per chunk) of a scan: one block's scores fit ``SCORE_BLOCK``."""
    chunk = chunk_rows or max(MIN_CHUNK_ROWS, SCORE_BLOCK // max(1, nq))
    chunk = max(1, min(chunk, max(1, n)))
    return max(1, SCORE_BLOCK // chunk), chunk


def scan_bytes(n: int, dim: int, nq: int, *, dtype: torch.dtype = torch.float32,
               metric: Metric = "ip", filtered: bool = True,
               chunk_rows: int | None = None) -> int:
    """Bytes one exact scan reads from memory: the stored vectors once per query block, the
    mask (one byte a row) and the row norms (``l2``) as often, and the queries."""
    qblock, _ = plan_blocks(nq, n, chunk_rows)
    passes = math.ceil(nq / qblock)
    itemsize = torch.empty(0, dtype=dtype).element_size()
    per_pass = n * dim * itemsize + (n if filtered else 0) + (4 * n if metric == "l2" else 0)
    return passes * per_pass + nq * dim * 4


def effective_bandwidth(bytes_read: int | float, seconds: float) -> float:
    """Bytes read per second (``scan_bytes`` over the measured time); 0 for no time."""
    return float(bytes_read) / seconds if seconds > 0 else 0.0


# ------------------------------------------------------------------- the scans


def _exact_topk(q: Tensor, vectors: Tensor, k: int, allowed: Tensor | None, metric: Metric,
                norms: Tensor | None, chunk_rows: int | None, stats: ScanStats
                ) -> tuple[Tensor, Tensor]:
    """The float32 scan; for ``l2`` it ranks by ``2 q.x - |x|^2`` and subtracts ``|q|^2``.

    ``topk`` picks among tied scores arbitrarily, so the scan keeps one row more than ``k``:
    when that row scores strictly below the k-th (or is ``-inf``: every allowed row is in),
    every row tying the k-th is kept and ``_finish`` breaks the ties by the smaller row;
    otherwise (a tie across the cut) the query is scanned again with twice the width.

    The scan's few best scores come to the host once per pass (one synchronisation) and are
    finished there: small sorts are what a GPU does worst, and each device-side step waited
    on the one before (measured on an H100, one query against 1M x 384 float32 rows: 1.20 ms
    a call with the finish on the device, 0.93 with it on the host; the product alone takes
    0.50 ms and ``topk`` over a million scores 0.14)."""
    nq, n = q.shape[0], vectors.shape[0]
    out_s, out_r = _host_padding(nq, k)
    q_sq = (q * q).sum(dim=1).cpu().numpy() if metric == "l2" else None
    pending = np.arange(nq)
    m = min(k + 1, n)
    while pending.size:
        scores_t, rows_t = _scan(_take(q, pending, nq), vectors, m, allowed, metric, norms,
                                 chunk_rows, stats)
        scores, rows = scores_t.cpu().numpy(), rows_t.cpu().numpy()
        if m >= n or m < k:
            done = np.ones(pending.shape[0], dtype=bool)
        else:
            kth, last = scores[:, k - 1], scores[:, m - 1]
            done = (last < kth) | (last == -np.inf)
        finished = pending[done]
        if finished.size:
            sc = scores[done]
            if q_sq is not None:
                sc = sc - q_sq[finished][:, None]  # -inf stays
            out_s[finished], out_r[finished] = _finish(sc, rows[done], k)
        pending = pending[~done]
        m = min(2 * m, n)
    return _host(out_s, out_r)


def _half_topk(q: Tensor, vectors: Tensor, exact: Tensor, k: int, allowed: Tensor | None,
               metric: Metric, norms: Tensor, chunk_rows: int | None, m: int,
               stats: ScanStats) -> tuple[Tensor, Tensor]:
    """Half-precision scan for candidates, float32 rescoring of the candidates (the checks and
    the finish on the host, as ``_exact_topk``)."""
    nq, n, dim = q.shape[0], vectors.shape[0], vectors.shape[1]
    max_norm = math.sqrt(float(norms.max())) * (1 + 1e-3)  # covers float32 norm rounding
    qn = q.norm(dim=1) * (1 + 1e-3)  # an upper bound despite float32 rounding
    bound = half_error_bound(qn, max_norm, dim, vectors.dtype, metric)
    largest = float(qn.max())
    # bounds every query and row element and every score: all must fit the format
    peak = (1 + unit_roundoff(vectors.dtype)) ** 2 * max(largest, 1.0) * max(max_norm, 1.0)
    if not math.isfinite(peak) or peak > torch.finfo(vectors.dtype).max / 4:
        stats.fallback = True  # float16 scores could overflow: scan the exact vectors
        return _exact_topk(q, exact.to(q.device), k, allowed, metric,
                           norms if metric == "l2" else None, chunk_rows, stats)
    bound_np = bound.double().cpu().numpy()
    qh = q.to(vectors.dtype)
    out_s, out_r = _host_padding(nq, k)
    pending = np.arange(nq)
    m = max(min(m, n), min(k, n))
    while pending.size:
        approx_t, rows_t = _scan(_take(qh, pending, nq), vectors, m, allowed, metric, norms,
                                 chunk_rows, stats)
        approx, rows = approx_t.cpu().numpy(), rows_t.cpu().numpy()
        done = _enough(approx, k, bound_np[pending], complete=m >= n)
        finished = pending[done]
        if finished.size:
            cand = rows[done]
            stats.candidates = max(stats.candidates, int(cand.shape[1]))
            stats.reranked += int((cand >= 0).sum())
            cand_t = torch.from_numpy(cand).to(q.device)
            scores = _rerank(_take(q, finished, nq), cand_t, exact, metric)
            out_s[finished], out_r[finished] = _finish_on(scores, cand_t, k)
        pending = pending[~done]
        m = min(2 * m, n)
    return _host(out_s, out_r)


def _scan(q: Tensor, vectors: Tensor, m: int, allowed: Tensor | None, metric: Metric,
          norms: Tensor | None, chunk_rows: int | None, stats: ScanStats
          ) -> tuple[Tensor, Tensor]:
    """The best ``min(m, n)`` scan scores (float32, descending) and their rows of every query;
    rows the filter rejects score ``-inf`` and come back as row ``-1``."""
    nq, n = q.shape[0], vectors.shape[0]
    width = min(m, n)
    qblock, chunk = plan_blocks(nq, n, chunk_rows)
    spans = _spans(n, chunk, allowed)
    rejected = None if allowed is None else ~allowed
    out_s = torch.full((nq, width), -math.inf, dtype=torch.float32, device=q.device)
    out_r = torch.full((nq, width), -1, dtype=torch.int64, device=q.device)
    for qs in range(0, nq, qblock):
        stats.passes += 1
        best_s: Tensor | None = None
        best_r: Tensor | None = None
        for start, end in spans:
            s = _chunk_scores(q[qs:qs + qblock], vectors[start:end], metric,
                              None if norms is None else norms[start:end])
            if rejected is not None:
                s.masked_fill_(rejected[start:end], -math.inf)
            top_s, top_r = s.topk(min(width, end - start), dim=1)
            top_s, top_r = top_s.float(), top_r + start
            if best_s is None or best_r is None:
                best_s, best_r = top_s, top_r
            else:
                best_s, best_r = _merge(best_s, best_r, top_s, top_r, width)
        if best_s is not None and best_r is not None:
            cols = best_s.shape[1]
            out_s[qs:qs + qblock, :cols] = best_s
            out_r[qs:qs + qblock, :cols] = best_r
    out_r.masked_fill_(out_s == -math.inf, -1)
    return out_s, out_r


def _chunk_scores(q: Tensor, chunk: Tensor, metric: Metric, norms: Tensor | None) -> Tensor:
    """Scan scores of one chunk: ``q.x`` (ip) or ``2 q.x - |x|^2`` (l2). Half-precision
    queries (and chunks) give half-precision inner products (float32 for l2); float32
    queries upcast the chunk."""
    if q.dtype in HALF_DTYPES:
        s = _half_product(q, chunk.to(q.dtype))
        if metric == "ip":
            return s
        assert norms is not None
        return s.float().mul_(2.0).sub_(norms)
    chunk = chunk.float()
    if metric == "ip":
        return q @ chunk.T
    assert norms is not None
    return torch.addmm(norms.neg().unsqueeze(0), q, chunk.T, alpha=2.0)


def _half_product(q: Tensor, chunk: Tensor) -> Tensor:
    """``q @ chunk.T`` with float32 accumulation, rounded to the half format. On a GPU: one
    tensor-core product. On the CPU, half-precision products cost milliseconds of setup per
    call, so the operands are upcast (exactly) and the float32 product is rounded: the same
    arithmetic the error bound models."""
    if q.device.type == "cpu":
        return (q.float() @ chunk.float().T).to(q.dtype)
    return q @ chunk.T


def _merge(a_s: Tensor, a_r: Tensor, b_s: Tensor, b_r: Tensor, width: int
           ) -> tuple[Tensor, Tensor]:
    """The best ``width`` of two (scores, rows) lists, per query."""
    s = torch.cat([a_s, b_s], dim=1)
    r = torch.cat([a_r, b_r], dim=1)
    top_s, pos = s.topk(min(width, s.shape[1]), dim=1)
    return top_s, r.gather(1, pos)


def _spans(n: int, chunk: int, allowed: Tensor | None) -> list[tuple[int, int]]:
    """Row ranges of the chunks, without the chunks the filter rejects entirely (one
    device-to-host copy)."""
    bounds = list(range(0, n, chunk)) + [n]
    spans = list(zip(bounds[:-1], bounds[1:], strict=True))
    if allowed is None or len(spans) == 1:  # one chunk: counting the mask only costs a sync
        return spans
    ends = torch.tensor(bounds[1:], device=allowed.device) - 1
    totals = allowed.cumsum(0)[ends].tolist()
    before = [0, *totals[:-1]]
    return [span for span, t, b in zip(spans, totals, before, strict=True) if t > b]


def _enough(approx: np.ndarray, k: int, bound: np.ndarray, *, complete: bool) -> np.ndarray:
    """Which queries' candidates surely contain their exact top-k: the m-th approximate score
    is below ``a_k - 2E`` (or is ``-inf``: every allowed row is a candidate)."""
    nq, m = approx.shape
    if complete or m < k:
        return np.ones(nq, dtype=bool)
    kth = approx[:, k - 1].astype(np.float64)
    threshold = kth - (2 * bound + _THRESHOLD_SLACK * np.abs(kth))
    last = approx[:, m - 1]
    return (last < threshold) | (last == -np.inf)


def _rerank(q: Tensor, rows: Tensor, exact: Tensor, metric: Metric) -> Tensor:
    """Float32 scores of each query's candidate rows (``-1`` rows score ``-inf``), gathered
    from ``exact`` (on any device) in blocks of queries."""
    nq, m = rows.shape
    dim = q.shape[1]
    scores = torch.full((nq, m), -math.inf, dtype=torch.float32, device=q.device)
    block = max(1, SCORE_BLOCK // max(1, m * dim))
    for qs in range(0, nq, block):
        r = rows[qs:qs + block]
        flat = r.reshape(-1).clamp_min(0).to(exact.device)
        cand = exact.index_select(0, flat).to(q.device, torch.float32).view(r.shape[0], m, dim)
        qb = q[qs:qs + block].unsqueeze(1)
        if metric == "ip":
            s = (cand @ qb.transpose(1, 2)).squeeze(2)
        else:
            diff = cand - qb
            s = -(diff * diff).sum(dim=2)
        scores[qs:qs + block] = s.masked_fill(r < 0, -math.inf)
    return scores


def _finish_on(scores: Tensor, rows: Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``_finish`` where the candidates are: on the host while they are few (a sort on the
    device costs more in launches than it saves), on their device for big batches (measured
    on an H100: 1024 queries x 74 candidates took 6 ms longer to finish on the host)."""
    if scores.numel() <= _HOST_FINISH_MAX:
        return _finish(scores.cpu().numpy(), rows.cpu().numpy(), k)
    nq = scores.shape[0]
    rows = rows.masked_fill(scores == -math.inf, -1)
    big = torch.iinfo(torch.int64).max
    by_row = torch.where(rows < 0, big, rows).argsort(dim=1, stable=True)
    scores, rows = scores.gather(1, by_row), rows.gather(1, by_row)
    by_score = scores.argsort(dim=1, descending=True, stable=True)
    width = min(k, scores.shape[1])
    top = by_score[:, :width]
    out_s, out_r = _host_padding(nq, k)
    out_s[:, :width] = scores.gather(1, top).cpu().numpy()
    out_r[:, :width] = rows.gather(1, top).cpu().numpy()
    return out_s, out_r


def _finish(scores: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The best ``k`` of the candidates (padded with ``-inf`` / ``-1``), ordered by score, ties
    by the smaller row (``topk`` picks among tied scores arbitrarily; one lexicographic sort
    of the short candidate lists decides every tie)."""
    nq, m = scores.shape
    rows = np.where(scores == -np.inf, -1, rows)
    by_row = np.where(rows < 0, np.iinfo(np.int64).max, rows)
    order = np.lexsort((by_row, -scores.astype(np.float64)), axis=-1)
    width = min(k, m)
    top = order[:, :width]
    out_s, out_r = _host_padding(nq, k)
    out_s[:, :width] = np.take_along_axis(scores, top, axis=1)
    out_r[:, :width] = np.take_along_axis(rows, top, axis=1)
    return out_s, out_r


# ------------------------------------------------------------------- helpers


def _validated(queries: Tensor, vectors: Tensor, k: int, allowed: Tensor | None,
               metric: Metric, row_norms: Tensor | None
               ) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """Checked inputs: float32 queries, mask and norms on the vectors' device."""
    if metric not in ("ip", "l2"):
        raise ValueError(f"unknown metric {metric!r}; use 'ip' or 'l2'")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if vectors.ndim != 2:
        raise ValueError(f"vectors must be 2-d (n, d), got shape {tuple(vectors.shape)}")
    if not vectors.is_floating_point():
        raise ValueError(f"vectors must be floating point, got {vectors.dtype}")
    q = queries.reshape(1, -1) if queries.ndim == 1 else queries
    if q.ndim != 2 or q.shape[1] != vectors.shape[1]:
        raise ValueError(f"queries must have shape (nq, {vectors.shape[1]}), "
                         f"got {tuple(queries.shape)}")
    n, device = vectors.shape[0], vectors.device
    if allowed is not None:
        if allowed.dtype != torch.bool or allowed.shape != (n,):
            raise ValueError(f"allowed must be a bool tensor of shape ({n},)")
        allowed = allowed.to(device)
    if row_norms is not None:
        if row_norms.shape != (n,):
            raise ValueError(f"row_norms must have shape ({n},)")
        row_norms = row_norms.to(device, torch.float32)
    return q.to(device, torch.float32), allowed, row_norms


def _host_padding(nq: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((nq, k), -np.inf, dtype=np.float32), np.full((nq, k), -1, dtype=np.int64)


def _host(scores: np.ndarray, rows: np.ndarray) -> tuple[Tensor, Tensor]:
    return torch.from_numpy(scores), torch.from_numpy(rows)


def _take(t: Tensor, picked: np.ndarray, total: int) -> Tensor:
    """The rows ``picked`` of ``t`` (``t`` itself when every row is picked)."""
    if picked.shape[0] == total:
        return t
    return t.index_select(0, torch.from_numpy(picked).to(t.device))


__all__ = ["HALF_DTYPES", "Metric", "ScanStats", "effective_bandwidth", "filtered_topk",
           "plan_blocks", "scan_bytes", "squared_norms"]
