"""A build records its ontology in the store; a build under another ontology replaces it,
audited; the commands that follow find it there from any folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from flows.build_kg import build_kg
from flows.clients import store_ontology
from pipeline.errors import MissingOntologyError
from pipeline.settings import Settings
from pipeline.store import open_store
from tests.fakes import FakeEmbedder
from tests.toy_ontology import TOY_ONTOLOGY, answer


def test_the_build_records_its_ontology_and_a_new_one_is_audited(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "a.md").write_text("Acme Rockets was founded by Ada Byron.", encoding="utf-8")
    onto = tmp_path / "onto.ttl"
    onto.write_text("# the toy ontology\n" + TOY_ONTOLOGY, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "state", samples=1, max_retries=0,
                        llm_concurrency=1)

    def build() -> None:
        build_kg(str(corpus), str(onto), settings=settings, embedder=FakeEmbedder(),
                 chat_model=FakeListChatModel(responses=[
                     answer(("Acme Rockets", "founded by", "Ada Byron"))]))

    build()
    build()  # the same ontology again: nothing to record
    onto.write_text(onto.read_text(encoding="utf-8") + "# a second version\n",
                    encoding="utf-8")
    build()
    monkeypatch.chdir(tmp_path / "state")
    with open_store(settings.store_descriptor(), settings, create=False) as store:
        recorded = store.ontology_source()
        assert recorded is not None
        assert recorded.source == onto.read_text(encoding="utf-8")  # verbatim, comments too
        assert recorded.path == str(onto.resolve())
        entries = store.audit_log(action="record_ontology")
        assert len(entries) == 2 and entries[0].before == ""
        assert entries[1].before == entries[0].after != entries[1].after
        loaded = store_ontology(store)
        assert loaded is not None
        assert loaded.get_property("https://example.org/toy#foundedBy") is not None


def test_an_update_build_needs_no_ontology_and_a_first_build_asks_for_one(
        tmp_path: Path) -> None:
    """A later build of the same store takes the recorded ontology even after its file is
    gone; a first build without one is a clear MissingOntologyError that writes nothing."""
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "a.md").write_text("Acme Rockets was founded by Ada Byron.", encoding="utf-8")
    onto = tmp_path / "onto.ttl"
    onto.write_text(TOY_ONTOLOGY, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "state", samples=1, max_retries=0,
                        llm_concurrency=1)

    def build(ontology: str | None, *, where: Settings = settings) -> int:
        report = build_kg(str(corpus), ontology, settings=where, embedder=FakeEmbedder(),
                          chat_model=FakeListChatModel(responses=[
                              answer(("Acme Rockets", "founded by", "Ada Byron")),
                              answer(("Bolt Works", "founded by", "Carl Benz"))]))
        return report.new_assertions

    fresh = Settings(data_dir=tmp_path / "other", samples=1, max_retries=0, llm_concurrency=1)
    with pytest.raises(MissingOntologyError, match="a first build needs an ontology"):
        build(None, where=fresh)
    assert not (tmp_path / "other").exists()
    assert build(str(onto)) == 1
    onto.unlink()
    (corpus / "b.md").write_text("Bolt Works was founded by Carl Benz.", encoding="utf-8")
    assert build(None) == 1  # the second document's statement, under the recorded ontology
    with open_store(settings.store_descriptor(), settings, create=False) as store:
        assert len(store.assertions()) == 2
        assert len(store.audit_log(action="record_ontology")) == 1  # recorded once
