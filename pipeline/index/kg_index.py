"""The knowledge graph as a searchable vector index: one row per assertion and per entity.

What a row embeds and which attribute columns make it filterable with ``where`` (kind, type,
predicate, confidence, status, violations) is ``pipeline.index.kg_rows``.

Consistency: the index records the store version it reflects (``version``) and the store it
was built from (``store_descriptor``). Changes arrive as ``IndexDelta``s: ``apply_delta``
re-embeds only rows whose text is new or changed, updates attribute-only changes (a draft
certified, a new confidence, new soft violations) in place without embedding, removes rows,
and moves ``version`` to the store version the delta brings the index to; a delta computed
against another version is refused (``DeltaMismatchError``). ``sync``/``refresh`` detect
staleness with one ``store.version()`` read and, when stale, diff the store against the rows
and apply that delta; only another store or another embedding model rebuilds everything.
``delta_for_changes`` and ``apply_store_changes`` turn the store's primitive changes (what
KGCL compiles to) into a delta without reading the whole store.

Row ids are stable and never reused: a changed row keeps its id, a new row gets a fresh one,
a removed row's id is retired. ``IndexRow.row`` is that id (not a position).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from pipeline.embeddings.base import Embedder
from pipeline.errors import DeltaMismatchError, InputError, VectorIndexError
from pipeline.index.int8_scan import KernelConfig, default_kernel
from pipeline.index.kg_rows import (
    RowSpec,
    RowTable,
    assertion_spec,
    attributes,
    entity_spec,
    saved_specs,
    violations_column_added,
)
from pipeline.index.vector_index import VectorIndex
from pipeline.index.where import WhereExpr
from pipeline.models import (
    Assertion,
    AssertionId,
    Change,
    EntityId,
    EntityRef,
    IndexDelta,
    IndexRow,
    Ontology,
    Role,
    RowKind,
)
from pipeline.store.base import GraphStore
from pipeline.store.rules import touched

RefreshAction = Literal["none", "delta", "rebuild"]
MANIFEST = "kg_index.json"
#: 2: rows carry their stable ids (``[id, kind, kgid, label, text, type_iri]``) and the
#: manifest the next free id; 1 (still read): rows by position, ids 0..n-1
FORMAT_VERSION = 2
_READABLE_FORMATS = (1, 2)


@dataclass(frozen=True)
class RefreshResult:
    """What ``sync``/``apply_delta`` did. Truthy when the index changed (delta or rebuild)."""

    action: RefreshAction
    version: int | None
    added: int = 0  # rows created
    removed: int = 0  # rows deleted
    updated: int = 0  # existing rows whose text, label, class or attributes changed
    reembedded: int = 0  # of the updated rows, those whose text changed (new vector)
    embedded: int = 0  # distinct texts sent to the embedder (== ``KGIndex.last_embedded``)
    reason: str = ""  # why a rebuild was needed

    def __bool__(self) -> bool:
        return self.action != "none"



def check_k(k: object) -> int:
    """``k`` if it is a whole number of hits of at least 1, else ``InputError``."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"k (the number of hits) must be a whole number >= 1, got {k!r}")
    return int(k)

class KGIndex:
    """A ``VectorIndex`` over a graph store's assertions and entities, plus row metadata."""

    def __init__(self, embedder: Embedder | None = None, *, ontology: Ontology | None = None,
                 device: str = "cpu", int8_kernel: KernelConfig | None = None) -> None:
        self.embedder = embedder
        self.ontology = ontology
        self.device = device
        #: whether and where the vector index's int8 scan kernel is built
        self.int8_kernel = int8_kernel if int8_kernel is not None else default_kernel()
        #: the store version this index reflects (None: not built, or a failed update)
        self.version: int | None = None
        self.store_descriptor = ""
        self.model_id = embedder.model_id if embedder is not None else ""
        self.vectors: VectorIndex | None = None
        self._table = RowTable()  # the rows by id, with what each holds
        self._next_row = 0  # ids are never reused, so a removed row's id stays retired
        self._lock = threading.RLock()
        #: texts embedded by the last build/refresh/delta (the rest were reused); tests read it
        self.last_embedded = 0
        #: what the last ``sync``/``refresh``/``apply_delta`` did
        self.last_refresh: RefreshResult | None = None

    # ---------------------------------------------------------------- building
    @classmethod
    def build(cls, store: GraphStore, embedder: Embedder, *, ontology: Ontology | None = None,
              device: str = "cpu", int8_kernel: KernelConfig | None = None) -> KGIndex:
        """Index every assertion and entity of ``store`` as of its current version."""
        index = cls(embedder, ontology=ontology, device=device, int8_kernel=int8_kernel)
        with index._lock:
            index.last_refresh = index._rebuild(store, embedder, "build")
        return index

    def _rebuild(self, store: GraphStore, embedder: Embedder, reason: str) -> RefreshResult:
        # read the version first: a write racing this build leaves the index stale, not wrong
        version = store.version()
        specs = ([assertion_spec(a, self.ontology) for a in store.assertions()]
                 + [entity_spec(e, self.ontology) for e in store.entities()])
        reuse = self.model_id == embedder.model_id
        vectors_of, embedded = self._embed([s.text for s in specs], embedder, reuse=reuse)
        matrix = (np.stack([vectors_of[s.text] for s in specs]).astype(np.float32) if specs
                  else np.zeros((0, embedder.dim), dtype=np.float32))
        built = VectorIndex.build(matrix, attributes(specs), ids=np.arange(len(specs)),
                                  device=self.device, int8_kernel=self.int8_kernel)
        removed = len(self._table)
        self.vectors = built
        self._table = RowTable()
        for rid, spec in enumerate(specs):
            self._table.put(rid, spec)
        self._next_row = len(specs)
        self.version = version
        self.store_descriptor = getattr(store, "descriptor", "")
        self.model_id = embedder.model_id
        self.embedder = embedder
        self.last_embedded = embedded
        return RefreshResult("rebuild", version, added=len(specs), removed=removed,
                             embedded=embedded, reason=reason)

    def _embed(self, texts: Iterable[str], embedder: Embedder | None, *,
               reuse: bool) -> tuple[dict[str, np.ndarray], int]:
        """Vectors for ``texts``: this index's own vectors for texts it already holds (when
        ``reuse``: same model), the embedder for the rest. Returns them and the count
        embedded."""
        wanted = list(dict.fromkeys(texts))
        known: dict[str, np.ndarray] = {}
        if reuse and self.vectors is not None:
            holder = {t: min(self._table.by_text[t]) for t in wanted if t in self._table.by_text}
            by_id = self._vectors_by_id(list(holder.values()))
            known = {t: by_id[rid] for t, rid in holder.items()}
        missing = [t for t in wanted if t not in known]
        if missing:
            if embedder is None:
                raise VectorIndexError("this index has no embedder: pass one to KGIndex.load() or "
                                       "refresh(), or build the index with one")
            fresh = np.asarray(embedder.embed(missing), dtype=np.float32)
            if fresh.shape != (len(missing), embedder.dim):
                raise VectorIndexError(f"embedder {embedder.model_id!r} returned shape "
                                       f"{fresh.shape} for {len(missing)} texts")
            known.update(zip(missing, fresh, strict=True))
        return known, len(missing)

    def _require_embedder(self, embedder: Embedder | None = None) -> Embedder:
        chosen = embedder or self.embedder
        if chosen is None:
            raise VectorIndexError("this index has no embedder: pass one to KGIndex.load() or "
                                   "refresh(), or build the index with one")
        if self.model_id and chosen.model_id != self.model_id and self.vectors is not None:
            raise VectorIndexError(f"index was built with embedding model {self.model_id!r}, not "
                                   f"{chosen.model_id!r}: rebuild it with KGIndex.build()")
        self.embedder = chosen
        return chosen

    # ---------------------------------------------------------------- deltas
    def apply_delta(self, delta: IndexDelta, store_version: int) -> RefreshResult:
        """Apply ``delta``, which brings the store from ``delta.base_version`` to
        ``store_version``; afterwards ``version == store_version``.

        Only new texts and texts that changed are embedded; a change of status, confidence,
        soft violations or class alone updates the row's attributes and keeps its vector. Raises
        ``DeltaMismatchError`` (and changes nothing) when ``delta.base_version`` is not this
        index's version, or ``store_version`` is older than it."""
        with self._lock:
            if self.vectors is None or self.version is None:
                raise VectorIndexError("the index is empty or was left unusable by a failed "
                                       "update: build it from a store first (or refresh it)")
            if delta.base_version != self.version:
                raise DeltaMismatchError(
                    f"the delta was computed against store version {delta.base_version}, but "
                    f"the index reflects version {self.version}: applying it would make a "
                    "wrong index; refresh the index from the store instead")
            if store_version < delta.base_version:
                raise DeltaMismatchError(
                    f"the delta claims to bring the index from version {delta.base_version} "
                    f"back to {store_version}; store versions only grow")
            result = self._apply(delta, store_version)
            self.last_refresh = result
            return result

    def _apply(self, delta: IndexDelta, store_version: int) -> RefreshResult:
        vectors = self.vectors
        assert vectors is not None
        targets = ([assertion_spec(a, self.ontology) for a in delta.upserted_assertions]
                   + [entity_spec(e, self.ontology) for e in delta.upserted_entities])
        removed_keys = ([("assertion", i) for i in delta.removed_assertion_ids]
                        + [("entity", i) for i in delta.removed_entity_ids])
        gone = [self._table.by_key[key] for key in removed_keys if key in self._table.by_key]
        new: list[RowSpec] = []
        changed: list[tuple[int, RowSpec]] = []
        for spec in targets:
            rid = self._table.by_key.get((spec.kind, spec.kgid))
            if rid is None:
                new.append(spec)
            elif self._table.specs[rid] != spec:
                changed.append((rid, spec))
        retexted = {rid for rid, spec in changed if spec.text != self._table.specs[rid].text}
        # everything that can fail (the embedder above all) runs before the index is touched
        vectors_of, embedded = self._embed(
            [s.text for s in new] + [s.text for rid, s in changed if rid in retexted],
            self.embedder, reuse=True)
        new_ids = list(range(self._next_row, self._next_row + len(new)))
        add_ids = [rid for rid, _ in changed] + new_ids
        add_specs = [spec for _, spec in changed] + new
        try:
            if gone:
                vectors.remove(np.asarray(gone, dtype=np.int64))
            if changed:  # in place: a status change writes one column and moves no row
                vectors.update([rid for rid, _ in changed],
                               attributes=attributes([spec for _, spec in changed]))
                moved = [(rid, spec) for rid, spec in changed if rid in retexted]
                if moved:
                    vectors.update([rid for rid, _ in moved], vectors=np.stack(
                        [vectors_of[spec.text] for _, spec in moved]))
            if new:
                vectors.add(np.stack([vectors_of[spec.text] for spec in new]),
                            attributes(new), ids=np.asarray(new_ids, dtype=np.int64))
        except BaseException:
            self.version = None  # the vectors may be half-updated: the next refresh rebuilds
            raise
        for rid in gone:
            self._table.drop(rid)
        for rid, spec in zip(add_ids, add_specs, strict=True):
            self._table.put(rid, spec)
        self._next_row += len(new)
        self.version = store_version
        self.last_embedded = embedded
        return RefreshResult("delta", store_version, added=len(new), removed=len(gone),
                             updated=len(changed), reembedded=len(retexted), embedded=embedded)

    def _vectors_by_id(self, rids: Sequence[int]) -> dict[int, np.ndarray]:
        if not rids or self.vectors is None:
            return {}
        ids = self.vectors.ids
        sorter = np.argsort(ids, kind="stable")
        pos = sorter[np.searchsorted(ids, np.asarray(rids, dtype=np.int64), sorter=sorter)]
        stored = self.vectors.vectors
        return {rid: stored[p].copy() for rid, p in zip(rids, pos.tolist(), strict=True)}

    def diff(self, store: GraphStore) -> tuple[IndexDelta, int]:
        """The delta from this index's rows to ``store``'s current contents, and the store
        version it reflects (read first: a write racing the diff leaves the index stale,
        never wrong). Reads every assertion and entity; embeds nothing."""
        with self._lock:
            if self.version is None:
                raise VectorIndexError("the index was never built: nothing to diff against")
            version = store.version()
            assertions = store.assertions()
            entities = store.entities()
            upserted_a = [a for a in assertions
                          if self._table.differs(assertion_spec(a, self.ontology))]
            upserted_e = [e for e in entities if self._table.differs(entity_spec(e, self.ontology))]
            have_a = {a.id for a in assertions}
            have_e = {e.id for e in entities}
            removed_a = sorted(kgid for kind, kgid in self._table.by_key
                               if kind == "assertion" and kgid not in have_a)
            removed_e = sorted(kgid for kind, kgid in self._table.by_key
                               if kind == "entity" and kgid not in have_e)
            delta = IndexDelta(base_version=self.version, upserted_assertions=upserted_a,
                               removed_assertion_ids=removed_a, upserted_entities=upserted_e,
                               removed_entity_ids=removed_e)
            return delta, version

    def delta_for_changes(self, store: GraphStore, changes: Sequence[Change]) -> IndexDelta:
        """The delta for ``changes`` (the primitives KGCL compiles to) once the store has
        applied them, read from the store's current state of just the objects they touch
        (plus the assertions mentioning an entity whose label or class changed). Its base is
        this index's version: apply it only if ``changes`` are all the store committed since
        then — ``apply_store_changes`` checks that for you."""
        with self._lock:
            if self.version is None:
                raise VectorIndexError("the index was never built: build it from a store first")
            assertion_ids: set[str] = set()
            entity_ids: set[str] = set()
            for change in changes:
                # every kind of change (entity creation, deletion, class, annotations too)
                assertion_ids_of, entity_ids_of = touched(change)
                assertion_ids |= assertion_ids_of
                entity_ids |= entity_ids_of
            # just the touched entities, not the whole store
            entities = (store.get_entities([EntityId(e) for e in entity_ids])
                        if entity_ids else {})
            upserted_e: list[EntityRef] = []
            removed_e: list[str] = []
            for eid in sorted(entity_ids):
                entity = entities.get(EntityId(eid))
                if entity is None:
                    removed_e.append(eid)
                    continue
                spec = entity_spec(entity, self.ontology)
                rid = self._table.by_key.get(("entity", eid))
                old = self._table.specs[rid] if rid is not None else None
                if old is None or old != spec:
                    upserted_e.append(entity)
                if old is not None and (old.label, old.type_iri) != (spec.label, spec.type_iri):
                    # its label shows in the text, its class in the subject type, of every
                    # assertion that mentions it
                    assertion_ids.update(a.id for a in store.neighbours(EntityId(eid)))
            upserted_a: list[Assertion] = []
            removed_a: list[str] = []
            for aid in sorted(assertion_ids):
                got = store.get_assertion(AssertionId(aid))
                if got is None:
                    removed_a.append(aid)
                elif self._table.differs(assertion_spec(got, self.ontology)):
                    upserted_a.append(got)
            return IndexDelta(base_version=self.version, upserted_assertions=upserted_a,
                              removed_assertion_ids=removed_a, upserted_entities=upserted_e,
                              removed_entity_ids=removed_e)

    def apply_store_changes(self, store: GraphStore, changes: Sequence[Change],
                            *, actor: str, role: Role) -> tuple[int, RefreshResult]:
        """Apply ``changes`` to ``store`` (one transaction, as ``GraphStore.apply_changes``)
        and bring the index along as a delta of just what they touched. When the index was
        not current before, or another write committed around this one (the version moved by
        more than the one commit), it falls back to ``sync`` (a diff of the whole store).
        Returns the number of changes applied and what the index did."""
        with self._lock:
            self._require_embedder()  # fail before the store is written, not after
            before = store.version()
            applied = store.apply_changes(changes, actor=actor, role=role)
            after = store.version()
            if (self.version == before and after == before + 1 and self.vectors is not None
                    and not self._rebuild_reason(store, self.embedder)):
                result = self.apply_delta(self.delta_for_changes(store, changes), after)
            else:
                result = self.sync(store)
            return applied, result

    # ---------------------------------------------------------------- freshness
    def is_stale(self, store: GraphStore) -> bool:
        """True when ``store`` has changed (or is another store) since this index was built."""
        if self.version is None:
            return True
        if self.store_descriptor and getattr(store, "descriptor", "") != self.store_descriptor:
            return True
        return store.version() != self.version

    def _rebuild_reason(self, store: GraphStore, embedder: Embedder | None) -> str:
        if self.vectors is None or self.version is None:
            return "not built (or a failed update)"
        if self.store_descriptor != getattr(store, "descriptor", ""):
            return f"another store ({getattr(store, 'descriptor', '')!r})"
        if embedder is not None and self.model_id and embedder.model_id != self.model_id:
            return f"embedding model changed ({self.model_id!r} -> {embedder.model_id!r})"
        return ""

    def sync(self, store: GraphStore, *, embedder: Embedder | None = None) -> RefreshResult:
        """Bring the index up to ``store``'s current version and say what that took.

        Fresh (same store, same version): nothing. Stale: the diff of the store against the
        rows, applied as a delta (only new or changed texts embedded). Another store, another
        embedding model, or an index never built: a full rebuild (vectors of texts it
        already holds are still reused when the model is the same)."""
        with self._lock:
            chosen = embedder or self.embedder
            if chosen is None:
                raise VectorIndexError("this index has no embedder: pass one to KGIndex.load() or "
                                       "refresh(), or build the index with one")
            reason = self._rebuild_reason(store, chosen)
            if reason:
                result = self._rebuild(store, chosen, reason)
            elif store.version() == self.version:
                self.embedder = chosen
                self.last_embedded = 0
                result = RefreshResult("none", self.version)
            else:
                self.embedder = chosen
                delta, version = self.diff(store)
                result = self._apply(delta, version)
            self.last_refresh = result
            return result

    def refresh(self, store: GraphStore, *, embedder: Embedder | None = None) -> bool:
        """``sync`` returning only whether the index changed (it was stale); the details are
        in ``last_refresh``. True means: save it again if it is persisted."""
        return bool(self.sync(store, embedder=embedder))

    # ---------------------------------------------------------------- reading
    @property
    def size(self) -> int:
        return len(self._table.rows)

    def __len__(self) -> int:
        return self.size

    def row(self, row: int) -> IndexRow:
        """The row with id ``row`` (ids are stable, not positions); KeyError if none."""
        return self._table.rows[row]

    def rows(self) -> list[IndexRow]:
        """Every row, by id."""
        with self._lock:
            return [self._table.rows[rid] for rid in sorted(self._table.rows)]

    def find(self, kind: RowKind, kgid: str) -> IndexRow | None:
        """The row of assertion/entity ``kgid``, if the index holds one."""
        with self._lock:
            rid = self._table.by_key.get((kind, kgid))
            return None if rid is None else self._table.rows[rid]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._require_embedder().embed(list(texts))

    def search(self, query_vectors: np.ndarray, k: int = 10,
               where: str | WhereExpr | None = None) -> list[list[tuple[IndexRow, float]]]:
        """Top-``k`` rows per query vector (exact, filtered), as (row, score) pairs. ``k``
        must be at least 1 (``InputError``); a ``k`` above the row count is that count (no
        more can match), so a huge ``k`` never allocates beyond the index's size."""
        check_k(k)
        with self._lock:  # a concurrent delta changes vectors and rows together
            if self.vectors is None:
                raise VectorIndexError("the index is empty: build it from a store first")
            k = min(k, max(len(self.vectors), 1))
            ids, scores = self.vectors.search(query_vectors, k, where)
            rows = self._table.rows
            return [[(rows[int(i)], float(s)) for i, s in zip(qi, qs, strict=True) if i >= 0]
                    for qi, qs in zip(ids, scores, strict=True)]

    @property
    def last_plan(self) -> str:
        return self.vectors.last_plan if self.vectors is not None else "empty"

    # ---------------------------------------------------------------- persistence
    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write the vectors (``vectors/``) and the row manifest (``kg_index.json``, last):
        the store version, model, store descriptor, rows with their ids, next free id."""
        if self.vectors is None:
            raise VectorIndexError("nothing to save: build the index first")
        path = Path(directory)
        with self._lock:
            self.vectors.save(path / "vectors")
            manifest = {
                "format": FORMAT_VERSION, "version": self.version, "model_id": self.model_id,
                "store": self.store_descriptor, "next_row": self._next_row,
                "rows": [[rid, r.kind, r.kgid, r.label, r.text, r.type_iri]
                         for rid, r in sorted(self._table.rows.items())],
            }
            tmp = path / f"{MANIFEST}.tmp"
            tmp.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path / MANIFEST)
        return path

    @classmethod
    def load(cls, directory: str | os.PathLike[str], embedder: Embedder | None = None, *,
             ontology: Ontology | None = None, device: str = "cpu",
             int8_kernel: KernelConfig | None = None) -> KGIndex:
        """Read an index written by ``save`` (this format or format 1). With an ``embedder``
        it must be the same model the index was built with; without one, pass one to
        ``refresh`` later."""
        path = Path(directory)
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise VectorIndexError(f"no readable KG index in {path}: {exc}") from exc
        fmt = manifest.get("format")
        if fmt not in _READABLE_FORMATS:
            raise VectorIndexError(f"KG index in {path} has format {fmt!r}; expected one of "
                                   f"{_READABLE_FORMATS}: rebuild it")
        index = cls(None, ontology=ontology, device=device, int8_kernel=int8_kernel)
        vectors = VectorIndex.load(path / "vectors", device=device, int8_kernel=int8_kernel)
        # format 1 kept rows by position, and the vectors' ids were 0..n-1
        raw = ([[i, *r] for i, r in enumerate(manifest["rows"])] if fmt == 1
               else manifest["rows"])
        if "violations" not in vectors.column_names:
            vectors = violations_column_added(vectors, device)
        for rid, spec in saved_specs(raw, vectors, path):
            index._table.put(rid, spec)
        index.vectors = vectors
        index._next_row = int(manifest.get("next_row", max(vectors.ids.tolist(), default=-1) + 1))
        index.version = manifest["version"]
        index.model_id = manifest["model_id"]
        index.store_descriptor = manifest.get("store", "")
        if embedder is not None:
            index._require_embedder(embedder)
        return index


__all__ = ["KGIndex", "RefreshResult", "check_k"]
