"""What writing a run's quarantine means, the same for every backend.

A quarantined candidate is stored once per id (its statement in one sample of one chunk, under
one model and prompt version). Writing it again — a second build that refuses the same
statement — does not keep the first build's record: the stored record takes the new run's
id, attempts, history, answer and reasons, adds the run to ``runs`` (every run that refused
it) and is open again if it had been resolved.

A stored record the new run covers (``ExtractionScope``: it extracted the same chunk with the
same model and prompt version, and drew that sample) but does not refuse again — the run
accepted the statement, or did not propose it — is **kept as history, marked resolved**
(``resolved_by``: the run), never deleted: ``verikg quarantine`` lists it apart from the
refusals that stand. Writing the same batch twice changes nothing the second time.

``plan_quarantine`` decides; the backends read what it needs (the stored records with the
batch's ids and those of the covered chunks) and write the rows it returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pipeline.models import ExtractionScope, QuarantinedCandidate, WriteResult


@dataclass
class QuarantinePlan:
    """The records to insert or replace, and what that counts as."""

    rows: list[QuarantinedCandidate] = field(default_factory=list)
    created: int = 0
    updated: int = 0

    def result(self) -> WriteResult:
        return WriteResult(created=self.created, updated=self.updated)


def plan_quarantine(items: Sequence[QuarantinedCandidate],
                    stored: Mapping[str, QuarantinedCandidate],
                    covered: Sequence[ExtractionScope] = ()) -> QuarantinePlan:
    """The write of ``items`` over ``stored`` (at least the stored records with the items'
    ids and those of the chunks ``covered`` names). An id that occurs twice in ``items`` is
    one record refused twice, in that order."""
    merged: dict[str, QuarantinedCandidate] = {}
    for q in items:
        before = merged.get(q.id) or stored.get(q.id)
        merged[q.id] = q if before is None else before.refused_again(q)
    plan = QuarantinePlan()
    for qid, q in merged.items():
        before = stored.get(qid)
        if before is None:
            plan.created += 1
            plan.rows.append(q)
        elif before != q:
            plan.updated += 1
            plan.rows.append(q)
    for qid in sorted(stored):
        q = stored[qid]
        if qid in merged or q.resolved_by is not None:
            continue
        scope = next((s for s in covered if s.covers(q)), None)
        # a run does not resolve what it refused itself (a partial rewrite of its own batch)
        if scope is not None and scope.run_id != q.run_id:
            plan.updated += 1
            plan.rows.append(q.model_copy(update={"resolved_by": scope.run_id}))
    return plan


def covered_chunks(covered: Sequence[ExtractionScope]) -> list[str]:
    """The chunk ids whose stored records a write covering ``covered`` must read."""
    return sorted({s.chunk_id for s in covered})


__all__ = ["QuarantinePlan", "covered_chunks", "plan_quarantine"]
