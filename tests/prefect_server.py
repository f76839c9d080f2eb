"""A real Prefect server for tests that need one outside the test process.

``prefect server start`` (SQLite under a fresh PREFECT_HOME) on a free 127.0.0.1 port, waited
for through ``/api/health`` and stopped by its PID. Processes that should report to it get
``PrefectServer.env()``. (Importable from any test: this folder is on the path.)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PREFECT = Path(sys.executable).with_name("prefect")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PrefectServer:
    home: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def env(self) -> dict[str, str]:
        """Environment for a process that runs flows against this server."""
        return {**os.environ, "PREFECT_API_URL": self.api_url, "PREFECT_UI_API_URL": self.api_url,
                "PREFECT_HOME": str(self.home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}

    def log_tail(self, lines: int = 40) -> str:
        log = self.home / "server.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) \
            if log.exists() else ""


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


@contextmanager
def prefect_server(home: Path, *, timeout_s: float = 180) -> Iterator[PrefectServer]:
    """Start a server in ``home``, yield it once healthy, stop it by PID afterwards."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    # the UI asks the API on port 4200 unless told where it is
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
           "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api"}
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen([str(PREFECT), "server", "start", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    server = PrefectServer(home=home, port=port, process=proc)
    try:
        deadline = time.monotonic() + timeout_s
        while not _healthy(server.url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"prefect server did not come up on {server.url} "
                                   f"(exit {proc.poll()}):\n{server.log_tail()}")
            time.sleep(0.5)
        yield server
    finally:
        if proc.poll() is None:
            # the server runs its API and services in child processes of its own session
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        log.close()
