"""What an ontology declares and where it uses each term, read from its RDF graph.

The ``Ontology`` model that extraction works under keeps named classes, properties, domains and
ranges; verification needs more than that: existential restrictions, individuals, punning,
property chains, annotations. This module reads those at the RDF level (OWL 2's mapping to RDF)
so that each check in ``checks.py`` is a few lines over two things:

* ``Vocabulary``: the declared terms, by kind (classes, object / datatype / annotation
  properties, individuals, datatypes), plus the ontology IRI and the declared root classes;
* ``Use``: one place where a term is used in a given role (class, property, datatype,
  individual, predicate), with the named term whose axiom holds it — the ``owner`` a user
  looks at to fix the problem.

The OWL, RDF, RDFS and XSD vocabularies are always defined; so are a few annotation
vocabularies that ontologies use without declaring (Dublin Core, SKOS, VANN) and VeriKG's own
``verify:`` namespace.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from rdflib import OWL, RDF, RDFS, XSD, BNode, Graph, URIRef
from rdflib.term import Node

#: VeriKG's namespace for verification annotations on an ontology
VERIFY = "https://verikg.dev/ontology/verify#"
#: ``<ontology> verify:rootClass <C>``: C is a declared root of the class hierarchy
ROOT_CLASS = URIRef(VERIFY + "rootClass")

BUILTIN_NAMESPACES = (str(RDF), str(RDFS), str(OWL), str(XSD))
#: annotation vocabularies used without declaration in practice; never reported as undeclared
ANNOTATION_VOCABULARIES = (
    "http://purl.org/dc/elements/1.1/",
    "http://purl.org/dc/terms/",
    "http://www.w3.org/2004/02/skos/core#",
    "http://purl.org/vocab/vann/",
    VERIFY,
)
BUILTIN_DATATYPES = frozenset({RDFS.Literal, RDF.PlainLiteral, RDF.langString, RDF.XMLLiteral,
                               RDF.HTML, OWL.real, OWL.rational})
#: rdf:type values that make the subject an object property (characteristics imply the kind)
OBJECT_PROPERTY_TYPES = frozenset({
    OWL.ObjectProperty, OWL.TransitiveProperty, OWL.SymmetricProperty, OWL.AsymmetricProperty,
    OWL.ReflexiveProperty, OWL.IrreflexiveProperty, OWL.InverseFunctionalProperty})

Role = Literal["class", "property", "datatype", "individual", "predicate"]


def is_builtin(iri: Node) -> bool:
    return isinstance(iri, URIRef) and str(iri).startswith(BUILTIN_NAMESPACES)


def is_annotation_vocabulary(iri: Node) -> bool:
    return isinstance(iri, URIRef) and str(iri).startswith(ANNOTATION_VOCABULARIES)


def is_datatype_iri(iri: Node) -> bool:
    """An XSD datatype or one of the RDF/OWL literal datatypes of OWL 2's datatype map."""
    return isinstance(iri, URIRef) and (str(iri).startswith(str(XSD))
                                        or iri in BUILTIN_DATATYPES)


@dataclass(frozen=True)
class Use:
    """``iri`` is used as a ``role`` in an axiom of ``owner`` (a named term, when there is one)
    through the predicate ``via``."""

    iri: URIRef
    role: Role
    owner: URIRef | None
    via: URIRef


@dataclass(frozen=True)
class Vocabulary:
    """The terms ``graph`` declares, by kind."""

    graph: Graph
    ontology_iri: URIRef | None
    classes: frozenset[URIRef]
    object_properties: frozenset[URIRef]
    datatype_properties: frozenset[URIRef]
    annotation_properties: frozenset[URIRef]
    #: ``rdf:Property`` without an OWL kind
    plain_properties: frozenset[URIRef]
    individuals: frozenset[URIRef]
    datatypes: frozenset[URIRef]
    roots: frozenset[URIRef] = field(default_factory=frozenset)
    #: terms marked ``owl:deprecated true`` (obsolete: kept for their IRIs, exempt from the
    #: structural checks that judge the live schema)
    deprecated: frozenset[URIRef] = field(default_factory=frozenset)

    @property
    def properties(self) -> frozenset[URIRef]:
        return (self.object_properties | self.datatype_properties | self.annotation_properties
                | self.plain_properties)

    def defines(self, iri: URIRef) -> bool:
        """Whether ``iri`` is a term of this ontology (declared, or a built-in one)."""
        return (is_builtin(iri) or is_annotation_vocabulary(iri) or iri in self.classes
                or iri in self.properties or iri in self.individuals or iri in self.datatypes)

    def is_datatype(self, iri: Node) -> bool:
        return is_datatype_iri(iri) or iri in self.datatypes

    def labels(self, iri: URIRef) -> list[tuple[str, str | None]]:
        """Every ``rdfs:label`` of ``iri`` with its language tag."""
        return [(str(lbl), getattr(lbl, "language", None))
                for lbl in self.graph.objects(iri, RDFS.label)]


def _uris(nodes: Iterable[Node]) -> set[URIRef]:
    return {n for n in nodes if isinstance(n, URIRef)}


def vocabulary(graph: Graph, roots: Iterable[str] = ()) -> Vocabulary:
    """Index the declarations of ``graph``; ``roots`` adds declared root classes to those the
    ontology names with ``verify:rootClass``."""
    onto = next((s for s in graph.subjects(RDF.type, OWL.Ontology) if isinstance(s, URIRef)),
                None)
    classes = (_uris(graph.subjects(RDF.type, OWL.Class))
               | _uris(graph.subjects(RDF.type, RDFS.Class))) - {OWL.Thing, OWL.Nothing}
    obj: set[URIRef] = set()
    for t in OBJECT_PROPERTY_TYPES:
        obj |= _uris(graph.subjects(RDF.type, t))
    data = _uris(graph.subjects(RDF.type, OWL.DatatypeProperty))
    ann = _uris(graph.subjects(RDF.type, OWL.AnnotationProperty))
    plain = _uris(graph.subjects(RDF.type, RDF.Property)) - obj - data - ann
    datatypes = _uris(graph.subjects(RDF.type, RDFS.Datatype))
    individuals = set(_uris(graph.subjects(RDF.type, OWL.NamedIndividual)))
    for s, o in graph.subject_objects(RDF.type):
        # typed with a user class or a class expression: an individual
        if isinstance(s, URIRef) and (isinstance(o, BNode) or
                                      (isinstance(o, URIRef) and not is_builtin(o))):
            individuals.add(s)
    declared_roots = set(_uris(graph.objects(onto, ROOT_CLASS))) if onto is not None else set()
    declared_roots |= {URIRef(r) for r in roots}
    deprecated = {s for s, flag in graph.subject_objects(OWL.deprecated)
                  if isinstance(s, URIRef) and str(flag).strip().lower() in ("true", "1")}
    return Vocabulary(graph=graph, ontology_iri=onto, classes=frozenset(classes),
                      object_properties=frozenset(obj), datatype_properties=frozenset(data),
                      annotation_properties=frozenset(ann), plain_properties=frozenset(plain),
                      individuals=frozenset(individuals), datatypes=frozenset(datatypes),
                      roots=frozenset(declared_roots), deprecated=frozenset(deprecated))


def rdf_list(graph: Graph, node: Node) -> list[Node]:
    """The members of an RDF collection (empty for anything that is not one)."""
    return list(graph.items(node)) if isinstance(node, BNode) else []


def class_expression_uses(vocab: Vocabulary, node: Node, owner: URIRef | None, via: URIRef,
                          _seen: set[Node] | None = None) -> Iterator[Use]:
    """Every named term a class expression uses: named classes, the properties and fillers of
    restrictions, the members of unions, intersections, complements and enumerations."""
    g = vocab.graph
    if isinstance(node, URIRef):
        if node not in (OWL.Thing, OWL.Nothing):
            yield Use(node, "class", owner, via)
        return
    if not isinstance(node, BNode):
        return
    seen = _seen if _seen is not None else set()
    if node in seen:
        return
    seen.add(node)
    for pred in (OWL.intersectionOf, OWL.unionOf):
        for lst in g.objects(node, pred):
            for member in rdf_list(g, lst):
                yield from class_expression_uses(vocab, member, owner, via, seen)
    for comp in g.objects(node, OWL.complementOf):
        yield from class_expression_uses(vocab, comp, owner, via, seen)
    for lst in g.objects(node, OWL.oneOf):
        for member in rdf_list(g, lst):
            if isinstance(member, URIRef):
                yield Use(member, "individual", owner, via)
    for prop in g.objects(node, OWL.onProperty):
        yield from property_expression_uses(vocab, prop, owner, via)
        is_data = prop in vocab.datatype_properties
        for pred in (OWL.someValuesFrom, OWL.allValuesFrom, OWL.onClass, OWL.onDataRange):
            for filler in g.objects(node, pred):
                if is_data or pred == OWL.onDataRange:
                    if isinstance(filler, URIRef):
                        yield Use(filler, "datatype", owner, via)
                else:
                    yield from class_expression_uses(vocab, filler, owner, via, seen)
        if not is_data:
            for value in g.objects(node, OWL.hasValue):
                if isinstance(value, URIRef):
                    yield Use(value, "individual", owner, via)


def property_expression_uses(vocab: Vocabulary, node: Node, owner: URIRef | None,
                             via: URIRef) -> Iterator[Use]:
    """A named property, or the property inside an anonymous ``owl:inverseOf``."""
    if isinstance(node, URIRef):
        yield Use(node, "property", owner, via)
    elif isinstance(node, BNode):
        for inner in vocab.graph.objects(node, OWL.inverseOf):
            if isinstance(inner, URIRef):
                yield Use(inner, "property", owner, via)


_CLASS_AXIOMS = (RDFS.subClassOf, OWL.equivalentClass, OWL.disjointWith)
_PROPERTY_AXIOMS = (RDFS.subPropertyOf, OWL.equivalentProperty, OWL.inverseOf,
                    OWL.propertyDisjointWith)
#: predicates whose triples are schema axioms or OWL/RDF syntax, not assertions about data
_SYNTAX = frozenset({RDF.type, RDF.first, RDF.rest, *(_CLASS_AXIOMS), *(_PROPERTY_AXIOMS),
                     RDFS.domain, RDFS.range})


def _owner(node: Node) -> URIRef | None:
    return node if isinstance(node, URIRef) else None


def uses(vocab: Vocabulary) -> Iterator[Use]:
    """Every use of a term in ``vocab.graph``, in the role the OWL 2 RDF mapping gives it."""
    g = vocab.graph
    for pred in _CLASS_AXIOMS:
        for s, o in g.subject_objects(pred):
            yield from class_expression_uses(vocab, s, _owner(s), pred)
            yield from class_expression_uses(vocab, o, _owner(s), pred)
    for pred in (OWL.members, OWL.disjointUnionOf):
        for s, lst in g.subject_objects(pred):
            if (s, RDF.type, OWL.AllDifferent) in g:
                continue
            for member in rdf_list(g, lst):
                if (s, RDF.type, OWL.AllDisjointProperties) in g:
                    yield from property_expression_uses(vocab, member, _owner(s), pred)
                else:
                    yield from class_expression_uses(vocab, member, _owner(s), pred)
    for pred in _PROPERTY_AXIOMS:
        for s, o in g.subject_objects(pred):
            yield from property_expression_uses(vocab, s, _owner(s), pred)
            yield from property_expression_uses(vocab, o, _owner(s), pred)
    for s, lst in g.subject_objects(OWL.propertyChainAxiom):
        yield from property_expression_uses(vocab, s, _owner(s), OWL.propertyChainAxiom)
        for member in rdf_list(g, lst):
            yield from property_expression_uses(vocab, member, _owner(s),
                                                OWL.propertyChainAxiom)
    for p, d in g.subject_objects(RDFS.domain):
        yield from property_expression_uses(vocab, p, _owner(p), RDFS.domain)
        yield from class_expression_uses(vocab, d, _owner(p), RDFS.domain)
    for p, r in g.subject_objects(RDFS.range):
        yield from property_expression_uses(vocab, p, _owner(p), RDFS.range)
        if p in vocab.datatype_properties or (p not in vocab.object_properties
                                              and vocab.is_datatype(r)):
            if isinstance(r, URIRef):
                yield Use(r, "datatype", _owner(p), RDFS.range)
        else:
            yield from class_expression_uses(vocab, r, _owner(p), RDFS.range)
    for s, o in g.subject_objects(RDF.type):
        if isinstance(s, URIRef) and (isinstance(o, BNode) or not is_builtin(o)):
            yield from class_expression_uses(vocab, o, s, RDF.type)
    for s, p, o in g:
        if p in _SYNTAX or not isinstance(p, URIRef) or is_builtin(p):
            continue
        yield Use(p, "predicate", _owner(s), p)
        if p in vocab.object_properties and isinstance(o, URIRef):
            yield Use(o, "individual", _owner(s), p)
            if isinstance(s, URIRef):
                yield Use(s, "individual", s, p)


def named_superclasses(vocab: Vocabulary, cls: URIRef) -> set[URIRef]:
    """The named classes ``cls`` is directly declared under: ``rdfs:subClassOf C`` and the
    named members of an intersection it is a subclass of or equivalent to (the genus of a
    defined class, as in ``GO:X ≡ GO:Y and part_of some GO:Z``). ``owl:Thing`` is not one."""
    g = vocab.graph
    out: set[URIRef] = set()
    for pred in (RDFS.subClassOf, OWL.equivalentClass):
        for sup in g.objects(cls, pred):
            if isinstance(sup, URIRef):
                if pred == RDFS.subClassOf:
                    out.add(sup)
                continue
            for lst in g.objects(sup, OWL.intersectionOf):
                out |= {m for m in rdf_list(g, lst) if isinstance(m, URIRef)}
    return out - {OWL.Thing, cls}


__all__ = ["ANNOTATION_VOCABULARIES", "BUILTIN_NAMESPACES", "ROOT_CLASS", "VERIFY", "Use",
           "Vocabulary", "class_expression_uses", "is_annotation_vocabulary", "is_builtin",
           "is_datatype_iri", "named_superclasses", "property_expression_uses", "rdf_list",
           "uses", "vocabulary"]
