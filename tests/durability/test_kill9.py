"""SIGKILL a build at random points, rerun it, and get exactly the uninterrupted build's graph.

For each store (the embedded SQLite store and a real Neo4j 5.26): one uninterrupted build gives
the reference graph; then scenarios of four kills each (twenty kill points in all) start from an
empty store, SIGKILL the build a random moment after a random progress event (the events mark
every chunk extracted, every store slice written, the index saved), rerun it, kill the rerun,
and so on, then let the last attempt finish. Each scenario must end with the reference graph —
the same assertions, statuses, confidences, provenance, entities and quarantine — with no row
stored twice, the run resumed under one run id, and the LLM never asked again about a chunk
the ledger already held.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from pipeline.ledger import RunLedger, RunStatus
from pipeline.settings import Settings
from pipeline.store import open_store
from tests.durability.builds import Attempt, Zygote, duplicates, run_build, snapshot

KILL_POINTS = 20
KILLS_PER_SCENARIO = 4
#: assertions per store transaction: small, so kills land between slices too
BATCH = 8


def _store_settings(kind: str, data_dir: Path, neo4j_uri: str | None,
                    neo4j_password: SecretStr | None) -> Settings:
    if kind == "sqlite":
        return Settings(data_dir=data_dir)
    assert neo4j_uri and neo4j_password is not None
    return Settings(data_dir=data_dir, store=neo4j_uri, neo4j_password=neo4j_password)


def _fresh(settings: Settings) -> None:
    """An empty graph for the next scenario (Neo4j: the database is shared, so wipe it)."""
    if settings.store.startswith("sqlite"):
        return
    with open_store(settings.store_descriptor(), settings) as store:
        store.reset()


def _view(settings: Settings) -> tuple[dict[str, Any], int]:
    with open_store(settings.store_descriptor(), settings) as store:
        return snapshot(store), duplicates(store, settings.store_descriptor())


def _kill_points(kind: str, request: pytest.FixtureRequest, zygote: Zygote,
                 project: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, onto = project
    neo4j_uri = neo4j_password = None
    if kind == "neo4j":
        neo4j_uri = request.getfixturevalue("neo4j_uri")
        neo4j_password = request.getfixturevalue("neo4j_password")
    rng = random.Random(20261127)

    def build(data_dir: Path, name: str, **kill: Any) -> Attempt:
        settings = _store_settings(kind, data_dir, neo4j_uri, neo4j_password)
        return run_build(zygote, tmp_path, name, corpus=str(corpus), ontology=str(onto),
                         data_dir=str(data_dir), store=settings.store, batch=BATCH, **kill)

    reference_dir = tmp_path / "reference"
    reference_settings = _store_settings(kind, reference_dir, neo4j_uri, neo4j_password)
    _fresh(reference_settings)
    ref = build(reference_dir, "reference")
    assert ref.exit == 0 and ref.result and ref.result["ok"], ref.result
    reference, ref_dups = _view(reference_settings)
    report = ref.result["report"]
    assert ref_dups == 0
    assert report["accepted"] > 40 and report["quarantined"] > 10
    assert len(reference["assertions"]) == report["assertions_in_store"]
    events = len(ref.events)
    stages = Counter(e.split()[0] for e in ref.events)
    assert stages["extract"] == 24 and stages["store"] >= 5 and stages["index"] == 1

    ref_calls = ref.result["llm_calls"]
    kills: list[str] = []
    scenario = 0
    while len(kills) < KILL_POINTS:
        scenario += 1
        assert scenario <= 3 * KILL_POINTS // KILLS_PER_SCENARIO, "kills keep missing the build"
        data_dir = tmp_path / f"scenario-{scenario}"
        settings = _store_settings(kind, data_dir, neo4j_uri, neo4j_password)
        _fresh(settings)
        attempts = run_attempts = completed_before_kill = 0
        final: Attempt | None = None
        while final is None:
            attempts += 1
            run_attempts += 1
            if len(kills) < KILL_POINTS and attempts <= KILLS_PER_SCENARIO:
                run = build(data_dir, f"s{scenario}-a{attempts}", kill_after=rng.randrange(events),
                            delay_s=rng.uniform(0.0, 0.03))
            else:
                run = build(data_dir, f"s{scenario}-a{attempts}")
            if run.killed:
                kills.append(run.events[-1].split()[0] if run.events else "start")
                if _newest_status(data_dir) == RunStatus.COMPLETE.value:
                    # the kill came after the build had finished and closed its run: the
                    # next attempt is a new run of a complete build, not a resumption
                    completed_before_kill += 1
                    run_attempts = 0
                continue
            assert run.exit == 0 and run.result and run.result["ok"], run.result
            final = run  # the last attempt, or one that finished before its kill came
        got, dups = _view(settings)
        assert dups == 0, f"scenario {scenario}: {dups} duplicate rows"
        assert got == reference, f"scenario {scenario}: the resumed graph differs"
        with RunLedger(data_dir / "ledger.sqlite") as ledger:
            runs = ledger.runs()
        # every attempt resumed the one run: one run id, complete, every attempt counted (a
        # kill that came after the run was closed leaves that run complete, and the next
        # attempt opens a new one)
        assert [r["status"] for r in runs] == [RunStatus.COMPLETE.value] * (
            1 + completed_before_kill)
        assert final.result is not None
        assert runs[0]["attempts"] == final.result["report"]["attempts"] == run_attempts
        # the LLM was asked again only about chunks the ledger did not hold, exactly as the
        # uninterrupted build asked about them
        asked = final.result["llm_calls"]
        assert len(asked) == 24 - final.result["report"]["resumed_chunks"]
        assert all(ref_calls[doc] == n for doc, n in asked.items()), (asked, ref_calls)

    assert len(kills) == KILL_POINTS
    where = Counter(kills)
    print(f"\n{kind}: {len(kills)} kill points after events {dict(where)}; reference "
          f"{report['assertions_in_store']} assertions, {report['quarantined']} quarantined; "
          "every scenario equal, 0 duplicates")
    # the kills must not all land in one stage
    assert len(where) >= 2, where


def _newest_status(data_dir: Path) -> str | None:
    """The status of the newest run in ``data_dir``'s ledger (None before any run)."""
    if not (data_dir / "ledger.sqlite").exists():
        return None
    with RunLedger(data_dir / "ledger.sqlite") as ledger:
        runs = ledger.runs()
    return str(runs[0]["status"]) if runs else None


def test_sigkill_anywhere_then_rerun_sqlite(zygote: Zygote, project: tuple[Path, Path],
                                            tmp_path: Path,
                                            request: pytest.FixtureRequest) -> None:
    _kill_points("sqlite", request, zygote, project, tmp_path)


@pytest.mark.neo4j
def test_sigkill_anywhere_then_rerun_neo4j(zygote: Zygote, project: tuple[Path, Path],
                                           tmp_path: Path,
                                           request: pytest.FixtureRequest) -> None:
    _kill_points("neo4j", request, zygote, project, tmp_path)
