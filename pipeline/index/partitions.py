"""What a ``VectorIndex`` learns from its workload: the filters it is asked, the rows each
selects, and partitions of the rows of the filters it keeps using.

HQI's idea: a filter the workload keeps asking (``partition_after`` times) gets its rows
gathered into a contiguous ``Partition``, so a query of it reads only those rows. The
partitions share a memory budget (default: the size of the vectors, at least 64 MiB) and the
least recently used goes first. ``QueryLog`` counts the filters asked (the rare ones are
forgotten once there are too many), ``Selections`` remembers the rows of the last filters
evaluated, ``parsed`` the parse of each filter text. Any change to the rows makes the
selections and partitions stale: the index clears them.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pipeline.index import int8_scan
from pipeline.index.where import Column, WhereExpr, parse_where

SELECTION_CACHE = 64  # filters whose selected rows are remembered
_QUERY_LOG_LIMIT = 10_000  # distinct filters counted before the rare ones are forgotten
_MIN_BUDGET = 64 << 20  # the default partition budget is at least this many bytes


@lru_cache(maxsize=1024)
def _parsed(source: str) -> WhereExpr:
    return parse_where(source)


def parsed(where: str | WhereExpr) -> WhereExpr:
    """``where`` as an expression (a text's parse is cached per text)."""
    return where if isinstance(where, WhereExpr) else _parsed(where.strip())


@dataclass
class Partition:
    """The rows one filter selects, gathered into contiguous memory."""

    ids: np.ndarray
    vectors: np.ndarray
    sq: np.ndarray | None  # squared norms, for l2
    i8: int8_scan.Int8Rows | None = None  # int8 codes for the memory-bound queries

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes + self.vectors.nbytes
                   + (self.sq.nbytes if self.sq is not None else 0)
                   + (self.i8.nbytes if self.i8 is not None else 0))


def gather(vectors: np.ndarray, ids: np.ndarray, rows: np.ndarray, metric: str) -> Partition:
    """The ``rows`` of ``vectors`` (named ``ids``) as a partition of their own."""
    vecs = vectors[rows]  # one gather, contiguous
    sq = np.einsum("ij,ij->i", vecs, vecs) if metric == "l2" else None
    return Partition(ids=ids[rows], vectors=vecs, sq=sq)


def budget(configured: int | None, vectors_nbytes: int) -> int:
    """Bytes the partitions may hold: ``configured``, else the vectors' size (at least
    64 MiB)."""
    if configured is not None:
        return configured
    return max(_MIN_BUDGET, vectors_nbytes)


class QueryLog:
    """How often each filter was asked (the workload), bounded in size."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def record(self, key: str) -> None:
        self._counts[key] += 1
        if len(self._counts) > _QUERY_LOG_LIMIT:  # a long-lived index: keep the workload
            self._counts = Counter(dict(self._counts.most_common(_QUERY_LOG_LIMIT // 10)))

    def __getitem__(self, key: str) -> int:
        return self._counts[key]


class Selections:
    """The rows each of the last ``SELECTION_CACHE`` filters selects, by filter text."""

    def __init__(self) -> None:
        self._rows: OrderedDict[str, np.ndarray] = OrderedDict()

    def rows(self, key: str, expr: WhereExpr, columns: Mapping[str, Column],
             n: int) -> np.ndarray:
        """The rows (ascending) ``expr`` (whose text is ``key``) keeps of ``n``."""
        rows = self._rows.get(key)
        if rows is None:
            rows = np.flatnonzero(expr.evaluate(columns, n))
            self._rows[key] = rows
            while len(self._rows) > SELECTION_CACHE:
                self._rows.popitem(last=False)
        else:
            self._rows.move_to_end(key)
        return rows

    def mask(self, key: str, expr: WhereExpr, columns: Mapping[str, Column],
             n: int) -> np.ndarray:
        """The rows ``expr`` keeps as a mask over all ``n``."""
        mask = np.zeros(n, dtype=bool)
        mask[self.rows(key, expr, columns, n)] = True
        return mask

    def clear(self) -> None:
        self._rows.clear()


class Partitions(OrderedDict[str, Partition]):
    """The partitions kept, by filter text, least recently used first."""

    def use(self, key: str) -> Partition | None:
        """The partition of ``key`` (now the most recently used), if there is one."""
        part = self.get(key)
        if part is not None:
            self.move_to_end(key)
        return part

    def keep(self, key: str, part: Partition, limit: int) -> None:
        """Keep ``part`` unless it alone is over ``limit`` bytes; the least recently used go
        until the rest fit."""
        if part.nbytes > limit:
            return
        self[key] = part
        while self.nbytes > limit:
            self.popitem(last=False)

    @property
    def nbytes(self) -> int:
        return sum(p.nbytes for p in self.values())


__all__ = ["SELECTION_CACHE", "Partition", "Partitions", "QueryLog", "Selections", "budget",
           "gather", "parsed"]
