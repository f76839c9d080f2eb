"""Fixtures of the durability tests: a real Prefect server, the forking build parent, the
Neo4j password for the builds, and the durability project."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.durability.builds import Zygote
from tests.durability.kill_corpus import write_project
from tests.prefect_server import PrefectServer, prefect_server

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    with prefect_server(tmp_path_factory.mktemp("prefect-home")) as server:
        yield server


@pytest.fixture(scope="module")
def zygote(prefect_api: PrefectServer, neo4j_env: dict[str, str]) -> Iterator[Zygote]:
    env = {**prefect_api.env(), **neo4j_env, "PYTHONUNBUFFERED": "1",
           "PREFECT_LOGGING_LEVEL": "WARNING", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.Popen([sys.executable, "-m", "tests.durability.build_zygote"], env=env,
                            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    ready = proc.stdout.readline()
    if not ready:
        proc.wait(timeout=30)
        pytest.fail(f"the build parent did not start (exit {proc.returncode})")
    try:
        yield Zygote(proc)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def neo4j_env() -> dict[str, str]:
    """The Neo4j password for the build processes, when ``make test`` started one: passed by
    environment so it never travels in a request or a log."""
    password = os.environ.get("VERIKG_TEST_NEO4J_PASSWORD", "")
    return {"VERIKG_NEO4J_PASSWORD": password} if password else {}


@pytest.fixture()
def project(tmp_path: Path) -> tuple[Path, Path]:
    return write_project(tmp_path / "project")
