"""The ``apply_changes`` flow: run a reviewed (approved) KGCL change request against the store
and the vector index, atomically.

The request must have been filed (``kgcl request``) and approved by a certifier or admin who
is not its author (``kgcl review --approve``); anything else is refused before any index is
loaded, and the refusal is audited. The index is the one flows keep in ``<data dir>/index``
(built from the store if there is none yet, brought up to date if it is behind); the request
applies to the store in one transaction, the index follows by a delta (only new or changed
texts are embedded) and is saved again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.clients import (
    make_embedder,
    make_store,
    open_index,
    resolve_ontology,
    save_index,
    saved_index,
)
from flows.params import InProcess, with_overrides
from flows.policies import retry_options
from pipeline.embeddings import Embedder
from pipeline.index import KGIndex
from pipeline.kgcl.governance import apply_request, check_applicable
from pipeline.models import Frozen, Role
from pipeline.settings import Settings

#: how the index comes along: ``build`` (the flows' index, built if missing), ``saved`` (the
#: saved index only if it is this store's; none is built), ``none`` (the store alone: the
#: index, wherever it is, sees it is behind and catches up when next refreshed)
IndexMode = Literal["build", "saved", "none"]


class ApplyReport(Frozen):
    """What applying a change request did, to the store and to the index."""

    request_id: str
    status: str
    author: str
    applied_by: str
    commands: int
    changes: int
    store: str
    store_version: int
    #: "delta", "none" or "rebuild" (what the index did); "skipped" without an index
    index: str = "skipped"
    index_embedded: int = 0
    index_version: int | None = None


def run_apply(request_id: str, settings: Settings, ontology_path: Path | None, *, actor: str,
              role: Role, index_mode: IndexMode = "build",
              embedder: Embedder | None = None) -> ApplyReport:
    """Apply approved request ``request_id`` (see the module docstring); the command line
    calls this directly, the flow as a task."""
    store = make_store(settings)
    try:
        check_applicable(store, request_id, actor=actor, role=role)  # before any index work
        ontology = resolve_ontology(store, ontology_path)  # given, else the store's own
        index: KGIndex | None = None
        if index_mode == "build":
            index, _ = open_index(settings, store, embedder or make_embedder(settings), ontology)
        elif index_mode == "saved":
            index = saved_index(settings, store, embedder, ontology)
        outcome = apply_request(store, request_id, ontology, actor=actor, role=role,
                                index=index)
        if index is not None:
            save_index(settings, index)
        done = store.get_change_request(request_id)
        assert done is not None
        return ApplyReport(
            request_id=done.id, status=done.status.value, author=done.author,
            applied_by=done.applied_by, commands=outcome.commands, changes=outcome.changes,
            store=store.descriptor, store_version=outcome.version,
            index=outcome.index.action if outcome.index is not None else "skipped",
            index_embedded=outcome.index.embedded if outcome.index is not None else 0,
            index_version=index.version if index is not None else None)
    finally:
        store.close()


@task(name="apply_change_request", cache_policy=NO_CACHE, **retry_options())
def apply_change_request(request_id: str, settings: Settings, ontology_path: Path | None,
                         actor: str,
                         role: Role, index_mode: IndexMode = "build",
                         embedder: Embedder | None = None) -> ApplyReport:
    return run_apply(request_id, settings, ontology_path, actor=actor, role=role,
                     index_mode=index_mode, embedder=embedder)


@flow(name="apply_changes")
def apply_changes(request_id: str, actor: str, role: Role = "certifier",
                  ontology: str | None = None, index_mode: IndexMode = "build",
                  store: str | None = None, data_dir: str | None = None,
                  settings: InProcess[Settings | None] = None,
                  embedder: InProcess[Embedder | None] = None) -> ApplyReport:
    """Apply an approved change request to the store and the index.

    Args:
        request_id: the approved change request (cr-...), as `kgcl request` printed it
        actor: who applies it (recorded in the audit log); a certifier or admin
        role: the actor's role; only certifier and admin may apply
        ontology: ontology file or folder the request's terms resolve against (default:
            the one the store was built with)
        index_mode: build (the flows' index, built if missing), saved (only a saved index
            of this store) or none (the store alone)
        store: store descriptor, sqlite:PATH or a Bolt URI (default VERIKG_STORE)
        data_dir: state folder holding the index (default VERIKG_DATA_DIR)
        settings: in-process only: the settings to start from (default the environment)
        embedder: in-process only: replaces the configured embedder (tests)
    """
    logger = get_run_logger()
    logger.info("applying change request %s as %s (%s)", request_id, actor, role)
    try:
        report = apply_change_request(request_id,
                                      with_overrides(settings, store=store, data_dir=data_dir),
                                      Path(ontology) if ontology else None,
                                      actor, role, index_mode, embedder)
    except Exception as exc:
        logger.error("change request %s was not applied: %s", request_id, exc)
        raise
    logger.info("change request %s applied: %d command(s), %d change(s); store version %d; "
                "index %s (%d text(s) embedded)", report.request_id, report.commands,
                report.changes, report.store_version, report.index, report.index_embedded)
    return report


__all__ = ["ApplyReport", "IndexMode", "apply_change_request", "apply_changes", "run_apply"]
