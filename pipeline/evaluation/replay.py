"""Recorded LLM answers standing in for a live model.

``RecordedChatModel`` is a langchain-core chat model whose answer to the next prompt is set by
the caller (``answering``). The extraction stage calls it exactly as it calls a live model —
same prompt, same contract, same retries — so an evaluation on recorded outputs exercises the
code a build runs. A corrective retry gets the same recorded answer again: a recording cannot
learn from the correction, which makes the replay a lower bound of what retries achieve.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from pipeline.llm.embedded import message_text


def recorded_answer(triples: Sequence[Sequence[str]]) -> str:
    """A recorded list of ``[subject, relation, object]`` as the JSON answer the extraction
    prompt asks for (the relation kept exactly as the system wrote it)."""
    return json.dumps({"triples": [
        {"subject": s, "predicate": p, "object": o} for s, p, o in triples]},
        ensure_ascii=False)


class RecordedChatModel(BaseChatModel):
    """Answers with the recording set for the text being extracted."""

    system: str
    _answer: str | None = PrivateAttr(default=None)
    _text: str = PrivateAttr(default="")
    _calls: int = PrivateAttr(default=0)

    @property
    def _llm_type(self) -> str:
        return "recorded"

    @property
    def model_id(self) -> str:
        return f"recorded:{self.system}"

    @property
    def calls(self) -> int:
        return self._calls

    @contextmanager
    def answering(self, text: str, answer: str) -> Iterator[None]:
        """Within the block, a prompt about ``text`` is answered with ``answer``."""
        self._text, self._answer = text, answer
        try:
            yield
        finally:
            self._text, self._answer = "", None

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        if self._answer is None:
            raise RuntimeError("RecordedChatModel was called with no recording set")
        asked = [message_text(m) for m in messages if isinstance(m, HumanMessage)]
        if not any(self._text in a for a in asked):
            raise RuntimeError("the prompt is not about the text the recording belongs to")
        self._calls += 1
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._answer))])


__all__ = ["RecordedChatModel", "recorded_answer"]
