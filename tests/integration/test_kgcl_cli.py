"""The ``kgcl`` CLI on ontology files, as a user runs it: the 18 reference cases, exit codes,
diff, atomicity, and fuzzed invalid commands that must all be rejected without a change."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph
from rdflib.compare import isomorphic
from typer.testing import CliRunner

from pipeline.kgcl import equivalent_graphs
from verikg_cli.kgcl import app
from verikg_cli.shared_data import shared_data_dir

_SHARED = shared_data_dir()
DATA = (_SHARED or Path("shared-data-not-found")) / "kgcl-dev"
GO_TTL = DATA / "ontologies" / "go-nucleus.owl.ttl"
GO_OBO = DATA / "ontologies" / "go-nucleus.obo"
CASES = ([json.loads(line) for line in (DATA / "cases.jsonl").read_text().splitlines()
          if line.strip()] if (DATA / "cases.jsonl").is_file() else [])
BIN = Path(sys.executable).parent
runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def _shared_data_present() -> None:
    assert len(CASES) == 18, (f"the shared KGCL data is not at {DATA}; set VERIKG_SHARED_DATA "
                              "to the folder holding kgcl-dev/")


def kgcl(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def nt(path: Path) -> Graph:
    g = Graph()
    g.parse(path, format="nt")
    return g


# ---------------------------------------------------------------------- the reference cases


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_reference_case_through_the_cli(case: dict, tmp_path: Path) -> None:
    source = DATA / case["input_file"]
    before = digest(source)
    changes = tmp_path / "request.kgcl"
    changes.write_text(case["kgcl"] + "\n", encoding="utf-8")
    out = tmp_path / "out.nt"
    code, _, err = kgcl("apply", "--input", str(source), "--changes", str(changes),
                        "--output", str(out))
    assert digest(source) == before  # the input is never touched
    if "expected_error" in case:
        assert code == 1, err
        assert err.startswith("rejected: line 1: cannot parse") and err.count("\n") == 1
        assert not out.exists()
        return
    assert code == 0, err
    assert isomorphic(nt(out), nt(DATA / case["expected_file"]))


def test_commands_may_come_as_arguments_and_the_format_as_an_option(tmp_path: Path) -> None:
    case = next(c for c in CASES if c["id"] == "rdflib-example-createsynonym")
    source = tmp_path / "graph.data"  # an extension that says nothing
    source.write_bytes((DATA / case["input_file"]).read_bytes())
    out = tmp_path / "out.nt"
    code, _, err = kgcl("apply", "--input", str(source), "--format", "nt", "--output", str(out),
                        *case["kgcl"].splitlines())
    assert code == 0, err
    assert isomorphic(nt(out), nt(DATA / case["expected_file"]))


# ---------------------------------------------------------------------- files and formats


def test_rdf_formats_read_and_write(tmp_path: Path) -> None:
    as_xml, as_nt = tmp_path / "go.owl", tmp_path / "go.nt"  # Turtle → RDF/XML → N-Triples
    code, _, err = kgcl("apply", "--input", str(GO_TTL), "--output", str(as_xml),
                        "create exact synonym 'karyon' for GO:0005634")
    assert code == 0, err
    assert as_xml.read_text().startswith("<?xml")
    code, _, err = kgcl("apply", "--input", str(as_xml), "--output", str(as_nt),
                        "remove synonym 'karyon' for GO:0005634")
    assert code == 0, err
    original = Graph()
    original.parse(GO_TTL, format="turtle")
    assert equivalent_graphs(nt(as_nt), original)


def test_obo_output_changes_only_the_named_lines(tmp_path: Path) -> None:
    out = tmp_path / "go.obo"
    code, _, err = kgcl("apply", "--input", str(GO_OBO), "--output", str(out),
                        "rename GO:0005634 from 'nucleus' to 'cell core'")
    assert code == 0, err
    old, new = GO_OBO.read_text().splitlines(), out.read_text().splitlines()
    assert [a for a, b in zip(old, new, strict=True) if a != b] == ["name: nucleus"]
    assert "applied 1 command(s): +1 -1 line(s)" in err


def test_output_to_stdout_and_dry_run(tmp_path: Path) -> None:
    code, out, _ = kgcl("apply", "--input", str(GO_OBO), "--output", "-",
                        "create exact synonym 'karyon' for GO:0005634")
    assert code == 0 and 'synonym: "karyon" EXACT []' in out and out.startswith("format-version")
    code, out, err = kgcl("apply", "--input", str(GO_TTL), "--dry-run", "obsolete GO:0005634")
    assert code == 0 and "would apply 1 command(s): +2 -1 triple(s)" in err
    assert out.count("\n") == 3 and "- <http://purl.obolibrary.org/obo/GO_0005634>" in out


@pytest.mark.parametrize("fmt", ["ttl", "obo"])
def test_fifth_command_failing_changes_nothing_and_writes_nothing(tmp_path: Path,
                                                                 fmt: str) -> None:
    source = GO_TTL if fmt == "ttl" else GO_OBO
    before = digest(source)
    changes = tmp_path / "request.kgcl"
    changes.write_text("\n".join([
        "rename GO:0005634 from 'nucleus' to 'cell core'",
        "delete edge GO:0005635 BFO:0000050 GO:0005634",
        "obsolete GO:0005737",
        "create node GO:9999999 'brand new'",
        "delete edge GO:0005635 BFO:0000050 GO:0005737",
    ]) + "\n")
    out = tmp_path / f"out.{fmt}"
    code, stdout, err = kgcl("apply", "--input", str(source), "--changes", str(changes),
                             "--output", str(out))
    assert code == 1 and not stdout
    assert err.startswith("rejected: line 5: 'delete edge GO:0005635 BFO:0000050 GO:0005737': "
                          "no edge")
    assert err.count("\n") == 1
    assert not out.exists() and digest(source) == before


@pytest.mark.parametrize("args", [
    ["apply", "--input", "GO", "obsolete GO:0005634"],  # no --output
    ["apply", "obsolete GO:0005634", "--output", "x.ttl"],  # neither --input nor --store
    ["apply", "--input", "GO", "--store", "sqlite:x", "--output", "-", "obsolete GO:1"],
    ["apply", "--input", "GO", "--output", "-"],  # no command
    ["apply", "--input", "GO", "--output", "-", "--changes", "CHANGES", "obsolete GO:1"],
    ["apply", "--input", "GO", "--format", "json", "--output", "-", "obsolete GO:1"],
    ["apply", "--input", "/no/such/file.ttl", "--output", "-", "obsolete GO:1"],
    ["apply", "--input", "GO", "--output", "out.obo", "obsolete GO:1"],  # ttl written as obo
    ["apply", "--store", "sqlite:x", "--output", "-", "obsolete GO:1"],
    ["diff", "GO"],
    ["diff", "GO", "OBO"],  # two formats
    ["validate"],
])
def test_bad_usage_exits_2(tmp_path: Path, args: list[str]) -> None:
    changes = tmp_path / "c.kgcl"
    changes.write_text("obsolete GO:0005634\n")
    args = [str(GO_TTL) if a == "GO" else str(GO_OBO) if a == "OBO" else str(changes)
            if a == "CHANGES" else str(tmp_path / a) if a.startswith("out.") else a
            for a in args]
    code, _, _ = kgcl(*args)
    assert code == 2


# ---------------------------------------------------------------------- diff


@pytest.mark.parametrize("source", [GO_TTL, GO_OBO], ids=["ttl", "obo"])
def test_diff_of_a_file_with_itself_prints_nothing(source: Path) -> None:
    code, out, err = kgcl("diff", str(source), str(source))
    assert (code, out) == (0, ""), err


@pytest.mark.parametrize("source", [GO_TTL, GO_OBO], ids=["ttl", "obo"])
def test_diff_then_apply_round_trips_through_the_cli(tmp_path: Path, source: Path) -> None:
    suffix = source.suffix
    new = tmp_path / f"new{suffix}"
    code, _, err = kgcl("apply", "--input", str(source), "--output", str(new),
                        "rename GO:0005634 from 'nucleus' to 'cell core'",
                        "create broad synonym 'karyon' for GO:0005634",
                        "move GO:0005635 BFO:0000050 GO:0005634 from GO:0005634 to GO:0005737",
                        "obsolete GO:0005773 with replacement GO:0005634",
                        "remove GO:0005635 from subset goslim_generic")
    assert code == 0, err
    code, diff, err = kgcl("diff", str(source), str(new))
    assert code == 0, err
    assert diff.splitlines() == [
        "obsolete GO:0005773 with replacement GO:0005634",
        "create broad synonym 'karyon' for GO:0005634",
        "rename GO:0005634 from 'nucleus' to 'cell core'",
        "move GO:0005635 BFO:0000050 GO:0005634 from GO:0005634 to GO:0005737",
        "remove GO:0005635 from subset goslim_generic",
    ]
    changes = tmp_path / "diff.kgcl"
    changes.write_text(diff)
    again = tmp_path / f"again{suffix}"
    code, _, err = kgcl("apply", "--input", str(source), "--changes", str(changes), "--output",
                        str(again))
    assert code == 0, err
    code, out, err = kgcl("diff", str(new), str(again))
    assert (code, out) == (0, ""), err


def test_a_difference_kgcl_cannot_write_is_rejected_by_diff(tmp_path: Path) -> None:
    new = tmp_path / "new.obo"
    new.write_text(GO_OBO.read_text().replace("data-version: releases/2020-01-01/",
                                              "data-version: releases/2024-01-01/"))
    code, out, err = kgcl("diff", str(GO_OBO), str(new))
    assert code == 1 and not out
    assert err.startswith("rejected: the differences cannot all be written in KGCL")


# ---------------------------------------------------------------------- fuzzing


VALID = [
    "rename GO:0005634 from 'nucleus' to 'cell core'",
    "create exact synonym 'karyon' for GO:0005634",
    "remove synonym 'horsetail nucleus' for GO:0005634",
    "change definition of GO:0005635 to 'The envelope.'",
    "add GO:0005635 to subset goslim_pir",
    "create edge GO:0005635 BFO:0000050 GO:0005737",
    "delete edge GO:0005635 BFO:0000050 GO:0005634",
    "change relationship between GO:0005635 and GO:0012505 from BFO:0000050 to RO:0002131",
    "obsolete GO:0005634 with replacement GO:0005635",
    "move GO:0005635 rdfs:subClassOf GO:0031967 from GO:0031967 to GO:0043231",
    "deepen GO:0005634 from GO:0043231 to GO:0005773",
    "create node GO:9999999 'brand new'",
    "delete GO:0005737",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A valid command broken in a way that can never be valid."""
    words = draw(st.sampled_from(VALID)).split(" ")
    how = draw(st.sampled_from(["truncate", "keyword", "quote", "unknown-id", "unknown-label"]))
    if how == "truncate":  # drop the last argument: every command then lacks one
        return " ".join(words[:-1])
    if how == "keyword":
        return " ".join([draw(st.sampled_from(["frobnicate", "renam", "creat", "obsolet"]))]
                        + words[1:])
    if how == "quote":  # an unbalanced quote somewhere after the keyword
        at = draw(st.integers(1, len(words) - 1))
        return " ".join(words[:at] + ["'" + words[at]] + words[at + 1:])
    ids = [i for i, w in enumerate(words) if w.startswith("GO:")]
    at = ids[0]
    if how == "unknown-id" and words[0] not in ("create",):
        return " ".join(words[:at] + ["GO:0000000"] + words[at + 1:])
    return " ".join(words[:at] + ["'no such label'"] + words[at + 1:])


FUZZ = st.one_of(mutated(), st.text(max_size=60))


@given(command=FUZZ, fmt=st.sampled_from(["ttl", "obo"]))
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
def test_fuzzed_invalid_commands_are_rejected_with_exit_1_and_no_change(
        tmp_path: Path, command: str, fmt: str) -> None:
    source = GO_TTL if fmt == "ttl" else GO_OBO
    changes = tmp_path / "fuzz.kgcl"
    changes.write_text(command, encoding="utf-8")
    out = tmp_path / f"out.{fmt}"
    out.unlink(missing_ok=True)
    code, stdout, err = kgcl("apply", "--input", str(source), "--changes", str(changes),
                             "--output", str(out))
    assert code == 1, (command, err)
    assert err.startswith("rejected: ") and err.count("\n") == 1
    assert not stdout and not out.exists()


def test_validate_reports_each_command_and_rejects_bad_ones() -> None:
    code, out, _ = kgcl("validate", *VALID)
    assert code == 0 and len(out.splitlines()) == len(VALID)
    code, _, err = kgcl("validate", VALID[0], "rename GO:1 from 'a to 'b'")
    assert code == 1 and err.startswith("rejected: line 2: cannot parse")


def test_the_installed_console_script_exit_codes(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_LOGGING")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "kgcl"), *args], capture_output=True, text=True,
                              timeout=300, check=False, env=env)

    before = digest(GO_OBO)
    out = tmp_path / "x.obo"
    bad = run("apply", "--input", str(GO_OBO), "--output", str(out), "obsolete GO:0005634",
              "obsolete GO:0000000")
    assert bad.returncode == 1 and bad.stderr.startswith(
        "rejected: line 2: 'obsolete GO:0000000': unknown entity GO:0000000")
    assert not out.exists() and digest(GO_OBO) == before
