"""A Text2KGBench ontology (its JSON) read as a VeriKG ``Ontology``.

Each relation's range is read by the rules the OWL loader shares (``pipeline.ontology.quirks``),
every non-literal reading recorded on ``Ontology.notes``:

* a concept id (``qid``): an object property over that concept (no note);
* a range that names no concept but is named like a datatype (``"string"``, ``"number"``,
  ``"Date"``, ``"xsd:gYear"`` …, any case): a datatype property over it
  (``datatype-like-range``; "number" is ``xsd:decimal``, a quantity with its unit);
* ``""``: a datatype property with range ``rdfs:Literal``, any value (``empty-range``);
* any other id (``"Q4830453"``, ``"Party"``): an object property with an open range
  (``unknown-range``); a domain that is empty or names no concept is open
  (``unknown-domain``);
* a relation declared more than once (the same label, or labels giving the same IRI): one
  property, the union of the declarations' domains and ranges (``redeclared-property``; if
  they disagree on kind, the object reading wins: ``property-kind-conflict``).

``BenchOntology.relation_labels`` keeps every relation label as the file gives it, repeats
included (the conformance metric reads the labels as a set).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pipeline.errors import ConfigurationError
from pipeline.models import (
    IRI,
    Frozen,
    Ontology,
    OntologyClass,
    OntologyNote,
    OntologyProperty,
    PropertyKind,
)
from pipeline.ontology.quirks import (
    RDFS_LITERAL,
    Declaration,
    NoteCode,
    curie,
    datatype_for_name,
    merge_declarations,
)


class BenchOntology(Frozen):
    """A benchmark ontology: its JSON as given, and the same as a VeriKG ``Ontology``."""

    id: str
    title: str
    relation_labels: tuple[str, ...]
    concept_labels: tuple[str, ...]
    ontology: Ontology

    @property
    def conformant_relations(self) -> frozenset[str]:
        """Relation labels as the benchmark expects systems to write them."""
        return frozenset(label.replace(" ", "_") for label in self.relation_labels)


def _camel(label: str, *, upper: bool) -> str:
    words = re.findall(r"[A-Za-z0-9]+", label)
    if not words:
        return "term"
    head = words[0] if not upper else words[0][:1].upper() + words[0][1:]
    name = head + "".join(w[:1].upper() + w[1:] for w in words[1:])
    return name if name[0].isalpha() else "_" + name


def load_bench_ontology(path: str | Path) -> BenchOntology:
    """Read a benchmark ontology JSON (``concepts`` with ``qid``/``label``, ``relations`` with
    ``pid``/``label``/``domain``/``range``) as a VeriKG ontology, its quirks read as the module
    docstring says and recorded on ``ontology.notes``."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        concepts, relations = raw["concepts"], raw["relations"]
    except OSError as exc:
        raise ConfigurationError(f"cannot read the ontology {path}: {exc}") from exc
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ConfigurationError(
            f"{path} is not a Text2KGBench ontology (a JSON object with \"concepts\" and "
            f"\"relations\"): {exc}") from exc
    try:
        return _bench_ontology(raw, concepts, relations, path)
    except (KeyError, TypeError, AttributeError, ValidationError) as exc:
        raise ConfigurationError(
            f"{path} is not a Text2KGBench ontology: every concept needs \"qid\" and "
            f"\"label\", every relation \"label\" (and \"domain\"/\"range\" ids): {exc!r}"
        ) from exc


def _read_range(label: str, iri: IRI, raw: str, classes: dict[str, OntologyClass]
                ) -> tuple[PropertyKind, tuple[IRI, ...], OntologyNote | None]:
    """The kind and range of one relation declaration, and the note if read non-literally."""
    if raw in classes:
        return PropertyKind.OBJECT, (classes[raw].iri,), None
    if not raw:
        return PropertyKind.DATATYPE, (RDFS_LITERAL,), OntologyNote(
            code=NoteCode.EMPTY_RANGE.value,
            message=(f"relation '{label}' has an empty range (\"\"): VeriKG reads it as a "
                     "datatype property with range rdfs:Literal (any value)"),
            iris=(iri, RDFS_LITERAL))
    datatype = datatype_for_name(raw)
    if datatype is not None:
        return PropertyKind.DATATYPE, (datatype,), OntologyNote(
            code=NoteCode.DATATYPE_LIKE_RANGE.value,
            message=(f"relation '{label}' has range '{raw}', which names no concept but a "
                     f"datatype: VeriKG reads it as a datatype property with range "
                     f"{curie(datatype)}"),
            iris=(iri, datatype))
    return PropertyKind.OBJECT, (), OntologyNote(
        code=NoteCode.UNKNOWN_RANGE.value,
        message=(f"relation '{label}' has range '{raw}', which names no concept of the "
                 "ontology and no datatype: VeriKG reads it as an object property with an open "
                 "range (owl:Thing, any entity)"),
        iris=(iri,))


def _read_domain(label: str, iri: IRI, raw: str, classes: dict[str, OntologyClass]
                 ) -> tuple[tuple[IRI, ...], OntologyNote | None]:
    if raw in classes:
        return (classes[raw].iri,), None
    said = "has no domain (\"\")" if not raw else f"has domain '{raw}', which names no concept"
    return (), OntologyNote(
        code=NoteCode.UNKNOWN_DOMAIN.value,
        message=f"relation '{label}' {said}: VeriKG reads it with an open domain (any subject)",
        iris=(iri,))


def _bench_ontology(raw: dict[str, Any], concepts: Any, relations: Any,
                    path: Path) -> BenchOntology:
    oid = str(raw.get("id") or path.stem)
    base = f"urn:text2kgbench:{oid}#"
    classes: dict[str, OntologyClass] = {}
    for c in concepts:
        iri = IRI(base + _camel(c["label"], upper=True))
        classes[c["qid"]] = OntologyClass(iri=iri, label=c["label"])
    # the declarations of each property IRI, in the file's order
    declared: dict[IRI, list[tuple[str, Declaration]]] = {}
    notes: list[OntologyNote] = []
    for r in relations:
        label = r["label"]
        iri = IRI(base + _camel(label, upper=False))
        raw_domain = str(r.get("domain", "") or "").strip()
        raw_range = str(r.get("range", "") or "").strip()
        domain, domain_note = _read_domain(label, iri, raw_domain, classes)
        kind, ranges, range_note = _read_range(label, iri, raw_range, classes)
        notes += [n for n in (domain_note, range_note) if n is not None and n not in notes]
        said = f"domain '{raw_domain}', range '{raw_range}'"
        declared.setdefault(iri, []).append(
            (label, Declaration(kind=kind, domain=domain, range=ranges, said=said)))
    names: dict[str, str] = {c.iri: c.label for c in classes.values()}
    props = []
    for iri, decls in declared.items():
        label = decls[0][0]
        merged = merge_declarations(iri, label, [d for _, d in decls], names)
        notes += merged.notes
        props.append(OntologyProperty(iri=iri, label=label, kind=merged.kind,
                                      domain=merged.domain, range=merged.range))
    ontology = Ontology(iri=IRI(base.rstrip("#")), label=str(raw.get("title") or oid),
                        classes=tuple(classes.values()), properties=tuple(props),
                        source=str(path), notes=tuple(notes))
    return BenchOntology(id=oid, title=ontology.label,
                         relation_labels=tuple(r["label"] for r in relations),
                         concept_labels=tuple(c["label"] for c in concepts), ontology=ontology)


__all__ = ["BenchOntology", "load_bench_ontology"]
