"""Build the chat model a run uses from ``Settings``, name it, and call it safely.

``build_chat_model`` picks a backend from ``settings.llm``:

* ``openai``: ``langchain_openai.ChatOpenAI`` against any OpenAI-compatible endpoint (OpenAI,
  vLLM, Ollama, llama.cpp's server); a JSON schema becomes a ``response_format`` of type
  ``json_schema`` sent as a plain request field.
* ``embedded``: ``EmbeddedChatModel``, Gemma 3 270M in-process, grammar-constrained.

``invoke_llm`` is the one place a stage calls a model: it passes ``seed`` through (so k samples
differ and are cached apart), returns the answer text, and turns vendor exceptions into
VeriKG's: ``LLMUnavailableError`` (retryable: timeouts, refused connections, rate limits,
server errors) or ``ConfigurationError`` (retrying cannot help: bad key, unknown model,
rejected request).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from langchain_core.caches import BaseCache
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from pipeline.errors import ConfigurationError, LLMUnavailableError, VeriKGError
from pipeline.llm.embedded import EmbeddedChatModel, message_text
from pipeline.llm.grammar import strip_markers
from pipeline.settings import Settings

LLM_CHOICES = ("embedded", "openai")
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
#: Name under which the schema is sent in ``response_format`` (OpenAI requires one).
SCHEMA_NAME = "verikg_answer"


def build_chat_model(
    settings: Settings,
    *,
    json_schema: dict[str, Any] | None = None,
    cache: BaseCache | bool | None = None,
) -> BaseChatModel:
    """The chat model ``settings`` describe; no network or file I/O happens here.

    ``json_schema`` constrains the answer's shape where the backend supports it.
    ``cache`` is handed to langchain (``SQLiteLLMCache`` for resumable runs; ``None`` means
    langchain's global cache, if any; ``False`` disables caching).
    """
    kind = settings.llm.strip().lower()
    if kind == "openai":
        return _build_openai(settings, json_schema, cache)
    if kind == "embedded":
        return EmbeddedChatModel(
            temperature=settings.llm_temperature,
            max_tokens=settings.llm_max_tokens,
            json_schema=json_schema,
            cache=cache,
        )
    raise ConfigurationError(
        f"unknown LLM backend {settings.llm!r} (VERIKG_LLM); choose one of: "
        + ", ".join(LLM_CHOICES))


def _build_openai(settings: Settings, json_schema: dict[str, Any] | None,
                  cache: BaseCache | bool | None) -> BaseChatModel:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:  # a core dependency, but say what to do if it is missing
        raise ConfigurationError("VERIKG_LLM=openai needs the langchain-openai package") from exc
    base_url = (settings.llm_base_url or "").strip() or None  # an empty variable means unset
    api_key = settings.llm_api_key.get_secret_value()
    if not api_key:
        if base_url is None:
            raise ConfigurationError(
                "VERIKG_LLM=openai without VERIKG_LLM_BASE_URL talks to OpenAI and needs "
                "VERIKG_LLM_API_KEY; set the key, or point VERIKG_LLM_BASE_URL at a local "
                "server (vLLM, Ollama, llama.cpp)")
        api_key = "not-needed"  # local servers ignore the key, but the client wants one
    extra: dict[str, Any] = {}
    if _is_self_hosted(base_url):
        # langchain-openai sends only ``max_completion_tokens``; servers that predate it
        # (llama-cpp-python's, older Ollama) ignore it and generate until the context is full
        extra["max_tokens"] = settings.llm_max_tokens
    if json_schema is not None:
        # Sent as a plain field rather than through the client's ``parse`` path, which raises
        # on truncated output instead of returning the text for the contracts to judge.
        extra["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": SCHEMA_NAME, "schema": strip_markers(json_schema),
                            "strict": False},
        }
    return ChatOpenAI(
        model=settings.llm_model,
        base_url=base_url,
        api_key=api_key,  # type: ignore[arg-type]
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,  # type: ignore[call-arg]
        timeout=settings.llm_timeout_s,
        extra_body=extra or None,
        cache=cache,
    )


def _is_self_hosted(base_url: str | None) -> bool:
    """True for an endpoint other than OpenAI's own API."""
    if base_url is None:
        return False
    host = urlsplit(base_url).hostname or ""
    return not (host == "api.openai.com" or host.endswith(".openai.azure.com"))


def model_id(chat_model: BaseChatModel) -> str:
    """A stable string naming the model, recorded as provenance with every assertion.

    ``embedded:<file>@sha256:<digest>`` for the embedded model,
    ``openai:<model>@<base url>`` for OpenAI-compatible endpoints, and
    ``<llm type>:<model name>`` (or just the type) for anything else, fakes included.
    """
    own = getattr(type(chat_model), "model_id", None)
    if isinstance(own, property):
        return str(chat_model.model_id)  # type: ignore[attr-defined]
    name = getattr(chat_model, "model_name", None) or getattr(chat_model, "model", None)
    llm_type = chat_model._llm_type
    if llm_type == "openai-chat":
        base = _endpoint(chat_model)
        return f"openai:{name}" if base == OPENAI_DEFAULT_BASE_URL else f"openai:{name}@{base}"
    return f"{llm_type}:{name}" if isinstance(name, str) and name else llm_type


def _endpoint(chat_model: BaseChatModel) -> str:
    if isinstance(chat_model, EmbeddedChatModel):
        return "the embedded llama.cpp model"
    base = getattr(chat_model, "openai_api_base", None)
    if base is not None:
        return str(base).rstrip("/")
    if chat_model._llm_type == "openai-chat":
        return OPENAI_DEFAULT_BASE_URL
    return chat_model._llm_type


def invoke_llm(model: BaseChatModel, messages: Sequence[BaseMessage], *, seed: int) -> str:
    """Call ``model`` once and return the text of its answer (``""`` when it is empty).

    ``seed`` goes through as an invoke kwarg: the backend samples with it and it is part of
    the cache key. Vendor exceptions are re-raised as ``LLMUnavailableError`` or
    ``ConfigurationError``, chained to the original.
    """
    try:
        answer = model.invoke(list(messages), seed=seed)
    except VeriKGError:
        raise
    except Exception as exc:
        mapped = _map_error(model, exc)
        if mapped is None:
            raise  # not a transport problem: a bug or a misuse, let it surface as itself
        raise mapped from exc
    return message_text(answer) if answer is not None else ""


_NOT_RETRYABLE_HINT = {
    401: "check VERIKG_LLM_API_KEY",
    403: "check the key's permissions for this model",
    404: "check VERIKG_LLM_MODEL and VERIKG_LLM_BASE_URL (it usually ends in /v1)",
}


def _map_error(model: BaseChatModel, exc: Exception) -> VeriKGError | None:
    """VeriKG's error for a vendor exception raised while calling ``model``, else ``None``."""
    endpoint = _endpoint(model)
    name = type(exc).__name__
    status = _status_code(exc)
    if "response_format" in str(exc):
        # llama-cpp-python's own server knows only "json_object" and reports the rejected
        # json_schema as HTTP 500; whatever the status, retrying cannot help
        return ConfigurationError(
            f"LLM endpoint {endpoint} does not accept a JSON-schema response_format ({name}: "
            f"{exc}); use a server that does (llama.cpp's llama-server, vLLM, Ollama, OpenAI) "
            "or build the model without json_schema")
    if status is not None and 400 <= status < 500 and status not in (408, 409, 429):
        hint = _NOT_RETRYABLE_HINT.get(
            status, "the request was rejected; check the model's settings and context size")
        return ConfigurationError(
            f"LLM endpoint {endpoint} answered HTTP {status} ({name}: {exc}); {hint}")
    if status == 429 or "RateLimit" in name:
        what = "is rate-limiting requests"
        todo = "retry later, or lower the number of parallel extraction workers"
    elif isinstance(exc, TimeoutError) or "Timeout" in name:
        what = "did not answer in time"
        todo = "retry, raise VERIKG_LLM_TIMEOUT_S, or check the server's load"
    elif isinstance(exc, ConnectionError | OSError) or "Connection" in name:
        what = "cannot be reached"
        todo = "check that the server is running and VERIKG_LLM_BASE_URL is right"
    elif status is not None:
        what = f"failed with HTTP {status}"
        todo = "retry later; check the server's logs"
    elif _is_vendor_error(exc):
        what = "failed"
        todo = "retry later; check the server's logs"
    else:
        return None
    return LLMUnavailableError(f"LLM endpoint {endpoint} {what} ({name}: {exc}); {todo}")


def _status_code(exc: Exception) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _is_vendor_error(exc: Exception) -> bool:
    module = type(exc).__module__.split(".")[0]
    return module in {"openai", "httpx", "httpx2", "httpcore", "requests", "urllib3"}


__all__ = ["LLM_CHOICES", "build_chat_model", "invoke_llm", "model_id"]
