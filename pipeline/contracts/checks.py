"""The named post-condition checks on one candidate triple.

Each check reads a ``CandidateState`` (the candidate plus what earlier checks resolved: the
ontology property, the matched spans) and returns a ``Violation`` or None. Checks are looked up
by the names used in ``contracts/*.yaml``, so the file a domain expert reads is the one that
runs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.models import (
    IRI,
    CandidateTriple,
    Chunk,
    Ontology,
    OntologyProperty,
    PropertyKind,
    Violation,
    ViolationReason,
)
from pipeline.text.dates import parse_date
from pipeline.text.grounding import GroundingKind, ground
from pipeline.text.hostile import injection_shapes
from pipeline.text.normalise import normalise
from pipeline.text.values import parse_number

XSD = "http://www.w3.org/2001/XMLSchema#"

@dataclass
class CandidateState:
    candidate: CandidateTriple
    #: the text the candidate was read from; None for a statement a person makes (a KGCL
    #: change), which the text checks do not judge (``pipeline.contracts.statement``)
    chunk: Chunk | None
    ontology: Ontology
    prop: OntologyProperty | None = None
    subject_span: tuple[int, int] | None = None
    object_span: tuple[int, int] | None = None
    literal_value: str | None = None
    literal_datatype: str | None = None
    #: set by literal-is-a-value when the object is no value at all (one fault, one report)
    not_a_value: bool = False
    repairs: list[str] = field(default_factory=list)
    #: how the subject and object were grounded in the chunk (see ``pipeline.text.grounding``)
    subject_how: str = ""
    object_how: str = ""
    #: alias -> name pairs a curator gave (the contract's entity_resolution.aliases)
    aliases: dict[str, str] = field(default_factory=dict)


Check = Callable[[CandidateState], Violation | None]


def with_article(noun: str) -> str:
    """``noun`` with its indefinite article: "an integer", "a date"."""
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _v(reason: ViolationReason, check: str, detail: str) -> Violation:
    return Violation(reason=reason, check=check, detail=detail)


def _key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text).casefold()


def resolve_property(ontology: Ontology, surface: str) -> OntologyProperty | None:
    """Map a predicate as the model wrote it onto an ontology property: by IRI, label or local
    name, ignoring case, spaces, underscores and hyphens."""
    want = _key(surface.rsplit("#", 1)[-1].rsplit("/", 1)[-1] if "://" in surface else surface)
    for p in ontology.properties:
        if want in (_key(p.label), _key(p.local_name)) or surface == p.iri:
            return p
    return None


def fields_present(s: CandidateState) -> Violation | None:
    c = s.candidate
    empty = [n for n in ("subject", "predicate", "object") if not getattr(c, n).strip()]
    if empty:
        return _v(ViolationReason.EMPTY_FIELD, "fields-present",
                  f"{', '.join(empty)} is empty")
    return None


def predicate_in_ontology(s: CandidateState) -> Violation | None:
    prop = resolve_property(s.ontology, s.candidate.predicate)
    if prop is None:
        known = ", ".join(sorted(p.label for p in s.ontology.properties))
        return _v(ViolationReason.UNKNOWN_PREDICATE, "predicate-in-ontology",
                  f"'{s.candidate.predicate}' is not a property of the ontology; use one of: "
                  f"{known}")
    if s.candidate.predicate not in (prop.label, prop.local_name, prop.iri):
        s.repairs.append(f"predicate '{s.candidate.predicate}' mapped to '{prop.label}'")
    s.prop = prop
    return None


#: characters only query and markup languages use; with the invisible ones (control, format,
#: surrogate, private-use, unassigned, combining marks) a mention may hold them only where the
#: text holds them too
_SYNTAX_CHARS = frozenset("`{}[]<>;$\\|")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Me"})
#: never part of a name, even where a document holds them: control characters and the bidi
#: embeddings, overrides and isolates that make text read other than it is ("Trojan Source")
_NEVER_IN_NAMES = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def foreign_characters(mention: str, text: str) -> list[str]:
    """The syntax or invisible characters of ``mention`` that ``text`` never writes, and any
    control or bidi-override character at all.

    Grounding ignores punctuation (so "NASA's" matches "NASA"), which would otherwise let a
    model carry ``}) DETACH DELETE n //``-style debris, NUL bytes or zero-width characters
    around a real name into the graph's labels."""
    return sorted({ch for ch in mention
                   if _NEVER_IN_NAMES.match(ch) or (
                       (ch in _SYNTAX_CHARS or (unicodedata.category(ch) in _INVISIBLE_CATEGORIES
                                                and not ch.isspace()))
                       and ch not in text)})


#: words that name a kind of place in a class label: the object of a property whose range is
#: such a class may be grounded by a demonym ("an Italian company" states the country Italy)
_PLACE_WORDS = frozenset({
    "place", "location", "country", "nation", "state", "city", "town", "village", "region",
    "province", "county", "district", "territory", "continent", "municipality", "settlement",
    "area", "island", "capital"})


def _place_like(ontology: Ontology, classes: tuple[str, ...]) -> bool:
    for cls in classes:
        for iri in ontology.ancestors(cls):
            name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", ontology.class_label(iri))
            if _PLACE_WORDS & {w.casefold() for w in re.findall(r"[A-Za-z]+", name)}:
                return True
    return False


def _object_kind(s: CandidateState) -> GroundingKind:
    """How the object may be written: a value (dates and numbers in any written form), a place
    (also by its demonym), or a name."""
    prop = s.prop
    if prop is None:
        return "name"
    if prop.kind is PropertyKind.DATATYPE:
        return "value"
    return "place" if _place_like(s.ontology, prop.range) else "name"


def _in_text(s: CandidateState, role: str) -> tuple[tuple[int, int] | None, str, str]:
    """The span of the subject or object in the chunk and how it was found, or None with
    what is wrong."""
    mention = getattr(s.candidate, role)
    if s.chunk is None:
        return None, "", f"{role} '{mention}' comes from no text"
    kind: GroundingKind = "name" if role == "subject" else _object_kind(s)
    found = ground(s.chunk.text, mention, kind=kind, aliases=s.aliases or None,
                   initials=False)
    if found is None and kind != "value" and (parse_date(mention) or parse_number(mention)):
        # a date or an amount is grounded by its value, whatever the property's range says
        # (the range's own check, object-is-individual, judges whether a value fits there)
        found = ground(s.chunk.text, mention, kind="value")
    if found is None:
        return None, "", f"{role} '{mention}' is not written in the text"
    foreign = foreign_characters(mention, s.chunk.text)
    if foreign:
        return None, "", (f"{role} {mention!r} holds characters the text does not write: "
                          f"{', '.join(repr(c) for c in foreign)}; copy it exactly")
    return (found.start, found.end), found.how, ""


def subject_in_text(s: CandidateState) -> Violation | None:
    s.subject_span, s.subject_how, problem = _in_text(s, "subject")
    if s.subject_span is None:
        return _v(ViolationReason.SUBJECT_NOT_IN_TEXT, "subject-in-text", problem)
    return None


def object_in_text(s: CandidateState) -> Violation | None:
    s.object_span, s.object_how, problem = _in_text(s, "object")
    if s.object_span is None:
        return _v(ViolationReason.OBJECT_NOT_IN_TEXT, "object-in-text", problem)
    return None


def names_are_plain(s: CandidateState) -> Violation | None:
    """Grounding cannot refuse a payload the document itself writes as a name (an injected
    document can write anything); this check refuses names that read as code or instructions,
    so an obedient model's triple is quarantined instead of stored as a draft."""
    problems = []
    prop_is_literal = s.prop is not None and s.prop.kind is PropertyKind.DATATYPE
    for role in ("subject", "object"):
        if role == "object" and prop_is_literal:
            continue  # a string value may quote code; it is never a label
        mention = getattr(s.candidate, role)
        shapes = injection_shapes(mention)
        if shapes:
            problems.append(f"{role} {mention!r} holds {', '.join(shapes)}")
    if problems:
        return _v(ViolationReason.INJECTION_SHAPED, "names-are-plain",
                  "; ".join(problems) + "; a subject or object is the name of a thing as the "
                  "text writes it, never code or an instruction")
    return None


def not_a_class(s: CandidateState) -> Violation | None:
    names = {normalise(c.label) for c in s.ontology.classes} | {
        normalise(re.sub(r"(?<=[a-z])(?=[A-Z])", " ", c.iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]))
        for c in s.ontology.classes}
    for role in ("subject", "object"):
        if role == "object" and s.prop is not None and s.prop.kind is PropertyKind.DATATYPE:
            continue
        if normalise(getattr(s.candidate, role)) in names:
            return _v(ViolationReason.CLASS_AS_INSTANCE, "not-a-class",
                      f"{role} '{getattr(s.candidate, role)}' names an ontology class, not an "
                      "individual")
    return None


_VALUE_LIKE = re.compile(r"^(?:in\s+|about\s+|around\s+)?[+-]?\d", re.IGNORECASE)


def object_is_individual(s: CandidateState) -> Violation | None:
    """An object property links two things; "2018" or "1.5 million km" is a value, not a
    launch vehicle or a planet."""
    if s.prop is None or s.prop.kind is not PropertyKind.OBJECT:
        return None
    if _VALUE_LIKE.match(s.candidate.object.strip()):
        return _v(ViolationReason.RANGE_MISMATCH, "object-is-individual",
                  f"'{s.candidate.object}' is a value, but '{s.prop.label}' links to a "
                  f"{' or '.join(s.ontology.class_label(r) for r in s.prop.range) or 'thing'}")
    return None


def not_self_loop(s: CandidateState) -> Violation | None:
    if normalise(s.candidate.subject) == normalise(s.candidate.object):
        return _v(ViolationReason.SELF_LOOP, "not-self-loop",
                  f"subject and object are both '{s.candidate.subject}'")
    return None


#: words that only say a value is approximate ("about 1,000 km" is the value 1000)
_APPROXIMATELY = re.compile(r"^(?:(?:about|around|approximately|approx\.?|roughly|some|nearly|"
                            r"almost|over|more than|less than|under|circa|ca\.|c\.)\s+|[~≈]\s*)",
                            re.IGNORECASE)
_INTEGER_TYPES = ("integer", "int", "long", "short", "byte", "nonNegativeInteger",
                  "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt",
                  "unsignedLong")


def parse_literal(raw: str, datatype: str) -> str | None:
    """The canonical lexical form of ``raw`` as ``datatype``, or None if it does not parse.

    Dates and numbers are read by ``pipeline.text.dates`` and ``pipeline.text.values`` — the
    same reading grounding uses: dates take ISO form (``2001-07-01``; ``1920`` when only the
    year is stated), numbers may be written with separators, decimals, an exponent, words or a
    scale ("875.4 million") and a unit after them (the value is the number), after a word that
    only says they are approximate ("about")."""
    text = raw.strip()
    local = datatype.removeprefix(XSD)
    if local == "gYear":
        iso = parse_date(text)
        if iso is not None:
            return iso[:4]
        m = re.search(r"\b(\d{4})\b", text)
        return m.group(1) if m else None
    if local in _INTEGER_TYPES or local in ("decimal", "double", "float"):
        q = parse_number(_APPROXIMATELY.sub("", text))
        if q is None:
            return None
        if local in ("decimal", "double", "float"):
            return repr(q.value)
        return str(int(q.value)) if q.value.is_integer() else None
    if local in ("date", "dateTime"):
        return parse_date(text)
    if local == "boolean":
        return {"true": "true", "false": "false", "yes": "true", "no": "false"}.get(
            text.casefold())
    return text or None  # string, anyURI, rdfs:Literal


#: datatypes whose values are numbers, dates, times or truth values — not free text
_TYPED = ("integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
          "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong", "decimal",
          "double", "float", "date", "dateTime", "dateTimeStamp", "time", "gYear",
          "gYearMonth", "boolean")


def _is_any_value(text: str) -> bool:
    """Whether ``text`` reads as a number, a date or a truth value of some kind."""
    return (parse_date(text) is not None or parse_number(text) is not None
            or text.strip().casefold() in ("true", "false", "yes", "no"))


def literal_is_a_value(s: CandidateState) -> Violation | None:
    """The object of a property whose every range is a number, date or truth value is one of
    those at all: "unknown" or "Ada Byron" for a founding year is no value, whatever the
    ontology's range (a date where a number is declared is the soft ``literal-datatype``'s
    concern: the ontology may be the one that is wrong)."""
    if s.prop is None or s.prop.kind is not PropertyKind.DATATYPE or not s.prop.range:
        return None
    if not all(d.removeprefix(XSD) in _TYPED for d in s.prop.range):
        return None
    if _is_any_value(s.candidate.object):
        return None
    s.not_a_value = True
    wanted = " or ".join(d.removeprefix(XSD) for d in s.prop.range)
    return _v(ViolationReason.NOT_A_VALUE, "literal-is-a-value",
              f"'{s.candidate.object}' is no number, date or truth value, but "
              f"'{s.prop.label}' takes {with_article(wanted)}")


def literal_datatype(s: CandidateState) -> Violation | None:
    """The value parses as one of the property's datatypes (the first that fits gives the
    canonical value and the stored datatype)."""
    if s.prop is None or s.prop.kind is not PropertyKind.DATATYPE or s.not_a_value:
        return None
    for datatype in s.prop.range or (IRI(XSD + "string"),):
        value = parse_literal(s.candidate.object, datatype)
        if value is not None:
            s.literal_value, s.literal_datatype = value, datatype
            if value != s.candidate.object.strip() and datatype.startswith(XSD) and \
                    datatype.removeprefix(XSD) in _TYPED:
                s.repairs.append(f"value '{s.candidate.object}' read as {value} "
                                 f"({datatype.removeprefix(XSD)})")
            return None
    wanted = " or ".join(d.removeprefix(XSD) for d in s.prop.range)
    return _v(ViolationReason.LITERAL_DATATYPE, "literal-datatype",
              f"'{s.candidate.object}' is not a valid {wanted} for '{s.prop.label}'")


CHECKS: dict[str, Check] = {
    "fields-present": fields_present,
    "predicate-in-ontology": predicate_in_ontology,
    "subject-in-text": subject_in_text,
    "object-in-text": object_in_text,
    "names-are-plain": names_are_plain,
    "not-a-class": not_a_class,
    "object-is-individual": object_is_individual,
    "not-self-loop": not_self_loop,
    "literal-is-a-value": literal_is_a_value,
    "literal-datatype": literal_datatype,
}

__all__ = ["CHECKS", "CandidateState", "Check", "foreign_characters", "parse_literal",
           "resolve_property"]
