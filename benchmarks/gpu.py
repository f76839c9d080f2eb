"""The GPU side of VeriKG's vector index, k-means and embeddings: one short run on one card.

Meant for a single short lease of a GPU machine (it finishes in well under 5 minutes on an
H100 and stops early, saying so, when ``--budget-s`` runs out). Same vectors, filters and
queries for every method:

- ``torch-fp32``: ``pipeline.index.torch_scan.filtered_topk``, the exact filtered scan
  (the filter applied to each chunk's scores before its top-k) on float32 vectors;
- ``torch-half``: the same scan over float16 vectors (``--half``; bfloat16 in the CPU dry
  run, where float16 products are slow) for candidates, rescored in float32 (exact: the
  candidates come from a rigorous error bound);
- ``faiss-postfilter``: FAISS flat search on the GPU (``GpuIndexFlatIP``) without the filter,
  over-fetching ``2 k / selectivity`` (at most 2048, the GPU limit) and filtering on the host —
  classic FAISS GPU indexes ignore ``IDSelector`` s, so this is what it offers (not exact);
- ``cpu-numpy``: the host baseline — mask, gather, one BLAS product, top-k — on a few queries
  only (to stay short).

Workload: N unit vectors of dimension 384 around 1,000 cluster centres (as
``benchmarks/vector_search.py``), an integer attribute ``sel`` uniform in [0, 1000), filters
``sel < t`` for selectivities 0.1 %, 1 %, 10 %, 50 % and 100 %, query batches of 1, 64 and
1024. Recall@10 is against the float32 scan (itself checked against the CPU baseline); QPS
is queries per second of wall time (best of ``--repeat``). The effective bandwidth of the
exact scan is the bytes it must read (``torch_scan.scan_bytes``) over the time, also as a share
of the card's peak (the datasheet value for H100 SXM/PCIe/NVL and H200, else a measured
device-to-device copy). Then k-means (N x 384, K = 4096, chunked torch; FAISS GPU k-means
too when available) and the packaged MiniLM embedder in float16 (sentences/s).

    .venv/bin/python benchmarks/gpu.py [--n 1000000] [--device cuda] [--out DIR]
    .venv/bin/python benchmarks/gpu.py --n 20000 --device cpu --out /tmp/gpu-dry   # dry run

On a leased GPU machine without the project's environment, run it through
``benchmarks/gpu_lease.py`` (see there).

Results go to ``--out`` (default: ``$OUT``, else ``benchmarks/results/gpu``): gpu.json, gpu.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from common import recall  # benchmarks/ is on sys.path
from kmeans import faiss_gpus, kmeans, train_kmeans

from pipeline.index.torch_scan import (
    ScanStats,
    effective_bandwidth,
    filtered_topk,
    scan_bytes,
    squared_norms,
)

K = 10
DIM = 384
SELECTIVITIES = (0.001, 0.01, 0.1, 0.5, 1.0)
BATCHES = (1, 64, 1024)
FAISS_GPU_MAX_K = 2048
#: datasheet HBM bandwidth (bytes/s) by device-name fragment, most specific first
PEAK_BANDWIDTH = (("H200", 4.8e12), ("H100 NVL", 3.9e12), ("H100 PCIe", 2.0e12),
                  ("H100", 3.35e12))
METHODS = ("torch-fp32", "torch-half", "faiss-postfilter", "cpu-numpy")
HALF = {"float16": torch.float16, "bfloat16": torch.bfloat16}
Search = Callable[[torch.Tensor], np.ndarray]
Factory = Callable[[ScanStats], Search]  # a method, given where to count its scan passes


@dataclass
class Clock:
    """Wall time since the start, against the budget."""

    budget_s: float
    start: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def left(self) -> float:
        return self.budget_s - self.elapsed()


# ------------------------------------------------------------------- the machine


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda but torch sees no GPU (use --device cpu for a dry run)")
    return device


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_info(device: torch.device) -> dict[str, Any]:
    """Name, memory, versions and the peak memory bandwidth (datasheet or measured)."""
    info: dict[str, Any] = {"device": str(device), "torch": torch.__version__,
                            "faiss_gpus": faiss_gpus(), "host": platform.processor()
                            or platform.machine(), "threads": torch.get_num_threads()}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(name=props.name, memory_gib=round(props.total_memory / 2**30, 1),
                    cuda=torch.version.cuda, sms=props.multi_processor_count)
    else:
        info["name"] = f"CPU ({info['host']}, {info['threads']} threads)"
    peak = next((bw for frag, bw in PEAK_BANDWIDTH if frag in info["name"]), None)
    if peak is not None:
        info.update(peak_bandwidth=peak, peak_source="datasheet")
    else:
        info.update(peak_bandwidth=copy_bandwidth(device), peak_source="measured copy")
    return info


def copy_bandwidth(device: torch.device) -> float:
    """Bytes/s of a large same-device copy (read + write), best of 5."""
    nbytes = (1 << 30) if device.type == "cuda" else (1 << 27)
    src = torch.empty(nbytes // 4, dtype=torch.float32, device=device).fill_(1.0)
    dst = torch.empty_like(src)
    best = math.inf
    for _ in range(5):
        sync(device)
        t = time.perf_counter()
        dst.copy_(src)
        sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * nbytes / best


# ------------------------------------------------------------------- data


def make_data(n: int, nq: int, seed: int, device: torch.device
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Unit vectors around 1,000 centres (built in chunks), a uniform int attribute in
    [0, 1000), and queries near the centres — all on ``device``."""
    gen = torch.Generator(device=device).manual_seed(seed)
    centres = torch.randn(1000, DIM, generator=gen, device=device)
    x = torch.empty(n, DIM, device=device)
    step = 1 << 17
    for start in range(0, n, step):
        m = min(step, n - start)
        which = torch.randint(0, 1000, (m,), generator=gen, device=device)
        x[start:start + m] = centres[which] + 0.35 * torch.randn(m, DIM, generator=gen,
                                                                 device=device)
    x /= x.norm(dim=1, keepdim=True)
    attr = torch.randint(0, 1000, (n,), generator=gen, device=device, dtype=torch.int32)
    which = torch.randint(0, 1000, (nq,), generator=gen, device=device)
    q = centres[which] + 0.35 * torch.randn(nq, DIM, generator=gen, device=device)
    return x, attr, q / q.norm(dim=1, keepdim=True)


# ------------------------------------------------------------------- measuring


def timed(fn: Callable[[], np.ndarray], device: torch.device, repeat: int
          ) -> tuple[float, np.ndarray]:
    """Best wall time of ``repeat`` runs (device synchronised) and the last result."""
    best, out = math.inf, np.zeros(0)
    for _ in range(repeat):
        sync(device)
        t = time.perf_counter()
        out = fn()
        sync(device)
        best = min(best, time.perf_counter() - t)
    return best, out


def in_batches(search: Search, q: torch.Tensor, batch: int) -> np.ndarray:
    return np.vstack([search(q[i:i + batch]) for i in range(0, q.shape[0], batch)])


def torch_search(x: torch.Tensor, allowed: torch.Tensor, *, exact: torch.Tensor | None = None,
                 norms: torch.Tensor | None = None, stats: ScanStats | None = None) -> Search:
    """``filtered_topk`` over ``x`` (rescored from ``exact`` when ``x`` is half precision;
    ``norms``: the rows' squared norms, so that no call re-reads the float32 vectors)."""
    def search(qb: torch.Tensor) -> np.ndarray:
        _, rows = filtered_topk(qb, x, K, allowed=allowed, exact_vectors=exact,
                                row_norms=norms, stats=stats)
        return rows.cpu().numpy()
    return search


@dataclass
class FaissFlat:
    """A FAISS flat inner-product index, the GPU resources it needs alive, and a label."""

    index: Any
    label: str
    resources: Any = None


def faiss_index(x_host: np.ndarray, device: torch.device) -> FaissFlat | None:
    """A flat inner-product FAISS index: on the GPU when FAISS has one; on the CPU only for
    a CPU dry run; otherwise ``None`` (the method is skipped, also when FAISS is missing, as on
    a bare GPU machine run through ``gpu_lease.py``)."""
    try:
        import faiss
    except ImportError:
        return None

    if device.type == "cuda" and faiss_gpus() > 0:
        res = faiss.StandardGpuResources()
        gpu_index = faiss.GpuIndexFlatIP(res, DIM)
        gpu_index.add(x_host)
        return FaissFlat(gpu_index, "faiss GPU flat", res)
    if device.type == "cpu":
        cpu_index = faiss.IndexFlatIP(DIM)
        cpu_index.add(x_host)
        return FaissFlat(cpu_index, "faiss CPU flat (dry run)")
    return None


def torch_factory(x: torch.Tensor, allowed: torch.Tensor, *,
                  exact: torch.Tensor | None = None, norms: torch.Tensor | None = None
                  ) -> Factory:
    """A torch method whose scan passes are counted in the ``ScanStats`` it is given."""
    def make(stats: ScanStats) -> Search:
        return torch_search(x, allowed, exact=exact, norms=norms, stats=stats)
    return make


def plain(search: Search) -> Factory:
    """A method without scan statistics."""
    def make(stats: ScanStats) -> Search:
        return search
    return make


def postfilter_search(index: Any, mask: np.ndarray, fetch: int) -> Search:
    """FAISS search for ``fetch`` neighbours, then the first ``K`` that pass the filter."""
    def search(qb: torch.Tensor) -> np.ndarray:
        _, pos = index.search(qb.cpu().numpy(), fetch)
        valid = (pos >= 0) & mask[np.maximum(pos, 0)]
        order = np.argsort(~valid, axis=1, kind="stable")[:, :K]
        out = np.take_along_axis(pos, order, 1)
        out[~np.take_along_axis(valid, order, 1)] = -1
        return out
    return search


def numpy_search(x_host: np.ndarray, mask: np.ndarray) -> Search:
    """The host baseline: gather the allowed rows, one BLAS product, top-k."""
    rows = np.flatnonzero(mask)

    def search(qb: torch.Tensor) -> np.ndarray:
        q = qb.cpu().numpy()
        out = np.full((q.shape[0], K), -1, dtype=np.int64)
        if rows.size == 0:
            return out
        s = q @ x_host[rows].T
        kk = min(K, rows.size)
        top = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
        order = np.argsort(-np.take_along_axis(s, top, 1), axis=1, kind="stable")
        out[:, :kk] = rows[np.take_along_axis(top, order, 1)]
        return out
    return search


# ------------------------------------------------------------------- the grid


def bench_search(args: argparse.Namespace, device: torch.device, info: dict[str, Any],
                 clock: Clock) -> tuple[list[dict[str, Any]], list[str]]:
    """Every method at every selectivity and batch; rows of results and notes."""
    notes: list[str] = []
    x, attr, q_all = make_data(args.n, args.queries, args.seed, device)
    half = x.to(HALF[args.half])
    norms = squared_norms(x)
    x_host = np.ascontiguousarray(x.cpu().numpy())
    attr_host = attr.cpu().numpy()
    built = faiss_index(x_host, device)
    if built is None:
        notes.append("faiss-postfilter skipped: no FAISS with GPU support here (faiss-cpu, or "
                     "no FAISS at all); install the 'gpu' extra (faiss-gpu-cu12)")
    else:
        notes.append(f"faiss-postfilter: {built.label}, over-fetch 2k/selectivity capped at "
                     f"{FAISS_GPU_MAX_K}")
    single = q_all[:args.single_queries]
    warm = torch.ones(args.n, dtype=torch.bool, device=device)
    for size in (1, 2, len(q_all)):  # warm-up at each shape: kernels chosen, handles created
        torch_search(x, warm)(q_all[:size])
        torch_search(half, warm, exact=x, norms=norms)(q_all[:size])
    rows: list[dict[str, Any]] = []
    for sel in SELECTIVITIES:
        if clock.left() < 60:
            notes.append(f"stopped before selectivity {sel:.1%}: time budget")
            break
        threshold = int(round(sel * 1000))
        allowed = attr < threshold
        mask = attr_host < threshold
        sync(device)
        truth = torch_search(x, allowed)(q_all)
        methods: dict[str, Factory] = {
            "torch-fp32": torch_factory(x, allowed),
            "torch-half": torch_factory(half, allowed, exact=x, norms=norms)}
        if built is not None:
            fetch = min(args.n, FAISS_GPU_MAX_K, math.ceil(2 * K / max(sel, 1e-9)))
            methods["faiss-postfilter"] = plain(postfilter_search(built.index, mask, fetch))
        methods["cpu-numpy"] = plain(numpy_search(x_host, mask))
        for batch in BATCHES:
            cell = measure_cell(args, device, info, methods, truth, sel, batch, q_all, single)
            print(format_progress(cell), flush=True)
            rows += cell
    return rows, notes


def measure_cell(args: argparse.Namespace, device: torch.device, info: dict[str, Any],
                 methods: dict[str, Factory], truth: np.ndarray, sel: float, batch: int,
                 q_all: torch.Tensor, single: torch.Tensor) -> list[dict[str, Any]]:
    """One (selectivity, batch) cell: QPS and recall of every method, bandwidth of the
    scans."""
    out = []
    for name, factory in methods.items():
        if name == "cpu-numpy":  # a small subset only: it is slow
            if batch == BATCHES[-1]:
                continue
            q = q_all[:args.cpu_queries] if batch == 1 else q_all[:batch]
        else:
            q = single if batch == 1 else q_all
        stats = ScanStats()
        search = factory(stats)
        repeat = 1 if name == "cpu-numpy" else args.repeat
        secs, found = timed(partial(in_batches, search, q, batch), device, repeat)
        calls = math.ceil(q.shape[0] / batch)
        row: dict[str, Any] = {
            "selectivity": sel, "batch": batch, "method": name, "queries": int(q.shape[0]),
            "qps": q.shape[0] / secs, "ms_per_batch": 1e3 * secs / calls,
            "recall": recall(found, truth[:q.shape[0]])}
        if name.startswith("torch"):
            dtype = torch.float32 if name == "torch-fp32" else HALF[args.half]
            nbytes = calls * scan_bytes(args.n, DIM, min(batch, q.shape[0]), dtype=dtype)
            bw = effective_bandwidth(nbytes, secs)
            row.update(bytes_per_s=bw, share_of_peak=bw / info["peak_bandwidth"])
        if name == "torch-half":
            row.update(passes_per_call=stats.passes / max(1, calls * repeat),
                       candidates=stats.candidates, fallback=stats.fallback)
        out.append(row)
    return out


def format_progress(rows: list[dict[str, Any]]) -> str:
    r0 = rows[0]
    return f"sel={r0['selectivity']:<6} batch={r0['batch']:<5} " + "  ".join(
        f"{r['method']}={r['qps']:.0f}/{r['recall']:.3f}" for r in rows)


# ------------------------------------------------------------------- k-means, embeddings


def bench_kmeans(args: argparse.Namespace, device: torch.device, clock: Clock
                 ) -> dict[str, Any]:
    """Chunked torch k-means on N x 384 (and FAISS GPU k-means when FAISS has a GPU)."""
    if clock.left() < 45:
        return {"skipped": "time budget"}
    x, _, _ = make_data(args.n, 1, args.seed + 1, device)
    k = min(args.kmeans_k, args.n)
    out: dict[str, Any] = {"n": args.n, "k": k, "niter": args.kmeans_iters}
    kmeans(x[:min(args.n, 4 * k)], k, niter=1, seed=0)  # warm-up
    sync(device)
    t = time.perf_counter()
    result = kmeans(x, k, niter=args.kmeans_iters, seed=0)
    sync(device)
    secs = time.perf_counter() - t
    out["torch"] = {"seconds": secs, "seconds_per_iter": secs / args.kmeans_iters,
                    "inertia": result.inertia[-1], "largest_cluster": int(result.counts.max()),
                    "empty_clusters": int((result.counts == 0).sum())}
    if faiss_gpus() > 0 and clock.left() > 45:
        t = time.perf_counter()
        fres = train_kmeans(x, k, niter=args.kmeans_iters, seed=0, backend="faiss")
        out["faiss-gpu"] = {"seconds": time.perf_counter() - t,
                            "inertia": fres.inertia[-1] if fres.inertia else None}
    else:
        out["faiss-gpu"] = {"skipped": "FAISS sees no GPU" if faiss_gpus() == 0
                            else "time budget"}
    return out


def corpus_sentences(count: int) -> list[str]:
    """Sentences of the demo corpus, numbered so that each is distinct, up to ``count``."""
    sample = Path(__file__).resolve().parent.parent / "data" / "sample"
    base = [s.strip() for f in sorted(sample.glob("*.md"))
            for s in f.read_text(encoding="utf-8").replace("\n", " ").split(". ") if s.strip()]
    base = base or ["A rocket launched a probe towards a distant planet."]
    return [f"{base[i % len(base)]} ({i})" for i in range(count)]


def bench_embedding(args: argparse.Namespace, device: torch.device, clock: Clock
                    ) -> dict[str, Any]:
    """Sentences/s of the packaged MiniLM (float16 on a GPU, float32 on the CPU)."""
    if clock.left() < 30:
        return {"skipped": "time budget"}
    try:
        from sentence_transformers import SentenceTransformer

        from pipeline.embeddings.embedder import default_model_path

        path = args.model or default_model_path()
        model = SentenceTransformer(str(path), device=str(device), local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - optional part: report why and go on
        return {"skipped": f"model unavailable: {type(exc).__name__}: {exc}"}
    dtype = "float16" if device.type == "cuda" else "float32"
    if device.type == "cuda":
        model = model.half()
    texts = corpus_sentences(args.sentences)
    batch = 512 if device.type == "cuda" else 64
    model.encode(texts[:16], batch_size=16, normalize_embeddings=True)  # warm-up
    sync(device)
    t = time.perf_counter()
    vecs = model.encode(texts, batch_size=batch, normalize_embeddings=True)
    sync(device)
    secs = time.perf_counter() - t
    return {"sentences": len(texts), "dtype": dtype, "batch_size": batch, "seconds": secs,
            "sentences_per_s": len(texts) / secs, "dim": int(np.asarray(vecs).shape[1])}


# ------------------------------------------------------------------- report


def markdown(result: dict[str, Any]) -> str:
    info, rows = result["device"], result["search"]
    by = {(r["selectivity"], r["batch"], r["method"]): r for r in rows}
    lines = [f"{info['name']} ({info['device']}); N = {result['n']}, d = {DIM}, k = {K}, "
             f"{result['queries']} queries; peak bandwidth {info['peak_bandwidth'] / 1e9:.0f} "
             f"GB/s ({info['peak_source']}). QPS (recall@10); bandwidth of the exact scan.",
             "", "| selectivity | batch | torch fp32 exact | "
             f"torch {result['half']} + fp32 rerank | FAISS flat post-filter | "
             "CPU numpy (subset) | fp32 scan GB/s (% peak) | half scan GB/s | "
             "half scans/call |", "|---|---|---|---|---|---|---|---|---|"]
    cells = sorted({(r["selectivity"], r["batch"]) for r in rows})
    for sel, batch in cells:
        def cell(method: str, sel: float = sel, batch: int = batch) -> str:
            r = by.get((sel, batch, method))
            return "—" if r is None else f"{r['qps']:.0f} ({r['recall']:.2f})"
        fp32, half = by.get((sel, batch, "torch-fp32")), by.get((sel, batch, "torch-half"))
        bw32 = (f"{fp32['bytes_per_s'] / 1e9:.3g} ({fp32['share_of_peak']:.0%})"
                if fp32 else "—")
        bw16 = f"{half['bytes_per_s'] / 1e9:.3g}" if half else "—"
        passes = f"{half['passes_per_call']:.2f}" if half else "—"
        lines.append(f"| {sel:.1%} | {batch} | " + " | ".join(cell(m) for m in METHODS)
                     + f" | {bw32} | {bw16} | {passes} |")
    lines += ["", kmeans_line(result["kmeans"]), embedding_line(result["embedding"]), ""]
    lines += [f"- {note}" for note in result["notes"]]
    parts = ", ".join(f"{name} {secs:.0f} s" for name, secs in result["part_seconds"].items())
    lines.append(f"- total {result['seconds']:.0f} s ({parts})")
    return "\n".join(lines) + "\n"


def kmeans_line(km: dict[str, Any]) -> str:
    if "skipped" in km:
        return f"k-means: skipped ({km['skipped']})"
    line = (f"k-means N = {km['n']}, K = {km['k']}, {km['niter']} iterations: torch chunked "
            f"{km['torch']['seconds']:.2f} s ({km['torch']['seconds_per_iter'] * 1e3:.0f} "
            "ms/iteration)")
    fg = km.get("faiss-gpu", {})
    if "seconds" in fg:
        line += f"; FAISS GPU {fg['seconds']:.2f} s"
    else:
        line += f"; FAISS GPU skipped ({fg.get('skipped', '?')})"
    return line


def embedding_line(emb: dict[str, Any]) -> str:
    if "skipped" in emb:
        return f"embedding: skipped ({emb['skipped']})"
    return (f"embedding (MiniLM, {emb['dtype']}, batch {emb['batch_size']}): "
            f"{emb['sentences_per_s']:.0f} sentences/s over {emb['sentences']} sentences")


# ------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--device", default="auto", help="cuda, cuda:N, cpu or auto")
    default_out = os.environ.get("OUT") or str(Path(__file__).parent / "results" / "gpu")
    ap.add_argument("--out", type=Path, default=Path(default_out))
    ap.add_argument("--queries", type=int, default=None,
                    help="queries for batches 64 and 1024 (default 1024; 64 on the CPU)")
    ap.add_argument("--single-queries", type=int, default=None,
                    help="queries timed one at a time (default 32; 4 on the CPU)")
    ap.add_argument("--half", choices=sorted(HALF), default=None,
                    help="half-precision storage (default float16; bfloat16 on the CPU)")
    ap.add_argument("--cpu-queries", type=int, default=4,
                    help="queries for the CPU baseline at batch 1")
    ap.add_argument("--repeat", type=int, default=None, help="best of (default 2; 1 on CPU)")
    ap.add_argument("--kmeans-k", type=int, default=None, help="default 4096 (64 on the CPU)")
    ap.add_argument("--kmeans-iters", type=int, default=None, help="default 20 (3 on the CPU)")
    ap.add_argument("--sentences", type=int, default=None,
                    help="sentences embedded (default 20000; 32 on the CPU)")
    ap.add_argument("--budget-s", type=float, default=270.0,
                    help="stop starting new parts after this many seconds")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--model", type=Path, default=None,
                    help="a sentence-transformers model directory (default: the packaged "
                         "MiniLM; gpu_lease.py carries a float16 copy)")
    return ap.parse_args()


def fill_defaults(args: argparse.Namespace, device: torch.device) -> None:
    gpu = device.type == "cuda"
    defaults = {"queries": (1024, 64), "single_queries": (32, 4), "repeat": (2, 1),
                "half": ("float16", "bfloat16"), "kmeans_k": (4096, 64),
                "kmeans_iters": (20, 3), "sentences": (20000, 32)}
    for name, (on_gpu, on_cpu) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, on_gpu if gpu else on_cpu)


def main() -> None:
    args = parse_args()
    clock = Clock(args.budget_s)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local model directory: never the hub
    os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bars in the report
    device = pick_device(args.device)
    fill_defaults(args, device)
    torch.manual_seed(args.seed)
    info = device_info(device)
    print(f"device: {info['name']}; peak {info['peak_bandwidth'] / 1e9:.0f} GB/s "
          f"({info['peak_source']})", flush=True)
    parts: dict[str, float] = {}
    t = clock.elapsed()
    rows, notes = bench_search(args, device, info, clock)
    parts["search"], t = clock.elapsed() - t, clock.elapsed()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    km = bench_kmeans(args, device, clock)
    parts["k-means"], t = clock.elapsed() - t, clock.elapsed()
    # imported only now: importing sentence-transformers in a thread during the search
    # benchmark held the GIL for seconds and slowed the cells it overlapped up to 10x
    emb = bench_embedding(args, device, clock)
    parts["embedding"] = clock.elapsed() - t
    result = {"n": args.n, "dim": DIM, "k": K, "queries": args.queries,
              "single_queries": args.single_queries, "cpu_queries": args.cpu_queries,
              "repeat": args.repeat, "half": args.half, "device": info, "search": rows,
              "kmeans": km, "embedding": emb, "notes": notes, "part_seconds": parts,
              "seconds": clock.elapsed()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    text = markdown(result)
    (args.out / "gpu.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
