"""The toy ontology the flow tests build under: companies, their founders and their cities;
its richer variant the stage tests check under, and the text their chunk holds."""

from __future__ import annotations

import json

TOY_ONTOLOGY = """
@prefix : <https://example.org/toy#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://example.org/toy> a owl:Ontology .
:Company a owl:Class ; rdfs:label "Company" .
:Person a owl:Class ; rdfs:label "Person" .
:City a owl:Class ; rdfs:label "City" .
:foundedBy a owl:ObjectProperty ; rdfs:label "founded by" ; rdfs:domain :Company ;
    rdfs:range :Person .
:basedIn a owl:ObjectProperty ; rdfs:label "based in" ; rdfs:domain :Company ;
    rdfs:range :City .
"""


#: the richer toy ontology of the stage tests: a class hierarchy, a functional datatype property
STAGES_TOY_ONTOLOGY = """
@prefix : <https://example.org/toy#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<https://example.org/toy> a owl:Ontology ; rdfs:label "toy" .
:Organization a owl:Class ; rdfs:label "Organization" .
:Company a owl:Class ; rdfs:subClassOf :Organization ; rdfs:label "Company" .
:Person a owl:Class ; rdfs:label "Person" .
:City a owl:Class ; rdfs:label "City" .
:foundedBy a owl:ObjectProperty ; rdfs:label "founded by" ;
    rdfs:domain :Company ; rdfs:range :Person .
:basedIn a owl:ObjectProperty ; rdfs:label "based in" ;
    rdfs:domain :Organization ; rdfs:range :City .
:foundingYear a owl:DatatypeProperty, owl:FunctionalProperty ; rdfs:label "founding year" ;
    rdfs:domain :Company ; rdfs:range xsd:gYear .
:employees a owl:DatatypeProperty ; rdfs:label "employees" ;
    rdfs:domain :Organization ; rdfs:range xsd:integer .
"""

#: the text of the stage tests' document and chunk (the ``doc`` and ``chunk`` fixtures)
STAGES_TEXT = ("Acme Rockets was founded by Ada Byron in 1998. Acme Rockets is based in Seattle. "
               "The company has 250 employees.")


def answer(*triples: tuple[str, str, str]) -> str:
    """An extraction answer in the JSON shape the prompt asks for."""
    return json.dumps({"triples": [{"subject": s, "predicate": p, "object": o}
                                   for s, p, o in triples]})
