"""Parsing and rendering KGCL: every change type survives parse → render → parse, and the
workarounds for kgcl-schema's quirks hold."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kgcl_schema.datamodel.kgcl import (
    EdgeCreation,
    NodeAnnotationChange,
    NodeRename,
    PlaceUnder,
    RemoveUnder,
    SynonymReplacement,
)

from pipeline.errors import ChangeRequestError
from pipeline.kgcl import CHANGE_TYPES, PrefixMap, change_fields, parse_command, render_change

PM = PrefixMap()

#: One command per change class (the grammar's 21 commands parse to these 24 classes).
EXAMPLES = {
    "NodeRename": "rename GO:0005634 from 'nucleus' to 'cell core'",
    "NodeCreation": "create node GO:9999999 'brand new'@en",
    "ClassCreation": "create GO:9999998",
    "NewSynonym": "create exact synonym 'karyon' for GO:0005634",
    "RemoveSynonym": "remove synonym 'horsetail nucleus'@en for GO:0005634",
    "SynonymReplacement": "change narrow synonym 'a' for 'nucleus' to 'b'",
    "NodeDeletion": "delete <http://example.org/x/thing>",
    "NodeObsoletion": "obsolete GO:0005634",
    "NodeObsoletionWithDirectReplacement": "obsolete GO:0005634 with replacement 'cell core'",
    "NodeUnobsoletion": "unobsolete GO:0005636",
    "NodeDeepening": "deepen GO:0005634 from GO:0043231 to GO:0005773",
    "NodeShallowing": "shallow GO:0005635 from GO:0031967 to GO:0031975",
    "NodeMove": "move GO:0005635 BFO:0000050 GO:0005634 from GO:0005634 to GO:0005737",
    "PredicateChange": "change relationship between GO:0005635 and GO:0005634 from "
                       "'part of' to RO:0002131",
    "NodeAnnotationChange": 'change annotation of GO:0005635 with rdfs:comment from "a"@en '
                            'to "b"^^xsd:string',
    "EdgeCreation": "create edge GO:0005635 BFO:0000050 GO:0005737",
    "PlaceUnder": "create edge GO:0005635 rdfs:subClassOf GO:0043231",
    "EdgeDeletion": "delete edge GO:0005635 BFO:0000050 GO:0005634",
    "RemoveUnder": "delete edge GO:0005635 <http://www.w3.org/2000/01/rdf-schema#subClassOf> "
                   "GO:0031967",
    "NodeTextDefinitionChange": "change definition of GO:0005635 from 'old' to 'new'",
    "NewTextDefinition": "add definition 'A thing.' to CARO:0000000",
    "RemoveTextDefinition": "remove definition for GO:0005635",
    "AddNodeToSubset": "add GO:0005635 to subset goslim_pir",
    "RemoveNodeFromSubset": "remove GO:0005635 from subset <http://purl.obolibrary.org/obo/go#x>",
}


def _round_trip(text: str) -> tuple[dict[str, object], dict[str, object], str]:
    first = parse_command(text).change
    rendered = render_change(first, prefixes=PM)
    second = parse_command(rendered).change
    assert render_change(second, prefixes=PM) == rendered  # rendering is a fixpoint
    return change_fields(first, PM), change_fields(second, PM), rendered


def test_examples_cover_every_change_type() -> None:
    parsed = {type(parse_command(t).change).__name__ for t in EXAMPLES.values()}
    assert parsed == set(EXAMPLES) == {c.__name__ for c in CHANGE_TYPES}
    assert len(CHANGE_TYPES) == 24


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_change_type_round_trips(name: str) -> None:
    first, second, _ = _round_trip(EXAMPLES[name])
    assert first == second
    assert first["type"] == name


# ---------------------------------------------------------------------- property

LABEL = st.text(alphabet=st.sampled_from(list("ab Z9'\"\\\n\t!{}#@^:<>é漢")), min_size=1,
                max_size=10)
CURIE = st.one_of(st.from_regex(r"\AGO:[0-9]{7}\Z"), st.from_regex(r"\Aex:[a-z]{1,6}\Z"))
IRI = st.one_of(st.from_regex(r"\A<http://example\.com/[a-z]{1,6}>\Z"),  # no known prefix
                st.from_regex(r"\A<http://purl\.obolibrary\.org/obo/GO_[0-9]{7}>\Z"))
ID = st.one_of(CURIE, IRI)


def _q(text: str, quote: str = "'") -> str:
    esc = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", quote: "\\" + quote}
    return quote + "".join(esc.get(c, c) for c in text) + quote


LAB = LABEL.map(_q)
REF = st.one_of(ID, LAB)
LANG = st.one_of(st.just(""), st.sampled_from(["@en", "@fr", "@en-GB"]))
SCOPE = st.sampled_from(["", "exact ", "broad ", "narrow ", "related "])
LIT = st.one_of(
    st.builds(lambda t, s: _q(t, '"') + s, LABEL,
              st.one_of(LANG, st.sampled_from(["^^xsd:string", "^^<http://example.com/dt>"]))),
    LAB)
SUBSET = st.one_of(st.from_regex(r"\Agoslim_[a-z]{1,5}\Z"), CURIE, IRI)

COMMANDS = st.one_of(
    st.builds(lambda i, a, la, b, lb: f"rename {i} from {a}{la} to {b}{lb}",
              ID, LAB, LANG, LAB, LANG),
    st.builds(lambda a, b: f"rename {a} to {b}", LAB, LAB),
    st.builds(lambda i, a, la: f"create node {i} {a}{la}", ID, LAB, LANG),
    st.builds(lambda i: f"create {i}", ID),
    st.builds(lambda q, a, la, r: f"create {q}synonym {a}{la} for {r}", SCOPE, LAB, LANG, REF),
    st.builds(lambda a, la, r: f"remove synonym {a}{la} for {r}", LAB, LANG, REF),
    st.builds(lambda q, a, la, r, b: f"change {q}synonym {a}{la} for {r} to {b}",
              SCOPE, LAB, LANG, REF, LAB),
    st.builds(lambda r: f"delete {r}", REF),
    st.builds(lambda r: f"obsolete {r}", REF),
    st.builds(lambda r, s: f"obsolete {r} with replacement {s}", REF, REF),
    st.builds(lambda r: f"unobsolete {r}", REF),
    st.builds(lambda v, r, a, b: f"{v} {r} from {a} to {b}",
              st.sampled_from(["deepen", "shallow"]), REF, REF, REF),
    st.builds(lambda s, p, o, b: f"move {s} {p} {o} from {o} to {b}", REF, REF, REF, REF),
    st.builds(lambda s, o, p, q: f"change relationship between {s} and {o} from {p} to {q}",
              REF, REF, REF, REF),
    st.builds(lambda s, p, a, b: f"change annotation of {s} with {p} from {a} to {b}",
              REF, REF, st.one_of(LIT, ID), st.one_of(LIT, ID)),
    st.builds(lambda v, s, p, o: f"{v} edge {s} {p} {o}", st.sampled_from(["create", "delete"]),
              REF, st.one_of(REF, st.just("rdfs:subClassOf")), st.one_of(REF, LIT)),
    st.builds(lambda r, a, b: f"change definition of {r} from {a} to {b}", REF, LAB, LAB),
    st.builds(lambda r, b: f"change definition of {r} to {b}", REF, LAB),
    st.builds(lambda a, r: f"add definition {a} to {r}", LAB, REF),
    st.builds(lambda r: f"remove definition for {r}", REF),
    st.builds(lambda r, s: f"add {r} to subset {s}", ID, SUBSET),
    st.builds(lambda r, s: f"remove {r} from subset {s}", ID, SUBSET),
)


@given(COMMANDS)
@settings(max_examples=100, deadline=None)
def test_render_parse_round_trip_for_random_commands(text: str) -> None:
    first, second, rendered = _round_trip(text)
    assert first == second, rendered


# ---------------------------------------------------------------------- quirks


def test_labels_with_quotes_backslashes_and_newlines() -> None:
    ch = parse_command(r"rename GO:1 from 'Crohn\'s' to 'a\\b\nc'").change
    assert (ch.old_value, ch.new_value) == ("Crohn's", "a\\b\nc")
    assert render_change(ch) == r"rename GO:1 from 'Crohn\'s' to 'a\\b\nc'"
    raw = parse_command("rename '''it's''' to 'x'").change  # a raw string of the grammar
    assert raw.old_value == "it's" and raw.about_node is None


def test_plain_labels_render_without_escapes() -> None:
    text = "create exact synonym 'cell nucleus' for GO:0005634"
    assert render_change(parse_command(text).change) == text


@pytest.mark.parametrize("bad", ["rename GO:1 from '' to 'b'", "delete 'x", "delete foo",
                                 "rename 'a' to \u00abx\u00bb", "create edge a:b c:d \"x"])
def test_malformed_quoting_and_references_are_rejected(bad: str) -> None:
    with pytest.raises(ChangeRequestError, match="cannot parse"):
        parse_command(bad)


def test_full_iris_are_kept_and_rendered_as_curies_when_known() -> None:
    ch = parse_command("create edge <http://example.com/a> <http://purl.obolibrary.org/obo/"
                       "BFO_0000050> <http://www.w3.org/2002/07/owl#Thing>").change
    assert (ch.subject, ch.predicate, ch.object) == (
        "http://example.com/a", "http://purl.obolibrary.org/obo/BFO_0000050",
        "http://www.w3.org/2002/07/owl#Thing")
    assert render_change(ch, prefixes=PM) == (
        "create edge <http://example.com/a> BFO:0000050 owl:Thing")


def test_change_synonym_keeps_its_scope_language_and_node_kind() -> None:
    ch = parse_command("change exact synonym 'x'@en for GO:1 to 'y'").change
    assert isinstance(ch, SynonymReplacement)
    assert (ch.qualifier, ch.language, ch.about_node_representation) == ("exact", "en", "curie")
    by_label = parse_command("change synonym 'x' for 'nucleus' to 'y'").change
    assert (by_label.qualifier, by_label.about_node_representation) == (None, "label")


def test_annotation_values_split_language_and_datatype() -> None:
    ch = parse_command('change annotation of GO:1 with rdfs:comment from "a b"@en to '
                       '"c"^^xsd:string').change
    assert isinstance(ch, NodeAnnotationChange)
    assert (ch.old_value, ch.old_language, ch.old_value_type) == ("a b", "en", "literal")
    assert (ch.new_value, ch.new_datatype, ch.new_value_type) == ("c", "xsd:string", "literal")


def test_literal_edge_objects_and_subclass_iris() -> None:
    lit = parse_command('create edge GO:1 rdfs:comment "free text"@en').change
    assert isinstance(lit, EdgeCreation)
    assert (lit.object, lit.object_type, lit.language) == ("free text", "literal", "en")
    iri = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"
    assert isinstance(parse_command(f"create edge GO:1 {iri} GO:2").change, PlaceUnder)
    assert isinstance(parse_command(f"delete edge GO:1 {iri} GO:2").change, RemoveUnder)


def test_replacement_by_label_stays_quoted() -> None:
    ch = parse_command("obsolete GO:1 with replacement 'cell core'").change
    assert ch.has_direct_replacement == "'cell core'"


def test_parse_errors_point_at_the_users_column() -> None:
    with pytest.raises(ChangeRequestError, match="column 35"):
        parse_command("add <http://example.org/subclass> SubClassOf <http://example.org/s>")


def test_rename_without_id_renders_without_one() -> None:
    ch = parse_command("rename 'a' to 'b'").change
    assert isinstance(ch, NodeRename)
    assert render_change(ch) == "rename 'a' to 'b'"
