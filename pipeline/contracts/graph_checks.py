"""Graph-level contract checks: run on the assembled graph, before anything is stored.

``check_types``: every entity has one class (the most specific its statements agree on, see
``pipeline.confidence.most_specific``); an assertion whose subject's class does not fall under
the property's domain, or whose object's class does not fall under its range (subclass
reasoning), is quarantined with ``domain-mismatch`` / ``range-mismatch`` — kept and reviewable,
not stored as a fact. Example: "Guiana Space Centre" is a launch site in most statements, so
"Rosetta — launched on — Guiana Space Centre" (range: launch vehicle) is quarantined.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.models import (
    Assertion,
    CandidateTriple,
    Chunk,
    EntityRef,
    Ontology,
    QuarantinedCandidate,
    RunId,
    Span,
    Violation,
    ViolationReason,
    local_name,
)

OWL_THING = "http://www.w3.org/2002/07/owl#Thing"


def _fits(ontology: Ontology, cls: str, allowed: tuple[str, ...]) -> bool:
    return not allowed or cls == OWL_THING or any(ontology.is_subclass(cls, a) for a in allowed)


def type_violations(assertion: Assertion, ontology: Ontology) -> list[Violation]:
    prop = ontology.get_property(assertion.triple.predicate)
    if prop is None:
        return []
    t = assertion.triple
    out = []
    if not _fits(ontology, t.subject.type_iri, prop.domain):
        out.append(Violation(
            reason=ViolationReason.DOMAIN_MISMATCH, check="types-fit-domain-range",
            detail=f"'{t.subject.label}' is a {ontology.class_label(t.subject.type_iri)} in "
                   f"the graph, but '{prop.label}' needs a "
                   f"{' or '.join(ontology.class_label(d) for d in prop.domain)}"))
    if isinstance(t.object, EntityRef) and not _fits(ontology, t.object.type_iri, prop.range):
        out.append(Violation(
            reason=ViolationReason.RANGE_MISMATCH, check="types-fit-domain-range",
            detail=f"'{t.object.label}' is a {ontology.class_label(t.object.type_iri)} in "
                   f"the graph, but '{prop.label}' needs a "
                   f"{' or '.join(ontology.class_label(r) for r in prop.range)}"))
    return out


def _quarantine(assertion: Assertion, violations: list[Violation],
                ontology: Ontology) -> list[QuarantinedCandidate]:
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
            attempts=p.attempts, sample_index=0))
    return out


def check_types(assertions: Sequence[Assertion], ontology: Ontology
                ) -> tuple[list[Assertion], list[QuarantinedCandidate]]:
    """Split ``assertions`` into those whose entity classes fit domain and range, and
    quarantine records for the rest (one per provenance, with the violations)."""
    kept: list[Assertion] = []
    quarantined: dict[str, QuarantinedCandidate] = {}
    for a in assertions:
        violations = type_violations(a, ontology)
        if violations:
            quarantined.update((q.id, q) for q in _quarantine(a, violations, ontology))
        else:
            kept.append(a)
    return kept, sorted(quarantined.values(), key=lambda q: q.id)
