"""Confidence from agreement: across the samples of a chunk, then across sources.

Within a chunk, a triple's support is the share of all samples drawn for that chunk — from one
model or several — that proposed it and passed the contract. Independent chunks that state the
same triple reinforce it by noisy-OR: ``1 - Π(1 - support_c)``. Entity classes are resolved here
too: an entity met in several roles takes the most specific class the ontology's domains and
ranges give it. Each (chunk, model) that stated a triple becomes one provenance record, with the
subject and object as that source wrote them and the time it was seen.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

from pipeline.confidence.base import ConfidenceScorer
from pipeline.confidence.scoring import AGREEMENT_ONLY, ConfidenceModel
from pipeline.models import (
    IRI,
    AcceptedTriple,
    Assertion,
    AssertionId,
    ChunkExtraction,
    ChunkId,
    EntityId,
    EntityRef,
    ExtractionScope,
    LiteralValue,
    Ontology,
    Provenance,
    QuarantinedCandidate,
    ScoredGraph,
    Triple,
    Violation,
)
from pipeline.text.normalise import resolution_key


def most_specific(types: Counter[IRI], ontology: Ontology) -> IRI:
    """The class that is a subclass of every other candidate, else the most frequent one."""
    cands = sorted(types)
    for t in cands:
        if all(ontology.is_subclass(t, other) for other in cands):
            return t
    return sorted(cands, key=lambda t: (-types[t], t))[0]


def confidence_of(provenance: Sequence[Provenance]) -> float:
    """Noisy-OR over chunks of the per-chunk agreement (rounded for stable storage): the raw
    agreement, no penalties, no calibration."""
    return AGREEMENT_ONLY.score(provenance)


def _statement(t: Triple) -> tuple[str, ...]:
    """A statement as entity resolution will see it: names by their ``resolution_key``
    ("Acme Rockets Inc." and "Acme Rockets" state the same), values as written canonically."""
    obj = (t.object.value if isinstance(t.object, LiteralValue)
           else resolution_key(t.object.label))
    return (resolution_key(t.subject.label), t.predicate, obj)


def _corroboration(extractions: Sequence[ChunkExtraction]) -> dict[tuple[ChunkId, str, int],
                                                                   float]:
    """Per sample (chunk, model, index): the share of its accepted statements that another
    sample of the same chunk (of any model) also accepted; 1 where it is the chunk's only
    sample or accepted nothing."""
    by_chunk: dict[ChunkId, list[tuple[tuple[ChunkId, str, int], set[tuple[str, ...]]]]] = (
        defaultdict(list))
    for ex in extractions:
        for i, sample in enumerate(ex.samples):
            by_chunk[ex.chunk.id].append(((ex.chunk.id, ex.model, i),
                                          {_statement(acc.triple) for acc in sample.accepted}))
    out: dict[tuple[ChunkId, str, int], float] = {}
    for samples in by_chunk.values():
        for n, (key, mine) in enumerate(samples):
            others = set().union(*(s for m, (_, s) in enumerate(samples) if m != n))
            if len(samples) < 2 or not mine:
                out[key] = 1.0
            else:
                out[key] = len(mine & others) / len(mine)
    return out


def _union(violations: Sequence[Violation]) -> tuple[Violation, ...]:
    """Each violation once, in a stable order."""
    return tuple(sorted(set(violations), key=lambda v: (v.check, v.reason.value, v.detail)))


class AgreementScorer(ConfidenceScorer):
    """Agreement-based confidence; ``model`` adds the contract's soft-check penalties and
    calibration (``ConfidenceModel.from_spec``); without one the confidence is the raw
    agreement."""

    def __init__(self, model: ConfidenceModel | None = None) -> None:
        self.model = model or AGREEMENT_ONLY

    def score(self, extractions: Sequence[ChunkExtraction], ontology: Ontology) -> ScoredGraph:
        # (assertion, chunk, model) -> the accepted triples of the samples that agreed, with
        # each sample's attempts and corroboration
        hits: dict[tuple[AssertionId, ChunkId, str],
                   list[tuple[AcceptedTriple, int, float]]] = defaultdict(list)
        corroborated = _corroboration(extractions)
        runs: dict[tuple[ChunkId, str], ChunkExtraction] = {}
        samples_of_chunk: dict[ChunkId, int] = defaultdict(int)
        types: dict[EntityId, Counter[IRI]] = defaultdict(Counter)
        labels: dict[EntityId, Counter[str]] = defaultdict(Counter)
        quarantined: dict[str, QuarantinedCandidate] = {}
        for ex in extractions:
            runs[(ex.chunk.id, ex.model)] = ex
            samples_of_chunk[ex.chunk.id] += len(ex.samples)
            for i, sample in enumerate(ex.samples):
                for q in sample.quarantined:
                    quarantined.setdefault(q.id, q)
                for acc in sample.accepted:
                    hits[(acc.triple.key, ex.chunk.id, ex.model)].append(
                        (acc, sample.attempts, corroborated[(ex.chunk.id, ex.model, i)]))
                    for ent in (acc.triple.subject, acc.triple.object):
                        if isinstance(ent, EntityRef):
                            types[ent.id][ent.type_iri] += 1
                            labels[ent.id][ent.label] += 1

        def resolve(ent: EntityRef) -> EntityRef:
            label = sorted(labels[ent.id], key=lambda s: (-labels[ent.id][s], s))[0]
            return EntityRef(id=ent.id, label=label,
                             type_iri=most_specific(types[ent.id], ontology))

        provenance: dict[AssertionId, list[Provenance]] = defaultdict(list)
        first: dict[AssertionId, Triple] = {}
        flagged: dict[AssertionId, list[Violation]] = defaultdict(list)
        for (key, chunk_id, model), found in hits.items():
            ex = runs[(chunk_id, model)]
            acc = found[0][0]
            first.setdefault(key, acc.triple)
            for a, _, _ in found:
                flagged[key].extend(a.violations)
            provenance[key].append(Provenance(
                document_id=acc.evidence.document_id, chunk_id=chunk_id,
                span=acc.evidence.span, quote=acc.evidence.quote, model=model,
                prompt_version=ex.prompt_version, run_id=ex.run_id,
                attempts=max(a for _, a, _ in found), samples_agreeing=len(found),
                samples_total=samples_of_chunk[chunk_id], subject_mention=acc.candidate.subject,
                object_mention=acc.candidate.object, seen_at=ex.extracted_at,
                repairs=tuple(sorted({r for a, _, _ in found for r in a.repairs})),
                subject_text=acc.subject_text, object_text=acc.object_text,
                subject_grounding=acc.subject_grounding,
                object_grounding=acc.object_grounding,
                corroboration=round(sum(c for _, _, c in found) / len(found), 6)))

        assertions = []
        for key, triple in first.items():
            obj = triple.object
            resolved = Triple(subject=resolve(triple.subject), predicate=triple.predicate,
                              object=resolve(obj) if isinstance(obj, EntityRef) else obj)
            provs = tuple(sorted(provenance[key], key=lambda p: (p.chunk_id, p.model)))
            violations = _union(flagged[key])
            assertions.append(Assertion.of(resolved,
                                           confidence=self.model.score(provs, violations),
                                           provenance=provs, violations=violations))
        covered = tuple(ExtractionScope(run_id=ex.run_id, chunk_id=ex.chunk.id, model=ex.model,
                                        prompt_version=ex.prompt_version,
                                        samples=len(ex.samples)) for ex in extractions)
        return ScoredGraph(assertions=tuple(sorted(assertions, key=lambda a: a.id)),
                           quarantined=tuple(sorted(quarantined.values(), key=lambda q: q.id)),
                           covered=covered)


def reinforce(batch: Sequence[Assertion], stored: Mapping[AssertionId, Assertion],
              model: ConfidenceModel | None = None) -> list[Assertion]:
    """Confidence over everything known: a triple already in the graph from earlier runs
    keeps those sources, and the new sources reinforce them (noisy-OR across chunks). A source
    counts once per (chunk, model, prompt version): rerunning the same build adds nothing.
    The batch's violations (this build's checks) stand; ``model`` scores as the build does."""
    model = model or AGREEMENT_ONLY
    out = []
    for a in batch:
        old = stored.get(a.id)
        if old is None or not old.provenance:
            out.append(a)
            continue
        seen = {(p.chunk_id, p.model, p.prompt_version) for p in old.provenance}
        union = list(old.provenance) + [
            p for p in a.provenance if (p.chunk_id, p.model, p.prompt_version) not in seen]
        out.append(a.model_copy(update={"confidence": model.score(union, a.violations)}))
    return out
