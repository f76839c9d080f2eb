"""The build_kg Prefect flow end to end (ephemeral Prefect, embedded store, real embedder),
with langchain-core's fake chat model standing in for the LLM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from pydantic import SecretStr

from flows.build_kg import build_kg
from pipeline.errors import DocumentError, OntologyError
from pipeline.settings import Settings
from pipeline.store import open_store
from tests.toy_ontology import TOY_ONTOLOGY, answer

ONTO = TOY_ONTOLOGY


RESPONSES = [
    answer(("Acme Rockets", "founded by", "Ada Byron"), ("Acme Rockets", "based in", "Seattle")),
    answer(("Globex", "based in", "Springfield"), ("Globex", "founded by", "Hank Scorpio"),
           ("Globex", "founded by", "Nobody Mentioned")),
]


@pytest.fixture()
def project(tmp_path: Path) -> tuple[Path, Path, Settings]:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "a.md").write_text("# Acme\n\nAcme Rockets was founded by Ada Byron. "
                                 "Acme Rockets is based in Seattle.", encoding="utf-8")
    (corpus / "b.md").write_text("# Globex\n\nGlobex is based in Springfield. Globex was "
                                 "founded by Hank Scorpio.", encoding="utf-8")
    onto = tmp_path / "onto.ttl"
    onto.write_text(ONTO, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "state", samples=1, max_retries=0,
                        llm_concurrency=1)
    return corpus, onto, settings


def test_build_then_rebuild_adds_nothing(project: tuple[Path, Path, Settings]) -> None:
    corpus, onto, settings = project
    first = build_kg(str(corpus), str(onto), settings=settings,
                     chat_model=FakeListChatModel(responses=RESPONSES))
    assert (first.documents, first.new_documents, first.chunks) == (2, 2, 2)
    assert first.accepted == 4 and first.new_assertions == 4
    assert first.quarantined_by_reason == {"object-not-in-text": 1}
    assert first.index_size >= 4 + first.entities
    assert set(first.stage_seconds) >= {"ingest", "extract", "store", "index"}

    second = build_kg(str(corpus), str(onto), settings=settings,
                      chat_model=FakeListChatModel(responses=RESPONSES))
    assert second.new_documents == 0 and second.new_assertions == 0
    assert second.assertions_in_store == first.assertions_in_store == 4

    store = open_store(settings.store_descriptor(), settings)
    try:
        quarantined = store.quarantined()
        assert [q.candidate.object for q in quarantined if q.candidate] == ["Nobody Mentioned"]
        # refused by both builds: one record, the second build's, that names both
        assert [(q.run_id, q.runs, q.resolved_by) for q in quarantined] == [
            (second.run_id, (first.run_id, second.run_id), None)]
        a = store.assertions()
        assert all(x.provenance and x.provenance[0].quote for x in a)
    finally:
        store.close()


def test_bad_inputs_fail_clearly_and_write_nothing(project: tuple[Path, Path, Settings],
                                                   tmp_path: Path) -> None:
    corpus, onto, settings = project
    settings = settings.model_copy(update={"on_bad_document": "fail"})
    (corpus / "bad.txt").write_bytes(b"\xff\xfe binary \x00")
    with pytest.raises(DocumentError, match="bad.txt"):
        build_kg(str(corpus), str(onto), settings=settings,
                 chat_model=FakeListChatModel(responses=RESPONSES))
    (corpus / "bad.txt").unlink()
    broken = tmp_path / "broken.ttl"
    broken.write_text("@prefix : <x#> . :a :b", encoding="utf-8")
    with pytest.raises(OntologyError, match="broken.ttl"):
        build_kg(str(corpus), str(broken), settings=settings,
                 chat_model=FakeListChatModel(responses=RESPONSES))
    assert not (settings.data_dir / "kg.sqlite").exists()


@pytest.mark.neo4j
def test_the_same_build_into_neo4j_gives_the_same_graph(
        project: tuple[Path, Path, Settings], neo4j_uri: str, neo4j_password: SecretStr) -> None:
    corpus, onto, settings = project
    lite = build_kg(str(corpus), str(onto), settings=settings,
                    chat_model=FakeListChatModel(responses=RESPONSES))
    neo_settings = settings.model_copy(update={
        "store": neo4j_uri, "neo4j_password": neo4j_password,
        "data_dir": settings.data_dir.parent / "neo-state"})
    with open_store(neo4j_uri, neo_settings) as neo:
        neo.reset()
    neo_report = build_kg(str(corpus), str(onto), settings=neo_settings,
                          chat_model=FakeListChatModel(responses=RESPONSES))
    assert neo_report.store == neo4j_uri
    assert (neo_report.new_assertions, neo_report.quarantined) == (lite.new_assertions,
                                                                   lite.quarantined)
    again = build_kg(str(corpus), str(onto), settings=neo_settings,
                     chat_model=FakeListChatModel(responses=RESPONSES))
    assert again.new_assertions == 0
    with open_store(settings.store_descriptor(), settings) as a, \
            open_store(neo4j_uri, neo_settings) as b:
        strip = [(x.id, x.triple, x.confidence, x.status) for x in a.assertions()]
        assert strip == [(x.id, x.triple, x.confidence, x.status) for x in b.assertions()]
        def q(st):  # type: ignore[no-untyped-def]  # two runs: run ids differ, nothing else
            return [x.model_dump(exclude={"run_id", "runs"}) for x in st.quarantined()]
        assert q(a) == q(b)
        b.reset()


def test_merges_are_recorded_and_an_undo_sticks(tmp_path: Path) -> None:
    from flows.clients import make_merge_log

    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "a.md").write_text("Acme Rockets Inc. was founded by Ada Byron.", encoding="utf-8")
    (corpus / "b.md").write_text("Acme Rockets is based in Seattle.", encoding="utf-8")
    onto = tmp_path / "onto.ttl"
    onto.write_text(ONTO, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "state", samples=1, max_retries=0,
                        llm_concurrency=1)
    responses = [answer(("Acme Rockets Inc.", "founded by", "Ada Byron")),
                 answer(("Acme Rockets", "based in", "Seattle"))]
    report = build_kg(str(corpus), str(onto), settings=settings,
                      chat_model=FakeListChatModel(responses=responses))
    assert [(m.merged.label, m.canonical.label) for m in report.merges] == [
        ("Acme Rockets Inc.", "Acme Rockets")]
    log = make_merge_log(settings)
    [record] = log.records()
    with open_store(settings.store_descriptor(), settings) as store:
        subjects = {a.triple.subject.label for a in store.assertions()}
        assert subjects == {"Acme Rockets"}
        assert log.undo(store, record.id, actor="tester") > 0
        subjects = {a.triple.subject.label for a in store.assertions()}
        assert subjects == {"Acme Rockets", "Acme Rockets Inc."}
        assert any(e.actor == "tester" for e in store.audit_log())
    # the next build does not merge the pair again
    again = build_kg(str(corpus), str(onto), settings=settings,
                     chat_model=FakeListChatModel(responses=responses))
    assert again.merges == () and again.new_assertions == 0
    with open_store(settings.store_descriptor(), settings) as store:
        assert {a.triple.subject.label for a in store.assertions()} == {
            "Acme Rockets", "Acme Rockets Inc."}


def test_quarantine_is_queryable_from_the_command_line(
        project: tuple[Path, Path, Settings]) -> None:
    from typer.testing import CliRunner

    from verikg_cli.main import app

    corpus, onto, settings = project
    build_kg(str(corpus), str(onto), settings=settings,
             chat_model=FakeListChatModel(responses=RESPONSES))
    args = ["quarantine", "--data-dir", str(settings.data_dir)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "Nobody Mentioned" in res.output and "[object-not-in-text]" in res.output
    res = CliRunner().invoke(app, [*args, "--reason", "self-loop", "--format", "json"])
    assert res.exit_code == 0 and json.loads(res.output) == []


def test_a_labelled_sample_gets_the_build_its_calibration(
        project: tuple[Path, Path, Settings], tmp_path: Path) -> None:
    corpus, onto, settings = project
    labels = tmp_path / "labels.csv"
    labels.write_text("subject,predicate,object,correct\n"
                      "Acme Rockets,founded by,Ada Byron,true\n"
                      "Globex,based in,Springfield,true\n"
                      "Globex,founded by,Hank Scorpio,false\n"
                      "Initech,founded by,Bill Lumbergh,true\n", encoding="utf-8")
    report = build_kg(str(corpus), str(onto), settings=settings,
                      chat_model=FakeListChatModel(responses=RESPONSES), labels=str(labels))
    cal = report.calibration
    assert cal is not None
    assert (cal.labels, cal.found, cal.right, cal.missing) == (4, 3, 2, 1)
    assert 0.0 <= cal.ece <= 1.0
    assert Path(cal.diagram).read_bytes()[:4] == b"\x89PNG"
    # the stored confidence is the calibrated one: the shipped map, not the raw agreement
    store = open_store(settings.store_descriptor(), settings)
    try:
        assert all(a.confidence < 1.0 for a in store.assertions())
    finally:
        store.close()
