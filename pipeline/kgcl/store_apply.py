"""KGCL change requests on the knowledge graph: compiled to store primitives, applied as one
transaction, with the vector index brought along by a delta.

What each KGCL change type means on the knowledge graph (entities are instances of ontology
classes; assertions are the edges between them, or from an entity to a literal):

==============================================  ============================================
``rename X from 'a' to 'b'`` / ``rename 'a' to``  RenameEntity (the entity keeps its id)
``create node ID 'label'``                      CreateEntity, class ``owl:Thing`` until typed
``create edge X rdf:type C``                    RetypeEntity (C an ontology class)
``create edge S P O`` / ``delete edge S P O``   AddAssertion (curated: confidence 1, draft, no
                                                provenance) / RemoveAssertion; P an ontology
                                                property, O a literal for datatype properties
``change relationship between S and O from P    RemoveAssertion + AddAssertion (the new edge is
to Q``                                          curated: its evidence stated P, not Q)
``move S P O from O to N``                      RemoveAssertion + AddAssertion (S P N)
``deepen``/``shallow X from A to B``            RetypeEntity: X's class A becomes B, a sub- /
                                                superclass of A in the ontology
``delete X``                                    DeleteEntity, refused while an assertion names X
``obsolete X [with replacement Y]``             annotations owl:deprecated, IAO:0100001 (term
                                                replaced by); X's assertions stay
``unobsolete X``                                removes those annotations
``create|remove|change [scope] synonym``        oboInOwl:has{Exact,Narrow,Broad,Related}Synonym
                                                (no scope: oboInOwl:hasSynonym, as in files)
``add|change|remove definition``                IAO:0000115
``add X to subset S`` / ``remove X from subset``  oboInOwl:inSubset
``change annotation of X with P from V to W``   a literal assertion when P is a datatype
                                                property of the ontology, else an annotation
``create ID`` (a class)                         refused: classes live in the ontology file
==============================================  ============================================

A command changes exactly what it names: deleting a node never deletes its edges, obsoleting
one never touches another. Every command is checked against the store as the earlier
commands of the same request leave it (so ``create node`` then ``create edge`` to it works);
an entity is named by its id or its label (a label no entity has any more still names the
entity that had it when the request began, as its author saw the graph);
an unknown entity, an edge that does not exist (or already does), an annotation that is
absent (or present) rejects the whole request with ``ChangeRequestError`` naming the line,
and nothing is written. The store applies the primitives in one transaction.

With a ``KGIndex``, the texts the request will change are embedded *before* the store
commits (an embedder failure leaves store and index as they were), and the index then takes
a delta of just what changed: only new or changed texts are embedded, a status change
embeds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.contracts.checks import resolve_property
from pipeline.embeddings.base import Embedder
from pipeline.errors import ChangeRequestError, IndexError_, PermissionDeniedError
from pipeline.index.kg_index import KGIndex, RefreshResult, assertion_text, entity_label
from pipeline.kgcl.parser import ParsedChange, parse_change_request
from pipeline.models import (
    IRI,
    AddAnnotation,
    AddAssertion,
    Assertion,
    AssertionId,
    AssertionStatus,
    Change,
    ChangeRequest,
    CreateEntity,
    DeleteEntity,
    EntityAnnotation,
    EntityId,
    EntityRef,
    LiteralValue,
    Ontology,
    OntologyProperty,
    PropertyKind,
    RemoveAnnotation,
    RemoveAssertion,
    RenameEntity,
    RetypeEntity,
    Role,
    Triple,
    local_name,
    normalize_label,
)
from pipeline.store import rules
from pipeline.store.base import ROLE_RIGHTS, GraphStore

# --------------------------------------------------------------------------- vocabulary

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OIO = "http://www.geneontology.org/formats/oboInOwl#"
OBO = "http://purl.obolibrary.org/obo/"

RDF_TYPE = RDF + "type"
OWL_THING = OWL + "Thing"
DEPRECATED = OWL + "deprecated"
REPLACED_BY = OBO + "IAO_0100001"
DEFINITION = OBO + "IAO_0000115"
IN_SUBSET = OIO + "inSubset"
#: synonym scope → oboInOwl property; a synonym without a scope is ``oboInOwl:hasSynonym``,
#: as when the same command is applied to an ontology file
SYNONYM_SCOPES: dict[str | None, str] = {
    "exact": OIO + "hasExactSynonym", "narrow": OIO + "hasNarrowSynonym",
    "broad": OIO + "hasBroadSynonym", "related": OIO + "hasRelatedSynonym",
    None: OIO + "hasSynonym"}

#: prefixes a command may use without declaring them (KGCL has no prefix declarations)
PREFIXES: dict[str, str] = {"rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "oboInOwl": OIO,
                            "obo": OBO, "IAO": OBO + "IAO_",
                            "skos": "http://www.w3.org/2004/02/skos/core#",
                            "dcterms": "http://purl.org/dc/terms/"}

_LITERAL = re.compile(r"""^(?P<q>'''|\"\"\"|'|")(?P<v>.*)(?P=q)"""
                      r"""(?:@(?P<lang>[A-Za-z][\w-]*)|\^\^(?P<dt>\S+))?$""", re.S)

#: a store primitive (what one command compiles to, one or two of them)
Primitive = Change


def expand(curie: str) -> str:
    """A CURIE with a known prefix as its IRI; anything else unchanged (``<IRI>`` brackets
    dropped)."""
    text = curie.strip()
    if text.startswith("<") and text.endswith(">"):
        return text[1:-1]
    prefix, sep, rest = text.partition(":")
    if sep and not rest.startswith("//") and prefix in PREFIXES:
        return PREFIXES[prefix] + rest
    return text


def parse_value(text: str) -> tuple[str, str | None]:
    """A KGCL value as (text, datatype IRI or None): ``'x'``, ``"x"@en``, ``"1834"^^xsd:gYear``
    or a bare token."""
    raw = text.strip()
    m = _LITERAL.match(raw)
    if m is None:
        return raw, None
    return m.group("v"), expand(m.group("dt")) if m.group("dt") else None


def value_of(change: object, name: str, datatype_field: str) -> tuple[str, str | None]:
    """A value of a parsed command with its datatype. The parser may split a literal into its
    text and a ``*_datatype`` field, or leave it whole (``"1834"^^xsd:gYear``); both read the
    same here."""
    text = str(getattr(change, name, "") or "")
    datatype = getattr(change, datatype_field, None)
    if datatype:
        return text.strip(), expand(str(datatype))
    return parse_value(text)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CompiledCommand:
    """One KGCL command and the store primitives it compiles to (one or two)."""

    parsed: ParsedChange
    changes: tuple[Primitive, ...]


@dataclass(frozen=True)
class CompiledRequest:
    """A whole request, checked against the store and compiled; ``entities`` and
    ``assertions`` hold what the request leaves of every object it touches (None: gone), the
    basis of the index's text prediction."""

    commands: tuple[CompiledCommand, ...]
    entities: Mapping[str, EntityRef | None] = field(default_factory=dict)
    assertions: Mapping[str, Assertion | None] = field(default_factory=dict)
    #: entities whose label or class the request changes (their assertions' texts change)
    relabelled: frozenset[str] = frozenset()

    @property
    def changes(self) -> list[Primitive]:
        return [c for cmd in self.commands for c in cmd.changes]


@dataclass(frozen=True)
class ApplyOutcome:
    """What applying a request did: commands, primitive changes, the store version it left,
    and what the index did (None without an index)."""

    commands: int
    changes: int
    version: int
    index: RefreshResult | None = None


# --------------------------------------------------------------------------- the workspace


class _Workspace:
    """The store as the commands compiled so far leave it, read lazily and never written.

    Entities and assertions the request touches are overlaid on the store's; a deleted one is
    None. Label lookups load the store's entities once (a request naming only ids never
    does)."""

    def __init__(self, store: GraphStore, ontology: Ontology) -> None:
        self.store = store
        self.ontology = ontology
        self.entities: dict[str, EntityRef | None] = {}  # changed by the request
        self.assertions: dict[str, Assertion | None] = {}  # changed by the request
        self.relabelled: set[str] = set()
        self._stored_entities: dict[str, EntityRef | None] = {}
        self._stored_assertions: dict[str, Assertion | None] = {}
        self._labels: dict[str, set[str]] | None = None
        self._notes: dict[str, set[tuple[str, str]]] = {}

    # ---- entities
    def prefetch(self, ids: Iterable[str]) -> None:
        wanted = sorted({i for i in ids if i and i not in self._stored_entities})
        if not wanted:
            return
        found = self.store.get_entities([EntityId(i) for i in wanted])
        for i in wanted:
            self._stored_entities[i] = found.get(EntityId(i))

    def entity(self, eid: str) -> EntityRef | None:
        if eid in self.entities:
            return self.entities[eid]
        if eid not in self._stored_entities:
            self.prefetch([eid])
        return self._stored_entities[eid]

    def by_label(self, label: str) -> list[EntityRef]:
        if self._labels is None:
            self._labels = {}
            for stored in self.store.entities():
                self._stored_entities.setdefault(stored.id, stored)
                self._labels.setdefault(normalize_label(stored.label), set()).add(stored.id)
        want = normalize_label(label)
        base = self._labels.get(want, set())
        out = []
        for i in sorted(set(base) | set(self.entities)):
            e = self.entity(i)
            if e is not None and normalize_label(e.label) == want:
                out.append(e)
        if out:
            return out
        # no entity has the label now: the one that had it when the request began (renamed
        # by an earlier command), as the author saw the graph when writing the request
        return [e for i in sorted(base) if (e := self.entity(i)) is not None]

    def set_entity(self, entity: EntityRef, *, relabel: bool = False) -> None:
        self.entities[entity.id] = entity
        if relabel:
            self.relabelled.add(entity.id)
        # assertions this request already holds mention the entity as it was: refresh them
        for aid, a in list(self.assertions.items()):
            if a is not None and entity.id in _entity_ids(a):
                self.assertions[aid] = _with_entity(a, entity)

    def drop_entity(self, eid: str) -> None:
        self.entities[eid] = None
        self._notes[eid] = set()

    # ---- assertions
    def assertion(self, aid: str) -> Assertion | None:
        if aid in self.assertions:
            return self.assertions[aid]
        if aid not in self._stored_assertions:
            self._stored_assertions[aid] = self.store.get_assertion(AssertionId(aid))
        stored = self._stored_assertions[aid]
        return None if stored is None else self._current(stored)

    def _current(self, a: Assertion) -> Assertion:
        """A stored assertion with the entities as the request has left them."""
        for eid in _entity_ids(a):
            e = self.entities.get(eid)
            if e is not None:
                a = _with_entity(a, e)
        return a

    def neighbours(self, eid: str) -> list[Assertion]:
        """Assertions naming ``eid`` as the request leaves them."""
        found: dict[str, Assertion] = {}
        for a in self.store.neighbours(EntityId(eid)):
            self._stored_assertions.setdefault(a.id, a)
            found[a.id] = a
        for aid, changed in self.assertions.items():
            if changed is None:
                found.pop(aid, None)
            elif eid in _entity_ids(changed):
                found[aid] = changed
        return [self._current(found[k]) if k not in self.assertions else found[k]
                for k in sorted(found)]

    # ---- annotations
    def notes(self, eid: str) -> set[tuple[str, str]]:
        if eid not in self._notes:
            self._notes[eid] = {(a.property, a.value)
                                for a in self.store.annotations(EntityId(eid))}
        return self._notes[eid]

    def values(self, eid: str, prop: str) -> list[str]:
        return sorted(v for p, v in self.notes(eid) if p == prop)

    def obsolete(self, eid: str) -> bool:
        return (DEPRECATED, "true") in self.notes(eid)

    def replaced(self, eid: str) -> list[str]:
        """Entities that name ``eid`` as their replacement, as the request leaves them."""
        named = {a.entity_id for a in self.store.annotations()
                 if a.property == REPLACED_BY and a.value == eid} | set(self._notes)
        return sorted(i for i in named
                      if self.entity(i) is not None and (REPLACED_BY, eid) in self.notes(i))


def _entity_ids(a: Assertion) -> set[str]:
    obj = a.triple.object
    return {a.triple.subject.id} | ({obj.id} if isinstance(obj, EntityRef) else set())


def _with_entity(a: Assertion, e: EntityRef) -> Assertion:
    t = a.triple
    subject = e if t.subject.id == e.id else t.subject
    obj = e if isinstance(t.object, EntityRef) and t.object.id == e.id else t.object
    if subject is t.subject and obj is t.object:
        return a
    return a.model_copy(update={"triple": t.model_copy(update={"subject": subject,
                                                                "object": obj})})


# --------------------------------------------------------------------------- the compiler


class _Compiler:
    """Turns one parsed command at a time into primitives, updating the workspace."""

    def __init__(self, ws: _Workspace) -> None:
        self.ws = ws
        self.onto = ws.ontology

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
            raise self.fail(pc, f"{text!r} is not a property of the ontology")
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

    def curated(self, subject: EntityRef, prop: OntologyProperty,
                obj: EntityRef | LiteralValue) -> Assertion:
        """A curated assertion: confidence 1, draft (certification is a separate, recorded
        step), no provenance (no document stated it)."""
        return Assertion.of(Triple(subject=subject, predicate=prop.iri, object=obj),
                            confidence=1.0, provenance=(), status=AssertionStatus.DRAFT)

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
        self.ws.set_entity(ent.model_copy(update={"label": new}), relabel=True)
        return [RenameEntity(entity_id=ent.id, new_label=new, kgcl=pc.text)]

    def _NodeCreation(self, pc: ParsedChange, ch: object) -> list[Primitive]:  # noqa: N802
        eid = expand(str(getattr(ch, "about_node", "") or "").strip())
        label = str(getattr(ch, "name", "") or "").strip()
        if not eid or not label:
            raise self.fail(pc, "create node needs an id and a label")
        if self.ws.entity(eid) is not None:
            raise self.fail(pc, f"an entity {eid} already exists")
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
        obj = self.target(pc, prop, ch, "object", live=True)
        return [self.add(pc, self.curated(subject, prop, obj))]

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
        return [self.remove(pc, gone), self.add(pc, self.curated(subject, new,
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
        return [self.remove(pc, gone), self.add(pc, self.curated(subject, prop, new))]

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
            assert isinstance(gone.triple.object, LiteralValue)
            value = LiteralValue(value=new, datatype=IRI(new_dt or gone.triple.object.datatype))
            return [self.remove(pc, gone), self.add(pc, self.curated(ent, prop, value))]
        return [self.note(pc, ent.id, iri, old, add=False),
                self.note(pc, ent.id, iri, new, add=True)]


def _references(pc: ParsedChange) -> list[str]:
    """Every id-like reference of a command, to fetch the entities in one read."""
    ch = pc.change
    refs = [getattr(ch, n, None) for n in ("about_node", "subject", "object", "old_value",
                                           "new_value", "has_direct_replacement")]
    edge = getattr(ch, "about_edge", None)
    if edge is not None:
        refs += [getattr(edge, "subject", None), getattr(edge, "object", None)]
    return [expand(str(r)) for r in refs if isinstance(r, str) and r and " " not in r]


def compile_request(request: str | Sequence[ParsedChange], store: GraphStore,
                    ontology: Ontology) -> CompiledRequest:
    """Parse (if text) and compile a request against ``store``, command by command, each
    seeing what the earlier ones did. Raises ``ChangeRequestError`` naming the line on the
    first command that cannot apply; reads only, writes nothing."""
    parsed = parse_change_request(request) if isinstance(request, str) else list(request)
    ws = _Workspace(store, ontology)
    ws.prefetch(r for pc in parsed for r in _references(pc))
    compiler = _Compiler(ws)
    commands = tuple(CompiledCommand(pc, compiler.compile(pc)) for pc in parsed)
    return CompiledRequest(commands, entities=dict(ws.entities), assertions=dict(ws.assertions),
                           relabelled=frozenset(ws.relabelled))


def compile_changes(parsed: Sequence[ParsedChange], store: GraphStore,
                    ontology: Ontology) -> list[Primitive]:
    """The primitives a parsed request compiles to (see ``compile_request``)."""
    return compile_request(parsed, store, ontology).changes


# --------------------------------------------------------------------------- applying


def check_may_change(store: GraphStore, *, actor: str, role: str, target: str,
                     changes: Sequence[Primitive] = ()) -> None:
    """Refuse (and audit the refusal) an actor whose role may not make ``changes`` (or no
    change at all, when none are given yet). The store's own check stays the last word; this
    one records who tried."""
    try:
        if role not in ROLE_RIGHTS:
            rules.check_rights([], actor=actor, role=role)
        if not changes and not ROLE_RIGHTS[role]:  # type: ignore[index]
            raise PermissionDeniedError(f"{actor!r} (role {role}) may not change the knowledge "
                                        "graph; nothing was changed")
        rules.check_rights(changes, actor=actor, role=role)
    except PermissionDeniedError as exc:
        store.record_audit([rules.refusal(actor=actor, role=role, target=target,
                                          detail=str(exc))])
        raise


class _PrimedEmbedder(Embedder):
    """The index's embedder with vectors computed ahead: texts embedded before the store
    committed are served from memory, anything unforeseen goes to the real embedder."""

    def __init__(self, inner: Embedder, primed: Mapping[str, np.ndarray]) -> None:
        self.inner = inner
        self.primed = dict(primed)

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.primed]
        if missing:
            fresh = np.asarray(self.inner.embed(missing), dtype=np.float32)
            self.primed.update(zip(missing, fresh, strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.primed[t] for t in texts]).astype(np.float32)


def predicted_texts(compiled: CompiledRequest, store: GraphStore, index: KGIndex) -> list[str]:
    """The index texts the request will create or change, computed from the store before it
    commits: entity rows of created/renamed/retyped entities, assertion rows of new edges and
    of every edge naming a renamed or retyped entity. Texts the index already holds for the
    same row are left out (they will not be embedded again)."""
    final = compiled.entities
    onto = index.ontology
    texts: list[str] = []

    def current(a: Assertion) -> Assertion:
        for eid in _entity_ids(a):
            e = final.get(eid)
            if e is not None:
                a = _with_entity(a, e)
        return a

    def want(kind: str, kgid: str, text: str) -> None:
        row = index.find(kind, kgid)  # type: ignore[arg-type]
        if row is None or row.text != text:
            texts.append(text)

    for eid, e in final.items():
        if e is not None:
            want("entity", eid, entity_label(e, onto))
    seen: set[str] = set()
    for aid, a in compiled.assertions.items():
        seen.add(aid)
        if a is not None:
            want("assertion", aid, assertion_text(current(a), onto))
    for eid in sorted(compiled.relabelled):
        if final.get(eid) is None:
            continue
        for a in store.neighbours(EntityId(eid)):
            if a.id not in seen:
                seen.add(a.id)
                want("assertion", a.id, assertion_text(current(a), onto))
    return list(dict.fromkeys(texts))


def apply_compiled(compiled: CompiledRequest, store: GraphStore, *, actor: str, role: Role,
                   index: KGIndex | None = None,
                   request: ChangeRequest | None = None) -> ApplyOutcome:
    """Apply a compiled request in one store transaction and bring ``index`` along (see
    ``apply_primitives``)."""
    return apply_primitives(compiled.changes, store, actor=actor, role=role, index=index,
                            request=request, prediction=compiled,
                            commands=len(compiled.commands))


def apply_primitives(changes: Sequence[Primitive], store: GraphStore, *, actor: str,
                     role: Role, index: KGIndex | None = None,
                     request: ChangeRequest | None = None,
                     prediction: CompiledRequest | None = None,
                     commands: int | None = None) -> ApplyOutcome:
    """Apply ``changes`` in one store transaction and bring ``index`` along.

    With an index: it is first brought up to the store's version if it was behind (so the
    delta below is exact), the texts ``prediction`` says the changes will create are
    embedded, and only then does the store commit; the index then takes the delta of what
    the changes touched (a delta for exactly this commit, or a diff when another writer
    committed meanwhile), embedding nothing more. A failure before the commit leaves store
    and index as they were."""
    n = len(changes) if commands is None else commands
    if index is None:
        store.apply_changes(changes, actor=actor, role=role, request=request)
        return ApplyOutcome(n, len(changes), store.version())
    inner = index.embedder
    if inner is None:
        raise IndexError_("the index has no embedder: load it with one before applying "
                          "changes through it; nothing was changed")
    rules.check_rights(changes, actor=actor, role=role)  # before any embedding work
    if index.is_stale(store):
        index.sync(store)
    texts = predicted_texts(prediction, store, index) if prediction is not None else []
    primed = _PrimedEmbedder(inner, {})
    if texts:
        primed.embed(texts)  # an embedder failure raises here, before the store is written
    index.embedder = primed
    try:
        before = store.version()
        store.apply_changes(changes, actor=actor, role=role, request=request)
        after = store.version()
        try:
            if index.version == before and after == before + 1:
                result = index.apply_delta(index.delta_for_changes(store, changes), after)
            else:
                result = index.sync(store)
        except Exception as exc:
            raise IndexError_(
                f"the store committed the changes (version {after}) but the index could not "
                f"follow: {exc}. The index is behind the store, which every reader detects; "
                "refresh it (it catches up by a delta)") from exc
    finally:
        index.embedder = inner
    return ApplyOutcome(n, len(changes), after, result)


def apply_request_text(request: str, store: GraphStore, ontology: Ontology, *, actor: str,
                       role: Role, index: KGIndex | None = None) -> ApplyOutcome:
    """Parse, check, compile and apply a change request directly (no review), atomically
    across store and index. A refusal for the actor's role is audited; an invalid request
    raises ``ChangeRequestError`` and changes nothing (not even the audit log)."""
    check_may_change(store, actor=actor, role=role, target="change request")
    compiled = compile_request(request, store, ontology)
    check_may_change(store, actor=actor, role=role, target="change request",
                     changes=compiled.changes)
    return apply_compiled(compiled, store, actor=actor, role=role, index=index)


def apply_to_store(request: str, store: GraphStore, ontology: Ontology, *, actor: str,
                   role: Role, dry_run: bool = False, index: KGIndex | None = None) -> int:
    """Parse, resolve and apply a change request atomically; returns the number of commands
    applied (or that would be, with ``dry_run``, which writes nothing at all)."""
    if dry_run:
        return len(compile_request(request, store, ontology).commands)
    return apply_request_text(request, store, ontology, actor=actor, role=role,
                              index=index).commands


__all__ = ["DEFINITION", "DEPRECATED", "IN_SUBSET", "OWL_THING", "REPLACED_BY",
           "SYNONYM_SCOPES", "ApplyOutcome", "CompiledCommand", "CompiledRequest",
           "apply_compiled", "apply_primitives", "apply_request_text", "apply_to_store",
           "check_may_change", "compile_changes", "compile_request", "expand", "parse_value",
           "predicted_texts", "value_of"]
