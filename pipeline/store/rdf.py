"""The graph as RDF: the form SHACL validates, competency questions query and exports write.

Every entity is an IRI (``entity_iri``: ``urn:verikg:entity:<quoted id>``) typed with its class
(``rdf:type``) and named with ``rdfs:label``; every assertion is one triple. Literal objects
carry their datatype; one whose text does not parse for it is still written (rdflib marks it
ill-typed) so that a validator reports it rather than the export failing.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from urllib.parse import quote

from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from pipeline.models import (
    IRI,
    Assertion,
    AssertionId,
    EntityId,
    EntityRef,
    LiteralValue,
    Ontology,
    local_name,
)

ENTITY_NS = "urn:verikg:entity:"
_ANY_DATATYPE = {str(RDFS.Literal)}


@lru_cache(maxsize=1 << 16)
def entity_iri(entity_id: str) -> URIRef:
    """The IRI of an entity in the RDF form of the graph: ``urn:verikg:entity:<quoted id>``."""
    return URIRef(ENTITY_NS + quote(entity_id, safe=""))


class _SilenceIllTyped(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to convert Literal lexical form")


@contextmanager
def quiet_literals() -> Iterator[None]:
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


def rdf_with_nodes(assertions: Sequence[Assertion], ontology: Ontology, *,
                   classes: Mapping[EntityId, Sequence[IRI]] | None = None
                   ) -> tuple[Graph, dict[AssertionId, Node]]:
    """``to_rdf`` and the object node of every assertion. ``classes`` adds further
    ``rdf:type``s per entity (the candidate classes its statements give it)."""
    g = Graph()
    if ontology.properties:  # a prefix for the ontology's terms, for readable serialisations
        first = ontology.properties[0].iri
        g.bind("onto", Namespace(first[: len(first) - len(local_name(first))]))
    objects: dict[AssertionId, Node] = {}
    labelled: set[EntityId] = set()
    with quiet_literals():
        for a in assertions:
            t = a.triple
            for ent in (t.subject, t.object):
                if isinstance(ent, EntityRef):
                    node = entity_iri(ent.id)
                    g.add((node, RDF.type, URIRef(ent.type_iri)))
                    for cls in (classes or {}).get(ent.id, ()):
                        g.add((node, RDF.type, URIRef(cls)))
                    if ent.id not in labelled:
                        labelled.add(ent.id)
                        g.add((node, RDFS.label, Literal(ent.label)))
            objects[a.id] = _object_node(t.object)
            g.add((entity_iri(t.subject.id), URIRef(t.predicate), objects[a.id]))
    return g, objects


def to_rdf(assertions: Sequence[Assertion], ontology: Ontology, *,
           classes: Mapping[EntityId, Sequence[IRI]] | None = None) -> Graph:
    """The batch as RDF: every entity an IRI (``entity_iri``) with ``rdf:type`` its class and
    ``rdfs:label`` its label (the first met), every assertion one triple. Literal objects carry
    their datatype; one whose text does not parse for it is still written (rdflib marks it
    ill-typed) so that SHACL reports it rather than this function failing."""
    return rdf_with_nodes(assertions, ontology, classes=classes)[0]




__all__ = ["ENTITY_NS", "entity_iri", "quiet_literals", "rdf_with_nodes", "to_rdf"]
