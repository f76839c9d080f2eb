"""Compiling KGCL commands into the store's primitive changes, applied in one transaction.

First version, for the knowledge graph in either store:
- ``rename ID from 'old' to 'new'`` / ``rename 'old' to 'new'``   → RenameEntity
- ``create edge SUBJECT PREDICATE OBJECT``                        → AddAssertion (curated)
- ``delete edge SUBJECT PREDICATE OBJECT``                        → RemoveAssertion

Entities are named by their id (``ent:…``) or by label in quotes; predicates by a CURIE or
IRI whose local name is an ontology property. Everything is resolved against the store before
anything is written; one unknown entity or unsupported command rejects the whole request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kgcl_schema.datamodel.kgcl import EdgeCreation, EdgeDeletion, NodeRename

from pipeline.contracts.checks import resolve_property
from pipeline.errors import ChangeRequestError
from pipeline.kgcl.parser import ParsedChange, parse_change_request
from pipeline.models import (
    Assertion,
    AssertionStatus,
    EntityRef,
    Ontology,
    Role,
    Triple,
    normalize_label,
)
from pipeline.store.base import AddAssertion, GraphStore, RemoveAssertion, RenameEntity


def _entity(store_entities: Mapping[str, EntityRef], by_label: dict[str, list[EntityRef]],
            ref: str | None, pc: ParsedChange) -> EntityRef:
    if not ref:
        raise ChangeRequestError(f"line {pc.line}: {pc.text!r} names no entity")
    ref = ref.strip().strip("'\"")
    if ref in store_entities:
        return store_entities[ref]
    matches = by_label.get(normalize_label(ref), [])
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ChangeRequestError(f"line {pc.line}: label {ref!r} is ambiguous "
                                 f"({', '.join(e.id for e in matches)}); use the id")
    raise ChangeRequestError(f"line {pc.line}: unknown entity {ref!r} in {pc.text!r}")


def compile_changes(parsed: Sequence[ParsedChange], store: GraphStore,
                    ontology: Ontology) -> list[AddAssertion | RemoveAssertion | RenameEntity]:
    entities: dict[str, EntityRef] = {e.id: e for e in store.entities()}
    by_label: dict[str, list[EntityRef]] = {}
    for e in entities.values():
        by_label.setdefault(normalize_label(e.label), []).append(e)
    out: list[AddAssertion | RemoveAssertion | RenameEntity] = []
    for pc in parsed:
        ch = pc.change
        if isinstance(ch, NodeRename):
            ent = _entity(entities, by_label, ch.about_node or ch.old_value, pc)
            if ch.old_value and normalize_label(ch.old_value) != normalize_label(ent.label):
                raise ChangeRequestError(f"line {pc.line}: {ent.id} is labelled {ent.label!r}, "
                                         f"not {ch.old_value!r}")
            out.append(RenameEntity(entity_id=ent.id, new_label=str(ch.new_value), kgcl=pc.text))
        elif isinstance(ch, EdgeCreation | EdgeDeletion):
            subj = _entity(entities, by_label, ch.subject, pc)
            obj = _entity(entities, by_label, ch.object, pc)
            prop = resolve_property(ontology, str(ch.predicate or "").split(":")[-1])
            if prop is None:
                raise ChangeRequestError(f"line {pc.line}: {ch.predicate!r} is not a property "
                                         "of the ontology")
            triple = Triple(subject=subj, predicate=prop.iri, object=obj)
            if isinstance(ch, EdgeCreation):
                out.append(AddAssertion(assertion=Assertion.of(
                    triple, confidence=1.0, provenance=(), status=AssertionStatus.DRAFT),
                    kgcl=pc.text))
            else:
                if store.get_assertion(triple.key) is None:
                    raise ChangeRequestError(f"line {pc.line}: no such edge: {pc.text!r}")
                out.append(RemoveAssertion(assertion_id=triple.key, kgcl=pc.text))
        else:
            raise ChangeRequestError(f"line {pc.line}: {type(ch).__name__} is not supported on "
                                     f"the knowledge graph yet: {pc.text!r}")
    return out


def apply_to_store(request: str, store: GraphStore, ontology: Ontology, *, actor: str,
                   role: Role, dry_run: bool = False) -> int:
    """Parse, resolve and apply a change request atomically; returns the changes applied
    (or that would be, with ``dry_run``)."""
    changes = compile_changes(parse_change_request(request), store, ontology)
    if dry_run:
        return len(changes)
    return store.apply_changes(changes, actor=actor, role=role)
