"""Every KGCL change type on the knowledge graph, the same on every store backend, atomic
across store and vector index: a request applies whole or not at all, and the index follows
by a delta that embeds only what changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.errors import ChangeRequestError, VectorIndexError
from pipeline.index.kg_index import KGIndex
from pipeline.kgcl.governance import certify
from pipeline.kgcl.store_apply import apply_request_text
from pipeline.kgcl.store_plan import compile_request
from pipeline.kgcl.store_workspace import (
    DEFINITION,
    DEPRECATED,
    IN_SUBSET,
    OWL_THING,
    REPLACED_BY,
    SYNONYM_SCOPES,
)
from pipeline.models import (
    IRI,
    AddAnnotation,
    AssertionStatus,
    EntityAnnotation,
    EntityId,
    EntityRef,
    LiteralValue,
    Triple,
)
from pipeline.store import GraphStore, Neo4jGraphStore, SQLiteGraphStore
from tests.compliance.graph_store_fixtures import EX, FOUNDED_YEAR, LOCATED_IN, WORKS_FOR, Sample
from tests.compliance.kgcl_store_fixtures import (
    GYEAR,
    ONTOLOGY,
    counting_embedder,
    full_snapshot,
    graph_of,
    index_state,
)

EXACT, NARROW, PLAIN = SYNONYM_SCOPES["exact"], SYNONYM_SCOPES["narrow"], SYNONYM_SCOPES[None]


def apply(store: GraphStore, text: str, *, index: KGIndex | None = None,
          role: str = "curator") -> int:
    return apply_request_text(text, store, ONTOLOGY, actor="cur", role=role,  # type: ignore[arg-type]
                              index=index).changes


def key(subject: EntityRef, predicate: str, obj: EntityRef | LiteralValue) -> str:
    return Triple(subject=subject, predicate=IRI(predicate), object=obj).key


def notes(store: GraphStore, entity: EntityRef) -> set[tuple[str, str]]:
    return {(a.property, a.value) for a in store.annotations(entity.id)}


def entity(store: GraphStore, eid: str) -> EntityRef | None:
    return store.get_entities([EntityId(eid)]).get(EntityId(eid))


# --------------------------------------------------------------------------- each change type


def test_rename_by_id_and_by_label(filled: GraphStore, sample: Sample) -> None:
    ada = sample.people[0]
    apply(filled, f"rename {ada.id} from 'Ada Lovelace' to 'Ada King'\n"
                  "rename 'London' to 'Londinium'")
    assert entity(filled, ada.id).label == "Ada King"  # type: ignore[union-attr]
    assert entity(filled, sample.city.id).label == "Londinium"  # type: ignore[union-attr]
    located = filled.get_assertion(sample.located.id)
    assert located is not None and located.triple.object_label == "Londinium"


def test_create_node_then_type_it_and_link_it_in_one_request(filled: GraphStore,
                                                             sample: Sample) -> None:
    ada = sample.people[0]
    assert apply(filled, "create node ent:ae 'Analytical Engine'\n"
                         "create edge ent:ae rdf:type ex:Organization\n"
                         f"create edge {ada.id} ex:worksFor 'Analytical Engine'") == 3
    ae = entity(filled, "ent:ae")
    assert ae == EntityRef(id=EntityId("ent:ae"), label="Analytical Engine",
                           type_iri=IRI(EX + "Organization"))
    added = filled.get_assertion(key(ada, WORKS_FOR, ae))  # type: ignore[arg-type]
    assert added is not None
    assert (added.confidence, added.status, added.provenance) == (1.0, AssertionStatus.DRAFT,
                                                                  ())


def test_create_node_without_a_type_is_a_thing(filled: GraphStore) -> None:
    apply(filled, "create node ent:x 'Something'")
    assert entity(filled, "ent:x").type_iri == OWL_THING  # type: ignore[union-attr]


def test_create_and_delete_edge_including_literals(filled: GraphStore, sample: Sample) -> None:
    ada, babbage = sample.people
    apply(filled, f"create edge {ada.id} ex:knows {babbage.id}\n"
                  f"delete edge 'Engine Company' ex:locatedIn 'London'\n"
                  f"delete edge 'Engine Company' ex:foundedYear '1834'")
    assert filled.get_assertion(key(ada, EX + "knows", babbage)) is not None
    assert filled.get_assertion(sample.located.id) is None
    assert filled.get_assertion(sample.founded.id) is None
    apply(filled, "create edge 'Engine Company' ex:foundedYear '1835'")
    year = LiteralValue(value="1835", datatype=IRI(GYEAR))  # the property's range
    assert filled.get_assertion(key(sample.company, FOUNDED_YEAR, year)) is not None


def test_change_relationship_replaces_the_predicate_only(filled: GraphStore,
                                                         sample: Sample) -> None:
    babbage = sample.people[1]
    apply(filled, f"change relationship between {babbage.id} and 'Engine Company' from "
                  "ex:worksFor to ex:knows")
    assert filled.get_assertion(sample.babbage_works.id) is None
    new = filled.get_assertion(key(babbage, EX + "knows", sample.company))
    assert new is not None and new.confidence == 1.0 and new.provenance == ()
    assert len(filled.assertions()) == 4  # one out, one in, nothing else touched


def test_move_changes_the_object_of_one_edge(filled: GraphStore, sample: Sample) -> None:
    apply(filled, "create node ent:paris 'Paris'\ncreate edge ent:paris rdf:type ex:City\n"
                  "move 'Engine Company' ex:locatedIn 'London' from 'London' to 'Paris'")
    paris = entity(filled, "ent:paris")
    assert filled.get_assertion(sample.located.id) is None
    assert filled.get_assertion(key(sample.company, LOCATED_IN, paris)) is not None  # type: ignore[arg-type]


def test_deepen_and_shallow_move_an_entity_along_the_class_hierarchy(
        filled: GraphStore, sample: Sample) -> None:
    ada = sample.people[0]
    apply(filled, f"deepen {ada.id} from ex:Person to ex:Mathematician")
    assert entity(filled, ada.id).type_iri == EX + "Mathematician"  # type: ignore[union-attr]
    apply(filled, f"shallow {ada.id} from ex:Mathematician to ex:Scientist")
    assert entity(filled, ada.id).type_iri == EX + "Scientist"  # type: ignore[union-attr]
    with pytest.raises(ChangeRequestError, match="not a subclass"):
        apply(filled, f"deepen {ada.id} from ex:Scientist to ex:Person")
    with pytest.raises(ChangeRequestError, match="not a superclass"):
        apply(filled, f"shallow {ada.id} from ex:Scientist to ex:Mathematician")
    with pytest.raises(ChangeRequestError, match="has the class"):
        apply(filled, f"deepen {ada.id} from ex:Person to ex:Mathematician")


def test_delete_node_only_once_nothing_names_it(filled: GraphStore, sample: Sample) -> None:
    with pytest.raises(ChangeRequestError, match=r"line 1: 1 assertion\(s\) still name"):
        apply(filled, "delete 'London'")
    apply(filled, "delete edge 'Engine Company' ex:locatedIn 'London'\ndelete 'London'")
    assert entity(filled, sample.city.id) is None
    assert len(filled.entities()) == 3


def test_obsolete_with_replacement_and_unobsolete(filled: GraphStore, sample: Sample) -> None:
    apply(filled, "create node ent:ldn 'Greater London'\n"
                  "obsolete 'London' with replacement ent:ldn")
    assert notes(filled, sample.city) == {(DEPRECATED, "true"), (REPLACED_BY, "ent:ldn")}
    # the obsolete entity's own edges stay; new ones must use the replacement
    assert filled.get_assertion(sample.located.id) is not None
    with pytest.raises(ChangeRequestError, match="is obsolete; use its replacement ent:ldn"):
        apply(filled, "create edge 'Engine Company' ex:locatedIn 'London'")
    with pytest.raises(ChangeRequestError, match="replacement of obsolete"):
        apply(filled, "delete ent:ldn")
    with pytest.raises(ChangeRequestError, match="already obsolete"):
        apply(filled, "obsolete 'London'")
    apply(filled, "unobsolete 'London'")
    assert notes(filled, sample.city) == set()
    apply(filled, "obsolete 'London'")
    assert notes(filled, sample.city) == {(DEPRECATED, "true")}


def test_synonyms_of_every_scope(filled: GraphStore, sample: Sample) -> None:
    ada = sample.people[0]
    apply(filled, f"create exact synonym 'Ada' for {ada.id}\n"
                  f"create narrow synonym 'Countess' for 'Ada Lovelace'\n"
                  f"create synonym 'Lady Lovelace' for {ada.id}")
    assert notes(filled, ada) == {(EXACT, "Ada"), (NARROW, "Countess"),
                                  (PLAIN, "Lady Lovelace")}
    apply(filled, f"change exact synonym 'Ada' for {ada.id} to 'A. Lovelace'\n"
                  f"remove synonym 'Countess' for {ada.id}")
    assert notes(filled, ada) == {(EXACT, "A. Lovelace"), (PLAIN, "Lady Lovelace")}
    with pytest.raises(ChangeRequestError, match="has no synonym 'Countess'"):
        apply(filled, f"remove synonym 'Countess' for {ada.id}")
    with pytest.raises(ChangeRequestError, match="already has"):
        apply(filled, f"create exact synonym 'A. Lovelace' for {ada.id}")


def test_definitions_and_subsets(filled: GraphStore, sample: Sample) -> None:
    ada = sample.people[0]
    apply(filled, f"add definition 'An English mathematician.' to {ada.id}\n"
                  f"add {ada.id} to subset pioneers")
    assert notes(filled, ada) == {(DEFINITION, "An English mathematician."),
                                  (IN_SUBSET, "pioneers")}
    with pytest.raises(ChangeRequestError, match="already has a definition"):
        apply(filled, f"add definition 'Another.' to {ada.id}")
    with pytest.raises(ChangeRequestError, match="is not 'Wrong.'"):
        apply(filled, f"change definition of {ada.id} from 'Wrong.' to 'Better.'")
    apply(filled, f"change definition of {ada.id} from 'An English mathematician.' to "
                  "'The first programmer.'\n"
                  f"remove {ada.id} from subset pioneers")
    assert notes(filled, ada) == {(DEFINITION, "The first programmer.")}
    apply(filled, f"remove definition for {ada.id}")
    assert notes(filled, ada) == set()
    with pytest.raises(ChangeRequestError, match="has no definition"):
        apply(filled, f"remove definition for {ada.id}")


def test_change_annotation_of_a_datatype_property_changes_the_literal(
        filled: GraphStore, sample: Sample) -> None:
    apply(filled, "change annotation of 'Engine Company' with ex:foundedYear from "
                  '"1834"^^xsd:gYear to "1835"^^xsd:gYear')
    assert filled.get_assertion(sample.founded.id) is None
    year = LiteralValue(value="1835", datatype=IRI(GYEAR))
    assert filled.get_assertion(key(sample.company, FOUNDED_YEAR, year)) is not None


def test_change_annotation_of_an_annotation_property(filled: GraphStore,
                                                     sample: Sample) -> None:
    city = sample.city
    filled.apply_changes([AddAnnotation(annotation=EntityAnnotation(
        entity_id=city.id, property=IRI("http://www.w3.org/2000/01/rdf-schema#comment"),
        value="old"))], actor="cur", role="curator")
    apply(filled, f"change annotation of {city.id} with rdfs:comment from 'old' to 'new'")
    assert notes(filled, city) == {("http://www.w3.org/2000/01/rdf-schema#comment", "new")}


def test_a_class_creation_has_no_meaning_on_the_graph(filled: GraphStore) -> None:
    with pytest.raises(ChangeRequestError, match="line 1: ClassCreation.*ontology file"):
        apply(filled, "create ex:Robot")


# --------------------------------------------------------------------------- whole requests


EVERY_TYPE = """
create node ent:ae 'Analytical Engine'
create edge ent:ae rdf:type ex:Organization
rename 'Ada Lovelace' to 'Augusta Ada King'
create exact synonym 'Ada' for 'Augusta Ada King'
create related synonym 'Countess of Lovelace' for 'Augusta Ada King'
change related synonym 'Countess of Lovelace' for 'Augusta Ada King' to 'Lady Lovelace'
remove synonym 'Ada' for 'Augusta Ada King'
add definition 'An English mathematician.' to 'Augusta Ada King'
change definition of 'Augusta Ada King' to 'The first programmer.'
add 'Augusta Ada King' to subset pioneers
create edge 'Charles Babbage' ex:knows 'Augusta Ada King'
change relationship between 'Augusta Ada King' and 'Engine Company' from ex:worksFor to ex:knows
move 'Charles Babbage' ex:worksFor 'Engine Company' from 'Engine Company' to ent:ae
change annotation of 'Engine Company' with ex:foundedYear from "1834" to "1835"
deepen 'Augusta Ada King' from ex:Person to ex:Mathematician
shallow 'Augusta Ada King' from ex:Mathematician to ex:Scientist
create node ent:tmp 'Temporary'
delete ent:tmp
obsolete 'London' with replacement ent:ae
unobsolete 'London'
obsolete 'London'
remove 'Augusta Ada King' from subset pioneers
delete edge 'Charles Babbage' ex:knows 'Augusta Ada King'
remove definition for 'Augusta Ada King'
"""


def test_a_request_of_every_kind_applies_whole(filled: GraphStore, sample: Sample) -> None:
    compiled = compile_request(EVERY_TYPE, filled, ONTOLOGY)
    kinds = {type(c.parsed.change).__name__ for c in compiled.commands}
    # the grammar's 21 commands make 22 change classes (obsolete with/without replacement);
    # all of them but ClassCreation, which has no meaning on the graph
    assert len(kinds) == 21 and "ClassCreation" not in kinds
    version, audit = filled.version(), len(filled.audit_log())
    n = apply(filled, EVERY_TYPE)
    assert filled.version() == version + 1  # one transaction
    entries = filled.audit_log()[audit:]
    assert len(entries) == n == len(compiled.changes)
    assert all(e.actor == "cur" and e.role == "curator" and e.detail for e in entries)
    texts = {c.parsed.text for c in compiled.commands}
    assert {e.detail for e in entries} == texts

    ada, babbage = sample.people
    ae = EntityRef(id=EntityId("ent:ae"), label="Analytical Engine",
                   type_iri=IRI(EX + "Organization"))
    king = ada.model_copy(update={"label": "Augusta Ada King", "type_iri": EX + "Scientist"})
    assert filled.entities() == sorted([king, babbage, sample.company, sample.city, ae],
                                       key=lambda e: e.id)
    assert notes(filled, king) == {(SYNONYM_SCOPES["related"], "Lady Lovelace")}
    assert notes(filled, sample.city) == {(DEPRECATED, "true")}
    ids = {a.id for a in filled.assertions()}
    year = LiteralValue(value="1835", datatype=IRI(GYEAR))
    assert ids == {sample.located.id, key(king, EX + "knows", sample.company),
                   key(babbage, WORKS_FOR, ae), key(sample.company, FOUNDED_YEAR, year)}


@pytest.mark.parametrize("bad", [
    "rename ent:doesnotexist from 'x' to 'y'",
    "delete edge 'London' ex:worksFor 'Engine Company'",
    "create edge 'Ada Lovelace' ex:inventedBy 'London'",
    "create ex:Robot",
    "delete 'Engine Company'",
    "remove synonym 'Nobody' for 'London'",
    "deepen 'London' from ex:City to ex:Person",
    "this is not kgcl",
])
def test_a_failing_fifth_command_leaves_store_and_index_exactly_as_before(
        filled: GraphStore, sample: Sample, bad: str) -> None:
    embedder = counting_embedder()
    index = KGIndex.build(filled, embedder, ontology=ONTOLOGY)
    before, index_before = full_snapshot(filled), index_state(index)
    embedder.calls.clear()
    request = "\n".join([
        "rename 'Ada Lovelace' to 'A. L.'",
        "create node ent:ae 'Analytical Engine'",
        "create exact synonym 'Babbage' for 'Charles Babbage'",
        "delete edge 'Charles Babbage' ex:worksFor 'Engine Company'",
        bad,
        "obsolete 'London'",
    ])
    with pytest.raises(ChangeRequestError, match="line 5"):
        apply(filled, request, index=index)
    assert full_snapshot(filled) == before
    assert index_state(index) == index_before
    assert embedder.calls == []  # nothing was even embedded


def test_the_index_follows_by_a_delta_of_only_what_changed(filled: GraphStore,
                                                           sample: Sample) -> None:
    embedder = counting_embedder()
    index = KGIndex.build(filled, embedder, ontology=ONTOLOGY)
    embedder.calls.clear()
    outcome = apply_request_text(
        "rename 'London' to 'Londinium'\ncreate exact synonym 'Londinium' for 'Londinium'\n"
        "create node ent:ae 'Analytical Engine'", filled, ONTOLOGY, actor="cur",
        role="curator", index=index)
    assert outcome.index is not None and outcome.index.action == "delta"
    # the renamed entity, the one assertion naming it, the new entity: nothing else; all of
    # it embedded before the store committed, in one call
    assert len(embedder.calls) == 1
    assert sorted(embedder.embedded) == sorted([
        "Londinium (City)", "Engine Company — located in — Londinium. The Engine Company is "
        "located in London", "Analytical Engine (Thing)"])
    assert index.version == filled.version()
    fresh = KGIndex.build(filled, counting_embedder(), ontology=ONTOLOGY)
    assert sorted((r.kind, r.kgid, r.text) for r in index.rows()) == sorted(
        (r.kind, r.kgid, r.text) for r in fresh.rows())

    embedder.calls.clear()
    done = certify(filled, [sample.works.id], actor="cert", role="certifier", index=index)
    assert done.index is not None and done.index.embedded == 0 and embedder.calls == []
    row = index.find("assertion", sample.works.id)
    assert row is not None and index.version == filled.version()
    assert index.search(embedder.embed([row.text]), k=1, where='status == "certified"')[0][0][
        0].kgid == sample.works.id


def test_an_embedder_failure_leaves_store_and_index_as_they_were(filled: GraphStore,
                                                                 tmp_path: Path) -> None:
    embedder = counting_embedder()
    index = KGIndex.build(filled, embedder, ontology=ONTOLOGY)
    before, index_before = full_snapshot(filled), index_state(index)
    embedder.fail = True
    with pytest.raises(RuntimeError, match="unavailable"):
        apply(filled, "rename 'London' to 'Londinium'", index=index)
    assert full_snapshot(filled) == before and index_state(index) == index_before
    assert index.embedder is embedder
    embedder.fail = False
    unloaded = KGIndex.load(index.save(tmp_path / "index"), ontology=ONTOLOGY)
    with pytest.raises(VectorIndexError, match="no embedder"):
        apply(filled, "rename 'London' to 'Londinium'", index=unloaded)
    assert full_snapshot(filled) == before


# --------------------------------------------------------------------------- both backends


@pytest.mark.neo4j
def test_a_request_gives_the_same_graph_on_sqlite_and_neo4j(
        tmp_path: Path, neo4j_store: Neo4jGraphStore, sample: Sample) -> None:
    neo4j_store.reset()
    with SQLiteGraphStore(tmp_path / "kg.sqlite") as lite:
        graphs = []
        for backend in (lite, neo4j_store):
            backend.upsert_documents(sample.documents, sample.chunks)
            backend.write_assertions(sample.assertions)
            index = KGIndex.build(backend, counting_embedder(), ontology=ONTOLOGY)
            apply(backend, EVERY_TYPE, index=index)
            with pytest.raises(ChangeRequestError, match="line 2"):
                apply(backend, "rename 'London' to 'L'\ndelete 'Engine Company'", index=index)
            graphs.append((graph_of(backend), sorted(
                (r.kind, r.kgid, r.text) for r in index.rows())))
        assert graphs[0] == graphs[1]
        audit = graphs[0][0][-1]
        assert any(json.loads(e[6] or "{}").get("label") == "Augusta Ada King"
                   for e in audit if e[1] == "rename_entity")
