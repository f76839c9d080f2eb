"""The output contract of every agent answer, with corrective retries.

An answer must be one JSON object (code fences and prose around it are tolerated, as in
extraction), valid under the step's pydantic schema, free of hostile text, and pass the step's
own checks (e.g. votes only on known questions). A violation goes back to the agent as a
corrective prompt naming every problem, up to ``max_retries`` times; an LLM endpoint that is
away is retried with exponential backoff. Every attempt is recorded in the transcript; what
still fails is returned with its violations for the caller to quarantine (bad output is data,
never an exception).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from langchain_core.messages import BaseMessage
from pydantic import BaseModel, ValidationError

from pipeline.errors import LLMUnavailableError
from pipeline.llm import invoke_llm
from pipeline.ontology.design.agents import PanelAgent
from pipeline.ontology.design.prompts import Correction
from pipeline.ontology.design.transcript import CallRecord, DesignViolation, Step, Transcript
from pipeline.text.hostile import hostile_fields

T = TypeVar("T", bound=BaseModel)
_FENCED = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_ITEM = re.compile(r"^[a-z_]+\[(\d+)\]")
#: at most this many schema errors are listed in one corrective prompt
MAX_SCHEMA_ERRORS = 8


@dataclass
class Answer(Generic[T]):
    """What came of asking one agent: the last parsed answer (None if none parsed), the
    violations left in it, its raw text and the number of attempts."""

    value: T | None
    violations: list[DesignViolation] = field(default_factory=list)
    raw: str = ""
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.value is not None and not self.violations


def parse_json_object(raw: str) -> tuple[Any, DesignViolation | None]:
    """The JSON object in ``raw``, or the violation that says why there is none."""
    text = raw.strip()
    if not text:
        return None, DesignViolation(code="empty-output", detail="the answer is empty")
    fenced = _FENCED.search(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        start = text.find("{")
        data = None
        if start >= 0:
            try:
                data, _ = json.JSONDecoder().raw_decode(text[start:])
            except json.JSONDecodeError:
                data = None
    if not isinstance(data, dict):
        return None, DesignViolation(code="malformed-output",
                                     detail="the answer is not one JSON object")
    return data, None


def validate_answer(raw: str, schema: type[T]) -> tuple[T | None, list[DesignViolation]]:
    """Parse and schema-check ``raw``; then look for hostile text in every string field."""
    data, problem = parse_json_object(raw)
    if problem is not None:
        return None, [problem]
    try:
        value = schema.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        found = [DesignViolation(
            code="wrong-schema",
            detail=f"{'.'.join(str(p) for p in e['loc']) or 'the answer'}: {e['msg']}")
            for e in errors[:MAX_SCHEMA_ERRORS]]
        if len(errors) > MAX_SCHEMA_ERRORS:
            found.append(DesignViolation(code="wrong-schema",
                                         detail=f"and {len(errors) - MAX_SCHEMA_ERRORS} more"))
        return None, found
    hostile = []
    for path, _value, reasons in hostile_fields(value):
        m = _ITEM.match(path)
        hostile.append(DesignViolation(
            code="hostile-text", item=int(m.group(1)) if m else None,
            detail=f"{path} reads like an instruction ({', '.join(reasons)}); write only "
                   "content for the task"))
    return value, hostile


class ContractCaller:
    """Asks agents under the output contract and records every call in ``transcript``."""

    def __init__(self, transcript: Transcript, *, max_retries: int, unavailable_retries: int,
                 backoff_seconds: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self.transcript = transcript
        self.max_retries = max_retries
        self.unavailable_retries = unavailable_retries
        self.backoff_seconds = backoff_seconds
        self._sleep = sleep

    def _invoke(self, agent: PanelAgent, step: Step, messages: Sequence[BaseMessage],
                seed: int) -> str:
        delay = self.backoff_seconds
        for attempt in range(self.unavailable_retries + 1):
            try:
                return invoke_llm(agent.model_for(step), messages, seed=seed)
            except LLMUnavailableError:
                if attempt == self.unavailable_retries:
                    raise
                self._sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def ask(self, agent: PanelAgent, step: Step, round_: int,
            build: Callable[..., list[BaseMessage]], schema: type[T],
            check: Callable[[T], list[DesignViolation]] | None = None) -> Answer[T]:
        """Ask ``agent`` until its answer passes or the retries run out.

        ``build(corrections=...)`` makes the messages; ``check`` adds the step's own rules to the
        schema and hostile-text checks. The seed depends only on the round and the attempt, so
        a rerun asks exactly the same thing.
        """
        corrections: list[Correction] = []
        answer: Answer[T] = Answer(value=None)
        for attempt in range(1, self.max_retries + 2):
            raw = self._invoke(agent, step, build(corrections=corrections),
                               seed=round_ * 100 + attempt)
            value, violations = validate_answer(raw, schema)
            if value is not None and check is not None:
                violations += check(value)
            self.transcript.calls.append(CallRecord(
                seq=len(self.transcript.calls) + 1, step=step, round=round_, agent=agent.name,
                attempt=attempt, raw=raw, violations=tuple(violations), ok=not violations
                and value is not None))
            answer = Answer(value=value, violations=violations, raw=raw, attempts=attempt)
            if answer.ok:
                return answer
            corrections.append(Correction(raw=raw, problems=tuple(v.line() for v in violations)))
        return answer


__all__ = ["Answer", "ContractCaller", "parse_json_object", "validate_answer"]
