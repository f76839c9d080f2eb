"""Hybrid retrieval: vector similarity over the KG index, exact attribute filters, and the
graph around each hit (evidence chunks and neighbouring assertions) for RAG.

The index is checked against the store before every search (one ``store.version()`` read)
and, when stale, brought up to date with a delta (``KGIndex.sync``: only new or changed texts
are embedded), so a search never answers from an outdated index; if the store changes again
while a search is hydrating its hits, the search runs again on the fresh index. With
``auto_refresh=False`` a stale index raises ``StaleIndexError`` instead of being refreshed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipeline.embeddings.base import Embedder
from pipeline.errors import StaleIndexError, VectorIndexError
from pipeline.index.kg_index import KGIndex, check_k
from pipeline.index.where import WhereExpr, parse_where
from pipeline.models import (
    Assertion,
    AssertionId,
    AssertionStatus,
    ChunkId,
    DocumentId,
    EntityId,
    EntityRef,
    IndexRow,
    Ontology,
)
from pipeline.retrieval.models import EvidenceChunk, Hit, RetrievalContext
from pipeline.retrieval.terms import resolve_terms
from pipeline.store.base import GraphStore

if TYPE_CHECKING:
    from langchain_core.retrievers import BaseRetriever

_CERTIFIED = parse_where('status == "certified"')
_ATTEMPTS = 3


class HybridRetriever:
    """Searches ``index`` with ``embedder`` and expands hits through ``store``."""

    def __init__(self, store: GraphStore, index: KGIndex, embedder: Embedder, *,
                 ontology: Ontology | None = None, max_neighbours: int = 25,
                 max_entity_evidence: int = 5, auto_refresh: bool = True) -> None:
        if index.model_id and index.model_id != embedder.model_id:
            raise VectorIndexError(f"index was built with {index.model_id!r} but the retriever "
                                   f"embeds with {embedder.model_id!r}: rebuild the index")
        self.store = store
        self.index = index
        self.embedder = embedder
        self.ontology = ontology
        self.max_neighbours = max_neighbours
        self.max_entity_evidence = max_entity_evidence
        #: refresh a stale index before searching (True), or raise StaleIndexError (False)
        self.auto_refresh = auto_refresh
        if index.embedder is None:
            index.embedder = embedder

    def search(self, text: str, k: int = 10, where: str | WhereExpr | None = None, *,
               expand: int = 1, certified_only: bool = False) -> list[Hit]:
        """The ``k`` best hits for ``text`` among rows matching ``where``. ``k`` must be a
        whole number of at least 1 (``InputError`` otherwise); more than the index holds
        is what it holds.

        ``expand`` is how many hops of neighbouring assertions to attach (0 = none).
        ``certified_only`` keeps certified assertions only (entities carry no status, so
        they drop out) and shows only certified neighbours."""
        return self.search_batch([text], k, where, expand=expand,
                                 certified_only=certified_only)[0]

    def search_batch(self, texts: Sequence[str], k: int = 10,
                     where: str | WhereExpr | None = None, *, expand: int = 1,
                     certified_only: bool = False) -> list[list[Hit]]:
        """``search`` for many texts: one embedding batch and one index scan."""
        if isinstance(texts, str):
            raise TypeError("search_batch() takes a sequence of texts, not one string")
        texts = list(texts)
        check_k(k)
        expr = parse_where(where) if isinstance(where, str) else where
        if expr is not None:  # labels, local names and IRIs alike: the index's own values
            expr = resolve_terms(expr, self.ontology, self.index)
        if certified_only:
            expr = _CERTIFIED if expr is None else expr & _CERTIFIED
        if not texts:
            return []
        queries = self.embedder.embed(texts)
        for _ in range(_ATTEMPTS):
            version = self._fresh_version()
            found = self.index.search(queries, k, expr)
            hits = self._hydrate(found, expand=expand, certified_only=certified_only)
            if hits is not None and self.store.version() == version:
                return hits
        raise VectorIndexError(f"the store kept changing during {_ATTEMPTS} search attempts; "
                               "retry when writes settle")

    def _fresh_version(self) -> int | None:
        """Make sure the index reflects the store's current version (refreshing it, or
        raising StaleIndexError without ``auto_refresh``); returns that version."""
        if self.auto_refresh:
            self.index.refresh(self.store, embedder=self.embedder)
        elif self.index.is_stale(self.store):
            raise StaleIndexError(
                f"the index reflects store version {self.index.version} but the store "
                f"({getattr(self.store, 'descriptor', '?')}) is at {self.store.version()}: "
                "refresh the index (KGIndex.sync/refresh) or use auto_refresh=True")
        return self.index.version

    def context(self, text: str, k: int = 10, where: str | WhereExpr | None = None, *,
                expand: int = 1, certified_only: bool = False) -> RetrievalContext:
        """``search`` wrapped as a ``RetrievalContext`` (``.render()`` for a prompt)."""
        hits = self.search(text, k, where, expand=expand, certified_only=certified_only)
        return RetrievalContext(query=text, hits=tuple(hits))

    def as_langchain(self, *, k: int = 10, where: str | None = None, expand: int = 1,
                     certified_only: bool = False) -> BaseRetriever:
        """This retriever as a langchain-core ``BaseRetriever`` (documents with citations in
        their metadata); ``certified_only=True`` serves certified facts only."""
        from pipeline.retrieval.langchain import VeriKGRetriever

        if where is not None:
            parse_where(where)  # a bad filter fails here, not at the first query
        return VeriKGRetriever(retriever=self, k=k, where=where, expand=expand,
                               certified_only=certified_only)

    # ---------------------------------------------------------------- hydration
    def _hydrate(self, found: list[list[tuple[IndexRow, float]]], *, expand: int,
                 certified_only: bool) -> list[list[Hit]] | None:
        """Hits with their graph objects, evidence and neighbours; None when the store no
        longer has a hit's assertion (it changed under us: search again)."""
        assertions: dict[str, Assertion] = {}
        neighbours: dict[str, tuple[Assertion, ...]] = {}
        for row, _ in (pair for per_query in found for pair in per_query):
            if row.kind == "assertion" and row.kgid not in assertions:
                got = self.store.get_assertion(AssertionId(row.kgid))
                if got is None:
                    return None
                assertions[row.kgid] = got
        for row, _ in (pair for per_query in found for pair in per_query):
            if row.kgid not in neighbours:
                neighbours[row.kgid] = self._neighbours(row, assertions.get(row.kgid),
                                                        expand, certified_only)
        provenance_of: dict[str, tuple[Assertion, ...]] = {
            kgid: (a,) for kgid, a in assertions.items()}
        for row, _ in (pair for per_query in found for pair in per_query):
            if row.kind == "entity" and row.kgid not in provenance_of:
                # an entity's evidence: the sources of the assertions that mention it
                touching = [a for a in self.store.neighbours(EntityId(row.kgid))
                            if not certified_only or a.status == AssertionStatus.CERTIFIED]
                provenance_of[row.kgid] = tuple(touching[: self.max_entity_evidence])
        evidence = self._evidence(provenance_of)
        return [[self._hit(row, score, assertions.get(row.kgid), evidence[row.kgid],
                           neighbours[row.kgid]) for row, score in per_query]
                for per_query in found]

    def _hit(self, row: IndexRow, score: float, assertion: Assertion | None,
             evidence: tuple[EvidenceChunk, ...], neighbours: tuple[Assertion, ...]) -> Hit:
        entity = row.entity() if row.kind == "entity" else None
        return Hit(kind=row.kind, id=row.kgid, score=score, label=row.label, text=row.text,
                   assertion=assertion, entity=entity, evidence=evidence,
                   neighbours=neighbours)

    def _neighbours(self, row: IndexRow, assertion: Assertion | None, expand: int,
                    certified_only: bool) -> tuple[Assertion, ...]:
        """Assertions within ``expand`` hops of the hit's entities, nearest first, capped."""
        if expand <= 0:
            return ()
        if assertion is not None:
            frontier = sorted(_endpoint_ids(assertion))
            seen_assertions = {assertion.id}
        else:
            frontier = [row.kgid]
            seen_assertions = set()
        seen_entities = set(frontier)
        out: list[Assertion] = []
        for _ in range(expand):
            next_frontier: list[str] = []
            for entity_id in frontier:
                for nb in self.store.neighbours(EntityId(entity_id)):
                    if nb.id in seen_assertions:
                        continue
                    if certified_only and nb.status != AssertionStatus.CERTIFIED:
                        continue
                    seen_assertions.add(nb.id)
                    out.append(nb)
                    if len(out) >= self.max_neighbours:
                        return tuple(out)
                    for eid in sorted(_endpoint_ids(nb) - seen_entities):
                        seen_entities.add(eid)
                        next_frontier.append(eid)
            frontier = next_frontier
            if not frontier:
                break
        return tuple(out)

    def _evidence(self, sources: dict[str, tuple[Assertion, ...]]
                  ) -> dict[str, tuple[EvidenceChunk, ...]]:
        """Evidence chunks per hit id, fetched with one chunk and one document lookup."""
        chunk_ids = sorted({p.chunk_id for group in sources.values() for a in group
                            for p in a.provenance})
        chunks = self.store.get_chunks([ChunkId(c) for c in chunk_ids]) if chunk_ids else {}
        doc_ids = sorted({p.document_id for group in sources.values() for a in group
                          for p in a.provenance})
        docs = self.store.get_documents([DocumentId(d) for d in doc_ids]) if doc_ids else {}
        out: dict[str, tuple[EvidenceChunk, ...]] = {}
        for kgid, group in sources.items():
            items: dict[tuple[str, int, int], EvidenceChunk] = {}
            for a in group:
                for p in a.provenance:
                    key = (p.chunk_id, p.span.start, p.span.end)
                    if key in items:
                        continue
                    doc, chunk = docs.get(p.document_id), chunks.get(p.chunk_id)
                    items[key] = EvidenceChunk(
                        document_id=p.document_id, chunk_id=p.chunk_id, span=p.span,
                        document_title=doc.title if doc else "",
                        document_source=doc.source if doc else "",
                        quote=p.quote, chunk_text=chunk.text if chunk else "")
            out[kgid] = tuple(items.values())
        return out


def _endpoint_ids(assertion: Assertion) -> set[str]:
    ids: set[str] = {assertion.triple.subject.id}
    if isinstance(assertion.triple.object, EntityRef):
        ids.add(assertion.triple.object.id)
    return ids


__all__ = ["HybridRetriever"]
