"""Task policies shared by the flows: when to retry, what to cache, how many LLM calls at once.

- **Retries** only for ``pipeline.errors.RetryableError`` (an LLM endpoint that timed out or
  rate-limited, a store that is briefly away): retrying a contract violation, a bad input or
  a refused permission would only repeat the failure, and hide it for longer. Delays grow
  exponentially, with jitter so that many workers do not come back in step.
- **Caching** for deterministic steps (chunking, embedding): the key is the task's inputs and
  its source code (a code change misses the cache), and results persist under
  ``<data dir>/prefect-results`` so a rerun in another process, or on a worker sharing the
  folder, reuses them.
- **LLM concurrency** is bounded twice: in-process by a semaphore (threads of one task
  runner), and across processes by Prefect's global concurrency limit ``verikg-llm``, which
  ``verikg serve`` creates on the server with the same size. Without a server the limit does
  not exist and only the semaphore applies.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from prefect import Task
from prefect.cache_policies import INPUTS, TASK_SOURCE, CachePolicy
from prefect.client.schemas.objects import State, TaskRun
from prefect.tasks import exponential_backoff

from flows.clients import DataDir
from pipeline.errors import RetryableError
from pipeline.settings import Settings

T = TypeVar("T", bound=Task[Any, Any])

#: attempts after the first, for a retryable failure
RETRIES = 3
#: first delay in seconds; then x2, x4 (exponential_backoff's factor 2), each with jitter
BACKOFF_SECONDS = 2.0
#: each delay may grow by up to this share of itself, at random
JITTER = 0.5
#: the global concurrency limit (server side) and the tag LLM tasks carry
LLM_LIMIT = "verikg-llm"
#: the deterministic steps' key: same inputs and same task code, same answer
DETERMINISTIC: CachePolicy = INPUTS + TASK_SOURCE


def is_retryable(exc: BaseException | None) -> bool:
    """True for the errors worth another try (``RetryableError`` and its subclasses)."""
    return isinstance(exc, RetryableError)


def retry_condition_fn(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Prefect's retry hook: retry a failed run only if it raised a ``RetryableError``."""
    try:
        state.result(raise_on_failure=True)
    except BaseException as exc:  # noqa: BLE001 - the state's own exception, inspected only
        return is_retryable(exc)
    return False


def retry_options(retries: int = RETRIES, backoff_seconds: float = BACKOFF_SECONDS,
                  jitter: float = JITTER) -> dict[str, Any]:
    """Keyword arguments for ``@task(...)`` or ``task.with_options(...)``: ``retries``
    attempts on retryable errors only, after ``backoff_seconds`` × 2^n (n = 0, 1, ...), each
    delay stretched by up to ``jitter`` of itself."""
    delays: list[float] | float = (exponential_backoff(backoff_factor=backoff_seconds)(retries)
                                   if retries and backoff_seconds > 0 else 0)
    return {"retries": retries, "retry_delay_seconds": delays, "retry_jitter_factor": jitter,
            "retry_condition_fn": retry_condition_fn}


def results_dir(settings: Settings) -> Path:
    """Where cached task results persist: beside the store and the index."""
    return DataDir.of(settings).prefect_results


def cache_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments that make a deterministic task cached by inputs and code, with its
    results (and cache records) kept in ``results_dir(settings)``."""
    where = results_dir(settings)
    where.mkdir(parents=True, exist_ok=True)
    # the cache record (key -> result) is kept with the result itself: one folder, no block
    return {"cache_policy": DETERMINISTIC, "persist_result": True, "result_storage": where}


def cached(task: T, settings: Settings) -> T:
    """``task`` cached by inputs and code under the data directory of ``settings``; the
    storage is only known at run time (it follows ``VERIKG_DATA_DIR``), hence not in the
    decorator."""
    return task.with_options(**cache_options(settings))  # type: ignore[return-value]


def retrying(task: T, **overrides: Any) -> T:
    """``task`` with the retry policy (``retry_options``)."""
    return task.with_options(**retry_options(**overrides))  # type: ignore[return-value]


def llm_concurrency(settings: Settings | None = None) -> int:
    """How many LLM calls may run at once (``VERIKG_LLM_CONCURRENCY``, default 2)."""
    return (settings or Settings()).llm_concurrency


_semaphores: dict[int, threading.BoundedSemaphore] = {}
_semaphores_lock = threading.Lock()


def _semaphore(size: int) -> threading.BoundedSemaphore:
    with _semaphores_lock:
        if size not in _semaphores:
            _semaphores[size] = threading.BoundedSemaphore(size)
        return _semaphores[size]


_GLOBAL_LIMIT_TTL_S = 60.0
_global_limit_seen: dict[str, tuple[float, bool]] = {}


def _global_limit_exists(api_url: str) -> bool:
    """Whether the server at ``api_url`` has the ``verikg-llm`` limit, asked at most once a
    minute per process: asking Prefect to take a slot of a limit that does not exist costs
    seconds per call (it looks, warns and gives up), which would dwarf a fast LLM's answer."""
    now = time.monotonic()
    seen = _global_limit_seen.get(api_url)
    if seen is not None and now - seen[0] < _GLOBAL_LIMIT_TTL_S:
        return seen[1]
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            client.read_global_concurrency_limit_by_name(LLM_LIMIT)
        exists = True
    except ObjectNotFound:
        exists = False
    _global_limit_seen[api_url] = (now, exists)
    return exists


@contextmanager
def llm_slot(settings: Settings | None = None) -> Iterator[None]:
    """Hold one LLM slot while the block runs: the in-process semaphore, and against a
    Prefect server that has it the global limit ``verikg-llm`` (``verikg serve`` creates it;
    a missing limit is no limit). In the ephemeral mode of the command line and the tests only
    the semaphore is taken: there is one process, and the API round trips would buy nothing."""
    with _semaphore(llm_concurrency(settings)):
        api_url = os.environ.get("PREFECT_API_URL")
        if api_url and _global_limit_exists(api_url):
            from prefect.concurrency.sync import concurrency

            with concurrency(LLM_LIMIT, occupy=1, strict=False):
                yield
        else:
            yield


__all__ = ["BACKOFF_SECONDS", "DETERMINISTIC", "JITTER",
           "LLM_LIMIT", "RETRIES", "cache_options", "cached", "is_retryable",
           "llm_concurrency", "llm_slot", "results_dir", "retry_condition_fn", "retry_options",
           "retrying"]
