"""Exact top-k over an int8 copy of a partition: a quarter of the bytes, the same answer.

A query at batch size one scans its filter's partition once and is bound by memory bandwidth:
float32 rows cost 4 bytes per dimension. ``Int8Rows`` keeps the partition's rows also as int8
codes, one scale per row, and a C kernel (``int8_scan.c``, compiled on first use for the
machine's own instruction set) answers in two passes:

1. for every row, an approximate score ``a`` from the codes and a rigorous bound ``b`` on its
   error; the k-th largest lower bound ``a - b`` is a floor under the k-th exact score, and the
   candidates are the rows whose ``a + b`` reaches it (a few dozen of thousands, measured);
2. the candidates are rescored exactly from the float32 rows (sums in double, rounded once)
   and the top k kept in the usual (score desc, id asc) order.

Why the bound holds (inner product; the L2 score doubles it): with ``x^ = sx * x8`` and
``q^ = sq * q8`` the decoded row and query, ``q.x - q^.x^ = q.(x - x^) + (q - q^).x^``, so
``|q.x - a| <= |q| |x - x^| + |q - q^| |x^|`` (Cauchy-Schwarz): the per-row residual
``|x - x^|`` and norm ``|x^|`` are stored, the query's two norms computed per query. A slack
covers the float32 rounding of the scores and of ``a`` itself. Every row of the exact top k
(ties at the k-th score included) has ``a + b >= exact >= k-th exact >= floor``: the candidates
contain the answer, so the answer equals the float32 scan's.

A single query over a partition of at least ``_INT4_MIN_ROWS`` rows (which no longer fits the
core's L2: the scan streams from L3 or memory) reads 4-bit codes first, half the bytes again:
their bound is ~8x looser, so they only thin the rows — the floor is the smallest int8 lower
bound of the k best rows by the 4-bit score, the 4-bit candidates (~2 % of the rows on real
embeddings) get their int8 bounds, and the survivors of those (a few dozen) the exact
rescoring. Measured on a 13k-row partition of real embeddings: 1.4-1.7x the int8 pass alone.

A query with more candidates than its slots (a dense neighbourhood, e.g. a big cluster around
the query) collects them again into a buffer of the exact size. A batch's queries are split
among threads (``threads()``); a single query's rows too, where its own timings say a second
thread pays (``_SplitChooser``): each thread then keeps its own k best rows by 4-bit score,
computes the floor from all of theirs, and collects and bounds the candidates of its own
chunks, so only the last k-of-a-few-hundred selection and the rescoring run on one thread.
The threads are a pool that spins briefly between calls (a query every ~100 us hands over
without a wake-up).
Whether and where the kernel is built is a ``KernelConfig`` the index passes in (the edge
fills it from ``Settings.int8_kernel`` / ``Settings.kernel_cache``, i.e. ``VERIKG_INT8_KERNEL``
/ ``VERIKG_KERNEL_CACHE``). Without a C compiler (or with ``enabled=False``) ``kernel()`` is
None and the planner keeps the float32 scans; the compiled library is cached under
``cache_dir`` (default ``~/.cache/verikg/kernels``), keyed by the source and the CPU's flags.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os  # sched_getaffinity / cpu_count only
import platform
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

_SOURCE = Path(__file__).with_name("int8_scan.c")
_U = float(np.finfo(np.float32).eps) / 2  # unit roundoff of float32
_CAP_PER_K = 64  # candidate slots per query: 64 k + 256 (more: a second, exact-size pass)
_QUANTIZE_ROWS = 32_768  # rows quantised at a time (float64 temporaries: ~100 MiB at d = 384)
_SPLIT_MIN_ROWS = 4096  # a single query's rows may be split among threads from this many rows
_EXPLORE_EVERY = 32  # a split decision tries the other choice once in this many queries
_INT4_MIN_ROWS = 4096  # partitions from this many rows get the 4-bit first pass (1.5 MiB of
# int8 codes at d = 384: below, a single query's scan is served from the core's own L2)
_INT4_SCALES = (1.0, 0.9, 0.8, 0.7)  # 4-bit scale = f * peak / 7, the f of least residual per
# row (clipping a few outlying dimensions pays: MiniLM rows' mean residual 0.133 -> 0.117)


@dataclass(frozen=True)
class KernelConfig:
    """Whether and where the C kernel is built (one compiled library per configuration)."""

    #: False: no kernel, the float32 scans answer everything
    enabled: bool = True
    #: where compiled libraries are cached; None: ``~/.cache/verikg/kernels``
    cache_dir: Path | None = None
    #: the C compiler to run; None: ``cc``, else ``gcc``, from PATH
    compiler: str | None = None
    #: the instruction set compiled for (``-march``): ``native`` uses every extension of this
    #: CPU (AVX-512 VNNI, AMX where present); ``x86-64-v2`` / ``x86-64-v3`` build a portable
    #: library that takes the plain loops (tests run both, so no answer depends on the CPU)
    march: str = "native"


DEFAULT_KERNEL = KernelConfig()
_default = [DEFAULT_KERNEL]


def default_kernel() -> KernelConfig:
    """The configuration an index uses when it is given none (``DEFAULT_KERNEL`` unless the
    process chose another with ``use_default_kernel``)."""
    return _default[0]


def use_default_kernel(config: KernelConfig) -> KernelConfig:
    """Make ``config`` the default of every index built afterwards without its own (a test
    session turning the kernel off or building it portably); returns the previous one."""
    previous, _default[0] = _default[0], config
    return previous


def _aligned_empty(shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """An uninitialised array whose data starts on a 64-byte boundary (numpy's own start on
    16: a 64-byte row load then straddles two cache lines; measured ~5 % of a 4-bit pass)."""
    dt = np.dtype(dtype)
    n = int(np.prod(shape)) * dt.itemsize
    raw = np.empty(n + 64, dtype=np.uint8)
    start = (-raw.ctypes.data) % 64
    return raw[start:start + n].view(dt).reshape(shape)


class _RowsStruct(ctypes.Structure):
    """``rows_t`` of int8_scan.c: the row arrays and the bound's constants, built once."""

    _fields_ = [("x", ctypes.c_void_p), ("rowsum", ctypes.c_void_p), ("sx", ctypes.c_void_p),
                ("res", ctypes.c_void_p), ("nrm", ctypes.c_void_p), ("off", ctypes.c_void_p),
                ("v", ctypes.c_void_p), ("ids", ctypes.c_void_p),
                ("m", ctypes.c_int64), ("d", ctypes.c_int64), ("mult", ctypes.c_double),
                ("slack_per_qnorm", ctypes.c_double), ("slack_const", ctypes.c_double),
                ("norm_max", ctypes.c_double), ("x4", ctypes.c_void_p), ("sx4", ctypes.c_void_p),
                ("res4", ctypes.c_void_p), ("nrm4", ctypes.c_void_p),
                ("norm_max4", ctypes.c_double), ("stats4", ctypes.c_void_p)]


def _cpu_signature() -> str:
    """What the compiled kernel depends on: the CPU's instruction-set flags and the compiler."""
    flags = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                flags = line
                break
    except OSError:
        pass
    return f"{platform.machine()}|{flags}"


def _cache_dir(config: KernelConfig) -> Path:
    return config.cache_dir or Path("~/.cache/verikg/kernels").expanduser()


def _compile(source: bytes, target: Path, compiler: str | None, march: str) -> None:
    cc = compiler or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise OSError("no C compiler (cc) on PATH")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        src = Path(tmp) / "int8_scan.c"
        src.write_bytes(source)
        out = Path(tmp) / target.name
        cmd = [cc, "-O3", f"-march={march}", "-shared", "-fPIC", "-pthread", "-o", str(out),
               str(src)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise OSError(f"{' '.join(cmd)} failed: {done.stderr.strip()[:500]}")
        out.replace(target)  # atomic: concurrent first uses never load a half-written file


def _library(config: KernelConfig | None = None) -> ctypes.CDLL | None:
    """The compiled kernel library of ``config`` (default: ``default_kernel()``), or None
    where it cannot be built (logged once)."""
    return _built(config if config is not None else default_kernel())


@lru_cache(maxsize=8)
def _built(config: KernelConfig) -> ctypes.CDLL | None:
    if not config.enabled:
        return None
    try:
        source = _SOURCE.read_bytes()
        digest = hashlib.sha256(source + f"{_cpu_signature()}|{config.march}".encode()
                                ).hexdigest()[:16]
        target = _cache_dir(config) / f"int8_scan-{digest}.so"
        if not target.exists():
            _compile(source, target, config.compiler, config.march)
        lib = ctypes.CDLL(str(target))
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("int8 scan kernel unavailable, float32 scans only: %s", exc)
        return None
    p = ctypes.c_void_p
    lib.verikg_int8_topk.argtypes = [ctypes.POINTER(_RowsStruct), p, ctypes.c_int64, ctypes.c_int,
                                     ctypes.c_int64, p, p, p, ctypes.c_int]
    lib.verikg_int8_topk.restype = ctypes.c_int
    lib.verikg_int8_amx.argtypes = [ctypes.c_int]
    lib.verikg_int8_amx.restype = ctypes.c_int
    lib.verikg_int8_scores4.argtypes = [ctypes.POINTER(_RowsStruct), p, p]
    lib.verikg_int8_scores4.restype = ctypes.c_int
    lib.verikg_int8_int4_fast.argtypes = []
    lib.verikg_int8_int4_fast.restype = ctypes.c_int
    return lib


def int4_wanted(m: int, d: int, config: KernelConfig | None = None) -> bool:
    """Whether rows this many and this wide get the 4-bit first pass too: big enough to
    stream from beyond the core's L2 (``_INT4_MIN_ROWS``), whole blocks of 128 dimensions,
    and a kernel with VNNI (elsewhere unpacking nibbles costs more than the bytes saved)."""
    lib = _library(config)
    return (m >= _INT4_MIN_ROWS and d > 0 and d % 128 == 0 and lib is not None
            and bool(lib.verikg_int8_int4_fast()))


def kernel(config: KernelConfig | None = None
           ) -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    """The compiled candidate kernel, or None where it cannot be built (or is disabled)."""
    lib = _library(config)
    return None if lib is None else lib.verikg_int8_topk


def amx(enable: bool | None = None, config: KernelConfig | None = None) -> bool:
    """Whether the kernel multiplies batches of queries with AMX tiles (Sapphire Rapids and
    later Xeons, where Linux grants them); ``enable`` turns that off or back on (tests,
    comparisons). Single queries always take the VNNI / plain loops: they are bound by memory,
    not arithmetic."""
    lib = _library(config)
    return lib is not None and bool(lib.verikg_int8_amx(-1 if enable is None else int(enable)))


@lru_cache(maxsize=1)
def threads() -> int:
    """Threads for the kernel: the CPUs this process may run on (at most 8)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    return max(1, min(8, n))


def _ptr(a: np.ndarray | None) -> int | None:
    """The address of a contiguous array (``ndarray.ctypes`` costs ~15 us a call)."""
    return None if a is None else int(a.__array_interface__["data"][0])


@dataclass
class Int8Rows:
    """Int8 codes of a block of float32 rows, with what the bound needs per row; it refers to
    (does not copy) the float32 rows and ids it rescores from."""

    vectors: np.ndarray  # (m, d) float32, contiguous: the partition's own rows
    ids: np.ndarray  # (m,) int64, contiguous
    codes: np.ndarray  # (m, d) int8
    rowsum: np.ndarray  # (m,) int32
    scale: np.ndarray  # (m,) float32
    residual: np.ndarray  # (m,) float32: |x - scale * codes|, rounded up
    norm: np.ndarray  # (m,) float32: |scale * codes|, rounded up
    offset: np.ndarray | None  # (m,) float32 |x|^2 for l2 (the exact scans' own array)
    mult: float  # 1 for ip, 2 for l2
    slack_per_qnorm: float  # slack / |q|
    slack_const: float  # plus this (l2: rounding of the norms subtracted)
    norm_max: float  # the largest |scale * codes|: a's own rounding is relative to it
    codes4: np.ndarray | None = None  # (m, d / 2) uint8: the 4-bit first pass's codes (+ 8),
    # two per byte: per block of 128 dimensions, byte j holds dimension j and j + 64
    scale4: np.ndarray | None = None  # (m,) float32
    residual4: np.ndarray | None = None  # (m,) float32, rounded up
    norm4: np.ndarray | None = None  # (m,) float32, rounded up
    norm_max4: float = 0.0
    # the kernel's counts of 4-bit passes tried, overflowed (then the int8 pass ran) and
    # skipped: where most overflow, the pass is skipped (see int4_pays in int8_scan.c)
    stats4: np.ndarray = field(default_factory=lambda: np.zeros(3, dtype=np.int64))

    @classmethod
    def quantize(cls, vectors: np.ndarray, ids: np.ndarray, sq_norms: np.ndarray | None,
                 config: KernelConfig | None = None) -> Int8Rows:
        """Codes for ``vectors`` (float32, contiguous) named ``ids``; ``sq_norms``: the L2
        metric's |x|^2 (None: inner product); ``config``: the kernel that will scan them."""
        x = np.ascontiguousarray(vectors, dtype=np.float32)
        m, d = x.shape
        scale = np.ones(m, dtype=np.float32)
        codes = _aligned_empty((m, d), np.int8)
        residual = np.empty(m, dtype=np.float32)
        norm = np.empty(m, dtype=np.float32)
        sqn = np.empty(m, dtype=np.float64)
        up = np.float32(np.inf)
        for start in range(0, m, _QUANTIZE_ROWS):  # blocks: float64 temporaries stay small
            xb = x[start:start + _QUANTIZE_ROWS]
            peak = np.abs(xb).max(axis=1)
            sb = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
            sb[~(sb > 0)] = 1.0  # a peak below float32's range
            cb = np.clip(np.rint(xb / sb[:, None]), -127, 127).astype(np.int8)
            x64 = xb.astype(np.float64)
            decoded = cb.astype(np.float64) * sb[:, None].astype(np.float64)
            # float64 residuals and norms, stored rounded up: the bound stays a bound
            end = start + xb.shape[0]
            residual[start:end] = np.nextafter(
                np.linalg.norm(x64 - decoded, axis=1).astype(np.float32), up)
            norm[start:end] = np.nextafter(np.linalg.norm(decoded, axis=1).astype(np.float32),
                                           up)
            sqn[start:end] = np.einsum("ij,ij->i", x64, x64)
            scale[start:end], codes[start:end] = sb, cb
        xmax = float(np.sqrt(sqn.max())) if m else 0.0
        mult = 2.0 if sq_norms is not None else 1.0
        # the exact scores are sums of d products rounded once to float32, ``a`` adds a few
        # roundings of its own: far below this slack (d + 8) eps |q| |x|, which covers even
        # float32 accumulation
        slack_per_qnorm = mult * 4.0 * (d + 8) * _U * xmax
        slack_const = 0.0
        if sq_norms is not None:  # l2: 2 q.x - |x|^2 - |q|^2, two more roundings per score
            slack_const = 8.0 * _U * (float(sq_norms.max()) if m else 0.0)
        four = _quantize4(x) if int4_wanted(m, d, config) else None
        return cls(vectors=x, ids=np.ascontiguousarray(ids, dtype=np.int64), codes=codes,
                   rowsum=codes.sum(axis=1, dtype=np.int32), scale=scale, residual=residual,
                   norm=norm,
                   offset=None if sq_norms is None else np.ascontiguousarray(sq_norms,
                                                                             np.float32),
                   mult=mult, slack_per_qnorm=slack_per_qnorm, slack_const=slack_const,
                   norm_max=float(norm.max()) if m else 0.0,
                   **({} if four is None else four))

    @property
    def nbytes(self) -> int:
        """Bytes of its own (the float32 rows and ids belong to the partition)."""
        four = sum(a.nbytes for a in (self.codes4, self.scale4, self.residual4, self.norm4)
                   if a is not None)
        return int(self.codes.nbytes + self.rowsum.nbytes + self.scale.nbytes
                   + self.residual.nbytes + self.norm.nbytes + four)

    @cached_property
    def _struct(self) -> _RowsStruct:
        """The kernel's view of the rows (the arrays never change after quantize)."""
        return _RowsStruct(_ptr(self.codes), _ptr(self.rowsum), _ptr(self.scale),
                           _ptr(self.residual), _ptr(self.norm), _ptr(self.offset),
                           _ptr(self.vectors), _ptr(self.ids), self.codes.shape[0],
                           self.codes.shape[1], self.mult, self.slack_per_qnorm,
                           self.slack_const, self.norm_max, _ptr(self.codes4),
                           _ptr(self.scale4), _ptr(self.residual4), _ptr(self.norm4),
                           self.norm_max4, _ptr(self.stats4))

    def topk(self, q: np.ndarray, k: int, fn: ctypes._CFuncPtr,  # type: ignore[name-defined]
             n_threads: int, out_ids: np.ndarray, out_scores: np.ndarray) -> np.ndarray | None:
        """Exact top ``k`` of every query ((nq, d)) into ``out_ids`` / ``out_scores`` ((nq, k)):
        best first, ties to the smaller id, padded with -1 / -inf. Returns how many candidates
        each query rescored (more than ``64 k + 256``: collected in a second pass), or
        None when the kernel could not get memory, or a query is not finite (nothing
        written: the float32 scans answer those)."""
        nq, d = q.shape
        m = self.codes.shape[0]
        cap = max(1, min(m, _CAP_PER_K * k + 256))
        split = nq == 1 and n_threads > 1 and m >= _SPLIT_MIN_ROWS
        t = _splits.pick(m, n_threads) if split else (n_threads if nq > 1 else 1)
        buf = _scratch(nq, d, k)
        np.copyto(buf.q[:nq], q)  # its address is known: cheaper than asking q for its own
        start = time.perf_counter() if split else 0.0
        if fn(self._struct, buf.q_ptr, nq, k, cap, buf.s_ptr, buf.i_ptr, buf.c_ptr, t) != 0:
            return None
        if split:
            _splits.record(m, t, time.perf_counter() - start)
        # (copying out costs less than reading the outputs' own addresses: ~3 us each)
        out_scores[:] = buf.s[:nq]
        out_ids[:] = buf.i[:nq]
        return buf.c[:nq].copy()


def scores4(rows: Int8Rows, q: np.ndarray, config: KernelConfig | None = None
            ) -> np.ndarray:
    """The 4-bit pass's approximate scores of every row for one query ((d,) float32): what
    it ranks rows by (tests and diagnostics). Needs the kernel and the rows' 4-bit codes."""
    lib = _library(config)
    if lib is None or rows.codes4 is None:
        raise ValueError("no 4-bit codes (or no kernel) for these rows")
    qf = np.ascontiguousarray(q, dtype=np.float32).reshape(-1)
    out = np.empty(rows.codes.shape[0], dtype=np.float32)
    if lib.verikg_int8_scores4(rows._struct, _ptr(qf), _ptr(out)) != 0:
        raise MemoryError("the kernel could not get memory")
    return out


def _quantize4(x: np.ndarray) -> dict:
    """4-bit codes of float32 rows (d a multiple of 128), packed for the kernel, with each
    row's scale, residual |x - x^| and norm |x^| (float64, stored rounded up)."""
    m, d = x.shape
    packed = _aligned_empty((m, d // 2), np.uint8)
    scale = np.empty(m, dtype=np.float32)
    residual = np.empty(m, dtype=np.float32)
    norm = np.empty(m, dtype=np.float32)
    up = np.float32(np.inf)
    for start in range(0, m, _QUANTIZE_ROWS):
        x64 = x[start:start + _QUANTIZE_ROWS].astype(np.float64)
        end = start + x64.shape[0]
        peak = np.abs(x64).max(axis=1)
        best_res = np.full(x64.shape[0], np.inf)
        best_scale = np.ones(x64.shape[0], dtype=np.float32)
        for f in _INT4_SCALES:
            sb = np.where(peak > 0, f * peak / 7.0, 1.0).astype(np.float32)
            sb[~(sb > 0)] = 1.0  # a peak below float32's range
            cb = np.clip(np.rint(x64 / sb[:, None]), -7, 7)
            res = np.linalg.norm(x64 - cb * sb[:, None].astype(np.float64), axis=1)
            better = res < best_res
            best_res[better], best_scale[better] = res[better], sb[better]
        sb = best_scale
        cb = np.clip(np.rint(x64 / sb[:, None]), -7, 7)
        decoded = cb * sb[:, None].astype(np.float64)
        residual[start:end] = np.nextafter(
            np.linalg.norm(x64 - decoded, axis=1).astype(np.float32), up)
        norm[start:end] = np.nextafter(np.linalg.norm(decoded, axis=1).astype(np.float32), up)
        scale[start:end] = sb
        u = (cb + 8).astype(np.uint8).reshape(-1, d // 128, 2, 64)
        packed[start:end] = (u[:, :, 0, :] | (u[:, :, 1, :] << 4)).reshape(-1, d // 2)
    return {"codes4": packed, "scale4": scale, "residual4": residual, "norm4": norm,
            "norm_max4": float(norm.max()) if m else 0.0}


class _SplitChooser:
    """Whether a single query's rows are split among threads, learned from its own timings.

    A second thread is worth it only when its core is free: measured on 2 cores, a 13k-row
    partition took 230 us split and 294 us not, but 839 us split when BLAS threads of the
    previous matrix product were still spinning on the other core (a query embedded just before
    its search). So each size class (rows, in powers of two) keeps a running mean of the time
    per row of either choice, takes the faster, and tries the other one query in
    ``_EXPLORE_EVERY`` to notice when the machine's load changes."""

    def __init__(self) -> None:
        self.cost: dict[tuple[int, int], float] = {}  # (size class, threads) -> s per row
        self.calls = 0

    def pick(self, m: int, n_threads: int) -> int:
        size = m.bit_length()
        one, many = self.cost.get((size, 1)), self.cost.get((size, n_threads))
        self.calls += 1
        if one is None or many is None:  # each choice measured once before choosing
            return 1 if one is None else n_threads
        best, other = (1, n_threads) if one <= many else (n_threads, 1)
        return other if self.calls % _EXPLORE_EVERY == 0 else best

    def record(self, m: int, t: int, seconds: float) -> None:
        key = (m.bit_length(), t)
        per_row = seconds / m
        old = self.cost.get(key)
        self.cost[key] = per_row if old is None else 0.5 * (old + per_row)


_splits = _SplitChooser()


class _Buffers:
    """Per-thread query and result buffers with their addresses (reading an array's address
    costs microseconds a call, more than a small kernel call itself)."""

    def __init__(self, nq: int, d: int, k: int) -> None:
        self.shape = (nq, d, k)
        self.q = np.empty((nq, d), dtype=np.float32)
        self.s = np.empty((nq, k), dtype=np.float32)
        self.i = np.empty((nq, k), dtype=np.int64)
        self.c = np.empty(nq, dtype=np.int64)
        self.q_ptr, self.s_ptr = _ptr(self.q), _ptr(self.s)
        self.i_ptr, self.c_ptr = _ptr(self.i), _ptr(self.c)


_local = threading.local()


def _scratch(nq: int, d: int, k: int) -> _Buffers:
    buf: _Buffers | None = getattr(_local, "buffers", None)
    if buf is None or buf.shape[1] != d or buf.shape[2] != k or buf.shape[0] < nq:
        buf = _Buffers(max(nq, 16), d, k)
        _local.buffers = buf
    return buf


__all__ = ["DEFAULT_KERNEL", "Int8Rows", "KernelConfig", "amx", "default_kernel", "kernel",
           "threads", "use_default_kernel"]
