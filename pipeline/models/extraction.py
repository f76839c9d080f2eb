"""What extraction yields: candidates, the contract's verdict on an answer, samples, quarantine."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pipeline.models.base import ChunkId, DocumentId, Frozen, QuarantineId, RunId, stable_hash
from pipeline.models.documents import Chunk, Evidence
from pipeline.models.graph import LiteralValue, Triple
from pipeline.models.violations import Violation, ViolationReason


class CandidateTriple(BaseModel):
    """One triple exactly as an LLM proposed it, before any check. Unknown keys are ignored
    (models add commentary fields); everything else is validated by the contracts."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    subject: str
    predicate: str
    object: str
    evidence: str | None = None


class WrittenForm(StrEnum):
    """How an accepted triple's subject and object are written out (exports, evaluations).

    The model's own surface form is always kept in the provenance; this only picks what is
    written. ``model``: exactly what the model said. ``text``: the span of the document that
    supports it, as written there. ``tidy`` (the default): where the document writes the same
    words, spelled as the document spells them ("AWH_Engineering_College" → "AWH Engineering
    College", "19255 1994 VK8" → "(19255) 1994 VK8"), inside the model's own quotation marks;
    where it writes them another way (a plural, an alias, a demonym, a date or number in
    another form), the model's form, unless that is a value not in a clean canonical form
    ("373513000.0 (kilometres": then the document's wording). ``canonical``: ``tidy`` names,
    canonical values (ISO dates, plain numbers) for literals."""

    MODEL = "model"
    TEXT = "text"
    TIDY = "tidy"
    CANONICAL = "canonical"


class AttemptRecord(Frozen):
    """One call of the LLM for a sample: which model and prompt, what came back, what failed."""

    attempt: Annotated[int, Field(ge=1)]
    model: str
    prompt_version: str
    proposed: int = 0
    accepted: int = 0
    #: the violations found in this attempt's answer, as "[reason] detail" lines
    violations: tuple[str, ...] = ()


class QuarantinedCandidate(Frozen):
    """An LLM proposal that failed its contract after every retry, kept with its reasons.

    Its ``id`` is its statement in one sample: chunk, model, prompt version, sample index and
    the subject, predicate and object as proposed (two predicates for one pair are two
    records). ``run_id``, ``attempts``, ``history``, ``raw`` and ``violations`` are those of
    the latest run that refused it; ``runs`` names every run that refused it, in the order
    they first did. A later run that extracts the same chunk again (same model, prompt
    version and sample) and does not refuse it — it accepted the statement, or no longer
    proposed it — does not remove it: the store keeps it as history with ``resolved_by``
    set to that run (``ExtractionScope``); a run that refuses it again reopens it."""

    id: QuarantineId
    chunk_id: ChunkId
    document_id: DocumentId
    raw: str
    candidate: CandidateTriple | None
    violations: tuple[Violation, ...]
    model: str
    prompt_version: str
    run_id: RunId
    attempts: Annotated[int, Field(ge=1)]
    sample_index: Annotated[int, Field(ge=0)]
    #: every attempt of the sample this candidate came from
    history: tuple[AttemptRecord, ...] = ()
    #: how many samples its chunk's extraction drew (0: not known, as on older records)
    samples_total: Annotated[int, Field(ge=0)] = 0
    #: every run that refused it, oldest first; always holds ``run_id`` (added when missing,
    #: as on records stored before runs were kept)
    runs: tuple[RunId, ...] = ()
    #: the later run that extracted its chunk again and did not refuse it; None while it stands
    resolved_by: RunId | None = None

    @model_validator(mode="before")
    @classmethod
    def _runs_hold_the_run(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("run_id"):
            runs = tuple(data.get("runs") or ())
            if data["run_id"] not in runs:
                data = {**data, "runs": (*runs, data["run_id"])}
        return data

    @classmethod
    def make(cls, *, chunk: Chunk, raw: str, candidate: CandidateTriple | None,
             violations: tuple[Violation, ...], model: str, prompt_version: str,
             run_id: RunId, attempts: int, sample_index: int,
             history: tuple[AttemptRecord, ...] = (),
             samples_total: int = 0) -> QuarantinedCandidate:
        body = raw if candidate is None else (
            f"{candidate.subject}\x00{candidate.predicate}\x00{candidate.object}")
        digest = stable_hash(chunk.id, model, prompt_version, str(sample_index), body)
        qid = QuarantineId(f"q:{digest}")
        return cls(id=qid, chunk_id=chunk.id, document_id=chunk.document_id, raw=raw,
                   candidate=candidate, violations=violations, model=model,
                   prompt_version=prompt_version, run_id=run_id, attempts=attempts,
                   sample_index=sample_index, history=history, samples_total=samples_total)

    def refused_again(self, later: QuarantinedCandidate) -> QuarantinedCandidate:
        """This stored record as ``later`` (the same statement refused again) leaves it: the
        later refusal's run, attempts, history and reasons, every run that refused it, and
        open again if it had been resolved."""
        runs = (*self.runs, *(r for r in later.runs if r not in self.runs))
        return later.model_copy(update={"runs": runs, "resolved_by": None})

    @property
    def primary_reason(self) -> ViolationReason:
        return self.violations[0].reason


class ExtractionScope(Frozen):
    """What one run's extraction of a chunk covered: the chunk, the model, the prompt version
    and how many samples. A stored refusal inside it (same chunk, model and prompt version, a
    sample the run drew) that the run does not refuse again is resolved by the run."""

    run_id: RunId
    chunk_id: ChunkId
    model: str
    prompt_version: str
    samples: Annotated[int, Field(ge=0)]

    def covers(self, q: QuarantinedCandidate) -> bool:
        return (q.chunk_id == self.chunk_id and q.model == self.model
                and q.prompt_version == self.prompt_version and q.sample_index < self.samples)


class AcceptedTriple(Frozen):
    candidate: CandidateTriple
    triple: Triple
    evidence: Evidence
    repairs: tuple[str, ...] = ()
    #: the subject and object exactly as the chunk writes them (the matched spans); the object
    #: is empty when it is a literal the chunk states in another form
    subject_text: str = ""
    object_text: str = ""
    #: how each was found in the chunk: exact, inflected, date, number, alias, acronym,
    #: demonym ("" when its check is off)
    subject_grounding: str = ""
    object_grounding: str = ""
    #: the soft checks this triple failed: it is kept, flagged, and its confidence lowered
    violations: tuple[Violation, ...] = ()

    def written(self, form: WrittenForm) -> tuple[str, str]:
        """The subject and object as ``form`` writes them (see ``WrittenForm``)."""
        c = self.candidate
        if form is WrittenForm.MODEL:
            return c.subject, c.object
        if form is WrittenForm.TEXT:
            return self.subject_text or c.subject, self.object_text or c.object
        subject = _tidy(c.subject, self.subject_text, self.subject_grounding)
        obj = _tidy(c.object, self.object_text, self.object_grounding)
        if form is WrittenForm.CANONICAL and isinstance(self.triple.object, LiteralValue):
            obj = self.triple.object.value
        return subject, obj


_CLEAN_VALUE = re.compile(r"[+-]?\d+(?:\.\d+)?|\d{4}(?:-\d{2}(?:-\d{2})?)?")


_QUOTES = "\"'“”‘’«»"


def _tidy(said: str, written: str, how: str) -> str:
    """What ``WrittenForm.TIDY`` writes for one side of a triple.

    Found as written (``exact``: the same words, case, spacing, underscores and punctuation
    aside), the words are spelled as the document spells them, inside the model's own
    quotation marks if it used any. Found another way (an inflection, an alias, an acronym, a
    demonym, a date or number written differently), the model's form is kept — its choice of
    lemma or name stands — unless it is a date or number not in a clean canonical form (a
    unit cut short, stray punctuation): then the document's own wording of the value."""
    if not written:
        return said
    if how == "exact":
        quote = said[:1] if said[:1] in _QUOTES and said[-1:] == said[:1] else ""
        inner = written.strip(_QUOTES) if quote else written
        return f"{quote}{inner}{quote}"
    if how in ("date", "number") and not _CLEAN_VALUE.fullmatch(said.strip()):
        return written
    return said


class RejectedCandidate(Frozen):
    candidate: CandidateTriple | None
    violations: tuple[Violation, ...]


class OutputReport(Frozen):
    """The verdict on one LLM answer."""

    raw: str
    accepted: tuple[AcceptedTriple, ...] = ()
    rejected: tuple[RejectedCandidate, ...] = ()
    output_violations: tuple[Violation, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.output_violations

    def violation_messages(self) -> list[str]:
        msgs = [f"[{v.reason.value}] {v.detail}" for v in self.output_violations]
        for r in self.rejected:
            what = (f"({r.candidate.subject} | {r.candidate.predicate} | {r.candidate.object})"
                    if r.candidate else "(unparsed item)")
            msgs.extend(f"{what}: [{v.reason.value}] {v.detail}" for v in r.violations)
        return msgs


class SampleResult(Frozen):
    """One independent sample of the extraction step for a chunk, after its retries."""

    sample_index: Annotated[int, Field(ge=0)]
    attempts: Annotated[int, Field(ge=1)]
    accepted: tuple[AcceptedTriple, ...] = ()
    quarantined: tuple[QuarantinedCandidate, ...] = ()
    #: how often each check failed across this sample's attempts (contract statistics)
    check_failures: dict[str, int] = Field(default_factory=dict)
    proposed: int = 0
    #: every attempt: model, prompt version and the violations found (provenance of retries)
    history: tuple[AttemptRecord, ...] = ()


class ChunkExtraction(Frozen):
    chunk: Chunk
    model: str
    prompt_version: str
    contract: str
    run_id: RunId
    samples: tuple[SampleResult, ...]
    #: when the extraction ran (the provenance's "seen at")
    extracted_at: datetime | None = None
