"""Quarantine records for statements a *hard* graph check refuses (a soft check that a
contract promoted to hard): one record per source, with the violations, so the refusal is kept
and reviewable like a refused LLM answer."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.models import (
    Assertion,
    CandidateTriple,
    Chunk,
    Ontology,
    QuarantinedCandidate,
    RunId,
    Span,
    Violation,
    local_name,
)


def quarantine_records(assertion: Assertion, violations: Sequence[Violation],
                       ontology: Ontology) -> list[QuarantinedCandidate]:
    """One quarantine record per provenance of a statement a hard graph check refused."""
    t = assertion.triple
    prop = ontology.get_property(t.predicate)
    cand = CandidateTriple(subject=t.subject.label,
                           predicate=prop.label if prop else local_name(t.predicate),
                           object=t.object_label)
    out = []
    for p in assertion.provenance:
        # a stand-in chunk carrying the ids the record needs; the stored chunk is the real one
        chunk = Chunk(id=p.chunk_id, document_id=p.document_id, index=0, text=p.quote,
                      span=Span(start=p.span.start, end=p.span.end))
        out.append(QuarantinedCandidate.make(
            chunk=chunk, raw=p.quote, candidate=cand, violations=tuple(violations),
            model=p.model, prompt_version=p.prompt_version, run_id=RunId(p.run_id),
            attempts=p.attempts, sample_index=0, samples_total=p.samples_total))
    return out


def add_refusal(quarantined: dict[str, QuarantinedCandidate], q: QuarantinedCandidate) -> None:
    """Add a graph check's record to a run's quarantine. A record with its id is already there
    when a sample's answers refused the same statement (another sample accepted it): that
    record stays, with the graph check's reasons added, so neither refusal is lost."""
    earlier = quarantined.get(q.id)
    if earlier is None:
        quarantined[q.id] = q
        return
    added = tuple(v for v in q.violations if v not in earlier.violations)
    quarantined[q.id] = earlier.model_copy(update={"violations": earlier.violations + added})


__all__ = ["add_refusal", "quarantine_records"]
