"""KGCL on the Gene Ontology slice in OBO (go-nucleus.obo): the line-preserving reader and
writer, and one test per change type asserting exactly the tag lines added and removed."""

from __future__ import annotations

import difflib

import pytest

from pipeline.errors import ChangeRequestError
from pipeline.kgcl import OboDocument, apply_to_obo
from pipeline.kgcl.obo_format import escape_text, parse_tag_line, unescape
from tests.unit.kgcl.kgcl_data import GO_OBO


@pytest.fixture(scope="module")
def go_text() -> str:
    assert GO_OBO.is_file(), f"the shared KGCL data is not at {GO_OBO}"
    with open(GO_OBO, encoding="utf-8", newline="") as fh:
        return fh.read()


@pytest.fixture()
def go(go_text: str) -> OboDocument:
    return OboDocument.parse(go_text)


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """The text lines a change added and removed, from a plain text diff."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return ([d[2:] for d in diff if d.startswith("+ ")],
            [d[2:] for d in diff if d.startswith("- ")])


# ---------------------------------------------------------------------- reading and writing


def test_an_unchanged_document_is_byte_identical(go_text: str, go: OboDocument) -> None:
    assert go.text() == go_text
    assert len([s for s in go.stanzas if s.kind == "Term"]) == 176


@pytest.mark.parametrize("text", [
    "format-version: 1.2\r\n\r\n[Term]\r\nid: X:1\r\nname: a\r\n",
    "[Term]\nid: X:1\nname: no newline at the end",
    "! a comment line\n\n[Term]\nid: X:1\n  \nis_a: X:2 {source=\"a!b\"} ! two\n\n\n",
])
def test_odd_layouts_survive(text: str) -> None:
    assert OboDocument.parse(text).text() == text


def test_new_lines_follow_the_documents_line_endings() -> None:
    doc = OboDocument.parse("format-version: 1.2\r\n\r\n[Term]\r\nid: X:1\r\nname: a")
    apply_to_obo(doc, "create exact synonym 'b' for X:1\ncreate node X:2 'two'")
    assert doc.text() == ("format-version: 1.2\r\n\r\n[Term]\r\nid: X:1\r\nname: a\r\n"
                          'synonym: "b" EXACT []\r\n\r\n[Term]\r\nid: X:2\r\nname: two\r\n')


def test_tag_lines_split_value_qualifiers_and_comment() -> None:
    tl = parse_tag_line('relationship: part_of GO:1 {source="x!y", a=b} ! the thing')
    assert tl is not None
    assert (tl.tag, tl.value, tl.qualifiers, tl.comment) == (
        "relationship", "part_of GO:1", '{source="x!y", a=b}', "the thing")
    syn = parse_tag_line('synonym: "a \\"b\\" ! c" EXACT systematic_synonym [PMID:1]')
    assert syn is not None and syn.text == 'a "b" ! c' and syn.scope() == "EXACT"
    assert parse_tag_line("name: a\\!b \\{c") is not None
    assert parse_tag_line("name: a\\!b \\{c").text == "a!b {c"  # type: ignore[union-attr]
    assert parse_tag_line("") is None and parse_tag_line("! comment") is None
    for text in ['say "hi"! {now}', "back\\slash", "two\nlines"]:
        assert unescape(escape_text(text)) == text


# ---------------------------------------------------------------------- change types

NUCLEUS, ENVELOPE = "GO:0005634", "GO:0005635"
DEF_635 = ("The double lipid bilayer enclosing the nucleus and separating its contents from the "
           "rest of the cytoplasm; includes the intermembrane space, a gap of width 20-40 nm "
           "(also called the perinuclear space).")

#: (command, lines added, lines removed), each line with its stanza's id.
CASES = {
    "NodeRename": ("rename GO:0005634 from 'nucleus' to 'cell core'",
                   {(NUCLEUS, "name: cell core")}, {(NUCLEUS, "name: nucleus")}),
    "NodeRename-escapes": ("rename 'nucleus' to 'core! {of} the \\'cell\\''",
                           {(NUCLEUS, "name: core\\! \\{of} the 'cell'")},
                           {(NUCLEUS, "name: nucleus")}),
    "NodeCreation": ("create node GO:9999999 'brand new'",
                     {("GO:9999999", "[Term]"), ("GO:9999999", "id: GO:9999999"),
                      ("GO:9999999", "name: brand new")}, set()),
    "ClassCreation": ("create GO:9999998",
                      {("GO:9999998", "[Term]"), ("GO:9999998", "id: GO:9999998")}, set()),
    "NewSynonym-exact": ("create exact synonym 'karyon' for GO:0005634",
                         {(NUCLEUS, 'synonym: "karyon" EXACT []')}, set()),
    "NewSynonym-broad": ("create broad synonym 'karyon' for GO:0005634",
                         {(NUCLEUS, 'synonym: "karyon" BROAD []')}, set()),
    "NewSynonym-narrow": ("create narrow synonym 'kar\"yon' for 'nucleus'",
                          {(NUCLEUS, 'synonym: "kar\\"yon" NARROW []')}, set()),
    "NewSynonym-related": ("create related synonym 'karyon' for GO:0005634",
                           {(NUCLEUS, 'synonym: "karyon" RELATED []')}, set()),
    "NewSynonym-unscoped": ("create synonym 'karyon' for GO:0005634",
                            {(NUCLEUS, 'synonym: "karyon" RELATED []')}, set()),
    "RemoveSynonym": ("remove synonym 'horsetail nucleus' for GO:0005634", set(),
                      {(NUCLEUS, 'synonym: "horsetail nucleus" NARROW [GOC:al, GOC:mah, GOC:vw, '
                                 'PMID:15030757]')}),
    "SynonymReplacement": ("change exact synonym 'cell nucleus' for GO:0005634 to 'cell karyon'",
                           {(NUCLEUS, 'synonym: "cell karyon" EXACT systematic_synonym []')},
                           {(NUCLEUS, 'synonym: "cell nucleus" EXACT systematic_synonym []')}),
    "NodeObsoletion": ("obsolete GO:0005634",
                       {(NUCLEUS, "name: obsolete nucleus"), (NUCLEUS, "is_obsolete: true")},
                       {(NUCLEUS, "name: nucleus")}),
    "NodeObsoletionWithDirectReplacement": (
        "obsolete GO:0005634 with replacement 'nuclear envelope'",
        {(NUCLEUS, "name: obsolete nucleus"), (NUCLEUS, "is_obsolete: true"),
         (NUCLEUS, "replaced_by: GO:0005635")}, {(NUCLEUS, "name: nucleus")}),
    "NodeDeepening": ("deepen GO:0005634 from GO:0043231 to GO:0005773",
                      {(NUCLEUS, "is_a: GO:0005773 ! vacuole")},
                      {(NUCLEUS, "is_a: GO:0043231 ! intracellular membrane-bounded organelle")}),
    "NodeShallowing": ("shallow GO:0005635 from GO:0031967 to GO:0031975",
                       {(ENVELOPE, "is_a: GO:0031975 ! envelope")},
                       {(ENVELOPE, "is_a: GO:0031967 ! organelle envelope")}),
    "NodeMove-is_a": ("move GO:0005635 rdfs:subClassOf GO:0031967 from GO:0031967 to GO:0043231",
                      {(ENVELOPE, "is_a: GO:0043231 ! intracellular membrane-bounded organelle")},
                      {(ENVELOPE, "is_a: GO:0031967 ! organelle envelope")}),
    "NodeMove-relationship": (
        "move GO:0005635 BFO:0000050 GO:0005634 from GO:0005634 to GO:0005737",
        {(ENVELOPE, "relationship: part_of GO:0005737 ! cytoplasm")},
        {(ENVELOPE, "relationship: part_of GO:0005634 ! nucleus")}),
    "PredicateChange": (  # the reference keeps the old relationship
        "change relationship between GO:0005635 and GO:0005634 from BFO:0000050 to RO:0002131",
        {(ENVELOPE, "relationship: overlaps GO:0005634 ! nucleus")},
        {(ENVELOPE, "relationship: part_of GO:0005634 ! nucleus")}),
    "PredicateChange-is_a": (
        "change relationship between GO:0005635 and GO:0031967 from rdfs:subClassOf to 'part of'",
        {(ENVELOPE, "relationship: part_of GO:0031967 ! organelle envelope")},
        {(ENVELOPE, "is_a: GO:0031967 ! organelle envelope")}),
    "NodeAnnotationChange": (
        'change annotation of GO:0005635 with oboInOwl:hasDbXref from '
        '"Wikipedia:Nuclear_envelope" to "Wikipedia:Nuclear_membrane"',
        {(ENVELOPE, "xref: Wikipedia:Nuclear_membrane")},
        {(ENVELOPE, "xref: Wikipedia:Nuclear_envelope")}),
    "EdgeCreation": ("create edge GO:0005635 BFO:0000050 GO:0005737",
                     {(ENVELOPE, "relationship: part_of GO:0005737 ! cytoplasm")}, set()),
    "EdgeCreation-literal": ('create edge GO:0005635 rdfs:comment "Seen in EM!"',
                             {(ENVELOPE, "comment: Seen in EM\\!")}, set()),
    "PlaceUnder": ("create edge GO:0005635 rdfs:subClassOf GO:0043231",
                   {(ENVELOPE, "is_a: GO:0043231 ! intracellular membrane-bounded organelle")},
                   set()),
    "EdgeDeletion": (  # the reference removes 148 triples of the OWL version
        "delete edge GO:0005635 BFO:0000050 GO:0005634", set(),
        {(ENVELOPE, "relationship: part_of GO:0005634 ! nucleus")}),
    "RemoveUnder": ("delete edge GO:0005635 rdfs:subClassOf GO:0031967", set(),
                    {(ENVELOPE, "is_a: GO:0031967 ! organelle envelope")}),
    "NodeTextDefinitionChange": ("change definition of GO:0005635 to 'The envelope.'",
                                 {(ENVELOPE, 'def: "The envelope." [ISBN:0198547684]')},
                                 {(ENVELOPE, f'def: "{DEF_635}" [ISBN:0198547684]')}),
    "NewTextDefinition": ("add definition 'A thing of anatomy.' to CARO:0000000",
                          {("CARO:0000000", 'def: "A thing of anatomy." []')}, set()),
    "RemoveTextDefinition": ("remove definition for GO:0005635", set(),
                             {(ENVELOPE, f'def: "{DEF_635}" [ISBN:0198547684]')}),
    "AddNodeToSubset": ("add GO:0005635 to subset goslim_pir",
                        {(ENVELOPE, "subset: goslim_pir")}, set()),
    "RemoveNodeFromSubset": ("remove GO:0005635 from subset goslim_generic", set(),
                             {(ENVELOPE, "subset: goslim_generic")}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_change_types_add_and_remove_exactly_these_lines(go_text: str, go: OboDocument,
                                                         case: str) -> None:
    command, added, removed = CASES[case]
    result = apply_to_obo(go, command)
    assert set(result.added) == added and len(result.added) == len(added)
    assert set(result.removed) == removed and len(result.removed) == len(removed)
    plus, minus = changed_lines(go_text, go.text())  # and nothing else in the file moved
    assert sorted(p for p in plus if p.strip()) == sorted(line for _, line in added)
    assert sorted(m for m in minus if m.strip()) == sorted(line for _, line in removed)


def test_new_lines_go_where_obo_puts_them(go: OboDocument) -> None:
    apply_to_obo(go, "create exact synonym 'karyon' for GO:0005634\n"
                     "add GO:0005635 to subset goslim_pir")
    nucleus = [line.rstrip("\n") for line in go.get(NUCLEUS).lines]  # type: ignore[union-attr]
    at = nucleus.index('synonym: "karyon" EXACT []')
    assert nucleus[at - 1].startswith('synonym: "horsetail nucleus"')
    assert nucleus[at + 1].startswith("xref:")
    envelope = [line.rstrip("\n") for line in go.get(ENVELOPE).lines]  # type: ignore[union-attr]
    assert envelope.index("subset: goslim_pir") == envelope.index("subset: goslim_plant") + 1


def test_a_new_term_is_placed_in_id_order_between_stanzas(go_text: str, go: OboDocument) -> None:
    apply_to_obo(go, "create node GO:0005999 'brand new'")
    plus, minus = changed_lines(go_text, go.text())
    assert not minus and sorted(plus) == ["", "[Term]", "id: GO:0005999", "name: brand new"]
    ids = [s.id for s in go.stanzas if s.kind == "Term"]
    at = ids.index("GO:0005999")
    assert ids[at - 1] < "GO:0005999" < ids[at + 1]  # type: ignore[operator]


def test_delete_removes_the_whole_stanza_only(go_text: str, go: OboDocument) -> None:
    stanza = [line.rstrip("\n") for line in go.get(ENVELOPE).lines]  # type: ignore[union-attr]
    result = apply_to_obo(go, "delete GO:0005635")
    assert sorted(line for _, line in result.removed) == sorted(s for s in stanza if s.strip())
    plus, minus = changed_lines(go_text, go.text())
    assert not plus and sorted(minus) == sorted(stanza)
    assert go.get(ENVELOPE) is None and "id: GO:0005635\n" not in go.text()


def test_unobsolete_removes_the_obsolescence_lines() -> None:
    doc = OboDocument.parse("[Term]\nid: X:1\nname: obsolete thing\nis_obsolete: true\n"
                            "replaced_by: X:2\nconsider: X:3\n\n[Term]\nid: X:2\nname: two\n")
    result = apply_to_obo(doc, "unobsolete X:1")
    assert set(result.removed) == {("X:1", "name: obsolete thing"), ("X:1", "is_obsolete: true"),
                                   ("X:1", "replaced_by: X:2"), ("X:1", "consider: X:3")}
    assert set(result.added) == {("X:1", "name: thing")}


def test_iri_and_obo_curie_references_resolve_to_obo_ids(go: OboDocument) -> None:
    result = apply_to_obo(go, "create edge <http://purl.obolibrary.org/obo/GO_0005635> "
                              "<http://purl.obolibrary.org/obo/BFO_0000050> obo:GO_0005737")
    assert set(result.added) == {(ENVELOPE, "relationship: part_of GO:0005737 ! cytoplasm")}


def test_fifth_command_failing_leaves_the_document_unchanged(go_text: str,
                                                            go: OboDocument) -> None:
    request = "\n".join([
        "rename GO:0005634 from 'nucleus' to 'cell core'",
        "delete edge GO:0005635 BFO:0000050 GO:0005634",
        "obsolete GO:0005737",
        "create node GO:9999999 'brand new'",
        "add GO:0005635 to subset no_such_subset",
    ])
    with pytest.raises(ChangeRequestError, match="line 5: .*unknown subset 'no_such_subset'"):
        apply_to_obo(go, request)
    assert go.text() == go_text


@pytest.mark.parametrize(("command", "problem"), [
    ("rename GO:0005634 from 'nucleolus' to 'x'", "is named 'nucleus', not 'nucleolus'"),
    ("create exact synonym 'x' for 'role'", "name 'role' is ambiguous"),
    ("obsolete GO:0000000", "unknown entity GO:0000000"),
    ("unobsolete GO:0005634", "is not obsolete"),
    ("delete edge GO:0005635 BFO:0000050 GO:0005737", "no edge"),
    ("create edge GO:0005635 BFO:0000050 GO:0005634", "already exists"),
    ("create node GO:0005634 'again'", "already exists"),
    ("add definition 'x' to GO:0005634", "already has a definition"),
    ("deepen GO:0005634 from GO:0043231 to GO:0005737", "not below"),
    ("create synonym 'x'@en for GO:0005634", "no language tags"),
    ("remove GO:0005634 from subset goslim_pombe", "not in subset"),
])
def test_inapplicable_commands_are_rejected_with_the_reason(go_text: str, go: OboDocument,
                                                           command: str, problem: str) -> None:
    with pytest.raises(ChangeRequestError) as err:
        apply_to_obo(go, f"create exact synonym 'fine' for GO:0005634\n{command}")
    assert "line 2" in str(err.value) and problem in str(err.value)
    assert go.text() == go_text


def test_dry_run_reports_and_changes_nothing(go_text: str, go: OboDocument) -> None:
    result = apply_to_obo(go, "obsolete GO:0005634", dry_run=True)
    assert result.dry_run and len(result.added) == 2 and go.text() == go_text
