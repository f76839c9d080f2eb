"""Roles, the audit log and change requests."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pipeline.models.base import Frozen

Role = Literal["reader", "curator", "certifier", "admin"]


class AuditEntry(Frozen):
    """One recorded change to the graph: who, when, what (KGCL text or a lifecycle action).

    The audit log is append-only: stores never update or delete an entry (SQLite enforces it
    with triggers). ``before``/``after`` are compact JSON of the object a change touched, as
    it was and as it became ("" where there was none: a creation has no before); ``role`` is
    the role the actor acted in; ``request_id`` ties the entries of a reviewed change request
    together. ``seq`` is the store's position of the entry (0 until stored).
    """

    at: datetime
    actor: str
    action: str
    target: str
    detail: str = ""
    role: str = ""
    before: str = ""
    after: str = ""
    request_id: str = ""
    seq: int = 0


class RequestStatus(StrEnum):
    """Where a change request is in review: filed (pending), approved or rejected by a
    reviewer, and applied (approved requests only). Stored: stable values."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    APPLIED = "applied"


class ChangeRequest(Frozen):
    """A KGCL change request filed on a store, reviewed before it may apply.

    ``kgcl`` is the request's text exactly as filed; the review fields are set once, by the
    reviewer; ``applied_*`` once, when it is applied."""

    id: str
    author: str
    author_role: str
    kgcl: str
    status: RequestStatus = RequestStatus.PENDING
    created_at: datetime
    reviewer: str = ""
    reviewer_role: str = ""
    reviewed_at: datetime | None = None
    reason: str = ""
    applied_by: str = ""
    applied_by_role: str = ""
    applied_at: datetime | None = None
