"""A filter names predicates and types as the output shows them (labels), as the index keeps
them (local names) or by IRI; an unknown value is refused as clearly as an unknown column.
And ``k``: at least 1, never more than the index holds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import InputError
from pipeline.index import KGIndex
from pipeline.index.where import parse_where
from pipeline.models import IRI, Assertion, Chunk, Document, EntityRef, Provenance, RunId, Triple
from pipeline.ontology import load_ontology
from pipeline.retrieval import HybridRetriever
from pipeline.retrieval.terms import resolve_terms
from pipeline.store import SQLiteGraphStore
from tests.fakes import FakeEmbedder

SPACE = Path(__file__).resolve().parents[3] / "ontologies" / "space"
SP = "https://verikg.dev/ontology/space#"


@pytest.fixture()
def retriever(tmp_path: Path) -> Iterator[HybridRetriever]:
    doc = Document.from_text("Juno was operated by NASA. Juno was launched from Cape Canaveral.",
                             source="juno.md", title="Juno")
    chunk = Chunk.make(doc, 0, 0, len(doc.text))
    juno = EntityRef.make("Juno", SP + "RoboticMission")

    def fact(predicate: str, obj: EntityRef, quote: str) -> Assertion:
        start = doc.text.index(quote)
        prov = Provenance(document_id=doc.id, chunk_id=chunk.id,
                          span=chunk.span.model_copy(update={"start": start,
                                                             "end": start + len(quote)}),
                          quote=quote, model="fake", prompt_version="v1", run_id=RunId("r1"),
                          attempts=1)
        return Assertion.of(Triple(subject=juno, predicate=IRI(SP + predicate), object=obj),
                            confidence=0.9, provenance=(prov,))

    ontology = load_ontology(SPACE)
    with SQLiteGraphStore(tmp_path / "kg.sqlite") as store:
        store.upsert_documents([doc], [chunk])
        store.write_assertions([
            fact("operatedBy", EntityRef.make("NASA", SP + "SpaceAgency"),
                 "Juno was operated by NASA."),
            fact("launchedFrom", EntityRef.make("Cape Canaveral", SP + "LaunchSite"),
                 "Juno was launched from Cape Canaveral.")])
        embedder = FakeEmbedder()
        index = KGIndex.build(store, embedder, ontology=ontology)
        yield HybridRetriever(store, index, embedder, ontology=ontology)


@pytest.mark.parametrize("value", ["operated by", "Operated By", "operatedBy", "OPERATEDBY",
                                   SP + "operatedBy"])
def test_a_predicate_by_label_local_name_or_iri(retriever: HybridRetriever, value: str) -> None:
    hits = retriever.search("who operated Juno", k=5, where=f'predicate == "{value}"')
    assert [h.assertion.triple.predicate for h in hits if h.assertion] == [SP + "operatedBy"]
    listed = retriever.search("Juno", k=5, where=f'predicate in ["{value}", "launched from"]')
    assert len([h for h in listed if h.assertion]) == 2


def test_a_type_by_label_and_negation(retriever: HybridRetriever) -> None:
    entities = retriever.search("NASA", k=10, where='kind == "entity" and type == "space agency"')
    assert [h.label for h in entities] == ["NASA"]
    others = retriever.search("Juno", k=10, where='not predicate == "operated by" and '
                                                  'kind == "assertion"')
    assert [h.assertion.triple.predicate for h in others if h.assertion] == [SP + "launchedFrom"]


def test_an_unknown_value_is_refused_with_the_known_ones(retriever: HybridRetriever) -> None:
    with pytest.raises(InputError) as info:
        retriever.search("Juno", k=5, where='predicate == "operatd by"')
    message = str(info.value)
    assert "no predicate named 'operatd by'" in message
    assert "predicates: " in message and "launched from" in message
    assert "did you mean 'operated by'?" in message
    with pytest.raises(InputError,
                       match=r"no type named 'Spaceship' in filter .*; types: .*Space Agency"):
        retriever.search("Juno", k=5, where='type == "Spaceship"')


def test_resolving_rewrites_the_source_so_caches_never_mix(retriever: HybridRetriever) -> None:
    expr = resolve_terms(parse_where('predicate == "operated by" and confidence > 0.5'),
                         retriever.ontology, retriever.index)
    assert expr.source == '(predicate == "operatedBy") and (confidence > 0.5)'
    same = parse_where('status == "draft"')
    assert resolve_terms(same, retriever.ontology, retriever.index) is same


@pytest.mark.parametrize("k", [0, -5, 2.5, True, "3"])
def test_k_below_one_or_not_a_whole_number_is_refused(retriever: HybridRetriever,
                                                      k: object) -> None:
    with pytest.raises(InputError, match="k .* must be a whole number >= 1"):
        retriever.search("Juno", k=k)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        retriever.index.search(np.zeros((1, 24), dtype=np.float32), k)  # type: ignore[arg-type]


def test_a_huge_k_is_the_index_size(retriever: HybridRetriever) -> None:
    hits = retriever.search("Juno", k=1_000_000_000_000)
    assert len(hits) == len(retriever.index)  # every row, nothing allocated for the rest
    found = retriever.index.search(retriever.embedder.embed(["Juno"]), 10**12)
    assert len(found[0]) == len(retriever.index)
