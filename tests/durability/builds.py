"""Driving the durability builds: the forking build parent (``build_zygote.py``), one build
attempt killed or not, and a canonical view of a store to compare builds by."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.store import GraphStore


class Zygote:
    """Talks to ``build_zygote.py``: start builds, wait for them, kill them by PID."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc

    def _ask(self, req: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"build parent died (exit {self.proc.poll()})")
        return json.loads(line)

    def start(self, **req: Any) -> int:
        return int(self._ask({"cmd": "run", **req})["pid"])

    def wait(self, pid: int) -> int:
        return int(self._ask({"cmd": "wait", "pid": pid})["exit"])


@dataclass
class Attempt:
    """One build process: how it ended and the last progress event it wrote."""

    exit: int
    events: list[str]
    result: dict[str, Any] | None

    @property
    def killed(self) -> bool:
        return self.exit == -signal.SIGKILL


def run_build(zygote: Zygote, work: Path, name: str, *, kill_after: int | None = None,
              delay_s: float = 0.0, **req: Any) -> Attempt:
    """Run one build; with ``kill_after``, SIGKILL it ``delay_s`` after its
    ``kill_after``-th progress event (0: right after it starts)."""
    events, result = work / f"{name}.events", work / f"{name}.json"
    pid = zygote.start(events=str(events), result=str(result), **req)
    if kill_after is not None:
        while not result.exists():
            seen = events.read_text().count("\n") if events.exists() else 0
            if seen >= kill_after:
                time.sleep(delay_s)
                os.kill(pid, signal.SIGKILL)
                break
            time.sleep(0.002)
    code = zygote.wait(pid)
    lines = events.read_text().splitlines() if events.exists() else []
    payload = json.loads(result.read_text()) if result.exists() else None
    return Attempt(exit=code, events=lines, result=payload)


def snapshot(store: GraphStore) -> dict[str, Any]:
    """Everything a build decides, in a comparable form: assertions with status, confidence,
    soft violations and provenance (run ids and timestamps aside: they name the attempt, not
    the result), entities, quarantine, documents and chunks."""
    assertions = {}
    for a in store.assertions():
        assertions[a.id] = (a.status.value, round(a.confidence, 9), a.violations, tuple(
            (p.document_id, p.chunk_id, p.span.start, p.span.end, p.quote, p.model,
             p.prompt_version, p.attempts, p.samples_agreeing, p.samples_total,
             p.subject_text, p.object_text, p.subject_grounding, p.object_grounding,
             round(p.corroboration, 9))
            for p in a.provenance))
    return {
        "assertions": assertions,
        "entities": sorted((e.id, e.label, e.type_iri) for e in store.entities()),
        "quarantine": sorted((q.id, q.primary_reason.value) for q in store.quarantined()),
        "counts": store.counts().model_dump(),
    }


def duplicates(store: GraphStore, descriptor: str) -> int:
    """Rows that say the same thing twice, counted in the store's own storage."""
    if descriptor.startswith("sqlite:"):
        conn = sqlite3.connect(descriptor.removeprefix("sqlite:"))
        try:
            queries = [
                "SELECT COUNT(*) - COUNT(DISTINCT subject_id || '|' || predicate || '|' || "
                "COALESCE(object_id, '') || '|' || COALESCE(literal_value, '')) FROM assertions",
                "SELECT COUNT(*) - COUNT(DISTINCT assertion_id || '|' || chunk_id || '|' || "
                "model || '|' || prompt_version) FROM provenance",
                "SELECT COUNT(*) - COUNT(DISTINCT label || '|' || type_iri) FROM entities",
                "SELECT COUNT(*) - COUNT(DISTINCT payload) FROM quarantine",
                "SELECT COUNT(*) - COUNT(DISTINCT document_id || '|' || chunk_index) "
                "FROM chunks",
            ]
            return sum(int(conn.execute(q).fetchone()[0]) for q in queries)
        finally:
            conn.close()
    driver = store._driver  # type: ignore[attr-defined]
    queries = [
        "MATCH (a:Assertion) WITH a.id AS k, count(*) AS n WHERE n > 1 RETURN sum(n - 1)",
        "MATCH (a:Assertion)-[p:STATED_IN]->(c:Chunk) WITH a.id AS a, c.id AS c, "
        "p.model AS m, p.prompt_version AS v, count(*) AS n WHERE n > 1 RETURN sum(n - 1)",
        "MATCH (e:Entity) WITH e.label AS l, e.type_iri AS t, count(*) AS n WHERE n > 1 "
        "RETURN sum(n - 1)",
        "MATCH (q:Quarantined) WITH q.id AS k, count(*) AS n WHERE n > 1 RETURN sum(n - 1)",
        "MATCH (c:Chunk) WITH c.id AS k, count(*) AS n WHERE n > 1 RETURN sum(n - 1)",
    ]
    total = 0
    with driver.session() as session:
        for q in queries:
            value = session.run(q).single()[0]
            total += int(value or 0)
    return total
