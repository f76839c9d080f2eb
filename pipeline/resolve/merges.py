"""Applying and undoing entity merges on assertions, and the store changes either makes.

``apply_merges`` rewrites assertions onto canonical entities and combines those that become
the same triple; ``undo_merge`` splits them back using the surface form every provenance keeps
(``Provenance.subject_mention`` / ``object_mention``); ``merge_changes`` turns either result
into store changes, so a store applies a merge or its undo in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pipeline.confidence.scoring import AGREEMENT_ONLY, ConfidenceModel
from pipeline.errors import InputError
from pipeline.models import (
    AddAssertion,
    Assertion,
    AssertionId,
    AssertionStatus,
    EntityId,
    EntityRef,
    MergeRecord,
    Provenance,
    RemoveAssertion,
    Triple,
    Violation,
    normalize_label,
)
from pipeline.store.rules import ProvenanceKey, provenance_key, provenance_order

__all__ = ["apply_merges", "merge_changes", "merge_targets", "merged_triple", "undo_merge"]


@dataclass(frozen=True)
class _Piece:
    """Some of the statements of ``source``, now about ``triple``. ``whole``: all of them."""

    triple: Triple
    provenance: tuple[Provenance, ...]
    source: Assertion
    whole: bool


def merge_targets(merges: Iterable[MergeRecord]) -> dict[EntityId, EntityRef]:
    """Each merged entity id mapped to the end of its chain of merges."""
    direct: dict[EntityId, EntityRef] = {}
    for r in merges:
        prev = direct.get(r.merged.id)
        if prev is not None and prev.id != r.canonical.id:
            raise InputError(f"entity {r.merged.id} ({r.merged.label!r}) is merged into both "
                             f"{prev.id} and {r.canonical.id}; pass one plan's records")
        direct[r.merged.id] = r.canonical
    resolved: dict[EntityId, EntityRef] = {}
    for eid, target in direct.items():
        seen = {eid}
        while target.id in direct:
            if target.id in seen:
                raise InputError(f"the merge records form a cycle through {target.id}")
            seen.add(target.id)
            target = direct[target.id]
        resolved[eid] = target
    return resolved


def _order(provenance: Iterable[Provenance]) -> tuple[Provenance, ...]:
    """Distinct provenance in the store's read order, ties broken by content."""
    unique = dict.fromkeys(provenance)
    return tuple(sorted(unique, key=lambda p: (provenance_order(p), p.model_dump_json())))


def _confidence(provenance: Sequence[Provenance], violations: Sequence[Violation],
                extra: Sequence[float], model: ConfidenceModel) -> float:
    """The scorer's confidence over the combined provenance: per chunk, the agreeing samples of
    every model over all samples drawn on it, then noisy-OR across chunks, with the soft-check
    penalties and calibration of ``model``. Statements from the same chunk, model and prompt
    (two mentions of one entity, now merged) are not independent, so only the strongest
    counts. ``extra`` are confidences of assertions with no provenance."""
    best: dict[ProvenanceKey, Provenance] = {}
    for p in provenance:
        k = provenance_key(p)
        if k not in best or p.samples_agreeing > best[k].samples_agreeing:
            best[k] = p
    return model.score(list(best.values()), violations, extra=extra)


def _violations(group: Sequence[_Piece]) -> tuple[Violation, ...]:
    """The soft violations of the combined pieces, each once, in a stable order."""
    found = {v for p in group for v in p.source.violations}
    return tuple(sorted(found, key=lambda v: (v.check, v.reason.value, v.detail)))


def _assemble(pieces: Sequence[_Piece], model: ConfidenceModel) -> list[Assertion]:
    """One assertion per triple key, ordered by id.

    An untouched assertion passes through as it is; one that was only rewritten keeps its
    confidence and status. Otherwise (pieces combined, or a source split) provenance is the
    union, confidence is recomputed (``_confidence``), and the status is that of the assertion
    already holding the key, else the status all pieces share, else draft (for review)."""
    groups: dict[AssertionId, list[_Piece]] = defaultdict(list)
    for piece in pieces:
        groups[piece.triple.key].append(piece)
    out: list[Assertion] = []
    for key, group in groups.items():
        if len(group) == 1 and group[0].whole:
            p = group[0]
            src = p.source
            if src.id == key and p.triple == src.triple and p.provenance == src.provenance:
                out.append(src)
            else:
                out.append(Assertion(id=key, triple=p.triple, confidence=src.confidence,
                                     status=src.status, provenance=_order(p.provenance),
                                     violations=src.violations))
            continue
        group.sort(key=lambda p: p.source.id)
        holder = next((p for p in group if p.source.id == key), None)
        statuses = {p.source.status for p in group}
        if holder is not None:
            status = holder.source.status
        else:
            status = statuses.pop() if len(statuses) == 1 else AssertionStatus.DRAFT
        provenance = _order(q for p in group for q in p.provenance)
        extra = [p.source.confidence for p in group if p.whole and not p.source.provenance]
        violations = _violations(group)
        out.append(Assertion(id=key, triple=(holder or group[0]).triple,
                             confidence=_confidence(provenance, violations, extra, model),
                             status=status, provenance=provenance, violations=violations))
    return sorted(out, key=lambda a: a.id)


def _filled(p: Provenance, subject: str | None, obj: str | None) -> Provenance:
    """``p`` with empty mentions filled (only for the sides given)."""
    update: dict[str, str] = {}
    if subject is not None and not p.subject_mention:
        update["subject_mention"] = subject
    if obj is not None and not p.object_mention:
        update["object_mention"] = obj
    return p.model_copy(update=update) if update else p


def apply_merges(assertions: Sequence[Assertion], merges: Sequence[MergeRecord], *,
                 confidence: ConfidenceModel = AGREEMENT_ONLY) -> list[Assertion]:
    """``assertions`` with every merged entity replaced by its canonical one, ordered by id.

    Chains of records (B into A, A into C) are followed to their end. Before a side is
    rewritten, each provenance with an empty mention on that side is given the old entity's
    label, so ``undo_merge`` can tell the statements apart again. Assertions that become the
    same triple are combined (see ``_assemble``). An assertion with no provenance is rewritten
    too, but no mention remembers where it came from, so an undo leaves it on the canonical
    entity. Combined assertions are scored by ``confidence`` (the build's model).
    """
    target = merge_targets(merges)
    pieces: list[_Piece] = []
    for a in assertions:
        s, o = a.triple.subject, a.triple.object
        new_s = target.get(s.id, s)
        new_o = target.get(o.id, o) if isinstance(o, EntityRef) else o
        if new_s is s and new_o is o:
            pieces.append(_Piece(a.triple, a.provenance, a, True))
            continue
        s_label = s.label if new_s is not s else None
        o_label = o.label if isinstance(o, EntityRef) and new_o is not o else None
        triple = Triple(subject=new_s, predicate=a.triple.predicate, object=new_o)
        provenance = tuple(_filled(p, s_label, o_label) for p in a.provenance)
        pieces.append(_Piece(triple, provenance, a, True))
    return _assemble(pieces, confidence)


def merged_triple(triple: Triple, targets: Mapping[EntityId, EntityRef]) -> Triple:
    """``triple`` with its entities replaced as ``targets`` (``merge_targets``) says."""
    s, o = triple.subject, triple.object
    return Triple(subject=targets.get(s.id, s), predicate=triple.predicate,
                  object=targets.get(o.id, o) if isinstance(o, EntityRef) else o)


def _names(mention: str, entity: EntityRef) -> bool:
    """Whether a surface form is a spelling of ``entity`` (its id comes from the form)."""
    if not mention:
        return False
    norm = normalize_label(mention)
    return norm == normalize_label(entity.label) or (
        EntityRef.make(mention, entity.type_iri).id == entity.id)


def undo_merge(assertions: Sequence[Assertion], record: MergeRecord, *,
               confidence: ConfidenceModel = AGREEMENT_ONLY) -> list[Assertion]:
    """The inverse of applying ``record``: every provenance whose subject (object) mention is
    a spelling of ``record.merged`` moves back to an assertion whose subject (object) is the
    merged entity; what remains stays. Split or recombined assertions get confidence and
    status as in ``apply_merges``; the result is ordered by id.

    Any assertion is searched, not only those on ``record.canonical``, so records of several
    plans can be undone in any order. Assertions with no provenance never move."""
    m = record.merged
    pieces: list[_Piece] = []
    for a in assertions:
        s, o = a.triple.subject, a.triple.object
        s_open = s.id != m.id
        o_open = isinstance(o, EntityRef) and o.id != m.id
        split: dict[AssertionId, tuple[Triple, list[Provenance]]] = {}
        if s_open or o_open:
            for p in a.provenance:
                back_s = s_open and _names(p.subject_mention, m)
                back_o = o_open and _names(p.object_mention, m)
                triple = a.triple if not (back_s or back_o) else Triple(
                    subject=m if back_s else s, predicate=a.triple.predicate,
                    object=m if back_o else o)
                split.setdefault(triple.key, (triple, []))[1].append(p)
        if not split or (len(split) == 1 and a.id in split):
            pieces.append(_Piece(a.triple, a.provenance, a, True))
            continue
        whole = len(split) == 1
        pieces.extend(_Piece(t, tuple(ps), a, whole) for t, ps in split.values())
    return _assemble(pieces, confidence)


# --------------------------------------------------------------------------- store changes


def _same(a: Assertion, b: Assertion) -> bool:
    return (a.triple == b.triple and a.status == b.status and a.confidence == b.confidence
            and set(a.provenance) == set(b.provenance))


def merge_changes(before: Sequence[Assertion],
                  after: Sequence[Assertion]) -> list[AddAssertion | RemoveAssertion]:
    """Store changes that turn the stored ``before`` into ``after``, for one
    ``GraphStore.apply_changes`` call (all or nothing): removals first, then additions, each
    in id order.

    A store merges an added assertion into an existing one (new confidence, missing provenance
    added, status kept), so an assertion that only gained provenance or confidence is simply
    added again; one that lost provenance, changed status or changed any provenance's content
    is removed and added back. A store keeps one provenance per (chunk, model, prompt
    version) of an assertion: when two merged mentions were stated in the same chunk by the
    same model and prompt, it keeps the first, and an undo from the store's copy cannot tell
    that pair apart again. Entities left without assertions stay in the store.
    """
    old = {a.id: a for a in before}
    new: dict[AssertionId, Assertion] = {}
    for a in after:
        if a.id in new and a != new[a.id]:
            raise InputError(f"'after' holds two different assertions with id {a.id}")
        new[a.id] = a
    removes = [RemoveAssertion(assertion_id=aid) for aid in old if aid not in new]
    adds: list[AddAssertion | RemoveAssertion] = []
    for aid in sorted(new):
        a, b = new[aid], old.get(aid)
        if b is not None and _same(a, b):
            continue
        if b is not None and not (a.triple == b.triple and a.status == b.status
                                  and set(b.provenance) <= set(a.provenance)):
            removes.append(RemoveAssertion(assertion_id=aid))
        adds.append(AddAssertion(assertion=a))
    removes.sort(key=lambda c: c.assertion_id)
    return [*removes, *adds]
