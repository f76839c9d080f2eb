"""Commands on a store: a mistyped store is an error (never a new, empty store), the
ontology comes from the store when --ontology is not given, and the ids that `kgcl certify`
and `kgcl request` take are shown."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from flows.clients import record_ontology, resolve_ontology, store_ontology
from flows.query import Query, QueryAnswer
from pipeline.errors import MissingOntologyError
from pipeline.models import IRI, Assertion, Chunk, Document, EntityRef, Provenance, RunId, Triple
from pipeline.ontology import load_ontology
from pipeline.retrieval import Hit
from pipeline.store import SQLiteGraphStore
from verikg_cli.kgcl import app as kgcl_app
from verikg_cli.main import app as verikg_app
from verikg_cli.render import answers_json, print_answers

REPO = Path(__file__).resolve().parents[3]
SPACE = REPO / "ontologies" / "space"
SP = "https://verikg.dev/ontology/space#"
runner = CliRunner()


def _juno() -> tuple[Document, Chunk, Assertion]:
    doc = Document.from_text("Juno was operated by NASA.", source="juno.md", title="Juno")
    chunk = Chunk.make(doc, 0, 0, len(doc.text))
    triple = Triple(subject=EntityRef.make("Juno", SP + "RoboticMission"),
                    predicate=IRI(SP + "operatedBy"),
                    object=EntityRef.make("NASA", SP + "SpaceAgency"))
    prov = Provenance(document_id=doc.id, chunk_id=chunk.id, span=chunk.span, quote=doc.text,
                      model="fake", prompt_version="v1", run_id=RunId("r1"), attempts=1)
    return doc, chunk, Assertion.of(triple, confidence=0.9, provenance=(prov,))


def _store(path: Path, *, with_ontology: bool) -> Assertion:
    doc, chunk, asr = _juno()
    with SQLiteGraphStore(path) as st:
        st.upsert_documents([doc], [chunk])
        st.write_assertions([asr])
        if with_ontology:
            assert record_ontology(st, load_ontology(SPACE)) is True
    return asr


MISSING = [
    (kgcl_app, ["log"]), (kgcl_app, ["requests"]),
    (kgcl_app, ["certify", "asr:0", "--actor", "cara"]),
    (kgcl_app, ["request", "--actor", "ada", "rename 'A' to 'B'"]),
    (kgcl_app, ["review", "cr-1", "--actor", "cara", "--approve"]),
    (kgcl_app, ["apply", "--role", "admin", "rename 'A' to 'B'"]),
    (verikg_app, ["quarantine"]), (verikg_app, ["quarantine", "--soft"]),
    (verikg_app, ["query", "Juno"]), (verikg_app, ["merges", "undo", "m-1"]),
]


@pytest.mark.parametrize(("app", "args"), MISSING, ids=[" ".join(a) for _, a in MISSING])
def test_a_mistyped_store_is_an_error_and_creates_nothing(tmp_path: Path, app: object,
                                                          args: list[str]) -> None:
    typo = tmp_path / "typo" / "kg.sqlite"
    result = runner.invoke(app, [*args, "--store", f"sqlite:{typo}"])  # type: ignore[arg-type]
    assert result.exit_code == 1, result.output
    assert re.search(r"error: no VeriKG store at .*typo.*verikg build", result.output)
    assert "rejected" not in result.output
    assert not typo.parent.exists()


def test_commands_use_the_stores_ontology_from_any_folder(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    path = tmp_path / "kg.sqlite"
    _store(path, with_ontology=True)
    monkeypatch.chdir(tmp_path)  # ontologies/space is not here
    result = runner.invoke(kgcl_app, ["request", "--store", f"sqlite:{path}", "--actor", "ada",
                                      "rename 'NASA' to 'National Aeronautics'"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().startswith("cr-")
    with SQLiteGraphStore(path) as st:
        onto = store_ontology(st)
        assert onto is not None and onto.get_property(SP + "operatedBy") is not None
        assert resolve_ontology(st, None) == onto
        recorded = st.ontology_source()
        assert recorded is not None and recorded.path == str((SPACE / "ontology.ttl").resolve())
        assert recorded.source == (SPACE / "ontology.ttl").read_text(encoding="utf-8")


def test_a_store_without_an_ontology_says_so_plainly(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kg.sqlite"
    _store(path, with_ontology=False)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(kgcl_app, ["request", "--store", f"sqlite:{path}", "--actor", "ada",
                                      "rename 'NASA' to 'National Aeronautics'"])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "error:" in text and "has no ontology recorded" in text
    assert "pass --ontology PATH" in text and "rejected" not in text
    with SQLiteGraphStore(path) as st, pytest.raises(MissingOntologyError):
        resolve_ontology(st, None)
    given = runner.invoke(kgcl_app, ["request", "--store", f"sqlite:{path}", "--actor", "ada",
                                     "--ontology", str(SPACE),
                                     "rename 'NASA' to 'National Aeronautics'"])
    assert given.exit_code == 0, given.output
    missing = runner.invoke(kgcl_app, ["request", "--store", f"sqlite:{path}", "--actor", "ada",
                                       "--ontology", "ontologies/space", "rename 'A' to 'B'"])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_query_output_shows_the_assertion_and_entity_ids() -> None:
    _, _, asr = _juno()
    hit = Hit(kind="assertion", id=asr.id, score=0.8, label="Juno — operated by — NASA",
              text="Juno — operated by — NASA", assertion=asr)
    entity = asr.triple.subject
    answers = [QueryAnswer(query=Query(text="who operated Juno", k=2), hits=(
        hit, Hit(kind="entity", id=entity.id, score=0.5, label="Juno", text="Juno",
                 entity=entity)))]
    console = Console(record=True, width=60)
    print_answers(console, answers)
    text = console.export_text()
    obj = asr.triple.object
    assert isinstance(obj, EntityRef)
    line = next(ln for ln in text.splitlines() if "operated by" in ln)
    assert f"{asr.id} {entity.id} {obj.id}" in line  # on the statement's line, unwrapped
    assert re.search(rf"2\. .*Juno.*{entity.id}", text)
    data = json.loads(json.dumps(answers_json(answers)))
    first, second = data[0]["hits"]
    assert (first["assertion_id"], first["subject_id"], first["object_id"]) == (
        asr.id, entity.id, obj.id)
    assert first["assertion_id"].startswith("asr:") and first["subject_id"].startswith("ent:")
    assert second["entity_id"] == entity.id
