"""What one row of the KG index holds: its readable label, the text embedded, its attributes.

An assertion row embeds "Cassini mission — operated by — NASA" plus its evidence quote, so
a question phrased like the source text finds it; an entity row embeds "NASA (Organization)".
Attribute columns make the graph's structure filterable with ``where``: ``kind``
(assertion/entity), ``type`` (entity class local name; an assertion's subject class),
``predicate`` (local name; "" for entities), ``confidence`` (1.0 for entities),
``status`` (draft/certified/quarantined/contested; "draft" for entities) and ``violations``
(a list column: the check of each soft violation an assertion carries, sorted, informational
ones left out; none for entities), filtered as ``violations == 0`` (no soft violation),
``violations > 0`` or ``"shacl" in violations`` (see ``pipeline.index.where``).

``RowSpec`` is everything a row holds besides its vector: two equal specs are the same row,
which is how the index tells a changed row (and whether its text, hence its vector, changed)
from an unchanged one; ``RowTable`` keeps the index's rows by id with the lookups it needs.
The labels and texts are also what retrieval shows and KGCL renders.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from pipeline.errors import VectorIndexError
from pipeline.index.vector_index import VectorIndex
from pipeline.index.where import decode_list, encode_list
from pipeline.models import Assertion, EntityRef, IndexRow, Ontology, RowKind, local_name
from pipeline.store.rules import review_violations

_QUOTE_CHARS = 400  # the model truncates anyway; the triple comes first so it survives
#: the attribute columns of every row
COLUMNS = ("kind", "type", "predicate", "confidence", "status", "violations")


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


class RowSpec(NamedTuple):
    """Everything a row holds besides its vector; two equal specs are the same row."""

    kind: RowKind
    kgid: str
    label: str
    text: str
    type_iri: str
    type: str
    predicate: str
    confidence: float
    status: str
    #: the check of each soft violation, sorted (repeats kept: one name per violation)
    violations: tuple[str, ...] = ()


class RowTable:
    """The index's rows by id, what each holds, and the lookups the index needs: the row of
    an assertion or entity, and the rows of a text (whose vector a new row may reuse)."""

    def __init__(self) -> None:
        self.rows: dict[int, IndexRow] = {}  # row id -> row
        self.specs: dict[int, RowSpec] = {}  # row id -> what the row holds
        self.by_key: dict[tuple[str, str], int] = {}  # (kind, kgid) -> row id
        self.by_text: dict[str, set[int]] = {}  # text -> row ids (for reusing vectors)

    def __len__(self) -> int:
        return len(self.rows)

    def put(self, rid: int, spec: RowSpec) -> None:
        """Row ``rid`` holds ``spec`` (replacing what it held)."""
        if rid in self.specs:
            self.drop(rid)
        self.specs[rid] = spec
        self.by_text.setdefault(spec.text, set()).add(rid)
        self.rows[rid] = IndexRow(rid, spec.kind, spec.kgid, spec.label, spec.text,
                                  spec.type_iri)
        self.by_key[(spec.kind, spec.kgid)] = rid

    def drop(self, rid: int) -> None:
        spec = self.specs.pop(rid)
        del self.rows[rid]
        del self.by_key[(spec.kind, spec.kgid)]
        holders = self.by_text[spec.text]
        holders.discard(rid)
        if not holders:
            del self.by_text[spec.text]

    def differs(self, spec: RowSpec) -> bool:
        """Whether ``spec``'s assertion or entity has no row, or a row holding otherwise."""
        rid = self.by_key.get((spec.kind, spec.kgid))
        return rid is None or self.specs[rid] != spec


def assertion_spec(assertion: Assertion, ontology: Ontology | None) -> RowSpec:
    return RowSpec("assertion", assertion.id, assertion_label(assertion, ontology),
                   assertion_text(assertion, ontology), "",
                   local_name(assertion.triple.subject.type_iri),
                   local_name(assertion.triple.predicate), float(assertion.confidence),
                   assertion.status.value,
                   tuple(sorted(v.check for v in review_violations(assertion))))


def entity_spec(entity: EntityRef, ontology: Ontology | None) -> RowSpec:
    return RowSpec("entity", entity.id, entity.label, entity_label(entity, ontology),
                   entity.type_iri, local_name(entity.type_iri), "", 1.0, "draft")


def attributes(specs: Sequence[RowSpec]) -> dict[str, np.ndarray]:
    """The attribute columns of ``specs``' rows, in their order."""
    return {
        "kind": np.array([s.kind for s in specs], dtype=str),
        "type": np.array([s.type for s in specs], dtype=str),
        "predicate": np.array([s.predicate for s in specs], dtype=str),
        "confidence": np.array([s.confidence for s in specs], dtype=np.float64),
        "status": np.array([s.status for s in specs], dtype=str),
        "violations": np.array([encode_list(s.violations) for s in specs], dtype=str),
    }


def violations_column_added(vectors: VectorIndex, device: str) -> VectorIndex:
    """``vectors`` saved before the ``violations`` column existed, with that column: every row
    without violations, which is what the store held at the version the index reflects (no
    earlier release stored any; a later write moves the version, and the next sync's diff
    brings its violations in). The vectors are kept, nothing is embedded."""
    columns = {name: vectors.column(name) for name in vectors.column_names}
    columns["violations"] = np.array([encode_list(())] * len(vectors), dtype=str)
    return VectorIndex.build(np.array(vectors.vectors), columns, metric=vectors.metric,
                             ids=vectors.ids, device=device, int8_kernel=vectors.int8_kernel)


def saved_specs(raw: Sequence[Sequence[Any]], vectors: VectorIndex,
                path: Path) -> list[tuple[int, RowSpec]]:
    """The rows a saved manifest lists (``[id, kind, kgid, label, text, type_iri]`` each)
    with the attribute values their vectors carry; rows that do not match the vectors
    raise."""
    ids = vectors.ids.tolist()
    if len(raw) != len(ids) or {int(r[0]) for r in raw} != set(ids) \
            or not set(COLUMNS) <= set(vectors.column_names):
        raise VectorIndexError(f"KG index in {path} is inconsistent: {len(ids)} vectors for "
                               f"{len(raw)} rows; rebuild it")
    columns = {name: vectors.column(name).tolist() for name in COLUMNS}
    position = {rid: pos for pos, rid in enumerate(ids)}
    specs: list[tuple[int, RowSpec]] = []
    for rid, kind, kgid, label, text, type_iri in raw:
        p = position[int(rid)]
        if columns["kind"][p] != kind:
            raise VectorIndexError(f"KG index in {path} is inconsistent: row {rid} is a "
                                   f"{kind} but its vector is a {columns['kind'][p]}; "
                                   "rebuild it")
        checks = decode_list(columns["violations"][p])
        if checks is None:
            raise VectorIndexError(f"KG index in {path} is inconsistent: row {rid} has no "
                                   "list of violations; rebuild it")
        specs.append((int(rid), RowSpec(kind, kgid, label, text, type_iri, columns["type"][p],
                                        columns["predicate"][p],
                                        float(columns["confidence"][p]), columns["status"][p],
                                        checks)))
    return specs


__all__ = ["COLUMNS", "RowSpec", "RowTable", "assertion_label", "assertion_spec", "assertion_text",
           "attributes", "entity_label", "entity_spec", "humanise", "saved_specs",
           "violations_column_added"]
