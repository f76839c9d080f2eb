"""Changes to a store and to its index: the store's primitives and the index delta."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Annotated, Literal

from pydantic import Field

from pipeline.models.base import IRI, AssertionId, EntityId, Frozen
from pipeline.models.graph import Assertion, AssertionStatus, EntityAnnotation, EntityRef


class AddAssertion(Frozen):
    op: Literal["add_assertion"] = "add_assertion"
    assertion: Assertion
    kgcl: str = ""


class RemoveAssertion(Frozen):
    op: Literal["remove_assertion"] = "remove_assertion"
    assertion_id: AssertionId
    kgcl: str = ""


class RenameEntity(Frozen):
    op: Literal["rename_entity"] = "rename_entity"
    entity_id: EntityId
    new_label: Annotated[str, Field(min_length=1)]
    kgcl: str = ""


class SetStatus(Frozen):
    op: Literal["set_status"] = "set_status"
    assertion_id: AssertionId
    status: AssertionStatus
    kgcl: str = ""


class CreateEntity(Frozen):
    """A new entity with no assertions yet (KGCL ``create node``). Refused if the id exists."""

    op: Literal["create_entity"] = "create_entity"
    entity: EntityRef
    kgcl: str = ""


class DeleteEntity(Frozen):
    """Delete an entity and its annotations (KGCL ``delete``). Refused while any assertion
    still names it: deleting a node never deletes statements the command did not name."""

    op: Literal["delete_entity"] = "delete_entity"
    entity_id: EntityId
    kgcl: str = ""


class RetypeEntity(Frozen):
    """Give an entity another ontology class (KGCL ``deepen``/``shallow``, ``create edge X
    rdf:type C``)."""

    op: Literal["retype_entity"] = "retype_entity"
    entity_id: EntityId
    type_iri: IRI
    kgcl: str = ""


class AddAnnotation(Frozen):
    """Annotate an entity (synonym, definition, subset, obsoletion). Refused if the entity is
    unknown or already holds exactly this annotation."""

    op: Literal["add_annotation"] = "add_annotation"
    annotation: EntityAnnotation
    kgcl: str = ""


class RemoveAnnotation(Frozen):
    """Remove one annotation of an entity. Refused if the entity does not hold it."""

    op: Literal["remove_annotation"] = "remove_annotation"
    annotation: EntityAnnotation
    kgcl: str = ""


#: every primitive change ``GraphStore.apply_changes`` understands
Change = (AddAssertion | RemoveAssertion | RenameEntity | SetStatus | CreateEntity
          | DeleteEntity | RetypeEntity | AddAnnotation | RemoveAnnotation)


RowKind = Literal["assertion", "entity"]


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


@dataclass(frozen=True, kw_only=True)
class IndexDelta:
    """What changed in the graph since store version ``base_version``, as the index sees it.

    Upserts carry the objects as the store now holds them (new, or changed in label, text,
    class, status, confidence or soft violations; an unchanged one is a no-op); removals
    carry ids (an id the index does not hold is a no-op: the result is right either way).
    ``apply_delta`` refuses a delta whose ``base_version`` is not the index's version."""

    base_version: int
    upserted_assertions: Sequence[Assertion] = ()  # stored as tuples
    removed_assertion_ids: Sequence[str] = ()
    upserted_entities: Sequence[EntityRef] = ()
    removed_entity_ids: Sequence[str] = ()

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name != "base_version":
                object.__setattr__(self, f.name, tuple(getattr(self, f.name)))
        for kind, upserted, removed in (
                ("assertion", [a.id for a in self.upserted_assertions],
                 self.removed_assertion_ids),
                ("entity", [e.id for e in self.upserted_entities], self.removed_entity_ids)):
            if len(set(upserted)) != len(upserted) or len(set(removed)) != len(removed):
                raise ValueError(f"an index delta names an {kind} twice")
            both = sorted(set(upserted) & set(removed))
            if both:
                raise ValueError(f"an index delta both upserts and removes {kind} {both[0]}")

    @property
    def empty(self) -> bool:
        return not (self.upserted_assertions or self.removed_assertion_ids
                    or self.upserted_entities or self.removed_entity_ids)
