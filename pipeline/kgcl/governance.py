"""Governance of the knowledge graph (SSKG Hub style): change requests, review, certification,
and an audit trail of every decision and every refusal.

The rules, and why:

- **Roles.** ``reader`` reads. ``curator`` files change requests. ``certifier`` reviews them
  and certifies assertions. ``admin`` may do all of it. (The store's ``ROLE_RIGHTS`` are the
  rights behind this: a certifier cannot rename or add edges itself, so it cannot file a
  request that does.)
- **Filing** checks the request against the store as it is (every command must apply: an
  invalid request is refused at once, with the line, and not stored) and against the
  contracts (every statement it adds passes the checks an extracted triple passes, with the
  same severities: :mod:`pipeline.kgcl.store_contract`), and stores it ``pending`` with its
  author, the author's role, the KGCL text and the time.
- **Review.** Only a certifier or admin approves or rejects, and **never the request's own
  author** — not even an admin: a change needs a second pair of eyes, which is the point of
  review. A rejection needs a reason; an approval may give one. A request is decided once
  (pending → approved | rejected); an approved request that was not applied yet may still be
  rejected (approval withdrawn). Given the ontology, an approval checks the request against
  the store and the contracts again, as they are now: what the contracts refuse cannot be
  approved.
- **Applying** an approved request is a certifier's or admin's act; an unapproved one is
  refused (``UnapprovedRequestError``). The request is checked again against the store as it
  is now, and applies in one transaction, which also marks it ``applied``; the change entries
  carry the author (who asked for them, in the author's role: the rights checked are the
  author's) and the request id, and an ``apply_request`` entry records who applied it.
- **Certification** (draft → certified) is its own recorded change (action ``certify``),
  only a certifier or admin may make it, and never through a change request: KGCL has no
  such command, and a curator must not be able to smuggle one in. Taking a certified
  assertion back out of ``certified`` needs the same right (the store enforces it).
- **Every refusal is audited** (action ``refused``): a role that may not file, review, apply
  or certify, self-review, applying an unapproved request, a request the contracts refuse
  (filed, approved, applied or applied directly). A request that is merely invalid
  (an unknown entity, a bad line) is an input error, reported to the user and not recorded:
  nothing was attempted against anyone's rights, and the store stays exactly as it was.
- **The audit log is append-only** (the stores forbid editing or deleting entries) and
  queryable: ``GraphStore.audit_log(actor=, action=, target=, since=, until=, request_id=)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pipeline.contracts.spec import ContractSpec
from pipeline.errors import (
    ChangeRequestError,
    ContractRefusalError,
    PermissionDeniedError,
    UnapprovedRequestError,
)
from pipeline.index.kg_index import KGIndex
from pipeline.kgcl.store_apply import (
    ApplyOutcome,
    apply_compiled,
    apply_primitives,
    apply_to_store,
    check_may_change,
    compile_checked,
)
from pipeline.models import (
    AssertionId,
    AssertionStatus,
    AuditEntry,
    ChangeRequest,
    Ontology,
    RequestStatus,
    Role,
    SetStatus,
    stable_hash,
)
from pipeline.store import rules
from pipeline.store.base import ROLE_RIGHTS, GraphStore

ROLES: tuple[Role, ...] = ("reader", "curator", "certifier", "admin")
#: who may approve, reject and apply change requests
REVIEWERS: frozenset[str] = frozenset({"certifier", "admin"})


def _refuse(store: GraphStore, exc: PermissionDeniedError, *, actor: str, role: str,
            target: str, request_id: str = "") -> PermissionDeniedError:
    """Record a refusal in the audit log and hand the error back to raise."""
    store.record_audit([rules.refusal(actor=actor, role=role, target=target, detail=str(exc),
                                      request_id=request_id)])
    return exc


def _get(store: GraphStore, request_id: str) -> ChangeRequest:
    found = store.get_change_request(request_id.strip())
    if found is None:
        raise ChangeRequestError(f"no change request {request_id!r} in {store.descriptor}; "
                                 "`kgcl requests` lists them")
    return found


def new_request_id(author: str, kgcl: str, at: datetime) -> str:
    """``cr-`` and 12 hex digits: stable for (author, text, time), short enough to type."""
    return f"cr-{stable_hash(author, kgcl, rules.timestamp(at), length=12)}"


def file_request(store: GraphStore, kgcl: str, ontology: Ontology, *, actor: str, role: Role,
                 at: datetime | None = None,
                 contract: ContractSpec | None = None) -> ChangeRequest:
    """File a change request (pending review). Raises PermissionDeniedError (audited) for a
    role that may not make its changes, ContractRefusalError (audited) for one the contract
    refuses, ChangeRequestError for a request that would not apply to the store as it is
    (nothing stored)."""
    check_may_change(store, actor=actor, role=role, target="change request")
    compiled = compile_checked(kgcl, store, ontology, actor=actor, role=role,
                               target="change request", contract=contract)
    check_may_change(store, actor=actor, role=role, target="change request",
                     changes=compiled.changes)
    when = at or rules.now()
    request = ChangeRequest(id=new_request_id(actor, kgcl, when), author=actor,
                            author_role=role, kgcl=kgcl, created_at=when)
    entry = AuditEntry(at=when, actor=actor, action="file_request", target=request.id,
                       detail=kgcl, role=role,
                       after=rules.state({"status": RequestStatus.PENDING.value,
                                          "commands": len(compiled.commands)}),
                       request_id=request.id)
    store.save_change_request(request, expect=None, audit=[entry])
    return request


def review_request(store: GraphStore, request_id: str, *, approve: bool, reason: str,
                   actor: str, role: Role, ontology: Ontology | None = None,
                   contract: ContractSpec | None = None) -> ChangeRequest:
    """Approve or reject a request. Only a certifier or admin may, never its author; a
    rejection needs a reason. With ``ontology``, an approval first checks the request
    against the store and the contract as they are now (a refusal by the contract is
    audited and leaves the request pending). Refusals are audited."""
    request = _get(store, request_id)
    verb = "approve" if approve else "reject"
    if role not in REVIEWERS:
        raise _refuse(store, PermissionDeniedError(
            f"{actor!r} (role {role}) may not {verb} change requests: a certifier or admin "
            f"reviews them; {request.id} is still {request.status.value}"),
            actor=actor, role=role, target=request.id, request_id=request.id)
    if actor == request.author:
        raise _refuse(store, PermissionDeniedError(
            f"{actor!r} filed {request.id} and may not review it: another certifier or admin "
            "must"), actor=actor, role=role, target=request.id, request_id=request.id)
    if not approve and not reason.strip():
        raise ChangeRequestError("a rejection needs a reason (--reason TEXT)")
    allowed = (RequestStatus.PENDING,) if approve else (RequestStatus.PENDING,
                                                         RequestStatus.APPROVED)
    if request.status not in allowed:
        raise ChangeRequestError(f"change request {request.id} is {request.status.value}; "
                                 f"only a pending request can be {verb}d")
    if approve and ontology is not None:
        try:
            compile_checked(request.kgcl, store, ontology, actor=actor, role=role,
                            target=request.id, request_id=request.id, contract=contract)
        except ContractRefusalError as exc:
            raise ContractRefusalError(f"change request {request.id} cannot be approved: "
                                       f"{exc}", exc.reasons) from exc
    when = rules.now()
    status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
    decided = request.model_copy(update={"status": status, "reviewer": actor,
                                         "reviewer_role": role, "reviewed_at": when,
                                         "reason": reason.strip()})
    entry = AuditEntry(at=when, actor=actor, action=f"{verb}_request", target=request.id,
                       detail=reason.strip(), role=role,
                       before=rules.state({"status": request.status.value}),
                       after=rules.state({"status": status.value}), request_id=request.id)
    store.save_change_request(decided, expect=request.status, audit=[entry])
    return decided


def check_applicable(store: GraphStore, request_id: str, *, actor: str,
                     role: str) -> ChangeRequest:
    """The request, if ``actor`` may apply it now: a certifier or admin, and the request
    approved. Refusals are audited. (Flows call this before loading an index, so an
    unapproved request fails fast.)"""
    request = _get(store, request_id)
    if role not in REVIEWERS:
        raise _refuse(store, PermissionDeniedError(
            f"{actor!r} (role {role}) may not apply change requests: a certifier or admin "
            "applies approved requests"), actor=actor, role=role, target=request.id,
            request_id=request.id)
    if request.status is not RequestStatus.APPROVED:
        raise _refuse(store, UnapprovedRequestError(
            f"change request {request.id} is {request.status.value}, not approved: a "
            "certifier or admin must approve it before it applies"
            if request.status is RequestStatus.PENDING else
            f"change request {request.id} is {request.status.value}; only an approved request "
            "applies"), actor=actor, role=role, target=request.id, request_id=request.id)
    return request


def apply_request(store: GraphStore, request_id: str, ontology: Ontology, *, actor: str,
                  role: Role, index: KGIndex | None = None,
                  contract: ContractSpec | None = None) -> ApplyOutcome:
    """Apply an approved request to the store (and ``index``) in one transaction that also
    marks it applied. Refuses (audited) a role that may not apply requests and a request
    that is not approved; a request that no longer applies to the store raises
    ChangeRequestError, changes nothing and stays approved (the failure is audited as
    ``apply_failed``, so a reviewer can see it and reject it; one the contract refuses now
    is audited as ``refused``)."""
    request = check_applicable(store, request_id, actor=actor, role=role)
    try:
        compiled = compile_checked(request.kgcl, store, ontology, actor=actor, role=role,
                                   target=request.id, request_id=request.id,
                                   contract=contract)
    except ContractRefusalError as exc:
        raise ContractRefusalError(f"approved change request {request.id} is refused: {exc}",
                                   exc.reasons) from exc
    except ChangeRequestError as exc:
        store.record_audit([AuditEntry(at=rules.now(), actor=actor, action="apply_failed",
                                       target=request.id, detail=str(exc), role=role,
                                       request_id=request.id)])
        raise ChangeRequestError(f"approved change request {request.id} no longer applies: "
                                 f"{exc}") from exc
    applied = request.model_copy(update={"status": RequestStatus.APPLIED, "applied_by": actor,
                                         "applied_by_role": role, "applied_at": rules.now()})
    return apply_compiled(compiled, store, actor=request.author,
                          role=request.author_role,  # type: ignore[arg-type]
                          index=index, request=applied)


def certify(store: GraphStore, assertion_ids: Sequence[str], *, actor: str, role: Role,
            reason: str = "", index: KGIndex | None = None) -> ApplyOutcome:
    """Promote assertions to certified, one recorded change each (action ``certify``), in one
    transaction. Only a certifier or admin may (a refusal is audited); an unknown or already
    certified assertion refuses the whole batch and changes nothing."""
    if "certify" not in ROLE_RIGHTS.get(role, frozenset()):  # type: ignore[call-overload]
        raise _refuse(store, PermissionDeniedError(
            f"{actor!r} (role {role}) may not certify assertions: only a certifier or admin "
            "may; nothing was changed"), actor=actor, role=role,
            target=", ".join(assertion_ids) or "assertions")
    if not assertion_ids:
        raise ChangeRequestError("name at least one assertion to certify")
    changes: list[SetStatus] = []
    for aid in dict.fromkeys(a.strip() for a in assertion_ids):
        found = store.get_assertion(AssertionId(aid))
        if found is None:
            raise ChangeRequestError(f"no assertion {aid!r} in {store.descriptor}; nothing was "
                                     "certified")
        if found.status is AssertionStatus.CERTIFIED:
            raise ChangeRequestError(f"assertion {aid} is already certified; nothing was "
                                     "certified")
        note = f" # {reason.strip()}" if reason.strip() else ""
        changes.append(SetStatus(assertion_id=found.id, status=AssertionStatus.CERTIFIED,
                                 kgcl=f"certify {found.id} (was {found.status.value}){note}"))
    # a status change re-embeds nothing: the index only updates the rows' status attribute
    return apply_primitives(changes, store, actor=actor, role=role, index=index)


def apply_directly(store: GraphStore, kgcl: str, ontology: Ontology, *, actor: str,
                   role: Role, index: KGIndex | None = None,
                   contract: ContractSpec | None = None) -> int:
    """Apply a change request at once, without filing and review: an administrator's bypass
    (for repairs and bulk imports). Anyone else is refused, and the refusal is audited:
    curators file requests (``file_request``) that a certifier reviews."""
    if role != "admin":
        raise _refuse(store, PermissionDeniedError(
            f"role {role!r} may not apply changes without review: file a change request "
            "(kgcl request) for a certifier to review, or apply as an admin"),
            actor=actor, role=role, target="change request")
    return apply_to_store(kgcl, store, ontology, actor=actor, role=role, index=index,
                          contract=contract)


def audit_trail(store: GraphStore, *, actor: str | None = None, action: str | None = None,
                target: str | None = None, since: datetime | None = None,
                until: datetime | None = None,
                request_id: str | None = None) -> list[AuditEntry]:
    """The audit log, filtered (see ``GraphStore.audit_log``)."""
    return store.audit_log(actor=actor, action=action, target=target, since=since, until=until,
                           request_id=request_id)


__all__ = ["REVIEWERS", "ROLES", "UnapprovedRequestError", "apply_directly", "apply_request",
           "audit_trail",
           "certify", "check_applicable", "file_request", "new_request_id", "review_request"]
