"""The approximate plan (``ann="hnsw"``): chosen only where allowed, always valid, high recall,
kept in step with adds, removes and save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import ConfigurationError
from pipeline.index.vector_index import VectorIndex


def clustered(n: int, dim: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, dim))
    x = centres[rng.integers(0, 20, n)] + 0.3 * rng.standard_normal((n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = centres[rng.integers(0, 20, 40)] + 0.3 * rng.standard_normal((40, dim))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return x.astype(np.float32), q.astype(np.float32)


def exact(x: np.ndarray, ids: np.ndarray, q: np.ndarray, keep: np.ndarray, k: int
          ) -> np.ndarray:
    rows = np.flatnonzero(keep)
    s = q @ x[rows].T
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return ids[rows][order]


def check_valid(index: VectorIndex, x_by_id: dict[int, np.ndarray], q: np.ndarray,
                found: np.ndarray, scores: np.ndarray, allowed: set[int]) -> None:
    """Whatever the graph finds: allowed ids only, no repeats, true scores, best first."""
    for j in range(q.shape[0]):
        got = [int(i) for i in found[j] if i >= 0]
        assert len(got) == len(set(got))
        assert set(got) <= allowed
        real = [float(x_by_id[i] @ q[j]) for i in got]
        np.testing.assert_allclose(scores[j][: len(got)], real, rtol=1e-4, atol=1e-5)
        assert all(a >= b - 1e-6 for a, b in zip(real, real[1:], strict=False))
        assert np.all(np.isneginf(scores[j][len(got):]))


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, q = clustered(4000)
    kind = np.arange(4000) % 10  # kind < 6 keeps 60 %, kind == 0 keeps 10 %
    return x, q, kind


def build(x: np.ndarray, kind: np.ndarray, **kw: object) -> VectorIndex:
    return VectorIndex.build(x, {"kind": kind}, ann="hnsw", **kw)  # type: ignore[arg-type]


def test_planner_takes_ann_only_for_unselective_filters(data) -> None:
    x, q, kind = data
    index = build(x, kind, int8_min_rows=None)  # the float32 exact plans (int8: own tests)
    index.search(q, 10)
    assert index.last_plan == "ann-hnsw"
    index.search(q, 10, where="kind < 6")
    assert index.last_plan == "ann-hnsw"
    index.search(q, 10, where="kind == 0")  # 10 %: the few rows are scanned exactly
    assert index.last_plan == "prefilter-exact"
    index.search(q, 10, where="kind < 6", exact=True)  # seen twice: its own partition
    assert index.last_plan == "partition-exact"
    index.search(q, 10, exact=True)
    assert index.last_plan == "flat"
    plain = VectorIndex.build(x, {"kind": kind})
    plain.search(q, 10, where="kind < 6")
    assert plain.last_plan != "ann-hnsw"


def test_ann_answers_are_valid_and_recall_is_high(data) -> None:
    x, q, kind = data
    ids = np.arange(x.shape[0])
    index = build(x, kind)
    by_id = {int(i): x[i] for i in ids}
    for where, keep in ((None, np.ones_like(kind, dtype=bool)), ("kind < 6", kind < 6),
                        ("kind != 3", kind != 3)):
        found, scores = index.search(q, 10, where=where)
        assert index.last_plan == "ann-hnsw"
        check_valid(index, by_id, q, found, scores, set(ids[keep].tolist()))
        truth = exact(x, ids, q, keep, 10)
        recall = np.mean([len(set(found[j]) & set(truth[j])) / 10 for j in range(len(q))])
        assert recall >= 0.95, (where, recall)


def test_forced_ann_on_a_filter_with_fewer_than_k_rows_returns_them_all(data) -> None:
    x, q, kind = data
    marker = np.zeros(x.shape[0], dtype=np.int64)
    marker[[5, 1234, 3999]] = 1
    index = VectorIndex.build(x, {"kind": kind, "marker": marker}, ann="hnsw")
    found, scores = index.search(q, 10, where="marker == 1", plan="ann-hnsw")
    assert index.last_plan == "ann-hnsw"
    for row in found:
        assert sorted(int(i) for i in row[:3]) == [5, 1234, 3999]
        assert (row[3:] == -1).all()
    assert np.isneginf(scores[:, 3:]).all()


def test_removed_rows_never_come_back_and_added_rows_are_found(data) -> None:
    x, q, kind = data
    index = build(x[:3000], kind[:3000])
    gone = np.arange(0, 3000, 7)  # under a quarter: tombstones, no rebuild
    index.remove(gone)
    assert index.ann is not None and (index.ann.rows < 0).sum() == gone.size
    new_ids = index.add(x[3000:], {"kind": kind[3000:]}, ids=np.arange(3000, 4000))
    found, scores = index.search(x[3000:3040], 1)
    assert index.last_plan == "ann-hnsw"
    assert (found[:, 0] == new_ids[:40]).mean() >= 0.95  # a vector finds itself
    found, _ = index.search(q, 10)
    assert not np.isin(found, gone).any()
    live = set(range(4000)) - set(gone.tolist())
    by_id = {i: x[i] for i in live}
    found, scores = index.search(q, 10, where="kind < 6")
    check_valid(index, by_id, q, found, scores, {i for i in live if kind[i] < 6})


def test_many_removals_rebuild_the_graph(data) -> None:
    x, _q, kind = data
    index = build(x, kind)
    index.remove(np.arange(0, 4000, 2))
    assert index.ann is not None and index.ann.rows.shape[0] == 2000
    assert (index.ann.rows == np.arange(2000)).all()
    found, _ = index.search(x[1:41:2], 1)
    assert (found[:, 0] == np.arange(1, 41, 2)).mean() >= 0.95


def test_save_and_load_keep_the_graph(tmp_path: Path, data) -> None:
    x, q, kind = data
    index = build(x, kind)
    index.remove(np.arange(10))
    before = index.search(q, 10, where="kind < 6")
    index.save(tmp_path / "idx")
    loaded = VectorIndex.load(tmp_path / "idx")
    assert loaded.ann is not None and loaded.ann.built
    after = loaded.search(q, 10, where="kind < 6")
    assert loaded.last_plan == "ann-hnsw"
    np.testing.assert_array_equal(before[0], after[0])
    plain = VectorIndex.build(x, {"kind": kind})
    plain.save(tmp_path / "plain")
    assert VectorIndex.load(tmp_path / "plain").ann is None


def test_misuse_is_a_clear_error(data) -> None:
    x, q, kind = data
    with pytest.raises(ConfigurationError, match="ann"):
        VectorIndex(8, ann="ivf")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="CPU engine"):
        VectorIndex(8, ann="hnsw", engine="torch")
    plain = VectorIndex.build(x, {"kind": kind})
    with pytest.raises(ConfigurationError, match="ann='hnsw'"):
        plain.search(q, 10, plan="ann-hnsw")


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 300), k=st.integers(1, 12), cut=st.integers(0, 9),
       seed=st.integers(0, 2**16))
def test_property_answers_are_valid_and_complete_when_few_rows_match(
        n: int, k: int, cut: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 8)).astype(np.float32)
    kind = rng.integers(0, 10, n)
    index = VectorIndex.build(x, {"kind": kind}, ann="hnsw", ann_min_fraction=0.0)
    q = rng.standard_normal((5, 8)).astype(np.float32)
    found, scores = index.search(q, k, where=f"kind >= {cut}")
    keep = kind >= cut
    allowed = set(np.flatnonzero(keep).tolist())
    check_valid(index, {i: x[i] for i in range(n)}, q, found, scores, allowed)
    # the graph walk, its retries and the exact fallback always fill min(k, matches) slots
    assert ((found >= 0).sum(axis=1) == min(k, len(allowed))).all()


def test_updated_vectors_move_in_the_graph(data) -> None:
    x, _q, kind = data
    index = build(x, kind)
    rows = np.arange(100, 140)
    new = x[3000:3040]  # rows 100..139 take the vectors of rows 3000..3039
    index.update(rows, vectors=new, attributes={"kind": np.full(40, 9)})
    found, _ = index.search(new, 2)
    assert index.last_plan == "ann-hnsw"
    assert set(found[:, 0].tolist()) | set(found[:, 1].tolist()) >= set(rows.tolist()) - {-1}
    assert index.ann is not None and (index.ann.rows < 0).sum() == 40  # old nodes: tombstones
    found, _ = index.search(new, 1, where="kind != 9")  # the copies at 3000.. are found
    same = kind[3000:3040] != 9
    assert (found[same, 0] == np.arange(3000, 3040)[same]).mean() >= 0.95


def test_a_filter_correlated_with_the_vectors_keeps_recall() -> None:
    """A filter that drops whole clusters empties some queries' neighbourhoods: those come
    back short from the graph and are scanned exactly, so recall stays high."""
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((40, 32))
    cluster = rng.integers(0, 40, 6000)
    x = centres[cluster] + 0.25 * rng.standard_normal((6000, 32))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    q = centres[rng.integers(0, 40, 60)] + 0.25 * rng.standard_normal((60, 32))
    q = (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)
    index = VectorIndex.build(x, {"cluster": cluster}, ann="hnsw")
    keep = cluster < 20  # half the rows, whole clusters
    found, scores = index.search(q, 10, where="cluster < 20")
    assert index.last_plan == "ann-hnsw"
    ids = np.arange(6000)
    check_valid(index, {int(i): x[i] for i in ids}, q, found, scores,
                set(ids[keep].tolist()))
    truth = exact(x, ids, q, keep, 10)
    recall = np.mean([len(set(found[j]) & set(truth[j])) / 10 for j in range(len(q))])
    assert recall >= 0.95, recall
