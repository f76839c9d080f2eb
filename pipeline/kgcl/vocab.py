"""The vocabulary KGCL changes are written in: OBO-in-OWL properties and the CURIE ↔ IRI map.

KGCL names entities by CURIE (``GO:0005634``), ``<IRI>`` or quoted label. An ontology file
binds some prefixes itself; the rest follow the OBO Foundry rule (``GO:0005634`` is
``http://purl.obolibrary.org/obo/GO_0005634``) or the handful of well-known prefixes below, so
that a command reads the same whichever file it is applied to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from rdflib import OWL, RDF, RDFS, XSD, Graph, Namespace, URIRef

OBO = Namespace("http://purl.obolibrary.org/obo/")
OIO = Namespace("http://www.geneontology.org/formats/oboInOwl#")

DEFINITION = OBO["IAO_0000115"]
REPLACED_BY = OBO["IAO_0100001"]
OBSOLESCENCE_REASON = OBO["IAO_0000231"]
CONSIDER = OIO["consider"]
IN_SUBSET = OIO["inSubset"]
OBSOLETE_CLASS = OIO["ObsoleteClass"]

#: KGCL synonym qualifier → oboInOwl property; ``None`` (no qualifier) is the unscoped one.
SYNONYM_PREDICATES: dict[str | None, URIRef] = {
    "exact": OIO["hasExactSynonym"],
    "broad": OIO["hasBroadSynonym"],
    "narrow": OIO["hasNarrowSynonym"],
    "related": OIO["hasRelatedSynonym"],
    None: OIO["hasSynonym"],
}
SYNONYM_SCOPES: dict[URIRef, str | None] = {v: k for k, v in SYNONYM_PREDICATES.items()}

DEFAULT_PREFIXES: dict[str, str] = {
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "oboInOwl": str(OIO),
    "obo": str(OBO),
    "ex": "http://example.org/",
}

_OBO_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_OBO_LOCAL = re.compile(r"^([A-Za-z][A-Za-z0-9]*)_([^\s/#?'\"<>]+)$")
_CURIE_LOCAL = re.compile(r"^[^\s'\"<>\u00ab\u00bb]*$")
_PREFIX = re.compile(r"^[A-Za-z_][\w.-]*$")


def is_iri(value: str) -> bool:
    """An absolute IRI as the parser restores it (``<…>`` already stripped)."""
    return "://" in value or value.startswith("urn:")


_CURIE = re.compile(r"^[A-Za-z_][\w.-]*:[^\s'\"<>\u00ab\u00bb]*$")


def is_curie(value: str) -> bool:
    """Whether KGCL can write ``value`` as a CURIE (``prefix:local``, nothing to quote)."""
    return bool(_CURIE.match(value)) and not is_iri(value)


class PrefixMap:
    """CURIE ↔ IRI for one graph: its own bindings over the defaults, then the OBO rule."""

    def __init__(self, bindings: Mapping[str, str] | None = None) -> None:
        self.bindings: dict[str, str] = dict(DEFAULT_PREFIXES)
        for prefix, ns in (bindings or {}).items():
            if prefix and _PREFIX.match(prefix):
                self.bindings[prefix] = ns
        # longest namespace first, so the most specific prefix wins when contracting
        self._by_ns = sorted(((ns, p) for p, ns in self.bindings.items()),
                             key=lambda t: (-len(t[0]), t[1]))

    @classmethod
    def for_graph(cls, graph: Graph, extra: Iterable[tuple[str, str]] = ()) -> PrefixMap:
        """The prefixes a graph's file declared, over the defaults."""
        bound = {p: str(ns) for p, ns in graph.namespaces()}
        bound.update(dict(extra))
        return cls(bound)

    def expand(self, curie: str) -> str | None:
        """The IRI of a CURIE, or None when it cannot be one."""
        if is_iri(curie):
            return curie
        prefix, sep, local = curie.partition(":")
        if not sep:
            return None
        if prefix in self.bindings:
            return self.bindings[prefix] + local
        if _OBO_PREFIX.match(prefix) and local and _CURIE_LOCAL.match(local):
            return f"{OBO}{prefix}_{local}"
        return None

    def contract(self, iri: str) -> str | None:
        """A CURIE for an IRI that expands back to it, or None."""
        if iri.startswith(str(OBO)):
            m = _OBO_LOCAL.match(iri[len(OBO):])
            if m and m.group(1) not in self.bindings:
                curie = f"{m.group(1)}:{m.group(2)}"
                if self.expand(curie) == iri:
                    return curie
        for ns, prefix in self._by_ns:
            if iri.startswith(ns) and len(iri) > len(ns):
                local = iri[len(ns):]
                if _CURIE_LOCAL.match(local) and not local.startswith("/"):
                    curie = f"{prefix}:{local}"
                    if self.expand(curie) == iri:
                        return curie
        return None


__all__ = [
    "CONSIDER",
    "DEFAULT_PREFIXES",
    "DEFINITION",
    "IN_SUBSET",
    "OBO",
    "OBSOLESCENCE_REASON",
    "OBSOLETE_CLASS",
    "OIO",
    "PrefixMap",
    "REPLACED_BY",
    "SYNONYM_PREDICATES",
    "SYNONYM_SCOPES",
    "is_curie",
    "is_iri",
]
