"""What each KGCL change type means on the knowledge graph: one compiler method per change
type, turning a parsed command into store primitives (see :mod:`pipeline.kgcl.store_plan` for
the table).

Each method checks its command against the workspace (the store as the earlier commands of
the request leave it), records what it changes there and returns one or two primitives; a
command that cannot apply raises ``ChangeRequestError`` naming its line. Every statement a
command adds, and every label it gives, passes the contract's checks first
(:mod:`pipeline.kgcl.store_contract`): a hard failure raises ``ContractRefusalError``, a soft
one is stored on the assertion.
"""

from __future__ import annotations

from pipeline.contracts.checks import resolve_property
from pipeline.contracts.spec import ContractSpec
from pipeline.errors import ChangeRequestError
from pipeline.kgcl.parser import ParsedChange
from pipeline.kgcl.store_contract import StatementGuard
from pipeline.kgcl.store_workspace import (
    DEFINITION,
    DEPRECATED,
    IN_SUBSET,
    OWL_THING,
    PREFIXES,
    RDF_TYPE,
    REPLACED_BY,
    SYNONYM_SCOPES,
    XSD,
    Primitive,
    Workspace,
    expand,
    value_of,
)
from pipeline.models import (
    IRI,
    AddAnnotation,
    AddAssertion,
    Assertion,
    CreateEntity,
    DeleteEntity,
    EntityAnnotation,
    EntityId,
    EntityRef,
    LiteralValue,
    OntologyProperty,
    PropertyKind,
    RemoveAnnotation,
    RemoveAssertion,
    RenameEntity,
    RetypeEntity,
    Triple,
    local_name,
    normalize_label,
)


class CommandCompiler:
    """Turns one parsed command at a time into primitives, updating the workspace."""

    def __init__(self, ws: Workspace, contract: ContractSpec) -> None:
        self.ws = ws
        self.onto = ws.ontology
        self.guard = StatementGuard(ws, contract)

    # ---- errors and references
    @staticmethod
    def fail(pc: ParsedChange, problem: str) -> ChangeRequestError:
        return ChangeRequestError(f"line {pc.line}: {problem} (in {pc.text!r}); nothing was "
                                  "changed")

    def entity(self, ref: object, pc: ParsedChange, *, live: bool = False) -> EntityRef:
        """The entity ``ref`` names: its id (``ent:…``, a CURIE or ``<IRI>``) or its label.
        ``live``: refuse an obsolete entity (new statements must use the replacement)."""
        text = str(ref or "").strip()
        if not text:
            raise self.fail(pc, "the command names no entity")
        bare = text.strip("'\"")
        for candidate in dict.fromkeys((bare, expand(bare))):
            found = self.ws.entity(candidate)
            if found is not None:
                break
        else:
            matches = self.ws.by_label(bare)
            if len(matches) > 1:
                raise self.fail(pc, f"label {bare!r} is ambiguous "
                                    f"({', '.join(e.id for e in matches)}); name it by its id")
            if not matches:
                raise self.fail(pc, f"unknown entity {bare!r}")
            found = matches[0]
        if live and self.ws.obsolete(found.id):
            replaced = self.ws.values(found.id, REPLACED_BY)
            hint = f"; use its replacement {replaced[0]}" if replaced else ""
            raise self.fail(pc, f"entity {found.id} ({found.label!r}) is obsolete{hint}")
        return found

    def prop(self, ref: object, pc: ParsedChange) -> OntologyProperty:
        text = str(ref or "").strip().strip("'\"")
        iri = expand(text)
        for p in self.onto.properties:
            if p.iri == iri:
                return p
        surface = iri if "://" in iri else (text.split(":", 1)[-1] if ":" in text else text)
        found = resolve_property(self.onto, surface)
        if found is None:
            raise self.fail(pc, f"{text!r} is not a property of the ontology "
                                "(unknown-predicate)")
        return found

    def cls(self, ref: object, pc: ParsedChange) -> str:
        text = str(ref or "").strip().strip("'\"")
        iri = expand(text)
        if iri == OWL_THING:
            return OWL_THING
        for c in self.onto.classes:
            if c.iri == iri:
                return c.iri
        local = iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1] if "://" in iri else (
            text.split(":", 1)[-1])
        for c in self.onto.classes:
            if local in (local_name(c.iri), c.label) or normalize_label(text) == \
                    normalize_label(c.label):
                return c.iri
        raise self.fail(pc, f"{text!r} is not a class of the ontology")

    def is_below(self, sub: str, sup: str) -> bool:
        """``sub`` is a proper subclass of ``sup`` (everything is below owl:Thing)."""
        if sub == sup:
            return False
        return sup == OWL_THING or self.onto.is_subclass(sub, sup)

    # ---- primitives, recorded in the workspace as they are made
    def add(self, pc: ParsedChange, a: Assertion) -> AddAssertion:
        if self.ws.assertion(a.id) is not None:
            raise self.fail(pc, f"that edge already exists (assertion {a.id})")
        self.ws.assertions[a.id] = a
        return AddAssertion(assertion=a, kgcl=pc.text)

    def remove(self, pc: ParsedChange, a: Assertion) -> RemoveAssertion:
        self.ws.assertions[a.id] = None
        return RemoveAssertion(assertion_id=a.id, kgcl=pc.text)

    def note(self, pc: ParsedChange, eid: str, prop: str, value: str, *,
             add: bool) -> AddAnnotation | RemoveAnnotation:
        held = self.ws.notes(eid)
        key = (prop, value)
        annotation = EntityAnnotation(entity_id=EntityId(eid), property=IRI(prop), value=value)
        if add:
            if key in held:
                raise self.fail(pc, f"{eid} already has {local_name(prop)} {value!r}")
            held.add(key)
            return AddAnnotation(annotation=annotation, kgcl=pc.text)
        if key not in held:
            raise self.fail(pc, f"{eid} has no {local_name(prop)} {value!r}")
        held.discard(key)
        return RemoveAnnotation(annotation=annotation, kgcl=pc.text)

    def curated(self, pc: ParsedChange, subject: EntityRef, prop: OntologyProperty,
                obj: EntityRef | LiteralValue | str, datatype: str | None = None) -> Assertion:
        """A curated assertion, checked by the contract (refused, or kept with its soft
        violations): confidence 1 times the penalties, draft (certification is a separate,
        recorded step), no provenance (no document stated it). A literal object (its text,
        or a stored literal re-read) is typed by the property's range unless ``datatype``
        says otherwise."""
        if isinstance(obj, LiteralValue):
            obj = obj.value
        return self.guard.assertion(pc, subject, prop, obj, datatype)

    def target(self, pc: ParsedChange, prop: OntologyProperty, holder: object, name: str, *,
               live: bool, datatype_field: str = "datatype") -> EntityRef | LiteralValue:
        """The object of an edge (``holder.name``): a literal for a datatype property (its
        datatype as written, else the property's range), else an entity."""
        if prop.kind is PropertyKind.DATATYPE:
            value, datatype = value_of(holder, name, datatype_field)
            dt = datatype or (prop.range[0] if prop.range else XSD + "string")
            return LiteralValue(value=value, datatype=IRI(dt))
        if getattr(holder, f"{name}_type", None) == "literal":
            raise self.fail(pc, f"{local_name(prop.iri)} relates two entities; the object "
                                "cannot be a literal")
        return self.entity(getattr(holder, name, None), pc, live=live)

    def edge(self, pc: ParsedChange, subject: EntityRef, prop: OntologyProperty,
             obj: EntityRef | LiteralValue) -> Assertion:
        """The existing edge (subject, prop, obj) as the request leaves it, or an error. A
        literal matches by value when the command gives no datatype."""
        key = Triple(subject=subject, predicate=prop.iri, object=obj).key
        found = self.ws.assertion(key)
        if found is None and isinstance(obj, LiteralValue):
            same = [a for a in self.ws.neighbours(subject.id)
                    if a.triple.predicate == prop.iri and a.triple.subject.id == subject.id
                    and isinstance(a.triple.object, LiteralValue)
                    and a.triple.object.value == obj.value]
            if len(same) == 1:
                found = same[0]
        if found is None:
            raise self.fail(pc, f"no such edge: {subject.id} {local_name(prop.iri)} "
                                f"{obj.id if isinstance(obj, EntityRef) else repr(obj.value)}")
        return found

    # ---- the commands
    def compile(self, pc: ParsedChange) -> tuple[Primitive, ...]:
        kind = type(pc.change).__name__
        handler = getattr(self, f"_{kind}", None)
        if handler is None:
            if kind == "ClassCreation":
                raise self.fail(pc, "ClassCreation ('create ID') creates an ontology class, "
                                    "which the knowledge graph does not hold: apply it to the "
                                    "ontology file (kgcl apply --input); on the graph use "
                                    "'create node ID 'label''")
            raise self.fail(pc, f"{kind} has no meaning on the knowledge graph")
        return tuple(handler(pc, pc.change))

    def _NodeRename(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        old = getattr(ch, "old_value", None)
        ent = self.entity(getattr(ch, "about_node", None) or old, pc)
        new = str(getattr(ch, "new_value", "") or "").strip()
        if not new:
            raise self.fail(pc, "the new label is empty")
        if old and normalize_label(str(old)) != normalize_label(ent.label):
            raise self.fail(pc, f"{ent.id} is labelled {ent.label!r}, not {old!r}")
        if new == ent.label:
            raise self.fail(pc, f"{ent.id} is already labelled {new!r}")
        self.guard.label(pc, new)
        self.ws.set_entity(ent.model_copy(update={"label": new}), relabel=True)
        return [RenameEntity(entity_id=ent.id, new_label=new, kgcl=pc.text)]

    def _NodeCreation(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        eid = expand(str(getattr(ch, "about_node", "") or "").strip())
        label = str(getattr(ch, "name", "") or "").strip()
        if not eid or not label:
            raise self.fail(pc, "create node needs an id and a label")
        if self.ws.entity(eid) is not None:
            raise self.fail(pc, f"an entity {eid} already exists")
        self.guard.label(pc, label)
        entity = EntityRef(id=EntityId(eid), label=label, type_iri=IRI(OWL_THING))
        self.ws.set_entity(entity)
        self.ws.notes(eid).clear()
        return [CreateEntity(entity=entity, kgcl=pc.text)]

    def _NodeDeletion(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        ent = self.entity(getattr(ch, "about_node", None), pc)
        uses = self.ws.neighbours(ent.id)
        if uses:
            shown = ", ".join(a.id for a in uses[:3]) + (" …" if len(uses) > 3 else "")
            raise self.fail(pc, f"{len(uses)} assertion(s) still name {ent.id} ({shown}); "
                                "delete those edges first in the same request, or obsolete "
                                "the entity instead")
        replaced = self.ws.replaced(ent.id)
        if replaced:
            raise self.fail(pc, f"{ent.id} is the replacement of obsolete "
                                f"{', '.join(replaced)}; it cannot be deleted")
        self.ws.drop_entity(ent.id)
        return [DeleteEntity(entity_id=ent.id, kgcl=pc.text)]

    def _obsolete(self, pc: ParsedChange, ch: object, replacement: object) -> list[Primitive]:
        ent = self.entity(getattr(ch, "about_node", None), pc)
        if self.ws.obsolete(ent.id):
            raise self.fail(pc, f"{ent.id} is already obsolete")
        out: list[Primitive] = [self.note(pc, ent.id, DEPRECATED, "true", add=True)]
        if replacement is not None:
            repl = self.entity(replacement, pc, live=True)
            if repl.id == ent.id:
                raise self.fail(pc, "an entity cannot replace itself")
            out.append(self.note(pc, ent.id, REPLACED_BY, repl.id, add=True))
        return out

    def _NodeObsoletion(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        return self._obsolete(pc, ch, None)

    def _NodeObsoletionWithDirectReplacement(self, pc: ParsedChange,  # noqa: N802
                                             ch: object) -> list[Primitive]:
        return self._obsolete(pc, ch, getattr(ch, "has_direct_replacement", None))

    def _NodeUnobsoletion(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        ent = self.entity(getattr(ch, "about_node", None), pc)
        if not self.ws.obsolete(ent.id):
            raise self.fail(pc, f"{ent.id} is not obsolete")
        out: list[Primitive] = [self.note(pc, ent.id, DEPRECATED, "true", add=False)]
        out += [self.note(pc, ent.id, REPLACED_BY, v, add=False)
                for v in self.ws.values(ent.id, REPLACED_BY)]
        return out

    # ---- synonyms, definitions, subsets
    @staticmethod
    def _scope(ch: object) -> str | None:
        q = getattr(ch, "qualifier", None)
        return str(q).strip().lower() if q else None

    def _NewSynonym(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        ent = self.entity(getattr(ch, "about_node", None), pc)
        value = str(getattr(ch, "new_value", "") or "").strip()
        if not value:
            raise self.fail(pc, "the synonym is empty")
        scope = self._scope(ch)
        if scope not in SYNONYM_SCOPES:
            raise self.fail(pc, f"unknown synonym scope {scope!r}")
        return [self.note(pc, ent.id, SYNONYM_SCOPES[scope], value, add=True)]

    def _held_scopes(self, pc: ParsedChange, eid: str, value: str) -> list[str]:
        props = [p for p in SYNONYM_SCOPES.values() if (p, value) in self.ws.notes(eid)]
        if not props:
            raise self.fail(pc, f"{eid} has no synonym {value!r}")
        return props

    def _RemoveSynonym(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        ent = self.entity(getattr(ch, "about_node", None), pc)
        value = str(getattr(ch, "old_value", "") or "").strip()
        return [self.note(pc, ent.id, p, value, add=False)
                for p in self._held_scopes(pc, ent.id, value)]

    def _SynonymReplacement(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        ent = self.entity(getattr(ch, "about_node", None), pc)
        old = str(getattr(ch, "old_value", "") or "").strip()
        new = str(getattr(ch, "new_value", "") or "").strip()
        if not new or new == old:
            raise self.fail(pc, "the new synonym must differ from the old one")
        props = self._held_scopes(pc, ent.id, old)
        scope = self._scope(ch)
        if scope is not None:
            props = [p for p in props if p == SYNONYM_SCOPES.get(scope)]
            if not props:
                raise self.fail(pc, f"{old!r} is not a {scope} synonym of {ent.id}")
        out: list[Primitive] = []
        for p in props:
            out.append(self.note(pc, ent.id, p, old, add=False))
            out.append(self.note(pc, ent.id, p, new, add=True))
        return out

    def _NewTextDefinition(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        ent = self.entity(getattr(ch, "about_node", None), pc)
        value = str(getattr(ch, "new_value", "") or "").strip()
        if not value:
            raise self.fail(pc, "the definition is empty")
        if self.ws.values(ent.id, DEFINITION):
            raise self.fail(pc, f"{ent.id} already has a definition; use 'change definition "
                                "of'")
        return [self.note(pc, ent.id, DEFINITION, value, add=True)]

    def _NodeTextDefinitionChange(self, pc: ParsedChange,  # noqa: N802
                                  ch: object) -> list[Primitive]:
        ent = self.entity(getattr(ch, "about_node", None), pc)
        new = str(getattr(ch, "new_value", "") or "").strip()
        old = getattr(ch, "old_value", None)
        held = self.ws.values(ent.id, DEFINITION)
        if not held:
            raise self.fail(pc, f"{ent.id} has no definition; use 'add definition'")
        if old is not None:
            if str(old) not in held:
                raise self.fail(pc, f"the definition of {ent.id} is not {old!r}")
            held = [str(old)]
        elif len(held) > 1:
            raise self.fail(pc, f"{ent.id} has {len(held)} definitions; say which one "
                                "changes ('from ... to ...')")
        if not new or new == held[0]:
            raise self.fail(pc, "the new definition must differ from the old one")
        return [self.note(pc, ent.id, DEFINITION, held[0], add=False),
                self.note(pc, ent.id, DEFINITION, new, add=True)]

    def _RemoveTextDefinition(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        ent = self.entity(getattr(ch, "about_node", None), pc)
        held = self.ws.values(ent.id, DEFINITION)
        if not held:
            raise self.fail(pc, f"{ent.id} has no definition")
        return [self.note(pc, ent.id, DEFINITION, v, add=False) for v in held]

    def _AddNodeToSubset(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        ent = self.entity(getattr(ch, "about_node", None), pc)
        subset = str(getattr(ch, "in_subset", "") or "").strip()
        return [self.note(pc, ent.id, IN_SUBSET, subset, add=True)]

    def _RemoveNodeFromSubset(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        ent = self.entity(getattr(ch, "about_node", None), pc)
        subset = str(getattr(ch, "in_subset", "") or "").strip()
        return [self.note(pc, ent.id, IN_SUBSET, subset, add=False)]

    # ---- edges
    def _is_type(self, ref: object) -> bool:
        return expand(str(ref or "").strip()) in (RDF_TYPE, "a")

    def _retype(self, pc: ParsedChange, ent: EntityRef, type_iri: str) -> RetypeEntity:
        self.ws.set_entity(ent.model_copy(update={"type_iri": IRI(type_iri)}), relabel=True)
        return RetypeEntity(entity_id=ent.id, type_iri=IRI(type_iri), kgcl=pc.text)

    def _EdgeCreation(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        subject = self.entity(getattr(ch, "subject", None), pc, live=True)
        if self._is_type(getattr(ch, "predicate", None)):
            cls = self.cls(getattr(ch, "object", None), pc)
            if cls == subject.type_iri:
                raise self.fail(pc, f"{subject.id} already has the class {cls}")
            return [self._retype(pc, subject, cls)]
        prop = self.prop(getattr(ch, "predicate", None), pc)
        if prop.kind is PropertyKind.DATATYPE:
            value, datatype = value_of(ch, "object", "datatype")
            return [self.add(pc, self.curated(pc, subject, prop, value, datatype))]
        obj = self.target(pc, prop, ch, "object", live=True)
        return [self.add(pc, self.curated(pc, subject, prop, obj))]

    def _EdgeDeletion(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        subject = self.entity(getattr(ch, "subject", None), pc)
        if self._is_type(getattr(ch, "predicate", None)):
            raise self.fail(pc, "every entity has exactly one class: change it with 'deepen', "
                                "'shallow' or 'create edge X rdf:type C'")
        prop = self.prop(getattr(ch, "predicate", None), pc)
        obj = self.target(pc, prop, ch, "object", live=False)
        return [self.remove(pc, self.edge(pc, subject, prop, obj))]

    def _PredicateChange(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        e = getattr(ch, "about_edge", None)
        subject = self.entity(getattr(e, "subject", None), pc)
        old = self.prop(getattr(ch, "old_value", None) or getattr(e, "predicate", None), pc)
        new = self.prop(getattr(ch, "new_value", None), pc)
        if old.iri == new.iri:
            raise self.fail(pc, "the new relationship is the old one")
        if old.kind is not new.kind:
            raise self.fail(pc, f"{local_name(old.iri)} and {local_name(new.iri)} are not both "
                                f"{old.kind.value} properties")
        obj = self.target(pc, old, e, "object", live=False)
        gone = self.edge(pc, subject, old, obj)
        if isinstance(gone.triple.object, EntityRef):
            self.entity(gone.triple.object.id, pc, live=True)
        self.entity(subject.id, pc, live=True)
        return [self.remove(pc, gone), self.add(pc, self.curated(pc, subject, new,
                                                                 gone.triple.object))]

    def _NodeMove(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        e = getattr(ch, "about_edge", None)
        subject = self.entity(getattr(e, "subject", None), pc)
        prop = self.prop(getattr(e, "predicate", None), pc)
        if prop.kind is not PropertyKind.OBJECT:
            raise self.fail(pc, f"{local_name(prop.iri)} is a datatype property; use 'change "
                                "annotation of' to change its value")
        old_ref = getattr(ch, "old_value", None) or getattr(e, "object", None)
        old = self.entity(old_ref, pc)
        named = getattr(e, "object", None)
        if named is not None and self.entity(named, pc).id != old.id:
            raise self.fail(pc, "the edge's object and the 'from' entity differ")
        new = self.entity(getattr(ch, "new_value", None), pc, live=True)
        if new.id == old.id:
            raise self.fail(pc, "the edge already points there")
        gone = self.edge(pc, subject, prop, old)
        return [self.remove(pc, gone), self.add(pc, self.curated(pc, subject, prop, new))]

    def _deepen_or_shallow(self, pc: ParsedChange, ch: object, *, deeper: bool
                           ) -> list[Primitive]:
        e = getattr(ch, "about_edge", None)
        ent = self.entity(getattr(e, "subject", None), pc)
        old = self.cls(getattr(ch, "old_value", None) or getattr(e, "object", None), pc)
        new = self.cls(getattr(ch, "new_value", None), pc)
        if ent.type_iri != old:
            raise self.fail(pc, f"{ent.id} has the class {ent.type_iri}, not {old}")
        if deeper and not self.is_below(new, old):
            raise self.fail(pc, f"{new} is not a subclass of {old}: deepen moves an entity "
                                "down the class hierarchy")
        if not deeper and not self.is_below(old, new):
            raise self.fail(pc, f"{new} is not a superclass of {old}: shallow moves an entity "
                                "up the class hierarchy")
        return [self._retype(pc, ent, new)]

    def _NodeDeepening(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        return self._deepen_or_shallow(pc, ch, deeper=True)

    def _NodeShallowing(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        return self._deepen_or_shallow(pc, ch, deeper=False)

    def _NodeAnnotationChange(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        ent = self.entity(getattr(ch, "about_node", None), pc)
        prop_ref = str(getattr(ch, "annotation_property", "") or "").strip()
        old, old_dt = value_of(ch, "old_value", "old_datatype")
        new, new_dt = value_of(ch, "new_value", "new_datatype")
        if old == new and old_dt == new_dt:
            raise self.fail(pc, "the new value is the old one")
        iri = expand(prop_ref)
        prop = next((p for p in self.onto.properties if p.iri == iri), None)
        if prop is None and not iri.startswith(tuple(PREFIXES.values())):
            surface = prop_ref.split(":", 1)[-1] if "://" not in iri else iri
            prop = resolve_property(self.onto, surface)
        if prop is not None:
            if prop.kind is PropertyKind.OBJECT:
                raise self.fail(pc, f"{local_name(prop.iri)} is an object property; use 'move' "
                                    "or 'change relationship'")
            gone = self.edge(pc, ent, prop, LiteralValue(
                value=old, datatype=IRI(old_dt or (prop.range[0] if prop.range
                                                   else XSD + "string"))))
            return [self.remove(pc, gone), self.add(pc, self.curated(pc, ent, prop, new,
                                                                     new_dt))]
        return [self.note(pc, ent.id, iri, old, add=False),
                self.note(pc, ent.id, iri, new, add=True)]


__all__ = ["CommandCompiler"]
