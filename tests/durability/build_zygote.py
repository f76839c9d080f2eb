"""A parent that imports the build once and forks one build process per request.

The kill tests run dozens of builds and SIGKILL most of them; importing Prefect, langchain and
the pipeline takes seconds per process, so this parent imports them once (starting no thread
and no connection) and forks. Each child is a separate process running the ``build_kg`` flow
against the Prefect server in PREFECT_API_URL with the scripted LLM and the fake embedder; the
test kills it with SIGKILL by PID. Protocol, one JSON object per line on stdin/stdout:

    {"cmd": "run", "corpus", "ontology", "data_dir", "store", "events", "result", ...}
        -> {"pid": N}    the child appends "stage done total" lines to ``events`` and writes
                         {"ok", "report" | "error", "llm_calls": {document: calls}} to ``result``
    {"cmd": "wait", "pid": N} -> {"exit": code}   (-9 for a child killed by SIGKILL)

Secrets (the Neo4j password) come from this process's environment, never from the requests.
Run from the repository root as ``python -m tests.durability.build_zygote``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import traceback
from pathlib import Path

from flows.build_kg import build_kg
from pipeline.settings import Settings
from pipeline.text.normalise import _stem
from tests.durability.kill_corpus import ScriptedChatModel
from tests.fakes import FakeEmbedder


def child(req: dict) -> None:
    """Run one build and leave by ``os._exit`` (never back into the parent's loop)."""
    code = 1
    model = ScriptedChatModel()
    try:
        with open(req["events"], "a", buffering=1, encoding="utf-8") as events:
            def progress(stage: str, done: int, total: int) -> None:
                events.write(f"{stage} {done} {total}\n")
                events.flush()

            settings = Settings(data_dir=Path(req["data_dir"]), store=req["store"],
                                samples=req.get("samples", 3),
                                max_retries=req.get("max_retries", 1),
                                store_batch_size=req.get("batch", 200),
                                neo4j_retry_seconds=req.get("retry_seconds", 60.0))
            report = build_kg(req["corpus"], req["ontology"], settings=settings,
                              progress=progress, chat_model=model, embedder=FakeEmbedder())
        out = {"ok": True, "report": report.model_dump(mode="json")}
        code = 0
    except BaseException as exc:  # noqa: BLE001 - reported to the test, which asserts on it
        out = {"ok": False, "error": f"{type(exc).__name__}: {exc}",
               "traceback": traceback.format_exc()}
    out["llm_calls"] = {str(doc): n for doc, n in sorted(model.calls.items())}
    Path(req["result"]).write_text(json.dumps(out), encoding="utf-8")
    os._exit(code)


def warm() -> None:
    """Load what the first build would load lazily (NLTK's stemmer for grounding checks,
    matplotlib for the confidence plot, Prefect's artifact client), so each forked build
    starts as fast as a long-running worker's second build."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import prefect.artifacts  # noqa: F401

    _stem("founded")


def main() -> None:
    warm()
    if threading.active_count() != 1:
        raise SystemExit(f"refusing to fork with threads running: {threading.enumerate()}")
    print(json.dumps({"ready": os.getpid()}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        if req["cmd"] == "run":
            pid = os.fork()
            if pid == 0:
                child(req)
            print(json.dumps({"pid": pid}), flush=True)
        elif req["cmd"] == "wait":
            _, status = os.waitpid(int(req["pid"]), 0)
            print(json.dumps({"exit": os.waitstatus_to_exitcode(status)}), flush=True)


if __name__ == "__main__":
    main()
