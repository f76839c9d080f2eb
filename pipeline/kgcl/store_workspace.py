"""The store side of KGCL: the vocabulary commands use on the knowledge graph, and the
workspace, the store as the commands compiled so far leave it.

Entities and assertions a request touches are overlaid on the store's, so every command is
checked against what the earlier commands of the same request did; nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.models import (
    Assertion,
    AssertionId,
    Change,
    EntityId,
    EntityRef,
    Ontology,
    normalize_label,
)
from pipeline.store.base import GraphStore

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


# --------------------------------------------------------------------------- the workspace


class Workspace:
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
            if a is not None and entity.id in entity_ids(a):
                self.assertions[aid] = with_entity(a, entity)

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
        for eid in entity_ids(a):
            e = self.entities.get(eid)
            if e is not None:
                a = with_entity(a, e)
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
            elif eid in entity_ids(changed):
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


def entity_ids(a: Assertion) -> set[str]:
    """The ids of the entities an assertion names: its subject, and its object if an
    entity."""
    obj = a.triple.object
    return {a.triple.subject.id} | ({obj.id} if isinstance(obj, EntityRef) else set())


def with_entity(a: Assertion, e: EntityRef) -> Assertion:
    """The assertion with ``e`` in place of the entity of the same id that it names (the
    assertion itself when it names none)."""
    t = a.triple
    subject = e if t.subject.id == e.id else t.subject
    obj = e if isinstance(t.object, EntityRef) and t.object.id == e.id else t.object
    if subject is t.subject and obj is t.object:
        return a
    return a.model_copy(update={"triple": t.model_copy(update={"subject": subject,
                                                                "object": obj})})


__all__ = ["DEFINITION", "DEPRECATED", "IN_SUBSET", "OWL_THING", "PREFIXES", "RDF_TYPE",
           "REPLACED_BY", "SYNONYM_SCOPES", "XSD", "Primitive", "Workspace", "entity_ids",
           "expand", "parse_value", "value_of", "with_entity"]
