"""Writing a changed ontology file back: untouched Turtle statements, comments and prefixes stay
byte for byte, N-Triples lines stay, and every written text parses to the changed graph."""

from __future__ import annotations

import difflib
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph
from rdflib.compare import isomorphic

from pipeline.kgcl.files import RdfFile, _shape, load_graph
from pipeline.kgcl.rdf_editor import apply_to_graph
from pipeline.kgcl.turtle_layout import split_blocks
from verikg_cli.shared_data import shared_data_dir

DATA = (shared_data_dir() or Path("shared-data-not-found")) / "kgcl-dev"
GO_TTL = DATA / "ontologies" / "go-nucleus.owl.ttl"

HEADER = """# Rivers and cities, hand-written.
@prefix geo: <http://example.org/geo#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
PREFIX owl: <http://www.w3.org/2002/07/owl#>
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
"""
#: statements in a chosen (unsorted) order, with '.', '#' and quotes inside strings and IRIs
BLOCKS = [
    "geo:Orleans a owl:Class ;\n    rdfs:label \"Orléans\" ;\n"
    "    rdfs:comment \"A city. On the Loire # not a comment\" .",
    "# the river\ngeo:Loire rdfs:label \"Loire\"@fr ;\n    skos:definition \"\"\"The longest\n"
    "river of France. It ends in the Atlantic.\"\"\" .",
    "<http://example.org/geo#Cher> rdfs:label 'Cher' ; rdfs:seeAlso <http://x.org/a#b.c> .",
    "geo:Canal rdfs:label \"Le «Grand» Canal\" ;\n    rdfs:subClassOf [ a owl:Restriction ;\n"
    "        owl:onProperty geo:flowsInto ;\n        owl:someValuesFrom geo:Loire ] .",
    "geo:flowsInto a owl:ObjectProperty ; rdfs:label \"flows into\" .",
    "geo:Tours rdfs:label \"Tours\" ; geo:population 136463 ; geo:area 34.36 .",
]


def _text(order: list[int], comments: bool = True) -> str:
    parts = [HEADER]
    for n in order:
        parts.append((f"\n# block {n}\n" if comments else "\n") + BLOCKS[n] + "\n")
    return "".join(parts)


def _changed_lines(old: str, new: str) -> list[str]:
    return [line for line in difflib.unified_diff(old.splitlines(), new.splitlines(),
                                                  lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def _apply(path: Path, fmt: str, request: str) -> tuple[str, str, Graph]:
    """The written text, how it was written, and rdflib's own result for the same request."""
    rdf = RdfFile.read(path, fmt)  # type: ignore[arg-type]
    result = apply_to_graph(rdf.graph, request)
    text, how = rdf.text_after(result.added, result.removed)
    expected = load_graph(path, fmt)  # type: ignore[arg-type]
    apply_to_graph(expected, request)
    return text, how, expected


def _graph(text: str, fmt: str = "turtle") -> Graph:
    g = Graph()
    g.parse(data=text, format=fmt)
    return g


def test_a_rename_changes_one_line_and_keeps_comments_prefixes_and_order(
        tmp_path: Path) -> None:
    src = tmp_path / "rivers.ttl"
    old = _text([3, 0, 5, 1, 4, 2])
    src.write_text(old, encoding="utf-8")
    new, how, expected = _apply(src, "ttl", "rename geo:Orleans from 'Orléans' to 'Orleans'")
    assert _changed_lines(old, new) == ['-    rdfs:label "Orléans" ;',
                                        '+    rdfs:label "Orleans" ;']
    assert "kept every untouched statement" in how and "ns1:" not in new
    assert isomorphic(_graph(new), expected)


def test_a_new_subject_goes_last_and_the_prefixes_keep_their_names(tmp_path: Path) -> None:
    src = tmp_path / "rivers.ttl"
    old = _text([5, 4, 3, 2, 1, 0])
    src.write_text(old, encoding="utf-8")
    new, _, expected = _apply(src, "ttl", "create node geo:Blois 'Blois'\n"
                                          "create edge geo:Loire rdfs:seeAlso geo:Cher")
    assert new.startswith(old.split("# block 1")[0])  # everything before the touched block
    added = [line for line in _changed_lines(old, new) if line.startswith("+")]
    removed = [line for line in _changed_lines(old, new) if line.startswith("-")]
    assert removed == ['-river of France. It ends in the Atlantic.""" .']
    assert '+    rdfs:seeAlso geo:Cher .' in added and added[-1].startswith("+geo:Blois rdfs:label")
    assert "ns1:" not in new and isomorphic(_graph(new), expected)


def test_editing_a_restriction_rewrites_only_its_block(tmp_path: Path) -> None:
    src = tmp_path / "rivers.ttl"
    old = _text([0, 3, 1])
    src.write_text(old, encoding="utf-8")
    new, _, expected = _apply(src, "ttl", "move geo:Canal geo:flowsInto geo:Loire from "
                                          "geo:Loire to geo:Cher")
    assert isomorphic(_graph(new), expected)
    lines = _changed_lines(old, new)
    assert any("geo:Cher" in line for line in lines if line.startswith("+"))
    kept = old.split("# block 3")[0]
    assert new.startswith(kept) and new.endswith(old.split("# block 1")[1])


def test_shared_blank_node_labels_fall_back_to_a_stable_sorted_file(tmp_path: Path) -> None:
    src = tmp_path / "shared.ttl"
    old = (HEADER + "# gone once written whole\ngeo:a rdfs:seeAlso _:x ; rdfs:label \"x\" .\n"
           "geo:b rdfs:seeAlso _:x .\n_:x rdfs:comment \"shared\" .\n")
    src.write_text(old, encoding="utf-8")
    first, how, expected = _apply(src, "ttl", "rename 'x' to 'y'")
    assert "cannot be split" in how and "sorted" in how
    second, _, _ = _apply(src, "ttl", "rename 'x' to 'y'")
    assert first == second and isomorphic(_graph(first), expected)
    assert "@prefix geo: <http://example.org/geo#> ." in first and "ns1:" not in first


def test_the_splitter_keeps_strings_and_iris_whole() -> None:
    blocks, tail = split_blocks(_text(list(range(len(BLOCKS)))))
    statements = [b.text for b in blocks if not b.directive]
    assert statements == [b.split("\n", 1)[1] if b.startswith("#") else b for b in BLOCKS]
    assert tail == "\n" and "# the river" in blocks[-5].gap


# ---------------------------------------------------------------------- the Gene Ontology slice


@pytest.mark.parametrize("request_, changed", [
    ("rename GO:0005634 from 'nucleus' to 'cell nucleus'", 2),
    ("create exact synonym 'Le «Grand» noyau' for GO:0005634", 3),
    ("create edge GO:0005634 BFO:0000050 GO:0005623", 4),
])
def test_the_go_slice_changes_only_the_changed_lines(request_: str, changed: int,
                                                     tmp_path: Path) -> None:
    src = tmp_path / "go.ttl"
    src.write_bytes(GO_TTL.read_bytes())
    old = src.read_text(encoding="utf-8")
    new, how, expected = _apply(src, "ttl", request_)
    lines = _changed_lines(old, new)
    assert "kept every untouched statement" in how
    assert len(lines) == changed, lines
    old_lines = old.splitlines()
    start = old_lines.index("<http://purl.obolibrary.org/obo/GO_0005634> rdf:type owl:Class ;")
    end = next(i for i in range(start, len(old_lines)) if old_lines[i].endswith(" ."))
    opcodes = difflib.SequenceMatcher(None, old_lines, new.splitlines(), autojunk=False)
    for tag, i1, i2, _, _ in opcodes.get_opcodes():
        assert tag == "equal" or start <= i1 <= i2 <= end + 1, (tag, i1, i2, start, end)
    back = _graph(new)
    assert len(back) == len(expected) and _shape(back) == _shape(expected)


# ---------------------------------------------------------------------- N-Triples and RDF/XML


def test_ntriples_lines_are_kept_and_new_ones_appended_sorted(tmp_path: Path) -> None:
    case = next(json.loads(line) for line in (DATA / "cases.jsonl").read_text().splitlines()
                if '"rdflib-example-rename"' in line)
    src = tmp_path / "in.nt"
    src.write_bytes((DATA / case["input_file"]).read_bytes())
    old = src.read_text(encoding="utf-8")
    new, how, expected = _apply(src, "nt", case["kgcl"])
    assert "kept every untouched statement" in how
    assert isomorphic(_graph(new, "nt"), _graph((DATA / case["expected_file"]).read_text(), "nt"))
    assert len(_changed_lines(old, new)) == 2


@pytest.mark.parametrize("case", [json.loads(line) for line in
                                  (DATA / "cases.jsonl").read_text().splitlines()
                                  if "expected_file" in line] if DATA.is_dir() else [])
def test_every_reference_case_writes_the_expected_graph_line_by_line(
        case: dict[str, str], tmp_path: Path) -> None:
    src = tmp_path / "in.nt"
    src.write_bytes((DATA / case["input_file"]).read_bytes())
    old = src.read_text(encoding="utf-8")
    rdf = RdfFile.read(src, "nt")
    result = apply_to_graph(rdf.graph, case["kgcl"])
    new, _ = rdf.text_after(result.added, result.removed)
    assert isomorphic(_graph(new, "nt"), _graph((DATA / case["expected_file"]).read_text(),
                                                 "nt"))
    assert len(_changed_lines(old, new)) == len(result.added) + len(result.removed)


def test_rdfxml_keeps_the_files_namespace_prefixes(tmp_path: Path) -> None:
    src = tmp_path / "rivers.rdf"
    written = Graph(bind_namespaces="core")
    written.parse(data=_text(list(range(len(BLOCKS)))), format="turtle")
    written.serialize(src, format="xml")
    new, how, expected = _apply(src, "rdfxml", "rename 'Tours' to 'Tours-sur-Loire'")
    assert 'xmlns:geo="http://example.org/geo#"' in new and "ns1" not in new
    assert "prefixes" in how and isomorphic(_graph(new, "xml"), expected)


# ---------------------------------------------------------------------- properties

_REQUESTS = ("rename 'Tours' to 'Tours'@fr", "create edge geo:Cher rdfs:seeAlso geo:Loire",
             "create exact synonym 'Grand Canal' for geo:Canal",
             "delete edge geo:Orleans rdfs:comment \"A city. On the Loire # not a comment\"",
             "create node geo:Angers 'Angers'", "obsolete geo:Tours",
             "move geo:Canal geo:flowsInto geo:Loire from geo:Loire to geo:Cher")


@settings(max_examples=40, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), comments=st.booleans(),
       request_=st.sampled_from(_REQUESTS))
def test_round_trip_is_exact_and_every_change_parses_to_rdflibs_result(
        seed: int, comments: bool, request_: str, tmp_path: Path) -> None:
    order = list(range(len(BLOCKS)))
    random.Random(seed).shuffle(order)
    src = tmp_path / f"r{seed}.ttl"
    old = _text(order, comments)
    src.write_text(old, encoding="utf-8")
    rdf = RdfFile.read(src, "ttl")
    assert rdf.text_after([], []) == (old, "unchanged, written as it was")
    result = apply_to_graph(rdf.graph, request_)
    new, _ = rdf.text_after(result.added, result.removed)
    expected = load_graph(src, "ttl")
    apply_to_graph(expected, request_)
    assert isomorphic(_graph(new), expected)
    assert new.startswith(HEADER)
