"""The change-request workflow as users and flows run it: the append-only audit table in the
SQLite file itself, the ``kgcl request / review / requests / certify / log`` commands end to
end (exit codes, messages, effects), and the ``apply_changes`` Prefect flow with the index."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from flows.apply_changes import apply_changes
from flows.clients import DataDir
from pipeline.errors import PermissionDeniedError, UnapprovedRequestError
from pipeline.index.kg_index import KGIndex
from pipeline.kgcl.governance import file_request, review_request
from pipeline.models import (
    IRI,
    Assertion,
    Chunk,
    Document,
    EntityRef,
    Provenance,
    RequestStatus,
    RunId,
    Triple,
)
from pipeline.ontology import load_ontology
from pipeline.settings import Settings
from pipeline.store import SQLiteGraphStore
from tests.fakes import FakeEmbedder

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SP = "https://verikg.dev/ontology/space#"
ONTOLOGY = REPO / "ontologies" / "space"


def kgcl(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_LOGGING")}
    return subprocess.run([str(BIN / "kgcl"), *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, check=False, env=env)


def juno_store(path: Path) -> tuple[str, str]:
    """A store holding "Juno operatedBy NASA"; returns the assertion id and NASA's id."""
    doc = Document.from_text("Juno was operated by NASA.", source="juno.md", title="Juno")
    chunk = Chunk.make(doc, 0, 0, len(doc.text))
    juno = EntityRef.make("Juno", SP + "RoboticMission")
    nasa = EntityRef.make("NASA", SP + "SpaceAgency")
    triple = Triple(subject=juno, predicate=IRI(SP + "operatedBy"), object=nasa)
    prov = Provenance(document_id=doc.id, chunk_id=chunk.id, span=chunk.span, quote=doc.text,
                      model="fake", prompt_version="v1", run_id=RunId("r1"), attempts=1)
    assertion = Assertion.of(triple, confidence=0.9, provenance=(prov,))
    with SQLiteGraphStore(path) as st:
        st.upsert_documents([doc], [chunk])
        st.write_assertions([assertion])
    return assertion.id, nasa.id


# --------------------------------------------------------------------------- append-only


def test_the_sqlite_audit_table_refuses_updates_and_deletes(tmp_path: Path) -> None:
    path = tmp_path / "kg.sqlite"
    juno_store(path)
    with SQLiteGraphStore(path) as st:
        st.record_audit([])
        filed = file_request(st, "rename 'NASA' to 'N.A.S.A.'", load_ontology(ONTOLOGY),
                             actor="cur", role="curator")
        entries = st.audit_log()
    conn = sqlite3.connect(path)
    try:
        for statement in ("UPDATE audit SET actor = 'mallory'",
                          "UPDATE audit SET detail = '' WHERE seq = 1",
                          "DELETE FROM audit", "DELETE FROM audit WHERE seq = 2",
                          "UPDATE change_requests SET kgcl = 'delete ''NASA'''",
                          "UPDATE change_requests SET author = 'mallory'",
                          "DELETE FROM change_requests"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only|once filed|kept"):
                conn.execute(statement)
        conn.rollback()
    finally:
        conn.close()
    with SQLiteGraphStore(path) as st:
        assert st.audit_log() == entries
        assert st.get_change_request(filed.id) == filed


# --------------------------------------------------------------------------- the CLI


def test_request_review_apply_log_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "kg.sqlite"
    asr, nasa = juno_store(path)
    store = f"sqlite:{path}"
    onto = ["--ontology", str(ONTOLOGY)]

    filed = kgcl("request", "--store", store, "--actor", "cur", *onto,
                 f"rename {nasa} from 'NASA' to 'National Aeronautics and Space Administration'",
                 f"create exact synonym 'NASA' for {nasa}")
    assert filed.returncode == 0, filed.stderr
    rid = filed.stdout.strip()
    assert rid.startswith("cr-") and len(rid.splitlines()) == 1

    changes = tmp_path / "changes.kgcl"
    changes.write_text("# a reader tries\nrename 'Juno' to 'Juno probe'\n", encoding="utf-8")
    refused = kgcl("request", "--store", store, "--actor", "rita", "--role", "reader", *onto,
                   "--changes", str(changes))
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.startswith("rejected:") and "role reader" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    invalid = kgcl("request", "--store", store, "--actor", "cur", *onto,
                   "rename 'Juno' to 'J'", "delete 'Atlantis'")
    assert invalid.returncode == 1 and "line 2" in invalid.stderr and "Atlantis" in invalid.stderr

    for usage in (["review", rid, "--store", store, "--actor", "x", "--approve", "--reject"],
                  ["review", rid, "--store", store, "--actor", "x"],
                  ["request", "--store", store, "--actor", "x", "--role", "boss", "rename 'a' "
                   "to 'b'"],
                  ["log", "--store", store, "--since", "last tuesday"],
                  ["log", "--store", store, "--format", "xml"]):
        assert kgcl(*usage).returncode == 2, usage

    own = kgcl("review", rid, "--store", store, "--actor", "cur", "--role", "admin", "--approve",
               *onto)
    assert own.returncode == 1 and "may not review it" in own.stderr
    curator = kgcl("review", rid, "--store", store, "--actor", "cur2", "--role", "curator",
                   "--approve", *onto)
    assert curator.returncode == 1 and "may not approve" in curator.stderr
    listed = kgcl("requests", "--store", store, "--status", "pending")
    assert listed.returncode == 0 and rid in listed.stdout and "(+1 more)" in listed.stdout

    approved = kgcl("review", rid, "--store", store, "--actor", "cert", "--approve",
                    "--reason", "matches the agency's name", *onto,
                    "--data-dir", str(tmp_path / "state"))
    assert approved.returncode == 0, approved.stderr
    assert f"approved and applied {rid}: 2 command(s), 2 change(s)" in approved.stdout
    again = kgcl("review", rid, "--store", store, "--actor", "cert2", "--approve", *onto)
    assert again.returncode == 1 and "applied" in again.stderr

    curator_certifies = kgcl("certify", asr, "--store", store, "--actor", "cur", "--role",
                             "curator", *onto)
    assert curator_certifies.returncode == 1 and "may not certify" in curator_certifies.stderr
    certified = kgcl("certify", asr, "--store", store, "--actor", "cert", *onto)
    assert certified.returncode == 0 and "certified 1 assertion(s)" in certified.stdout

    with SQLiteGraphStore(path) as st:
        labels = {e.label for e in st.entities()}
        assert "National Aeronautics and Space Administration" in labels
        request = st.get_change_request(rid)
        assert request is not None and request.status is RequestStatus.APPLIED
        assert st.get_assertion(asr).status.value == "certified"  # type: ignore[union-attr]

    log = kgcl("log", "--store", store, "--format", "json")
    assert log.returncode == 0
    entries = json.loads(log.stdout)
    actions = [e["action"] for e in entries]
    assert actions == ["write_assertions", "file_request", "refused", "refused", "refused",
                       "approve_request", "rename_entity", "add_annotation", "apply_request",
                       "refused", "certify"]
    rename = entries[actions.index("rename_entity")]
    assert (rename["actor"], rename["role"], rename["request_id"]) == ("cur", "curator", rid)
    assert json.loads(rename["before"]) == {"label": "NASA"}
    refused_by = kgcl("log", "--store", store, "--action", "refused", "--actor", "cur")
    assert refused_by.returncode == 0
    lines = refused_by.stdout.strip().splitlines()
    assert len(lines) == 2 and all(" cur (" in line and "refused" in line for line in lines)
    by_request = kgcl("log", "--store", store, "--request", rid, "--since", "2000-01-01")
    assert len(by_request.stdout.strip().splitlines()) == 7
    assert kgcl("log", "--store", store, "--until", "2000-01-01").stdout == ""


# --------------------------------------------------------------------------- the flow


def test_the_apply_changes_flow_runs_an_approved_request_with_the_index(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "state")
    path = tmp_path / "state" / "kg.sqlite"
    path.parent.mkdir(parents=True)
    juno_store(path)
    onto = load_ontology(ONTOLOGY)
    embedder = FakeEmbedder(8, "hash-test-v1")
    with SQLiteGraphStore(path) as st:
        index = KGIndex.build(st, embedder, ontology=onto)
        index.save(DataDir.of(settings).index)
        filed = file_request(st, "rename 'NASA' to 'NASA (agency)'", onto, actor="cur",
                             role="curator")
    embedder.calls.clear()

    with pytest.raises(UnapprovedRequestError, match="pending, not approved"):
        apply_changes(filed.id, actor="cert", role="certifier", ontology=str(ONTOLOGY),
                      settings=settings, embedder=embedder)
    with SQLiteGraphStore(path) as st:
        review_request(st, filed.id, approve=True, reason="", actor="cert", role="certifier")
    with pytest.raises(PermissionDeniedError, match="may not apply"):
        apply_changes(filed.id, actor="cur", role="curator", ontology=str(ONTOLOGY),
                      settings=settings, embedder=embedder)

    report = apply_changes(filed.id, actor="cert", role="certifier", ontology=str(ONTOLOGY),
                           settings=settings, embedder=embedder)
    assert (report.status, report.commands, report.changes) == ("applied", 1, 1)
    assert report.index == "delta" and report.index_embedded == 2  # NASA's row, Juno's edge
    assert sorted(embedder.embedded) == ["Juno — operated by — NASA (agency). Juno was "
                                         "operated by NASA.", "NASA (agency) (Space Agency)"]
    saved = KGIndex.load(DataDir.of(settings).index, ontology=onto)
    with SQLiteGraphStore(path) as st:
        assert saved.version == st.version() == report.store_version
        assert {r.label for r in saved.rows()} >= {"NASA (agency)"}
        assert [e.action for e in st.audit_log(request_id=filed.id)] == [
            "file_request", "refused", "approve_request", "refused", "rename_entity",
            "apply_request"]
