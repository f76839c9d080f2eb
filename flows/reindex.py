"""The ``reindex`` flow: bring the knowledge-graph index in ``<data dir>/index`` up to date
with the store, or rebuild it from scratch.

By default the saved index catches up by a delta (only new or changed texts are embedded;
nothing at all when it is current), exactly as a query would refresh it; ``full`` rebuilds
it from the store, for a changed embedding model or an index that is in doubt. Either way
it is saved again. The store may be briefly away (a Neo4j restart): the task retries that,
and only that.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.artifacts import REINDEX_SUMMARY, publish_summary
from flows.clients import (
    make_embedder,
    make_int8_kernel,
    make_store,
    open_index,
    resolve_ontology,
    save_index,
    store_ontology,
)
from flows.params import InProcess, with_overrides
from flows.policies import retry_options
from pipeline.embeddings import Embedder
from pipeline.index import KGIndex
from pipeline.models import Frozen
from pipeline.settings import Settings


class ReindexReport(Frozen):
    store: str
    directory: str
    #: "rebuild", "delta" or "none"
    action: str
    reason: str = ""
    size: int
    version: int | None
    embedded: int
    added: int = 0
    removed: int = 0
    updated: int = 0


@task(name="refresh_index", cache_policy=NO_CACHE, **retry_options())
def refresh_index(settings: Settings, ontology_path: Path | None, full: bool,
                  embedder: Embedder | None = None) -> ReindexReport:
    store = make_store(settings)
    try:
        ontology = (resolve_ontology(store, ontology_path) if ontology_path
                    else store_ontology(store))  # given, else the store's own
        chosen = embedder or make_embedder(settings)
        if full:
            index = KGIndex.build(store, chosen, ontology=ontology,
                                  int8_kernel=make_int8_kernel(settings))
        else:
            index, _ = open_index(settings, store, chosen, ontology)
        directory = save_index(settings, index)  # a refresh that changed nothing: the same
        done = index.last_refresh
        return ReindexReport(
            store=store.descriptor, directory=str(directory),
            action=done.action if done else "none",
            reason=(done.reason if done else "") or ("full rebuild asked" if full else ""),
            size=index.size, version=index.version,
            embedded=done.embedded if done else 0, added=done.added if done else 0,
            removed=done.removed if done else 0, updated=done.updated if done else 0)
    finally:
        store.close()


@flow(name="reindex")
def reindex(full: bool = False, ontology: str | None = None,
            store: str | None = None, data_dir: str | None = None,
            settings: InProcess[Settings | None] = None,
            embedder: InProcess[Embedder | None] = None) -> ReindexReport:
    """Refresh the knowledge-graph index from the store, or rebuild it (``full``).

    Args:
        full: rebuild from the store instead of catching up by a delta
        ontology: ontology file or folder (class and property labels of the rows);
            default: the one the store was built with
        store: store descriptor, sqlite:PATH or a Bolt URI (default VERIKG_STORE)
        data_dir: state folder holding the index (default VERIKG_DATA_DIR)
        settings: in-process only: the settings to start from (default the environment)
        embedder: in-process only: replaces the configured embedder (tests)
    """
    logger = get_run_logger()
    chosen = with_overrides(settings, store=store, data_dir=data_dir)
    report = refresh_index(chosen, Path(ontology) if ontology else None, full, embedder)
    logger.info("index %s: %s%s, %d row(s), %d text(s) embedded, version %s", report.directory,
                report.action, f" ({report.reason})" if report.reason else "", report.size,
                report.embedded, report.version)
    publish_summary(REINDEX_SUMMARY, "VeriKG index", {
        "store": report.store, "index": report.directory, "action": report.action,
        "reason": report.reason or "-", "rows": report.size,
        "store version": report.version, "texts embedded": report.embedded,
        "rows added / removed / updated": f"{report.added} / {report.removed} / "
                                          f"{report.updated}"},
        description=f"reindex: {report.action}, {report.size} row(s)")
    return report


__all__ = ["ReindexReport", "refresh_index", "reindex"]
