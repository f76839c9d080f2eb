"""Secrets (the Neo4j password, the LLM API key) never show: not in ``Settings``' printed forms,
not in exceptions (message, repr, traceback, chained causes), not in Python's logs, not in what
Prefect stores about a run (parameters, states, logs, artifacts, task runs), not in the files a
build leaves in its data directory. And they can come from Prefect ``Secret`` blocks.

Each secret is a fresh random string, so finding it anywhere is a leak, never a coincidence.
The Neo4j tests create their own user with that password on the session's server (Community
edition lets every user write), so failed logins lock nothing the rest of the suite uses.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from neo4j import GraphDatabase
from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.logging.handlers import APILogHandler
from pydantic import SecretStr

from flows.build_kg import build_kg
from flows.clients import make_store
from flows.secrets import resolve_secrets
from pipeline.errors import ConfigurationError, LLMUnavailableError, StoreError
from pipeline.settings import Settings
from pipeline.store import open_store

PASSWORD = f"neo4j-pw-{secrets.token_hex(10)}"
WRONG_PASSWORD = f"wrong-pw-{secrets.token_hex(10)}"
API_KEY = f"sk-verikg-{secrets.token_hex(16)}"
ALL = (PASSWORD, WRONG_PASSWORD, API_KEY)
NEO4J_USER = "verikg_secrets_probe"

ONTO = """
@prefix : <https://example.org/toy#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://example.org/toy> a owl:Ontology .
:Company a owl:Class ; rdfs:label "Company" .
:City a owl:Class ; rdfs:label "City" .
:basedIn a owl:ObjectProperty ; rdfs:label "based in" ; rdfs:domain :Company ;
    rdfs:range :City .
"""
ANSWER = json.dumps({"triples": [{"subject": "Acme Rockets", "predicate": "based in",
                                  "object": "Seattle"}]})


# ---------------------------------------------------------------- helpers

def assert_absent(text: str, where: str, secrets_: tuple[str, ...] = ALL) -> None:
    for value in secrets_:
        assert value not in text, f"a secret appears in {where}"


def exception_text(exc: BaseException) -> str:
    """Everything an exception shows: message, repr, args, notes and the formatted traceback
    of it and of every exception chained to it."""
    parts: list[str] = []
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        parts += [str(current), repr(current), repr(current.args),
                  *getattr(current, "__notes__", [])]
        stack += [current.__cause__, current.__context__]
    parts.append("".join(traceback.format_exception(exc)))
    return "\n".join(parts)


def files_text(directory: Path) -> str:
    """Every file a run left under ``directory`` (SQLite stores, caches, ledger, index,
    merge log), read as bytes and decoded leniently."""
    return "\n".join(p.read_bytes().decode("utf-8", "replace")
                     for p in sorted(directory.rglob("*")) if p.is_file())


def run_records(flow_run_id: UUID | None) -> tuple[str, list[Any], list[Any]]:
    """What the Prefect API holds about a flow run, as text: the run (parameters, state and
    its message), its logs, its artifacts and its task runs; also the logs and artifacts."""
    assert flow_run_id is not None
    APILogHandler().flush()  # the run's last log batch may still be on its way
    run_filter = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
        task_runs = client.read_task_runs(flow_run_filter=run_filter)
    text = "\n".join([run.model_dump_json(), json.dumps(run.parameters, default=str),
                      *(log.model_dump_json() for log in logs),
                      *(a.model_dump_json() for a in artifacts),
                      *(t.model_dump_json() for t in task_runs)])
    return text, logs, artifacts


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def api_logs() -> Iterator[None]:
    """Send flow- and task-run logs from INFO up to the Prefect API for this test (the suite
    keeps Prefect at WARNING), so the stored logs checked below are a run's real ones."""
    loggers = [logging.getLogger(name) for name in ("prefect.flow_runs", "prefect.task_runs")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@pytest.fixture()
def project(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "a.md").write_text("# Acme\n\nAcme Rockets is based in Seattle.", encoding="utf-8")
    onto = tmp_path / "onto.ttl"
    onto.write_text(ONTO, encoding="utf-8")
    return corpus, onto


def save_block(value: str) -> str:
    name = f"verikg-test-{secrets.token_hex(4)}"
    Secret(value=value).save(name, overwrite=True)  # type: ignore[arg-type]
    return name


@flow(name="secrets_probe")
def secrets_probe(settings: Settings, fail: bool) -> str:
    """A flow that does what careless code would: log the settings, put them in an artifact,
    fail with them in the message. Their printed forms must still hide the secrets."""
    logger = get_run_logger()
    logger.info("settings: %s", settings)
    logger.info("settings repr: %r; json: %s", settings, settings.model_dump_json())
    create_markdown_artifact(markdown=f"```\n{settings!r}\n{settings.model_dump_json()}\n```",
                             key="settings-probe", description=str(settings))
    if fail:
        raise ConfigurationError(f"probe failed with settings {settings!r}")
    return settings.model_dump_json()


# ---------------------------------------------------------------- settings

def test_settings_never_print_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERIKG_NEO4J_PASSWORD", PASSWORD)
    monkeypatch.setenv("VERIKG_LLM_API_KEY", API_KEY)
    settings = Settings()
    # not vacuous: the secrets are there, only hidden
    assert settings.neo4j_password.get_secret_value() == PASSWORD
    assert settings.llm_api_key.get_secret_value() == API_KEY
    for where, text in {"repr": repr(settings), "str": str(settings),
                        "model_dump_json": settings.model_dump_json(),
                        "model_dump(mode=json)": json.dumps(settings.model_dump(mode="json")),
                        "model_dump": str(settings.model_dump()),
                        "format": f"{settings}"}.items():
        assert_absent(text, where)


def test_prefect_keeps_secrets_out_of_parameters_logs_artifacts_and_states(
        api_logs: None) -> None:
    settings = Settings(neo4j_password=SecretStr(PASSWORD), llm_api_key=SecretStr(API_KEY))
    ok = secrets_probe(settings, False, return_state=True)
    assert ok.is_completed()
    text, logs, artifacts = run_records(ok.state_details.flow_run_id)
    assert any("settings repr" in log.message for log in logs)  # the logs did arrive
    assert [a.key for a in artifacts] == ["settings-probe"]
    assert_absent(text, "the Prefect records of a completed run")

    failed = secrets_probe(settings, True, return_state=True)
    assert failed.is_failed()
    with pytest.raises(ConfigurationError) as info:
        failed.result()
    assert_absent(exception_text(info.value), "the exception of a failed run")
    text, logs, _ = run_records(failed.state_details.flow_run_id)
    assert any("Traceback" in log.message for log in logs)
    assert_absent(text, "the Prefect records of a failed run")


# ---------------------------------------------------------------- Prefect Secret blocks

def test_secret_blocks_fill_the_settings() -> None:
    password_block, key_block = save_block(PASSWORD), save_block(API_KEY)
    settings = Settings(store="bolt://127.0.0.1:7687", neo4j_password_block=password_block,
                        llm="openai", llm_api_key_block=key_block)
    resolved = resolve_secrets(settings)
    assert resolved.neo4j_password.get_secret_value() == PASSWORD
    assert resolved.llm_api_key.get_secret_value() == API_KEY
    assert settings.neo4j_password.get_secret_value() == ""  # the input is left as it was
    assert_absent(repr(resolved) + resolved.model_dump_json(), "the resolved settings")

    # only what is needed is fetched: a store or an LLM that needs no secret
    assert resolve_secrets(settings, ("llm_api_key",)).neo4j_password.get_secret_value() == ""
    # a value given directly wins over the block
    direct = settings.model_copy(update={"llm_api_key": SecretStr("given-directly")})
    assert resolve_secrets(direct).llm_api_key.get_secret_value() == "given-directly"
    unneeded = Settings(neo4j_password_block="no-such-block", llm_api_key_block="no-such-block")
    assert resolve_secrets(unneeded) is unneeded  # SQLite store, embedded LLM: no lookup


def test_a_missing_or_unusable_block_is_named_without_a_value() -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_secrets(Settings(store="neo4j://db.example:7687",
                                 neo4j_password_block="verikg-test-missing"))
    message = str(info.value)
    assert "'verikg-test-missing'" in message and "VERIKG_NEO4J_PASSWORD_BLOCK" in message

    Secret(value={"key": API_KEY}).save(  # type: ignore[arg-type]
        "verikg-test-not-a-string", overwrite=True)
    with pytest.raises(ConfigurationError, match="holds a dict") as info:
        resolve_secrets(Settings(llm="openai", llm_api_key_block="verikg-test-not-a-string"))
    assert_absent(exception_text(info.value), "the error for a block of the wrong shape")


def test_an_address_with_credentials_is_refused_without_echoing_them() -> None:
    settings = Settings(store=f"neo4j://neo4j:{PASSWORD}@db.example:7687")
    with pytest.raises(ConfigurationError, match=r"neo4j://\*\*\*@db\.example:7687") as info:
        make_store(settings)
    assert_absent(exception_text(info.value), "the error for an address with credentials")


# ---------------------------------------------------------------- an LLM endpoint that refuses

def test_a_refusing_llm_endpoint_never_shows_its_key(
        project: tuple[Path, Path], tmp_path: Path, api_logs: None,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # the HTTP clients' debug logs included
    corpus, onto = project
    settings = Settings(data_dir=tmp_path / "state", samples=1, max_retries=0, llm="openai",
                        llm_base_url=f"http://127.0.0.1:{closed_port()}/v1",
                        llm_api_key_block=save_block(API_KEY), llm_timeout_s=5)
    state = build_kg(str(corpus), str(onto), settings=settings, return_state=True)
    assert state.is_failed()
    with pytest.raises(LLMUnavailableError, match="cannot be reached") as info:
        state.result()
    assert_absent(exception_text(info.value), "the exception of the refused LLM call")
    assert "Building HTTP request" in caplog.text  # the OpenAI client's debug log is here
    assert_absent(caplog.text, "Python's logs")
    text, logs, _ = run_records(state.state_details.flow_run_id)
    assert any("LLMUnavailableError" in log.message for log in logs)
    assert_absent(text, "the Prefect records of the run")
    assert_absent(files_text(settings.data_dir), "the run's data directory")


# ---------------------------------------------------------------- a real Neo4j

@pytest.fixture()
def neo4j_probe_user(neo4j_server: Any) -> Iterator[str]:
    """A Neo4j user whose password is PASSWORD, dropped afterwards; the store is emptied of
    what the test wrote."""
    admin = ("neo4j", neo4j_server.password.get_secret_value())
    with GraphDatabase.driver(neo4j_server.uri, auth=admin) as driver:
        driver.execute_query(f"CREATE OR REPLACE USER {NEO4J_USER} SET PASSWORD $password "
                             "CHANGE NOT REQUIRED", password=PASSWORD, database_="system")
    try:
        yield neo4j_server.uri
    finally:
        with open_store(neo4j_server.uri, Settings(neo4j_password=neo4j_server.password)) as st:
            st.reset()
        with GraphDatabase.driver(neo4j_server.uri, auth=admin) as driver:
            driver.execute_query(f"DROP USER {NEO4J_USER} IF EXISTS", database_="system")


@pytest.mark.neo4j
def test_a_build_into_neo4j_keeps_the_password_out_of_everything(
        project: tuple[Path, Path], tmp_path: Path, neo4j_probe_user: str, api_logs: None,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # the Neo4j driver logs every Bolt message at DEBUG
    corpus, onto = project
    settings = Settings(store=neo4j_probe_user, neo4j_user=NEO4J_USER,
                        neo4j_password_block=save_block(PASSWORD),
                        data_dir=tmp_path / "state", samples=1, max_retries=0)
    state = build_kg(str(corpus), str(onto), settings=settings, return_state=True,
                     chat_model=FakeListChatModel(responses=[ANSWER]))
    report = state.result()
    assert report.store == neo4j_probe_user and report.accepted == 1  # it did reach Neo4j
    text, logs, _ = run_records(state.state_details.flow_run_id)
    assert any("accepted" in log.message for log in logs)
    assert_absent(text, "the Prefect records of the build")
    assert f"C: LOGON {{'scheme': 'basic', 'principal': '{NEO4J_USER}'" in caplog.text
    assert_absent(caplog.text, "Python's logs, the driver's Bolt messages included")
    assert_absent(files_text(settings.data_dir), "the build's data directory")
    assert_absent(report.model_dump_json(), "the build report")


@pytest.mark.neo4j
def test_a_wrong_neo4j_password_never_shows(
        project: tuple[Path, Path], tmp_path: Path, neo4j_probe_user: str, api_logs: None,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    corpus, onto = project
    settings = Settings(store=neo4j_probe_user, neo4j_user=NEO4J_USER,
                        neo4j_password=SecretStr(WRONG_PASSWORD), data_dir=tmp_path / "state",
                        samples=1, max_retries=0)
    with pytest.raises(StoreError, match="refused the credentials") as info:
        make_store(settings)
    assert_absent(exception_text(info.value), "the exception for a wrong password")

    state = build_kg(str(corpus), str(onto), settings=settings, return_state=True,
                     chat_model=FakeListChatModel(responses=[ANSWER]))
    assert state.is_failed()
    with pytest.raises(StoreError) as info:
        state.result()
    assert_absent(exception_text(info.value), "the exception of the failed build")
    text, logs, _ = run_records(state.state_details.flow_run_id)
    assert any("StoreError" in log.message for log in logs)
    assert_absent(text, "the Prefect records of the failed build")
    assert f"C: LOGON {{'scheme': 'basic', 'principal': '{NEO4J_USER}'" in caplog.text
    assert_absent(caplog.text, "Python's logs, the driver's Bolt messages included")
    assert_absent(files_text(settings.data_dir), "the failed build's data directory")
