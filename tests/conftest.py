"""The test session's environment, and the shared fixtures (``tests/fixtures.py``) as a plugin.

Prefect: flows run in ephemeral mode against a throwaway home, offline and quiet. The
variables are set at import time, before any test module imports Prefect (its settings are
read once).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import hypothesis

pytest_plugins = ["tests.fixtures"]

if "PREFECT_API_URL" not in os.environ:
    os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="verikg-prefect-"))
for _name, _value in {"PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                      "PREFECT_LOGGING_LEVEL": "WARNING",
                      "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
                      # a loaded 2-core machine can take longer than the default 20 s
                      "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
                      "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                      "TOKENIZERS_PARALLELISM": "false"}.items():
    os.environ.setdefault(_name, _value)


def _kernel_from_environment() -> None:
    """``VERIKG_INT8_KERNEL=0`` runs the suite without the optional C kernel (float32 scans
    only), ``VERIKG_INT8_MARCH=x86-64-v2`` with a portable build of it (no AVX-512 / AMX
    loops): every index a test builds without its own configuration takes this one."""
    from pipeline.index import int8_scan
    from pipeline.settings import Settings

    settings = Settings()
    int8_scan.use_default_kernel(int8_scan.KernelConfig(
        enabled=settings.int8_kernel, march=settings.int8_march,
        cache_dir=Path(settings.kernel_cache) if settings.kernel_cache else None))


_kernel_from_environment()

# Property tests: ``ci`` (the default, what ``make test`` runs) draws the same examples on
# every run and keeps no example database, so CI never fails on a random draw; ``explore``
# (``HYPOTHESIS_PROFILE=explore``) draws new ones each run (five times as many where a test
# does not set its own count) and keeps the failures it finds in .hypothesis/ to replay them.
hypothesis.settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, print_blob=True)
hypothesis.settings.register_profile(
    "explore", derandomize=False, deadline=None, print_blob=True,
    max_examples=5 * hypothesis.settings.default.max_examples)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
