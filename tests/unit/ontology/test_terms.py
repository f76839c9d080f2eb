"""The RDF-level reading of an ontology: declarations by kind, and every use of a term with its
role, in restrictions, unions, chains and assertions."""

from __future__ import annotations

from rdflib import OWL, RDFS, Graph, Namespace, URIRef

from pipeline.ontology.terms import (
    is_annotation_vocabulary,
    is_builtin,
    named_superclasses,
    uses,
    vocabulary,
)

EX = Namespace("https://example.org/t#")
TTL = """
@prefix : <https://example.org/t#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix verify: <https://verikg.dev/ontology/verify#> .

<https://example.org/t> a owl:Ontology ; dcterms:title "t" ; verify:rootClass :Thing1 .
:Thing1 a owl:Class .
:A a owl:Class ; rdfs:subClassOf :Thing1 ,
    [ a owl:Restriction ; owl:onProperty :p ; owl:someValuesFrom :B ] ,
    [ a owl:Restriction ; owl:onProperty [ owl:inverseOf :q ] ; owl:allValuesFrom
        [ owl:unionOf ( :C :D ) ] ] ,
    [ a owl:Restriction ; owl:onProperty :n ; owl:someValuesFrom xsd:integer ] .
:B a owl:Class ; owl:equivalentClass [ owl:intersectionOf ( :A [ a owl:Restriction ;
    owl:onProperty :p ; owl:hasValue :ind1 ] ) ] .
:C a owl:Class .
:Old a owl:Class ; owl:deprecated true .
:p a owl:ObjectProperty, owl:TransitiveProperty ; owl:propertyChainAxiom ( :q :p ) .
:q a owl:ObjectProperty .
:n a owl:DatatypeProperty ; rdfs:range xsd:integer .
:note a owl:AnnotationProperty .
:ind1 a owl:NamedIndividual, :A ; :p :ind2 ; :note "x" ; :undeclaredPred "y" .
"""


def graph() -> Graph:
    g = Graph()
    g.parse(data=TTL, format="turtle")
    return g


def test_declarations_by_kind() -> None:
    v = vocabulary(graph(), roots=[str(EX.A)])
    assert v.ontology_iri == URIRef("https://example.org/t")
    assert v.classes == {EX.Thing1, EX.A, EX.B, EX.C, EX.Old}
    assert v.object_properties == {EX.p, EX.q}
    assert v.datatype_properties == {EX.n}
    assert v.annotation_properties == {EX.note}
    assert v.individuals == {EX.ind1}
    assert v.deprecated == {EX.Old}
    assert v.roots == {EX.Thing1, EX.A}  # the annotation and the argument
    assert v.defines(RDFS.label) and v.defines(EX.ind1) and not v.defines(EX.D)


def test_uses_cover_restrictions_unions_chains_and_assertions() -> None:
    v = vocabulary(graph())
    found = {(u.iri, u.role, u.owner) for u in uses(v)}
    assert (EX.B, "class", EX.A) in found            # someValuesFrom filler
    assert (EX.q, "property", EX.A) in found         # inside an anonymous inverse
    assert (EX.C, "class", EX.A) in found and (EX.D, "class", EX.A) in found  # union members
    assert (URIRef("http://www.w3.org/2001/XMLSchema#integer"), "datatype", EX.A) in found
    assert (EX.ind1, "individual", EX.B) in found    # hasValue
    assert (EX.q, "property", EX.p) in found         # property chain member
    assert (EX.ind2, "individual", EX.ind1) in found  # object of an object-property assertion
    assert (EX.undeclaredPred, "predicate", EX.ind1) in found
    assert (EX.A, "class", EX.ind1) in found         # the type of an individual


def test_named_superclasses_take_the_genus_of_a_definition_and_skip_thing() -> None:
    g = graph()
    g.add((EX.C, RDFS.subClassOf, OWL.Thing))
    v = vocabulary(g)
    assert named_superclasses(v, EX.A) == {EX.Thing1}
    assert named_superclasses(v, EX.B) == {EX.A}
    assert named_superclasses(v, EX.C) == set()


def test_builtin_and_annotation_vocabularies() -> None:
    assert is_builtin(OWL.Thing) and is_builtin(RDFS.label)
    assert not is_builtin(EX.A)
    assert is_annotation_vocabulary(URIRef("http://purl.org/dc/terms/title"))
    assert is_annotation_vocabulary(URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"))
    assert not is_annotation_vocabulary(EX.note)
