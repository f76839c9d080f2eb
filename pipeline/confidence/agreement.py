"""Confidence from agreement: across the k samples of a chunk, then across sources.

Within a chunk, a triple's support is the share of samples that proposed it and passed the
contract. Independent chunks that state the same triple reinforce it by noisy-OR:
``1 - Π(1 - support_c)``. Entity classes are resolved here too: an entity met in several roles
takes the most specific class the ontology's domains and ranges give it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

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


class AgreementScorer(ConfidenceScorer):
    def score(self, extractions: Sequence[ChunkExtraction], ontology: Ontology) -> ScoredGraph:
        per_chunk: dict[tuple[AssertionId, ChunkId], list[tuple[AcceptedTriple, int]]] = (
            defaultdict(list))
        meta: dict[ChunkId, ChunkExtraction] = {}
        types: dict[EntityId, Counter[IRI]] = defaultdict(Counter)
        labels: dict[EntityId, Counter[str]] = defaultdict(Counter)
        quarantined: dict[str, QuarantinedCandidate] = {}
        for ex in extractions:
            meta[ex.chunk.id] = ex
            for sample in ex.samples:
                for q in sample.quarantined:
                    quarantined.setdefault(q.id, q)
                for acc in sample.accepted:
                    per_chunk[(acc.triple.key, ex.chunk.id)].append((acc, sample.attempts))
                    for ent in (acc.triple.subject, acc.triple.object):
                        if isinstance(ent, EntityRef):
                            types[ent.id][ent.type_iri] += 1
                            labels[ent.id][ent.label] += 1

        def resolve(ent: EntityRef) -> EntityRef:
            label = sorted(labels[ent.id], key=lambda s: (-labels[ent.id][s], s))[0]
            return EntityRef(id=ent.id, label=label,
                             type_iri=most_specific(types[ent.id], ontology))

        supports: dict[AssertionId, list[float]] = defaultdict(list)
        provenance: dict[AssertionId, list[Provenance]] = defaultdict(list)
        first: dict[AssertionId, Triple] = {}
        for (key, chunk_id), hits in per_chunk.items():
            ex = meta[chunk_id]
            k = len(ex.samples)
            agreeing = len(hits)
            supports[key].append(agreeing / k)
            acc = hits[0][0]
            first.setdefault(key, acc.triple)
            provenance[key].append(Provenance(
                document_id=acc.evidence.document_id, chunk_id=chunk_id,
                span=acc.evidence.span, quote=acc.evidence.quote, model=ex.model,
                prompt_version=ex.prompt_version, run_id=ex.run_id,
                attempts=max(a for _, a in hits), samples_agreeing=agreeing, samples_total=k))

        assertions = []
        for key, triple in first.items():
            obj = triple.object
            resolved = Triple(subject=resolve(triple.subject), predicate=triple.predicate,
                              object=resolve(obj) if isinstance(obj, EntityRef) else obj)
            provs = tuple(sorted(provenance[key], key=lambda p: (p.chunk_id, p.model)))
            assertions.append(Assertion.of(resolved, confidence=round(noisy_or(supports[key]), 6),
                                           provenance=provs))
        return ScoredGraph(assertions=tuple(sorted(assertions, key=lambda a: a.id)),
                           quarantined=tuple(sorted(quarantined.values(), key=lambda q: q.id)))
