"""Change requests as every ``GraphStore`` backend keeps them, written once.

The workflow's legal steps (``check_request_update``: pending → approved | rejected,
approved → applied | rejected; author, text and filing time fixed once filed), a request's
stored form (``request_row`` / ``request_from_row``), the order reads return requests in, and
the audit entry written when an approved request is applied. Backends read the stored request
inside their transaction, ask ``check_request_update``, and only then write.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pipeline.errors import ChangeRequestError, StoreError
from pipeline.models import AuditEntry, ChangeRequest, RequestStatus
from pipeline.store.rules import state, timestamp

_REQUEST_MOVES: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.PENDING: frozenset({RequestStatus.APPROVED, RequestStatus.REJECTED}),
    RequestStatus.APPROVED: frozenset({RequestStatus.APPLIED, RequestStatus.REJECTED}),
    RequestStatus.REJECTED: frozenset(),
    RequestStatus.APPLIED: frozenset(),
}


def check_request_update(stored: ChangeRequest | None, new: ChangeRequest,
                         expect: RequestStatus | None) -> None:
    """Refuse a change-request write that is not a legal step from what is stored: filing an
    id that exists, deciding a request someone else decided meanwhile, a status move the
    workflow does not have, or any change to the author, text or filing time."""
    if expect is None:
        if stored is not None:
            raise ChangeRequestError(f"change request {new.id} already exists")
        if new.status is not RequestStatus.PENDING:
            raise ChangeRequestError(f"a new change request is filed pending, not "
                                     f"{new.status.value}")
        return
    if stored is None:
        raise ChangeRequestError(f"no change request {new.id!r} in this store")
    if stored.status is not expect:
        raise ChangeRequestError(f"change request {new.id} is {stored.status.value}, not "
                                 f"{expect.value} (someone else decided it meanwhile?); "
                                 "nothing was changed")
    if new.status not in _REQUEST_MOVES[stored.status]:
        raise ChangeRequestError(f"change request {new.id} cannot go from "
                                 f"{stored.status.value} to {new.status.value}")
    for name in ("author", "author_role", "kgcl", "created_at"):
        if getattr(stored, name) != getattr(new, name):
            raise StoreError(f"change request {new.id}: {name} cannot change after filing")
    if new.status is RequestStatus.APPLIED:
        for name in ("reviewer", "reviewer_role", "reviewed_at", "reason"):
            if getattr(stored, name) != getattr(new, name):
                raise StoreError(f"change request {new.id}: applying it cannot change its "
                                 f"review ({name})")


def request_row(r: ChangeRequest) -> dict[str, Any]:
    """A change request as flat, primitive properties (a SQL row or a node's properties)."""
    return {"id": r.id, "author": r.author, "author_role": r.author_role, "kgcl": r.kgcl,
            "status": r.status.value, "created_at": timestamp(r.created_at),
            "reviewer": r.reviewer, "reviewer_role": r.reviewer_role,
            "reviewed_at": timestamp(r.reviewed_at) if r.reviewed_at else None,
            "reason": r.reason, "applied_by": r.applied_by,
            "applied_by_role": r.applied_by_role,
            "applied_at": timestamp(r.applied_at) if r.applied_at else None}


def request_from_row(row: Mapping[str, Any]) -> ChangeRequest:
    def when(name: str) -> datetime | None:
        value = row.get(name)
        return datetime.fromisoformat(value) if value else None

    return ChangeRequest(
        id=row["id"], author=row["author"], author_role=row["author_role"], kgcl=row["kgcl"],
        status=RequestStatus(row["status"]), created_at=datetime.fromisoformat(row["created_at"]),
        reviewer=row.get("reviewer") or "", reviewer_role=row.get("reviewer_role") or "",
        reviewed_at=when("reviewed_at"), reason=row.get("reason") or "",
        applied_by=row.get("applied_by") or "",
        applied_by_role=row.get("applied_by_role") or "", applied_at=when("applied_at"))


def request_applied(request: ChangeRequest, *, at: datetime, changes: int) -> AuditEntry:
    """The entry that records who applied an approved request; written by ``apply_changes``
    in the transaction that applies it."""
    return AuditEntry(at=at, actor=request.applied_by, action="apply_request",
                      target=request.id, detail=f"applied {changes} change(s)",
                      role=request.applied_by_role,
                      before=state({"status": RequestStatus.APPROVED.value}),
                      after=state({"status": request.status.value}), request_id=request.id)


def request_order(r: ChangeRequest) -> tuple[datetime, str]:
    return (r.created_at, r.id)


__all__ = ["check_request_update", "request_applied", "request_from_row", "request_order",
           "request_row"]
