"""Contract-checked extraction with any langchain-core chat model.

For each chunk: k independent samples; in each, the model's answer goes through the contract;
failed post-conditions come back to the model as a corrective prompt naming every violation,
up to ``max_retries`` times; an LLM that is away is retried with exponential backoff. What
still fails is returned as quarantined candidates with their reasons — never dropped.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from langchain_core.language_models import BaseChatModel

from pipeline.contracts.runner import MAX_OUTPUT_CHARS, TripleContract
from pipeline.errors import LLMUnavailableError
from pipeline.extract.base import Extractor
from pipeline.extract.prompt import PROMPT_VERSION, build_messages
from pipeline.llm import invoke_llm, model_id
from pipeline.models import (
    AcceptedTriple,
    AttemptRecord,
    Chunk,
    ChunkExtraction,
    Ontology,
    QuarantinedCandidate,
    RejectedCandidate,
    RunId,
    SampleResult,
    Violation,
)
from pipeline.text.normalise import normalise


def _pair(c: object) -> tuple[str, str] | None:
    subject, obj = getattr(c, "subject", None), getattr(c, "object", None)
    return (normalise(subject), normalise(obj)) if subject and obj else None


def _statement(c: object) -> tuple[tuple[str, str], str] | None:
    """A candidate's identity in the quarantine: its subject and object, and its predicate as
    written (two predicates for one pair are two statements, never one record)."""
    pair = _pair(c)
    predicate = getattr(c, "predicate", None)
    return (pair, normalise(predicate or "")) if pair is not None else None


#: how much of an over-long answer the corrective prompt shows the model again
_ECHO_CHARS = 2_000


def _echo(raw: str) -> str:
    """The answer as the corrective prompt repeats it: a runaway answer (refused for its length)
    is cut, so one bad answer cannot blow up every later prompt of the sample."""
    if len(raw) <= MAX_OUTPUT_CHARS:
        return raw
    return raw[:_ECHO_CHARS] + f" … [{len(raw) - _ECHO_CHARS} more characters cut]"


class LLMExtractor(Extractor):
    """Extracts triples from a chunk with a LangChain chat model under a contract: ``samples``
    independent samples, each retried with the contract's corrections up to ``max_retries``
    times; what still fails is quarantined with its reasons, never dropped."""

    def __init__(self, chat_model: BaseChatModel, contract: TripleContract, *,
                 samples: int | None = None, max_retries: int | None = None,
                 model_name: str | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.chat_model = chat_model
        self.contract = contract
        self.samples = samples if samples is not None else contract.spec.samples.count
        self.max_retries = (max_retries if max_retries is not None
                            else contract.spec.retry.max_retries)
        self.model_name = model_name or model_id(chat_model)
        self._sleep = sleep

    def extract(self, chunk: Chunk, ontology: Ontology, *, run_id: RunId) -> ChunkExtraction:
        self.contract.check_preconditions(chunk, ontology)
        samples = tuple(self._sample(chunk, ontology, i, run_id) for i in range(self.samples))
        return ChunkExtraction(chunk=chunk, model=self.model_name, prompt_version=PROMPT_VERSION,
                               contract=self.contract.spec.tag, run_id=run_id, samples=samples,
                               extracted_at=datetime.now(UTC))

    def _call(self, messages: list, seed: int) -> str:
        policy = self.contract.spec.retry
        delay = policy.backoff_seconds
        for attempt in range(policy.unavailable_retries + 1):
            try:
                return invoke_llm(self.chat_model, messages, seed=seed)
            except LLMUnavailableError:
                if attempt == policy.unavailable_retries:
                    raise
                self._sleep(delay)
                delay *= policy.backoff_factor
        raise AssertionError("unreachable")

    def _sample(self, chunk: Chunk, ontology: Ontology, index: int,
                run_id: RunId) -> SampleResult:
        accepted: dict[str, AcceptedTriple] = {}
        # refused candidates by statement, with the attempt that refused them last
        pending: dict[object, tuple[RejectedCandidate, str, int]] = {}
        output_failure: tuple[str, tuple[Violation, ...]] | None = None
        failures: Counter[str] = Counter()
        corrections: list[tuple[str, list[str]]] = []
        proposed = 0
        attempts = 0
        history: list[AttemptRecord] = []
        for attempt in range(self.max_retries + 1):
            attempts = attempt + 1
            messages = build_messages(chunk.text, ontology, corrections=corrections)
            raw = self._call(messages, seed=index * 1000 + attempt)
            report = self.contract.check_output(raw, chunk, ontology)
            proposed += len(report.accepted) + len(report.rejected)
            history.append(AttemptRecord(
                attempt=attempts, model=self.model_name, prompt_version=PROMPT_VERSION,
                proposed=len(report.accepted) + len(report.rejected),
                accepted=len(report.accepted), violations=tuple(report.violation_messages())))
            for v in report.output_violations:
                failures[v.check] += 1
            output_failure = (raw, report.output_violations) if report.output_violations else None
            for acc in report.accepted:
                for v in acc.violations:  # soft: kept and flagged, but a failure all the same
                    failures[v.check] += 1
                corrects = acc.triple.key not in accepted
                accepted.setdefault(acc.triple.key, acc)
                # a later attempt that newly states the pair acceptably corrects what an
                # earlier attempt was refused for it; a refusal in the same answer stands, and
                # so does one beside a statement accepted before (repeating it corrects nothing)
                pair = _pair(acc.candidate)
                for key in [k for k, (_, _, at) in pending.items()
                            if corrects and isinstance(k, tuple) and k[0] == pair
                            and at < attempt]:
                    del pending[key]
            done = {_statement(a.candidate) for a in accepted.values()}
            for rej in report.rejected:
                for v in rej.violations:
                    failures[v.check] += 1
                key = _statement(rej.candidate) or ("raw", raw, len(pending))
                if key not in done:
                    pending[key] = (rej, raw, attempt)
            if report.ok:
                break
            corrections.append((_echo(raw), report.violation_messages()))
        quarantined = [
            QuarantinedCandidate.make(chunk=chunk, raw=raw, candidate=rej.candidate,
                                      violations=rej.violations, model=self.model_name,
                                      prompt_version=PROMPT_VERSION, run_id=run_id,
                                      attempts=attempts, sample_index=index,
                                      history=tuple(history), samples_total=self.samples)
            for rej, raw, _ in pending.values()]
        if output_failure is not None:
            raw, violations = output_failure
            quarantined.append(QuarantinedCandidate.make(
                chunk=chunk, raw=raw, candidate=None, violations=violations,
                model=self.model_name, prompt_version=PROMPT_VERSION, run_id=run_id,
                attempts=attempts, sample_index=index, history=tuple(history),
                samples_total=self.samples))
        unique = {q.id: q for q in quarantined}
        return SampleResult(sample_index=index, attempts=attempts,
                            accepted=tuple(accepted.values()),
                            quarantined=tuple(unique.values()),
                            check_failures=dict(failures), proposed=proposed,
                            history=tuple(history))
