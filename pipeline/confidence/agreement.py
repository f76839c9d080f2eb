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

from pipeline.confidence.base import ConfidenceScorer, ScoredGraph
from pipeline.contracts.runner import AcceptedTriple
from pipeline.extract.base import ChunkExtraction
from pipeline.models import (
    IRI,
    Assertion,
    AssertionId,
    ChunkId,
    EntityId,
    EntityRef,
    Ontology,
    Provenance,
    QuarantinedCandidate,
    Triple,
)


def noisy_or(supports: Sequence[float]) -> float:
    miss = 1.0
    for s in supports:
        miss *= 1.0 - min(max(s, 0.0), 1.0)
    return 1.0 - miss


def most_specific(types: Counter[IRI], ontology: Ontology) -> IRI:
    """The class that is a subclass of every other candidate, else the most frequent one."""
    cands = sorted(types)
    for t in cands:
        if all(ontology.is_subclass(t, other) for other in cands):
            return t
    return sorted(cands, key=lambda t: (-types[t], t))[0]


def chunk_supports(provenance: Sequence[Provenance]) -> list[float]:
    """One support per chunk: the samples of every model on that chunk taken together.

    ``samples_total`` of a provenance is every sample drawn on its chunk (all models), and
    ``samples_agreeing`` this model's share of them, so the support of a chunk is the sum of
    its provenances' agreeing samples over that total."""
    agreeing: dict[ChunkId, int] = defaultdict(int)
    total: dict[ChunkId, int] = defaultdict(int)
    for p in provenance:
        agreeing[p.chunk_id] += p.samples_agreeing
        total[p.chunk_id] = max(total[p.chunk_id], p.samples_total)
    return [min(agreeing[c] / total[c], 1.0) for c in sorted(total)]


def confidence_of(provenance: Sequence[Provenance]) -> float:
    """Noisy-OR over chunks of the per-chunk agreement (rounded for stable storage)."""
    return round(noisy_or(chunk_supports(provenance)), 6)


class AgreementScorer(ConfidenceScorer):
    def score(self, extractions: Sequence[ChunkExtraction], ontology: Ontology) -> ScoredGraph:
        # (assertion, chunk, model) -> the accepted triples of the samples that agreed
        hits: dict[tuple[AssertionId, ChunkId, str], list[tuple[AcceptedTriple, int]]] = (
            defaultdict(list))
        runs: dict[tuple[ChunkId, str], ChunkExtraction] = {}
        samples_of_chunk: dict[ChunkId, int] = defaultdict(int)
        types: dict[EntityId, Counter[IRI]] = defaultdict(Counter)
        labels: dict[EntityId, Counter[str]] = defaultdict(Counter)
        quarantined: dict[str, QuarantinedCandidate] = {}
        for ex in extractions:
            runs[(ex.chunk.id, ex.model)] = ex
            samples_of_chunk[ex.chunk.id] += len(ex.samples)
            for sample in ex.samples:
                for q in sample.quarantined:
                    quarantined.setdefault(q.id, q)
                for acc in sample.accepted:
                    hits[(acc.triple.key, ex.chunk.id, ex.model)].append((acc, sample.attempts))
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
        for (key, chunk_id, model), found in hits.items():
            ex = runs[(chunk_id, model)]
            acc = found[0][0]
            first.setdefault(key, acc.triple)
            provenance[key].append(Provenance(
                document_id=acc.evidence.document_id, chunk_id=chunk_id,
                span=acc.evidence.span, quote=acc.evidence.quote, model=model,
                prompt_version=ex.prompt_version, run_id=ex.run_id,
                attempts=max(a for _, a in found), samples_agreeing=len(found),
                samples_total=samples_of_chunk[chunk_id], subject_mention=acc.candidate.subject,
                object_mention=acc.candidate.object, seen_at=ex.extracted_at,
                repairs=tuple(sorted({r for a, _ in found for r in a.repairs}))))

        assertions = []
        for key, triple in first.items():
            obj = triple.object
            resolved = Triple(subject=resolve(triple.subject), predicate=triple.predicate,
                              object=resolve(obj) if isinstance(obj, EntityRef) else obj)
            provs = tuple(sorted(provenance[key], key=lambda p: (p.chunk_id, p.model)))
            assertions.append(Assertion.of(resolved, confidence=confidence_of(provs),
                                           provenance=provs))
        return ScoredGraph(assertions=tuple(sorted(assertions, key=lambda a: a.id)),
                           quarantined=tuple(sorted(quarantined.values(), key=lambda q: q.id)))


def reinforce(batch: Sequence[Assertion], stored: Mapping[AssertionId, Assertion]
              ) -> list[Assertion]:
    """Confidence over everything known: a triple already in the graph from earlier runs
    keeps those sources, and the new sources reinforce them (noisy-OR across chunks). A source
    counts once per (chunk, model, prompt version): rerunning the same build adds nothing."""
    out = []
    for a in batch:
        old = stored.get(a.id)
        if old is None or not old.provenance:
            out.append(a)
            continue
        seen = {(p.chunk_id, p.model, p.prompt_version) for p in old.provenance}
        union = list(old.provenance) + [
            p for p in a.provenance if (p.chunk_id, p.model, p.prompt_version) not in seen]
        out.append(a.model_copy(update={"confidence": confidence_of(union)}))
    return out
