"""Bad documents in a corpus, built end to end (the build_kg flow, fake chat model): by
default the build goes on, reads a Latin-1 file as Latin-1, reports and quarantines the bad
file with its reason, and a later build after the file is fixed builds it and resolves the
record; with ``fail`` the build stops on the bad file and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from typer.testing import CliRunner

from flows.build_kg import build_kg
from pipeline.errors import DocumentError
from pipeline.models import ViolationReason
from pipeline.settings import Settings
from pipeline.store import open_store
from tests.toy_ontology import TOY_ONTOLOGY, answer
from verikg_cli.main import app

ACME = answer(("Acme Rockets", "founded by", "Ada Byron"))


@pytest.fixture()
def project(tmp_path: Path) -> tuple[Path, Path, Settings]:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "a.md").write_text("Acme Rockets was founded by Ada Byron.", encoding="utf-8")
    (corpus / "b.txt").write_bytes("Acme Rockets est basée à Orléans.".encode("latin-1"))
    (corpus / "c.txt").write_bytes(b"Globex\x00\x01 binary")
    onto = tmp_path / "onto.ttl"
    onto.write_text(TOY_ONTOLOGY, encoding="utf-8")
    return corpus, onto, Settings(data_dir=tmp_path / "state", samples=1, max_retries=0,
                                  llm_concurrency=1)


def test_a_bad_file_is_skipped_quarantined_and_built_once_fixed(
        project: tuple[Path, Path, Settings]) -> None:
    corpus, onto, settings = project
    assert settings.on_bad_document == "skip"  # the default
    first = build_kg(str(corpus), str(onto), settings=settings,
                     chat_model=FakeListChatModel(responses=[ACME] * 4))
    assert (first.documents, first.chunks) == (2, 2)
    assert [(s.source, s.reason) for s in first.skipped_documents] == [
        ("c.txt", ViolationReason.BINARY_DOCUMENT)]
    with open_store(settings.store_descriptor(), settings) as store:
        [record] = [q for q in store.quarantined() if q.candidate is None]
        docs = store.get_documents([d.document_id for d in store.get_chunks(
            [p.chunk_id for a in store.assertions() for p in a.provenance]).values()])
    assert record.document_id == "file:c.txt" and record.run_id == first.run_id
    assert record.violations[0].reason is ViolationReason.BINARY_DOCUMENT
    assert "c.txt: looks binary" in record.violations[0].detail
    assert all(d.text.isprintable() for d in docs.values())

    (corpus / "c.txt").write_text("Globex is based in Springfield.", encoding="utf-8")
    second = build_kg(str(corpus), str(onto), settings=settings,
                      chat_model=FakeListChatModel(responses=[ACME] * 4))
    assert (second.documents, second.new_documents, second.skipped_documents) == (3, 1, ())
    with open_store(settings.store_descriptor(), settings) as store:
        [record] = [q for q in store.quarantined() if q.candidate is None]
    assert record.resolved_by == second.run_id  # kept as history, no longer standing


def test_fail_stops_the_build_and_writes_nothing(project: tuple[Path, Path, Settings]) -> None:
    corpus, onto, settings = project
    settings = settings.model_copy(update={"on_bad_document": "fail"})
    with pytest.raises(DocumentError, match=r"c\.txt: looks binary"):
        build_kg(str(corpus), str(onto), settings=settings,
                 chat_model=FakeListChatModel(responses=[ACME] * 4))
    assert not (settings.data_dir / "kg.sqlite").exists()


def test_an_unknown_choice_is_bad_usage(project: tuple[Path, Path, Settings]) -> None:
    corpus, onto, settings = project
    res = CliRunner().invoke(app, ["build", "--corpus", str(corpus), "--ontology", str(onto),
                                   "--data-dir", str(settings.data_dir),
                                   "--on-bad-document", "maybe"])
    assert res.exit_code == 2, res.output
    assert "'maybe' is not one of skip, fail" in res.output
    assert not settings.data_dir.exists()
