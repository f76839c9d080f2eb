"""What a person changes in a store from the command line, each a call into the library on a
store opened by ``flows.clients``: file a KGCL change request, review one, apply KGCL
directly, certify named assertions, undo an entity merge.

Applying an approved request is ``flows.apply_changes.run_apply`` (the ``apply_changes`` flow's
own step); certifying by a rule is the ``certify`` flow. The rules (who may do what, every
change audited) are ``pipeline.kgcl.governance``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from flows.clients import (
    make_merge_log,
    make_store,
    resolve_ontology,
    save_index,
    saved_index,
    store_ontology,
)
from pipeline.kgcl.governance import apply_directly, file_request, review_request
from pipeline.kgcl.governance import certify as certify_in_store
from pipeline.models import ChangeRequest, Role
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.kgcl.store_apply import ApplyOutcome


def file_change_request(settings: Settings, kgcl: str, ontology_path: Path | None, *,
                        actor: str, role: Role) -> ChangeRequest:
    """File ``kgcl`` for review (every command must apply now); the request, pending. The
    ontology is the one at ``ontology_path``, else the one the store was built with."""
    with make_store(settings) as store:
        ontology = resolve_ontology(store, ontology_path)
        return file_request(store, kgcl, ontology, actor=actor, role=role)


def review_change_request(settings: Settings, request_id: str, *, approve: bool, reason: str,
                          actor: str, role: Role,
                          ontology_path: Path | None = None) -> ChangeRequest:
    """Approve or reject a pending request (never one's own); approving does not apply it,
    but checks it against the store and the contracts first, under the ontology at
    ``ontology_path`` (else the store's own, when it recorded one)."""
    with make_store(settings) as store:
        ontology = None
        if approve:
            ontology = (resolve_ontology(store, ontology_path) if ontology_path is not None
                        else store_ontology(store))
        return review_request(store, request_id, approve=approve, reason=reason, actor=actor,
                              role=role, ontology=ontology)


def apply_kgcl(settings: Settings, kgcl: str, ontology_path: Path | None, *, actor: str,
               role: Role, dry_run: bool = False) -> int:
    """Apply ``kgcl`` to the store without review (admin only), all commands or none; with
    ``dry_run`` nothing is written and any role may see how many commands would apply."""
    from pipeline.kgcl import apply_to_store

    with make_store(settings) as store:
        ontology = resolve_ontology(store, ontology_path)
        if dry_run:
            return apply_to_store(kgcl, store, ontology, actor=actor, role=role, dry_run=True)
        return apply_directly(store, kgcl, ontology, actor=actor, role=role)


def certify_assertions(settings: Settings, assertion_ids: Sequence[str], *, actor: str,
                       role: Role, reason: str = "", ontology_path: Path | None = None,
                       update_index: bool = True) -> ApplyOutcome:
    """Promote the named assertions to certified (certifier or admin, audited); the saved
    index of this store, if there is one, follows by a delta (labels from the ontology)."""
    with make_store(settings) as store:
        # the index's row texts use the ontology's labels: the store's own ontology keeps
        # them as built, so a status change re-embeds nothing (and loads no model)
        index = (saved_index(settings, store, None, resolve_ontology(store, ontology_path)
                             if ontology_path is not None else store_ontology(store))
                 if update_index else None)
        outcome = certify_in_store(store, list(assertion_ids), actor=actor, role=role,
                                   reason=reason, index=index)
        if index is not None:
            save_index(settings, index)
    return outcome


def undo_merge(settings: Settings, merge_id: str, *, actor: str) -> int:
    """Split merge ``merge_id`` (from the merge log) back out in the store, atomically and
    audited, and record the undo so later builds do not merge the pair again; returns the
    changes applied."""
    with make_store(settings) as store:
        return make_merge_log(settings).undo(store, merge_id, actor=actor)


__all__ = ["apply_kgcl", "certify_assertions", "file_change_request", "review_change_request",
           "undo_merge"]
