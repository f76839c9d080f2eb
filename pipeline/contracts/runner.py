"""Enforcing an extraction contract on one LLM output.

``TripleContract.check_output`` parses the raw answer (output checks), runs the enabled
post-conditions on every candidate, and returns an ``OutputReport``: accepted triples with their
evidence and the soft violations they carry, rejected candidates with every violation. A
candidate is rejected when a *hard* check fails (its violations list the hard ones first, then
any soft ones, so a soft violation never hides a hard one); a candidate that fails only *soft*
checks is accepted and flagged. Only hard failures go back to the model as a corrective prompt.
It never raises for bad LLM output — bad output is data; only a failed pre-condition (the
caller's input) raises.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from pipeline.contracts.checks import CHECKS, CandidateState
from pipeline.contracts.spec import ContractSpec
from pipeline.errors import ConfigurationError, ContractViolationError
from pipeline.models import (
    IRI,
    AcceptedTriple,
    CandidateTriple,
    Chunk,
    EntityRef,
    Evidence,
    LiteralValue,
    Ontology,
    OutputReport,
    PropertyKind,
    RejectedCandidate,
    Severity,
    Span,
    Triple,
    Violation,
    ViolationReason,
)
from pipeline.text.spans import closest_pair, sentence_around, widen

OWL_THING = IRI("http://www.w3.org/2002/07/owl#Thing")
XSD_STRING = IRI("http://www.w3.org/2001/XMLSchema#string")
XSD_DATE = IRI("http://www.w3.org/2001/XMLSchema#date")
XSD_GYEAR = IRI("http://www.w3.org/2001/XMLSchema#gYear")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
#: the longest answer parsed: eight triples of 80-character terms fit in a few kilobytes, so
#: anything near this bound is a runaway generation; refusing it unparsed bounds the work (and
#: the quarantine rows) one answer can cause
MAX_OUTPUT_CHARS = 100_000






def _balanced(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` grown over the partner of a bracket it opens or closes but does not
    pair, where the text has the partner right there ("19255) 1994" → "(19255) 1994")."""
    piece = text[start:end]
    for open_, close in ("()", "[]", "{}"):
        if piece.count(close) > piece.count(open_) and start > 0 and text[start - 1] == open_:
            start -= 1
        if piece.count(open_) > piece.count(close) and end < len(text) and text[end] == close:
            end += 1
    return start, end








def _coerce_item(item: Any) -> Any:
    if isinstance(item, dict):
        return {k: (str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v)
                for k, v in item.items()}
    if isinstance(item, list | tuple) and len(item) == 3:  # ["s", "p", "o"] is common
        return _coerce_item({"subject": item[0], "predicate": item[1], "object": item[2]})
    return item


def parse_output(raw: str) -> tuple[list[Any], Violation | None]:
    """The list of raw candidate items in an answer, or an output-level violation."""
    text = raw.strip()
    if not text:
        return [], Violation(reason=ViolationReason.EMPTY_OUTPUT, check="output-not-empty",
                             detail="the model returned nothing")
    if len(text) > MAX_OUTPUT_CHARS:
        return [], Violation(reason=ViolationReason.MALFORMED_OUTPUT, check="output-is-json",
                             detail=f"the answer is {len(text)} characters long, over the "
                                    f"{MAX_OUTPUT_CHARS}-character limit; give at most the "
                                    "triples the document states, as compact JSON")
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1).strip()
    data: Any = None
    # RecursionError: JSON nested deeper than the interpreter's stack ("[[[[...") is garbage
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
        if start >= 0:
            try:
                data, _ = json.JSONDecoder().raw_decode(text[start:])
            except (json.JSONDecodeError, RecursionError):
                data = None
    if isinstance(data, dict) and isinstance(data.get("triples"), list):
        return data["triples"], None
    if isinstance(data, list):
        return data, None
    return [], Violation(reason=ViolationReason.MALFORMED_OUTPUT, check="output-is-json",
                         detail='the answer is not a JSON object of the form '
                                '{"triples": [{"subject": ..., "predicate": ..., "object": ...}]}')


class TripleContract:
    """The extraction contract of ``contracts/extraction.yaml``, made executable."""

    def __init__(self, spec: ContractSpec) -> None:
        unknown = [c.check for c in spec.postconditions if c.check not in CHECKS]
        if unknown:
            raise ConfigurationError(f"contract {spec.tag} names unknown checks: {unknown}; "
                                     f"known: {sorted(CHECKS)}")
        self.spec = spec
        self._checks = [(c.check, c.effective_severity, CHECKS[c.check])
                        for c in spec.enabled("postconditions")]
        self._aliases = dict(spec.entity_resolution.aliases)

    @property
    def check_names(self) -> list[str]:
        return [name for name, _, _ in self._checks]

    def check_preconditions(self, chunk: Chunk, ontology: Ontology) -> None:
        if not chunk.text.strip():
            raise ContractViolationError(f"{chunk.id}: pre-condition chunk-has-text failed "
                                         "(the chunk is blank)")
        if not ontology.properties:
            raise ContractViolationError(f"{ontology.iri}: pre-condition ontology-has-properties "
                                         "failed")

    def check_output(self, raw: str, chunk: Chunk, ontology: Ontology) -> OutputReport:
        items, violation = parse_output(raw)
        if violation is not None:
            return OutputReport(raw=raw, output_violations=(violation,))
        accepted: list[AcceptedTriple] = []
        rejected: list[RejectedCandidate] = []
        seen: set[str] = set()
        for item in items:
            try:
                cand = CandidateTriple.model_validate(_coerce_item(item))
            except ValidationError as exc:
                rejected.append(RejectedCandidate(candidate=None, violations=(Violation(
                    reason=ViolationReason.MALFORMED_OUTPUT, check="output-is-json",
                    detail=f"item {str(item)[:120]!r} is not a subject/predicate/object "
                           f"object: {exc.errors()[0]['msg']}"),)))
                continue
            state = CandidateState(candidate=cand, chunk=chunk, ontology=ontology,
                                   aliases=self._aliases)
            found = [v.model_copy(update={"severity": severity})
                     for _, severity, check in self._checks if (v := check(state)) is not None]
            hard = [v for v in found if v.severity is Severity.HARD]
            soft = [v for v in found if v.severity is Severity.SOFT]
            if hard:
                # hard first: the quarantine's primary reason is always a refusal's
                rejected.append(RejectedCandidate(candidate=cand, violations=(*hard, *soft)))
                continue
            acc = self._accept(state, tuple(soft))
            if acc.triple.key not in seen:  # exact duplicates within one answer count once
                seen.add(acc.triple.key)
                accepted.append(acc)
        return OutputReport(raw=raw, accepted=tuple(accepted), rejected=tuple(rejected))

    def _accept(self, s: CandidateState, soft: tuple[Violation, ...]) -> AcceptedTriple:
        prop = s.prop
        assert s.chunk is not None  # check_output always reads a chunk
        if prop is None:  # only when predicate-in-ontology is switched off
            raise ContractViolationError(
                f"{self.spec.tag}: the predicate check is off, so "
                f"'{s.candidate.predicate}' cannot be mapped onto an ontology property")
        subject = EntityRef.make(s.candidate.subject, prop.domain[0] if prop.domain else OWL_THING)
        obj: EntityRef | LiteralValue
        if prop.kind is PropertyKind.DATATYPE:
            datatype = s.literal_datatype or (prop.range[0] if prop.range else XSD_STRING)
            value = s.literal_value
            if value is None:
                # the value did not parse as the range (a soft literal-datatype failure): kept
                # as the text the model wrote, typed as what it is, a string
                value, datatype = s.candidate.object, XSD_STRING
            if datatype == XSD_DATE and re.fullmatch(r"\d{4}", value):
                datatype = XSD_GYEAR  # a date stated to the year only
            obj = LiteralValue(value=value, datatype=IRI(datatype))
        else:
            obj = EntityRef.make(s.candidate.object, prop.range[0] if prop.range else OWL_THING)
        spans = [sp for sp in (s.subject_span, s.object_span) if sp is not None]
        pair = closest_pair(s.chunk.text, s.candidate.subject, s.candidate.object)
        if pair is not None:  # the sentence naming both, not a heading that names one
            spans = list(pair)
        if not spans:  # both grounding checks switched off: the whole chunk is the evidence
            spans = [(0, len(s.chunk.text))]
        lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
        qs, qe = sentence_around(s.chunk.text, lo, hi)
        base = s.chunk.span.start
        evidence = Evidence(document_id=s.chunk.document_id, chunk_id=s.chunk.id,
                            span=Span(start=base + qs, end=base + qe),
                            quote=s.chunk.text[qs:qe])
        text = s.chunk.text
        sub_text = obj_text = ""
        if s.subject_span:
            a, b = _balanced(text, *widen(text, s.subject_span, s.candidate.subject))
            sub_text = text[a:b]
        if s.object_span:
            a, b = _balanced(text, *widen(text, s.object_span, s.candidate.object))
            obj_text = text[a:b]
        return AcceptedTriple(candidate=s.candidate,
                              triple=Triple(subject=subject, predicate=prop.iri, object=obj),
                              evidence=evidence, repairs=tuple(s.repairs),
                              subject_text=sub_text, object_text=obj_text,
                              subject_grounding=s.subject_how, object_grounding=s.object_how,
                              violations=soft)
