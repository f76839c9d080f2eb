"""The ``certify`` flow: promote draft assertions that meet a rule to certified.

The rule (``pipeline.kgcl.certify_rule``) is any combination of: a minimum confidence,
assertions that applied change requests added or changed (a reviewed request is a second
pair of eyes on those assertions), and explicit ids. Without any of them the flow refuses:
"certify everything" must never be a default. Promotion goes through
``pipeline.kgcl.governance.certify``, the same audited, role-gated call as ``kgcl certify``:
one transaction, one ``certify`` audit entry per assertion, a refusal audited for a role
that may not certify. The flows' index (``<data dir>/index``), when it is this store's,
follows by a delta (a status change re-embeds nothing).
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.artifacts import CERTIFY_SUMMARY, publish_summary
from flows.clients import make_store, resolve_ontology, save_index, saved_index, store_ontology
from flows.params import InProcess, with_overrides
from flows.policies import retry_options
from pipeline.embeddings import Embedder
from pipeline.errors import ConfigurationError
from pipeline.kgcl.certify_rule import describe_rule, select_drafts
from pipeline.kgcl.governance import certify as certify_assertions
from pipeline.models import Frozen, Role
from pipeline.settings import Settings


class CertifyReport(Frozen):
    """What a certification run chose and did."""

    store: str
    actor: str
    role: str
    rule: str
    #: draft assertions the rule selected (all certified unless ``dry_run``)
    selected: tuple[str, ...]
    certified: int
    store_version: int
    #: what the index did: "delta", "none", "rebuild"; "skipped" without a saved index
    index: str = "skipped"
    dry_run: bool = False


@task(name="certify_assertions", cache_policy=NO_CACHE, **retry_options())
def certify_selected(settings: Settings, ontology_path: Path | None, *, actor: str,
                     role: Role, min_confidence: float | None,
                     requests: list[str] | None, assertion_ids: list[str] | None,
                     limit: int | None, reason: str, dry_run: bool, update_index: bool,
                     embedder: Embedder | None = None) -> CertifyReport:
    """Select and certify in one task, so a retry (the store briefly away) selects again
    from the store as it is: nothing is certified twice, nothing stale is certified."""
    rule = describe_rule(min_confidence, requests, assertion_ids)
    store = make_store(settings)
    try:
        chosen = select_drafts(store, min_confidence=min_confidence, requests=requests,
                               assertion_ids=assertion_ids, limit=limit)
        ids = tuple(str(a.id) for a in chosen)
        if dry_run or not ids:
            return CertifyReport(store=store.descriptor, actor=actor, role=role, rule=rule,
                                 selected=ids, certified=0, store_version=store.version(),
                                 dry_run=dry_run)
        ontology = (resolve_ontology(store, ontology_path) if ontology_path
                    else store_ontology(store))
        index = saved_index(settings, store, embedder, ontology) if update_index else None
        outcome = certify_assertions(store, list(ids), actor=actor, role=role,
                                     reason=reason or f"certify flow: {rule}", index=index)
        if index is not None:
            save_index(settings, index)
        return CertifyReport(store=store.descriptor, actor=actor, role=role, rule=rule,
                             selected=ids, certified=outcome.changes,
                             store_version=outcome.version,
                             index=outcome.index.action if outcome.index is not None
                             else "skipped")
    finally:
        store.close()


@flow(name="certify")
def certify(actor: str, role: Role = "certifier",
            min_confidence: float | None = None, requests: list[str] | None = None,
            assertion_ids: list[str] | None = None, limit: int | None = None,
            reason: str = "", dry_run: bool = False, update_index: bool = True,
            ontology: str | None = None, store: str | None = None,
            data_dir: str | None = None, settings: InProcess[Settings | None] = None,
            embedder: InProcess[Embedder | None] = None) -> CertifyReport:
    """Promote draft assertions that meet a rule to certified (audited, role-gated).

    Args:
        actor: who certifies; recorded in the audit log with the role
        role: certifier or admin; any other role is refused (and the refusal audited)
        min_confidence: certify drafts at least this confident (0..1)
        requests: certify drafts that these applied change requests added or changed
        assertion_ids: certify only these assertions (asr:...)
        limit: certify at most this many, the most confident first
        reason: why, recorded with each certification
        dry_run: select and report, certify nothing
        update_index: bring the saved index of this store along by a delta
        ontology: ontology file or folder (labels for the index rows); default: the one
            the store was built with
        store: store descriptor, sqlite:PATH or a Bolt URI (default VERIKG_STORE)
        data_dir: state folder with the index (default VERIKG_DATA_DIR)
        settings: in-process only: the settings to start from (default the environment)
        embedder: in-process only: replaces the configured embedder (tests)
    """
    logger = get_run_logger()
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise ConfigurationError(f"min_confidence must lie in [0, 1], not {min_confidence}")
    chosen = with_overrides(settings, store=store, data_dir=data_dir)
    report = certify_selected(chosen, Path(ontology) if ontology else None, actor=actor,
                              role=role, min_confidence=min_confidence, requests=requests,
                              assertion_ids=assertion_ids, limit=limit, reason=reason,
                              dry_run=dry_run, update_index=update_index, embedder=embedder)
    logger.info("certify (%s) as %s (%s): %d selected, %d certified; store version %d; "
                "index %s", report.rule, actor, role, len(report.selected), report.certified,
                report.store_version, report.index)
    shown = ", ".join(f"`{i}`" for i in report.selected[:20])
    more = f" and {len(report.selected) - 20} more" if len(report.selected) > 20 else ""
    publish_summary(CERTIFY_SUMMARY, "VeriKG certification", {
        "store": report.store, "actor (role)": f"{actor} ({role})", "rule": report.rule,
        "selected": len(report.selected), "certified": report.certified,
        "dry run": report.dry_run, "store version": report.store_version,
        "index": report.index}, extra=f"Selected: {shown}{more}" if shown else "",
        description=f"certify: {report.certified} assertion(s) certified")
    return report


__all__ = ["CertifyReport", "certify", "certify_selected"]
