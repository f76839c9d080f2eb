"""The test session's environment, and the shared fixtures (``tests/fixtures.py``) as a plugin.

Prefect: flows run in ephemeral mode against a throwaway home, offline and quiet. The
variables are set at import time, before any test module imports Prefect (its settings are
read once).
"""

from __future__ import annotations

import os
import tempfile

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
