"""The fixtures every test directory shares (a plugin: ``pytest_plugins`` in ``tests/conftest.py``).

Neo4j: tests marked ``neo4j`` talk to a real server. ``make test`` starts one and passes it in
through VERIKG_TEST_NEO4J_URI / VERIKG_TEST_NEO4J_PASSWORD; without those the session starts
its own with ``deploy/neo4j/launch.sh`` on a free port in a temporary directory and stops it
by PID at the end. If Neo4j cannot start, the tests that need it fail with the launcher's log
tail: they are never skipped. The run closes with a line counting the Neo4j tests.

Stores: ``store`` is an empty store of each backend (the interface suites run on every one),
``filled`` the same holding the compliance ``sample`` graph.

The stage tests' toy: ``toy`` (the ontology, ``toy_path`` a fresh copy of its file), ``doc``
and ``chunk`` (a document about Acme Rockets and its chunk of sentences).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from pipeline.models import Chunk, Document, Ontology
from pipeline.ontology import load_ontology
from pipeline.store import GraphStore, Neo4jGraphStore, SQLiteGraphStore
from tests.compliance.graph_store_fixtures import Sample, build_sample
from tests.toy_ontology import STAGES_TEXT, STAGES_TOY_ONTOLOGY

REPO = Path(__file__).resolve().parents[1]
LAUNCH_SH = REPO / "deploy" / "neo4j" / "launch.sh"


# --------------------------------------------------------------------------- Neo4j server


@dataclass(frozen=True)
class Neo4jServer:
    """A running Neo4j: where it listens, its password, and its home when this run owns it."""

    uri: str
    password: SecretStr
    home: Path | None = None
    port: int | None = None


class Neo4jLauncher:
    """Starts and stops throwaway Neo4j instances through ``deploy/neo4j/launch.sh``."""

    @staticmethod
    def free_port() -> int:
        """A TCP port on 127.0.0.1 that nothing listens on right now."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def start(self, home: Path, *, port: int | None = None,
              password: str | None = None) -> Neo4jServer:
        """Start Neo4j in ``home`` and wait until Bolt answers; fail the test if it cannot."""
        port = port or self.free_port()
        password = password or secrets.token_hex(12)
        try:
            proc = subprocess.run([str(LAUNCH_SH), "start", str(home), str(port), password],
                                  capture_output=True, text=True, timeout=900, check=False)
        except subprocess.TimeoutExpired as exc:
            self.stop(home)
            err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
            pytest.fail(f"deploy/neo4j/launch.sh start did not return in time:\n{err}",
                        pytrace=False)
        if proc.returncode != 0:
            pytest.fail(f"Neo4j could not start (launch.sh start exited {proc.returncode}); "
                        f"its output and log tail:\n{proc.stdout}\n{proc.stderr}", pytrace=False)
        uri = proc.stdout.strip().splitlines()[-1].split()[-1]
        return Neo4jServer(uri=uri, password=SecretStr(password), home=home, port=port)

    @staticmethod
    def pid(home: Path) -> int | None:
        """The PID of the Neo4j running from ``home``, if launch.sh started one there."""
        pid_file = home / "neo4j.pid"
        return int(pid_file.read_text().strip()) if pid_file.exists() else None

    def stop(self, home: Path) -> None:
        """Stop the instance in ``home`` by its PID (SIGTERM, SIGKILL after a timeout)."""
        if self.pid(home) is None:
            return
        proc = subprocess.run([str(LAUNCH_SH), "stop", str(home)], capture_output=True,
                              text=True, timeout=180, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"launch.sh stop {home} failed: {proc.stdout}{proc.stderr}")


@pytest.fixture(scope="session")
def neo4j_launcher() -> Neo4jLauncher:
    return Neo4jLauncher()


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory,
                 neo4j_launcher: Neo4jLauncher) -> Iterator[Neo4jServer]:
    """The Neo4j for this test session: the one ``make test`` started, or our own."""
    uri = os.environ.get("VERIKG_TEST_NEO4J_URI")
    if uri:
        _NEO4J_URIS.add(uri)
        yield Neo4jServer(uri=uri,
                          password=SecretStr(os.environ.get("VERIKG_TEST_NEO4J_PASSWORD", "")))
        return
    home = tmp_path_factory.mktemp("neo4j")
    server = neo4j_launcher.start(home)
    _NEO4J_URIS.add(server.uri)
    try:
        yield server
    finally:
        neo4j_launcher.stop(home)


@pytest.fixture(scope="session")
def neo4j_uri(neo4j_server: Neo4jServer) -> str:
    return neo4j_server.uri


@pytest.fixture(scope="session")
def neo4j_password(neo4j_server: Neo4jServer) -> SecretStr:
    return neo4j_server.password


# ---- A closing line on the real-Neo4j tests, so a run's output shows they ran (not skipped).
_NEO4J_OUTCOMES: dict[str, int] = {"passed": 0, "failed": 0, "skipped": 0}
_NEO4J_URIS: set[str] = set()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "neo4j" not in report.keywords:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _NEO4J_OUTCOMES[report.outcome] = _NEO4J_OUTCOMES.get(report.outcome, 0) + 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    total = sum(_NEO4J_OUTCOMES.values())
    if not total:
        return
    where = ", ".join(sorted(_NEO4J_URIS)) or "the Neo4j this session started"
    terminalreporter.write_sep("-", "real Neo4j 5.26")
    terminalreporter.write_line(
        f"Neo4j tests against {where}: {_NEO4J_OUTCOMES['passed']} passed, "
        f"{_NEO4J_OUTCOMES['failed']} failed, {_NEO4J_OUTCOMES['skipped']} skipped")


# --------------------------------------------------------------------------- graph stores


@pytest.fixture(scope="session")
def neo4j_store(neo4j_uri: str, neo4j_password: SecretStr) -> Iterator[Neo4jGraphStore]:
    """One open Neo4j store for the session (``store`` resets it for every test)."""
    store = Neo4jGraphStore(neo4j_uri, user="neo4j", password=neo4j_password,
                            max_retry_time_s=5.0)
    store.open()
    yield store
    store.reset()
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """An empty store of each backend."""
    if request.param == "neo4j":
        shared: Neo4jGraphStore = request.getfixturevalue("neo4j_store")
        shared.reset()  # each test starts from an empty database
        yield shared
        return
    with SQLiteGraphStore(tmp_path / "kg.sqlite") as local:
        yield local


@pytest.fixture()
def sample() -> Sample:
    return build_sample()


@pytest.fixture()
def filled(store: GraphStore, sample: Sample) -> GraphStore:
    """A store of each backend holding the sample graph."""
    store.upsert_documents(sample.documents, sample.chunks)
    store.write_assertions(sample.assertions)
    store.write_quarantine(sample.quarantine)
    return store


# --------------------------------------------------------------------------- the stage toy


@pytest.fixture()
def toy_path(tmp_path: Path) -> Path:
    """A fresh copy of the toy ontology's file, for a test to change."""
    p = tmp_path / "toy.ttl"
    p.write_text(STAGES_TOY_ONTOLOGY, encoding="utf-8")
    return p


@pytest.fixture(scope="session")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Ontology:
    path = tmp_path_factory.mktemp("toy") / "toy.ttl"
    path.write_text(STAGES_TOY_ONTOLOGY, encoding="utf-8")
    return load_ontology(path)


@pytest.fixture()
def doc() -> Document:
    return Document.from_text("# Acme\n\n" + STAGES_TEXT, source="acme.md", title="Acme")


@pytest.fixture()
def chunk(doc: Document) -> Chunk:
    start = doc.text.index("Acme Rockets")
    return Chunk.make(doc, 0, start, len(doc.text))
