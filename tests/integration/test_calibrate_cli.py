"""``verikg calibrate`` as a user runs it: labels over a built store or evaluation results in,
a calibration map out that the contract loader reads; bad input refused with a clear error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.contracts.spec import load_calibration
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

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SP = "https://verikg.dev/ontology/space#"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_LOGGING")}
    return subprocess.run([str(BIN / "verikg"), "calibrate", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False, env=env)


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    """Six statements, two samples each chunk: agreed ones (raw 1.0) and lone ones (0.5)."""
    doc = Document.from_text("Juno, Cassini and Gaia were operated by NASA or ESA.",
                             source="m.md", title="m")
    chunk = Chunk.make(doc, 0, 0, len(doc.text))
    rows = []
    for mission, agency, agreeing in (("Juno", "NASA", 2), ("Cassini", "NASA", 2),
                                      ("Gaia", "ESA", 2), ("Juno", "ESA", 1),
                                      ("Cassini", "ESA", 1), ("Gaia", "NASA", 1)):
        triple = Triple(subject=EntityRef.make(mission, SP + "RoboticMission"),
                        predicate=IRI(SP + "operatedBy"),
                        object=EntityRef.make(agency, SP + "SpaceAgency"))
        prov = Provenance(document_id=doc.id, chunk_id=chunk.id, span=chunk.span,
                          quote=doc.text, model="fake", prompt_version="v1", run_id=RunId("r"),
                          attempts=1, samples_agreeing=agreeing, samples_total=2)
        rows.append(Assertion.of(triple, confidence=0.5 * agreeing, provenance=(prov,)))
    path = tmp_path / "kg.sqlite"
    with SQLiteGraphStore(path) as st:
        st.upsert_documents([doc], [chunk])
        st.write_assertions(rows)
    return path


def test_labels_over_a_store_give_a_map_the_contract_reads(store: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join(json.dumps(x) for x in (
        {"subject": "Juno", "predicate": "operated by", "object": "NASA", "correct": True},
        {"subject": "cassini", "predicate": "operatedBy", "object": "NASA", "correct": True},
        {"subject": "Gaia", "predicate": "operatedBy", "object": "ESA", "correct": "yes"},
        {"subject": "Juno", "predicate": "operatedBy", "object": "ESA", "correct": False},
        {"subject": "Cassini", "predicate": "operatedBy", "object": "ESA", "correct": "no"},
        {"subject": "Gaia", "predicate": "operatedBy", "object": "NASA", "correct": True},
        {"subject": "Voyager", "predicate": "operatedBy", "object": "NASA", "correct": True},
    )) + "\n", encoding="utf-8")
    out = tmp_path / "calibration.yaml"
    res = run("--labels", str(labels), "--store", f"sqlite:{store}", "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "labelled statements: 6 (4 right)" in res.stdout
    assert "labels.jsonl:7: no stored statement (Voyager | operatedBy | NASA)" in res.stderr
    cal = load_calibration(out)
    assert cal.count == 6
    # agreed statements were all right, lone ones one time in three
    assert cal.apply(1.0) == pytest.approx(1.0) and cal.apply(0.5) == pytest.approx(1 / 3)
    assert out.with_suffix(".reliability.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluation_points_are_labels_too(tmp_path: Path) -> None:
    result = tmp_path / "RESULT.json"
    result.write_text(json.dumps({"confidence": {"points": [
        {"raw": 1.0, "confidence": 1.0, "correct": True},
        {"raw": 1.0, "confidence": 1.0, "correct": False},
        {"raw": 0.5, "confidence": 0.5, "correct": False}]}}), encoding="utf-8")
    out = tmp_path / "c.yaml"
    res = run("--eval", str(result), "--out", str(out), "--fitted-on", "three points")
    assert res.returncode == 0, res.stderr
    cal = load_calibration(out)
    assert cal.fitted_on == "three points"
    assert cal.apply(1.0) == pytest.approx(0.5) and cal.apply(0.5) == pytest.approx(0.0)


def test_bad_input_is_a_clear_error(store: Path, tmp_path: Path) -> None:
    assert run().returncode == 2
    missing = run("--labels", str(tmp_path / "x.jsonl"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr  # before any load
    labels, results = tmp_path / "l.jsonl", tmp_path / "y.json"
    labels.write_text("", encoding="utf-8")
    results.write_text("{}", encoding="utf-8")
    both = run("--labels", str(labels), "--eval", str(results))
    assert both.returncode == 2 and "either --labels" in both.stderr
    missing_store = run("--labels", str(labels), "--store",
                        f"sqlite:{tmp_path / 'typo.sqlite'}")
    assert missing_store.returncode == 1 and "no store at" in missing_store.stderr
    assert not (tmp_path / "typo.sqlite").exists()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"subject": "Juno", "predicate": "operatedBy", "object": "NASA"}\n'
                   "not json\n", encoding="utf-8")
    res = run("--labels", str(bad), "--store", f"sqlite:{store}")
    assert res.returncode == 1 and "bad.jsonl:1" in res.stderr and "correct" in res.stderr
    garbage = tmp_path / "RESULT.json"
    garbage.write_text("{}", encoding="utf-8")
    res = run("--eval", str(garbage))
    assert res.returncode == 1 and "is not a result of" in res.stderr
    for res in (both, missing_store):
        assert "Traceback" not in res.stderr
