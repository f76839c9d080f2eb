"""The certify, reindex and evaluate flows in-process (ephemeral Prefect, embedded store, a
hash embedder), after a build with langchain-core's fake chat model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from flows.build_kg import build_kg
from flows.certify import certify
from flows.reindex import reindex
from pipeline.errors import ConfigurationError, PermissionDeniedError
from pipeline.models import AssertionStatus
from pipeline.settings import Settings
from pipeline.store import open_store
from tests.fakes import FakeEmbedder
from tests.toy_ontology import TOY_ONTOLOGY

ONTO = TOY_ONTOLOGY
ANSWER = json.dumps({"triples": [
    {"subject": "Acme Rockets", "predicate": "founded by", "object": "Ada Byron"},
    {"subject": "Acme Rockets", "predicate": "based in", "object": "Seattle"}]})


@pytest.fixture()
def built(tmp_path: Path) -> tuple[Settings, Path]:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "a.md").write_text("# Acme\n\nAcme Rockets was founded by Ada Byron. Acme "
                                 "Rockets is based in Seattle.", encoding="utf-8")
    onto = tmp_path / "onto.ttl"
    onto.write_text(ONTO, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "state", samples=1, max_retries=0,
                        llm_concurrency=1)
    report = build_kg(str(corpus), str(onto), settings=settings, embedder=FakeEmbedder(),
                      chat_model=FakeListChatModel(responses=[ANSWER]))
    assert report.accepted == 2
    return settings, onto


def test_certify_by_confidence_is_audited(built: tuple[Settings, Path]) -> None:
    settings, onto = built
    with pytest.raises(ConfigurationError):
        certify("cert", settings=settings, ontology=str(onto))  # no rule, no certification
    with pytest.raises(PermissionDeniedError):
        certify("cur", role="curator", min_confidence=0.0,
                settings=settings, ontology=str(onto), embedder=FakeEmbedder())
    dry = certify("cert", min_confidence=0.0, dry_run=True, settings=settings,
                  ontology=str(onto))
    assert len(dry.selected) == 2 and dry.certified == 0
    done = certify("cert", min_confidence=0.0, limit=1, settings=settings,
                   ontology=str(onto), embedder=FakeEmbedder())
    assert done.certified == 1 and done.index == "delta"
    with open_store(settings.store_descriptor(), settings) as store:
        assert [a.id for a in store.assertions(status=AssertionStatus.CERTIFIED)] == [
            done.selected[0]]
        assert [e.actor for e in store.audit_log(action="certify")] == ["cert"]
        assert [e.actor for e in store.audit_log(action="refused")] == ["cur"]
    again = certify("cert", min_confidence=0.0, settings=settings, ontology=str(onto),
                    embedder=FakeEmbedder())
    assert again.certified == 1 and done.selected[0] not in again.selected


def test_reindex_delta_then_full(built: tuple[Settings, Path]) -> None:
    settings, onto = built
    fresh = reindex(settings=settings, ontology=str(onto), embedder=FakeEmbedder())
    assert fresh.action == "none" and fresh.embedded == 0 and fresh.size >= 2
    full = reindex(full=True, settings=settings, ontology=str(onto), embedder=FakeEmbedder())
    assert full.action == "rebuild" and full.size == fresh.size


def test_evaluate_flow_writes_the_result(tmp_path: Path) -> None:
    from flows.evaluate import evaluate
    from verikg_cli.shared_data import shared_data_dir

    shared = shared_data_dir()
    assert shared is not None, "the shared Text2KGBench data is missing (VERIKG_SHARED_DATA)"
    fam = shared / "text2kgbench" / "dbpedia_webnlg"
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join((fam / "ground_truth" / "ont_7_company_ground_truth.jsonl")
                            .read_text(encoding="utf-8").splitlines(keepends=True)[:6]),
                    encoding="utf-8")
    responses = sorted((fam / "baselines" / "Vicuna-13B" / "llm_responses")
                       .glob("7_company_*"))
    out = tmp_path / "eval" / "RESULT.json"
    result = evaluate(str(fam / "ontologies" / "7_company_ontology.json"), str(gold),
                      [str(p) for p in responses], out=str(out))
    assert out.exists() and result["gold_sentences"] == 6
    assert result["verified"]["onto_conf"] >= result["raw"]["onto_conf"]
