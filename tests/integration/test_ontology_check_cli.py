"""``verikg ontology check`` as a user runs it — output, exit codes, CQs over a built graph — and
the build refusing, before extraction, an ontology that fails the same checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.build_tasks import load_checked_ontology
from pipeline.errors import OntologyError
from pipeline.models import (
    IRI,
    Assertion,
    Chunk,
    Document,
    EntityRef,
    Provenance,
    RunId,
    Triple,
)
from pipeline.store import SQLiteGraphStore
from verikg_cli.main import app

REPO = Path(__file__).resolve().parents[2]
SPACE = REPO / "ontologies" / "space"
SP = "https://verikg.dev/ontology/space#"
INCONSISTENT_TAIL = """
sp:Philae a owl:NamedIndividual , sp:Planet , sp:NaturalSatellite ; rdfs:label "Philae" .
"""


def invoke(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, ["ontology", "check", *args])
    return res.exit_code, res.stdout, res.stderr


def space_with(tmp_path: Path, tail: str) -> Path:
    path = tmp_path / "ontology.ttl"
    path.write_text((SPACE / "ontology.ttl").read_text(encoding="utf-8") + tail,
                    encoding="utf-8")
    return path


def test_text_output_lists_each_finding_with_code_severity_and_iris(tmp_path: Path) -> None:
    path = space_with(tmp_path, """
sp:pilotOf a owl:ObjectProperty ; rdfs:label "pilot of" ; rdfs:domain sp:Astronaut .
""")
    code, out, _ = invoke(str(path), "--reasoner-timeout", "0")
    assert code == 1
    lines = out.splitlines()
    assert ("error: [missing-range] object property 'pilot of' has no rdfs:range "
            f"({SP}pilotOf)") in lines
    assert "reasoner: HermiT skipped (0.0 s): reasoner turned off" in lines
    assert lines[-1] == "1 finding(s): 1 error(s), 0 warning(s)"


def test_folder_form_finds_the_cqs_beside_and_exits_0_when_clean() -> None:
    code, out, _ = invoke(str(SPACE))
    assert code == 0, out
    assert "reasoner: HermiT ok" in out
    assert "competency questions: 12/12 with SPARQL" in out
    assert out.splitlines()[-1] == "0 finding(s): 0 error(s), 0 warning(s)"


def test_usage_errors_exit_2() -> None:
    assert invoke(str(SPACE), "--format", "xml")[0] == 2
    assert invoke(str(REPO / "no-such-ontology.ttl"))[0] == 2
    assert invoke(str(SPACE), "--no-such-flag")[0] == 2
    assert invoke()[0] == 2
    assert invoke(str(SPACE), "--cqs", str(REPO / "no-such-cqs.yaml"))[0] == 2


def test_a_file_that_does_not_parse_is_one_line_on_stderr_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "broken.ttl"
    bad.write_text("@prefix owl: <http://www.w3.org/2002/07/owl#> .\n<x:A> a owl:Class ;\n",
                   encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_LOGGING")}
    res = subprocess.run([str(Path(sys.executable).parent / "verikg"), "ontology", "check",
                          str(bad)], capture_output=True, text=True, timeout=300, check=False,
                         env=env, cwd=REPO)
    assert res.returncode == 1
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "broken.ttl" in lines[0]
    assert "cannot parse the ontology" in lines[0]


def test_a_bad_cq_file_is_a_clear_error(tmp_path: Path) -> None:
    cqs = tmp_path / "cqs.yaml"
    cqs.write_text("id: not-a-list\n", encoding="utf-8")
    code, _, err = invoke(str(SPACE), "--cqs", str(cqs), "--reasoner-timeout", "0")
    assert code == 1 and "expected a YAML list of competency questions" in err


@pytest.fixture()
def store_path(tmp_path: Path) -> Path:
    doc = Document.from_text("Juno was operated by NASA.", source="juno.md", title="Juno")
    chunk = Chunk.make(doc, 0, 0, len(doc.text))
    juno = EntityRef.make("Juno", SP + "RoboticMission")
    nasa = EntityRef.make("NASA", SP + "SpaceAgency")
    prov = Provenance(document_id=doc.id, chunk_id=chunk.id, span=chunk.span, quote=doc.text,
                      model="fake", prompt_version="v1", run_id=RunId("r1"), attempts=1)
    path = tmp_path / "kg.sqlite"
    with SQLiteGraphStore(path) as st:
        st.upsert_documents([doc], [chunk])
        st.write_assertions([Assertion.of(
            Triple(subject=juno, predicate=IRI(SP + "operatedBy"), object=nasa),
            confidence=0.9, provenance=(prov,))])
    return path


def test_cqs_over_a_built_store_print_the_share_answered(store_path: Path) -> None:
    code, out, _ = invoke(str(SPACE), "--kg", f"sqlite:{store_path}", "--reasoner-timeout", "0")
    assert code == 0  # unanswered CQs are warnings
    assert (f"competency questions: 12/12 with SPARQL; 2/12 answered (17%) over "
            f"sqlite:{store_path} (5 triples)") in out
    unanswered = [line for line in out.splitlines() if "[cq-unanswered]" in line]
    assert len(unanswered) == 10 and all(line.startswith("warning: ") for line in unanswered)
    code, out, _ = invoke(str(SPACE), "--kg", str(store_path), "--reasoner-timeout", "0",
                          "--format", "json")
    cq = json.loads(out)["competency_questions"]
    assert (cq["answered"], cq["asked"], cq["kg_triples"]) == (2, 12, 5)


def test_kg_that_is_not_there_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = invoke(str(SPACE), "--kg", str(tmp_path / "kg.sqlite"))
    assert code == 1 and "no knowledge-graph store" in err
    assert not (tmp_path / "kg.sqlite").exists()


def test_the_build_refuses_an_ontology_only_the_reasoner_faults(tmp_path: Path) -> None:
    """Planet and NaturalSatellite are disjoint in the sample ontology: an individual of both
    makes it inconsistent. No structural check sees it; the build refuses it anyway, because
    the user's ontology goes through the command's checks before extraction starts."""
    path = space_with(tmp_path, INCONSISTENT_TAIL)
    with pytest.raises(OntologyError, match=r"fails its checks: \[inconsistent\] HermiT"):
        load_checked_ontology.fn(path)
    code, out, _ = invoke(str(path), "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["reasoner"]["status"] == "inconsistent"
    assert [f["iris"] for f in report["findings"] if f["code"] == "inconsistent"] == [
        [SP + "Philae", SP + "NaturalSatellite", SP + "Planet"]]
    assert load_checked_ontology.fn(SPACE).label == "VeriKG space exploration ontology"
