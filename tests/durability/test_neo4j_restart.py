"""Neo4j stopped in the middle of an ingest.

A private Neo4j 5.26 (started and stopped by PID through launch.sh, never the session's) takes
a build of the durability corpus. The progress callback stops the server right after the first
store slice is committed:
- restarted a few seconds later, the build's writes retry with backoff and the build completes
  with exactly the graph of an uninterrupted build;
- left down, the build fails within its retry budget with a clear StoreUnavailableError, the
  run stays open in the ledger, and once the server is back a rerun resumes it — no LLM call,
  the same graph, nothing twice.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from flows.build_kg import build_kg
from pipeline.errors import StoreUnavailableError
from pipeline.ledger import RunLedger, RunStatus
from pipeline.models import BuildReport
from pipeline.settings import Settings
from pipeline.store import open_store
from tests.durability.builds import duplicates, snapshot
from tests.durability.kill_corpus import ScriptedChatModel
from tests.fakes import FakeEmbedder

pytestmark = pytest.mark.neo4j


def _settings(server: Any, data_dir: Path, retry_s: float) -> Settings:
    return Settings(data_dir=data_dir, store=server.uri, neo4j_password=server.password,
                    samples=3, max_retries=1, store_batch_size=8, neo4j_retry_seconds=retry_s)


def _view(settings: Settings) -> tuple[dict[str, Any], int]:
    with open_store(settings.store_descriptor(), settings) as store:
        return snapshot(store), duplicates(store, settings.store_descriptor())


def _build(project: tuple[Path, Path], settings: Settings, model: ScriptedChatModel,
           progress: Any = None) -> BuildReport:
    corpus, onto = project
    return build_kg(str(corpus), str(onto), settings=settings, progress=progress,
                    chat_model=model, embedder=FakeEmbedder())


@pytest.fixture(scope="module")
def private_neo4j(tmp_path_factory: pytest.TempPathFactory, neo4j_launcher: Any) -> Any:
    """One throwaway server for both tests (each leaves it running and resets the graph)."""
    home = tmp_path_factory.mktemp("neo4j-private")
    server = neo4j_launcher.start(home)
    try:
        yield home, server
    finally:
        neo4j_launcher.stop(home)


def test_neo4j_restart_mid_ingest(private_neo4j: Any, neo4j_launcher: Any,
                                  project: tuple[Path, Path], tmp_path: Path) -> None:
    home, server = private_neo4j
    reference_settings = _settings(server, tmp_path / "reference", retry_s=120)
    with open_store(reference_settings.store_descriptor(), reference_settings) as store:
        store.reset()
    ref = _build(project, reference_settings, ScriptedChatModel())
    reference, dups = _view(reference_settings)
    assert dups == 0 and ref.assertions_in_store == len(reference["assertions"]) > 40
    with open_store(reference_settings.store_descriptor(), reference_settings) as store:
        store.reset()

    # 1. stopped after the first slice, back after a few seconds: the build rides it out
    settings = _settings(server, tmp_path / "restarted", retry_s=180)
    before = neo4j_launcher.pid(home)
    seen: list[str] = []
    restarted = threading.Event()
    timing: dict[str, float] = {}

    def restart() -> None:
        time.sleep(3)
        neo4j_launcher.start(home, port=server.port, password=server.password.get_secret_value())
        timing["up"] = time.monotonic()
        restarted.set()

    def progress(stage: str, done: int, total: int) -> None:
        seen.append(f"{stage} {done}/{total}")
        if stage == "store" and "down" not in timing:
            neo4j_launcher.stop(home)
            timing["down"] = time.monotonic()
            threading.Thread(target=restart, daemon=True).start()

    report = _build(project, settings, ScriptedChatModel(), progress)
    assert restarted.wait(300), "the restart thread never brought Neo4j back"
    after = neo4j_launcher.pid(home)
    assert after is not None and after != before
    stores = [s for s in seen if s.startswith("store")]
    assert len(stores) >= 5, stores  # the slices after the stop were written, after the restart
    got, dups = _view(settings)
    assert dups == 0
    assert got == reference
    assert report.assertions_in_store == ref.assertions_in_store
    print(f"\nNeo4j down for {timing['up'] - timing['down']:.1f} s after store slice 1 of "
          f"{len(stores)}; the build completed with {report.assertions_in_store} assertions "
          f"(reference {ref.assertions_in_store}), 0 duplicates")


def test_neo4j_that_stays_away_fails_clearly_and_a_rerun_resumes(
        private_neo4j: Any, neo4j_launcher: Any, project: tuple[Path, Path],
        tmp_path: Path) -> None:
    home, server = private_neo4j
    reference_settings = _settings(server, tmp_path / "reference", retry_s=120)
    with open_store(reference_settings.store_descriptor(), reference_settings) as store:
        store.reset()
    _build(project, reference_settings, ScriptedChatModel())
    reference, _ = _view(reference_settings)
    with open_store(reference_settings.store_descriptor(), reference_settings) as store:
        store.reset()

    settings = _settings(server, tmp_path / "abandoned", retry_s=4)
    stopped: list[float] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "store" and not stopped:
            neo4j_launcher.stop(home)
            stopped.append(time.monotonic())

    first_model = ScriptedChatModel()
    with pytest.raises(StoreUnavailableError) as info:
        _build(project, settings, first_model, progress)
    waited = time.monotonic() - stopped[0]
    message = str(info.value)
    assert server.uri in message and "unavailable" in message and "retry" in message
    assert server.password.get_secret_value() not in message
    # the budget: four attempts of the store task (three retries, 2 + 4 + 8 s of backoff and
    # up to half again of jitter), each retrying in the driver for 4 s; plus slack for a
    # busy machine
    assert waited < 4 * 4 + 21 + 60, f"gave up after {waited:.0f} s, past its retry budget"
    with RunLedger(settings.data_dir / "ledger.sqlite") as ledger:
        (run,) = ledger.runs()
        assert run["status"] == RunStatus.OPEN.value and "StoreUnavailableError" in run["error"]
        assert ledger.summary(str(run["run_id"]))["checked"] == 24

    neo4j_launcher.start(home, port=server.port, password=server.password.get_secret_value())
    again_model = ScriptedChatModel()
    report = _build(project, settings, again_model)
    assert report.run_id == run["run_id"] and report.attempts == 2
    assert report.resumed_chunks == 24 and sum(again_model.calls.values()) == 0
    got, dups = _view(settings)
    assert dups == 0
    assert got == reference
    print(f"\nNeo4j left down: failed after {waited:.1f} s with StoreUnavailableError; the "
          f"rerun resumed {report.run_id} (attempt 2, 0 LLM calls) and stored "
          f"{report.assertions_in_store} assertions, as the uninterrupted build")
