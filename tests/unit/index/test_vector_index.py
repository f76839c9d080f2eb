"""VectorIndex: every plan returns exactly what brute-force filtered search returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import ConfigurationError, InputError, VectorIndexError
from pipeline.index.vector_index import VectorIndex

Row = dict[str, object]
Pred = tuple[str, Callable[[Row], bool]]


def brute_force(vectors: np.ndarray, ids: np.ndarray, rows: list[Row], queries: np.ndarray,
                k: int, pred: Callable[[Row], bool] | None, metric: str
                ) -> tuple[np.ndarray, np.ndarray]:
    """The reference: score every matching row in float64, order by (score desc, id asc)."""
    v, q = vectors.astype(np.float64), queries.astype(np.float64)
    out_ids = np.full((len(q), k), -1, dtype=np.int64)
    out_scores = np.full((len(q), k), -np.inf)
    keep = [i for i, r in enumerate(rows) if pred is None or pred(r)]
    for j, qv in enumerate(q):
        if metric == "ip":
            scores = [float(v[i] @ qv) for i in keep]
        else:
            scores = [-float(((v[i] - qv) ** 2).sum()) for i in keep]
        order = sorted(range(len(keep)), key=lambda t: (-scores[t], ids[keep[t]]))[:k]
        out_ids[j, : len(order)] = [ids[keep[t]] for t in order]
        out_scores[j, : len(order)] = [scores[t] for t in order]
    return out_ids, out_scores


# ---------------------------------------------------------------- strategies

LEAVES: list[Pred] = [
    ('type == "A"', lambda r: r["type"] == "A"),
    ("type != 'B'", lambda r: r["type"] != "B"),
    ('type in ["A", "C"]', lambda r: r["type"] in ("A", "C")),
    ('type not in ["C"]', lambda r: r["type"] != "C"),
    ('type == "Z"', lambda r: False),
    ("conf >= 0.3", lambda r: r["conf"] >= 0.3),
    ("conf < 0.7", lambda r: r["conf"] < 0.7),
    ("conf == 0.5", lambda r: r["conf"] == 0.5),
    ("0.2 <= conf <= 0.8", lambda r: 0.2 <= r["conf"] <= 0.8),
    ("year in [1, 2]", lambda r: r["year"] in (1, 2)),
    ("year > 2", lambda r: r["year"] > 2),
]


def _and(a: Pred, b: Pred) -> Pred:
    return f"({a[0]}) and ({b[0]})", lambda r: a[1](r) and b[1](r)


def _or(a: Pred, b: Pred) -> Pred:
    return f"({a[0]}) or ({b[0]})", lambda r: a[1](r) or b[1](r)


def _not(a: Pred) -> Pred:
    return f"not ({a[0]})", lambda r: not a[1](r)


predicates = st.recursive(
    st.sampled_from(LEAVES),
    lambda inner: st.one_of(st.builds(_and, inner, inner), st.builds(_or, inner, inner),
                            st.builds(_not, inner)),
    max_leaves=4)


@dataclass
class Case:
    vectors: np.ndarray
    queries: np.ndarray
    rows: list[Row]
    ids: np.ndarray | None
    pred: Pred | None
    k: int
    metric: str
    fraction: float
    integral: bool


@st.composite
def cases(draw: st.DrawFn) -> Case:
    n = draw(st.integers(0, 50))
    dim = draw(st.integers(1, 6))
    nq = draw(st.integers(1, 12))  # 8 or more queries take the BLAS block plans
    integral = draw(st.booleans())  # small ints: exact arithmetic, so exact ties
    if integral:
        elements = st.integers(-2, 2).map(float)
    else:
        elements = st.floats(-1, 1, width=32, allow_subnormal=False)
    vecs = draw(st.lists(st.lists(elements, min_size=dim, max_size=dim),
                         min_size=n + nq, max_size=n + nq))
    arr = np.array(vecs, dtype=np.float32).reshape(n + nq, dim)
    rows = [{"type": draw(st.sampled_from("ABC")),
             "conf": draw(st.integers(0, 10)) / 10,
             "year": draw(st.integers(0, 4))} for _ in range(n)]
    ids = draw(st.one_of(st.none(), st.lists(st.integers(0, 10_000), min_size=n,
                                             max_size=n, unique=True)))
    return Case(arr[:n], arr[n:], rows, None if ids is None else np.array(ids),
                draw(st.one_of(st.none(), predicates)), draw(st.integers(1, n + 5)),
                draw(st.sampled_from(["ip", "l2"])), draw(st.sampled_from([0.0, 0.25, 1.0])),
                integral)


def attributes(rows: list[Row]) -> dict[str, np.ndarray]:
    return {"type": np.array([r["type"] for r in rows], dtype=str),
            "conf": np.array([r["conf"] for r in rows], dtype=np.float64),
            "year": np.array([r["year"] for r in rows], dtype=np.int64)}


def assert_same_as_brute_force(case: Case, index: VectorIndex) -> None:
    where, fn = case.pred if case.pred else (None, None)
    got_ids, got_scores = index.search(case.queries, case.k, where)
    ids = case.ids if case.ids is not None else np.arange(len(case.rows))
    ref_ids, ref_scores = brute_force(case.vectors, ids, case.rows, case.queries, case.k, fn,
                                      case.metric)
    assert got_ids.dtype == np.int64 and got_scores.dtype == np.float32
    assert got_ids.shape == got_scores.shape == (len(case.queries), case.k)
    assert ((got_ids == -1) == np.isneginf(got_scores)).all()  # padding is paired
    assert ((got_ids == -1) == (ref_ids == -1)).all()
    if case.integral:  # exact arithmetic: identical ids (id tie-break) and scores
        np.testing.assert_array_equal(got_ids, ref_ids)
        np.testing.assert_array_equal(got_scores, ref_scores.astype(np.float32))
        return
    # float rounding may reorder near-ties: compare score lists, and check each id's score
    np.testing.assert_allclose(got_scores, ref_scores, rtol=1e-5, atol=1e-5)
    truth = {int(i): n for n, i in enumerate(ids)}
    allowed = {int(ids[n]) for n, r in enumerate(case.rows) if fn is None or fn(r)}
    for j, row in enumerate(got_ids):
        real = [int(i) for i in row if i >= 0]
        assert len(set(real)) == len(real) and set(real) <= allowed
        for i, s in zip(real, got_scores[j], strict=False):
            _, true = brute_force(case.vectors[[truth[i]]], np.array([i]),
                                  [case.rows[truth[i]]], case.queries[[j]], 1, None,
                                  case.metric)
            assert s == pytest.approx(true[0, 0], rel=1e-5, abs=1e-5)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_search_equals_brute_force(case: Case) -> None:
    index = VectorIndex.build(case.vectors, attrs := attributes(case.rows),
                              metric=case.metric, ids=case.ids,
                              prefilter_fraction=case.fraction)
    assert_same_as_brute_force(case, index)
    # the same filter again: served from the cached selection or a partition, same answer
    assert_same_as_brute_force(case, index)
    # and every plan, forced, gives the same answer
    for plan in ("scan-exact", "prefilter-exact"):
        forced = VectorIndex.build(case.vectors, attrs, metric=case.metric, ids=case.ids)
        original = forced.search
        forced.search = lambda q, k, w, p=plan, f=original: f(q, k, w, plan=p)  # type: ignore
        assert_same_as_brute_force(case, forced)


# ---------------------------------------------------------------- plans and padding


def _demo(n: int = 200, dim: int = 8, seed: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    vecs = rng.normal(size=(n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    attrs = {"type": np.array(["Mission" if i % 10 else "Agency" for i in range(n)]),
             "confidence": np.linspace(0, 1, n)}
    return vecs, attrs


def test_plans_are_recorded() -> None:
    vecs, attrs = _demo()
    index = VectorIndex.build(vecs, attrs, int8_min_rows=None)  # float32 plans (int8: own tests)
    index.search(vecs[:3], 5)
    assert index.last_plan == "flat"
    index.search(vecs[:3], 5, 'type == "Agency"')  # 10% of rows
    assert index.last_plan == "prefilter-exact"
    index.search(vecs[:3], 5, 'type == "Mission"')  # 90% of rows
    assert index.last_plan == "scan-exact"
    index.search(vecs[:3], 5, 'type == "Nobody"')
    assert index.last_plan == "empty"


def test_batches_scan_and_repeated_filters_get_partitions() -> None:
    vecs, attrs = _demo(n=400)
    index = VectorIndex.build(vecs, attrs, partition_after=2, int8_min_rows=None)
    queries = vecs[:16]
    ref_ids, _ = index.search(queries[:1], 5, 'type == "Mission"')  # unselective: BLAS scan
    assert index.last_plan == "scan-exact"
    # a batch, another filter text selecting the same rows: one masked BLAS scan
    ids, _ = index.search(queries, 5, 'type == "Mission" or type == "None"')
    assert index.last_plan == "scan-exact" and ids[0].tolist() == ref_ids[0].tolist()
    again, _ = index.search(queries[:1], 5, 'type == "Mission"')  # seen twice, unselective
    assert index.last_plan == "partition-exact" and again.tolist() == ref_ids.tolist()
    assert index.partitions == {'type == "Mission"': 360}
    index.search(queries, 5)
    assert index.last_plan == "flat"
    first, _ = index.search(queries, 5, 'type == "Agency"')
    assert index.last_plan == "prefilter-exact" and list(index.partitions) == ['type == "Mission"']
    index.search(queries, 5, 'type == "Agency"')  # seen twice: now it has a partition
    assert index.partitions == {'type == "Mission"': 360, 'type == "Agency"': 40}
    again, _ = index.search(queries, 5, ' type == "Agency" ')
    assert index.last_plan == "partition-exact" and (again == first).all()
    index.add(vecs[:1] * 0.5, {"type": ["Agency"], "confidence": [0.5]})
    assert index.partitions == {}  # rows changed: partitions are rebuilt, never stale
    index.search(queries, 5, 'type == "Agency"')
    assert index.last_plan == "prefilter-exact"


def test_partitions_stay_within_their_budget() -> None:
    vecs, attrs = _demo(n=400, dim=8)
    index = VectorIndex.build(vecs, attrs, partition_after=1,
                              partition_budget_bytes=40 * (8 * 4 + 8) + 10)
    index.search(vecs[:2], 3, 'type == "Agency"')  # 40 rows: fits
    index.search(vecs[:2], 3, 'confidence < 0.05')  # 20 rows: the older one goes
    assert list(index.partitions) == ["confidence < 0.05"]


def test_padding_when_fewer_rows_match() -> None:
    vecs, attrs = _demo(n=20)
    index = VectorIndex.build(vecs, attrs)
    ids, scores = index.search(vecs[0], k=5, where='type == "Agency"')  # rows 0 and 10
    assert ids.shape == (1, 5)
    assert sorted(ids[0, :2].tolist()) == [0, 10]
    assert ids[0, 2:].tolist() == [-1, -1, -1]
    assert np.isneginf(scores[0, 2:]).all() and np.isfinite(scores[0, :2]).all()
    ids, scores = index.search(vecs[:2], k=30)  # more than the index holds
    assert (ids[:, 20:] == -1).all() and (ids[:, :20] >= 0).all()
    empty = VectorIndex.build(np.zeros((0, 4), np.float32), {"type": np.array([], dtype=str)})
    ids, scores = empty.search(np.ones((2, 4), np.float32), k=3, where='type == "x"')
    assert (ids == -1).all() and np.isneginf(scores).all()


def test_ties_break_by_smaller_id_in_every_plan() -> None:
    vecs = np.ones((300, 3), dtype=np.float32)
    ids = np.arange(300)[::-1] * 3  # ids descend with position
    attrs = {"keep": np.array(["y" if i % 3 else "n" for i in range(300)])}
    index = VectorIndex.build(vecs, attrs, ids=ids)
    kept = np.sort(ids[[i for i in range(300) if i % 3]])
    for plan in (None, "scan-exact", "prefilter-exact"):
        got, _ = index.search(np.ones(3, np.float32), k=4, where='keep == "y"', plan=plan)
        assert got[0].tolist() == kept[:4].tolist(), plan
        got, _ = index.search(np.ones(3, np.float32), k=4, plan=plan)
        assert got[0].tolist() == [0, 3, 6, 9], plan
    with pytest.raises(ValueError, match="cannot be forced"):
        index.search(np.ones(3, np.float32), k=4, plan="partition-exact")


# ---------------------------------------------------------------- lifecycle


def test_save_load_round_trip(tmp_path: Path) -> None:
    vecs, attrs = _demo()
    index = VectorIndex.build(vecs, attrs, metric="l2", ids=np.arange(200) * 7)
    before = index.search(vecs[:5], 6, 'type == "Mission" and confidence > 0.3')
    index.save(tmp_path / "ix")
    loaded = VectorIndex.load(tmp_path / "ix")
    assert loaded.metric == "l2" and len(loaded) == 200 and loaded.dim == 8
    after = loaded.search(vecs[:5], 6, 'type == "Mission" and confidence > 0.3')
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])
    assert loaded.column("type").tolist() == attrs["type"].tolist()
    assert loaded.add(vecs[:1], {k: v[:1] for k, v in attrs.items()}).tolist() == [1394]


def test_load_refuses_missing_or_inconsistent(tmp_path: Path) -> None:
    with pytest.raises(VectorIndexError, match="no readable vector index"):
        VectorIndex.load(tmp_path / "nothing")
    vecs, attrs = _demo(n=10)
    VectorIndex.build(vecs, attrs).save(tmp_path / "ix")
    other = VectorIndex.build(vecs[:5], {k: v[:5] for k, v in attrs.items()})
    other.save(tmp_path / "ix5")
    (tmp_path / "ix" / "arrays.npz").write_bytes((tmp_path / "ix5" / "arrays.npz").read_bytes())
    VectorIndex.load(tmp_path / "ix")  # consistent by itself: 5 rows with 5 ids
    (tmp_path / "ix" / "arrays.npz").write_bytes(b"garbage")
    with pytest.raises(VectorIndexError):
        VectorIndex.load(tmp_path / "ix")


def test_add_and_remove_keep_search_exact() -> None:
    vecs, attrs = _demo(n=60)
    index = VectorIndex.build(vecs[:40], {k: v[:40] for k, v in attrs.items()})
    extra = {"type": np.array(["Planet"] * 20), "confidence": attrs["confidence"][40:]}
    new_ids = index.add(vecs[40:], extra)
    assert new_ids.tolist() == list(range(40, 60))
    assert index.remove([0, 5, 41]) == 3
    assert len(index) == 57
    types = np.concatenate([attrs["type"][:40], extra["type"]])
    alive = np.setdiff1d(np.arange(60), [0, 5, 41])
    for where, pred in [(None, lambda i: True), ('type == "Planet"', lambda i: i >= 40),
                        ('type != "Agency"', lambda i: types[i] != "Agency")]:
        got, scores = index.search(vecs[:3], 5, where)
        for j in range(3):
            cand = [i for i in alive if pred(i)]
            s = vecs[cand] @ vecs[j]
            expect = [cand[t] for t in np.argsort(-s, kind="stable")[:5]]
            assert got[j].tolist() == expect
    with pytest.raises(VectorIndexError, match="not in the index"):
        index.remove([0])
    with pytest.raises(VectorIndexError, match="unique"):
        index.add(vecs[:1], {k: v[:1] for k, v in attrs.items()}, ids=[1])


def test_bad_input_is_refused() -> None:
    vecs, attrs = _demo(n=10)
    with pytest.raises(VectorIndexError, match="2-d"):
        VectorIndex.build(vecs[0], attrs)
    with pytest.raises(VectorIndexError, match="shape"):
        VectorIndex.build(vecs, {"type": attrs["type"][:3]})
    bad = vecs.copy()
    bad[0, 0] = np.nan
    with pytest.raises(VectorIndexError, match="NaN"):
        VectorIndex.build(bad, attrs)
    index = VectorIndex.build(vecs, attrs)
    with pytest.raises(VectorIndexError, match="columns"):
        index.add(vecs[:1], {"type": attrs["type"][:1]})
    with pytest.raises(VectorIndexError, match="string column"):
        index.add(vecs[:1], {"type": np.array([1]), "confidence": np.array([0.5])})
    with pytest.raises(VectorIndexError, match="shape"):
        index.search(np.ones((1, 3), np.float32))
    with pytest.raises(InputError, match="known columns: confidence, type"):
        index.search(vecs[:1], 3, "colour == 'red'")
    with pytest.raises(ValueError):
        index.search(vecs[:1], 0)
    with pytest.raises(ConfigurationError):
        VectorIndex.build(vecs, attrs, metric="cosine")  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 12), st.booleans(), st.booleans())
def test_wide_top_k_is_exact_with_ties_and_filtered_scores(seed: int, k: int, ties: bool,
                                                           holes: bool) -> None:
    from pipeline.index.numpy_scan import _CHUNK, _topk_chunked

    rng = np.random.default_rng(seed)
    m = 8 * _CHUNK * k + int(rng.integers(0, 3 * _CHUNK))  # ragged tail too
    b = 5
    s = (rng.integers(-3, 4, (b, m)) if ties else rng.standard_normal((b, m))).astype(np.float32)
    if holes:  # filtered-out rows score -inf; one row keeps fewer than k finite scores
        s[rng.random((b, m)) < 0.5] = -np.inf
        s[0, k // 2:] = -np.inf
    ids = rng.permutation(10 * m)[:m].astype(np.int64)
    got_ids = np.full((b, k), -1, dtype=np.int64)
    got_scores = np.full((b, k), -np.inf, dtype=np.float32)
    _topk_chunked(s, ids, k, got_ids, got_scores)
    for j in range(b):
        keep = np.flatnonzero(np.isfinite(s[j]))
        order = sorted(keep, key=lambda c: (-s[j, c], ids[c]))[:k]
        want = [int(ids[c]) for c in order] + [-1] * (k - len(order))
        assert got_ids[j].tolist() == want
        assert got_scores[j, :len(order)].tolist() == [float(s[j, c]) for c in order]


# ---------------------------------------------------------------- the torch engine (GPU code)


@settings(max_examples=150, deadline=None)
@given(cases(), st.booleans())
def test_torch_engine_equals_brute_force(case: Case, half: bool) -> None:
    """The engine CUDA uses, run on the CPU: the filter inside a chunked torch scan, from a
    float16 copy reranked in float32 when ``half`` — the same answers as brute force, for
    every plan it takes."""
    attrs = attributes(case.rows)
    index = VectorIndex.build(case.vectors, attrs, metric=case.metric, ids=case.ids,
                              prefilter_fraction=case.fraction, engine="torch", half=half)
    assert index.engine == "torch"
    assert_same_as_brute_force(case, index)
    if case.pred is not None and len(case.rows):
        assert index.last_plan in ("empty", "flat", "prefilter-exact", "scan-exact")
    for plan in ("scan-exact", "prefilter-exact"):
        forced = VectorIndex.build(case.vectors, attrs, metric=case.metric, ids=case.ids,
                                   engine="torch", half=half)
        original = forced.search
        forced.search = lambda q, k, w, p=plan, f=original: f(q, k, w, plan=p)  # type: ignore
        assert_same_as_brute_force(case, forced)


def test_torch_engine_follows_adds_and_removes() -> None:
    vectors, attrs = _demo(n=300, dim=16, seed=3)
    index = VectorIndex.build(vectors, attrs, engine="torch", half=True)
    reference = VectorIndex.build(vectors, attrs)
    q = np.random.default_rng(5).standard_normal((7, 16)).astype(np.float32)
    np.testing.assert_array_equal(index.search(q, 5)[0], reference.search(q, 5)[0])
    for idx in (index, reference):
        idx.remove(np.arange(0, 300, 3))
        idx.add(vectors[:40] * 2, {name: col[:40] for name, col in attrs.items()})
    for where in (None, "confidence >= 0.7", "type == 'Mission' and confidence > 0.5"):
        np.testing.assert_array_equal(index.search(q, 5, where)[0],
                                      reference.search(q, 5, where)[0])


def test_cuda_without_a_gpu_is_a_clear_error() -> None:
    import torch

    if torch.cuda.is_available():  # pragma: no cover - the CI machines have no GPU
        assert VectorIndex(8, device="cuda").engine == "torch"
    else:
        with pytest.raises(ConfigurationError, match="no CUDA GPU"):
            VectorIndex(8, device="cuda")
    with pytest.raises(ConfigurationError, match="unknown device"):
        VectorIndex(8, device="tpu")


# ---------------------------------------------------------------- in-place updates


@settings(max_examples=120, deadline=None)
@given(cases(), st.data())
def test_update_in_place_equals_a_fresh_build(case: Case, data: st.DataObject) -> None:
    """Warm an index (cached selections, partitions), update some rows' attributes and
    vectors in place, and it answers as brute force over the updated rows."""
    n = len(case.rows)
    index = VectorIndex.build(case.vectors, attributes(case.rows), metric=case.metric,
                              ids=case.ids, prefilter_fraction=case.fraction)
    where = case.pred[0] if case.pred else None
    for _ in range(3):
        index.search(case.queries, case.k, where)
    ids = case.ids if case.ids is not None else np.arange(n)
    chosen = data.draw(st.lists(st.integers(0, max(n - 1, 0)), unique=True,
                                max_size=n)) if n else []
    new_rows = [dict(case.rows[i]) for i in range(n)]
    for i in chosen:
        new_rows[i] = {"type": data.draw(st.sampled_from("ABCD")),  # D: a new category
                       "conf": data.draw(st.integers(0, 10)) / 10,
                       "year": data.draw(st.integers(0, 4))}
    vectors = case.vectors.copy()
    moved = [i for i in chosen if data.draw(st.booleans())]
    if moved:
        vectors[moved] = -vectors[moved] + 0.5  # still exact in float32 for integral cases
    index.update(ids[chosen], attributes=attributes([new_rows[i] for i in chosen]))
    if moved:
        index.update(ids[moved], vectors=vectors[moved])
    after = Case(vectors, case.queries, new_rows, case.ids, case.pred, case.k, case.metric,
                 case.fraction, case.integral)
    assert_same_as_brute_force(after, index)


def test_update_refuses_unknown_ids_and_bad_shapes_and_changes_nothing() -> None:
    vecs, attrs = _demo(n=30)
    index = VectorIndex.build(vecs, attrs)
    before = index.search(vecs[:2], 5, 'type == "Agency"')
    with pytest.raises(VectorIndexError, match="not in the index"):
        index.update([3, 99], attributes={"type": np.array(["Agency", "Agency"])})
    with pytest.raises(VectorIndexError, match="shape"):
        index.update([3], vectors=np.zeros((1, 3), dtype=np.float32))
    with pytest.raises(VectorIndexError, match="no attribute column"):
        index.update([3], attributes={"colour": np.array(["red"])})
    with pytest.raises(VectorIndexError, match="numeric column"):
        index.update([3], attributes={"confidence": np.array(["high"])})
    after = index.search(vecs[:2], 5, 'type == "Agency"')
    np.testing.assert_array_equal(before[0], after[0])
    assert index.update([3], attributes={"type": np.array(["Agency"])}) == 1
    got, _ = index.search(vecs[3:4], 1, 'type == "Agency"')
    assert got[0, 0] == 3
