"""Helpers for the KGCL-on-the-graph and governance compliance tests: the sample ontology,
the embedder they index with, and a snapshot of store and index."""

from __future__ import annotations

from pipeline.index.kg_index import KGIndex
from pipeline.models import IRI, Ontology, OntologyClass, OntologyProperty, PropertyKind
from pipeline.store import GraphStore
from tests.compliance.graph_store_fixtures import EX, FOUNDED_YEAR, LOCATED_IN, WORKS_FOR, snapshot
from tests.fakes import FakeEmbedder

GYEAR = "http://www.w3.org/2001/XMLSchema#gYear"

#: the sample graph's ontology, with a small class hierarchy for deepen/shallow
ONTOLOGY = Ontology(
    iri=IRI("http://example.org/onto"), label="sample",
    classes=(
        OntologyClass(iri=IRI(EX + "Person"), label="Person"),
        OntologyClass(iri=IRI(EX + "Scientist"), label="Scientist", parents=(IRI(EX + "Person"),)),
        OntologyClass(iri=IRI(EX + "Mathematician"), label="Mathematician",
                      parents=(IRI(EX + "Scientist"),)),
        OntologyClass(iri=IRI(EX + "Organization"), label="Organization"),
        OntologyClass(iri=IRI(EX + "City"), label="City"),
    ),
    properties=(
        OntologyProperty(iri=IRI(WORKS_FOR), label="works for", kind=PropertyKind.OBJECT,
                         domain=(IRI(EX + "Person"),), range=(IRI(EX + "Organization"),)),
        OntologyProperty(iri=IRI(LOCATED_IN), label="located in", kind=PropertyKind.OBJECT,
                         domain=(IRI(EX + "Organization"),), range=(IRI(EX + "City"),)),
        OntologyProperty(iri=IRI(EX + "knows"), label="knows", kind=PropertyKind.OBJECT),
        OntologyProperty(iri=IRI(FOUNDED_YEAR), label="founded year",
                         kind=PropertyKind.DATATYPE, domain=(IRI(EX + "Organization"),),
                         range=(IRI(GYEAR),)),
    ))


def counting_embedder() -> FakeEmbedder:
    """The embedder of these tests: hashed 16-d vectors, recording every text it embeds."""
    return FakeEmbedder(16, "counting-hash-v1", keyed_by_model=False)


def index_state(index: KGIndex) -> tuple[object, ...]:
    """Everything the index holds: its version, its rows and their vectors."""
    rows = index.rows()
    assert index.vectors is not None
    ids = index.vectors.ids.tolist()
    vectors = {int(i): index.vectors.vectors[p].tobytes() for p, i in enumerate(ids)}
    return (index.version, rows, vectors, sorted(ids))


def full_snapshot(store: GraphStore) -> tuple[object, ...]:
    """``snapshot`` plus what the governance additions hold."""
    return (*snapshot(store), store.annotations(), store.change_requests())


def graph_of(store: GraphStore) -> tuple[object, ...]:
    """The graph a store holds, comparable across backends (no timestamps, no audit seq)."""
    audit = [(e.actor, e.action, e.target, e.detail, e.role, e.before, e.after, e.request_id)
             for e in store.audit_log()]
    return (store.assertions(), store.entities(), store.annotations(), store.counts(), audit)
