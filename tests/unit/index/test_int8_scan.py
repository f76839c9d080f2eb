"""The int8 first pass (``partition-int8``): candidates under a rigorous bound, rescored in
float32 — the answer must equal brute-force filtered search, ties and padding included."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.index import int8_scan
from pipeline.index.vector_index import VectorIndex


@pytest.fixture(autouse=True, scope="module")
def _the_kernel_on() -> object:
    """These tests are the kernel's own: they run it even in a session that turned it off for
    everything else (``VERIKG_INT8_KERNEL=0``), built for the session's target (native, or a
    portable ``VERIKG_INT8_MARCH``), and assert what that build does on this CPU."""
    session = int8_scan.default_kernel()
    previous = int8_scan.use_default_kernel(int8_scan.KernelConfig(
        cache_dir=session.cache_dir, compiler=session.compiler, march=session.march))
    yield
    int8_scan.use_default_kernel(previous)


def brute_force(x: np.ndarray, ids: np.ndarray, keep: np.ndarray, q: np.ndarray, k: int,
                metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Float64 reference: top k of the kept rows by (score desc, id asc), -1 / -inf padded."""
    v, qq = x.astype(np.float64)[keep], q.astype(np.float64)
    kid = ids[keep]
    s = qq @ v.T if metric == "ip" else -((qq[:, None, :] - v[None, :, :]) ** 2).sum(-1)
    out_i = np.full((len(q), k), -1, dtype=np.int64)
    out_s = np.full((len(q), k), -np.inf)
    for j in range(len(q)):
        order = np.lexsort((kid, -s[j]))[:k]
        out_i[j, : order.size] = kid[order]
        out_s[j, : order.size] = s[j, order]
    return out_i, out_s


def check(index: VectorIndex, x: np.ndarray, ids: np.ndarray, keep: np.ndarray, q: np.ndarray,
          k: int, where: str | None, metric: str, integral: bool) -> None:
    got_i, got_s = index.search(q, k, where)
    check_answer(got_i, got_s, x, ids, keep, q, k, metric, integral)


def check_answer(got_i: np.ndarray, got_s: np.ndarray, x: np.ndarray, ids: np.ndarray,
                 keep: np.ndarray, q: np.ndarray, k: int, metric: str, integral: bool) -> None:
    ref_i, ref_s = brute_force(x, ids, keep, q, k, metric)
    assert ((got_i == -1) == (ref_i == -1)).all()
    if integral:  # exact arithmetic: the same ids (id tie-break) and the same scores
        np.testing.assert_array_equal(got_i, ref_i)
        np.testing.assert_array_equal(got_s, ref_s.astype(np.float32))
    else:  # rounding may swap near-ties: the same score lists, each id with its own score
        # float32 sums of d products err by ~d eps |q| |x| (cancellation): the tolerance
        mag = np.linalg.norm(q, axis=1)[:, None] * max(float(np.linalg.norm(x, axis=1).max()),
                                                       1.0)
        if metric == "l2":
            mag = (mag + np.linalg.norm(q, axis=1)[:, None] ** 2
                   + float((x.astype(np.float64) ** 2).sum(1).max()))
        tol = 1e-5 * mag + 1e-6
        finite = np.isfinite(ref_s)
        assert (np.abs(got_s[finite] - ref_s[finite])
                <= np.broadcast_to(tol, ref_s.shape)[finite]).all()
        pos = {int(i): n for n, i in enumerate(ids)}
        for j in range(len(q)):
            for i, s in zip(got_i[j], got_s[j], strict=True):
                if i < 0:
                    continue
                assert keep[pos[int(i)]]
                v = x[pos[int(i)]].astype(np.float64)
                true = v @ q[j] if metric == "ip" else -((v - q[j]) ** 2).sum()
                assert abs(s - true) <= tol[j, 0]


@st.composite
def cases(draw: st.DrawFn) -> tuple:
    n = draw(st.integers(1, 120))
    dim = draw(st.sampled_from([1, 3, 17, 64, 128, 256]))  # 64k: the VNNI path; 128k: 4-bit
    nq = draw(st.integers(1, 20))
    integral = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if integral:  # small integers: exact ties, duplicate and zero rows
        x = rng.integers(-2, 3, size=(n, dim)).astype(np.float32)
        q = rng.integers(-2, 3, size=(nq, dim)).astype(np.float32)
    else:
        scale = draw(st.sampled_from([1e-3, 1.0, 50.0]))
        x = (rng.normal(size=(n, dim)) * scale).astype(np.float32)
        q = (rng.normal(size=(nq, dim)) * scale).astype(np.float32)
        if draw(st.booleans()):  # duplicates, a zero row and a zero query
            x[rng.integers(0, n, n // 3)] = x[0]
            x[-1] = 0
            q[0] = 0
    group = rng.integers(0, 4, n)
    threshold = draw(st.integers(0, 4))
    ids = rng.permutation(10 * n)[:n] if draw(st.booleans()) else np.arange(n)
    return (x, q, group, threshold, ids, draw(st.integers(1, n + 3)),
            draw(st.sampled_from(["ip", "l2"])), integral)


@pytest.mark.parametrize("mode", ["amx", "no-amx", "int4"])
@settings(max_examples=250, deadline=None)
@given(case=cases())
def test_int8_plan_equals_brute_force(case: tuple, mode: str) -> None:
    """Batches multiplied by AMX tiles (where the CPU has them) and by the VNNI loop; single
    queries through the 4-bit first pass (d a multiple of 128, every partition size)."""
    x, q, group, threshold, ids, k, metric, integral = case
    before_amx, before_int4 = int8_scan.amx(), int8_scan._INT4_MIN_ROWS
    try:
        int8_scan.amx(mode == "amx")
        if mode == "int4":
            int8_scan._INT4_MIN_ROWS = 0
        index = VectorIndex.build(x, {"g": group}, metric=metric, ids=ids, partition_after=1,
                                  int8_min_rows=0, int8_max_batch=64)
        where = f"g < {threshold}"
        keep = group < threshold
        check(index, x, ids, keep, q, k, where, metric, integral)  # first sight: the partition
        if mode == "int4":
            for j in range(len(q)):
                check(index, x, ids, keep, q[j:j + 1], k, where, metric, integral)
            part = index._partitions.get(where)
            if part is not None and part.i8 is not None and x.shape[1] % 128 == 0:
                # the 4-bit pass where the kernel has a fast one (VNNI), whatever this CPU is
                fast4 = int8_scan.int4_wanted(len(part.i8.ids), x.shape[1])
                assert (part.i8.codes4 is not None) is fast4
        else:
            check(index, x, ids, keep, q, k, where, metric, integral)
    finally:
        int8_scan.amx(before_amx)
        int8_scan._INT4_MIN_ROWS = before_int4
    if 0 < keep.sum() < len(x):  # (a filter keeping every row is no filter: "flat")
        assert index.last_plan == "partition-int8"


class _Always:
    """A split chooser that always splits a single query among the threads it is given."""

    def pick(self, m: int, n_threads: int) -> int:
        return n_threads

    def record(self, m: int, t: int, seconds: float) -> None:
        pass


@st.composite
def split_cases(draw: st.DrawFn) -> tuple:
    n = draw(st.integers(1, 2600))  # 1 to 6 chunks of 512 rows, the last one short
    dim = draw(st.sampled_from([64, 128, 256]))  # 64: the int8 pass shared out; else 4-bit
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    integral = draw(st.booleans())
    if integral:  # ties everywhere: candidates overflow their slots, the int8 pass answers
        x = rng.integers(-1, 2, size=(n, dim)).astype(np.float32)
        q = rng.integers(-1, 2, size=(1, dim)).astype(np.float32)
    else:
        x = _clustered(n, dim, seed=int(rng.integers(2**31)))
        q = _clustered(1, dim, seed=int(rng.integers(2**31)))
        if draw(st.booleans()):  # crowded: three points and a little noise, the query among
            # them: the 4-bit bound cannot separate the rows, its candidates overflow
            x = (x[:3][rng.integers(0, min(3, n), n)]
                 + 0.02 * rng.normal(size=(n, dim))).astype(np.float32)
            q = x[:1] + np.float32(1e-2)
    ids = rng.permutation(3 * n)[:n].astype(np.int64)
    return (x, q, ids, draw(st.integers(1, 40)), draw(st.integers(2, 4)),
            draw(st.sampled_from(["ip", "l2"])), integral)


@settings(max_examples=150, deadline=None)
@given(case=split_cases())
def test_a_single_query_shared_out_equals_brute_force(case: tuple) -> None:
    """One query's rows shared among 2-4 threads (more threads than cores too: a thread that
    starts late takes fewer chunks, or none): the 4-bit pass with its floor and candidates
    gathered from every thread, its overflow into the int8 pass, and the int8 pass alone."""
    x, q, ids, k, threads, metric, integral = case
    saved = int8_scan._SPLIT_MIN_ROWS, int8_scan._INT4_MIN_ROWS, int8_scan._splits
    try:
        int8_scan._SPLIT_MIN_ROWS, int8_scan._INT4_MIN_ROWS = 0, 0
        int8_scan._splits = _Always()  # type: ignore[assignment]
        sq = np.einsum("ij,ij->i", x, x) if metric == "l2" else None
        rows = int8_scan.Int8Rows.quantize(x, ids, sq)
        fn = int8_scan.kernel()
        assert fn is not None
        assert (rows.codes4 is not None) is int8_scan.int4_wanted(*x.shape)
        out_i = np.empty((1, k), dtype=np.int64)
        out_s = np.empty((1, k), dtype=np.float32)
        for _ in range(2):  # the second time over reused slots and a warm pool
            assert rows.topk(q, k, fn, threads, out_i, out_s) is not None
            check_answer(out_i, out_s, x, ids, np.ones(len(x), dtype=bool), q, k, metric,
                         integral)
    finally:
        int8_scan._SPLIT_MIN_ROWS, int8_scan._INT4_MIN_ROWS, int8_scan._splits = saved


@pytest.mark.parametrize("blocks", range(1, 11))
def test_the_4bit_pass_at_every_width(blocks: int) -> None:
    """1 to 10 blocks of 128 dimensions: the kernel's widths with the query's codes held in
    registers (up to 8) and the one that reads them from memory. Exact answers, and 4-bit
    scores good enough that no query's candidates overflow (garbage scores would, and the
    int8 pass would then hide them in the answer)."""
    dim = 128 * blocks
    x = _clustered(2000, dim, seed=blocks)
    rng = np.random.default_rng(blocks)
    q = (x[rng.choice(len(x), 12)] + 0.02 * rng.normal(size=(12, dim))).astype(np.float32)
    saved = int8_scan._INT4_MIN_ROWS
    try:
        int8_scan._INT4_MIN_ROWS = 0
        rows = int8_scan.Int8Rows.quantize(x, np.arange(len(x)), None)
    finally:
        int8_scan._INT4_MIN_ROWS = saved
    fn = int8_scan.kernel()
    assert fn is not None
    out_i = np.empty((1, 10), dtype=np.int64)
    out_s = np.empty((1, 10), dtype=np.float32)
    exact = q.astype(np.float64) @ x.T.astype(np.float64)
    for j in range(len(q)):
        assert rows.topk(q[j:j + 1], 10, fn, 1, out_i, out_s) is not None
        assert out_i[0].tolist() == np.lexsort((np.arange(len(x)), -exact[j]))[:10].tolist()
    if rows.codes4 is None:  # no AVX-512 VNNI: no 4-bit pass, the int8 pass answered
        return
    assert rows.stats4[:2].tolist() == [len(q), 0]
    # the scores the pass ranks by, against numpy: nibbles unpacked from the stored layout
    # (per 128 dimensions, byte j holds dimension j low and j + 64 high, both + 8), the query
    # quantised as the kernel does, integer dot products, then the two scales
    packed = rows.codes4.reshape(len(x), blocks, 64).astype(np.int64)
    codes = np.concatenate([packed & 15, packed >> 4], axis=2).reshape(len(x), dim) - 8
    for j in range(3):
        qf = q[j].astype(np.float64)
        sq = np.float32(np.abs(qf).max() / 127.0)
        q8 = np.clip(np.rint(qf / np.float64(sq)), -127, 127).astype(np.int64)
        want = (sq * rows.scale4) * (codes @ q8).astype(np.float32)
        np.testing.assert_array_equal(int8_scan.scores4(rows, q[j]), want)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_overflowing_4bit_candidates_are_answered_by_the_int8_pass(threads: int) -> None:
    """Rows built so that 4-bit rounding inverts the order: the best rows (two coordinates at
    3.49 / 7, rounded down) score below a crowd of worse ones (3.51 / 7 and 2.51 / 7, rounded
    up) by their 4-bit codes. The crowd overflows the 4-bit candidates' slots; only the int8
    pass that follows (shared out like the 4-bit one) can tell the rows apart."""
    n, dim, k = 1200, 128, 5
    rng = np.random.default_rng(5)
    x = rng.choice([-1.0, 1.0], size=(n, dim))  # on the 4-bit grid: scale 1 / 7 wins
    x[:, 0], x[:, 2] = 3.51 / 7, 2.51 / 7
    best = rng.choice(n, k, replace=False)
    x[best, 0] = x[best, 2] = 3.49 / 7
    x = x.astype(np.float32)
    q = np.zeros((1, dim), dtype=np.float32)
    q[0, 0] = q[0, 2] = 1.0
    saved = int8_scan._SPLIT_MIN_ROWS, int8_scan._INT4_MIN_ROWS, int8_scan._splits
    try:
        int8_scan._SPLIT_MIN_ROWS, int8_scan._INT4_MIN_ROWS = 0, 0
        int8_scan._splits = _Always()  # type: ignore[assignment]
        rows = int8_scan.Int8Rows.quantize(x, np.arange(n), None)
        fn = int8_scan.kernel()
        assert fn is not None
        out_i = np.empty((1, k), dtype=np.int64)
        out_s = np.empty((1, k), dtype=np.float32)
        assert rows.topk(q, k, fn, threads, out_i, out_s) is not None
    finally:
        int8_scan._SPLIT_MIN_ROWS, int8_scan._INT4_MIN_ROWS, int8_scan._splits = saved
    # tried once, overflowed once (without AVX-512 VNNI: no 4-bit pass, the int8 pass alone)
    assert rows.stats4[:2].tolist() == ([1, 1] if rows.codes4 is not None else [0, 0])
    assert sorted(out_i[0].tolist()) == sorted(best.tolist())
    np.testing.assert_allclose(out_s[0], 6.98 / 7, rtol=1e-6)


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.partition(":")[2].split())
    except OSError:
        pass
    return set()


def test_amx_is_used_where_the_cpu_has_it() -> None:
    """On a Linux Xeon with AMX-INT8 the kernel is built with it and Linux grants the tiles,
    so the batch tests above cover both loops there; turning it off is honoured."""
    flags = _cpu_flags()
    native = int8_scan.default_kernel().march == "native"  # a portable build has no AMX loop
    has = native and {"amx_int8", "amx_tile", "avx512bw"} <= flags
    assert int8_scan.amx() is has
    if has:
        assert int8_scan.amx(False) is False and int8_scan.amx() is False
        assert int8_scan.amx(True) is True


def test_with_amx_big_batches_over_mid_sized_partitions_read_the_int8_copy() -> None:
    x = _clustered(12_000, 128, seed=5)
    group = np.arange(len(x)) % 4  # partitions of 3,000 rows: AMX's batch threshold, not VNNI's
    q = _clustered(200, 128, seed=6)
    index = VectorIndex.build(x, {"g": group}, partition_after=1)
    plain = VectorIndex.build(x, {"g": group}, partition_after=1, int8_min_rows=None)
    plain.search(q[:1], 10, "g == 1")  # first sight: the partitions are built
    index.search(q[:1], 10, "g == 1")
    want = plain.search(q, 10, "g == 1")
    assert plain.last_plan == "partition-exact"
    before = int8_scan.amx()
    try:
        for on in (True, False):
            int8_scan.amx(on)
            got = index.search(q, 10, "g == 1")
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
            expect = "partition-int8" if int8_scan.amx() else "partition-exact"
            assert index.last_plan == expect
    finally:
        int8_scan.amx(before)


def _clustered(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, dim))
    x = centres[rng.integers(0, 50, n)] + 0.3 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_candidates_hold_the_top_k_and_are_few() -> None:
    x = _clustered(5000, 96)
    q = _clustered(64, 96, seed=1)
    ids = np.arange(5000, dtype=np.int64) * 3
    rows = int8_scan.Int8Rows.quantize(x, ids, None)
    fn = int8_scan.kernel()
    assert fn is not None, "the kernel should build here (a C compiler is installed)"
    out_i = np.empty((64, 10), dtype=np.int64)
    out_s = np.empty((64, 10), dtype=np.float32)
    count = rows.topk(q, 10, fn, 2, out_i, out_s)
    assert count is not None
    exact = q.astype(np.float64) @ x.T.astype(np.float64)
    for j in range(len(q)):
        top = np.lexsort((ids, -exact[j]))[:10]
        assert out_i[j].tolist() == ids[top].tolist()
        np.testing.assert_allclose(out_s[j], exact[j, top], rtol=1e-6, atol=1e-7)
    # the bound is tight enough to matter: a few dozen rows of 5,000 rescored, not all
    assert np.median(count) < 0.02 * len(x)


@pytest.mark.parametrize("split", [4, 1])
def test_a_single_query_splits_its_rows_among_threads(monkeypatch: pytest.MonkeyPatch,
                                                      split: int) -> None:
    x = _clustered(40_000, 64, seed=3)
    group = np.arange(len(x)) % 2  # 20,000-row partitions: above _SPLIT_MIN_ROWS
    q = _clustered(3, 64, seed=4)
    picked: list[int] = []

    def pick(self: object, m: int, n_threads: int) -> int:
        picked.append(m)
        return split

    monkeypatch.setattr(int8_scan._SplitChooser, "pick", pick)
    index = VectorIndex.build(x, {"g": group}, partition_after=1)
    plain = VectorIndex.build(x, {"g": group}, partition_after=1, int8_min_rows=None)
    for j in range(3):
        plain.search(q[j], 10, "g == 0")
        index.search(q[j], 10, "g == 0")
        want = plain.search(q[j], 10, "g == 0")
        got = index.search(q[j], 10, "g == 0")
        assert index.last_plan == "partition-int8" and plain.last_plan == "partition-exact"
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    assert picked and set(picked) == {20_000} or int8_scan.threads() == 1


def test_the_split_follows_the_measured_time_per_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(int8_scan, "_EXPLORE_EVERY", 8)
    chooser = int8_scan._SplitChooser()
    m = 10_000
    # each choice is measured once first
    first = [chooser.pick(m, 2), chooser.pick(m, 2)]
    assert first[0] == 1
    chooser.record(m, 1, 300e-6)
    assert chooser.pick(m, 2) == 2
    chooser.record(m, 2, 200e-6)
    picks = [chooser.pick(m, 2) for _ in range(16)]
    assert picks.count(2) == 14 and picks.count(1) == 2  # the faster, and the other explored
    for _ in range(6):  # the second core gets busy: splitting now costs 3x
        chooser.record(m, 2, 900e-6)
    picks = [chooser.pick(m, 2) for _ in range(16)]
    assert picks.count(1) == 14 and picks.count(2) == 2
    # another size class learns on its own: measured unsplit first
    assert chooser.pick(100_000, 2) == 1 and chooser.pick(5_000, 2) == 1
    chooser.record(100_000, 1, 4e-3)
    assert chooser.pick(100_000, 2) == 2 and chooser.pick(5_000, 2) == 1


@pytest.mark.parametrize("dim", [32, 128])  # 128: through the 4-bit pass, which overflows too
def test_more_candidates_than_slots_are_all_rescored(monkeypatch: pytest.MonkeyPatch,
                                                     dim: int) -> None:
    monkeypatch.setattr(int8_scan, "_INT4_MIN_ROWS", 0)
    # every row the same vector: the bound cannot separate them, all are candidates
    x = np.tile(_clustered(1, dim), (600, 1))
    x[::7] *= 0.5
    group = np.zeros(len(x), dtype=np.int64)
    group[-1] = 1  # a filter keeping every row would be no filter
    monkeypatch.setattr(int8_scan, "_CAP_PER_K", 0)  # 256 slots for 600 candidates
    index = VectorIndex.build(x, {"g": group}, partition_after=1, int8_min_rows=0)
    q = np.vstack([x[:1], -x[:1]])
    index.search(q, 5, "g == 0")
    ids, scores = index.search(q, 5, "g == 0")
    assert index.last_plan == "partition-int8"
    full = [i for i in range(600) if i % 7]
    assert ids[0].tolist() == full[:5]  # ties broken by the smaller id
    assert ids[1].tolist() == [0, 7, 14, 21, 28]  # the halved rows score highest for -x
    assert np.isfinite(scores).all()
    part = index._partitions["g == 0"]
    assert part.i8 is not None
    out_i = np.empty((2, 5), dtype=np.int64)
    out_s = np.empty((2, 5), dtype=np.float32)
    fn = int8_scan.kernel()
    assert fn is not None
    count = part.i8.topk(q, 5, fn, 1, out_i, out_s)
    assert count is not None and count[0] > 256  # 514 tied rows: past the slots, second pass
    assert out_i.tolist() == ids.tolist()
    assert (part.i8.codes4 is not None) is (dim == 128 and int8_scan.int4_wanted(600, dim))
    for j in range(2):  # one query at a time: the 4-bit pass, where there is one
        count = part.i8.topk(q[j:j + 1], 5, fn, 1, out_i[j:j + 1], out_s[j:j + 1])
        assert count is not None
        assert count[0] > 256 if j == 0 else count[0] == 86  # -x: the 86 halved rows tie
    assert out_i.tolist() == ids.tolist()


def test_the_4bit_pass_thins_the_rows_and_keeps_the_answer() -> None:
    """Single queries over a big partition read the 4-bit codes first; the answer is the
    float32 plan's, the rows rescored as few as the int8 pass's, the copy counted."""
    x = _clustered(12_000, 128, seed=7)
    group = np.arange(len(x)) % 2  # 6,000-row partitions: above _INT4_MIN_ROWS
    q = _clustered(20, 128, seed=8)
    index = VectorIndex.build(x, {"g": group}, partition_after=1)
    plain = VectorIndex.build(x, {"g": group}, partition_after=1, int8_min_rows=None)
    index.search(q[:1], 10, "g == 1")
    plain.search(q[:1], 10, "g == 1")
    part = index._partitions["g == 1"]
    assert part.i8 is not None
    if not int8_scan.int4_wanted(6000, 128):  # no VNNI here: the int8 pass alone
        assert part.i8.codes4 is None
        return
    assert part.i8.codes4 is not None and part.i8.codes4.shape == (6000, 64)
    assert part.i8.nbytes >= 6000 * (128 + 64)
    for j in range(len(q)):
        got = index.search(q[j], 10, "g == 1")
        want = plain.search(q[j], 10, "g == 1")
        assert index.last_plan == "partition-int8"
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    fn = int8_scan.kernel()
    assert fn is not None
    out_i = np.empty((1, 10), dtype=np.int64)
    out_s = np.empty((1, 10), dtype=np.float32)
    count = part.i8.topk(q[:1], 10, fn, 1, out_i, out_s)
    assert count is not None and count[0] < 0.01 * 6000


def test_without_the_kernel_the_float32_plans_answer() -> None:
    x = _clustered(3000, 64)
    group = np.arange(3000) % 3
    off = int8_scan.KernelConfig(enabled=False)
    int8_scan._built.cache_clear()
    try:
        assert int8_scan.kernel(off) is None
        index = VectorIndex.build(x, {"g": group}, partition_after=1, int8_min_rows=0,
                                  int8_kernel=off)
        index.search(x[:2], 5, "g == 1")
        ids, _ = index.search(x[:2], 5, "g == 1")
        assert index.last_plan == "partition-exact"
        assert ids[1, 0] == 1  # row 1 is in group 1 and is its own best match
    finally:
        int8_scan._built.cache_clear()


def test_a_compiler_failure_is_logged_and_falls_back(
        tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    failing = int8_scan.KernelConfig(cache_dir=tmp_path / "kernels", compiler="/bin/false")
    int8_scan._built.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="pipeline.index.int8_scan"):
            assert int8_scan.kernel(failing) is None
        assert "float32 scans only" in caplog.text and "/bin/false" in caplog.text
        x = _clustered(2000, 16)
        index = VectorIndex.build(x, {"g": np.arange(2000) % 2}, partition_after=1,
                                  int8_min_rows=0, int8_kernel=failing)
        index.search(x[:1], 3, "g == 0")
        index.search(x[:1], 3, "g == 0")
        assert index.last_plan == "partition-exact"
        assert not any((tmp_path / "kernels").glob("*.so"))
    finally:
        int8_scan._built.cache_clear()


def test_the_int8_copy_is_counted_and_dropped_with_the_partition() -> None:
    x = _clustered(6000, 64)
    group = np.arange(6000) % 2
    index = VectorIndex.build(x, {"g": group}, partition_after=1, int8_min_rows=1000)
    plain = VectorIndex.build(x, {"g": group}, partition_after=1, int8_min_rows=None)
    for idx in (index, plain):
        idx.search(x[:1], 3, "g == 1")
    extra = index.memory_bytes() - plain.memory_bytes()
    assert 3000 * 64 <= extra <= 3000 * (64 + 20)  # codes plus four numbers per row
    index.remove([1])
    assert index.partitions == {} and index.memory_bytes() < plain.memory_bytes()


@pytest.mark.parametrize("metric", ["ip", "l2"])
def test_unfiltered_search_reads_an_int8_copy_that_follows_changes(metric: str) -> None:
    x = _clustered(3000, 64, seed=5)
    group = np.arange(3000) % 2
    index = VectorIndex.build(x, {"g": group}, metric=metric)
    q = _clustered(4, 64, seed=6)
    ids = np.arange(3000)
    check(index, x, ids, np.ones(3000, dtype=bool), q, 7, None, metric, False)
    assert index.last_plan == "flat-int8"
    # new rows, a removal and an in-place update: the copy is rebuilt, never stale
    extra = q[:2].copy()  # unit rows equal to two queries: their best match, either metric
    new_ids = index.add(extra, {"g": [0, 1]})
    index.remove([5])
    index.update([7], vectors=-x[7:8])
    x2 = np.vstack([x, extra])
    x2[7] = -x[7]
    ids2 = np.concatenate([ids, new_ids])
    keep = ids2 != 5
    check(index, x2, ids2, keep, q, 7, None, metric, False)
    assert index.last_plan == "flat-int8"
    got, _ = index.search(q[:2], 1)
    assert got[:, 0].tolist() == list(new_ids)
    # a big batch over few rows: one BLAS product instead
    index.search(np.repeat(q, 8, axis=0), 3)
    assert index.last_plan == ("flat-int8" if int8_scan.amx() else "flat")
    before = int8_scan.amx()
    try:
        int8_scan.amx(False)
        index.search(np.repeat(q, 8, axis=0), 3)
        assert index.last_plan == "flat"
    finally:
        int8_scan.amx(before)


@pytest.mark.parametrize("nq", [1, 3])
def test_a_query_that_is_not_finite_is_answered_by_the_float32_scan(nq: int) -> None:
    """The bound means nothing for NaN or infinity: the kernel declines, the float32 plan
    answers exactly as it would without an int8 copy."""
    x = _clustered(6000, 128, seed=9)
    group = np.arange(len(x)) % 2
    q = _clustered(nq, 128, seed=10)
    q[0, 3] = np.nan
    if nq > 1:
        q[1, 0] = np.inf
    index = VectorIndex.build(x, {"g": group}, partition_after=1)
    plain = VectorIndex.build(x, {"g": group}, partition_after=1, int8_min_rows=None)
    for idx in (index, plain):
        idx.search(q[-1:], 5, "g == 0")
    got, want = index.search(q, 5, "g == 0"), plain.search(q, 5, "g == 0")
    assert index.last_plan == "partition-exact"
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    fn = int8_scan.kernel()
    part = index._partitions["g == 0"]
    assert fn is not None and part.i8 is not None
    out_i = np.full((nq, 5), 7, dtype=np.int64)
    out_s = np.zeros((nq, 5), dtype=np.float32)
    assert part.i8.topk(q, 5, fn, 2, out_i, out_s) is None
    assert (out_i == 7).all() and (out_s == 0).all()  # nothing written


def _split_search(x: np.ndarray, q: np.ndarray) -> list[list[int]]:
    rows = int8_scan.Int8Rows.quantize(x, np.arange(len(x)), None)
    fn = int8_scan.kernel()
    assert fn is not None
    out = []
    for j in range(len(q)):
        out_i = np.empty((1, 10), dtype=np.int64)
        out_s = np.empty((1, 10), dtype=np.float32)
        assert rows.topk(q[j:j + 1], 10, fn, 2, out_i, out_s) is not None
        out.append(out_i[0].tolist())
    return out


def _child(x: np.ndarray, q: np.ndarray, conn: object) -> None:
    conn.send(_split_search(x, q))  # type: ignore[attr-defined]


def test_the_worker_pool_survives_fork_and_concurrent_callers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel's threads are a pool started on first use: a forked child (which inherits
    no threads) starts its own, and callers from several threads at once all get answers."""
    import multiprocessing
    import threading

    monkeypatch.setattr(int8_scan._SplitChooser, "pick", lambda self, m, n: n)
    x = _clustered(9000, 128, seed=11)
    q = _clustered(8, 128, seed=12)
    exact = q.astype(np.float64) @ x.T.astype(np.float64)
    want = [np.lexsort((np.arange(len(x)), -exact[j]))[:10].tolist() for j in range(len(q))]
    assert _split_search(x, q) == want  # the parent's pool is up now
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_child, args=(x, q, child))
    proc.start()
    try:
        assert parent.poll(60), "the forked child hung on the kernel's thread pool"
        assert parent.recv() == want
        proc.join(10)
        assert proc.exitcode == 0
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join()
    results: list[list[list[int]]] = []
    threads = [threading.Thread(target=lambda: results.append(_split_search(x, q)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [want] * 4


def test_the_4bit_pass_is_skipped_where_it_keeps_overflowing() -> None:
    """Rows crowded around the queries (one tight cluster): the 4-bit bound keeps most rows,
    the pass overflows and the int8 pass runs after it. The kernel counts that and stops
    taking the 4-bit pass there (trying it once in 32); a spread-out partition keeps it."""
    rng = np.random.default_rng(13)
    centre = rng.normal(size=128)
    tight = centre + 0.05 * rng.normal(size=(6000, 128))
    spread = _clustered(6000, 128, seed=14)
    x = np.vstack([tight, spread]).astype(np.float32)
    group = np.repeat([0, 1], 6000)
    index = VectorIndex.build(x, {"g": group}, partition_after=1)
    plain = VectorIndex.build(x, {"g": group}, partition_after=1, int8_min_rows=None)
    queries = {0: (centre + 0.05 * rng.normal(size=(60, 128))).astype(np.float32),
               1: (spread[rng.choice(6000, 60)] + 0.01 * rng.normal(size=(60, 128))
                   ).astype(np.float32)}  # queries near the data, as real ones are
    for g, q in queries.items():
        where = f"g == {g}"
        index.search(q[:1], 10, where)
        plain.search(q[:1], 10, where)
        for j in range(len(q)):
            got, want = index.search(q[j], 10, where), plain.search(q[j], 10, where)
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    i8_tight = index._partitions["g == 0"].i8
    i8_spread = index._partitions["g == 1"].i8
    assert i8_tight is not None and i8_spread is not None
    if i8_tight.codes4 is None:  # no VNNI here: no 4-bit pass at all
        assert not int8_scan.int4_wanted(6000, 128)
        return
    tried, over, skipped = i8_tight.stats4.tolist()
    assert over * 2 > tried >= 8  # overflowing ...
    assert skipped >= 40  # ... so skipped for most of the 60 queries
    tried, over, skipped = i8_spread.stats4.tolist()
    assert tried >= 60 and over == 0 and skipped == 0
