"""KGCL on the Gene Ontology slice in OWL (go-nucleus.owl.ttl): one test per change type, each
asserting exactly the triples added and removed, including the three changes the reference
implementation gets wrong; atomicity; clear rejections."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from pipeline.errors import ChangeRequestError
from pipeline.kgcl import PrefixMap, apply_to_graph, load_graph
from tests.unit.kgcl.kgcl_data import GO_TTL

PM = PrefixMap()


@pytest.fixture(scope="module")
def go_pristine() -> tuple[Graph, frozenset[tuple[Node, Node, Node]]]:
    assert GO_TTL.is_file(), f"the shared KGCL data is not at {GO_TTL}"
    graph = load_graph(GO_TTL, "ttl")
    return graph, frozenset(graph)


@pytest.fixture()
def go(go_pristine: tuple[Graph, frozenset[tuple[Node, Node, Node]]]) -> Iterator[Graph]:
    """The GO slice, parsed once and put back as it was after each test (cheaper than a copy
    of 4,000 triples per test)."""
    graph, triples = go_pristine
    yield graph
    now = set(graph)
    for triple in now - triples:
        graph.remove(triple)
    for triple in triples - now:
        graph.add(triple)


def n(curie: str) -> URIRef:
    return URIRef(PM.expand(curie) or curie)


XSD_STRING = URIRef("http://www.w3.org/2001/XMLSchema#string")


def xs(text: str) -> Literal:
    return Literal(text, datatype=XSD_STRING)


def t(s: str, p: str, o: Node | str) -> tuple[Node, Node, Node]:
    return (n(s), n(p), o if isinstance(o, Node) else n(o))


def restriction(g: Graph, s: str, p: str, o: str) -> BNode:
    found = [b for b in g.objects(n(s), RDFS.subClassOf) if isinstance(b, BNode)
             and (b, OWL.onProperty, n(p)) in g and (b, OWL.someValuesFrom, n(o)) in g]
    assert len(found) == 1
    return found[0]


def axiom(g: Graph, s: str, p: str, o: Node) -> BNode:
    found = [b for b in g.subjects(OWL.annotatedSource, n(s))
             if (b, OWL.annotatedProperty, n(p)) in g and (b, OWL.annotatedTarget, o) in g]
    assert len(found) == 1
    return found[0]


def bnode_triples(g: Graph, b: Node) -> set[tuple[Node, Node, Node]]:
    return set(g.triples((b, None, None)))


NUCLEUS, ENVELOPE = "GO:0005634", "GO:0005635"
DEF_635 = xs("The double lipid bilayer enclosing the nucleus and separating its contents from "
             "the rest of the cytoplasm; includes the intermembrane space, a gap of width 20-40 "
             "nm (also called the perinuclear space).")

#: Changes with no blank node involved: (command, added, removed).
PLAIN = {
    "NodeRename": ("rename GO:0005634 from 'nucleus' to 'cell core'",
                   {t(NUCLEUS, "rdfs:label", Literal("cell core"))},
                   {t(NUCLEUS, "rdfs:label", Literal("nucleus"))}),
    "NodeRename-by-label": ("rename 'cytoplasm' to 'cytosol and organelles'",
                            {t("GO:0005737", "rdfs:label", xs("cytosol and organelles"))},
                            {t("GO:0005737", "rdfs:label", xs("cytoplasm"))}),
    "NodeCreation": ("create node GO:9999999 'brand new'",
                     {t("GO:9999999", "rdfs:label", xs("brand new"))}, set()),
    "ClassCreation": ("create GO:9999998", {t("GO:9999998", "rdf:type", "owl:Class")}, set()),
    "NewSynonym-exact": ("create exact synonym 'karyon' for GO:0005634",
                         {t(NUCLEUS, "oboInOwl:hasExactSynonym", xs("karyon"))}, set()),
    "NewSynonym-broad": ("create broad synonym 'karyon' for GO:0005634",
                         {t(NUCLEUS, "oboInOwl:hasBroadSynonym", xs("karyon"))}, set()),
    "NewSynonym-narrow": ("create narrow synonym 'karyon' for 'nucleus'",
                          {t(NUCLEUS, "oboInOwl:hasNarrowSynonym", xs("karyon"))}, set()),
    "NewSynonym-related": ("create related synonym 'karyon'@en for GO:0005634",
                           {t(NUCLEUS, "oboInOwl:hasRelatedSynonym", Literal("karyon",
                                                                              lang="en"))},
                           set()),
    "NewSynonym-unscoped": ("create synonym 'karyon' for GO:0005634",
                            {t(NUCLEUS, "oboInOwl:hasSynonym", xs("karyon"))}, set()),
    "RemoveSynonym-no-axiom": ("remove synonym 'cell nucleus' for GO:0005634", set(),
                               {t(NUCLEUS, "oboInOwl:hasExactSynonym", xs("cell nucleus"))}),
    "SynonymReplacement-no-axiom": (
        "change exact synonym 'cell nucleus' for GO:0005634 to 'cell karyon'",
        {t(NUCLEUS, "oboInOwl:hasExactSynonym", xs("cell karyon"))},
        {t(NUCLEUS, "oboInOwl:hasExactSynonym", xs("cell nucleus"))}),
    "NodeObsoletion": (  # the reference touches ~590 other classes
        "obsolete GO:0005634",
        {t(NUCLEUS, "owl:deprecated", Literal(True)),
         t(NUCLEUS, "rdfs:label", Literal("obsolete nucleus"))},
        {t(NUCLEUS, "rdfs:label", Literal("nucleus"))}),
    "NodeObsoletionWithDirectReplacement": (
        "obsolete GO:0005634 with replacement 'nuclear envelope'",
        {t(NUCLEUS, "owl:deprecated", Literal(True)),
         t(NUCLEUS, "rdfs:label", Literal("obsolete nucleus")),
         t(NUCLEUS, "IAO:0100001", ENVELOPE)},
        {t(NUCLEUS, "rdfs:label", Literal("nucleus"))}),
    "NodeUnobsoletion": ("unobsolete GO:0005636", set(),
                         {t("GO:0005636", "owl:deprecated", Literal(True)),
                          t("GO:0005636", "IAO:0100001", ENVELOPE),
                          t("GO:0005636", "IAO:0000231", "IAO:0000227")}),
    "NodeDeepening": ("deepen GO:0005634 from GO:0043231 to GO:0005773",
                      {t(NUCLEUS, "rdfs:subClassOf", "GO:0005773")},
                      {t(NUCLEUS, "rdfs:subClassOf", "GO:0043231")}),
    "NodeShallowing": ("shallow GO:0005635 from GO:0031967 to GO:0031975",
                       {t(ENVELOPE, "rdfs:subClassOf", "GO:0031975")},
                       {t(ENVELOPE, "rdfs:subClassOf", "GO:0031967")}),
    "NodeMove-is_a": ("move GO:0005635 rdfs:subClassOf GO:0031967 from GO:0031967 to GO:0043231",
                      {t(ENVELOPE, "rdfs:subClassOf", "GO:0043231")},
                      {t(ENVELOPE, "rdfs:subClassOf", "GO:0031967")}),
    "NodeAnnotationChange-literal": (
        'change annotation of GO:0005635 with oboInOwl:hasDbXref from '
        '"Wikipedia:Nuclear_envelope" to "Wikipedia:Nuclear_membrane"',
        {t(ENVELOPE, "oboInOwl:hasDbXref", xs("Wikipedia:Nuclear_membrane"))},
        {t(ENVELOPE, "oboInOwl:hasDbXref", xs("Wikipedia:Nuclear_envelope"))}),
    "NodeAnnotationChange-iri": (
        "change annotation of GO:0005636 with IAO:0100001 from GO:0005635 to GO:0005634",
        {t("GO:0005636", "IAO:0100001", NUCLEUS)}, {t("GO:0005636", "IAO:0100001", ENVELOPE)}),
    "PlaceUnder": ("create edge GO:0005635 rdfs:subClassOf GO:0043231",
                   {t(ENVELOPE, "rdfs:subClassOf", "GO:0043231")}, set()),
    "RemoveUnder": ("delete edge GO:0005635 rdfs:subClassOf GO:0031967", set(),
                    {t(ENVELOPE, "rdfs:subClassOf", "GO:0031967")}),
    "EdgeCreation-annotation": ("create edge GO:0005634 oboInOwl:consider GO:0005635",
                                {t(NUCLEUS, "oboInOwl:consider", ENVELOPE)}, set()),
    "EdgeCreation-literal": ('create edge GO:0005635 rdfs:comment "Seen in EM."',
                             {t(ENVELOPE, "rdfs:comment", xs("Seen in EM."))}, set()),
    "EdgeDeletion-annotation": ("delete edge GO:0005634 RO:0002161 NCBITaxon:2", set(),
                                {t(NUCLEUS, "RO:0002161", "NCBITaxon:2")}),
    "NewTextDefinition": ("add definition 'A thing of anatomy.' to CARO:0000000",
                          {t("CARO:0000000", "IAO:0000115", xs("A thing of anatomy."))}, set()),
    "AddNodeToSubset": ("add GO:0005635 to subset goslim_pir",
                        {t(ENVELOPE, "oboInOwl:inSubset", "obo:go#goslim_pir")}, set()),
    "RemoveNodeFromSubset": ("remove GO:0005635 from subset goslim_generic", set(),
                             {t(ENVELOPE, "oboInOwl:inSubset", "obo:go#goslim_generic")}),
}


@pytest.mark.parametrize("case", sorted(PLAIN))
def test_change_types_add_and_remove_exactly_these_triples(go: Graph, case: str) -> None:
    command, added, removed = PLAIN[case]
    result = apply_to_graph(go, command)
    assert set(result.added) == added
    assert set(result.removed) == removed


def test_obsolete_touches_no_other_class(go: Graph) -> None:
    before = set(go)
    result = apply_to_graph(go, "obsolete GO:0005634")
    assert {s for s, _, _ in result.added | result.removed} == {n(NUCLEUS)}
    assert set(go) ^ before == set(result.added | result.removed)
    assert (n(NUCLEUS), RDFS.subClassOf, n("GO:0043231")) in go  # edges stay


def test_obsolete_follows_the_legacy_obsolete_class_convention_of_a_bare_graph() -> None:
    g = Graph()
    g.add((n("ex:a"), RDFS.label, Literal("A")))
    result = apply_to_graph(g, "obsolete ex:a")
    assert (n("ex:a"), RDFS.subClassOf, n("oboInOwl:ObsoleteClass")) in result.added


def test_delete_edge_on_a_restriction_removes_its_four_triples_only(go: Graph) -> None:
    # the reference removes 148 triples here
    b = restriction(go, ENVELOPE, "BFO:0000050", NUCLEUS)
    own = bnode_triples(go, b)
    result = apply_to_graph(go, "delete edge GO:0005635 BFO:0000050 GO:0005634")
    assert set(result.removed) == {(n(ENVELOPE), RDFS.subClassOf, b)} | own
    assert len(result.removed) == 4 and not result.added
    restriction(go, ENVELOPE, "BFO:0000050", "GO:0012505")  # the other one is still there


def test_change_relationship_on_a_restriction_changes_only_its_property(go: Graph) -> None:
    # the reference adds the new restriction and keeps the old one
    b = restriction(go, ENVELOPE, "BFO:0000050", NUCLEUS)
    result = apply_to_graph(go, "change relationship between GO:0005635 and GO:0005634 from "
                                "BFO:0000050 to RO:0002131")
    assert set(result.removed) == {(b, OWL.onProperty, n("BFO:0000050"))}
    assert set(result.added) == {(b, OWL.onProperty, n("RO:0002131"))}
    with pytest.raises(ChangeRequestError, match="no edge"):
        apply_to_graph(go, "delete edge GO:0005635 BFO:0000050 GO:0005634")


def test_change_relationship_on_a_plain_triple_and_between_is_a_and_restriction(go: Graph
                                                                                 ) -> None:
    r = apply_to_graph(go, "change relationship between GO:0005635 and GO:0031967 from "
                           "rdfs:subClassOf to BFO:0000050")
    assert set(r.removed) == {t(ENVELOPE, "rdfs:subClassOf", "GO:0031967")}
    b = restriction(go, ENVELOPE, "BFO:0000050", "GO:0031967")
    assert set(r.added) == {(n(ENVELOPE), RDFS.subClassOf, b), (b, RDF.type, OWL.Restriction),
                            (b, OWL.onProperty, n("BFO:0000050")),
                            (b, OWL.someValuesFrom, n("GO:0031967"))}


def test_edge_creation_between_classes_is_an_existential_restriction(go: Graph) -> None:
    result = apply_to_graph(go, "create edge GO:0005635 BFO:0000050 GO:0005737")
    b = restriction(go, ENVELOPE, "BFO:0000050", "GO:0005737")
    assert set(result.added) == {(n(ENVELOPE), RDFS.subClassOf, b), (b, RDF.type,
                                                                     OWL.Restriction),
                                 (b, OWL.onProperty, n("BFO:0000050")),
                                 (b, OWL.someValuesFrom, n("GO:0005737"))}
    assert not result.removed


def test_move_of_a_restriction_changes_its_filler(go: Graph) -> None:
    b = restriction(go, ENVELOPE, "BFO:0000050", NUCLEUS)
    result = apply_to_graph(go, "move GO:0005635 BFO:0000050 GO:0005634 from GO:0005634 to "
                                "GO:0005737")
    assert set(result.removed) == {(b, OWL.someValuesFrom, n(NUCLEUS))}
    assert set(result.added) == {(b, OWL.someValuesFrom, n("GO:0005737"))}


def test_remove_synonym_takes_its_axiom_annotations(go: Graph) -> None:
    old = xs("horsetail nucleus")
    ax = axiom(go, NUCLEUS, "oboInOwl:hasNarrowSynonym", old)
    axiom_triples = bnode_triples(go, ax)
    assert len(axiom_triples) == 8
    result = apply_to_graph(go, "remove synonym 'horsetail nucleus' for GO:0005634")
    assert set(result.removed) == {t(NUCLEUS, "oboInOwl:hasNarrowSynonym", old)} | axiom_triples
    assert not result.added


def test_change_synonym_keeps_its_axiom_annotations(go: Graph) -> None:
    old, new = xs("horsetail nucleus"), xs("horsetail karyon")
    ax = axiom(go, NUCLEUS, "oboInOwl:hasNarrowSynonym", old)
    result = apply_to_graph(go, "change narrow synonym 'horsetail nucleus' for GO:0005634 to "
                                "'horsetail karyon'")
    assert set(result.removed) == {t(NUCLEUS, "oboInOwl:hasNarrowSynonym", old),
                                   (ax, OWL.annotatedTarget, old)}
    assert set(result.added) == {t(NUCLEUS, "oboInOwl:hasNarrowSynonym", new),
                                 (ax, OWL.annotatedTarget, new)}


def test_change_definition_keeps_its_xrefs(go: Graph) -> None:
    new = xs("The envelope of the nucleus.")
    ax = axiom(go, ENVELOPE, "IAO:0000115", DEF_635)
    result = apply_to_graph(go, "change definition of GO:0005635 to "
                                "'The envelope of the nucleus.'")
    assert set(result.removed) == {t(ENVELOPE, "IAO:0000115", DEF_635),
                                   (ax, OWL.annotatedTarget, DEF_635)}
    assert set(result.added) == {t(ENVELOPE, "IAO:0000115", new), (ax, OWL.annotatedTarget, new)}


def test_remove_definition_takes_its_axiom(go: Graph) -> None:
    ax = axiom(go, ENVELOPE, "IAO:0000115", DEF_635)
    expected = {t(ENVELOPE, "IAO:0000115", DEF_635)} | bnode_triples(go, ax)
    result = apply_to_graph(go, "remove definition for GO:0005635")
    assert set(result.removed) == expected and len(expected) == 6


def test_delete_node_removes_its_triples_restrictions_and_axioms_only(go: Graph) -> None:
    own = set(go.triples((n(ENVELOPE), None, None)))
    owned_bnodes = {o for _, _, o in own if isinstance(o, BNode)} | set(
        go.subjects(OWL.annotatedSource, n(ENVELOPE)))
    expected = own | {tr for b in owned_bnodes for tr in bnode_triples(go, b)}
    result = apply_to_graph(go, "delete GO:0005635")
    assert set(result.removed) == expected and not result.added
    assert (n("GO:0005636"), n("IAO:0100001"), n(ENVELOPE)) in go  # others' references stay


def test_a_request_applies_in_order(go: Graph) -> None:
    result = apply_to_graph(go, "rename GO:0005634 from 'nucleus' to 'a'\n"
                                "rename 'a' to 'b'\n# a comment\n"
                                "create exact synonym 'nucleus' for 'b'")
    assert set(result.added) == {t(NUCLEUS, "rdfs:label", Literal("b")),
                                 t(NUCLEUS, "oboInOwl:hasExactSynonym", xs("nucleus"))}
    assert set(result.removed) == {t(NUCLEUS, "rdfs:label", Literal("nucleus"))}


def test_dry_run_reports_and_changes_nothing(go: Graph) -> None:
    before = set(go)
    result = apply_to_graph(go, "obsolete GO:0005634", dry_run=True)
    assert result.dry_run and len(result.added) == 2 and set(go) == before


def test_fifth_command_failing_leaves_the_graph_unchanged(go: Graph) -> None:
    before = set(go)
    request = "\n".join([
        "rename GO:0005634 from 'nucleus' to 'cell core'",
        "delete edge GO:0005635 BFO:0000050 GO:0005634",
        "obsolete GO:0005737",
        "create node GO:9999999 'brand new'",
        "remove synonym 'no such synonym' for GO:0005634",
    ])
    with pytest.raises(ChangeRequestError, match="line 5: .*no synonym 'no such synonym'"):
        apply_to_graph(go, request)
    assert set(go) == before


@pytest.mark.parametrize(("command", "problem"), [
    ("rename GO:0005634 from 'nucleolus' to 'x'", "is labelled 'nucleus', not 'nucleolus'"),
    ("rename 'no such thing' to 'x'", "no entity is labelled 'no such thing'"),
    ("create exact synonym 'x' for 'role'", "label 'role' is ambiguous"),
    ("obsolete GO:0000000", "unknown entity GO:0000000"),
    ("obsolete GO:0005636", "already obsolete"),
    ("unobsolete GO:0005634", "is not obsolete"),
    ("delete edge GO:0005635 BFO:0000050 GO:0005737", "no edge"),
    ("create edge GO:0005635 BFO:0000050 GO:0005634", "already exists"),
    ("create node GO:0005634 'again'", "already exists"),
    ("add definition 'x' to GO:0005634", "already has a definition"),
    ("deepen GO:0005634 from GO:0043231 to GO:0005737", "not below"),
    ("shallow GO:0005635 from GO:0031967 to GO:0005634", "not above"),
    ("add GO:0005634 to subset goslim_generic", "already in subset"),
    ("move GO:0005635 rdfs:subClassOf GO:0031967 from GO:0043231 to GO:0005634",
     "is not the old value"),
    ("change definition of GO:0005634 from 'no' to 'x'", "definition of GO:0005634 is not"),
    ("create edge GO:0005634 not-a-prefix:x GO:1", "'not-a-prefix:x' is not a CURIE"),
])
def test_inapplicable_commands_are_rejected_with_the_reason(go: Graph, command: str,
                                                           problem: str) -> None:
    before = set(go)
    with pytest.raises(ChangeRequestError) as err:
        apply_to_graph(go, f"create exact synonym 'fine' for GO:0005634\n{command}")
    assert "line 2" in str(err.value) and problem in str(err.value)
    assert set(go) == before
