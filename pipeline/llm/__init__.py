"""The LLM layer: chat models built from settings, one safe way to call them, and a cache.

Any langchain-core chat model works; ``build_chat_model`` builds the two VeriKG configures
(``openai``: any OpenAI-compatible endpoint; ``embedded``: Gemma 3 270M in-process) and
``invoke_llm`` maps vendor errors into VeriKG's error tree. ``SQLiteLLMCache`` makes reruns
answer from disk. ``GROUNDED`` marks schema strings the embedded model must copy from the
prompt's document (``pipeline.llm.grammar``).
"""

from __future__ import annotations

from pipeline.llm.cache import SQLiteLLMCache
from pipeline.llm.embedded import EmbeddedChatModel, render_completion_prompt
from pipeline.llm.factory import LLM_CHOICES, build_chat_model, invoke_llm, model_id
from pipeline.llm.grammar import GROUNDED, strip_markers

__all__ = [
    "GROUNDED",
    "LLM_CHOICES",
    "EmbeddedChatModel",
    "SQLiteLLMCache",
    "build_chat_model",
    "invoke_llm",
    "model_id",
    "render_completion_prompt",
    "strip_markers",
]
