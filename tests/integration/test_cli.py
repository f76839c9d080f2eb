"""The console scripts as a user runs them: exit codes, messages, effects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.clients import record_ontology
from pipeline.models import (
    IRI,
    Assertion,
    Chunk,
    Document,
    EntityRef,
    Provenance,
    RunId,
    Severity,
    Span,
    Triple,
    Violation,
    ViolationReason,
)
from pipeline.ontology import load_ontology
from pipeline.store import SQLiteGraphStore

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SP = "https://verikg.dev/ontology/space#"


def run(tool: str, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    # the user's environment, not the test session's Prefect logging settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_LOGGING")}
    return subprocess.run([str(BIN / tool), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False, env=env)


@pytest.fixture()
def store_path(tmp_path: Path) -> Path:
    doc = Document.from_text("Juno was operated by NASA.", source="juno.md", title="Juno")
    chunk = Chunk.make(doc, 0, 0, len(doc.text))
    juno = EntityRef.make("Juno", SP + "RoboticMission")
    nasa = EntityRef.make("NASA", SP + "SpaceAgency")
    triple = Triple(subject=juno, predicate=IRI(SP + "operatedBy"), object=nasa)
    prov = Provenance(document_id=doc.id, chunk_id=chunk.id, span=chunk.span, quote=doc.text,
                      model="fake", prompt_version="v1", run_id=RunId("r1"), attempts=1)
    path = tmp_path / "kg.sqlite"
    with SQLiteGraphStore(path) as st:
        st.upsert_documents([doc], [chunk])
        st.write_assertions([Assertion.of(triple, confidence=0.9, provenance=(prov,))])
        # as a build does: commands then need no --ontology
        record_ontology(st, load_ontology(REPO / "ontologies" / "space"))
    return path


def test_kgcl_validate_exit_codes(tmp_path: Path) -> None:
    ok = run("kgcl", "validate", "rename ent:abc from 'a' to 'b'")
    assert ok.returncode == 0 and "NodeRename" in ok.stdout
    bad = run("kgcl", "validate", "rename ent:abc from 'a' to 'b'", "flibber the node")
    assert bad.returncode == 1
    assert "line 2" in bad.stderr and "flibber" in bad.stderr
    assert run("kgcl", "validate").returncode == 2
    assert run("kgcl", "validate", "--no-such-flag").returncode == 2


def test_kgcl_apply_to_store_and_reject_whole_request(store_path: Path, tmp_path: Path) -> None:
    changes = tmp_path / "fix.kgcl"
    changes.write_text("rename 'NASA' to 'National Aeronautics and Space Administration'\n",
                       encoding="utf-8")
    dry = run("kgcl", "apply", "--store", f"sqlite:{store_path}", "--changes", str(changes),
              "--dry-run")
    assert dry.returncode == 0 and "would apply 1" in dry.stdout
    with SQLiteGraphStore(store_path) as st:
        assert "NASA" in {e.label for e in st.entities()}
    # straight to the store, without review: a curator is refused (and the refusal audited)
    refused = run("kgcl", "apply", "--store", f"sqlite:{store_path}", "--changes", str(changes))
    assert refused.returncode == 1 and "kgcl request" in refused.stderr
    with SQLiteGraphStore(store_path) as st:
        assert "NASA" in {e.label for e in st.entities()}
        assert [e.action for e in st.audit_log()][-1] == "refused"
    done = run("kgcl", "apply", "--store", f"sqlite:{store_path}", "--changes", str(changes),
               "--role", "admin")
    assert done.returncode == 0, done.stderr
    bad = run("kgcl", "apply", "--store", f"sqlite:{store_path}", "--role", "admin",
              "rename 'Juno' to 'Juno probe'",
              "delete edge 'Juno' sp:launchedOn 'National Aeronautics and Space Administration'")
    assert bad.returncode == 1 and "line 2" in bad.stderr and "no such edge" in bad.stderr
    with SQLiteGraphStore(store_path) as st:
        labels = {e.label for e in st.entities()}
    assert labels == {"Juno", "National Aeronautics and Space Administration"}


def test_ontology_check_cli(tmp_path: Path) -> None:
    good = run("verikg", "ontology", "check", "ontologies/space/ontology.ttl")
    assert good.returncode == 0, good.stdout + good.stderr
    broken = tmp_path / "bad.ttl"
    broken.write_text(
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "<x:A> a owl:Class .\n<x:p> a owl:ObjectProperty ; rdfs:domain <x:A> .\n",
        encoding="utf-8")
    res = run("verikg", "ontology", "check", str(broken))
    assert res.returncode == 1 and "missing-range" in res.stdout


def test_build_with_a_missing_corpus_is_one_clear_error(tmp_path: Path) -> None:
    res = run("verikg", "build", "--corpus", str(tmp_path / "nope"), "--ontology",
              "ontologies/space", "--data-dir", str(tmp_path / "state"))
    assert res.returncode == 2  # bad usage, found before anything loads
    assert "does not exist" in " ".join(res.stderr.replace("│", " ").split())
    assert "Traceback" not in res.stderr + res.stdout
    assert not (tmp_path / "state").exists()


def test_query_answers_with_evidence_and_filters_exactly(store_path: Path,
                                                         tmp_path: Path) -> None:
    common = ["--store", f"sqlite:{store_path}", "--data-dir", str(tmp_path / "state")]
    hit = run("verikg", "query", "Who operates Juno?", "--where",
              'predicate == "operatedBy" and confidence >= 0.5', *common)
    assert hit.returncode == 0, hit.stderr
    assert "Juno — operated by — NASA" in hit.stdout
    assert "evidence: juno.md [0:26]" in hit.stdout
    assert (tmp_path / "state" / "index" / "kg_index.json").exists()
    none = run("verikg", "query", "Who operates Juno?", "--where",
               'kind == "assertion" and confidence > 0.95', *common)
    assert none.returncode == 0 and "(no hits)" in none.stdout
    bad = run("verikg", "query", "x", "--where", "__import__('os')", *common)
    assert bad.returncode == 2 and "--where" in bad.stderr and "Traceback" not in bad.stderr
    # from another folder, by the label the output shows: the store's own ontology
    label = run("verikg", "query", "Who operates Juno?", "--where",
                'predicate == "operated by"', *common, cwd=tmp_path)
    assert label.returncode == 0 and "Juno — operated by — NASA" in label.stdout
    assert "asr:" in label.stdout and "ent:" in label.stdout
    typo = run("verikg", "query", "Who operates Juno?", "--where",
               'predicate == "operatd by"', *common)
    assert typo.returncode == 1 and "did you mean 'operated by'?" in typo.stderr


def test_quarantine_soft_lists_flagged_assertions_by_check(store_path: Path,
                                                           tmp_path: Path) -> None:
    doc = Document.from_text("Juno was operated by NASA.", source="juno.md", title="Juno")
    chunk = Chunk.make(doc, 0, 0, len(doc.text))
    with SQLiteGraphStore(store_path) as st:
        clean = st.assertions()[0]
        launched = Triple(subject=clean.triple.subject, predicate=IRI(SP + "launchedBy"),
                          object=EntityRef.make("NASA", SP + "SpaceAgency"))
        prov = clean.provenance[0].model_copy(update={"span": Span(start=9, end=26),
                                                      "quote": "operated by NASA."})
        st.write_assertions([
            clean.model_copy(update={"confidence": 0.45, "violations": (
                Violation(reason=ViolationReason.RANGE_MISMATCH, check="types-fit-domain-range",
                          detail="NASA is a SpaceAgency, not an Organization",
                          severity=Severity.SOFT),
                Violation(reason=ViolationReason.SHACL_VIOLATION, check="shacl",
                          detail="sh:class ex:Organization", severity=Severity.SOFT))}),
            Assertion.of(launched, confidence=0.3, provenance=(prov,), violations=(
                Violation(reason=ViolationReason.SHACL_VIOLATION, check="shacl",
                          detail="sh:maxCount 1", severity=Severity.SOFT),))])
        assert doc.id == clean.provenance[0].document_id and chunk.id == prov.chunk_id
    common = ["--store", f"sqlite:{store_path}", "--data-dir", str(tmp_path / "state")]
    text = run("verikg", "quarantine", "--soft", *common)
    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert "shacl: 2 assertion(s)" in out and "types-fit-domain-range: 1 assertion(s)" in out
    assert "(Juno | operatedBy | NASA)  confidence 0.45, draft" in out
    assert "[range-mismatch] NASA is a SpaceAgency, not an Organization" in out
    assert 'evidence: juno.md [9:26] "operated by NASA."' in out
    assert "2 flagged assertion(s): shacl 2, types-fit-domain-range 1" in out
    one = run("verikg", "quarantine", "--soft", "--check", "types-fit-domain-range",
              "--format", "json", *common)
    assert one.returncode == 0, one.stderr
    listed = json.loads(one.stdout)
    assert [(a["subject"], a["predicate"], a["object"], a["confidence"]) for a in listed] == [
        ("Juno", SP + "operatedBy", "NASA", 0.45)]
    assert [v["check"] for v in listed[0]["violations"]] == ["types-fit-domain-range", "shacl"]
    assert listed[0]["provenance"][0]["document"] == "juno.md"
    assert listed[0]["provenance"][0]["span"] == [0, 26]
    unknown = run("verikg", "quarantine", "--soft", "--check", "SHACL", *common)
    # click's error box wraps the message: compare it as words
    said = " ".join(unknown.stderr.replace("│", " ").split())
    assert unknown.returncode == 2 and "unknown soft check 'SHACL'" in said
    assert "did you mean 'shacl'?" in said and "types-fit-domain-range" in said
    bad_format = run("verikg", "quarantine", "--soft", "--format", "xml", *common)
    assert bad_format.returncode == 2 and "--format" in bad_format.stderr
    for res in (unknown, bad_format):
        assert "Traceback" not in res.stderr + res.stdout


def test_runs_lists_the_ledger(tmp_path: Path) -> None:
    from pipeline.ledger import RunLedger

    missing = run("verikg", "runs", "--data-dir", str(tmp_path / "none"))
    assert missing.returncode == 1 and "no VeriKG data directory" in missing.stderr
    assert not (tmp_path / "none").exists()
    empty = run("verikg", "runs", "--data-dir", str(tmp_path))
    assert empty.returncode == 0 and "no builds recorded" in empty.stdout
    with RunLedger(tmp_path / "ledger.sqlite") as ledger:
        done = ledger.begin("key-a", store="sqlite:x")
        ledger.complete(done.run_id)
        open_run = ledger.begin("key-b", store="bolt://h:7687")
        ledger.fail(open_run.run_id, "StoreUnavailableError: Neo4j at bolt://h:7687 is away")
    text = run("verikg", "runs", "--data-dir", str(tmp_path))
    assert text.returncode == 0, text.stderr
    assert "2 run(s)" in text.stdout and "StoreUnavailableError" in text.stdout
    listed = json.loads(run("verikg", "runs", "--data-dir", str(tmp_path),
                            "--format", "json").stdout)
    assert {r["run_id"]: r["status"] for r in listed} == {done.run_id: "complete",
                                                         open_run.run_id: "open"}
