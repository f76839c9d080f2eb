"""SIGTERM to a command that runs flows leaves nothing running behind it.

In ephemeral mode Prefect starts a temporary API server as a child process. Python's default
SIGTERM ends the command on the spot and that child keeps running with no parent; the command
line's entry points (``handle_sigterm``) turn SIGTERM into an orderly exit that stops it;
merely importing the command line (as a test runner does) leaves SIGTERM alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = """
import sys, time
from verikg_cli._env import configure, handle_sigterm
configure()
handle_sigterm()
from prefect import flow

@flow
def wait_forever() -> None:
    print("running", flush=True)
    time.sleep(600)

wait_forever()
"""


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (read from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_sigterm_stops_the_temporary_prefect_server(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    children: list[int] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "running" in line:
                break
        else:
            raise AssertionError(f"the flow never started (exit {proc.wait()})")
        children = _children(proc.pid)
        assert children, "expected the temporary Prefect server as a child process"
        proc.send_signal(signal.SIGTERM)
        # Prefect's exit handlers stop the server: seconds, up to minutes on a loaded machine
        assert proc.wait(timeout=240) == 128 + signal.SIGTERM
        deadline = time.monotonic() + 30
        while any(_alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [c for c in children if _alive(c)], "the Prefect server outlived the command"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for child in children:
            if _alive(child):
                os.kill(child, signal.SIGKILL)


def test_importing_the_command_line_leaves_sigterm_alone() -> None:
    code = ("import signal; import verikg_cli.main, verikg_cli.kgcl; "
            "print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True)
    assert out.stdout.strip() == "True"
