"""A tiny, ontology-free knowledge graph for the graph-store compliance suite.

Two documents, three chunks, four entities, four assertions (one with a literal object, one
stated twice) and two quarantined candidates, all built with the models' own factories so ids
are exactly what the pipeline would produce. The ``sample`` and ``filled`` fixtures of
``tests/fixtures.py`` hand it to the compliance and hostile-input suites.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipeline.models import (
    IRI,
    AddAssertion,
    Assertion,
    AssertionStatus,
    CandidateTriple,
    Chunk,
    Document,
    EntityRef,
    LiteralValue,
    Provenance,
    QuarantinedCandidate,
    RemoveAssertion,
    RenameEntity,
    RunId,
    SetStatus,
    Span,
    Triple,
    Violation,
    ViolationReason,
)
from pipeline.store.base import GraphStore
from pipeline.store.rules import canonical

EX = "http://example.org/onto#"
PERSON, ORGANIZATION, CITY = EX + "Person", EX + "Organization", EX + "City"
WORKS_FOR, LOCATED_IN, FOUNDED_YEAR = EX + "worksFor", EX + "locatedIn", EX + "foundedYear"
GYEAR = "http://www.w3.org/2001/XMLSchema#gYear"

#: text that would break a query built by string concatenation, in Cypher or SQL
INJECTIONS = (
    "}) DETACH DELETE n //",
    "`) MATCH (n) DETACH DELETE n //",
    "Robert'); DROP TABLE assertions;--",
    "quote \" and ' and \\ and `backtick`",
    "$id {id: 'x'} :Label",
)

#: ontology terms whose local names must never reach a query string
CRAFTED_IRIS = (
    EX + "works`For",
    EX + "worksFor` {id: 1}]->() DETACH DELETE n //",
    EX + "has part",
    EX + "9lives",
    EX + "worksFor\n",
    EX + "works-for",
)


def provenance(doc: Document, chunk: Chunk, quote: str, *, model: str = "fake-llm",
               prompt_version: str = "extract-v1", run_id: str = "run-1",
               attempts: int = 1) -> Provenance:
    """Provenance for ``quote``, which must occur in ``chunk``; the span is in the document."""
    start = doc.text.index(quote, chunk.span.start)
    return Provenance(document_id=doc.id, chunk_id=chunk.id,
                      span=Span(start=start, end=start + len(quote)), quote=quote, model=model,
                      prompt_version=prompt_version, run_id=RunId(run_id), attempts=attempts,
                      samples_agreeing=2, samples_total=3)


def assertion(subject: EntityRef, predicate: str, obj: EntityRef | LiteralValue,
              *provenance: Provenance, confidence: float = 0.75,
              status: AssertionStatus = AssertionStatus.DRAFT) -> Assertion:
    triple = Triple(subject=subject, predicate=IRI(predicate), object=obj)
    return Assertion.of(triple, confidence=confidence, provenance=tuple(provenance),
                        status=status)


@dataclass(frozen=True)
class Sample:
    documents: list[Document]
    chunks: list[Chunk]
    people: tuple[EntityRef, EntityRef]
    company: EntityRef
    city: EntityRef
    works: Assertion  # Ada worksFor company, stated in two chunks
    located: Assertion  # company locatedIn London
    babbage_works: Assertion  # Babbage worksFor company
    founded: Assertion  # company foundedYear "1834"^^gYear (a literal object)
    quarantine: list[QuarantinedCandidate]

    @property
    def assertions(self) -> list[Assertion]:
        """All four, in the store's canonical form, ordered by id (as reads return them)."""
        return sorted((canonical(a) for a in (self.works, self.located, self.babbage_works,
                                              self.founded)), key=lambda a: a.id)

    @property
    def entities(self) -> list[EntityRef]:
        return sorted([*self.people, self.company, self.city], key=lambda e: e.id)


def build_sample() -> Sample:
    """The sample graph, its assertions in the store's canonical form."""
    d1 = Document.from_text("Ada Lovelace works for the Engine Company. "
                            "The Engine Company is located in London.",
                            source="data/ada.md", title="Ada")
    d2 = Document.from_text("Charles Babbage works for the Engine Company, founded in 1834. "
                            "Ada Lovelace works for the Engine Company too.",
                            source="data/babbage.md", title="Babbage")
    split = d1.text.index("The Engine")
    c1 = Chunk.make(d1, 0, 0, split)
    c2 = Chunk.make(d1, 1, split, len(d1.text))
    c3 = Chunk.make(d2, 0, 0, len(d2.text))

    ada = EntityRef.make("Ada Lovelace", PERSON)
    babbage = EntityRef.make("Charles Babbage", PERSON)
    company = EntityRef.make("Engine Company", ORGANIZATION)
    london = EntityRef.make("London", CITY)

    works = assertion(ada, WORKS_FOR, company,
                      provenance(d1, c1, "Ada Lovelace works for the Engine Company"),
                      provenance(d2, c3, "Ada Lovelace works for the Engine Company too"),
                      confidence=0.9)
    located = assertion(company, LOCATED_IN, london,
                        provenance(d1, c2, "The Engine Company is located in London"),
                        confidence=0.8)
    babbage_works = assertion(babbage, WORKS_FOR, company,
                              provenance(d2, c3, "Charles Babbage works for the Engine Company"),
                              confidence=0.7)
    founded = assertion(company, FOUNDED_YEAR, LiteralValue(value="1834", datatype=IRI(GYEAR)),
                        provenance(d2, c3, "founded in 1834", attempts=2), confidence=0.6)

    bad = QuarantinedCandidate.make(
        chunk=c1, raw='{"subject": "Ada", "predicate": "inventedBy", "object": "Engine"}',
        candidate=CandidateTriple(subject="Ada", predicate="inventedBy", object="Engine"),
        violations=(Violation(reason=ViolationReason.UNKNOWN_PREDICATE, check="predicate",
                              detail="inventedBy is not in the ontology"),),
        model="fake-llm", prompt_version="extract-v1", run_id=RunId("run-1"), attempts=3,
        sample_index=0)
    garbled = QuarantinedCandidate.make(
        chunk=c3, raw="I think the answer is yes", candidate=None,
        violations=(Violation(reason=ViolationReason.MALFORMED_OUTPUT, check="json",
                              detail="not JSON"),),
        model="fake-llm", prompt_version="extract-v1", run_id=RunId("run-1"), attempts=3,
        sample_index=1)

    return Sample(documents=[d1, d2], chunks=[c1, c2, c3], people=(ada, babbage),
                  company=company, city=london, works=canonical(works),
                  located=canonical(located), babbage_works=canonical(babbage_works),
                  founded=canonical(founded), quarantine=sorted([bad, garbled],
                                                                key=lambda q: q.id))


def snapshot(store: GraphStore) -> tuple[object, ...]:
    """Everything a caller can observe, to prove that a refused write changed nothing."""
    return (store.counts(), store.assertions(), store.entities(), store.quarantined(),
            store.audit_log(), store.version())


def changes(sample: Sample) -> dict[str, Callable[[], AddAssertion | RemoveAssertion
                                                  | RenameEntity | SetStatus]]:
    """One change of each kind, against the filled sample store, made fresh on each call."""
    knows = assertion(sample.people[0], EX + "knows", sample.people[1])
    works = sample.works.id
    return {
        "add": lambda: AddAssertion(assertion=knows, kgcl="create edge ada knows babbage"),
        "add_certified": lambda: AddAssertion(
            assertion=knows.model_copy(update={"status": AssertionStatus.CERTIFIED})),
        "remove": lambda: RemoveAssertion(assertion_id=sample.located.id),
        "rename": lambda: RenameEntity(entity_id=sample.city.id, new_label="Londinium"),
        "draft": lambda: SetStatus(assertion_id=works, status=AssertionStatus.QUARANTINED),
        "certify": lambda: SetStatus(assertion_id=works, status=AssertionStatus.CERTIFIED),
    }
