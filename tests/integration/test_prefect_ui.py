"""The deployments in the real Prefect UI, seen by a real browser.

A ``prefect server start`` (SQLite, a throwaway PREFECT_HOME, a free loopback port) gets
every deployment of ``deploy/prefect.yaml`` through ``verikg serve``; a process worker of the
``verikg`` pool runs the ``build-kg`` deployment on a two-sentence corpus, its LLM a tiny
OpenAI-compatible server in this process that answers every prompt with the same triples
(through the real HTTP client, as vLLM would be reached). Headless Chromium then loads the
UI: the deployments page lists every deployment, the flow run shows Completed, and the
build's artifacts render — the summary's tables and the confidence plot as an image.
Screenshots go under the test's tmp_path (their paths are printed). Every process started
here is stopped by its PID. Nothing skips: a missing chromium or a server that never comes
up fails the test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.browser import Chromium, chromium_binary
from tests.prefect_server import prefect_server
from tests.toy_ontology import TOY_ONTOLOGY
from verikg_cli.serve import deployments_of

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 240.0
RUN_TIMEOUT_S = 420.0

ONTO = TOY_ONTOLOGY
ANSWER = json.dumps({"triples": [
    {"subject": "Acme Rockets", "predicate": "founded by", "object": "Ada Byron"},
    {"subject": "Acme Rockets", "predicate": "based in", "object": "Seattle"},
    {"subject": "Acme Rockets", "predicate": "founded by", "object": "Nobody Mentioned"}]})


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process this test started, by its PID."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


class _FakeOpenAI(BaseHTTPRequestHandler):
    """``POST /v1/chat/completions``: the same extraction answer for every prompt."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("content-length", "0")))
        body = json.dumps({
            "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": "fake-extractor",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": ANSWER}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}})
        data = body.encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prefect-ui")


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A real Prefect server; yields its API URL and the environment its clients use."""
    with prefect_server(workdir / "prefect-home", timeout_s=START_TIMEOUT_S) as running:
        yield running.api_url, {**running.env(), "PREFECT_LOGGING_LEVEL": "INFO"}


def wait_for_run(api: str, run_id: str, workdir: Path) -> dict:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()
        state = (run.get("state") or {}).get("type")
        if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return run
        if time.monotonic() > deadline:
            pytest.fail(f"flow run {run_id} still {state} after {RUN_TIMEOUT_S:.0f}s; worker "
                        f"log:\n{(workdir / 'worker.log').read_text(errors='replace')[-4000:]}")
        time.sleep(2.0)


def test_deployments_run_and_show_in_the_ui(server: tuple[str, dict[str, str]], workdir: Path,
                                            fake_llm: str) -> None:
    chromium_binary()  # fail first, and clearly, if the browser is missing
    api, env = server
    shots = workdir / "screenshots"

    # register every deployment, as a user would
    served = subprocess.run([str(BIN / "verikg"), "serve"], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=300, check=False)
    assert served.returncode == 0, served.stdout + served.stderr
    names = [d["name"] for d in deployments_of()]
    assert {"build-kg", "design-ontology", "apply-changes", "certify", "evaluate",
            "reindex"} <= set(names)
    for name in names:
        assert name in served.stdout

    # a worker of the pool, its flows on a throwaway data dir and the fake LLM
    corpus = workdir / "docs"
    corpus.mkdir()
    (corpus / "acme.md").write_text("# Acme\n\nAcme Rockets was founded by Ada Byron. Acme "
                                    "Rockets is based in Seattle.", encoding="utf-8")
    onto = workdir / "onto.ttl"
    onto.write_text(ONTO, encoding="utf-8")
    worker_env = {**env, "VERIKG_DATA_DIR": str(workdir / "state"), "VERIKG_LLM": "openai",
                  "VERIKG_LLM_BASE_URL": fake_llm, "VERIKG_LLM_MODEL": "fake-extractor",
                  "VERIKG_REPO": str(REPO)}
    worker_log = (workdir / "worker.log").open("wb")
    worker = subprocess.Popen([str(BIN / "prefect"), "worker", "start", "--pool", "verikg",
                               "--type", "process"], env=worker_env, cwd=REPO,
                              stdout=worker_log, stderr=subprocess.STDOUT)
    try:
        deployment = httpx.get(f"{api}/deployments/name/build_kg/build-kg", timeout=10).json()
        created = httpx.post(f"{api}/deployments/{deployment['id']}/create_flow_run",
                             json={"parameters": {"corpus": str(corpus), "ontology": str(onto),
                                                  "samples": 1, "max_retries": 0}},
                             timeout=10)
        assert created.status_code == 201, created.text
        run_id = created.json()["id"]
        run = wait_for_run(api, run_id, workdir)
    finally:
        stop(worker)
    assert run["state"]["type"] == "COMPLETED", (
        f"{run['state']}\n{(workdir / 'worker.log').read_text(errors='replace')[-4000:]}")

    artifacts = httpx.post(f"{api}/artifacts/filter", timeout=10, json={
        "artifacts": {"flow_run_id": {"any_": [run_id]}}}).json()
    by_key = {a["key"]: a for a in artifacts}
    assert {"verikg-build-summary", "verikg-build-confidence"} <= set(by_key)
    summary = by_key["verikg-build-summary"]["data"]
    assert "Contract pass rates" in summary and "object-not-in-text" in summary

    base = api.removesuffix("/api")
    with Chromium(workdir / "chromium") as page:
        page.goto(f"{base}/deployments")
        page.wait_for_text(*names, timeout_s=120, screenshot=shots / "deployments-failed.png")
        print(f"\nscreenshot: {page.screenshot(shots / 'deployments.png')}")

        page.goto(f"{base}/runs/flow-run/{run_id}")
        page.wait_for_text(run["name"], "Completed", timeout_s=120,
                           screenshot=shots / "flow-run-failed.png")
        print(f"screenshot: {page.screenshot(shots / 'flow-run.png')}")

        page.goto(f"{base}/artifacts/artifact/{by_key['verikg-build-summary']['id']}")
        page.wait_for_text("Contract pass rates", "Quarantine reasons", "object-not-in-text",
                           timeout_s=120, screenshot=shots / "summary-failed.png")
        print(f"screenshot: {page.screenshot(shots / 'build-summary.png')}")

        page.goto(f"{base}/artifacts/artifact/{by_key['verikg-build-confidence']['id']}")
        # the plot is a data: URI inside the markdown; it must load as an image, not be
        # stripped by the UI's sanitizer
        page.wait_for(
            "Array.from(document.images).some(i => i.src.startsWith('data:image/png') "
            "&& i.complete && i.naturalWidth > 100)", timeout_s=120,
            what="the confidence plot as a loaded image",
            screenshot=shots / "confidence-failed.png")
        print(f"screenshot: {page.screenshot(shots / 'build-confidence.png')}")
