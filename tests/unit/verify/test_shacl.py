"""Graph-level contracts: SHACL shapes from the ontology, functional conflicts, islands.

Each check has a batch that passes and batches that fail it, on the toy ontology (Company is
an Organization; foundedBy Company→Person; basedIn Organization→City; foundingYear functional
xsd:gYear; employees xsd:integer)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rdflib import RDF, RDFS, Literal, URIRef

from pipeline.models import (
    IRI,
    Assertion,
    AssertionStatus,
    ChunkId,
    DocumentId,
    EntityRef,
    LiteralValue,
    Ontology,
    OntologyProperty,
    PropertyKind,
    Provenance,
    RunId,
    Span,
    Triple,
    ViolationReason,
)
from pipeline.store.rdf import entity_iri, to_rdf
from pipeline.verify import find_islands, resolve_functional_conflicts
from pipeline.verify.shacl import SH, shapes_for, validate_batch

TOY = "https://example.org/toy#"
XSD_NS = "http://www.w3.org/2001/XMLSchema#"
XSD_INTEGER, XSD_GYEAR = URIRef(XSD_NS + "integer"), URIRef(XSD_NS + "gYear")

ACME = EntityRef.make("Acme Rockets", TOY + "Company")
ADA = EntityRef.make("Ada Byron", TOY + "Person")
SEATTLE = EntityRef.make("Seattle", TOY + "City")
GUILD = EntityRef.make("Rocket Guild", TOY + "Organization")


def seen(day: int) -> datetime:
    return datetime(2024, 5, day, tzinfo=UTC)


def fact(subject: EntityRef, prop: str, obj: EntityRef | str, *, confidence: float = 0.9,
         datatype: str = "gYear", when: datetime | None = None,
         status: AssertionStatus = AssertionStatus.DRAFT) -> Assertion:
    value = obj if isinstance(obj, EntityRef) else LiteralValue(
        value=obj, datatype=IRI(XSD_NS + datatype))
    prov = Provenance(document_id=DocumentId("doc:1"), chunk_id=ChunkId("chunk:1"),
                      span=Span(start=0, end=10), quote="Acme Rockets", model="m",
                      prompt_version="v1", run_id=RunId("run:1"), attempts=1, seen_at=when)
    return Assertion.of(Triple(subject=subject, predicate=IRI(TOY + prop), object=value),
                        confidence=confidence, provenance=(prov,), status=status)


def valid_batch() -> list[Assertion]:
    return [fact(ACME, "foundedBy", ADA), fact(ACME, "basedIn", SEATTLE),
            fact(ACME, "foundingYear", "1998"), fact(ACME, "employees", "250", datatype="integer"),
            fact(GUILD, "basedIn", SEATTLE), fact(GUILD, "employees", "12", datatype="integer")]


def shacl_details(found: dict, assertion: Assertion) -> list[str]:  # type: ignore[type-arg]
    violations = found.get(assertion.id, [])
    assert all(v.reason is ViolationReason.SHACL_VIOLATION and v.check == "shacl"
               for v in violations)
    return [v.detail for v in violations]


# --------------------------------------------------------------------------- SHACL shapes


def test_one_shape_per_property_with_domain_range_and_max_count(toy: Ontology) -> None:
    g = shapes_for(toy)
    targets = {str(p) for p in g.objects(None, SH.targetSubjectsOf)}
    assert targets == {TOY + p for p in ("foundedBy", "basedIn", "foundingYear", "employees")}

    def node_for(prop: str) -> URIRef:
        node = g.value(predicate=SH.targetSubjectsOf, object=URIRef(TOY + prop))
        assert isinstance(node, URIRef)
        return node

    def values_for(prop: str) -> URIRef:
        values = g.value(node_for(prop), SH.property)
        assert isinstance(values, URIRef)
        assert g.value(values, SH.path) == URIRef(TOY + prop)
        return values

    assert g.value(node_for("foundedBy"), SH["class"]) == URIRef(TOY + "Company")
    assert g.value(node_for("basedIn"), SH["class"]) == URIRef(TOY + "Organization")
    assert g.value(values_for("foundedBy"), SH["class"]) == URIRef(TOY + "Person")
    assert g.value(values_for("employees"), SH.datatype) == XSD_INTEGER
    year = values_for("foundingYear")
    assert g.value(year, SH.datatype) == XSD_GYEAR
    assert g.value(year, SH.maxCount) == Literal(1)
    assert g.value(values_for("employees"), SH.maxCount) is None  # not functional
    assert g.value(year, SH.pattern) is not None  # rdflib cannot check a gYear by itself


def test_shapes_are_built_once_and_handed_out_as_copies(toy: Ontology) -> None:
    first = shapes_for(toy)
    first.add((URIRef("urn:x"), RDF.type, SH.NodeShape))
    assert (URIRef("urn:x"), RDF.type, SH.NodeShape) not in shapes_for(toy)
    assert validate_batch(valid_batch(), toy) == {}


def test_batch_as_rdf_types_labels_and_typed_literals(toy: Ontology) -> None:
    g = to_rdf([*valid_batch(), fact(ACME, "foundingYear", "nineteen")], toy)
    acme = entity_iri(ACME.id)
    assert acme.startswith("urn:verikg:entity:") and ":" not in acme[len("urn:verikg:entity:"):]
    assert (acme, RDF.type, URIRef(TOY + "Company")) in g
    assert (acme, RDFS.label, Literal("Acme Rockets")) in g
    assert (acme, URIRef(TOY + "foundedBy"), entity_iri(ADA.id)) in g
    assert (acme, URIRef(TOY + "employees"), Literal("250", datatype=XSD_INTEGER)) in g
    assert (acme, URIRef(TOY + "foundingYear"), Literal("nineteen", datatype=XSD_GYEAR)) in g


def test_literal_that_does_not_parse_is_still_written(toy: Ontology) -> None:
    g = to_rdf([fact(ACME, "employees", "many", datatype="integer")], toy)
    (value,) = g.objects(entity_iri(ACME.id), URIRef(TOY + "employees"))
    assert isinstance(value, Literal) and str(value) == "many" and value.ill_typed


def test_valid_batch_has_no_violations(toy: Ontology) -> None:
    assert validate_batch(valid_batch(), toy) == {}


def test_empty_batch(toy: Ontology) -> None:
    assert validate_batch([], toy) == {}
    assert len(to_rdf([], toy)) == 0
    assert resolve_functional_conflicts([], toy) == ([], [])
    assert find_islands([]) == []


def test_subject_of_the_wrong_class_is_flagged(toy: Ontology) -> None:
    bad = fact(ADA, "basedIn", SEATTLE)
    good = fact(ACME, "basedIn", SEATTLE)
    found = validate_batch([bad, good], toy)
    assert list(found) == [bad.id]
    (detail,) = shacl_details(found, bad)
    assert "'Ada Byron' is a Person" in detail and "'based in'" in detail
    assert "an Organization" in detail and "sh:class" in detail


def test_subclass_satisfies_a_superclass_domain_but_not_the_reverse(toy: Ontology) -> None:
    company_based = fact(ACME, "basedIn", SEATTLE)  # domain Organization, subject a Company
    org_founded = fact(GUILD, "foundedBy", ADA)  # domain Company, subject an Organization
    found = validate_batch([company_based, org_founded], toy)
    assert company_based.id not in found
    (detail,) = shacl_details(found, org_founded)
    assert "'Rocket Guild' is an Organization" in detail and "a Company" in detail


def test_object_of_the_wrong_class_is_flagged(toy: Ontology) -> None:
    bad = fact(ACME, "foundedBy", SEATTLE)
    good = fact(ACME, "foundedBy", ADA)
    found = validate_batch([bad, good], toy)
    assert list(found) == [bad.id]  # the value result goes to that object's assertion only
    (detail,) = shacl_details(found, bad)
    assert "'Seattle'" in detail and "a City" in detail and "a Person" in detail
    assert "'founded by'" in detail and "'Acme Rockets'" in detail


@pytest.mark.parametrize(("prop", "value", "datatype"), [
    ("foundingYear", "nineteen", "gYear"),
    ("foundingYear", "98", "gYear"),
    ("employees", "many", "integer"),
    ("employees", "2.5", "integer"),
])
def test_literal_of_the_wrong_datatype_is_flagged(toy: Ontology, prop: str, value: str,
                                                  datatype: str) -> None:
    bad = fact(ACME, prop, value, datatype=datatype)
    found = validate_batch([fact(ACME, "foundedBy", ADA), bad], toy)
    assert list(found) == [bad.id]
    (detail,) = shacl_details(found, bad)  # one fault, one violation
    assert f"'{value}'" in detail and "'Acme Rockets'" in detail
    # rdflib checks an integer itself (sh:datatype); a gYear is checked by its lexical pattern
    # (or by sh:datatype too, once owlrl has taught rdflib the type: either is one violation)
    assert ("sh:datatype" in detail) or (datatype == "gYear" and "sh:pattern" in detail)


def test_literal_declared_with_another_datatype_is_flagged(toy: Ontology) -> None:
    bad = fact(ACME, "employees", "250", datatype="string")
    found = validate_batch([bad], toy)
    assert "sh:datatype" in shacl_details(found, bad)[0]


def test_two_values_of_a_functional_property_fail_max_count(toy: Ontology) -> None:
    first, second = fact(ACME, "foundingYear", "1998"), fact(ACME, "foundingYear", "1999")
    found = validate_batch([fact(ACME, "foundedBy", ADA), first, second], toy)
    assert set(found) == {first.id, second.id}
    for a in (first, second):
        (detail,) = shacl_details(found, a)
        assert "sh:maxCount" in detail and "'founding year'" in detail
        assert "'Acme Rockets'" in detail
    # a non-functional property may have many values
    assert validate_batch([fact(ACME, "employees", "250", datatype="integer"),
                           fact(ACME, "employees", "300", datatype="integer")], toy) == {}


def test_unresolved_class_is_not_flagged_as_check_types_does_not(toy: Ontology) -> None:
    someone = EntityRef.make("Someone", "http://www.w3.org/2002/07/owl#Thing")
    assert validate_batch([fact(ACME, "foundedBy", someone),
                           fact(someone, "basedIn", SEATTLE)], toy) == {}


def test_several_domains_or_ranges_are_alternatives(toy: Ontology) -> None:
    # OWL would read two domains as both at once; like check_types, the shapes read "either"
    visits = OntologyProperty(iri=IRI(TOY + "visited"), label="visited",
                              kind=PropertyKind.OBJECT,
                              domain=(IRI(TOY + "Person"), IRI(TOY + "Organization")),
                              range=(IRI(TOY + "City"), IRI(TOY + "Company")))
    wider = toy.model_copy(update={"properties": (*toy.properties, visits)})
    assert URIRef(TOY + "visited") not in set(shapes_for(toy).objects(None, SH.targetSubjectsOf))
    ok = [fact(ADA, "visited", SEATTLE), fact(ACME, "visited", SEATTLE), fact(ADA, "visited", ACME)]
    assert validate_batch(ok, wider) == {}
    city_visits, visits_person = fact(SEATTLE, "visited", SEATTLE), fact(ACME, "visited", ADA)
    found = validate_batch([*ok, city_visits, visits_person], wider)
    assert set(found) == {city_visits.id, visits_person.id}
    assert "a Person or an Organization" in shacl_details(found, city_visits)[0]
    assert "sh:or" in shacl_details(found, visits_person)[0]


def test_one_violation_of_each_kind_in_one_batch(toy: Ontology) -> None:
    batch = [*valid_batch(), fact(ADA, "basedIn", SEATTLE), fact(ACME, "foundedBy", SEATTLE),
             fact(GUILD, "employees", "lots", datatype="integer")]
    found = validate_batch(batch, toy)
    assert set(found) == {a.id for a in batch[-3:]}


# --------------------------------------------------------------------------- functional conflicts


def test_conflict_won_by_the_more_confident_value(toy: Ontology) -> None:
    strong = fact(ACME, "foundingYear", "1998", confidence=0.9, when=seen(1))
    weak = fact(ACME, "foundingYear", "1999", confidence=0.6, when=seen(20))
    other = fact(ACME, "foundedBy", ADA)
    out, conflicts = resolve_functional_conflicts([weak, other, strong], toy)
    assert [a.id for a in out] == [weak.id, other.id, strong.id]  # nothing removed, same order
    assert [a.status for a in out] == [AssertionStatus.CONTESTED, AssertionStatus.DRAFT,
                                       AssertionStatus.DRAFT]
    (c,) = conflicts
    assert (c.subject, c.property, c.winner, c.losers) == (
        ACME.id, TOY + "foundingYear", strong.id, (weak.id,))
    assert c.violation.reason is ViolationReason.FUNCTIONAL_CONFLICT
    assert c.violation.check == "functional-conflict"
    assert "'Acme Rockets'" in c.violation.detail and "'1998'" in c.violation.detail
    assert "'founding year'" in c.violation.detail


def test_equal_confidence_won_by_the_most_recent(toy: Ontology) -> None:
    old = fact(ACME, "foundingYear", "1998", confidence=0.8, when=seen(1))
    new = fact(ACME, "foundingYear", "1999", confidence=0.8, when=seen(20))
    never = fact(ACME, "foundingYear", "2000", confidence=0.8, when=None)
    out, (c,) = resolve_functional_conflicts([old, never, new], toy)
    assert c.winner == new.id and set(c.losers) == {old.id, never.id}
    status = {a.id: a.status for a in out}
    assert status == {old.id: AssertionStatus.CONTESTED, never.id: AssertionStatus.CONTESTED,
                      new.id: AssertionStatus.DRAFT}


def test_full_tie_is_settled_by_id_whatever_the_order(toy: Ontology) -> None:
    a = fact(ACME, "foundingYear", "1998", confidence=0.8)
    b = fact(ACME, "foundingYear", "1999", confidence=0.8)
    winners = {resolve_functional_conflicts(batch, toy)[1][0].winner for batch in ([a, b], [b, a])}
    assert winners == {min(a.id, b.id)}


def test_naive_and_aware_times_compare(toy: Ontology) -> None:
    aware = fact(ACME, "foundingYear", "1998", confidence=0.8, when=seen(1))
    naive = fact(ACME, "foundingYear", "1999", confidence=0.8, when=datetime(2024, 6, 1))
    assert resolve_functional_conflicts([aware, naive], toy)[1][0].winner == naive.id


def test_certified_loser_is_never_demoted(toy: Ontology) -> None:
    certified = fact(ACME, "foundingYear", "1998", confidence=0.5,
                     status=AssertionStatus.CERTIFIED)
    stronger = fact(ACME, "foundingYear", "1999", confidence=0.95)
    out, (c,) = resolve_functional_conflicts([certified, stronger], toy)
    assert c.winner == stronger.id and c.losers == (certified.id,)
    assert c.kept_certified == (certified.id,)
    assert [a.status for a in out] == [AssertionStatus.CERTIFIED, AssertionStatus.DRAFT]
    assert "certified" in c.violation.detail


def test_contested_winner_is_reinstated_and_quarantined_take_no_part(toy: Ontology) -> None:
    back = fact(ACME, "foundingYear", "1998", confidence=0.9, status=AssertionStatus.CONTESTED)
    loser = fact(ACME, "foundingYear", "1999", confidence=0.7)
    ignored = fact(ACME, "foundingYear", "2001", confidence=1.0,
                   status=AssertionStatus.QUARANTINED)
    out, (c,) = resolve_functional_conflicts([back, loser, ignored], toy)
    assert c.winner == back.id and c.losers == (loser.id,)
    assert [a.status for a in out] == [AssertionStatus.DRAFT, AssertionStatus.CONTESTED,
                                       AssertionStatus.QUARANTINED]


def test_no_conflict_for_one_value_or_a_non_functional_property(toy: Ontology) -> None:
    batch = [fact(ACME, "foundingYear", "1998", confidence=0.9),
             fact(ACME, "employees", "250", datatype="integer"),
             fact(ACME, "employees", "300", datatype="integer"),
             fact(GUILD, "foundingYear", "1970")]  # another subject: no conflict with Acme
    out, conflicts = resolve_functional_conflicts(batch, toy)
    assert conflicts == [] and out == batch


def test_same_value_with_another_datatype_is_a_different_value(toy: Ontology) -> None:
    year = fact(ACME, "foundingYear", "1998")
    as_text = fact(ACME, "foundingYear", "1998", datatype="string", confidence=0.5)
    _, (c,) = resolve_functional_conflicts([year, as_text], toy)
    assert c.winner == year.id and c.losers == (as_text.id,)


# --------------------------------------------------------------------------- islands


def test_islands_found_and_the_main_component_not_reported() -> None:
    lovelace = EntityRef.make("Lovelace Labs", TOY + "Company")
    babbage = EntityRef.make("Charles Babbage", TOY + "Person")
    loner = EntityRef.make("Lonely Corp", TOY + "Company")
    main = [fact(ACME, "foundedBy", ADA), fact(ACME, "basedIn", SEATTLE),
            fact(GUILD, "basedIn", SEATTLE)]
    pair = fact(lovelace, "foundedBy", babbage)
    only_literal = fact(loner, "foundingYear", "2001")  # a literal links nothing
    islands = find_islands([only_literal, *main, pair])
    assert [i.entities for i in islands] == [tuple(sorted((lovelace.id, babbage.id))),
                                             (loner.id,)]
    assert set(islands[0].labels) == {"Lovelace Labs", "Charles Babbage"}
    assert islands[0].assertions == (pair.id,)
    assert islands[1].assertions == (only_literal.id,)
    for island in islands:
        assert island.violation.reason is ViolationReason.ISOLATED_ISLAND
        assert island.violation.check == "isolated-islands"
    assert "'Lonely Corp'" in islands[1].violation.detail
    assert "4 entities" in islands[1].violation.detail  # the main component's size
    reported = {e for i in islands for e in i.entities}
    assert not reported & {ACME.id, ADA.id, SEATTLE.id, GUILD.id}


def test_one_connected_graph_has_no_islands() -> None:
    assert find_islands(valid_batch()) == []


def test_quarantined_edge_does_not_connect() -> None:
    kept = fact(ACME, "foundedBy", ADA)
    dropped = fact(GUILD, "basedIn", SEATTLE, status=AssertionStatus.QUARANTINED)
    assert find_islands([kept, dropped]) == []  # the quarantined pair is not in the graph
    linked = fact(GUILD, "basedIn", SEATTLE)
    pairs = sorted([tuple(sorted((ACME.id, ADA.id))), tuple(sorted((GUILD.id, SEATTLE.id)))])
    (island,) = find_islands([kept, linked])
    assert island.entities == pairs[1]  # equal sizes: the smallest entity id is the main part


def test_islands_are_deterministic() -> None:
    batch = [fact(EntityRef.make(f"Co {i}", TOY + "Company"), "foundedBy",
                  EntityRef.make(f"Founder {i}", TOY + "Person")) for i in range(6)]
    first = find_islands(batch)
    assert first == find_islands(list(reversed(batch)))
    assert len(first) == 5  # six equal pairs: one is the main component, five islands
