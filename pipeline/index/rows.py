"""The rows of a ``VectorIndex``: vectors, their integer ids and the attribute columns.

``RowStore`` keeps the three row-aligned (row ``i`` of the vectors is named ``ids[i]`` and has
value ``columns[name][i]``) and owns every change to them: ``append`` (ids default to
consecutive integers past the largest ever used), ``remove`` (the arrays are compacted) and
``update`` (vectors and attribute values rewritten in place, rows keep their place). Every
input is checked before anything is written, so a refused change leaves the rows as they
were. String columns are stored as categorical codes (``CategoricalColumn``), numbers as
numeric arrays. ``save``/``from_arrays`` write and read them as ``arrays.npz`` (the index's
manifest, written after it, says what the columns are).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import VectorIndexError
from pipeline.index.where import CategoricalColumn, Column

Attributes = Mapping[str, np.ndarray | Sequence[object]]


class RowStore:
    """Vectors (float32, contiguous), their ids (int64) and attribute columns, row-aligned."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.vectors = np.zeros((0, dim), dtype=np.float32)
        self.ids = np.zeros(0, dtype=np.int64)
        self.columns: dict[str, Column] = {}
        self.next_id = 0  # ids default to consecutive integers from here

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def define_columns(self, attributes: Attributes) -> None:
        """Empty columns of the kinds ``attributes``' arrays have (strings: categorical)."""
        self.columns = {name: _empty_like_column(values) for name, values in attributes.items()}

    def column(self, name: str) -> np.ndarray:
        """The decoded values of one attribute column, row-aligned with ``ids``."""
        col = self.columns[name]
        return col.decode() if isinstance(col, CategoricalColumn) else col.copy()

    @property
    def nbytes(self) -> int:
        """Bytes of the vectors, ids and attribute columns."""
        cols = sum(c.codes.nbytes if isinstance(c, CategoricalColumn) else c.nbytes
                   for c in self.columns.values())
        return int(self.vectors.nbytes + self.ids.nbytes + cols)

    # ---------------------------------------------------------------- changes
    def append(self, vectors: np.ndarray, attributes: Attributes,
               ids: np.ndarray | Sequence[int] | None = None
               ) -> tuple[np.ndarray, np.ndarray, int]:
        """Append rows. Returns the new ids, the appended vectors (float32) and the row the
        first of them landed on."""
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        if vecs.ndim != 2 or vecs.shape[1] != self.dim:
            raise VectorIndexError(f"vectors must have shape (n, {self.dim}), got {vecs.shape}")
        if not np.isfinite(vecs).all():
            raise VectorIndexError("vectors contain NaN or infinity")
        n = vecs.shape[0]
        if set(attributes) != set(self.columns):
            raise VectorIndexError(f"attribute columns {sorted(attributes)} differ from the "
                                   f"index's columns {sorted(self.columns)}")
        new_ids = (np.arange(self.next_id, self.next_id + n, dtype=np.int64) if ids is None
                   else np.asarray(ids, dtype=np.int64).reshape(-1))
        if new_ids.shape[0] != n:
            raise VectorIndexError(f"{new_ids.shape[0]} ids for {n} vectors")
        if np.unique(new_ids).shape[0] != n or np.isin(new_ids, self.ids).any():
            raise VectorIndexError("ids must be unique and not already in the index")
        if (new_ids < 0).any():
            raise VectorIndexError("ids must be non-negative (-1 marks padding in results)")
        columns: dict[str, Column] = {}
        for name, values in attributes.items():
            arr = np.asarray(values)
            if arr.shape != (n,):
                raise VectorIndexError(f"attribute {name!r} has shape {arr.shape}, "
                                       f"expected ({n},)")
            columns[name] = _append(self.columns[name], arr, name)
        first_row = self.vectors.shape[0]
        self.vectors = np.ascontiguousarray(np.concatenate([self.vectors, vecs]))
        self.ids = np.concatenate([self.ids, new_ids])
        self.columns = columns
        if n:
            self.next_id = max(self.next_id, int(new_ids.max()) + 1)
        return new_ids, vecs, first_row

    def remove(self, ids: np.ndarray | Sequence[int]) -> tuple[int, np.ndarray]:
        """Delete rows by id (unknown ids raise). Returns the count removed and which of the
        old rows were kept."""
        gone = np.unique(np.asarray(ids, dtype=np.int64).reshape(-1))
        hit = np.isin(self.ids, gone)
        if int(hit.sum()) != gone.shape[0]:
            missing = np.setdiff1d(gone, self.ids)[:5].tolist()
            raise VectorIndexError(f"ids not in the index: {missing}")
        keep = ~hit
        self.vectors = np.ascontiguousarray(self.vectors[keep])
        self.ids = self.ids[keep]
        self.columns = {name: _take(col, keep) for name, col in self.columns.items()}
        return int(gone.shape[0]), keep

    def update(self, ids: np.ndarray | Sequence[int], vectors: np.ndarray | None,
               attributes: Attributes | None) -> tuple[np.ndarray, np.ndarray | None]:
        """Rewrite the vectors and/or some attribute values of existing rows in place;
        unknown ids raise and change nothing. Returns the rows written and the new vectors
        (float32; None when only attributes changed)."""
        want = np.asarray(ids, dtype=np.int64).reshape(-1)
        m = want.shape[0]
        if np.unique(want).shape[0] != m:
            raise VectorIndexError("update: ids must be unique")
        sorter = np.argsort(self.ids, kind="stable")
        at = np.searchsorted(self.ids, want, sorter=sorter)
        at = np.minimum(at, max(len(self) - 1, 0))
        found = (self.ids[sorter[at]] == want) if len(self) else np.zeros(m, dtype=bool)
        if not found.all():
            raise VectorIndexError(f"ids not in the index: {want[~found][:5].tolist()}")
        pos = sorter[at]
        vecs = None
        if vectors is not None:
            vecs = np.ascontiguousarray(vectors, dtype=np.float32)
            if vecs.shape != (m, self.dim):
                raise VectorIndexError(f"update: vectors must have shape ({m}, {self.dim}), "
                                       f"got {vecs.shape}")
            if not np.isfinite(vecs).all():
                raise VectorIndexError("vectors contain NaN or infinity")
        columns = dict(self.columns)
        for name, values in (attributes or {}).items():
            if name not in self.columns:
                raise VectorIndexError(f"update: no attribute column {name!r}")
            arr = np.asarray(values)
            if arr.shape != (m,):
                raise VectorIndexError(f"attribute {name!r} has shape {arr.shape}, "
                                       f"expected ({m},)")
            columns[name] = _written(self.columns[name], pos, arr, name)
        # everything is checked: now write
        self.columns = columns
        if vecs is not None and m:
            self.vectors[pos] = vecs
        return pos, vecs

    # ---------------------------------------------------------------- persistence
    def save(self, path: Path) -> dict[str, dict[str, object]]:
        """Write the vectors, ids and one array per column to ``path / "arrays.npz"``
        (atomically); returns each column's manifest entry (its kind, and a categorical
        column's vocabulary)."""
        arrays: dict[str, np.ndarray] = {"vectors": self.vectors, "ids": self.ids}
        columns: dict[str, dict[str, object]] = {}
        for name, col in self.columns.items():
            if isinstance(col, CategoricalColumn):
                arrays[f"col__{name}"] = col.codes
                columns[name] = {"kind": "categorical", "vocabulary": list(col.vocabulary)}
            else:
                arrays[f"col__{name}"] = col
                columns[name] = {"kind": "numeric"}
        tmp = path / "arrays.npz.tmp"
        with tmp.open("wb") as fh:
            np.savez(fh, allow_pickle=False, **arrays)
        os.replace(tmp, path / "arrays.npz")
        return columns

    @staticmethod
    def read_arrays(path: Path) -> dict[str, np.ndarray]:
        """The arrays ``save`` wrote to ``path``."""
        with np.load(path / "arrays.npz", allow_pickle=False) as data:
            return {key: data[key] for key in data.files}

    @classmethod
    def from_arrays(cls, dim: int, arrays: Mapping[str, np.ndarray],
                    columns: Mapping[str, Mapping[str, Any]], next_id: int,
                    path: Path) -> RowStore:
        """The rows ``arrays`` hold (as ``save`` wrote them, the columns as its manifest
        entries say); inconsistent ones raise."""
        rows = cls(dim)
        vectors, ids = arrays["vectors"], arrays["ids"]
        n = ids.shape[0]
        if vectors.shape != (n, dim):
            raise VectorIndexError(f"index in {path} is inconsistent: {vectors.shape} vectors "
                                   f"for {n} ids")
        for name, spec in columns.items():
            values = arrays.get(f"col__{name}")
            if values is None or values.shape != (n,):
                raise VectorIndexError(f"index in {path} is inconsistent: column {name!r}")
            rows.columns[name] = (
                CategoricalColumn(values.astype(np.int32), tuple(spec["vocabulary"]))
                if spec["kind"] == "categorical" else values)
        rows.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        rows.ids = ids.astype(np.int64)
        rows.next_id = next_id
        return rows


# ------------------------------------------------------------------- columns


def _is_text(arr: np.ndarray) -> bool:
    return arr.dtype.kind in "USO"


def _empty_like_column(values: np.ndarray | Sequence[object]) -> Column:
    arr = np.asarray(values)
    if _is_text(arr):
        return CategoricalColumn(np.zeros(0, dtype=np.int32), ())
    if arr.dtype.kind not in "biuf":
        raise VectorIndexError(f"unsupported attribute dtype {arr.dtype}: use str, int or float")
    return np.zeros(0, dtype=arr.dtype)


def _append(col: Column, arr: np.ndarray, name: str) -> Column:
    if isinstance(col, CategoricalColumn):
        if not _is_text(arr) and arr.shape[0]:
            raise VectorIndexError(f"attribute {name!r} is a string column; got {arr.dtype}")
        strings = arr.astype(str)
        known = {v: i for i, v in enumerate(col.vocabulary)}
        vocab = list(col.vocabulary)
        for value in dict.fromkeys(strings.tolist()):
            if value not in known:
                known[value] = len(vocab)
                vocab.append(value)
        codes = np.fromiter((known[s] for s in strings.tolist()), dtype=np.int32,
                            count=strings.shape[0])
        return CategoricalColumn(np.concatenate([col.codes, codes]), tuple(vocab))
    if _is_text(arr) and arr.shape[0]:
        raise VectorIndexError(f"attribute {name!r} is a numeric column; got strings")
    if arr.shape[0] == 0:
        return col
    return np.concatenate([col, arr.astype(np.result_type(col.dtype, arr.dtype))])


def _written(col: Column, pos: np.ndarray, arr: np.ndarray, name: str) -> Column:
    """``col`` with the values ``arr`` written at the rows ``pos`` (a new column)."""
    if isinstance(col, CategoricalColumn):
        fresh = _append(CategoricalColumn(np.zeros(0, np.int32), col.vocabulary), arr, name)
        assert isinstance(fresh, CategoricalColumn)
        codes = col.codes.copy()
        codes[pos] = fresh.codes
        return CategoricalColumn(codes, fresh.vocabulary)
    if _is_text(arr) and arr.shape[0]:
        raise VectorIndexError(f"attribute {name!r} is a numeric column; got strings")
    out = col.astype(np.result_type(col.dtype, arr.dtype))
    out[pos] = arr
    return out


def _take(col: Column, keep: np.ndarray) -> Column:
    if isinstance(col, CategoricalColumn):
        return CategoricalColumn(col.codes[keep], col.vocabulary)
    return col[keep]


__all__ = ["Attributes", "RowStore"]
