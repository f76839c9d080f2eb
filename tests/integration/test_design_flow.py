"""The design_ontology Prefect flow and ``verikg ontology design`` end to end (ephemeral
Prefect), with langchain-core fake chat models playing the panel (the scenario of
``tests/unit/ontology/design/design_scripts.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.design_ontology import design_ontology, make_panel_models
from pipeline.ontology import check_ontology, load_ontology
from pipeline.ontology.design import DesignSettings
from pipeline.settings import Settings
from tests.unit.ontology.design import design_scripts as S
from verikg_cli.main import app

FILES = ["competency_questions.yaml", "ontology.ttl", "transcript.json", "transcript.md"]


def test_flow_designs_with_scripted_models_and_the_real_embedder(tmp_path: Path) -> None:
    corpus = S.write_corpus(tmp_path / "corpus")
    settings = Settings(data_dir=tmp_path / "state")
    design = DesignSettings(iri=S.IRI, prefix=S.PREFIX, max_retries=1)
    outs = []
    for run in ("a", "b"):
        out = tmp_path / run
        report = design_ontology(S.DOMAIN, str(corpus), str(out), settings=settings,
                                 design=design, chat_models=S.panel_models())
        assert report.status == "accepted", report.message
        assert (report.proposals, report.merges, report.candidates) == (8, 2, 6)
        assert report.accepted_cqs == ("cq01", "cq02", "cq03", "cq04", "cq05")
        assert (report.drafts, report.classes, report.quarantined) == (2, 5, 1)
        assert report.corpus_redactions == 1 and report.unresolved == ()
        assert sorted(Path(f).name for f in report.files) == FILES
        outs.append(out)
    # all-MiniLM-L6-v2 merges the paraphrase, and nothing else, at the default threshold
    merges = json.loads((outs[0] / "transcript.json").read_text())["merges"]
    assert [(m["kept"], m["merged"]) for m in merges] == [("p001", "p004"), ("p002", "p005")]
    assert 0.95 < merges[1]["similarity"] < 1.0
    onto = load_ontology(outs[0])
    assert [i for i in check_ontology(onto) if i.severity == "error"] == []
    for name in FILES:  # same inputs, same deterministic models: the same bytes
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes()


@pytest.fixture()
def scripted(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """The CLI's model and embedder factories replaced by the scripted panel."""
    import flows.design_ontology as flow_module

    made: dict[str, object] = {}

    def models(settings: Settings, design: DesignSettings) -> dict[str, object]:
        made["models"] = S.panel_models()
        made["design"] = design
        return made["models"]  # type: ignore[return-value]

    monkeypatch.setattr(flow_module, "make_panel_models", models)
    monkeypatch.setattr(flow_module, "make_design_embedder", lambda settings: S.word_embedder())
    monkeypatch.setenv("VERIKG_DESIGN_MAX_RETRIES", "1")
    return made


def test_cli_design_then_check(tmp_path: Path, scripted: dict[str, object]) -> None:
    corpus = S.write_corpus(tmp_path / "corpus")
    out = tmp_path / "onto"
    args = ["ontology", "design", "--domain", S.DOMAIN, "--corpus", str(corpus), "--out",
            str(out), "--iri", S.IRI, "--prefix", S.PREFIX, "--data-dir", str(tmp_path / "st")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "accepted:" in res.output and "2 merged" in res.output
    assert f"wrote {out / 'ontology.ttl'}" in res.output
    design = scripted["design"]
    assert isinstance(design, DesignSettings) and design.max_retries == 1  # from the env
    check = CliRunner().invoke(app, ["ontology", "check", str(out / "ontology.ttl")])
    assert check.exit_code == 0, check.output
    first = {n: (out / n).read_bytes() for n in FILES}
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["status"] == "accepted"
    assert {n: (out / n).read_bytes() for n in FILES} == first


def test_cli_reports_what_is_left_and_exits_1(tmp_path: Path,
                                              scripted: dict[str, object]) -> None:
    corpus = S.write_corpus(tmp_path / "corpus")
    out = tmp_path / "onto"
    res = CliRunner().invoke(app, ["ontology", "design", "--domain", S.DOMAIN, "--corpus",
                                   str(corpus), "--out", str(out), "--iri", S.IRI, "--prefix",
                                   S.PREFIX, "--review-rounds", "1",
                                   "--data-dir", str(tmp_path / "st")])
    assert res.exit_code == 1
    assert "unresolved:" in res.output
    assert "[missing-domain]" in res.output and "[critic-rejection]" in res.output
    assert (out / "ontology.ttl").is_file() and (out / "transcript.md").is_file()


def test_cli_refuses_bad_settings_and_inputs(tmp_path: Path,
                                            scripted: dict[str, object]) -> None:
    corpus = S.write_corpus(tmp_path / "corpus")
    base = ["ontology", "design", "--domain", S.DOMAIN, "--out", str(tmp_path / "o"),
            "--data-dir", str(tmp_path / "st")]
    res = CliRunner().invoke(app, [*base, "--corpus", str(corpus), "--quorum", "2"])
    assert res.exit_code == 1 and "quorum" in res.output
    res = CliRunner().invoke(app, [*base, "--corpus", str(corpus), "--role", "analyst"])
    assert res.exit_code == 1 and "ontology_engineer" in res.output  # a panel needs one
    res = CliRunner().invoke(app, [*base, "--corpus", str(corpus), "--role", "poet"])
    assert res.exit_code == 2 and "ontology_engineer" in res.output  # not a seat at all
    # a path that does not exist is bad usage, refused before anything loads
    res = CliRunner().invoke(app, [*base, "--corpus", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "does not exist" in res.output


def test_the_configured_llm_gets_a_schema_per_step(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, llm="openai", llm_base_url="http://127.0.0.1:9/v1")
    models = make_panel_models(settings, DesignSettings())
    assert sorted(models) == ["analyst", "critic", "domain_expert", "ontology_engineer"]
    steps = models["critic"]
    assert sorted(steps) == ["draft", "propose", "review", "vote"]
    fmt = steps["draft"].extra_body["response_format"]  # type: ignore[attr-defined]
    assert "classes" in fmt["json_schema"]["schema"]["properties"]
    assert steps["draft"].temperature == 0.0  # type: ignore[attr-defined]
    assert steps["draft"].max_tokens >= 4096  # type: ignore[attr-defined]
