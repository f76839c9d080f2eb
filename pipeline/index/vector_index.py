"""Exact filtered vector search: vectors with attribute columns and a tiny planner.

Every answer equals brute-force filtered search: the top ``k`` rows by score among the rows
that satisfy the filter, ties broken by smaller id. The planner only picks the cheaper way
to get that answer:

- ``flat``: no filter; one BLAS matrix product per block of queries (``flat-int8``: the int8
  scan below over every row, for the batches it suits).
- ``partition-exact``: the filter was seen before and keeps few rows: its rows were gathered
  into a contiguous partition (HQI's idea: partition by the workload's predicates, learned from
  the query log, kept within a memory budget, least recently used first out; see
  ``pipeline.index.partitions``); one BLAS product over the partition.
- ``partition-int8``: a partition of at least ``int8_min_rows`` rows (64), queried by a
  small batch (``int8_max_batch``, 16) or big enough (8,192 rows; 2,048 where AMX tiles
  multiply a batch's codes) that it beats a big batch's float32 product: an int8 copy of the
  partition is scanned for candidates under a rigorous error bound and only they are rescored
  from the float32 rows (``pipeline.index.int8_scan``, a C kernel compiled on first use, as
  ``int8_kernel`` says); exact, a quarter of the bytes read (an eighth for a single query over
  4,096 rows or more: a 4-bit first pass thins the rows the int8 bound then sees).
- ``prefilter-exact``: the filter keeps few rows (``<= prefilter_fraction`` of N); gather
  them and score with one BLAS matrix product + ``argpartition``.
- ``scan-exact``: the filter keeps many rows: one BLAS product over all rows per block of
  queries, the filter applied to the scores before the top-k (``pipeline.index.numpy_scan``).
- ``ann-hnsw``: (opt-in, ``ann="hnsw"``; the only plan that is *not* exact) a graph search
  (``pipeline.index.ann``) whose results are filtered with an adaptive over-fetch, for
  unfiltered searches and filters keeping at least ``ann_min_fraction`` of the rows, where an
  exact scan reads every row per query. ``search(..., exact=True)`` never takes it.

On CUDA (``device="cuda"``, or ``engine="torch"`` on the CPU for tests) the torch engine
answers instead (``pipeline.index.torch_engine``: ``prefilter-exact`` or ``scan-exact``).

Parsed filters and the rows they select are cached per filter text; any ``add``, ``remove``
or ``update`` drops the caches. The rows (vectors, ids, attribute columns; strings stored as
categorical codes) are a ``pipeline.index.rows.RowStore``. Scores are "higher is better":
inner product for ``metric="ip"``, minus the squared L2 distance for ``metric="l2"``. The
last search's plan is kept in ``last_plan`` (tests and benchmarks read it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from pipeline.errors import ConfigurationError, VectorIndexError
from pipeline.index import int8_scan, numpy_scan, partitions, torch_engine
from pipeline.index.ann import HNSWGraph
from pipeline.index.int8_scan import KernelConfig, default_kernel
from pipeline.index.partitions import Partition, Partitions, QueryLog, Selections
from pipeline.index.rows import Attributes, RowStore
from pipeline.index.where import WhereExpr

Metric = Literal["ip", "l2"]
Engine = Literal["auto", "numpy", "torch"]
Plan = Literal["empty", "flat", "flat-int8", "partition-exact", "partition-int8", "prefilter-exact",
               "scan-exact", "ann-hnsw"]
Ann = Literal["off", "hnsw"]
FORMAT_VERSION = 1
# measured (benchmarks/vector_search.py): the int8 scan wins at batches up to 16 queries, and at
# every batch size once the partition has 8,192 rows (below, BLAS over float32 wins big batches);
# with AMX multiplying the batch's codes, from 2,048 rows (real 130k corpus, batches of 64 and
# 1,024: 1.0-1.3x float32 at 1,300 rows, 1.9x at 3,900, 3-4x at 8,190, 3.4-5x at 13,000)
_INT8_MAX_BATCH = 16
_INT8_BATCH_MIN_ROWS = 8192
_INT8_BATCH_MIN_ROWS_AMX = 2048


class VectorIndex:
    """Vectors with integer ids and attribute columns; exact top-k under a filter."""

    def __init__(self, dim: int, *, metric: Metric = "ip", device: str = "cpu",
                 prefilter_fraction: float = 0.25, partition_after: int = 2,
                 partition_budget_bytes: int | None = None, engine: Engine = "auto",
                 half: bool | None = None, ann: Ann = "off", ann_min_fraction: float = 0.3,
                 hnsw_m: int = 32, ef_construction: int = 64, ef_search: int = 64,
                 int8_min_rows: int | None = 64, int8_max_batch: int = _INT8_MAX_BATCH,
                 int8_kernel: KernelConfig | None = None) -> None:
        if metric not in ("ip", "l2"):
            raise ConfigurationError(f"unknown metric {metric!r}; use 'ip' or 'l2'")
        if device != "cpu" and not device.startswith("cuda"):
            raise ConfigurationError(f"unknown device {device!r}; use 'cpu' or 'cuda[:N]'")
        if engine not in ("auto", "numpy", "torch"):
            raise ConfigurationError(f"unknown engine {engine!r}; use 'numpy' or 'torch'")
        if device.startswith("cuda"):
            if engine == "numpy":
                raise ConfigurationError("device 'cuda' scans with the torch engine, not numpy")
            torch_engine.require_cuda(device)
        #: "numpy" (BLAS on the CPU, with partitions) or "torch" (a filtered scan on the
        #: index's device: CUDA, or the CPU for tests)
        self.engine: Engine = "torch" if device.startswith("cuda") or engine == "torch" \
            else "numpy"
        #: keep a float16 copy on the device and scan it, reranking candidates in float32
        #: (exact; see torch_scan); default: on CUDA only
        self.half = device.startswith("cuda") if half is None else bool(half)
        if ann not in ("off", "hnsw"):
            raise ConfigurationError(f"unknown ann {ann!r}; use 'off' or 'hnsw'")
        if ann != "off" and self.engine == "torch":
            raise ConfigurationError("ann='hnsw' runs on the CPU engine; the torch engine "
                                     "scans exactly")
        #: the approximate plan for unselective filters (``ann="hnsw"``), else None
        self.ann: HNSWGraph | None = (
            HNSWGraph(int(dim), metric, m=hnsw_m, ef_construction=ef_construction,
                      ef_search=ef_search) if ann == "hnsw" else None)
        #: filters keeping at least this share of the rows may take the ANN plan
        self.ann_min_fraction = float(ann_min_fraction)
        self._device_arrays: torch_engine.DeviceArrays | None = None
        self.dim = int(dim)
        self.metric: Metric = metric
        self.device = device
        self.prefilter_fraction = float(prefilter_fraction)
        self.last_plan: Plan = "empty"
        self._rows = RowStore(self.dim)
        #: a filter seen this many times gets a partition (when selective and within budget)
        self.partition_after = int(partition_after)
        #: memory for partitions; default: the size of the vectors, at least 64 MiB
        self.partition_budget_bytes = partition_budget_bytes
        self._query_log = QueryLog()
        #: partitions of at least this many rows get an int8 copy for the exact two-pass
        #: scan of small batches (``partition-int8``); None: never
        self.int8_min_rows = int8_min_rows
        #: batches up to this many queries take the int8 scan (larger ones only over
        #: partitions of 8,192 rows or more; else one BLAS product)
        self.int8_max_batch = int(int8_max_batch)
        #: whether and where the int8 scan's C kernel is built
        self.int8_kernel = int8_kernel if int8_kernel is not None else default_kernel()
        self._sq_norms: np.ndarray | None = None  # |x|^2 of every row, for l2 scans
        self._flat_i8: int8_scan.Int8Rows | None = None  # int8 copy of every row (unfiltered)
        self._selections = Selections()
        self._partitions = Partitions()

    # ---------------------------------------------------------------- construction
    @classmethod
    def build(cls, vectors: np.ndarray, attributes: Attributes,
              *, metric: Metric = "ip", ids: np.ndarray | Sequence[int] | None = None,
              device: str = "cpu", prefilter_fraction: float = 0.25, partition_after: int = 2,
              partition_budget_bytes: int | None = None, engine: Engine = "auto",
              half: bool | None = None, ann: Ann = "off", ann_min_fraction: float = 0.3,
              hnsw_m: int = 32, ef_construction: int = 64, ef_search: int = 64,
              int8_min_rows: int | None = 64, int8_max_batch: int = _INT8_MAX_BATCH,
              int8_kernel: KernelConfig | None = None) -> VectorIndex:
        """A new index over ``vectors`` (n, dim) with one attribute array of length n each
        (with ``ann="hnsw"``, its HNSW graph is built here too)."""
        vecs = np.asarray(vectors, dtype=np.float32)
        if vecs.ndim != 2:
            raise VectorIndexError(f"vectors must be a 2-d array (n, dim), got shape "
                                   f"{vecs.shape}")
        index = cls(vecs.shape[1], metric=metric, device=device,
                    prefilter_fraction=prefilter_fraction, partition_after=partition_after,
                    partition_budget_bytes=partition_budget_bytes, engine=engine, half=half,
                    ann=ann, ann_min_fraction=ann_min_fraction, hnsw_m=hnsw_m,
                    ef_construction=ef_construction, ef_search=ef_search,
                    int8_min_rows=int8_min_rows, int8_max_batch=int8_max_batch,
                    int8_kernel=int8_kernel)
        index._rows.define_columns(attributes)
        index.add(vecs, attributes, ids=ids)
        if index.ann is not None:
            index.ann.build(index._rows.vectors)
        return index

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def size(self) -> int:
        return len(self)

    @property
    def ids(self) -> np.ndarray:
        return self._rows.ids.copy()

    @property
    def vectors(self) -> np.ndarray:
        """The stored vectors, row-aligned with ``ids`` (a read-only view)."""
        view = self._rows.vectors.view()
        view.flags.writeable = False
        return view

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(self._rows.columns)

    def column(self, name: str) -> np.ndarray:
        """The decoded values of one attribute column, row-aligned with ``ids``."""
        return self._rows.column(name)

    def add(self, vectors: np.ndarray, attributes: Attributes,
            ids: np.ndarray | Sequence[int] | None = None) -> np.ndarray:
        """Append rows; ``ids`` default to consecutive integers. Returns the new ids."""
        new_ids, vecs, first_row = self._rows.append(vectors, attributes, ids)
        if self.ann is not None:
            self.ann.appended(vecs, first_row)
        self._invalidate(vectors_changed=True)
        return new_ids

    def remove(self, ids: np.ndarray | Sequence[int]) -> int:
        """Delete rows by id; unknown ids raise ``VectorIndexError``. Returns the count removed."""
        removed, keep = self._rows.remove(ids)
        if self.ann is not None:
            self.ann.removed(keep, self._rows.vectors)
        self._invalidate(vectors_changed=True)
        return removed

    def update(self, ids: np.ndarray | Sequence[int], *, vectors: np.ndarray | None = None,
               attributes: Attributes | None = None) -> int:
        """Change the vectors and/or some attribute columns of existing rows in place (rows
        keep their place, so nothing is copied but what changed: a status change is a write
        into one column). Unknown ids raise ``VectorIndexError`` and change nothing. Returns the
        count of rows updated."""
        pos, vecs = self._rows.update(ids, vectors, attributes)
        m = pos.shape[0]
        if vecs is not None and m and self.ann is not None:
            self.ann.replaced(pos, vecs, self._rows.vectors)
        self._invalidate(vectors_changed=vecs is not None and m > 0)
        return m

    def _invalidate(self, *, vectors_changed: bool) -> None:
        """Rows or attribute values changed: selections, partitions and graph masks are
        stale; the vector copies too when the vectors changed (or rows moved)."""
        self._selections.clear()
        self._partitions.clear()
        if self.ann is not None:
            self.ann.forget_masks()
        if vectors_changed:
            self._sq_norms = None
            self._flat_i8 = None
            self._device_arrays = None

    def memory_bytes(self) -> int:
        """Bytes held: vectors, ids, attribute columns, cached norms and partitions."""
        norms = self._sq_norms.nbytes if self._sq_norms is not None else 0
        norms += self._flat_i8.nbytes if self._flat_i8 is not None else 0
        graph = self.ann.nbytes() if self.ann is not None else 0
        return int(self._rows.nbytes + norms + graph + self._partitions.nbytes)

    @property
    def partitions(self) -> dict[str, int]:
        """The filters that have a partition, with its row count (most recent last)."""
        return {src: int(p.ids.shape[0]) for src, p in self._partitions.items()}

    # ---------------------------------------------------------------- search
    def search(self, queries: np.ndarray, k: int = 10, where: str | WhereExpr | None = None,
               *, plan: Plan | None = None, exact: bool = False
               ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` ids (int64) and scores (float32), each (nq, k), best first; rows with
        fewer than ``k`` matches are padded with id -1 and score -inf.

        ``plan`` forces one plan (``scan-exact``, ``prefilter-exact`` or, on an
        ``ann="hnsw"`` index, ``ann-hnsw``) instead of the planner's choice — for benchmarks
        and tests; every plan but ``ann-hnsw`` gives the same answer. ``exact``: never the
        approximate plan (only matters with ``ann="hnsw"``)."""
        if plan not in (None, "scan-exact", "prefilter-exact", "ann-hnsw"):
            raise ValueError(f"plan {plan!r} cannot be forced")
        if plan == "ann-hnsw" and self.ann is None:
            raise ConfigurationError("plan 'ann-hnsw' needs an index built with ann='hnsw'")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if q.ndim == 1:
            q = q.reshape(1, -1)
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise VectorIndexError(f"queries must have shape (nq, {self.dim}), got {q.shape}")
        nq, n = q.shape[0], len(self)
        out_ids = np.empty((nq, k), dtype=np.int64)  # (empty + fill: half np.full's cost)
        out_ids.fill(-1)
        out_scores = np.empty((nq, k), dtype=np.float32)
        out_scores.fill(-np.inf)
        if n == 0 or nq == 0:
            self.last_plan = "empty"
            return out_ids, out_scores
        if self.engine == "torch":
            self._torch_search(q, k, where, plan, out_ids, out_scores)
            return out_ids, out_scores
        if where is None and plan is None and not (self.ann is not None and not exact):
            self.last_plan = "flat"
            # measured: numpy's BLAS scan beats FAISS's flat search on CPU, even at nq=1
            self._flat(q, k, out_ids, out_scores)
            return out_ids, out_scores
        if where is None:  # a forced plan without a filter: every row
            key = ""
            rows = np.arange(n)
        else:
            expr = partitions.parsed(where)
            key = expr.source
            self._query_log.record(key)
        if self.ann is not None and (plan == "ann-hnsw" or (plan is None and not exact)):
            expr_or_none = expr if key else None
            if plan == "ann-hnsw" or self._ann_worth_it(key, expr_or_none, n, k):
                self.last_plan = "ann-hnsw"
                self._ann_search(q, k, key, expr_or_none, n, out_ids, out_scores)
                return out_ids, out_scores
        if where is None and plan is None:  # ANN allowed but not worth it
            self.last_plan = "flat"
            self._flat(q, k, out_ids, out_scores)
            return out_ids, out_scores
        part = self._partitions.use(key) if plan is None else None
        if part is not None:
            self.last_plan = "partition-exact" if part.ids.size else "empty"
            if part.ids.size:
                if part.i8 is not None and self._int8_suits(nq, part.ids.shape[0]) \
                        and self._int8_block(q, k, part, out_ids, out_scores):
                    self.last_plan = "partition-int8"
                else:
                    numpy_scan.scan(q, k, part.vectors, part.ids, part.sq, out_ids, out_scores)
            return out_ids, out_scores
        if key:
            rows = self._selected_rows(key, expr, n)
        selected = int(rows.shape[0])
        if selected == 0:
            self.last_plan = "empty"
        elif selected == n and plan is None:  # the filter keeps every row: no filter at all
            self.last_plan = "flat"
            self._flat(q, k, out_ids, out_scores)
        elif plan == "prefilter-exact" or (plan is None
                                           and selected <= self.prefilter_fraction * n):
            self.last_plan = "prefilter-exact"
            part = self._gather(rows)
            numpy_scan.scan(q, k, part.vectors, part.ids, part.sq, out_ids, out_scores)
            if plan is None and self._query_log[key] >= self.partition_after:
                self._keep_partition(key, part)
        elif (plan is None and self._query_log[key] >= self.partition_after
              and selected * (self.dim * 4 + 8) <= self._budget()):
            # an unselective filter the workload keeps using: scanning its own contiguous
            # partition reads only its rows (HQI), instead of every row
            self.last_plan = "partition-exact"
            part = self._gather(rows)
            self._keep_partition(key, part)
            numpy_scan.scan(q, k, part.vectors, part.ids, part.sq, out_ids, out_scores)
        else:
            self.last_plan = "scan-exact"
            mask = np.zeros(n, dtype=bool)
            mask[rows] = True
            self._scan(q, k, mask, out_ids, out_scores)
        return out_ids, out_scores

    # ---------------------------------------------------------------- the ANN plan
    def _ann_worth_it(self, key: str, expr: WhereExpr | None, n: int, k: int) -> bool:
        """ANN for unselective filters only: a selective one is answered exactly from the few
        rows it keeps, faster than a graph walk that must skip the others."""
        if expr is None:
            return n > k
        part = self._partitions.get(key)
        selected = (part.ids.shape[0] if part is not None
                    else self._selected_rows(key, expr, n).shape[0])
        return selected > k and selected >= self.ann_min_fraction * n

    def _ann_search(self, q: np.ndarray, k: int, key: str, expr: WhereExpr | None, n: int,
                    out_ids: np.ndarray, out_scores: np.ndarray) -> None:
        assert self.ann is not None
        if not self.ann.built:  # loaded without a graph, or never built
            self.ann.build(self._rows.vectors)
        nodes, selected = self.ann.filter_nodes(key, lambda: self._row_mask(key, expr, n))
        if selected == 0:
            return
        scores, rows, short = self.ann.search(q, k, nodes, selected)
        valid = rows >= 0
        out_ids[:] = np.where(valid, self._rows.ids[np.where(valid, rows, 0)], -1)
        out_scores[:] = scores
        if short.size:  # the graph walk could not reach k matches: scan those exactly
            ids_s = np.full((short.size, k), -1, dtype=np.int64)
            sc_s = np.full((short.size, k), -np.inf, dtype=np.float32)
            self._scan(q[short], k, self._row_mask(key, expr, n), ids_s, sc_s)
            out_ids[short], out_scores[short] = ids_s, sc_s

    def _row_mask(self, key: str, expr: WhereExpr | None, n: int) -> np.ndarray | None:
        """The rows the filter keeps as a mask (None: no filter)."""
        return None if expr is None else self._selections.mask(key, expr, self._rows.columns, n)

    # ---------------------------------------------------------------- the torch engine
    def _torch_search(self, q: np.ndarray, k: int, where: str | WhereExpr | None,
                      plan: Plan | None, out_ids: np.ndarray, out_scores: np.ndarray) -> None:
        """The torch engine: the filter applied inside a chunked scan on the index's device
        (``torch_scan.filtered_topk``); selective filters scan only their gathered rows."""
        if self._device_arrays is None:  # copied once after each change
            self._device_arrays = torch_engine.to_device(self._rows.vectors, self._rows.ids,
                                                         self.device, self.half)
        selected = None
        if where is not None:
            expr = partitions.parsed(where)
            selected = self._selected_rows(expr.source, expr, len(self))
        self.last_plan = torch_engine.search(self._device_arrays, q, k, selected, plan,
                                             self.prefilter_fraction, self.metric, out_ids,
                                             out_scores)

    # ---------------------------------------------------------------- the exact plans
    def _selected_rows(self, key: str, expr: WhereExpr, n: int) -> np.ndarray:
        return self._selections.rows(key, expr, self._rows.columns, n)

    def _gather(self, rows: np.ndarray) -> Partition:
        return partitions.gather(self._rows.vectors, self._rows.ids, rows, self.metric)

    def _budget(self) -> int:
        return partitions.budget(self.partition_budget_bytes, self._rows.vectors.nbytes)

    def _keep_partition(self, key: str, part: Partition) -> None:
        limit = self._budget()
        if self._int8_wanted(part.ids.shape[0]):
            part.i8 = int8_scan.Int8Rows.quantize(part.vectors, part.ids, part.sq,
                                                  self.int8_kernel)
        self._partitions.keep(key, part, limit)

    def _flat(self, q: np.ndarray, k: int, out_ids: np.ndarray, out_scores: np.ndarray) -> None:
        """No filter: every row. Small batches (and any batch over 8,192 rows or more) read an
        int8 copy of the rows (``partition-int8`` over all of them), built on first use;
        otherwise one BLAS product per block of queries."""
        n = len(self)
        if self.engine == "numpy" and self._int8_wanted(n) and self._int8_suits(q.shape[0], n):
            sq = self._row_sq_norms()
            rows = self._rows
            if self._flat_i8 is None:
                self._flat_i8 = int8_scan.Int8Rows.quantize(rows.vectors, rows.ids, sq,
                                                            self.int8_kernel)
            whole = Partition(ids=rows.ids, vectors=rows.vectors, sq=sq, i8=self._flat_i8)
            if self._int8_block(q, k, whole, out_ids, out_scores):
                self.last_plan = "flat-int8"
                return
        self._scan(q, k, None, out_ids, out_scores)

    def _int8_block(self, q: np.ndarray, k: int, part: Partition, out_ids: np.ndarray,
                    out_scores: np.ndarray) -> bool:
        """Exact top-k over a partition from its int8 copy (``int8_scan``): candidates under
        the error bound, rescored from the float32 rows. False (nothing written) when the
        kernel is unavailable, or for queries that are not finite (the float32 scans answer)."""
        fn = int8_scan.kernel(self.int8_kernel)
        assert part.i8 is not None
        if fn is None:
            return False  # (a query that is not finite: the kernel declines it)
        return part.i8.topk(q, k, fn, int8_scan.threads(), out_ids, out_scores) is not None

    def _int8_wanted(self, rows: int) -> bool:
        """Whether a block of this many rows gets an int8 copy."""
        return (self.int8_min_rows is not None and rows >= self.int8_min_rows
                and int8_scan.kernel(self.int8_kernel) is not None)

    def _int8_suits(self, nq: int, rows: int) -> bool:
        """Whether a batch of ``nq`` queries over ``rows`` rows reads the int8 copy."""
        if nq <= self.int8_max_batch:
            return True
        amx = int8_scan.amx(config=self.int8_kernel)
        return rows >= (_INT8_BATCH_MIN_ROWS_AMX if amx else _INT8_BATCH_MIN_ROWS)

    def _row_sq_norms(self) -> np.ndarray | None:
        """|x|^2 of every row for the l2 metric (cached), None for ip."""
        if self.metric != "l2":
            return None
        if self._sq_norms is None:
            vectors = self._rows.vectors
            self._sq_norms = np.einsum("ij,ij->i", vectors, vectors)
        return self._sq_norms

    def _scan(self, q: np.ndarray, k: int, mask: np.ndarray | None, out_ids: np.ndarray,
              out_scores: np.ndarray) -> None:
        """Exact top-k over every row, the filter applied to the scores (unselective filters
        and unfiltered batches)."""
        numpy_scan.scan(q, k, self._rows.vectors, self._rows.ids, self._row_sq_norms(),
                        out_ids, out_scores, mask)

    # ---------------------------------------------------------------- persistence
    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write vectors, ids, columns and a manifest (written last) into ``directory``."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        columns = self._rows.save(path)
        manifest: dict[str, object] = {
            "format": FORMAT_VERSION, "dim": self.dim, "metric": self.metric,
            "next_id": self._rows.next_id, "prefilter_fraction": self.prefilter_fraction,
            "columns": columns}
        if self.ann is not None:
            manifest["ann"] = {**self.ann.save(path), "min_fraction": self.ann_min_fraction}
        (path / "index.json.tmp").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        os.replace(path / "index.json.tmp", path / "index.json")
        return path

    @classmethod
    def load(cls, directory: str | os.PathLike[str], *, device: str = "cpu",
             int8_kernel: KernelConfig | None = None) -> VectorIndex:
        """Read an index written by ``save``; a missing or inconsistent one raises."""
        path = Path(directory)
        try:
            manifest = json.loads((path / "index.json").read_text(encoding="utf-8"))
            arrays = RowStore.read_arrays(path)
        except (OSError, ValueError, KeyError) as exc:
            raise VectorIndexError(f"no readable vector index in {path}: {exc}") from exc
        if manifest.get("format") != FORMAT_VERSION:
            raise VectorIndexError(f"index in {path} has format {manifest.get('format')!r}; "
                                   f"expected {FORMAT_VERSION}: rebuild it")
        ann = manifest.get("ann")
        index = cls(manifest["dim"], metric=manifest["metric"], device=device,
                    prefilter_fraction=manifest.get("prefilter_fraction", 0.25),
                    ann="hnsw" if ann else "off",
                    ann_min_fraction=float(ann["min_fraction"]) if ann else 0.3,
                    int8_kernel=int8_kernel)
        index._rows = RowStore.from_arrays(index.dim, arrays, manifest["columns"],
                                           int(manifest["next_id"]), path)
        if ann:
            index.ann = HNSWGraph.load(path, ann, index.dim, index.metric, len(index._rows))
        return index


__all__ = ["Metric", "Plan", "VectorIndex"]
