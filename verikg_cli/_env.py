"""Process-wide defaults for the command line, set before Prefect is imported.

Prefect runs flows in ephemeral mode unless ``PREFECT_API_URL`` points at a server; offline,
its analytics must stay off, and its log chatter would bury the command's own output.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def handle_sigterm() -> None:
    """Make SIGTERM (a supervisor stopping the command, ``kill PID``) unwind like Ctrl-C.

    Python's default ends the process on the spot and leaves the temporary Prefect API server
    the command started running with no parent; SystemExit runs the exit handlers that stop
    it. Installed by the command-line entry points only, never on import: a process that
    merely imports the CLI (a test runner) keeps its own SIGTERM behaviour."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)


def configure() -> None:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # a failing task is reported once, by the command, as a one-line error: Prefect's own
    # traceback log would bury it (set PREFECT_LOGGING_LEVEL=INFO to see Prefect's logs)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    # the temporary API server can take longer than Prefect's 20 s on a busy 2-core machine
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # the packaged embedding model loads from disk in a second: no "Loading weights" bar
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def require_store(descriptor: str) -> None:
    """Before anything heavy loads: an embedded store that a command reads or changes must
    exist (``StoreNotFoundError`` otherwise: a typo never becomes a new, empty store). A Bolt
    URI is left to the command: reaching the server is its check."""
    scheme, sep, path = descriptor.strip().partition(":")
    if sep and scheme.lower() == "sqlite" and path:
        from pipeline.store.sqlite_schema import require_store as require_sqlite

        require_sqlite(path)


def run(app: Callable[[], object]) -> None:
    """Run a command-line app; a setting in the environment that does not validate
    (``VERIKG_SAMPLES=abc``) is one line naming the variable and what it takes, exit 2."""
    from pydantic import ValidationError

    try:
        app()
    except ValidationError as exc:
        if not exc.title.endswith("Settings"):
            raise
        import sys

        for e in exc.errors():
            name = "VERIKG_" + "_".join(str(p) for p in e["loc"]).upper()
            value = os.environ.get(name)
            shown = f"={value!r}" if value is not None else ""
            sys.stderr.write(f"error: setting {name}{shown}: {e['msg']}\n")
        raise SystemExit(2) from None
