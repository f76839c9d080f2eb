"""The ontology a graph is built under: classes, properties, competency questions."""

from __future__ import annotations

from enum import StrEnum

from pipeline.models.base import IRI, Frozen, local_name


class OntologyClass(Frozen):
    iri: IRI
    label: str
    parents: tuple[IRI, ...] = ()
    comment: str = ""


class PropertyKind(StrEnum):
    OBJECT = "object"
    DATATYPE = "datatype"


class OntologyProperty(Frozen):
    """An OWL property. ``range`` holds class IRIs (object) or XSD datatype IRIs (datatype)."""

    iri: IRI
    label: str
    kind: PropertyKind
    domain: tuple[IRI, ...] = ()
    range: tuple[IRI, ...] = ()
    functional: bool = False
    comment: str = ""

    @property
    def local_name(self) -> str:
        return local_name(self.iri)


class CompetencyQuestion(Frozen):
    id: str
    text: str
    sparql: str | None = None
    answer_type: str | None = None


class OntologyNote(Frozen):
    """How a loader read a quirk of an ontology file (a range named like a datatype, an empty
    range, a property declared twice): never a silent guess, reported by ``ontology check``
    as a warning with this code."""

    code: str
    message: str
    iris: tuple[IRI, ...] = ()


class Ontology(Frozen):
    """The schema extraction works under: classes, properties and competency questions."""

    iri: IRI
    label: str
    classes: tuple[OntologyClass, ...]
    properties: tuple[OntologyProperty, ...]
    competency_questions: tuple[CompetencyQuestion, ...] = ()
    source: str = ""
    sha256: str = ""
    #: what the loader read in a non-literal way, and how
    notes: tuple[OntologyNote, ...] = ()

    def get_class(self, iri: str) -> OntologyClass | None:
        return next((c for c in self.classes if c.iri == iri), None)

    def get_property(self, iri: str) -> OntologyProperty | None:
        return next((p for p in self.properties if p.iri == iri), None)

    def ancestors(self, iri: str) -> set[str]:
        """``iri`` and every class above it (cycle-safe)."""
        seen: set[str] = set()
        todo = [iri]
        while todo:
            cur = todo.pop()
            if cur in seen:
                continue
            seen.add(cur)
            cls = self.get_class(cur)
            if cls is not None:
                todo.extend(cls.parents)
        return seen

    def is_subclass(self, sub: str, sup: str) -> bool:
        return sup in self.ancestors(sub)

    def class_label(self, iri: str) -> str:
        cls = self.get_class(iri)
        return cls.label if cls else local_name(iri)
