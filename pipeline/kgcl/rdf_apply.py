"""Applying KGCL change requests to RDF graphs: OWL ontologies written the OBO-in-OWL way.

Each command changes exactly what it names and nothing else (kgcl-rdflib, the reference
implementation, obsoletes by touching hundreds of other classes, deletes an existential
restriction by removing every triple of every anonymous class, and changes the relationship of
a restriction by adding the new one beside the old). The conventions:

- labels are ``rdfs:label``; definitions ``IAO:0000115``; synonyms ``oboInOwl:hasExactSynonym``
  / ``hasBroadSynonym`` / ``hasNarrowSynonym`` / ``hasRelatedSynonym`` (``hasSynonym`` without a
  scope); subsets ``oboInOwl:inSubset``;
- ``obsolete X`` adds ``owl:deprecated true``, prefixes the labels with ``obsolete `` and, with a
  replacement, adds ``IAO:0100001`` (replaced by). It also makes X a subclass of
  ``oboInOwl:ObsoleteClass`` when that is the graph's convention: when its other obsolete
  classes are, or when it has none (the KGCL reference examples expect it). It keeps X's
  edges (dropping them is a separate, visible change). ``unobsolete`` undoes all of that and
  drops what only an obsolete class may carry: ``oboInOwl:consider`` and ``IAO:0000231``
  (obsolescence reason);
- an edge ``X rdfs:subClassOf Y`` is that triple; an edge ``X P Y`` between classes, with P an
  object property, is the existential restriction ``X ⊑ P some Y`` (an anonymous
  ``owl:Restriction``); with P an annotation or datatype property, an RDF/RDFS/OWL/oboInOwl
  property, or X not a class, it is the plain triple. ``change relationship`` on a restriction
  changes its ``owl:onProperty`` in place; ``move`` changes its ``owl:someValuesFrom``;
- a value that is replaced (rename, change synonym / definition / annotation) keeps its
  language or datatype unless the command gives one; its axiom annotations (``owl:Axiom`` with
  ``owl:annotatedSource`` …: the xrefs of a definition, say) follow it; a value that is
  removed takes its axiom annotations with it;
- a new string value follows the graph's habit for that property (``xsd:string`` or plain).

A request applies atomically: the commands run in order against the graph, every triple added
or removed is journalled, and the first command that cannot apply rolls the journal back and
raises ``ChangeRequestError`` naming its line and the problem. Adding what is already there or
removing what is not is a rejection too: a command that would change nothing is a mistake in
the request, not a success.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeGuard

from kgcl_schema.datamodel.kgcl import (
    AddNodeToSubset,
    Change,
    ClassCreation,
    EdgeCreation,
    EdgeDeletion,
    NewSynonym,
    NewTextDefinition,
    NodeAnnotationChange,
    NodeCreation,
    NodeDeepening,
    NodeDeletion,
    NodeMove,
    NodeObsoletion,
    NodeObsoletionWithDirectReplacement,
    NodeRename,
    NodeShallowing,
    NodeTextDefinitionChange,
    NodeUnobsoletion,
    PlaceUnder,
    PredicateChange,
    RemoveNodeFromSubset,
    RemoveSynonym,
    RemoveTextDefinition,
    RemoveUnder,
    SynonymReplacement,
)
from rdflib import OWL, RDF, RDFS, XSD, BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.term import Node

from pipeline.errors import ChangeRequestError
from pipeline.kgcl.parser import ParsedChange, parse_change_request
from pipeline.kgcl.render import render_id
from pipeline.kgcl.vocab import (
    CONSIDER,
    DEFAULT_PREFIXES,
    DEFINITION,
    IN_SUBSET,
    OBO,
    OBSOLESCENCE_REASON,
    OBSOLETE_CLASS,
    OIO,
    REPLACED_BY,
    SYNONYM_PREDICATES,
    PrefixMap,
)

RdfTriple = tuple[Node, Node, Node]

_DIRECT_NAMESPACES = tuple(DEFAULT_PREFIXES[p] for p in (
    "rdf", "rdfs", "owl", "xsd", "skos", "dc", "dcterms", "oboInOwl"))
_RESTRICTION_PREDICATES = frozenset({RDF.type, OWL.onProperty, OWL.someValuesFrom})
_OBSOLETE_PREFIX = "obsolete "


@dataclass(frozen=True)
class GraphApplyResult:
    """What a request did to a graph: the triples it added and removed (net), per request."""

    added: frozenset[RdfTriple]
    removed: frozenset[RdfTriple]
    commands: int
    dry_run: bool = False


class _Reject(Exception):
    """A command cannot apply; the message says why (the driver adds line and text)."""


def _reject(message: str) -> NoReturn:
    raise _Reject(message)


@dataclass
class _Journal:
    """Every triple actually added to or removed from the graph, in order, for rollback."""

    graph: Graph
    log: list[tuple[bool, RdfTriple]] = field(default_factory=list)

    def add(self, triple: RdfTriple) -> None:
        if triple not in self.graph:
            self.graph.add(triple)
            self.log.append((True, triple))

    def remove(self, triple: RdfTriple) -> None:
        if triple in self.graph:
            self.graph.remove(triple)
            self.log.append((False, triple))

    def rollback(self) -> None:
        for added, triple in reversed(self.log):
            if added:
                self.graph.remove(triple)
            else:
                self.graph.add(triple)
        self.log.clear()

    def net(self) -> tuple[frozenset[RdfTriple], frozenset[RdfTriple]]:
        added: set[RdfTriple] = set()
        removed: set[RdfTriple] = set()
        for was_added, triple in self.log:
            if was_added:
                if triple in removed:
                    removed.discard(triple)
                else:
                    added.add(triple)
            elif triple in added:
                added.discard(triple)
            else:
                removed.add(triple)
        return frozenset(added), frozenset(removed)


def _matches(value: Node, text: str, language: str | None) -> TypeGuard[Literal]:
    """A literal with this text (and this language, when one is asked for)."""
    return (isinstance(value, Literal) and str(value) == text
            and (language is None or value.language == language))


def _is_true(value: Node) -> bool:
    return isinstance(value, Literal) and str(value).strip().lower() in ("true", "1")


class GraphEditor:
    """Applies parsed KGCL changes to one graph, journalling every triple it touches."""

    def __init__(self, graph: Graph, prefixes: PrefixMap | None = None) -> None:
        self.graph = graph
        self.prefixes = prefixes or PrefixMap.for_graph(graph)
        self.journal = _Journal(graph)
        self._style: dict[URIRef | None, URIRef | None] = {}

    # ------------------------------------------------------------------ the request

    def apply(self, parsed: Sequence[ParsedChange], *, dry_run: bool = False,
              hold: bool = False) -> GraphApplyResult:
        """Apply every change or none; with ``dry_run`` report the delta and undo it; with
        ``hold`` keep the journal so that ``rollback`` can undo it later."""
        for pc in parsed:
            try:
                self.apply_change(pc.change)
            except _Reject as exc:
                self.journal.rollback()
                raise ChangeRequestError(f"line {pc.line}: {pc.text!r}: {exc}") from None
            except Exception:
                self.journal.rollback()
                raise
        added, removed = self.journal.net()
        if dry_run:
            self.journal.rollback()
        elif not hold:
            self.journal.log.clear()
        return GraphApplyResult(added=added, removed=removed, commands=len(parsed),
                                dry_run=dry_run)

    def apply_change(self, change: Change) -> None:
        handler = _HANDLERS.get(type(change))
        if handler is None:
            _reject(f"{type(change).__name__} is not supported")
        handler(self, change)

    # ------------------------------------------------------------------ references

    def show(self, node: Node) -> str:
        if isinstance(node, URIRef):
            return render_id(str(node), self.prefixes)
        return node.n3()

    def iri(self, value: str) -> URIRef:
        """An id (CURIE or IRI) as an IRI."""
        expanded = self.prefixes.expand(value)
        if expanded is None:
            _reject(f"{value!r} is not a CURIE or IRI this graph can expand")
        return URIRef(expanded)

    def resolve(self, value: str | None, kind: str | None = None) -> URIRef:
        """A node named by id or by quoted label (an exact label of exactly one entity)."""
        if not value:
            _reject("the command names no entity")
        if kind == "literal":
            _reject(f'a literal ("{value}") cannot name an entity')
        if kind == "label" or (len(value) >= 2 and value[0] == value[-1] == "'"):
            label = value[1:-1] if kind != "label" else value
            return self.by_label(label)
        return self.iri(value)

    def by_label(self, label: str) -> URIRef:
        found = sorted({s for s, o in self.graph.subject_objects(RDFS.label)
                        if isinstance(s, URIRef) and isinstance(o, Literal) and str(o) == label})
        if not found:
            _reject(f"no entity is labelled {label!r}")
        if len(found) > 1:
            _reject(f"the label {label!r} is ambiguous ("
                    f"{', '.join(self.show(s) for s in found)}); use the id")
        return found[0]

    def exists(self, node: Node) -> bool:
        return next(iter(self.graph.triples((node, None, None))), None) is not None

    def existing(self, value: str | None, kind: str | None = None) -> URIRef:
        node = self.resolve(value, kind)
        if not self.exists(node):
            _reject(f"unknown entity {self.show(node)}")
        return node

    def new_id(self, value: str | None, kind: str | None) -> URIRef:
        if kind in ("label", "literal"):
            _reject("a new entity needs an id (CURIE or <IRI>), not a label")
        node = self.resolve(value, kind)
        if self.exists(node):
            _reject(f"{self.show(node)} already exists")
        return node

    # ------------------------------------------------------------------ values

    def string_style(self, predicate: URIRef | None) -> URIRef | None:
        """``xsd:string`` when most language-less strings of this property (or, when it has
        none, of the whole graph) are typed, else None (plain literals)."""
        if predicate not in self._style:
            typed = plain = 0
            for o in self.graph.objects(None, predicate):
                if isinstance(o, Literal) and not o.language:
                    if o.datatype == XSD.string:
                        typed += 1
                    elif o.datatype is None:
                        plain += 1
            if typed == plain == 0:
                self._style[predicate] = self.string_style(None) if predicate else None
            else:
                self._style[predicate] = XSD.string if typed > plain else None
        return self._style[predicate]

    def new_literal(self, text: str, predicate: URIRef, language: str | None = None,
                    datatype: str | None = None) -> Literal:
        if language:
            return Literal(text, lang=language)
        if datatype:
            return Literal(text, datatype=self.iri(datatype))
        return Literal(text, datatype=self.string_style(predicate))

    @staticmethod
    def replacement_literal(old: Node, text: str, language: str | None = None,
                            datatype: URIRef | None = None) -> Literal:
        """A new value in the old one's language or datatype unless the command says."""
        if language:
            return Literal(text, lang=language)
        if datatype is not None:
            return Literal(text, datatype=datatype)
        if isinstance(old, Literal):
            if old.language:
                return Literal(text, lang=old.language)
            return Literal(text, datatype=old.datatype)
        return Literal(text)

    # ------------------------------------------------------------------ triples

    def axioms(self, s: Node, p: Node, o: Node) -> list[Node]:
        """The ``owl:Axiom`` annotations of one assertion."""
        g = self.graph
        return [ax for ax in g.subjects(OWL.annotatedSource, s)
                if (ax, OWL.annotatedProperty, p) in g and (ax, OWL.annotatedTarget, o) in g]

    def add(self, s: Node, p: Node, o: Node) -> None:
        self.journal.add((s, p, o))

    def remove_assertion(self, s: Node, p: Node, o: Node) -> None:
        axioms = self.axioms(s, p, o)
        self.journal.remove((s, p, o))
        for ax in axioms:
            self.remove_tree(ax)

    def replace_object(self, s: Node, p: Node, old: Node, new: Node) -> None:
        for ax in self.axioms(s, p, old):
            self.journal.remove((ax, OWL.annotatedTarget, old))
            self.journal.add((ax, OWL.annotatedTarget, new))
        self.journal.remove((s, p, old))
        self.journal.add((s, p, new))

    def replace_predicate(self, s: Node, old: Node, new: Node, o: Node) -> None:
        for ax in self.axioms(s, old, o):
            self.journal.remove((ax, OWL.annotatedProperty, old))
            self.journal.add((ax, OWL.annotatedProperty, new))
        self.journal.remove((s, old, o))
        self.journal.add((s, new, o))

    def referenced(self, node: Node) -> bool:
        return next(iter(self.graph.triples((None, None, node))), None) is not None

    def remove_tree(self, node: Node) -> None:
        """A blank node and every blank node only it refers to (an anonymous class, a list,
        an axiom annotation)."""
        for s, p, o in list(self.graph.triples((node, None, None))):
            self.journal.remove((s, p, o))
            if isinstance(o, BNode) and not self.referenced(o):
                self.remove_tree(o)

    # ------------------------------------------------------------------ edges

    def restriction(self, node: Node) -> tuple[Node, Node] | None:
        """(property, filler) of a simple existential restriction ``P some Y`` that exactly
        one triple refers to; None for anything else."""
        if not isinstance(node, BNode):
            return None
        outgoing = list(self.graph.predicate_objects(node))
        if len(outgoing) != 3 or {p for p, _ in outgoing} != _RESTRICTION_PREDICATES:
            return None
        values = dict(outgoing)
        if values[RDF.type] != OWL.Restriction or not isinstance(values[OWL.someValuesFrom],
                                                                  URIRef):
            return None
        if len(list(self.graph.triples((None, None, node)))) != 1:
            return None
        return values[OWL.onProperty], values[OWL.someValuesFrom]

    def edge_forms(self, s: Node, p: Node, o: Node) -> list[Node | None]:
        """How the edge ``s p o`` is present: None for the plain triple, a blank node for
        each restriction ``s ⊑ p some o``."""
        forms: list[Node | None] = []
        if (s, p, o) in self.graph:
            forms.append(None)
        if p != RDFS.subClassOf:
            forms += [b for b in self.graph.objects(s, RDFS.subClassOf)
                      if self.restriction(b) == (p, o)]
        return forms

    def is_direct(self, p: Node, s: Node) -> bool:
        """Whether ``create edge s p o`` is the plain triple rather than a restriction."""
        if p == RDFS.subClassOf or str(p).startswith(_DIRECT_NAMESPACES):
            return True
        if p in (DEFINITION, REPLACED_BY):
            return True
        ptypes = set(self.graph.objects(p, RDF.type))
        if ptypes & {OWL.AnnotationProperty, OWL.DatatypeProperty}:
            return True
        stypes = set(self.graph.objects(s, RDF.type))
        return bool(stypes) and not stypes & {OWL.Class, RDFS.Class}

    def create_edge(self, s: Node, p: Node, o: Node) -> None:
        if self.is_direct(p, s):
            self.add(s, p, o)
            return
        b = BNode()
        self.add(s, RDFS.subClassOf, b)
        self.add(b, RDF.type, OWL.Restriction)
        self.add(b, OWL.onProperty, p)
        self.add(b, OWL.someValuesFrom, o)

    def remove_restriction(self, s: Node, b: Node) -> None:
        self.remove_assertion(s, RDFS.subClassOf, b)
        self.remove_tree(b)

    def ancestors(self, node: Node) -> set[Node]:
        seen: set[Node] = set()
        todo = [node]
        while todo:
            for parent in self.graph.objects(todo.pop(), RDFS.subClassOf):
                if isinstance(parent, URIRef) and parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    # ------------------------------------------------------------------ obsoletion

    def is_obsolete(self, node: Node) -> bool:
        return any(_is_true(o) for o in self.graph.objects(node, OWL.deprecated))

    def obsolete_class_convention(self, node: Node) -> bool:
        others = [s for s, o in self.graph.subject_objects(OWL.deprecated)
                  if s != node and _is_true(o) and isinstance(s, URIRef)]
        if not others:
            return True
        return any((s, RDFS.subClassOf, OBSOLETE_CLASS) in self.graph for s in others)

    # ------------------------------------------------------------------ subsets

    def subset(self, name: str) -> URIRef:
        """A subset by CURIE, IRI or bare name (matched against the subsets in use)."""
        if ":" in name:
            return self.iri(name)
        g = self.graph
        known = set(g.objects(None, IN_SUBSET)) | set(
            g.subjects(RDFS.subPropertyOf, OIO["SubsetProperty"]))
        found = sorted(s for s in known if isinstance(s, URIRef)
                       and str(s).replace("#", "/").rsplit("/", 1)[-1] == name)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            _reject(f"the subset name {name!r} is ambiguous; use a CURIE or <IRI>")
        for onto in g.subjects(RDF.type, OWL.Ontology):
            text = str(onto)
            if text.startswith(str(OBO)) and text.endswith(".owl"):
                return URIRef(text[:-len(".owl")] + "#" + name)
        _reject(f"unknown subset {name!r}; use a CURIE or <IRI>")


# ---------------------------------------------------------------------- handlers


def _rename(ed: GraphEditor, c: NodeRename) -> None:
    node = (ed.existing(c.about_node, c.about_node_representation) if c.about_node
            else ed.by_label(c.old_value))
    labels = list(ed.graph.objects(node, RDFS.label))
    found = [o for o in labels if _matches(o, c.old_value, c.old_language)]
    if not found:
        have = ", ".join(repr(str(o)) for o in labels) or "nothing"
        _reject(f"{ed.show(node)} is labelled {have}, not {c.old_value!r}")
    if len(found) > 1:
        _reject(f"{ed.show(node)} has {len(found)} labels {c.old_value!r}; give the language")
    old = found[0]
    new = ed.replacement_literal(old, c.new_value, c.new_language)
    if new == old:
        _reject("the new label is the old one")
    ed.replace_object(node, RDFS.label, old, new)


def _create_node(ed: GraphEditor, c: NodeCreation) -> None:
    node = ed.new_id(c.about_node, c.about_node_representation)
    ed.add(node, RDFS.label, ed.new_literal(c.name, RDFS.label, c.language))


def _create_class(ed: GraphEditor, c: ClassCreation) -> None:
    node = ed.new_id(c.about_node, c.about_node_representation)
    ed.add(node, RDF.type, OWL.Class)


def _synonyms(ed: GraphEditor, node: Node, text: str, language: str | None,
              qualifier: str | None = None, any_scope: bool = True) -> list[tuple[URIRef, Node]]:
    preds = ([SYNONYM_PREDICATES[qualifier]] if qualifier or not any_scope
             else list(SYNONYM_PREDICATES.values()))
    return [(p, o) for p in preds for o in ed.graph.objects(node, p) if _matches(o, text, language)]


def _new_synonym(ed: GraphEditor, c: NewSynonym) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    pred = SYNONYM_PREDICATES[c.qualifier]
    if any(isinstance(o, Literal) and o.language == c.language
           for _, o in _synonyms(ed, node, c.new_value, c.language, c.qualifier,
                                 any_scope=False)):
        _reject(f"{ed.show(node)} already has this synonym")
    ed.add(node, pred, ed.new_literal(c.new_value, pred, c.language))


def _remove_synonym(ed: GraphEditor, c: RemoveSynonym) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    found = _synonyms(ed, node, c.old_value, c.language)
    if not found:
        _reject(f"{ed.show(node)} has no synonym {c.old_value!r}")
    for p, o in found:
        ed.remove_assertion(node, p, o)


def _change_synonym(ed: GraphEditor, c: SynonymReplacement) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    found = _synonyms(ed, node, c.old_value, c.language, c.qualifier)
    scope = f"{c.qualifier} " if c.qualifier else ""
    if not found:
        _reject(f"{ed.show(node)} has no {scope}synonym {c.old_value!r}")
    if len(found) > 1:
        _reject(f"{ed.show(node)} has {len(found)} synonyms {c.old_value!r}; give the scope "
                "or language")
    p, old = found[0]
    new = ed.replacement_literal(old, c.new_value)
    if new == old:
        _reject("the new synonym is the old one")
    if (node, p, new) in ed.graph:
        _reject(f"{ed.show(node)} already has the synonym {c.new_value!r}")
    ed.replace_object(node, p, old, new)


def _delete_node(ed: GraphEditor, c: NodeDeletion) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    for ax in list(ed.graph.subjects(OWL.annotatedSource, node)):
        ed.remove_tree(ax)
    for s, p, o in list(ed.graph.triples((node, None, None))):
        ed.journal.remove((s, p, o))
        if isinstance(o, BNode) and not ed.referenced(o):
            ed.remove_tree(o)


def _obsolete(ed: GraphEditor, c: NodeObsoletion) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    if ed.is_obsolete(node):
        _reject(f"{ed.show(node)} is already obsolete")
    replacement = None
    if c.has_direct_replacement:
        replacement = ed.existing(c.has_direct_replacement)
        if replacement == node:
            _reject("an entity cannot replace itself")
    if ed.obsolete_class_convention(node):
        ed.add(node, RDFS.subClassOf, OBSOLETE_CLASS)
    ed.add(node, OWL.deprecated, Literal(True))
    for label in list(ed.graph.objects(node, RDFS.label)):
        if isinstance(label, Literal) and not str(label).startswith(_OBSOLETE_PREFIX):
            ed.replace_object(node, RDFS.label, label,
                              ed.replacement_literal(label, _OBSOLETE_PREFIX + str(label)))
    if replacement is not None:
        ed.add(node, REPLACED_BY, replacement)


def _unobsolete(ed: GraphEditor, c: NodeUnobsoletion) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    if not ed.is_obsolete(node):
        _reject(f"{ed.show(node)} is not obsolete")
    for p in (OWL.deprecated, REPLACED_BY, CONSIDER, OBSOLESCENCE_REASON):
        for o in list(ed.graph.objects(node, p)):
            ed.remove_assertion(node, p, o)
    if (node, RDFS.subClassOf, OBSOLETE_CLASS) in ed.graph:
        ed.remove_assertion(node, RDFS.subClassOf, OBSOLETE_CLASS)
    for label in list(ed.graph.objects(node, RDFS.label)):
        text = str(label)
        if isinstance(label, Literal) and text.startswith(_OBSOLETE_PREFIX) and len(text) > 9:
            ed.replace_object(node, RDFS.label, label,
                              ed.replacement_literal(label, text[len(_OBSOLETE_PREFIX):]))


def _hierarchy(ed: GraphEditor, c: NodeDeepening | NodeShallowing, deeper: bool) -> None:
    edge = c.about_edge
    node = ed.existing(edge.subject, edge.subject_representation)
    old = ed.resolve(c.old_value, c.old_object_type)
    new = ed.resolve(c.new_value, c.new_object_type)
    if (node, RDFS.subClassOf, old) not in ed.graph:
        _reject(f"{ed.show(node)} is not a direct subclass of {ed.show(old)}")
    if new in (node, old):
        _reject(f"cannot move {ed.show(node)} under {ed.show(new)}")
    if deeper and old not in ed.ancestors(new):
        _reject(f"{ed.show(new)} is not below {ed.show(old)}; use move")
    if not deeper and new not in ed.ancestors(old):
        _reject(f"{ed.show(new)} is not above {ed.show(old)}; use move")
    if (node, RDFS.subClassOf, new) in ed.graph:
        _reject(f"{ed.show(node)} is already a subclass of {ed.show(new)}")
    if node in ed.ancestors(new):
        _reject(f"{ed.show(new)} is below {ed.show(node)}: the move would make a cycle")
    ed.replace_object(node, RDFS.subClassOf, old, new)


def _move(ed: GraphEditor, c: NodeMove) -> None:
    edge = c.about_edge
    node = ed.resolve(edge.subject, edge.subject_representation)
    pred = ed.resolve(edge.predicate, edge.predicate_representation)
    obj = ed.resolve(edge.object, edge.object_representation)
    old = ed.resolve(c.old_value, c.old_object_type)
    new = ed.resolve(c.new_value, c.new_object_type)
    if obj != old:
        _reject(f"the edge's object {ed.show(obj)} is not the old value {ed.show(old)}")
    forms = ed.edge_forms(node, pred, old)
    if not forms:
        _reject(f"no edge {ed.show(node)} {ed.show(pred)} {ed.show(old)}")
    if ed.edge_forms(node, pred, new):
        _reject(f"the edge {ed.show(node)} {ed.show(pred)} {ed.show(new)} already exists")
    for b in forms:
        if b is None:
            ed.replace_object(node, pred, old, new)
        else:
            ed.journal.remove((b, OWL.someValuesFrom, old))
            ed.journal.add((b, OWL.someValuesFrom, new))


def _change_relationship(ed: GraphEditor, c: PredicateChange) -> None:
    edge = c.about_edge
    node = ed.resolve(edge.subject, edge.subject_representation)
    obj = ed.resolve(edge.object, edge.object_representation)
    old = ed.resolve(c.old_value, c.old_value_type)
    new = ed.resolve(c.new_value, c.new_value_type)
    if old == new:
        _reject("the new relationship is the old one")
    forms = ed.edge_forms(node, old, obj)
    if not forms:
        _reject(f"no edge {ed.show(node)} {ed.show(old)} {ed.show(obj)}")
    if ed.edge_forms(node, new, obj):
        _reject(f"the edge {ed.show(node)} {ed.show(new)} {ed.show(obj)} already exists")
    for b in forms:
        if b is not None:  # a restriction
            if ed.is_direct(new, node):
                ed.remove_restriction(node, b)
                ed.add(node, new, obj)
            else:
                ed.journal.remove((b, OWL.onProperty, old))
                ed.journal.add((b, OWL.onProperty, new))
        elif old == RDFS.subClassOf and not ed.is_direct(new, node):
            ed.remove_assertion(node, old, obj)
            ed.create_edge(node, new, obj)
        else:
            ed.replace_predicate(node, old, new, obj)


def _annotation_value(ed: GraphEditor, c: NodeAnnotationChange, node: Node,
                      pred: Node) -> Node:
    g = ed.graph
    is_literal = (c.old_value_type in ("label", "literal") or c.old_language is not None
                  or c.old_datatype is not None)
    found: list[Node]
    if is_literal:
        dt = ed.iri(c.old_datatype) if c.old_datatype else None
        found = [o for o in g.objects(node, pred) if _matches(o, c.old_value, c.old_language)
                 and (dt is None or o.datatype == dt)]
        if not found and c.old_value_type == "label":
            entity = ed.by_label(c.old_value)
            found = [entity] if (node, pred, entity) in g else []
    else:
        entity = ed.resolve(c.old_value, c.old_value_type)
        found = [entity] if (node, pred, entity) in g else []
    if not found:
        _reject(f"{ed.show(node)} has no {ed.show(pred)} value {c.old_value!r}")
    if len(found) > 1:
        _reject(f"{ed.show(node)} has {len(found)} {ed.show(pred)} values {c.old_value!r}; "
                "give the language or datatype")
    return found[0]


def _change_annotation(ed: GraphEditor, c: NodeAnnotationChange) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    pred = ed.resolve(c.annotation_property, c.annotation_property_type)
    old = _annotation_value(ed, c, node, pred)
    new: Node
    if c.new_value_type == "literal" or c.new_language or c.new_datatype or (
            c.new_value_type == "label" and isinstance(old, Literal)):
        dt = ed.iri(c.new_datatype) if c.new_datatype else None
        if isinstance(old, Literal):
            new = ed.replacement_literal(old, c.new_value, c.new_language, dt)
        else:
            new = ed.new_literal(c.new_value, pred, c.new_language, c.new_datatype)
    else:
        new = ed.resolve(c.new_value, c.new_value_type)
    if new == old:
        _reject("the new value is the old one")
    if (node, pred, new) in ed.graph:
        _reject(f"{ed.show(node)} already has that {ed.show(pred)} value")
    ed.replace_object(node, pred, old, new)


def _definitions(ed: GraphEditor, node: Node) -> list[Node]:
    return [o for o in ed.graph.objects(node, DEFINITION) if isinstance(o, Literal)]


def _change_definition(ed: GraphEditor, c: NodeTextDefinitionChange) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    defs = _definitions(ed, node)
    found = [d for d in defs if _matches(d, c.old_value, None)] if c.old_value else defs
    if not defs:
        _reject(f"{ed.show(node)} has no definition; use add definition")
    if not found:
        _reject(f"the definition of {ed.show(node)} is not {c.old_value!r}")
    if len(found) > 1:
        _reject(f"{ed.show(node)} has {len(found)} definitions; say which (from '…')")
    new = ed.replacement_literal(found[0], c.new_value)
    if new == found[0]:
        _reject("the new definition is the old one")
    ed.replace_object(node, DEFINITION, found[0], new)


def _add_definition(ed: GraphEditor, c: NewTextDefinition) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    if _definitions(ed, node):
        _reject(f"{ed.show(node)} already has a definition; use change definition")
    ed.add(node, DEFINITION, ed.new_literal(c.new_value, DEFINITION))


def _remove_definition(ed: GraphEditor, c: RemoveTextDefinition) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    defs = _definitions(ed, node)
    if not defs:
        _reject(f"{ed.show(node)} has no definition")
    for d in defs:
        ed.remove_assertion(node, DEFINITION, d)


def _add_to_subset(ed: GraphEditor, c: AddNodeToSubset) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    subset = ed.subset(c.in_subset)
    if (node, IN_SUBSET, subset) in ed.graph:
        _reject(f"{ed.show(node)} is already in subset {c.in_subset}")
    ed.add(node, IN_SUBSET, subset)


def _remove_from_subset(ed: GraphEditor, c: RemoveNodeFromSubset) -> None:
    node = ed.existing(c.about_node, c.about_node_representation)
    subset = ed.subset(c.in_subset)
    if (node, IN_SUBSET, subset) not in ed.graph:
        _reject(f"{ed.show(node)} is not in subset {c.in_subset}")
    ed.remove_assertion(node, IN_SUBSET, subset)


def _edge_literal(ed: GraphEditor, c: EdgeCreation | EdgeDeletion, pred: URIRef) -> Literal:
    return ed.new_literal(c.object, pred, c.language, c.datatype)


def _create_edge(ed: GraphEditor, c: EdgeCreation) -> None:
    subj = ed.resolve(c.subject, c.subject_type)
    pred = ed.resolve(c.predicate, c.predicate_type)
    if c.object_type == "literal":
        lit = _edge_literal(ed, c, pred)
        if (subj, pred, lit) in ed.graph:
            _reject("the edge already exists")
        ed.add(subj, pred, lit)
        return
    obj = ed.resolve(c.object, c.object_type)
    if ed.edge_forms(subj, pred, obj):
        _reject(f"the edge {ed.show(subj)} {ed.show(pred)} {ed.show(obj)} already exists")
    ed.create_edge(subj, pred, obj)


def _delete_edge(ed: GraphEditor, c: EdgeDeletion) -> None:
    subj = ed.resolve(c.subject, c.subject_type)
    pred = ed.resolve(c.predicate, c.predicate_type)
    if c.object_type == "literal":
        dt = ed.iri(c.datatype) if c.datatype else None
        found = [o for o in ed.graph.objects(subj, pred)
                 if _matches(o, c.object, c.language) and (c.language or not o.language)
                 and (dt is None or o.datatype == dt)]
        if not found:
            _reject(f'no edge {ed.show(subj)} {ed.show(pred)} "{c.object}"')
        for o in found:
            ed.remove_assertion(subj, pred, o)
        return
    obj = ed.resolve(c.object, c.object_type)
    forms = ed.edge_forms(subj, pred, obj)
    if not forms:
        _reject(f"no edge {ed.show(subj)} {ed.show(pred)} {ed.show(obj)}")
    for b in forms:
        if b is None:
            ed.remove_assertion(subj, pred, obj)
        else:
            ed.remove_restriction(subj, b)


_HANDLERS: dict[type[Change], Any] = {
    NodeRename: _rename,
    NodeCreation: _create_node,
    ClassCreation: _create_class,
    NewSynonym: _new_synonym,
    RemoveSynonym: _remove_synonym,
    SynonymReplacement: _change_synonym,
    NodeDeletion: _delete_node,
    NodeObsoletion: _obsolete,
    NodeObsoletionWithDirectReplacement: _obsolete,
    NodeUnobsoletion: _unobsolete,
    NodeDeepening: lambda ed, c: _hierarchy(ed, c, deeper=True),
    NodeShallowing: lambda ed, c: _hierarchy(ed, c, deeper=False),
    NodeMove: _move,
    PredicateChange: _change_relationship,
    NodeAnnotationChange: _change_annotation,
    EdgeCreation: _create_edge,
    PlaceUnder: _create_edge,
    EdgeDeletion: _delete_edge,
    RemoveUnder: _delete_edge,
    NodeTextDefinitionChange: _change_definition,
    NewTextDefinition: _add_definition,
    RemoveTextDefinition: _remove_definition,
    AddNodeToSubset: _add_to_subset,
    RemoveNodeFromSubset: _remove_from_subset,
}


def apply_to_graph(graph: Graph, request: str | Sequence[ParsedChange], *,
                   prefixes: PrefixMap | None = None, dry_run: bool = False
                   ) -> GraphApplyResult:
    """Apply a KGCL change request to ``graph`` in place: every command, or (on the first
    that cannot apply) none, raising ``ChangeRequestError``. With ``dry_run`` the graph is left
    as it was and the result says what would change."""
    parsed = parse_change_request(request) if isinstance(request, str) else list(request)
    return GraphEditor(graph, prefixes).apply(parsed, dry_run=dry_run)


@contextmanager
def tentatively(graph: Graph, request: str | Sequence[ParsedChange], *,
                prefixes: PrefixMap | None = None) -> Iterator[GraphApplyResult]:
    """Apply a request for the duration of a ``with`` block, then undo it: a look at the
    changed graph without copying it."""
    parsed = parse_change_request(request) if isinstance(request, str) else list(request)
    editor = GraphEditor(graph, prefixes)
    result = editor.apply(parsed, hold=True)
    try:
        yield result
    finally:
        editor.journal.rollback()


# ---------------------------------------------------------------------- comparison


class _Cyclic(Exception):
    pass


def _signature(triples: list[RdfTriple]) -> Counter[tuple[str, str, str]]:
    """The triples with each blank node named by its structure: what it says (recursively)
    and what points at it. Equal signatures mean isomorphic graphs whenever the blank nodes
    form trees, as OWL's anonymous classes, lists and axiom annotations do."""
    out: dict[Node, list[tuple[Node, Node]]] = defaultdict(list)
    inc: dict[Node, list[tuple[Node, Node]]] = defaultdict(list)
    for s, p, o in triples:
        if isinstance(s, BNode):
            out[s].append((p, o))
        if isinstance(o, BNode):
            inc[o].append((s, p))
    content: dict[Node, str] = {}
    names: dict[Node, str] = {}

    def digest(text: str) -> str:
        return "_:" + hashlib.sha1(text.encode("utf-8")).hexdigest()

    def describe(b: Node, path: frozenset[Node]) -> str:
        if b in content:
            return content[b]
        if b in path:
            raise _Cyclic
        inner = path | {b}
        parts = sorted(f"{p.n3()} {describe(o, inner) if isinstance(o, BNode) else o.n3()}"
                       for p, o in out[b])
        content[b] = digest("(" + ";".join(parts) + ")")
        return content[b]

    def name(b: Node, path: frozenset[Node]) -> str:
        if not isinstance(b, BNode):
            return b.n3()
        if b in names:
            return names[b]
        if b in path:
            raise _Cyclic
        inner = path | {b}
        refs = sorted(f"{name(s, inner)} {p.n3()}" for s, p in inc[b])
        names[b] = digest(describe(b, frozenset()) + "<" + ";".join(refs) + ">")
        return names[b]

    return Counter((name(s, frozenset()), p.n3(), name(o, frozenset())) for s, p, o in triples)


def equivalent_graphs(a: Graph, b: Graph) -> bool:
    """Whether two graphs are isomorphic; fast for OWL's tree-shaped blank nodes (rdflib's
    general algorithm takes tens of seconds on a 4,000-triple ontology), rdflib's otherwise."""
    ta, tb = set(a), set(b)  # iterating an rdflib graph is the slow part: do it once
    if ta == tb:
        return True
    if len(ta) != len(tb):
        return False

    def ground(t: RdfTriple) -> bool:
        return not isinstance(t[0], BNode) and not isinstance(t[2], BNode)

    if {t for t in ta if ground(t)} != {t for t in tb if ground(t)}:
        return False
    try:  # only the triples with blank nodes need their structure compared
        return (_signature([t for t in ta if not ground(t)])
                == _signature([t for t in tb if not ground(t)]))
    except (_Cyclic, RecursionError):
        return isomorphic(a, b)


def iter_triples_nt(triples: Iterable[RdfTriple]) -> Iterator[str]:
    """Triples as sorted N-Triples lines, for reports."""
    yield from sorted(f"{s.n3()} {p.n3()} {o.n3()} ." for s, p, o in triples)


__all__ = ["GraphApplyResult", "GraphEditor", "RdfTriple", "apply_to_graph",
           "equivalent_graphs", "iter_triples_nt", "tentatively"]
