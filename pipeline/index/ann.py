"""An HNSW graph over a ``VectorIndex``'s rows: the approximate plan for unselective filters.

An exact scan of a filter that keeps most rows reads every row for every query; at batch size
one that is memory-bound, and a graph search (HNSW, FAISS's ``IndexHNSWFlat``) answers the
same query from a few thousand distance computations. It is approximate: the answer is what the
graph search finds, and ``recall@k`` below 1 is possible. So it is opt-in
(``VectorIndex(ann="hnsw")``) and only used where the planner may give up exactness.

The filter is applied to the walk's results with an over-fetch sized from the filter's share
of the rows (``search``); a query that comes back short of ``k`` while more rows match is
fetched again four times wider (twice), and then answered by the exact scan. The graph
nodes each filter keeps are remembered per filter text (``filter_nodes``) until the index's
rows or attributes change (``forget_masks``).

Rows of the ``VectorIndex`` move when rows are removed (its arrays are compacted) while HNSW
cannot delete nodes. The graph therefore keeps ``rows``: for each graph node, the index row it
stands for, or -1 once removed. Removed nodes stay in the graph as tombstones (the filter
bitmap never selects them); when they are a quarter of the graph it is rebuilt. Appended rows
are added to the graph as they come.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

from pipeline.errors import ConfigurationError, VectorIndexError

_REBUILD_TOMBSTONES = 0.25  # rebuild once this share of the graph's nodes are removed rows
_RETRIES = 2  # over-fetch x4 this many times for queries short of k, then the exact scan
_MASK_CACHE = 64  # filters whose node masks are remembered


class HNSWGraph:
    """FAISS ``IndexHNSWFlat`` over the rows of a vector index, with a node -> row map."""

    def __init__(self, dim: int, metric: str, *, m: int = 32, ef_construction: int = 64,
                 ef_search: int = 64) -> None:
        if m < 4 or ef_construction < 8 or ef_search < 1:
            raise ConfigurationError(f"HNSW needs m >= 4, ef_construction >= 8, ef_search >= 1 "
                                     f"(got {m}, {ef_construction}, {ef_search})")
        self.dim, self.metric = dim, metric
        self.m, self.ef_construction, self.ef_search = m, ef_construction, ef_search
        self._index: faiss.Index | None = None
        self.rows = np.zeros(0, dtype=np.int64)  # the index row of each graph node, -1: removed
        self._masks: OrderedDict[str, tuple[np.ndarray, int]] = OrderedDict()

    # ---------------------------------------------------------------- maintenance
    def _new(self) -> faiss.Index:
        kind = faiss.METRIC_INNER_PRODUCT if self.metric == "ip" else faiss.METRIC_L2
        index = faiss.IndexHNSWFlat(self.dim, self.m, kind)
        index.hnsw.efConstruction = self.ef_construction
        return index

    def build(self, vectors: np.ndarray) -> None:
        """(Re)build over every row of ``vectors``: node i is row i."""
        self._index = self._new()
        if vectors.shape[0]:
            self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self.rows = np.arange(vectors.shape[0], dtype=np.int64)
        self._masks.clear()

    @property
    def built(self) -> bool:
        return self._index is not None

    def appended(self, vectors: np.ndarray, first_row: int) -> None:
        """Rows ``first_row, first_row + 1, ...`` were appended to the index."""
        if self._index is None or vectors.shape[0] == 0:
            return
        self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self.rows = np.concatenate([self.rows, np.arange(
            first_row, first_row + vectors.shape[0], dtype=np.int64)])

    def removed(self, keep: np.ndarray, vectors_after: np.ndarray) -> None:
        """The index dropped the rows where ``keep`` (over the old rows) is False and
        compacted the others; ``vectors_after`` are its vectors now (for a rebuild)."""
        if self._index is None:
            return
        new_position = np.cumsum(keep) - 1
        live = self.rows >= 0
        still = np.zeros_like(live)
        still[live] = keep[self.rows[live]]
        self.rows = np.where(still, new_position[np.where(live, self.rows, 0)], -1)
        if self.rows.shape[0] and (self.rows < 0).mean() >= _REBUILD_TOMBSTONES:
            self.build(vectors_after)

    def replaced(self, positions: np.ndarray, vectors: np.ndarray,
                 vectors_after: np.ndarray) -> None:
        """The rows at ``positions`` got new ``vectors`` in place: their old nodes become
        tombstones and new nodes stand for them."""
        if self._index is None or positions.shape[0] == 0:
            return
        self.rows = np.where(np.isin(self.rows, positions), -1, self.rows)
        self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self.rows = np.concatenate([self.rows, positions.astype(np.int64)])
        if (self.rows < 0).mean() >= _REBUILD_TOMBSTONES:
            self.build(vectors_after)

    def nbytes(self) -> int:
        """Vectors stored in the graph plus its links (an estimate of FAISS's memory)."""
        if self._index is None:
            return 0
        n = int(self._index.ntotal)
        return n * self.dim * 4 + n * self.m * 2 * 4 + self.rows.nbytes

    def forget_masks(self) -> None:
        """The index's rows or attributes changed: the remembered filter masks are stale."""
        self._masks.clear()

    # ---------------------------------------------------------------- search
    def filter_nodes(self, key: str, row_mask: Callable[[], np.ndarray | None]
                     ) -> tuple[np.ndarray, int]:
        """The graph nodes the filter ``key`` keeps and how many, remembered per filter;
        ``row_mask`` gives the index rows it keeps (None: every row) when not remembered."""
        hit = self._masks.get(key)
        if hit is not None:
            self._masks.move_to_end(key)
            return hit
        nodes = self.node_mask(row_mask())
        hit = (nodes, int(nodes.sum()))
        self._masks[key] = hit
        while len(self._masks) > _MASK_CACHE:
            self._masks.popitem(last=False)
        return hit

    def node_mask(self, row_mask: np.ndarray | None) -> np.ndarray:
        """The graph nodes a search may return: live rows the filter keeps."""
        live = self.rows >= 0
        if row_mask is None:
            return live
        out = np.zeros(self.rows.shape[0], dtype=bool)
        out[live] = row_mask[self.rows[live]]
        return out

    def search(self, q: np.ndarray, k: int, node_mask: np.ndarray, selected: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Graph search of every query, then the filter: the best ``m`` nodes of an unfiltered
        walk are fetched (``m`` = twice ``k`` over the filter's share of the graph) and the
        ones ``node_mask`` keeps are the answer. A query with fewer than ``min(k, selected)``
        kept among them is fetched again with four times ``m`` (twice); the queries still
        short are returned (for the exact scan).

        Why not the filter inside the walk: with a filter correlated with the vectors (it drops
        whole regions), a walk that may only *return* allowed nodes still collects the few it
        meets near the query and stops — measured recall@10 0.61 at 50 % selectivity on
        clustered data — while here a query whose neighbourhood the filter empties comes back
        short and is scanned exactly.

        Returns (scores, rows) each (nq, k), -inf / -1 padded, and the short queries."""
        if self._index is None:
            raise VectorIndexError("the HNSW graph is not built")
        nq, nodes_total = q.shape[0], int(self._index.ntotal)
        want = min(k, selected)
        out_s = np.full((nq, k), -np.inf, dtype=np.float32)
        out_r = np.full((nq, k), -1, dtype=np.int64)
        if want == 0:
            return out_s, out_r, np.zeros(0, dtype=np.int64)
        share = selected / max(nodes_total, 1)
        m = min(nodes_total, int(np.ceil(2 * k / share)))
        pending = np.arange(nq)
        for attempt in range(_RETRIES + 1):
            params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
                efSearch=max(self.ef_search, m))
            dist, nodes = self._index.search(q[pending], m, params=params)
            valid = (nodes >= 0) & node_mask[np.where(nodes >= 0, nodes, 0)]
            found = valid.sum(axis=1)
            done = (found >= want) | (m >= nodes_total)
            for j in np.flatnonzero(done):
                keep = np.flatnonzero(valid[j])[:k]  # in the walk's order: best first
                d = dist[j, keep]
                out_s[pending[j], : keep.size] = d if self.metric == "ip" else -d
                out_r[pending[j], : keep.size] = self.rows[nodes[j, keep]]
            short_done = pending[done & (found < want)]
            pending = pending[~done]
            if not pending.size or attempt == _RETRIES:
                return out_s, out_r, np.concatenate([short_done, pending])
            m = min(nodes_total, 4 * m)
        return out_s, out_r, pending  # pragma: no cover - the loop returns

    # ---------------------------------------------------------------- persistence
    def save(self, path: Path) -> dict[str, object]:
        """Write the graph next to the index's arrays; returns its manifest entry."""
        if self._index is None:
            return {"kind": "hnsw", "built": False, **self._settings()}
        tmp = path / "hnsw.faiss.tmp"
        faiss.write_index(self._index, str(tmp))
        tmp.replace(path / "hnsw.faiss")
        np.save(path / "hnsw_rows.npy", self.rows)
        return {"kind": "hnsw", "built": True, **self._settings()}

    def _settings(self) -> dict[str, int]:
        return {"m": self.m, "ef_construction": self.ef_construction,
                "ef_search": self.ef_search}

    @classmethod
    def load(cls, path: Path, spec: dict[str, object], dim: int, metric: str,
             n_rows: int) -> HNSWGraph:
        graph = cls(dim, metric, m=int(spec["m"]),  # type: ignore[call-overload]
                    ef_construction=int(spec["ef_construction"]),  # type: ignore[call-overload]
                    ef_search=int(spec["ef_search"]))  # type: ignore[call-overload]
        if spec.get("built"):
            try:
                index = faiss.read_index(str(path / "hnsw.faiss"))
                rows = np.load(path / "hnsw_rows.npy")
            except (OSError, RuntimeError, ValueError) as exc:
                raise VectorIndexError(f"the HNSW graph in {path} is unreadable: {exc}") from exc
            if int(index.ntotal) != rows.shape[0] or (rows >= n_rows).any():
                raise VectorIndexError(f"the HNSW graph in {path} does not match the index rows")
            graph._index, graph.rows = index, rows.astype(np.int64)
        return graph
