"""``VectorIndex``'s torch engine: its rows on a torch device and the filtered scans there.

On CUDA (``device="cuda"``, or ``engine="torch"`` on the CPU for tests) classic FAISS GPU
indexes ignore ID selectors, so the filter is applied inside a chunked scan of its own
(``torch_scan.filtered_topk``): over the gathered rows of a selective filter
(``prefilter-exact``) or over every row with a mask (``scan-exact``), from a float16 copy
whose candidates are rescored in float32 (exact, by a rigorous error bound) when ``half``.
The device copies (``DeviceArrays``) are kept in ascending id order, the scan's tie-break.
torch is imported only when this engine runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from pipeline.errors import ConfigurationError

if TYPE_CHECKING:
    from torch import Tensor

#: the plans this engine answers with
TorchPlan = Literal["empty", "flat", "prefilter-exact", "scan-exact"]


@dataclass
class DeviceArrays:
    """The torch engine's copies of the vectors on the index's device."""

    vectors: Tensor  # (n, d) float32, rows in ascending id order (the scan's tie-break)
    half: Tensor | None  # (n, d) float16, or None
    sq_norms: Tensor  # (n,) float32
    ids: np.ndarray  # the id of each device row
    position: np.ndarray  # the device row of each host row


def require_cuda(device: str) -> None:
    """Refuse a CUDA device PyTorch cannot see."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is a dependency
        raise ConfigurationError("device 'cuda' needs PyTorch") from exc
    if not torch.cuda.is_available():
        raise ConfigurationError(f"device {device!r}: PyTorch sees no CUDA GPU; use "
                                 "device='cpu'")


def to_device(vectors: np.ndarray, ids: np.ndarray, device: str, half: bool) -> DeviceArrays:
    """The vectors (float32, and float16 when ``half``) and squared norms on ``device``, in
    ascending id order."""
    import torch

    from pipeline.index.torch_scan import squared_norms

    order = np.argsort(ids, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(order.shape[0])
    on_device = torch.from_numpy(np.ascontiguousarray(vectors[order])).to(device)
    return DeviceArrays(vectors=on_device, half=on_device.half() if half else None,
                        sq_norms=squared_norms(on_device), ids=ids[order], position=position)


def search(arrays: DeviceArrays, q: np.ndarray, k: int, selected: np.ndarray | None,
           forced: str | None, prefilter_fraction: float, metric: Literal["ip", "l2"],
           out_ids: np.ndarray, out_scores: np.ndarray) -> TorchPlan:
    """Top-k of ``q`` over the host rows ``selected`` (None: every row; ``forced``: the plan
    a caller forced, if any) into ``out_ids`` / ``out_scores``; returns the plan taken."""
    import torch

    from pipeline.index.torch_scan import filtered_topk

    n = arrays.ids.shape[0]
    if selected is None:
        rows = None
    else:
        if selected.shape[0] == 0:
            return "empty"
        # device rows, ascending (so also in id order)
        rows = None if selected.shape[0] == n else np.sort(arrays.position[selected])
    vectors, half, norms, allowed = arrays.vectors, arrays.half, arrays.sq_norms, None
    plan: TorchPlan
    if rows is None:
        plan = "scan-exact" if forced == "scan-exact" else "flat"
    elif forced == "prefilter-exact" or (forced is None
                                         and rows.shape[0] <= prefilter_fraction * n):
        plan = "prefilter-exact"
        picked = torch.from_numpy(rows).to(vectors.device)
        vectors = vectors.index_select(0, picked)
        half = half.index_select(0, picked) if half is not None else None
        norms = norms.index_select(0, picked)
    else:
        plan = "scan-exact"
        allowed = torch.zeros(n, dtype=torch.bool, device=vectors.device)
        allowed[torch.from_numpy(rows).to(vectors.device)] = True
    queries = torch.from_numpy(q).to(vectors.device)
    if half is not None:
        scores, found = filtered_topk(queries, half, k, allowed=allowed, metric=metric,
                                      row_norms=norms, exact_vectors=vectors)
    else:
        scores, found = filtered_topk(queries, vectors, k, allowed=allowed, metric=metric,
                                      row_norms=norms)
    found_np = found.cpu().numpy()
    if rows is not None and allowed is None:  # positions in the gathered rows
        found_np = np.where(found_np >= 0, rows[np.maximum(found_np, 0)], -1)
    hit = found_np >= 0
    out_ids[hit] = arrays.ids[found_np[hit]]
    out_scores[:] = scores.cpu().numpy()
    return plan


__all__ = ["DeviceArrays", "TorchPlan", "require_cuda", "search", "to_device"]
