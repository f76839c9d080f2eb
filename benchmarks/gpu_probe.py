"""Kernel-level timings of the GPU exact scan's parts, on one card, in seconds of device time.

The product alone (``q @ X.T``, ``X @ q.T``, ``torch.mv``; float32 and float16), ``topk`` over a
million scores, the mask, and whole ``filtered_topk`` calls (float32 and half + rerank, with
and without a 10 % mask, batches of 1 and 64), each the best of 3 x 30 calls timed with CUDA
events. It is how the scan's overhead beyond the product was found (see
``benchmarks/results/gpu/probe.txt``). Run it through ``gpu_lease.py``'s bare packages on a
leased machine:

    python3 benchmarks/gpu_probe.py
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gpu_lease  # noqa: E402

gpu_lease.bare_packages()
import torch  # noqa: E402

from pipeline.index import torch_scan as ts  # noqa: E402
from pipeline.index.torch_precision import exact_matmul  # noqa: E402

N, D = 1_000_000, 384
Call = Callable[[], object]


def bench(name: str, f: Call, nbytes: float, reps: int = 30) -> float:
    """Best of 3 x ``reps`` calls (CUDA events), printed with the bytes per second."""
    for _ in range(3):
        f()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    best = math.inf
    for _ in range(3):
        start.record()
        for _ in range(reps):
            f()
        end.record()
        torch.cuda.synchronize()
        best = min(best, start.elapsed_time(end) / reps)
    print(f"{name:55s} {best * 1000:9.1f} us  {nbytes / (best / 1000) / 1e9:8.0f} GB/s",
          flush=True)
    return best


def main() -> None:
    dev = torch.device("cuda")
    g = torch.Generator(device=dev).manual_seed(0)
    x = torch.randn(N, D, device=dev, generator=g)
    x /= x.norm(dim=1, keepdim=True)
    xh = x.half()
    norms = (x * x).sum(1)
    q = (x[:1] + 0.01).contiguous()
    q64 = (x[:64] + 0.01).contiguous()
    mask = torch.rand(N, device=dev, generator=g) < 0.1
    b32, b16 = N * D * 4, N * D * 2
    with exact_matmul():
        bench("fp32 q@X.T (M=1)", lambda: q @ x.T, b32)
        bench("fp32 X@q.T", lambda: x @ q.T, b32)
        bench("fp32 mv(X,q)", lambda: torch.mv(x, q[0]), b32)
        bench("fp16 qh@Xh.T (M=1)", lambda: q.half() @ xh.T, b16)
        bench("fp16 mv(Xh,qh)", lambda: torch.mv(xh, q[0].half()), b16)
        s1 = torch.mv(x, q[0])
        bench("topk(11) of 1M fp32", lambda: s1.topk(11), N * 4)
        bench("topk(74) of 1M fp32", lambda: s1.topk(74), N * 4)
        bench("masked_fill 1M", lambda: s1.masked_fill(~mask, -math.inf), N * 5)
        bench("fp32 64 q@X.T", lambda: q64 @ x.T, b32)
        bench("fp16 64 q@X.T", lambda: q64.half() @ xh.T, b16)
        s64 = q64 @ x.T
        bench("topk(11) of 64x1M", lambda: s64.topk(11, dim=1), 64 * N * 4)
    for name, vectors, exact in (("fp32", x, None), ("half", xh, x)):
        for label, allowed in (("full", None), ("10%", mask)):
            for queries in (q, q64):
                run = partial(ts.filtered_topk, queries, vectors, 10, allowed=allowed,
                              row_norms=norms, exact_vectors=exact)
                bench(f"filtered_topk {name} {label} b{queries.shape[0]} (per call)", run,
                      b32 if exact is None else b16)


if __name__ == "__main__":
    main()
