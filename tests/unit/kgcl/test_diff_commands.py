"""Diffs as KGCL: empty for a file against itself, specific commands, and diff → apply
round-trips, for hand-written changes, the 17 reference cases and random command sequences."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import OWL, Graph, Literal, URIRef

from pipeline.errors import ChangeRequestError
from pipeline.kgcl import (
    OboDocument,
    apply_to_graph,
    apply_to_obo,
    diff_graphs,
    diff_obo,
    equivalent_graphs,
    load_graph,
    parse_change_request,
)
from pipeline.kgcl.files import copy_graph
from pipeline.kgcl.rdf_editor import GraphEditor, tentatively
from pipeline.kgcl.vocab import DEFINITION, OBO, OIO
from tests.unit.kgcl.kgcl_data import (
    GO_OBO,
    GO_TTL,
    KGCL_DEV,
    OboState,
    RdfState,
    cases,
    draw_command,
)

XSD_STRING = URIRef("http://www.w3.org/2001/XMLSchema#string")

_CACHE: dict[str, object] = {}


def go_pristine(key: str = "ttl") -> Graph:
    """The GO slice in OWL, parsed once per key: whoever changes it puts it back."""
    if key not in _CACHE:
        assert GO_TTL.is_file(), f"the shared KGCL data is not at {GO_TTL}"
        _CACHE[key] = load_graph(GO_TTL, "ttl")
    return _CACHE[key]  # type: ignore[return-value]


def go_graph() -> Graph:
    """A fresh copy of the GO slice in OWL."""
    return copy_graph(go_pristine())


def go_obo() -> OboDocument:
    if "obo" not in _CACHE:
        assert GO_OBO.is_file(), f"the shared KGCL data is not at {GO_OBO}"
        _CACHE["obo"] = OboDocument.read(GO_OBO)
    return _CACHE["obo"].copy()  # type: ignore[attr-defined]


CHANGES = """rename GO:0005634 from 'nucleus' to 'cell core'
create exact synonym 'karyon' for GO:0005634
change exact synonym 'cell nucleus' for GO:0005634 to 'nuc'
remove synonym 'horsetail nucleus' for GO:0005634
change definition of GO:0005635 to 'The envelope.'
add GO:0005635 to subset goslim_pir
remove GO:0005635 from subset goslim_generic
create edge GO:0005635 BFO:0000050 GO:0005737
delete edge GO:0005635 BFO:0000050 GO:0012505
change relationship between GO:0005635 and GO:0005634 from BFO:0000050 to RO:0002131
obsolete GO:0005773 with replacement GO:0005635
create node GO:9999999 'brand new'
create GO:9999998
move GO:0005635 rdfs:subClassOf GO:0031967 from GO:0031967 to GO:0043231
create edge GO:0005635 rdfs:comment "A comment!"
add definition 'A thing of anatomy.' to CARO:0000000
delete GO:0005737
"""


def test_a_file_against_itself_is_no_change() -> None:
    assert diff_graphs(go_graph(), go_graph()) == []
    assert diff_obo(go_obo(), go_obo()) == []


@pytest.mark.parametrize("kind", ["ttl", "obo"])
def test_diff_of_hand_made_changes_uses_the_specific_commands_and_round_trips(kind: str
                                                                              ) -> None:
    if kind == "ttl":
        old, new = go_graph(), go_graph()
        apply_to_graph(new, CHANGES)
        commands = diff_graphs(old, new)
        apply_to_graph(old, "\n".join(commands))
        assert equivalent_graphs(old, new)
    else:
        old_doc, new_doc = go_obo(), go_obo()
        apply_to_obo(new_doc, CHANGES)
        commands = diff_obo(old_doc, new_doc)
        apply_to_obo(old_doc, "\n".join(commands))
        assert old_doc.canonical() == new_doc.canonical()
    kinds = {type(p.change).__name__ for p in parse_change_request("\n".join(commands))}
    assert {"NodeRename", "NewSynonym", "SynonymReplacement", "RemoveSynonym",
            "NodeTextDefinitionChange", "NewTextDefinition", "AddNodeToSubset",
            "RemoveNodeFromSubset", "EdgeCreation", "PredicateChange",
            "NodeObsoletionWithDirectReplacement", "NodeCreation", "ClassCreation", "NodeMove",
            "NodeDeletion"} <= kinds
    assert len(commands) <= len(CHANGES.splitlines()) + 1  # minimal: no more than was done


REFERENCE = [c for c in cases() if "expected_file" in c]


def test_the_shared_reference_cases_are_there() -> None:
    assert len(REFERENCE) == 17, (f"the shared KGCL data is not at {KGCL_DEV}; set "
                                  "VERIKG_SHARED_DATA to the folder holding kgcl-dev/")


@pytest.mark.parametrize("case", REFERENCE, ids=[c["id"] for c in REFERENCE])
def test_diff_of_each_reference_case_is_its_change(case: dict) -> None:
    old = load_graph(KGCL_DEV / case["input_file"], "nt")
    new = load_graph(KGCL_DEV / case["expected_file"], "nt")
    commands = diff_graphs(old, new)
    assert len(commands) <= len(case["kgcl"].splitlines())
    apply_to_graph(old, "\n".join(commands))
    assert equivalent_graphs(old, new)


def test_diff_leaves_both_versions_as_they_were() -> None:
    old, new = go_graph(), go_graph()
    apply_to_graph(new, CHANGES)
    old_triples, new_triples = set(old), set(new)
    diff_graphs(old, new)
    assert set(old) == old_triples and set(new) == new_triples


def test_what_kgcl_cannot_say_is_an_error_not_a_silent_gap() -> None:
    old, new = go_graph(), go_graph()
    horsetail = Literal("horsetail nucleus", datatype=XSD_STRING)
    axiom = next(a for a in new.subjects(OWL.annotatedTarget, horsetail))
    new.remove((axiom, OIO["hasDbXref"], Literal("GOC:al", datatype=XSD_STRING)))
    with pytest.raises(ChangeRequestError, match="cannot all be written in KGCL"):
        diff_graphs(old, new)


def test_dropping_the_xrefs_of_a_definition_is_written_as_remove_and_add() -> None:
    old, new = go_graph(), go_graph()
    axiom = next(a for a in new.subjects(OWL.annotatedSource, URIRef(str(OBO) + "GO_0005635"))
                 if (a, OWL.annotatedProperty, DEFINITION) in new)
    new.remove((axiom, None, None))
    commands = diff_graphs(old, new)
    assert commands[0] == "remove definition for GO:0005635"
    assert commands[1].startswith("add definition 'The double lipid bilayer")


@given(data=st.data())
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_command_sequences_diff_and_round_trip_in_owl(data: st.DataObject) -> None:
    # two parsed copies of the slice, each put back after the example by its journal:
    # copying 4,000 triples per example would cost more than everything else together
    old, new = go_pristine(), go_pristine("new")
    state = RdfState(new)
    editor = GraphEditor(new, state.pm)
    applied = []
    try:
        for _ in range(data.draw(st.integers(1, 6), label="length")):
            command = draw_command(data, state)
            editor.apply(parse_change_request(command), hold=True)  # a valid command applies
            applied.append(command)
        commands = diff_graphs(old, new, verify=False)
        with tentatively(old, "\n".join(commands) or "# no change", prefixes=state.pm) \
                if commands else nullcontext():
            assert equivalent_graphs(old, new), (applied, commands)
    finally:
        editor.journal.rollback()


@given(data=st.data())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_command_sequences_diff_and_round_trip_in_obo(data: st.DataObject) -> None:
    old, new = go_obo(), go_obo()
    state = OboState(new)
    applied = []
    for _ in range(data.draw(st.integers(1, 6), label="length")):
        command = draw_command(data, state, obo=True)
        apply_to_obo(new, command)
        applied.append(command)
    commands = diff_obo(old, new, verify=False)
    if commands:
        apply_to_obo(old, "\n".join(commands))
    assert old.canonical() == new.canonical(), (applied, commands)
