"""The rigorous error bound behind ``torch_scan``'s half-precision scans, and the switches
that make it hold.

A scan over ``float16``/``bfloat16`` rows only selects candidates, which are rescored in
float32; ``half_error_bound`` is how far an approximate score can be from the exact one, so
the scan knows which candidates it must keep (see ``pipeline.index.torch_scan``).

The bound, for the inner product of a float32 query ``q`` and a float32 row ``x`` of
dimension ``d`` (``u``: unit roundoff of the storage format, ``2**-11`` for float16 and
``2**-8`` for bfloat16; ``eta``: half the smallest subnormal of the format, the absolute
rounding error below its normal range; ``M``: an upper bound on every row norm)::

    A   = (1 + u)^2 |q| M + (1 + u) eta sqrt(d) (|q| + M) + d eta^2   >= sum |q~_i x~_i|
    E   = (A - |q| M)          input rounding: q~_i = q_i(1 + a_i) + b_i, |a_i| <= u, |b_i| <= eta
        + g A                  float32 accumulation of d products in any order, g = gamma_4d
        + u (1 + g) A + eta    rounding the float32 sum to the half-precision output

with ``gamma_n = n 2^-24 / (1 - n 2^-24)``. ``gamma_d`` covers round-to-nearest accumulation in
any order; the factor 4 covers tensor cores, whose fp32 accumulators align the addends to the
largest exponent and truncate (Fasi, Higham, Mikaitis & Pranesh, 2021). For ``l2`` the scan
ranks by ``2 q.x - |x|^2`` (``|q|^2`` is constant per query), whose bound is
``2E + g (2A + M^2)`` (float32 row norms and the subtraction). The bound is inflated by 5 %.
It holds only when the matrix product accumulates in float32: ``exact_matmul`` turns off
cuBLAS's reduced-precision reductions, half-precision accumulation and TF32 for the
duration of a call (and restores them after). ``test_torch_scan`` checks the bound
against measured errors.

Assumptions behind the bound: the half vectors are the exact ones rounded to nearest
(``exact.half()`` / ``exact.bfloat16()``), and underflow is gradual (IEEE subnormals, as in
torch's conversions and NVIDIA tensor cores; not ``torch.set_flush_denormal(True)``).
Inputs must be finite; float16 storage needs values within its range (about 6.5e4), and a
batch whose scores could overflow float16 falls back to the float32 scan.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import torch
from torch import Tensor

Metric = Literal["ip", "l2"]
_ACC_UNIT = 2.0**-24  # unit roundoff of float32 accumulation
_SAFETY = 1.05  # the error bound is inflated by 5 %


def half_error_bound(query_norms: Tensor, max_row_norm: float, dim: int, dtype: torch.dtype,
                     metric: Metric = "ip") -> Tensor:
    """A bound on |approximate - exact| of every scan score of each query (see the module
    docstring): half-precision storage and queries, float32 accumulation, half output."""
    u = unit_roundoff(dtype)
    info = torch.finfo(dtype)
    eta = info.tiny * info.eps / 2  # half the smallest subnormal
    g = _gamma(4 * dim)
    qn = query_norms.double()
    m = float(max_row_norm)
    a = (1 + u) ** 2 * qn * m + (1 + u) * eta * math.sqrt(dim) * (qn + m) + dim * eta**2
    e = (a - qn * m) + g * a + u * (1 + g) * a + eta
    if metric == "l2":
        e = 2 * e + g * (2 * a + m * m)
    return (e * _SAFETY).float()


def unit_roundoff(dtype: torch.dtype) -> float:
    """Relative rounding error of round-to-nearest into ``dtype``: 2^-11 (float16), 2^-8
    (bfloat16), 2^-24 (float32)."""
    return torch.finfo(dtype).eps / 2


@contextmanager
def exact_matmul() -> Iterator[None]:
    """Float32 accumulation for every matrix product inside: no TF32 (cuBLAS) or bf16
    (oneDNN) for float32 products, no reduced-precision (half) reductions or accumulation in
    cuBLAS. The previous settings come back on exit. (These are process-wide switches: a
    thread multiplying matrices meanwhile sees them.)

    The legacy precision (``set_float32_matmul_precision``) and the per-backend one
    (``fp32_precision``) are set together: torch refuses cuBLAS products when they disagree."""
    try:
        legacy: str | None = torch.get_float32_matmul_precision()
    except RuntimeError:  # the caller mixed the two APIs; only the per-backend values return
        legacy = None
    switches = _exact_switches()
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in switches]
    torch.set_float32_matmul_precision("highest")
    for obj, name, value in switches:
        if getattr(obj, name) != value:
            setattr(obj, name, value)
    try:
        yield
    finally:
        if legacy is not None and legacy != "highest":
            torch.set_float32_matmul_precision(legacy)
        for obj, name, value in reversed(saved):
            if getattr(obj, name) != value:
                setattr(obj, name, value)


def _exact_switches() -> list[tuple[object, str, object]]:
    """(object, attribute, exact value) of every precision switch this torch has."""
    mm = torch.backends.cuda.matmul
    out: list[tuple[object, str, object]] = [
        (mm, "allow_fp16_reduced_precision_reduction", False),
        (mm, "allow_bf16_reduced_precision_reduction", False),
        (mm, "allow_fp16_accumulation", False)]
    mkldnn = getattr(torch.backends.mkldnn, "matmul", None)
    for backend in (mm, mkldnn):
        if backend is not None:
            out.append((backend, "fp32_precision", "ieee"))
    return [(obj, name, value) for obj, name, value in out if _readable(obj, name)]


def _readable(obj: object, name: str) -> bool:
    try:
        getattr(obj, name)
    except (AttributeError, RuntimeError):
        return False
    return True


def _gamma(n: int) -> float:
    """``n u / (1 - n u)`` for float32 accumulation (Higham's gamma_n)."""
    nu = n * _ACC_UNIT
    if nu >= 1:
        raise ValueError(f"dimension {n} too large for a float32 accumulation bound")
    return nu / (1 - nu)


__all__ = ["Metric", "exact_matmul", "half_error_bound", "unit_roundoff"]
