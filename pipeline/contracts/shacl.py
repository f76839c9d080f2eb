"""SHACL over a batch of assertions: shapes generated from the ontology, checked by pyshacl.

``check_types`` reasons over the ``Ontology`` model in Python; this module states the same
schema as standard SHACL and lets a standard validator judge the batch, so the graph can be
checked by any SHACL engine and the two checks keep each other honest.

The shapes, one node shape per property ``P``:

* ``sh:targetSubjectsOf P`` with ``sh:class D`` for the domain. Several declared domains are
  read as alternatives (``sh:or``), the way ``check_types`` and the extraction prompt read
  them, not as the intersection that strict OWL semantics would give: ontologies in practice
  list several domains meaning "any of these".
* a property shape on the path ``P``: ``sh:class R`` (object property) or ``sh:datatype X``
  (datatype property), several ranges again as ``sh:or``; ``sh:maxCount 1`` when ``P`` is an
  ``owl:FunctionalProperty``.
* ``owl:Thing`` / ``rdfs:Resource`` (classes) and ``rdfs:Literal`` (datatypes) constrain
  nothing and are left out.

Two details of pyshacl decide how validation is run:

* Subclasses. The data graph carries each entity's one resolved class. SHACL's ``sh:class``
  follows ``rdfs:subClassOf*`` *in the data graph*, so the ontology's subclass axioms (and only
  those) are mixed in as ``ont_graph``, with no inference: a Company then passes where an
  Organization is required. Inference is not needed for that, costs an OWL-RL closure of the
  whole batch, and over the full ontology would be wrong: RDFS applies ``rdfs:domain`` and
  ``rdfs:range``, typing every subject as the domain and hiding the very violations sought.
* Literals. pyshacl's ``sh:datatype`` rejects a literal rdflib marks ill-typed (integers,
  decimals, dates, booleans), but rdflib does not parse ``xsd:gYear`` and the other Gregorian
  types, so ``"nineteen"^^xsd:gYear`` would pass. The shapes add the XSD lexical pattern
  (``sh:pattern``) for those datatypes. (Once owlrl has run anywhere in the process, e.g. a
  pyshacl call with inference, it has registered rdflib parsers for these types too, and
  ``sh:datatype`` catches the literal as well; the two results are then reported as one.)

An entity whose class is unresolved (``owl:Thing``) is not reported for a class constraint,
as ``check_types`` does not report it either.
"""

from __future__ import annotations

import logging
import warnings
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from pyshacl import validate
from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from pipeline.models import (
    IRI,
    Assertion,
    AssertionId,
    EntityId,
    EntityRef,
    LiteralValue,
    Ontology,
    OntologyProperty,
    PropertyKind,
    Violation,
    ViolationReason,
    local_name,
)

SH = Namespace("http://www.w3.org/ns/shacl#")
OWL_THING = "http://www.w3.org/2002/07/owl#Thing"
_ANY_CLASS = {OWL_THING, str(RDFS.Resource)}
_ANY_DATATYPE = {str(RDFS.Literal)}
ENTITY_NS = "urn:verikg:entity:"
SHAPE_NS = "urn:verikg:shape:"

_TZ = r"(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
_YEAR = r"-?([1-9][0-9]{3,}|0[0-9]{3})"
_MONTH = r"(0[1-9]|1[0-2])"
_DAY = r"(0[1-9]|[12][0-9]|3[01])"
#: XSD lexical forms of the datatypes rdflib leaves unparsed (so pyshacl cannot tell a bad one)
LEXICAL_PATTERNS: dict[str, str] = {
    str(XSD.gYear): f"^{_YEAR}{_TZ}$",
    str(XSD.gYearMonth): f"^{_YEAR}-{_MONTH}{_TZ}$",
    str(XSD.gMonthDay): f"^--{_MONTH}-{_DAY}{_TZ}$",
    str(XSD.gMonth): f"^--{_MONTH}{_TZ}$",
    str(XSD.gDay): f"^---{_DAY}{_TZ}$",
}

_CONSTRAINT_NAMES = {
    SH.ClassConstraintComponent: "sh:class",
    SH.DatatypeConstraintComponent: "sh:datatype",
    SH.PatternConstraintComponent: "sh:pattern",
    SH.MaxCountConstraintComponent: "sh:maxCount",
    SH.OrConstraintComponent: "sh:or",
}


@lru_cache(maxsize=1 << 16)
def entity_iri(entity_id: str) -> URIRef:
    """The IRI of an entity in the RDF form of the graph: ``urn:verikg:entity:<quoted id>``."""
    return URIRef(ENTITY_NS + quote(entity_id, safe=""))


def _shape_iri(prop: OntologyProperty, role: str) -> URIRef:
    return URIRef(f"{SHAPE_NS}{quote(prop.iri, safe='')}:{role}")


# --------------------------------------------------------------------------- shapes


@dataclass(frozen=True)
class _ShapeRole:
    prop: OntologyProperty
    #: "subject" for the domain constraint on the node shape, "values" for the property shape
    role: str


@dataclass(frozen=True)
class _Compiled:
    shapes: Graph
    class_axioms: Graph
    roles: dict[Node, _ShapeRole]


def _alternatives(g: Graph, node: Node, constraint: URIRef, values: Sequence[str]) -> None:
    """``node constraint v`` for one value, ``node sh:or ([constraint v1] ...)`` for several."""
    def one(target: Node, value: str) -> None:
        g.add((target, constraint, URIRef(value)))
        if constraint == SH.datatype and value in LEXICAL_PATTERNS:
            g.add((target, SH.pattern, Literal(LEXICAL_PATTERNS[value])))

    if len(values) == 1:
        one(node, values[0])
        return
    members: list[Node] = []
    for value in values:
        member = BNode()
        one(member, value)
        members.append(member)
    head = BNode()
    Collection(g, head, members)
    g.add((node, SH["or"], head))


_XSD = "http://www.w3.org/2001/XMLSchema#"


@lru_cache(maxsize=16)
def _compile(ontology: Ontology) -> _Compiled:
    # keyed by the ontology's value (frozen models hash by content), not by its file hash: an
    # ontology built in memory has an empty ``sha256``, and two such must not share shapes
    g = Graph()
    g.bind("sh", SH)
    roles: dict[Node, _ShapeRole] = {}
    for prop in ontology.properties:
        p = URIRef(prop.iri)
        domain = [d for d in prop.domain if d not in _ANY_CLASS]
        if prop.kind is PropertyKind.OBJECT:
            rng, constraint = [r for r in prop.range if r not in _ANY_CLASS], SH["class"]
        else:
            rng, constraint = [r for r in prop.range if r not in _ANY_DATATYPE], SH.datatype
            # a date known only to the month or the year is still a date of the range
            rng += [IRI(_XSD + n) for n in ("gYearMonth", "gYear")
                    if _XSD + "date" in rng and _XSD + n not in rng]
        if not (domain or rng or prop.functional):
            continue
        node = _shape_iri(prop, "subject")
        g.add((node, RDF.type, SH.NodeShape))
        g.add((node, SH.targetSubjectsOf, p))
        g.add((node, RDFS.label, Literal(f"subjects of {prop.label}")))
        roles[node] = _ShapeRole(prop, "subject")
        if domain:
            _alternatives(g, node, SH["class"], domain)
        if rng or prop.functional:
            values = _shape_iri(prop, "values")
            g.add((node, SH.property, values))
            g.add((values, SH.path, p))
            g.add((values, SH.name, Literal(prop.label)))
            roles[values] = _ShapeRole(prop, "values")
            if rng:
                _alternatives(g, values, constraint, rng)
            if prop.functional:
                g.add((values, SH.maxCount, Literal(1)))
    axioms = Graph()
    for cls in ontology.classes:
        for parent in cls.parents:
            axioms.add((URIRef(cls.iri), RDFS.subClassOf, URIRef(parent)))
    return _Compiled(shapes=g, class_axioms=axioms, roles=roles)


def shapes_for(ontology: Ontology) -> Graph:
    """The SHACL shapes graph for ``ontology`` (a fresh copy; the shapes are built once per
    ontology and cached).

    To validate with these shapes outside ``validate_batch``, mix the ontology's
    ``rdfs:subClassOf`` axioms into the data graph, or subclass instances fail ``sh:class``."""
    out = Graph()
    out.bind("sh", SH)
    for triple in _compile(ontology).shapes:
        out.add(triple)
    return out


# --------------------------------------------------------------------------- data


class _SilenceIllTyped(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to convert Literal lexical form")


@contextmanager
def _quiet_literals() -> Iterator[None]:
    """rdflib logs a traceback (or warns) for every literal whose text does not parse for its
    datatype; here such a literal is expected, and SHACL reports it."""
    log = logging.getLogger("rdflib.term")
    quiet = _SilenceIllTyped()
    log.addFilter(quiet)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        log.removeFilter(quiet)


def _literal(value: LiteralValue) -> Literal:
    if value.datatype in _ANY_DATATYPE:
        return Literal(value.value)
    return Literal(value.value, datatype=URIRef(value.datatype))


def _object_node(obj: EntityRef | LiteralValue) -> Node:
    return entity_iri(obj.id) if isinstance(obj, EntityRef) else _literal(obj)


def _build(assertions: Sequence[Assertion], ontology: Ontology
           ) -> tuple[Graph, dict[AssertionId, Node]]:
    g = Graph()
    if ontology.properties:  # a prefix for the ontology's terms, for readable serialisations
        first = ontology.properties[0].iri
        g.bind("onto", Namespace(first[: len(first) - len(local_name(first))]))
    objects: dict[AssertionId, Node] = {}
    labelled: set[EntityId] = set()
    with _quiet_literals():
        for a in assertions:
            t = a.triple
            for ent in (t.subject, t.object):
                if isinstance(ent, EntityRef):
                    node = entity_iri(ent.id)
                    g.add((node, RDF.type, URIRef(ent.type_iri)))
                    if ent.id not in labelled:
                        labelled.add(ent.id)
                        g.add((node, RDFS.label, Literal(ent.label)))
            objects[a.id] = _object_node(t.object)
            g.add((entity_iri(t.subject.id), URIRef(t.predicate), objects[a.id]))
    return g, objects


def to_rdf(assertions: Sequence[Assertion], ontology: Ontology) -> Graph:
    """The batch as RDF: every entity an IRI (``entity_iri``) with ``rdf:type`` its class and
    ``rdfs:label`` its label (the first met), every assertion one triple. Literal objects carry
    their datatype; one whose text does not parse for it is still written (rdflib marks it
    ill-typed) so that SHACL reports it rather than this function failing."""
    return _build(assertions, ontology)[0]


# --------------------------------------------------------------------------- validation


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def _node_text(node: Node | None, entities: dict[URIRef, EntityRef]) -> str:
    if isinstance(node, URIRef) and node in entities:
        return f"'{entities[node].label}'"
    return f"'{node}'" if isinstance(node, Literal) else str(node)


def _describe(role: _ShapeRole, component: Node | None, focus: EntityRef, value: Node | None,
              count: int, entities: dict[URIRef, EntityRef], ontology: Ontology) -> str:
    prop = role.prop
    name = (_CONSTRAINT_NAMES[component] if isinstance(component, URIRef)
            and component in _CONSTRAINT_NAMES else local_name(str(component)))
    if role.role == "subject":
        wanted = " or ".join(_a(ontology.class_label(d)) for d in prop.domain)
        return (f"'{focus.label}' is {_a(ontology.class_label(focus.type_iri))}, but the "
                f"subject of '{prop.label}' must be {wanted} (SHACL {name})")
    if component == SH.MaxCountConstraintComponent:
        return (f"'{focus.label}' has {count} values for '{prop.label}', which is functional: "
                f"at most one (SHACL {name})")
    shown = _node_text(value, entities)
    if prop.kind is PropertyKind.OBJECT:
        wanted = " or ".join(_a(ontology.class_label(r)) for r in prop.range)
        kind = (_a(ontology.class_label(entities[value].type_iri))
                if isinstance(value, URIRef) and value in entities else "a literal")
        return (f"{shown}, the '{prop.label}' of '{focus.label}', is {kind}, but must be "
                f"{wanted} (SHACL {name})")
    wanted = " or ".join(local_name(r) for r in prop.range)
    return (f"{shown}, the '{prop.label}' of '{focus.label}', is not a valid {wanted} "
            f"(SHACL {name})")


def validate_batch(assertions: Sequence[Assertion], ontology: Ontology
                   ) -> dict[AssertionId, list[Violation]]:
    """SHACL-validate the whole batch in one pyshacl run; each violation goes back to the
    assertion(s) it concerns, as ``shacl-violation``.

    A result on a value (wrong class, wrong datatype) goes to the assertions of that subject,
    property and object; a domain result (wrong subject class) and a ``sh:maxCount`` result go
    to every assertion of that subject and property. Assertions without violations are absent
    from the answer."""
    if not assertions:
        return {}
    compiled = _compile(ontology)
    data, objects = _build(assertions, ontology)
    entities: dict[URIRef, EntityRef] = {}
    by_subject: dict[tuple[URIRef, str], list[Assertion]] = defaultdict(list)
    for a in assertions:
        t = a.triple
        for ent in (t.subject, t.object):
            if isinstance(ent, EntityRef):
                entities.setdefault(entity_iri(ent.id), ent)
        by_subject[(entity_iri(t.subject.id), t.predicate)].append(a)
    with _quiet_literals():
        conforms, report, _text = validate(
            data, shacl_graph=compiled.shapes, ont_graph=compiled.class_axioms,
            inference="none", inplace=True, allow_warnings=True)
    if conforms:
        return {}
    if not isinstance(report, Graph):
        raise TypeError(f"pyshacl returned a {type(report).__name__}, not a report graph")
    out: dict[AssertionId, list[Violation]] = defaultdict(list)
    results = [(report.value(r, SH.focusNode), report.value(r, SH.sourceShape),
                report.value(r, SH.sourceConstraintComponent), report.value(r, SH.value))
               for r in report.subjects(RDF.type, SH.ValidationResult)]
    # a literal both ill-typed for rdflib and off the lexical pattern is one fault, not two
    by_datatype = {(f, s, v) for f, s, c, v in results if c == SH.DatatypeConstraintComponent}
    for focus, shape, component, value in results:
        if component == SH.PatternConstraintComponent and (focus, shape, value) in by_datatype:
            continue
        role = compiled.roles.get(shape) if shape is not None else None
        if role is None or not isinstance(focus, URIRef) or focus not in entities:
            continue  # not from a shape of ours, or about a node no assertion has as subject
        concerned = by_subject.get((focus, role.prop.iri), [])
        if role.role == "values" and component != SH.MaxCountConstraintComponent:
            concerned = [a for a in concerned if objects[a.id] == value]
        if _unresolved_class(role, component, focus, value, entities):
            continue
        detail = _describe(role, component, entities[focus], value,
                           len({a.triple.object for a in concerned}), entities, ontology)
        violation = Violation(reason=ViolationReason.SHACL_VIOLATION, check="shacl",
                              detail=detail)
        for a in concerned:
            if violation not in out[a.id]:
                out[a.id].append(violation)
    return {aid: sorted(vs, key=lambda v: v.detail) for aid, vs in sorted(out.items()) if vs}


def _unresolved_class(role: _ShapeRole, component: Node | None, focus: URIRef,
                      value: Node | None, entities: dict[URIRef, EntityRef]) -> bool:
    """A class result about an entity whose class is ``owl:Thing`` (not resolved): skipped,
    as ``check_types`` skips it."""
    if component not in (SH.ClassConstraintComponent, SH.OrConstraintComponent):
        return False
    if role.role == "values" and role.prop.kind is not PropertyKind.OBJECT:
        return False
    node = focus if role.role == "subject" else value
    return isinstance(node, URIRef) and node in entities and entities[node].type_iri == OWL_THING


__all__ = ["LEXICAL_PATTERNS", "entity_iri", "shapes_for", "to_rdf", "validate_batch"]
