"""Task policies (``flows.policies``) and deployable parameters (``flows.params``), run by
Prefect itself in ephemeral mode: retries happen only for retryable errors, a deterministic
task is answered from its cache for the same inputs and code, and in-process parameters stay
out of the deployment schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect import flow, task
from prefect.utilities.callables import parameter_schema

from flows.policies import cached, llm_concurrency, llm_slot, retry_options, retrying
from pipeline.errors import LLMUnavailableError, OntologyError, StoreUnavailableError
from pipeline.settings import Settings

CALLS: dict[str, int] = {}


@task
def flaky(kind: str, failures: int) -> int:
    CALLS[kind] = CALLS.get(kind, 0) + 1
    if CALLS[kind] <= failures:
        raise {"llm": LLMUnavailableError, "store": StoreUnavailableError,
               "input": OntologyError}[kind](f"{kind} failure {CALLS[kind]}")
    return CALLS[kind]


@flow
def run_flaky(kind: str, failures: int) -> int:
    return retrying(flaky, retries=3, backoff_seconds=0.01)(kind, failures)


@pytest.mark.parametrize("kind", ["llm", "store"])
def test_retryable_errors_are_retried(kind: str) -> None:
    CALLS.clear()
    assert run_flaky(kind, 2) == 3  # two failures, then the third attempt succeeds


def test_other_errors_are_not_retried() -> None:
    CALLS.clear()
    with pytest.raises(OntologyError):
        run_flaky("input", 1)
    assert CALLS["input"] == 1


def test_backoff_is_exponential_with_jitter() -> None:
    options = retry_options(retries=3, backoff_seconds=2.0)
    assert options["retry_delay_seconds"] == [2.0, 4.0, 8.0]
    assert options["retry_jitter_factor"] > 0


@task
def split_words(text: str) -> list[str]:
    CALLS["split"] = CALLS.get("split", 0) + 1
    return text.split()


@flow
def run_split(text: str, data_dir: str) -> list[str]:
    return cached(split_words, Settings(data_dir=Path(data_dir)))(text)


def test_deterministic_task_is_cached_by_inputs(tmp_path: Path) -> None:
    CALLS.clear()
    assert run_split("a b c", str(tmp_path)) == ["a", "b", "c"]
    assert run_split("a b c", str(tmp_path)) == ["a", "b", "c"]
    assert CALLS["split"] == 1  # the second flow run read the persisted result
    assert run_split("a b", str(tmp_path)) == ["a", "b"]
    assert CALLS["split"] == 2  # other inputs, other key
    assert any((tmp_path / "prefect-results").iterdir())


def test_llm_concurrency_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VERIKG_LLM_CONCURRENCY", raising=False)
    assert llm_concurrency() == 2
    monkeypatch.setenv("VERIKG_LLM_CONCURRENCY", "5")
    assert llm_concurrency() == 5
    with llm_slot():  # without a server: the in-process semaphore only
        pass


def test_in_process_parameters_stay_out_of_the_schemas() -> None:
    from flows.apply_changes import apply_changes
    from flows.build_kg import build_kg
    from flows.certify import certify
    from flows.design_ontology import design_ontology
    from flows.evaluate import evaluate
    from flows.reindex import reindex

    hidden = {"settings", "progress", "chat_model", "chat_models", "embedder", "design"}
    for f in (build_kg, design_ontology, apply_changes, certify, evaluate, reindex):
        schema = parameter_schema(f.fn).model_dump_for_openapi()
        props = schema["properties"]
        assert not hidden & set(props), f.name
        assert not schema.get("definitions"), f.name  # no Settings model (its secrets)
        for name, prop in props.items():
            assert prop.get("description"), f"{f.name}.{name} has no description"
    assert "password" not in str(parameter_schema(build_kg.fn).model_dump_for_openapi())
