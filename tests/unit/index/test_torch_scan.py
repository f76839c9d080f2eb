"""The torch filtered scan equals numpy brute force: both metrics, any mask, fp32 and half
storage (whose candidate bound is also checked against measured rounding errors)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.index import torch_scan
from pipeline.index.torch_precision import exact_matmul, half_error_bound
from pipeline.index.torch_scan import (
    Metric,
    ScanStats,
    effective_bandwidth,
    filtered_topk,
    plan_blocks,
    scan_bytes,
    squared_norms,
)
from pipeline.index.vector_index import VectorIndex

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
MASKS = ("none", "all-false", "fewer-than-k", "random", "all-true", "one-chunk")


def brute_force(q: np.ndarray, x: np.ndarray, k: int, mask: np.ndarray | None, metric: str
                ) -> tuple[np.ndarray, np.ndarray]:
    """The reference in float64: top-k allowed rows by (score desc, row asc), padded."""
    q64, x64 = q.astype(np.float64), x.astype(np.float64)
    s = q64 @ x64.T if metric == "ip" else -((q64[:, None] - x64[None]) ** 2).sum(axis=2)
    if mask is not None:
        s[:, ~mask] = -np.inf
    out_s = np.full((q.shape[0], k), -np.inf)
    out_r = np.full((q.shape[0], k), -1, dtype=np.int64)
    for i, row in enumerate(s):
        order = sorted(np.flatnonzero(row > -np.inf).tolist(), key=lambda j: (-row[j], j))[:k]
        out_s[i, :len(order)] = row[order]
        out_r[i, :len(order)] = order
    return out_s, out_r


def assert_exact(scores: torch.Tensor, rows: torch.Tensor, q: np.ndarray, x: np.ndarray,
                 k: int, mask: np.ndarray | None, metric: str) -> None:
    """Same ids as brute force (ties aside: a different row must score the same) and the
    same scores to 1e-5 (relative for large scores)."""
    ref_s, ref_r = brute_force(q, x, k, mask, metric)
    got_s, got_r = scores.cpu().numpy(), rows.cpu().numpy()
    assert got_s.dtype == np.float32 and got_r.dtype == np.int64
    assert got_s.shape == got_r.shape == (q.shape[0], k)
    np.testing.assert_array_equal(got_r < 0, ref_r < 0)
    np.testing.assert_array_equal(np.isinf(got_s), ref_r < 0)
    finite = ref_r >= 0
    np.testing.assert_allclose(got_s[finite], ref_s[finite], rtol=1e-5, atol=1e-5)
    for i in range(q.shape[0]):
        picked = got_r[i][got_r[i] >= 0]
        assert len(set(picked.tolist())) == picked.size  # no row twice
        if mask is not None:
            assert mask[picked].all()
    tol = 1e-5 * np.maximum(1.0, np.abs(ref_s[finite]))
    differ = got_r[finite] != ref_r[finite]
    assert np.all(~differ | (np.abs(got_s[finite] - ref_s[finite]) <= tol)), \
        "a different row with another score"


def make_mask(kind: str, n: int, k: int, rng: np.random.Generator, chunk: int
              ) -> np.ndarray | None:
    if kind == "none":
        return None
    if kind == "all-false":
        return np.zeros(n, dtype=bool)
    if kind == "all-true":
        return np.ones(n, dtype=bool)
    if kind == "fewer-than-k":
        mask = np.zeros(n, dtype=bool)
        mask[rng.choice(n, size=min(n, int(rng.integers(0, k))), replace=False)] = True
        return mask
    if kind == "one-chunk":  # every other chunk is skipped
        mask = np.zeros(n, dtype=bool)
        start = int(rng.integers(0, max(1, n)))
        mask[start:start + chunk] = rng.random(min(chunk, n - start)) < 0.7
        return mask
    return rng.random(n) < rng.uniform(0.05, 0.9)


def run_case(q: np.ndarray, x: np.ndarray, k: int, mask: np.ndarray | None, metric: Metric,
             dtype: torch.dtype, chunk_rows: int | None, candidates: int | None = None,
             stats: ScanStats | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    xt = torch.from_numpy(x)
    allowed = None if mask is None else torch.from_numpy(mask)
    return filtered_topk(torch.from_numpy(q), xt.to(dtype), k, allowed=allowed, metric=metric,
                         chunk_rows=chunk_rows, exact_vectors=None if dtype == torch.float32
                         else xt, candidates=candidates, stats=stats)


# ------------------------------------------------------------------- equality with brute force


@settings(max_examples=150, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(0, 300), dim=st.integers(1, 48),
       nq=st.integers(0, 6), k=st.integers(1, 24), metric=st.sampled_from(["ip", "l2"]),
       dtype=st.sampled_from(sorted(DTYPES)), mask_kind=st.sampled_from(MASKS),
       chunk_rows=st.sampled_from([None, 1, 7, 64]), candidates=st.sampled_from([None, 1, 3]),
       unit=st.booleans())
def test_scan_equals_brute_force(seed: int, n: int, dim: int, nq: int, k: int, metric: Metric,
                                 dtype: str, mask_kind: str, chunk_rows: int | None,
                                 candidates: int | None, unit: bool) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    q = rng.standard_normal((nq, dim)).astype(np.float32)
    if unit:
        x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    mask = make_mask(mask_kind, n, k, rng, chunk_rows or 64)
    scores, rows = run_case(q, x, k, mask, metric, DTYPES[dtype], chunk_rows, candidates)
    assert_exact(scores, rows, q, x, k, mask, metric)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("metric", ["ip", "l2"])
def test_near_ties_force_wider_candidate_sets(dtype: torch.dtype, metric: Metric) -> None:
    """Rows closer together than half precision can tell: the bound keeps them all (the scan
    widens its candidate list until it can prove it holds the top-k), and the fp32 rescoring
    still picks the exact winners."""
    rng = np.random.default_rng(3)
    base = rng.standard_normal(32).astype(np.float32)
    x = (base + 1e-4 * rng.standard_normal((500, 32))).astype(np.float32)
    q = (base + 0.1 * rng.standard_normal((3, 32))).astype(np.float32)
    stats = ScanStats()
    scores, rows = run_case(q, x, 5, None, metric, dtype, 128, candidates=8, stats=stats)
    assert_exact(scores, rows, q, x, 5, None, metric)
    assert stats.passes > 1 and stats.candidates > 8


@pytest.mark.parametrize("limit", [0, 10**9])
def test_finish_on_the_device_or_the_host_is_the_same(monkeypatch: pytest.MonkeyPatch,
                                                      limit: int) -> None:
    """Big candidate sets are finished on their device, small ones on the host: both break
    ties by the smaller row, with a mask, integer data (exact ties) and near ties."""
    monkeypatch.setattr(torch_scan, "_HOST_FINISH_MAX", limit)
    rng = np.random.default_rng(11)
    x = rng.integers(-2, 3, (300, 8)).astype(np.float32)
    q = rng.integers(-2, 3, (17, 8)).astype(np.float32)
    mask = rng.random(300) < 0.6
    for dtype in DTYPES.values():
        scores, rows = run_case(q, x, 9, mask, "ip", dtype, 64)
        ref_s, ref_r = brute_force(q, x, 9, mask, "ip")
        np.testing.assert_array_equal(rows.numpy(), ref_r)  # exact ties: the smaller row
        np.testing.assert_array_equal(scores.numpy(), ref_s.astype(np.float32))
    base = rng.standard_normal(32).astype(np.float32)
    near = (base + 1e-4 * rng.standard_normal((400, 32))).astype(np.float32)
    qn = (base + 0.1 * rng.standard_normal((5, 32))).astype(np.float32)
    scores, rows = run_case(qn, near, 5, None, "l2", torch.float16, 128, candidates=8)
    assert_exact(scores, rows, qn, near, 5, None, "l2")


def test_many_query_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tiny score budget splits the queries into blocks; the answer does not change."""
    monkeypatch.setattr(torch_scan, "SCORE_BLOCK", 256)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((200, 16)).astype(np.float32)
    q = rng.standard_normal((40, 16)).astype(np.float32)
    mask = rng.random(200) < 0.4
    for dtype in DTYPES.values():
        stats = ScanStats()
        scores, rows = run_case(q, x, 7, mask, "l2", dtype, 64, stats=stats)
        assert_exact(scores, rows, q, x, 7, mask, "l2")
        assert stats.passes >= 10


def test_agrees_with_vector_index_exact_plans() -> None:
    """Same ids as ``VectorIndex`` (its exact plans are brute force) for a ``where`` filter."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((400, 24)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    sel = rng.integers(0, 100, 400).astype(np.int32)
    q = rng.standard_normal((5, 24)).astype(np.float32)
    for metric in ("ip", "l2"):
        index = VectorIndex.build(x, {"sel": sel}, metric=metric)
        ids, ref = index.search(q, 10, where="sel < 30")
        xt = torch.from_numpy(x)
        for dtype in DTYPES.values():
            scores, rows = filtered_topk(torch.from_numpy(q), xt.to(dtype), 10,
                                         allowed=torch.from_numpy(sel < 30), metric=metric,
                                         exact_vectors=xt)
            np.testing.assert_array_equal(rows.numpy(), ids)
            np.testing.assert_allclose(scores.numpy(), ref, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------- half precision


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("scale", [1.0, 1e-3, 1e-6, 30.0])
def test_error_bound_covers_measured_errors(dtype: torch.dtype, scale: float) -> None:
    """|half-precision score - exact score| <= the bound, including values that underflow to
    float16 subnormals (scale 1e-6) and long accumulations (d = 768)."""
    rng = np.random.default_rng(int(scale * 1e6) % 1000)
    for dim in (3, 96, 768):
        x = (scale * rng.standard_normal((300, dim))).astype(np.float32)
        q = (scale * rng.standard_normal((8, dim))).astype(np.float32)
        exact = q.astype(np.float64) @ x.astype(np.float64).T
        qh, xh = torch.from_numpy(q).to(dtype), torch.from_numpy(x).to(dtype)
        with exact_matmul():  # a native half product, and the scan's own
            approx = [qh @ xh.T, torch_scan._half_product(qh, xh)]
        err = np.max([np.abs(a.double().numpy() - exact) for a in approx], axis=0)
        norms = torch.from_numpy(np.linalg.norm(q, axis=1))
        max_norm = float(np.linalg.norm(x, axis=1).max())
        if float(norms.max()) * max_norm > torch.finfo(dtype).max / 4:
            continue  # float16 could overflow: filtered_topk scans in float32 instead
        bound = half_error_bound(norms, max_norm, dim, dtype)
        assert (err <= bound.double().numpy()[:, None]).all()
        # and the bound is not absurdly loose: within ~64x of the worst measured error
        if scale >= 1e-3:
            assert float(bound.max()) < 64 * max(float(err.max()), 1e-30) * dim ** 0.5


def test_float16_overflow_falls_back_to_the_float32_scan() -> None:
    rng = np.random.default_rng(2)
    x = (1e5 * rng.standard_normal((50, 8))).astype(np.float32)
    q = rng.standard_normal((2, 8)).astype(np.float32)
    stats = ScanStats()
    xt = torch.from_numpy(x)
    scores, rows = filtered_topk(torch.from_numpy(q), xt.to(torch.float16), 4,
                                 exact_vectors=xt, stats=stats)
    assert stats.fallback
    assert_exact(scores, rows, q, x, 4, None, "ip")


def test_half_storage_without_exact_vectors_is_exact_for_the_stored_values() -> None:
    rng = np.random.default_rng(4)
    xh = torch.from_numpy(rng.standard_normal((120, 16)).astype(np.float32)).half()
    q = rng.standard_normal((3, 16)).astype(np.float32)
    scores, rows = filtered_topk(torch.from_numpy(q), xh, 6, metric="l2")
    assert_exact(scores, rows, q, xh.float().numpy(), 6, None, "l2")


# ------------------------------------------------------------------- edges and helpers


def test_empty_inputs_and_one_dimensional_query() -> None:
    x = torch.randn(10, 4)
    s, r = filtered_topk(torch.zeros(0, 4), x, 3)
    assert s.shape == r.shape == (0, 3)
    s, r = filtered_topk(torch.randn(2, 4), torch.zeros(0, 4), 3)
    assert (r == -1).all() and torch.isinf(s).all()
    s, r = filtered_topk(torch.randn(4), x, 2)
    assert s.shape == (1, 2)


@pytest.mark.parametrize("kwargs, message", [
    ({"metric": "cosine"}, "unknown metric"),
    ({"k": 0}, "k must be"),
    ({"queries": torch.zeros(2, 5)}, "queries must have shape"),
    ({"allowed": torch.ones(10, dtype=torch.int32)}, "bool tensor"),
    ({"allowed": torch.ones(9, dtype=torch.bool)}, "bool tensor"),
    ({"row_norms": torch.ones(3)}, "row_norms"),
    ({"vectors": torch.zeros(10, 4, dtype=torch.int64)}, "floating point"),
])
def test_bad_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"queries": torch.zeros(2, 4), "vectors": torch.zeros(10, 4),
                               "k": 3}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        filtered_topk(**args)  # type: ignore[arg-type]


def test_exact_matmul_restores_the_settings() -> None:
    mm = torch.backends.cuda.matmul
    mkl = torch.backends.mkldnn.matmul  # type: ignore[attr-defined]
    saved = (mm.fp32_precision, mkl.fp32_precision, mm.allow_fp16_reduced_precision_reduction)
    try:
        torch.set_float32_matmul_precision("medium")  # TF32 on cuBLAS, bf16 on oneDNN
        mm.allow_fp16_reduced_precision_reduction = True
        with exact_matmul():
            assert mm.fp32_precision == mkl.fp32_precision == "ieee"
            assert torch.get_float32_matmul_precision() == "highest"
            assert not mm.allow_fp16_reduced_precision_reduction
        assert torch.get_float32_matmul_precision() == "medium"
        assert mm.allow_fp16_reduced_precision_reduction
    finally:
        mm.fp32_precision, mkl.fp32_precision = saved[0], saved[1]
        mm.allow_fp16_reduced_precision_reduction = saved[2]


def test_blocks_and_bandwidth_helpers() -> None:
    for nq, n in ((1, 10**6), (64, 10**6), (1024, 10**6), (10**5, 10**6), (3, 10)):
        qblock, chunk = plan_blocks(nq, n)
        assert 1 <= chunk <= n and (qblock * chunk <= torch_scan.SCORE_BLOCK or chunk == 1)
    assert plan_blocks(5, 100, chunk_rows=7) == (torch_scan.SCORE_BLOCK // 7, 7)
    full = scan_bytes(1000, 8, 1, filtered=False)
    assert full == 1000 * 8 * 4 + 8 * 4
    assert scan_bytes(1000, 8, 1, dtype=torch.float16, filtered=False) == 1000 * 8 * 2 + 32
    assert scan_bytes(1000, 8, 1) == full + 1000
    assert effective_bandwidth(2e9, 0.5) == 4e9 and effective_bandwidth(1, 0.0) == 0.0
    x = torch.randn(50, 6)
    np.testing.assert_allclose(squared_norms(x, chunk_rows=7).numpy(),
                               (x * x).sum(1).numpy(), rtol=1e-6)
