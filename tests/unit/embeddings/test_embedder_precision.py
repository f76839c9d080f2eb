"""The embedder's precision: auto choice per device, quality against fp32, cache keys, progress."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import pipeline.embeddings.embedder as embedder_mod
from pipeline.embeddings import SentenceTransformerEmbedder
from pipeline.errors import ConfigurationError

SENTENCES = [
    "Cassini-Huygens was launched from Cape Canaveral in 1997.",
    "The Cassini spacecraft orbited Saturn for thirteen years.",
    "Voyager 1 left the heliosphere in 2012.",
    "Voyager 2 is the only probe to have visited Uranus and Neptune.",
    "AWH Engineering College was established in 2001 in Kuttikkattoor, India.",
    "The university has 250 academic staff and is located in Kerala.",
    "Apple Inc. designed the iPhone, which runs iOS.",
    "Microsoft Windows is an operating system developed by Microsoft.",
    "The senator was elected to the United States Senate in 1998.",
    "The prime minister is a member of the Labour Party.",
]


class _FakeModel:
    """Stands in for a loaded SentenceTransformer where the weights do not matter."""

    def get_embedding_dimension(self) -> int:
        return 8

    def encode(self, texts: list[str], **_: object) -> np.ndarray:
        return np.array([[len(t), *(ord(c) for c in (t + "-------")[:7])] for t in texts],
                        dtype=np.float32)


@pytest.fixture(scope="module")
def fp32() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(precision="fp32", progress=False)


@pytest.fixture(scope="module")
def bf16() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(precision="bf16", progress=False)


# ------------------------------------------------------------------ choice of precision
@pytest.mark.parametrize(("hardware", "device", "expected"), [
    (True, "cpu", "bf16"), (False, "cpu", "fp32"), (False, "cuda", "fp16"),
    (True, "cuda:1", "fp16"), (True, "mps", "fp32")])
def test_auto_picks_by_device_and_cpu_support(monkeypatch: pytest.MonkeyPatch, hardware: bool,
                                              device: str, expected: str) -> None:
    monkeypatch.setattr(embedder_mod, "cpu_has_amx_bf16", lambda: hardware)
    e = SentenceTransformerEmbedder(device=device)
    assert e.precision == expected
    assert e._model is None  # choosing loads nothing


def test_auto_is_fp32_on_a_cpu_without_amx(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    assert embedder_mod.cpu_has_amx_bf16() is False
    assert SentenceTransformerEmbedder().precision == "fp32"
    assert SentenceTransformerEmbedder().model_id.endswith("/fp32")
    # the probe is asked only where /proc/cpuinfo names the flag (else torch stays unloaded)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True, raising=False)
    monkeypatch.setattr(Path, "read_text",
                        lambda self, *a, **k: "processor\t: 0\nflags\t\t: avx512f amx_bf16\n")
    assert SentenceTransformerEmbedder().precision == "bf16"


def test_a_cpu_without_the_flag_never_imports_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Path, "read_text",
                        lambda self, *a, **k: "processor\t: 0\nflags\t\t: fpu sse avx2\n")
    monkeypatch.setitem(sys.modules, "torch", None)  # an import would raise ImportError
    assert embedder_mod.cpu_has_amx_bf16() is False


def test_cpuinfo_flags_are_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported", raising=False)
    # AVX512-BF16 without AMX measured slower than fp32: not enough for bf16
    for flags, expected in [("fpu sse avx512f amx_bf16 amx_tile", True),
                            ("fpu sse avx512f avx512_bf16", False), ("fpu sse avx2", False)]:
        monkeypatch.setattr(Path, "read_text",
                            lambda self, *a, _f=flags, **k: f"processor\t: 0\nflags\t\t: {_f}\n")
        assert embedder_mod.cpu_has_amx_bf16() is expected


def test_explicit_precision_is_kept_and_checked() -> None:
    assert SentenceTransformerEmbedder(precision="fp32").precision == "fp32"
    assert SentenceTransformerEmbedder(device="cuda", precision="fp32").precision == "fp32"
    with pytest.raises(ConfigurationError, match="precision"):
        SentenceTransformerEmbedder(precision="int4")


# ------------------------------------------------------------------ identity and cache
def test_model_id_names_the_precision(fp32: SentenceTransformerEmbedder,
                                      bf16: SentenceTransformerEmbedder) -> None:
    assert fp32.model_id.endswith("/fp32") and bf16.model_id.endswith("/bf16")
    assert fp32.model_id.rsplit("/", 1)[0] == bf16.model_id.rsplit("/", 1)[0]
    assert SentenceTransformerEmbedder().model_id.endswith(
        "/" + SentenceTransformerEmbedder().precision)


def test_precisions_never_share_cache_entries(tmp_path: Path) -> None:
    cache = tmp_path / "emb.sqlite"

    def run(precision: str) -> int:
        e = SentenceTransformerEmbedder(precision=precision, cache_path=cache, progress=False)
        e._model = _FakeModel()  # type: ignore[assignment]
        e.embed(SENTENCES[:3])
        e.close()
        return e.encoded_count

    assert run("fp32") == 3
    assert run("bf16") == 3  # fp32's vectors were not reused
    assert run("fp32") == 0  # fp32's own entries still are
    assert run("bf16") == 0


# ------------------------------------------------------------------ quality
def test_bf16_vectors_match_fp32_to_the_quality_bar(fp32: SentenceTransformerEmbedder,
                                                    bf16: SentenceTransformerEmbedder) -> None:
    ref, vecs = fp32.embed(SENTENCES), bf16.embed(SENTENCES)
    assert vecs.dtype == np.float32 and vecs.shape == ref.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    cos = (ref * vecs).sum(axis=1)
    assert cos.min() >= 0.999 and cos.mean() >= 0.999
    # nearest neighbours: the same top 3 for every sentence
    def top(x: np.ndarray) -> list[set[int]]:
        sims = x @ x.T
        np.fill_diagonal(sims, -np.inf)
        return [set(np.argsort(-row)[:3].tolist()) for row in sims]
    assert top(ref) == top(vecs)


def test_bf16_loads_bf16_weights(bf16: SentenceTransformerEmbedder) -> None:
    torch = pytest.importorskip("torch")
    assert next(bf16._load().parameters()).dtype == torch.bfloat16


# ------------------------------------------------------------------ progress
def test_progress_callback_sees_every_batch() -> None:
    seen: list[tuple[int, int]] = []
    e = SentenceTransformerEmbedder(precision="fp32", batch_size=4,
                                    progress=lambda done, total: seen.append((done, total)))
    e._model = _FakeModel()  # type: ignore[assignment]
    e.embed(SENTENCES)
    assert seen == [(4, 10), (8, 10), (10, 10)]


def test_no_progress_bar_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedder_mod.sys, "stderr", io.StringIO())  # not a tty
    e = SentenceTransformerEmbedder(precision="fp32")
    assert e._progress_reporter(10_000) == (None, None)
    assert SentenceTransformerEmbedder(precision="fp32", progress=False
                                       )._progress_reporter(10_000) == (None, None)


def test_the_bar_is_the_callers_and_drawn_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library draws no bar of its own: the edge hands one in (``flows.clients``)."""
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(embedder_mod.sys, "stderr", Tty())
    drawn: list[int] = []

    def bar(total: int) -> tuple[embedder_mod.ProgressCallback, Callable[[], None]]:
        drawn.append(total)
        return (lambda done, _total: drawn.append(done)), lambda: drawn.append(-1)

    assert SentenceTransformerEmbedder(precision="fp32")._progress_reporter(10_000) == (
        None, None)  # no bar given: none drawn
    update, stop = SentenceTransformerEmbedder(precision="fp32", bar=bar
                                               )._progress_reporter(10_000)
    assert update is not None and stop is not None
    update(64, 10_000)
    stop()
    assert drawn == [10_000, 64, -1]
    # below the threshold, a terminal still gets no bar
    assert SentenceTransformerEmbedder(precision="fp32", bar=bar)._progress_reporter(10) == (
        None, None)
