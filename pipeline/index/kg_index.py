"""The knowledge graph as a searchable vector index: one row per assertion and per entity.

An assertion row embeds "Cassini mission — operated by — NASA" plus its evidence quote, so
a question phrased like the source text finds it; an entity row embeds "NASA (Organization)".
Attribute columns make the graph's structure filterable with ``where``: ``kind``
(assertion/entity), ``type`` (entity class local name; an assertion's subject class),
``predicate`` (local name; "" for entities), ``confidence`` (1.0 for entities) and
``status`` (draft/certified/quarantined; "draft" for entities).

The index remembers the store version it reflects. ``is_stale`` compares it with the store;
``refresh`` rebuilds from the store but re-embeds only texts it has not seen (vectors of
unchanged rows are reused), so keeping the index fresh costs what changed.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from pipeline.errors import IndexError_
from pipeline.index.base import Embedder
from pipeline.index.vector_index import VectorIndex
from pipeline.index.where import WhereExpr
from pipeline.models import Assertion, EntityRef, Ontology, local_name
from pipeline.store.base import GraphStore

RowKind = Literal["assertion", "entity"]
MANIFEST = "kg_index.json"
FORMAT_VERSION = 1
_QUOTE_CHARS = 400  # the model truncates anyway; the triple comes first so it survives


@dataclass(frozen=True)
class IndexRow:
    """What one index row stands for: an assertion or an entity of the graph."""

    row: int
    kind: RowKind
    kgid: str
    label: str
    text: str
    type_iri: str = ""  # entity rows: the entity's class, so an EntityRef can be rebuilt

    def entity(self) -> EntityRef:
        if self.kind != "entity":
            raise ValueError(f"row {self.row} is an assertion, not an entity")
        return EntityRef.model_validate({"id": self.kgid, "label": self.label,
                                         "type_iri": self.type_iri})


def humanise(name: str) -> str:
    """``operatedBy`` → ``operated by``; ``launch_site`` → ``launch site``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", local_name(name)).replace("_", " ")
    return spaced.strip().lower() if spaced else name


def assertion_label(assertion: Assertion, ontology: Ontology | None = None) -> str:
    """The assertion as one readable line: subject — predicate — object."""
    triple = assertion.triple
    prop = ontology.get_property(triple.predicate) if ontology else None
    predicate = prop.label if prop else humanise(triple.predicate)
    return f"{triple.subject.label} — {predicate} — {triple.object_label}"


def assertion_text(assertion: Assertion, ontology: Ontology | None = None) -> str:
    """What gets embedded: the readable triple, then its first evidence quote."""
    label = assertion_label(assertion, ontology)
    quotes = sorted(assertion.provenance, key=lambda p: (p.document_id, p.chunk_id,
                                                         p.span.start))
    quote = next((p.quote.strip() for p in quotes if p.quote.strip()), "")
    return f"{label}. {quote[:_QUOTE_CHARS]}" if quote else label


def entity_label(entity: EntityRef, ontology: Ontology | None = None) -> str:
    cls = ontology.class_label(entity.type_iri) if ontology else humanise(entity.type_iri)
    return f"{entity.label} ({cls})"


class KGIndex:
    """A ``VectorIndex`` over a graph store's assertions and entities, plus row metadata."""

    def __init__(self, embedder: Embedder | None = None, *, ontology: Ontology | None = None,
                 device: str = "cpu") -> None:
        self.embedder = embedder
        self.ontology = ontology
        self.device = device
        self.version: int | None = None
        self.store_descriptor = ""
        self.model_id = embedder.model_id if embedder is not None else ""
        self.vectors: VectorIndex | None = None
        self._rows: list[IndexRow] = []
        self._lock = threading.RLock()
        #: texts embedded by the last build/refresh (the rest were reused); tests read it
        self.last_embedded = 0

    # ---------------------------------------------------------------- building
    @classmethod
    def build(cls, store: GraphStore, embedder: Embedder, *, ontology: Ontology | None = None,
              device: str = "cpu") -> KGIndex:
        """Index every assertion and entity of ``store`` as of its current version."""
        index = cls(embedder, ontology=ontology, device=device)
        index._rebuild(store)
        return index

    def _rebuild(self, store: GraphStore) -> None:
        embedder = self._require_embedder()
        # read the version first: a write racing this build leaves the index stale, not wrong
        version = store.version()
        assertions = store.assertions()
        entities = store.entities()
        subject_type = {a.id: local_name(a.triple.subject.type_iri) for a in assertions}
        rows: list[IndexRow] = []
        for a in assertions:
            rows.append(IndexRow(len(rows), "assertion", a.id, assertion_label(a, self.ontology),
                                 assertion_text(a, self.ontology)))
        for e in entities:
            label = entity_label(e, self.ontology)
            rows.append(IndexRow(len(rows), "entity", e.id, e.label, label, e.type_iri))
        vectors = self._vectors_for([r.text for r in rows], embedder)
        n_a = len(assertions)
        attributes = {
            "kind": np.array(["assertion"] * n_a + ["entity"] * len(entities), dtype=str),
            "type": np.array([subject_type[a.id] for a in assertions]
                             + [local_name(e.type_iri) for e in entities], dtype=str),
            "predicate": np.array([local_name(a.triple.predicate) for a in assertions]
                                  + [""] * len(entities), dtype=str),
            "confidence": np.array([a.confidence for a in assertions] + [1.0] * len(entities),
                                   dtype=np.float64),
            "status": np.array([a.status.value for a in assertions]
                               + ["draft"] * len(entities), dtype=str),
        }
        built = VectorIndex.build(vectors, attributes, ids=np.arange(len(rows)),
                                  device=self.device)
        with self._lock:
            self.vectors, self._rows = built, rows
            self.version = version
            self.store_descriptor = getattr(store, "descriptor", "")
            self.model_id = embedder.model_id

    def _vectors_for(self, texts: list[str], embedder: Embedder) -> np.ndarray:
        """Vectors for ``texts``, reusing this index's own vectors for texts it already has."""
        known: dict[str, np.ndarray] = {}
        if self.vectors is not None and self.model_id == embedder.model_id:
            stored = self.vectors.vectors
            known = {r.text: stored[i] for i, r in enumerate(self._rows)}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        self.last_embedded = len(missing)
        if missing:
            fresh = embedder.embed(missing)
            known.update(zip(missing, fresh, strict=True))
        if not texts:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.stack([known[t] for t in texts]).astype(np.float32)

    def _require_embedder(self, embedder: Embedder | None = None) -> Embedder:
        chosen = embedder or self.embedder
        if chosen is None:
            raise IndexError_("this index has no embedder: pass one to KGIndex.load() or "
                              "refresh(), or build the index with one")
        if self.model_id and chosen.model_id != self.model_id and self.vectors is not None:
            raise IndexError_(f"index was built with embedding model {self.model_id!r}, not "
                              f"{chosen.model_id!r}: rebuild it with KGIndex.build()")
        self.embedder = chosen
        return chosen

    # ---------------------------------------------------------------- freshness
    def is_stale(self, store: GraphStore) -> bool:
        """True when ``store`` has changed (or is another store) since this index was built."""
        if self.version is None:
            return True
        if self.store_descriptor and getattr(store, "descriptor", "") != self.store_descriptor:
            return True
        return store.version() != self.version

    def refresh(self, store: GraphStore, *, embedder: Embedder | None = None) -> bool:
        """Bring the index up to ``store``'s version if it is stale; True if it rebuilt."""
        with self._lock:
            if not self.is_stale(store):
                return False
            self._require_embedder(embedder)
            self._rebuild(store)
            return True

    # ---------------------------------------------------------------- reading
    @property
    def size(self) -> int:
        return len(self._rows)

    def __len__(self) -> int:
        return self.size

    def row(self, row: int) -> IndexRow:
        return self._rows[row]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._require_embedder().embed(list(texts))

    def search(self, query_vectors: np.ndarray, k: int = 10,
               where: str | WhereExpr | None = None) -> list[list[tuple[IndexRow, float]]]:
        """Top-``k`` rows per query vector (exact, filtered), as (row, score) pairs."""
        with self._lock:  # a concurrent refresh swaps vectors and rows together
            vectors, rows = self.vectors, self._rows
            if vectors is None:
                raise IndexError_("the index is empty: build it from a store first")
            ids, scores = vectors.search(query_vectors, k, where)
        return [[(rows[int(i)], float(s)) for i, s in zip(qi, qs, strict=True) if i >= 0]
                for qi, qs in zip(ids, scores, strict=True)]

    @property
    def last_plan(self) -> str:
        return self.vectors.last_plan if self.vectors is not None else "empty"

    # ---------------------------------------------------------------- persistence
    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write the vectors (``vectors/``) and the row manifest (``kg_index.json``, last)."""
        if self.vectors is None:
            raise IndexError_("nothing to save: build the index first")
        path = Path(directory)
        with self._lock:
            self.vectors.save(path / "vectors")
            manifest = {
                "format": FORMAT_VERSION, "version": self.version, "model_id": self.model_id,
                "store": self.store_descriptor,
                "rows": [[r.kind, r.kgid, r.label, r.text, r.type_iri] for r in self._rows],
            }
            tmp = path / f"{MANIFEST}.tmp"
            tmp.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path / MANIFEST)
        return path

    @classmethod
    def load(cls, directory: str | os.PathLike[str], embedder: Embedder | None = None, *,
             ontology: Ontology | None = None, device: str = "cpu") -> KGIndex:
        """Read an index written by ``save``. With an ``embedder`` it must be the same model
        the index was built with; without one, pass one to ``refresh`` later."""
        path = Path(directory)
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexError_(f"no readable KG index in {path}: {exc}") from exc
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexError_(f"KG index in {path} has format {manifest.get('format')!r}; "
                              f"expected {FORMAT_VERSION}: rebuild it")
        index = cls(None, ontology=ontology, device=device)
        index.vectors = VectorIndex.load(path / "vectors", device=device)
        index._rows = [IndexRow(i, kind, kgid, label, text, type_iri)
                       for i, (kind, kgid, label, text, type_iri) in enumerate(manifest["rows"])]
        if len(index.vectors) != len(index._rows):
            raise IndexError_(f"KG index in {path} is inconsistent: {len(index.vectors)} "
                              f"vectors for {len(index._rows)} rows; rebuild it")
        index.version = manifest["version"]
        index.model_id = manifest["model_id"]
        index.store_descriptor = manifest.get("store", "")
        if embedder is not None:
            index._require_embedder(embedder)
        return index


__all__ = ["IndexRow", "KGIndex", "assertion_label", "assertion_text", "entity_label",
           "humanise"]
