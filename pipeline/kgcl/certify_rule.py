"""Which draft assertions a certification rule selects (the ``certify`` flow's rule).

A rule is any combination of a minimum confidence, the assertions that applied change
requests added or changed (a reviewed request is a second pair of eyes on them), and explicit
ids; without any of them nothing is selected and the rule is refused: "certify everything"
is never a default. Certifying what was selected is ``pipeline.kgcl.governance.certify``.
"""

from __future__ import annotations

from pipeline.errors import ChangeRequestError, ConfigurationError
from pipeline.models import Assertion, AssertionStatus, RequestStatus
from pipeline.store import GraphStore


def describe_rule(min_confidence: float | None, requests: list[str] | None,
                  assertion_ids: list[str] | None) -> str:
    parts = []
    if min_confidence is not None:
        parts.append(f"confidence >= {min_confidence:g}")
    if requests:
        parts.append(f"touched by applied request(s) {', '.join(requests)}")
    if assertion_ids:
        parts.append(f"one of {len(assertion_ids)} named assertion(s)")
    return "draft and " + " and ".join(parts)


def request_targets(store: GraphStore, request_ids: list[str]) -> set[str]:
    """Assertion ids that the applied change requests ``request_ids`` added or changed (from
    the audit log, where each primitive change records its target and request)."""
    targets: set[str] = set()
    for rid in request_ids:
        request = store.get_change_request(rid.strip())
        if request is None:
            raise ChangeRequestError(f"no change request {rid!r} in {store.descriptor}")
        if request.status is not RequestStatus.APPLIED:
            raise ChangeRequestError(f"change request {request.id} is {request.status.value}, "
                                     "not applied: only an applied request vouches for what "
                                     "it changed")
        targets |= {e.target for e in store.audit_log(request_id=request.id)
                    if e.target.startswith("asr:")}
    return targets


def select_drafts(store: GraphStore, *, min_confidence: float | None,
                  requests: list[str] | None, assertion_ids: list[str] | None,
                  limit: int | None = None) -> list[Assertion]:
    """The draft assertions meeting every part of the rule, most confident first (ties by
    id, so a ``limit`` picks the same ones each time)."""
    if min_confidence is None and not requests and not assertion_ids:
        raise ConfigurationError("give a rule: min_confidence, requests and/or assertion_ids "
                                 "(certifying every draft is never a default)")
    drafts = store.assertions(status=AssertionStatus.DRAFT)
    wanted = {a.strip() for a in assertion_ids} if assertion_ids else None
    touched = request_targets(store, requests) if requests else None
    chosen = [a for a in drafts
              if (min_confidence is None or a.confidence >= min_confidence)
              and (wanted is None or a.id in wanted)
              and (touched is None or a.id in touched)]
    chosen.sort(key=lambda a: (-a.confidence, a.id))
    return chosen[:limit] if limit is not None else chosen


__all__ = ["describe_rule", "request_targets", "select_drafts"]
