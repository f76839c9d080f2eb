"""How VeriKG reads the quirks of real ontology files, in one place for every loader.

Real ontologies break the letter of OWL in ways that would make VeriKG refuse true facts: a
literal-valued relation given a range *named* like a datatype (``concepts#Date``, ``"number"``,
``"string"``) that is no declared class, an empty range, a range id that names nothing, one
relation declared twice. The loaders (``loader.py`` for OWL, ``pipeline.evaluation.
bench_ontology`` for Text2KGBench's JSON) read each such quirk in one stated way and record an
``OntologyNote`` with one of the ``NoteCode`` codes below; ``verikg ontology check`` reports
each as a warning of the same code. Nothing is guessed silently.

The datatype-name rule (``datatype_for_name``) is on the name, not on a list of files: the
local name of the range (after the last ``#`` or ``/``), with an ``xsd:``-like prefix
(``xsd:``, ``xs:``, ``xsd_``, ``rdfs:``) removed, compared case-, space-, ``_``- and
``-``-insensitively:

* Year → ``xsd:gYear``, YearMonth → ``xsd:gYearMonth``, Date → ``xsd:date``, DateTime /
  Timestamp / DateTimeStamp → ``xsd:dateTime`` (``dateTimeStamp``), Time → ``xsd:time``;
* Number / Numeric → ``xsd:decimal`` (a "number" holds quantities with units, "4.56
  (kilometrePerSeconds)"), Decimal, Float, Double → themselves, Integer / Int →
  ``xsd:integer``, NonNegativeInteger and the other XSD integer types → themselves;
* String / Text → ``xsd:string``, Boolean / Bool → ``xsd:boolean``, AnyURI → ``xsd:anyURI``;
* Literal → ``rdfs:Literal`` (any value);
* with an explicit ``xsd:``/``xs:`` prefix, any XSD datatype's local name (``xsd:token``);
  without one, the XSD names that are also ordinary class names (Language, Name, Duration,
  Long, Short, Byte, Token) are not read as datatypes;
* an IRI in the XSD namespace, or ``rdfs:Literal`` and the other RDF/OWL literal datatypes,
  is that datatype.

The rule applies only to a range that names no declared class: a class the file declares is a
class, whatever it is called.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pipeline.models import IRI, OntologyNote, PropertyKind, local_name

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"
OWL_NS = "http://www.w3.org/2002/07/owl#"
RDFS_LITERAL = IRI(RDFS_NS + "Literal")
OWL_THING = IRI(OWL_NS + "Thing")
#: the literal datatypes of OWL 2's datatype map outside the XSD namespace
LITERAL_DATATYPES = frozenset({RDFS_LITERAL, IRI(RDF_NS + "PlainLiteral"),
                               IRI(RDF_NS + "langString"), IRI(RDF_NS + "XMLLiteral"),
                               IRI(RDF_NS + "HTML"), IRI(OWL_NS + "real"),
                               IRI(OWL_NS + "rational")})


class NoteCode(StrEnum):
    """The quirks a loader reads in a non-literal way (each is also an ``OntologyIssueCode``,
    reported as a warning)."""

    #: a range that is no declared class but is named like a datatype → a datatype property
    DATATYPE_LIKE_RANGE = "datatype-like-range"
    #: an empty range (JSON ``"range": ""``) → a datatype property with range rdfs:Literal
    EMPTY_RANGE = "empty-range"
    #: a range id that names no concept and no datatype → an object property, open range
    UNKNOWN_RANGE = "unknown-range"
    #: a domain id that is empty or names no concept → an open domain
    UNKNOWN_DOMAIN = "unknown-domain"
    #: one relation declared more than once → one property, the union of the declarations
    REDECLARED_PROPERTY = "redeclared-property"
    #: a property read both as an object and as a datatype property → an object property
    PROPERTY_KIND_CONFLICT = "property-kind-conflict"


#: every XSD datatype of OWL 2's datatype map (and XSD 1.1's date/time ones), by local name
XSD_DATATYPES = (
    "anyURI", "base64Binary", "boolean", "byte", "date", "dateTime", "dateTimeStamp",
    "dayTimeDuration", "decimal", "double", "duration", "float", "gDay", "gMonth", "gMonthDay",
    "gYear", "gYearMonth", "hexBinary", "int", "integer", "language", "long", "Name", "NCName",
    "negativeInteger", "NMTOKEN", "nonNegativeInteger", "nonPositiveInteger",
    "normalizedString", "positiveInteger", "short", "string", "time", "token", "unsignedByte",
    "unsignedInt", "unsignedLong", "unsignedShort", "yearMonthDuration")
#: XSD local names that are also ordinary class names: a datatype only with an xsd: prefix
_AMBIGUOUS = frozenset({"byte", "duration", "language", "long", "name", "ncname", "nmtoken",
                        "short", "token", "daytimeduration", "yearmonthduration", "gday",
                        "gmonth", "gmonthday", "hexbinary", "base64binary"})
#: the plain-word names of datatypes (keys are casefolded, without spaces, "_" or "-")
_ALIASES: dict[str, str] = {
    "year": "gYear", "yearmonth": "gYearMonth", "date": "date", "datetime": "dateTime",
    "timestamp": "dateTime", "time": "time", "number": "decimal", "numeric": "decimal",
    "int": "integer", "text": "string", "bool": "boolean", "literal": RDFS_LITERAL,
}
_XSD_PREFIX = re.compile(r"^(?:xsd|xs|xmlschema)[:_.\-]", re.IGNORECASE)
_RDFS_PREFIX = re.compile(r"^rdfs?[:_.\-]", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s_\-]+")


def _key(name: str) -> str:
    return _SEPARATORS.sub("", name).casefold()


_XSD_BY_KEY = {_key(n): n for n in XSD_DATATYPES}


def is_datatype_iri(iri: str) -> bool:
    """An IRI in the XSD namespace, or one of OWL 2's RDF/OWL literal datatypes."""
    return iri.startswith(XSD) or iri in LITERAL_DATATYPES


def datatype_for_name(name: str) -> IRI | None:
    """The datatype a range called ``name`` (a bare name, a CURIE-like ``xsd:date`` or an IRI)
    stands for, or None when the name is not a datatype's (see the module docstring)."""
    text = name.strip()
    if not text:
        return None
    if is_datatype_iri(text):
        return IRI(text)
    local = local_name(text) if re.search(r"[#/]", text) else text
    explicit = _XSD_PREFIX.match(local)
    local = local[explicit.end():] if explicit else _RDFS_PREFIX.sub("", local)
    key = _key(local)
    if not key:
        return None
    target = _ALIASES.get(key)
    if target is None and key in _XSD_BY_KEY and (explicit or key not in _AMBIGUOUS):
        target = _XSD_BY_KEY[key]
    if target is None:
        return None
    return IRI(target) if target.startswith(("http:", "https:")) else IRI(XSD + target)


def curie(iri: str) -> str:
    """``xsd:date``, ``rdfs:Literal``, ``owl:Thing``; other IRIs unchanged (for messages)."""
    for prefix, ns in (("xsd", XSD), ("rdfs", RDFS_NS), ("rdf", RDF_NS), ("owl", OWL_NS)):
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


@dataclass(frozen=True)
class Declaration:
    """One declaration of a property as a loader read it: its kind, its domain classes and its
    ranges (empty ``domain`` or ``range``: open, any subject or value), with what the file
    said, for messages."""

    kind: PropertyKind
    domain: tuple[IRI, ...]
    range: tuple[IRI, ...]
    said: str


def _union(parts: Sequence[tuple[IRI, ...]], open_iri: IRI) -> tuple[IRI, ...]:
    """The union of several domains or ranges; an open one (empty, or ``open_iri``) opens it."""
    if any(not p or open_iri in p for p in parts):
        return ()
    return tuple(dict.fromkeys(i for p in parts for i in p))


@dataclass(frozen=True)
class Merged:
    kind: PropertyKind
    domain: tuple[IRI, ...]
    range: tuple[IRI, ...]
    notes: tuple[OntologyNote, ...]


def _text(iris: tuple[IRI, ...], labels: Mapping[str, str], empty: str) -> str:
    return " or ".join(labels.get(i, curie(i)) for i in iris) or empty


def merge_declarations(iri: IRI, label: str, decls: Sequence[Declaration],
                       labels: Mapping[str, str] | None = None) -> Merged:
    """One property from several declarations of it: the union of their domains and of their
    ranges (a declaration with an open domain or range opens the union). When they disagree on
    kind, the object reading wins: the property is an object property over the object
    declarations' ranges, and the datatype declarations' ranges are dropped (a literal value
    is then refused, an entity is not) — noted as ``property-kind-conflict``."""
    names = labels or {}
    if len(decls) == 1:
        d = decls[0]
        return Merged(d.kind, d.domain, d.range, ())
    kinds = {d.kind for d in decls}
    domain = _union([d.domain for d in decls], OWL_THING)
    notes: list[OntologyNote] = []
    if len(kinds) > 1:
        kind = PropertyKind.OBJECT
        kept = [d for d in decls if d.kind is PropertyKind.OBJECT]
        dropped = [d for d in decls if d.kind is PropertyKind.DATATYPE]
        rng = _union([d.range for d in kept], OWL_THING)
        dropped_text = ", ".join(_text(d.range, names, "rdfs:Literal") for d in dropped)
        notes.append(OntologyNote(
            code=NoteCode.PROPERTY_KIND_CONFLICT.value,
            message=(f"relation '{label}' is declared both with an object range and with a "
                     f"datatype range ({dropped_text}): VeriKG reads it as an object property "
                     f"with range {_text(rng, names, 'owl:Thing (any entity)')}; the datatype "
                     "range is dropped, so a literal value is refused"),
            iris=(iri,)))
    else:
        kind = next(iter(kinds))
        open_iri = OWL_THING if kind is PropertyKind.OBJECT else RDFS_LITERAL
        rng = _union([d.range for d in decls], open_iri)
        if not rng and kind is PropertyKind.DATATYPE:
            rng = (RDFS_LITERAL,)
    any_range = "owl:Thing (any entity)" if kind is PropertyKind.OBJECT else "any value"
    notes.insert(0, OntologyNote(
        code=NoteCode.REDECLARED_PROPERTY.value,
        message=(f"relation '{label}' is declared {len(decls)} times "
                 f"({'; '.join(d.said for d in decls)}): VeriKG reads it as one "
                 f"{kind.value} property with domain {_text(domain, names, 'any subject')} "
                 f"and range {_text(rng, names, any_range)}"),
        iris=(iri, *domain, *rng)))
    return Merged(kind, domain, rng, tuple(notes))


__all__ = ["LITERAL_DATATYPES", "OWL_THING", "RDFS_LITERAL", "XSD", "XSD_DATATYPES",
           "Declaration", "Merged", "NoteCode", "curie", "datatype_for_name",
           "is_datatype_iri", "merge_declarations"]
