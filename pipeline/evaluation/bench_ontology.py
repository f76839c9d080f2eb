"""A Text2KGBench ontology (its JSON) read as a VeriKG ``Ontology``."""

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
    OntologyProperty,
    PropertyKind,
)

XSD = "http://www.w3.org/2001/XMLSchema#"
#: the benchmark's datatype ranges, as XSD: "number" holds quantities with units
#: ("4.56 (kilometrePerSeconds)"), so it maps to VeriKG's quantity reading of xsd:decimal
DATATYPES = {"string": XSD + "string", "number": XSD + "decimal", "date": XSD + "date"}


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
    ``pid``/``label``/``domain``/``range``) as a VeriKG ontology. A range that names no concept
    and no datatype (``""`` or an unknown id) leaves the property's range open."""
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


def _bench_ontology(raw: dict[str, Any], concepts: Any, relations: Any,
                    path: Path) -> BenchOntology:
    oid = str(raw.get("id") or path.stem)
    base = f"urn:text2kgbench:{oid}#"
    classes: dict[str, OntologyClass] = {}
    for c in concepts:
        iri = IRI(base + _camel(c["label"], upper=True))
        classes[c["qid"]] = OntologyClass(iri=iri, label=c["label"])
    props = []
    for r in relations:
        dom = classes.get(r.get("domain", ""))
        rng = str(r.get("range", "") or "")
        datatype = DATATYPES.get(rng.lower())
        if datatype:
            kind = PropertyKind.DATATYPE
            ranges: tuple[IRI, ...] = (IRI(datatype),)
        else:
            kind = PropertyKind.OBJECT
            ranges = (classes[rng].iri,) if rng in classes else ()
        props.append(OntologyProperty(
            iri=IRI(base + _camel(r["label"], upper=False)), label=r["label"], kind=kind,
            domain=(dom.iri,) if dom else (), range=ranges))
    ontology = Ontology(iri=IRI(base.rstrip("#")), label=str(raw.get("title") or oid),
                        classes=tuple(classes.values()), properties=tuple(props),
                        source=str(path))
    return BenchOntology(id=oid, title=ontology.label,
                         relation_labels=tuple(r["label"] for r in relations),
                         concept_labels=tuple(c["label"] for c in concepts), ontology=ontology)


__all__ = ["DATATYPES", "BenchOntology", "load_bench_ontology"]
