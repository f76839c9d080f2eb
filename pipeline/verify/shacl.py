"""SHACL over a batch of assertions: shapes generated from the ontology, checked by pyshacl.

``pipeline.verify.types`` reasons over the ``Ontology`` model in Python; this module states the
same schema as standard SHACL and lets a standard validator judge the batch, so the graph can be
checked by any SHACL engine and the two checks keep each other honest. Its findings are soft by
default (a statement is flagged, not refused): shapes generated from a quirky ontology can be
wrong on true facts.

The shapes, one node shape per property ``P``:

* ``sh:targetSubjectsOf P`` with ``sh:class D`` for the domain. Several declared domains are
  read as alternatives (``sh:or``), the way the type-fit check and the extraction prompt read
  them, not as the intersection that strict OWL semantics would give: ontologies in practice
  list several domains meaning "any of these".
* a property shape on the path ``P``: ``sh:class R`` (object property) or ``sh:datatype X``
  (datatype property), several ranges again as ``sh:or``; ``sh:maxCount 1`` when ``P`` is an
  ``owl:FunctionalProperty``.
* ``owl:Thing`` / ``rdfs:Resource`` (classes) and ``rdfs:Literal`` (datatypes) constrain
  nothing and are left out.

Two details of pyshacl decide how validation is run:

* Types. The data graph types each entity with every candidate class its statements give it
  (``classes``), so a class constraint fails only where no candidate fits. A value the
  extraction contract already flagged as not parsing for its datatype is not reported again.
* Subclasses. SHACL's ``sh:class``
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
as the type-fit check does not report it either.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
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
    Ontology,
    OntologyProperty,
    PropertyKind,
    Violation,
    ViolationReason,
    local_name,
)
from pipeline.store.rdf import entity_iri, quiet_literals, rdf_with_nodes

SH = Namespace("http://www.w3.org/ns/shacl#")
OWL_THING = "http://www.w3.org/2002/07/owl#Thing"
_ANY_CLASS = {OWL_THING, str(RDFS.Resource)}
_ANY_DATATYPE = {str(RDFS.Literal)}
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

_DATATYPE_COMPONENTS = {SH.DatatypeConstraintComponent, SH.PatternConstraintComponent}
_CONSTRAINT_NAMES = {
    SH.ClassConstraintComponent: "sh:class",
    SH.DatatypeConstraintComponent: "sh:datatype",
    SH.PatternConstraintComponent: "sh:pattern",
    SH.MaxCountConstraintComponent: "sh:maxCount",
    SH.OrConstraintComponent: "sh:or",
}


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


def validate_batch(assertions: Sequence[Assertion], ontology: Ontology, *,
                   classes: Mapping[EntityId, Sequence[IRI]] | None = None
                   ) -> dict[AssertionId, list[Violation]]:
    """SHACL-validate the whole batch in one pyshacl run; each violation goes back to the
    assertion(s) it concerns, as ``shacl-violation``. ``classes`` types each entity with the
    candidate classes its statements give it (``pipeline.verify.types.entity_classes``), so a
    class constraint fails only where no candidate fits, as the type-fit check reads it.

    A result on a value (wrong class, wrong datatype) goes to the assertions of that subject,
    property and object; a domain result (wrong subject class) and a ``sh:maxCount`` result go
    to every assertion of that subject and property. Assertions without violations are absent
    from the answer."""
    if not assertions:
        return {}
    compiled = _compile(ontology)
    data, objects = rdf_with_nodes(assertions, ontology, classes=classes)
    entities: dict[URIRef, EntityRef] = {}
    by_subject: dict[tuple[URIRef, str], list[Assertion]] = defaultdict(list)
    for a in assertions:
        t = a.triple
        for ent in (t.subject, t.object):
            if isinstance(ent, EntityRef):
                entities.setdefault(entity_iri(ent.id), ent)
        by_subject[(entity_iri(t.subject.id), t.predicate)].append(a)
    with quiet_literals():
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
            if component in _DATATYPE_COMPONENTS and any(
                    v.check == "literal-datatype" for v in a.violations):
                continue  # the extraction contract already flagged this value: one fault
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


__all__ = ["LEXICAL_PATTERNS", "shapes_for", "validate_batch"]
