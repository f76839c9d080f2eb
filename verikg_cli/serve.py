"""``verikg serve``: register every flow's deployment (``deploy/prefect.yaml``) against the
Prefect server that ``PREFECT_API_URL`` names, and optionally run a worker for its pool.

Registered on the main app by ``register`` (one line in ``verikg_cli.main``). Registration
is Prefect's own ``prefect deploy --all`` on that file, so the file stays the one
description of the deployments, and what ``verikg serve`` registers is what ``prefect
deploy`` would; before it, the work pool (a process pool) and the global concurrency limit
that bounds LLM calls across workers (``verikg-llm``) are created if missing. ``--worker``
then runs ``prefect worker start`` for the pool in the foreground; it is this command's
child, stopped with it (Ctrl-C, or a signal to this process's PID).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.text import Text

console = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

REPO = Path(__file__).resolve().parent.parent
PREFECT_FILE = REPO / "deploy" / "prefect.yaml"


def _fail(message: str) -> typer.Exit:
    err.print(Text.assemble(("error: ", "bold red"), message))
    return typer.Exit(code=1)


def _prefect() -> str:
    """The ``prefect`` beside this interpreter (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("prefect")
    return str(beside) if beside.exists() else "prefect"


def deployments_of(prefect_file: Path = PREFECT_FILE) -> list[dict[str, Any]]:
    """The deployments the file declares (as written: names, entrypoints, parameters)."""
    loaded = yaml.safe_load(prefect_file.read_text(encoding="utf-8")) or {}
    return list(loaded.get("deployments") or [])


def pools_of(prefect_file: Path = PREFECT_FILE) -> set[str]:
    return {d["work_pool"]["name"] for d in deployments_of(prefect_file) if d.get("work_pool")}


def ensure_pool(name: str) -> bool:
    """Create process work pool ``name`` with Prefect's default job template if it does not
    exist; True if it was created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
            return False
        except ObjectNotFound:
            pass
        try:
            client.create_work_pool(WorkPoolCreate(
                name=name, type="process",
                description="VeriKG flows, each run in a subprocess of a `prefect worker`",
                base_job_template=ProcessWorker.get_default_base_job_template()))
        except ObjectAlreadyExists:  # another process created it meanwhile
            return False
    return True


def ensure_llm_limit(limit: int) -> None:
    """The global concurrency limit ``verikg-llm`` with ``limit`` slots (created, or resized
    to the setting): LLM tasks hold one slot per call (``flows.policies.llm_slot``)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import (
        GlobalConcurrencyLimitCreate,
        GlobalConcurrencyLimitUpdate,
    )
    from prefect.exceptions import ObjectNotFound

    from flows.policies import LLM_LIMIT

    with get_client(sync_client=True) as client:
        try:
            found = client.read_global_concurrency_limit_by_name(LLM_LIMIT)
        except ObjectNotFound:
            client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=LLM_LIMIT, limit=limit))
            return
        if found.limit != limit:
            client.update_global_concurrency_limit(
                LLM_LIMIT, GlobalConcurrencyLimitUpdate(limit=limit))


def register_deployments(prefect_file: Path = PREFECT_FILE, *,
                         repo: Path = REPO) -> list[str]:
    """Register every deployment in ``prefect_file`` (``prefect deploy --all``) and return
    their ``flow/deployment`` names. Raises RuntimeError with Prefect's output if it fails."""
    from flows.policies import llm_concurrency

    for pool in sorted(pools_of(prefect_file)):
        ensure_pool(pool)
    ensure_llm_limit(llm_concurrency())
    env = {**os.environ, "VERIKG_REPO": os.environ.get("VERIKG_REPO", str(repo))}
    done = subprocess.run(
        [_prefect(), "--no-prompt", "deploy", "--all", "--prefect-file", str(prefect_file)],
        cwd=repo, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"prefect deploy failed ({done.returncode}):\n"
                           f"{(done.stdout + done.stderr)[-4000:]}")
    return registered_names(prefect_file)


def registered_names(prefect_file: Path = PREFECT_FILE) -> list[str]:
    """``flow/deployment`` names of the file's deployments as the server has them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    wanted = [d["name"] for d in deployments_of(prefect_file)]
    with get_client(sync_client=True) as client:
        found = client.read_deployments(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=wanted)))
        flows = {f.id: f.name for f in client.read_flows()}
    return sorted(f"{flows.get(d.flow_id, '?')}/{d.name}" for d in found)


def start_worker(pool: str, *, log: Path | None = None) -> subprocess.Popen[bytes]:
    """``prefect worker start`` for ``pool`` as a child process (its output to ``log``)."""
    env = {**os.environ, "VERIKG_REPO": os.environ.get("VERIKG_REPO", str(REPO))}
    out = log.open("ab") if log is not None else None
    return subprocess.Popen([_prefect(), "worker", "start", "--pool", pool, "--type", "process"],
                            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT if out
                            else None)


def serve(
    prefect_file: Annotated[Path, typer.Option(
        "--prefect-file", help="the deployments to register", exists=True, dir_okay=False)]
    = PREFECT_FILE,
    worker: Annotated[bool, typer.Option(
        "--worker", help="then run a worker for the pool here, until stopped")] = False,
) -> None:
    """Register every VeriKG flow as a Prefect deployment (deploy/prefect.yaml) on the
    server PREFECT_API_URL names; with --worker, then run a worker for their pool."""
    if not os.environ.get("PREFECT_API_URL"):
        raise _fail("PREFECT_API_URL is not set: start a server (`make ui`, or `prefect "
                    "server start`) and export PREFECT_API_URL=http://127.0.0.1:4200/api")
    try:
        names = register_deployments(prefect_file)
    except Exception as exc:  # noqa: BLE001 - one line for the user, whatever Prefect raised
        raise _fail(str(exc)) from exc
    for name in names:
        console.print(f"registered {name}")
    console.print(f"{len(names)} deployment(s) on {os.environ['PREFECT_API_URL']}")
    if not worker:
        return
    pools = sorted(pools_of(prefect_file))
    if len(pools) != 1:
        raise _fail(f"--worker serves one pool; the file names {pools}")
    proc = start_worker(pools[0])
    console.print(f"worker for pool {pools[0]!r} running (PID {proc.pid}); Ctrl-C stops it")

    def stop(signum: int, _frame: object) -> None:
        proc.terminate()  # the worker we started, by its PID

    signal.signal(signal.SIGTERM, stop)
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        code = proc.wait(timeout=30)
    raise typer.Exit(code=0 if code in (0, -signal.SIGTERM) else code)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``verikg`` commands."""
    app.command("serve")(serve)


__all__ = ["deployments_of", "ensure_llm_limit", "ensure_pool", "register",
           "register_deployments", "registered_names", "serve", "start_worker"]
