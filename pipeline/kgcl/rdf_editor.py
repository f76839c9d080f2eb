"""The RDF editor: applies parsed KGCL changes to an RDF graph (an OWL ontology written the
OBO-in-OWL way), journalling every triple it touches.

A request applies atomically: the commands run in order against the graph, every triple added
or removed is journalled, and the first command that cannot apply rolls the journal back and
raises ``ChangeRequestError`` naming its line and the problem. The editor resolves references
(ids and quoted labels), writes values in the graph's habits and adds, removes and replaces
triples with their axiom annotations; what each change type does is in
:mod:`pipeline.kgcl.rdf_changes`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from kgcl_schema.datamodel.kgcl import Change
from rdflib import OWL, RDF, RDFS, XSD, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from pipeline.errors import ChangeRequestError
from pipeline.kgcl.parser import ParsedChange, parse_change_request
from pipeline.kgcl.rdf_changes import HANDLERS
from pipeline.kgcl.rdf_compare import RdfTriple
from pipeline.kgcl.rejection import Rejection, reject
from pipeline.kgcl.render import render_id
from pipeline.kgcl.vocab import (
    DEFAULT_PREFIXES,
    DEFINITION,
    IN_SUBSET,
    OBO,
    OBSOLETE_CLASS,
    OIO,
    REPLACED_BY,
    PrefixMap,
)

_DIRECT_NAMESPACES = tuple(DEFAULT_PREFIXES[p] for p in (
    "rdf", "rdfs", "owl", "xsd", "skos", "dc", "dcterms", "oboInOwl"))
_RESTRICTION_PREDICATES = frozenset({RDF.type, OWL.onProperty, OWL.someValuesFrom})


@dataclass(frozen=True)
class GraphApplyResult:
    """What a request did to a graph: the triples it added and removed (net), per request."""

    added: frozenset[RdfTriple]
    removed: frozenset[RdfTriple]
    commands: int
    dry_run: bool = False


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


def is_true(value: Node) -> bool:
    """A literal that says true (``owl:deprecated true``)."""
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
            except Rejection as exc:
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
        handler = HANDLERS.get(type(change))
        if handler is None:
            reject(f"{type(change).__name__} is not supported")
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
            reject(f"{value!r} is not a CURIE or IRI this graph can expand")
        return URIRef(expanded)

    def resolve(self, value: str | None, kind: str | None = None) -> URIRef:
        """A node named by id or by quoted label (an exact label of exactly one entity)."""
        if not value:
            reject("the command names no entity")
        if kind == "literal":
            reject(f'a literal ("{value}") cannot name an entity')
        if kind == "label" or (len(value) >= 2 and value[0] == value[-1] == "'"):
            label = value[1:-1] if kind != "label" else value
            return self.by_label(label)
        return self.iri(value)

    def by_label(self, label: str) -> URIRef:
        found = sorted({s for s, o in self.graph.subject_objects(RDFS.label)
                        if isinstance(s, URIRef) and isinstance(o, Literal) and str(o) == label})
        if not found:
            reject(f"no entity is labelled {label!r}")
        if len(found) > 1:
            reject(f"the label {label!r} is ambiguous ("
                   f"{', '.join(self.show(s) for s in found)}); use the id")
        return found[0]

    def exists(self, node: Node) -> bool:
        return next(iter(self.graph.triples((node, None, None))), None) is not None

    def existing(self, value: str | None, kind: str | None = None) -> URIRef:
        node = self.resolve(value, kind)
        if not self.exists(node):
            reject(f"unknown entity {self.show(node)}")
        return node

    def new_id(self, value: str | None, kind: str | None) -> URIRef:
        if kind in ("label", "literal"):
            reject("a new entity needs an id (CURIE or <IRI>), not a label")
        node = self.resolve(value, kind)
        if self.exists(node):
            reject(f"{self.show(node)} already exists")
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
        return any(is_true(o) for o in self.graph.objects(node, OWL.deprecated))

    def obsolete_class_convention(self, node: Node) -> bool:
        others = [s for s, o in self.graph.subject_objects(OWL.deprecated)
                  if s != node and is_true(o) and isinstance(s, URIRef)]
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
            reject(f"the subset name {name!r} is ambiguous; use a CURIE or <IRI>")
        for onto in g.subjects(RDF.type, OWL.Ontology):
            text = str(onto)
            if text.startswith(str(OBO)) and text.endswith(".owl"):
                return URIRef(text[:-len(".owl")] + "#" + name)
        reject(f"unknown subset {name!r}; use a CURIE or <IRI>")


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


__all__ = ["GraphApplyResult", "GraphEditor", "apply_to_graph", "is_true", "tentatively"]
