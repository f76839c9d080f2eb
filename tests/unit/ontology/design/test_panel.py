"""The design panel end to end with scripted chat models playing each role (see
``design_scripts``): duplicates merged, malformed output corrected, hostile text refused, a
first draft rejected by the critic and fixed; the output passes the checks, loads, and its
queries run. Plus determinism, reports of what cannot be fixed, and bounded retries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from rdflib import Graph
from rdflib.plugins.sparql import prepareQuery

from pipeline.errors import ConfigurationError
from pipeline.ingest import TextFileLoader
from pipeline.models import Document
from pipeline.ontology import check_ontology, load_ontology
from pipeline.ontology.design import (
    DesignResult,
    DesignSettings,
    OntologyDesignPanel,
    build_agents,
    write_design,
)
from tests.unit.ontology.design.design_scripts import (
    DOMAIN,
    INJECTION,
    INSTANCES,
    IRI,
    NS,
    PREFIX,
    REJECTION,
    RecordingChatModel,
    panel_models,
    questions,
    review,
    votes,
    word_embedder,
    write_corpus,
)

SETTINGS = DesignSettings(iri=IRI, prefix=PREFIX, max_retries=1, review_rounds=3)
FILES = ["competency_questions.yaml", "ontology.ttl", "transcript.json", "transcript.md"]


@pytest.fixture()
def documents(tmp_path: Path) -> list[Document]:
    return TextFileLoader().load(write_corpus(tmp_path / "corpus"))


def run(documents: list[Document], models: dict[str, RecordingChatModel] | None = None,
        settings: DesignSettings = SETTINGS) -> DesignResult:
    agents = build_agents(settings, models if models is not None else panel_models())
    panel = OntologyDesignPanel(agents, word_embedder(), settings, sleep=lambda _: None)
    return panel.run(DOMAIN, documents)


def test_panel_end_to_end(documents: list[Document], tmp_path: Path) -> None:
    models = panel_models()
    result = run(documents, models)
    assert result.status == "accepted", result.transcript.to_markdown()
    out = tmp_path / "out"
    written = write_design(result, out)
    assert sorted(p.name for p in written) == FILES

    # the ontology loads, passes check_ontology, and has what round 2 drafted
    onto = load_ontology(out)
    assert [i for i in check_ontology(onto) if i.severity == "error"] == []
    assert {c.iri.removeprefix(NS) for c in onto.classes} == {
        "City", "Operator", "Organization", "Station", "TrainLine"}
    assert onto.is_subclass(NS + "Operator", NS + "Organization")
    for c in onto.classes:  # a label and a definition each
        assert c.label and c.comment, c.iri
    for p in onto.properties:
        assert p.label and p.comment, p.iri
    operated = onto.get_property(NS + "operatedBy")
    assert operated is not None and operated.domain == (NS + "TrainLine",)
    year = onto.get_property(NS + "openingYear")
    assert year is not None and year.range == ("http://www.w3.org/2001/XMLSchema#gYear",)

    # the CQ file: text, SPARQL, expected answer type; every query parses and runs over the
    # ontology graph, and answers from instance data typed with the ontology's terms
    cqs = {q.id: q for q in onto.competency_questions}
    assert sorted(cqs) == ["cq01", "cq02", "cq03", "cq04", "cq05"]
    assert cqs["cq04"].answer_type == "xsd:gYear" and cqs["cq02"].answer_type == "Operator"
    schema = Graph().parse(out / "ontology.ttl", format="turtle")
    data = Graph().parse(out / "ontology.ttl", format="turtle").parse(data=INSTANCES,
                                                                       format="turtle")
    answers = {}
    for q in cqs.values():
        assert q.sparql and q.text
        prepared = prepareQuery(q.sparql)
        schema.query(prepared)
        answers[q.id] = [tuple(str(v) for v in row)  # type: ignore[union-attr]
                         for row in data.query(prepared)]
    assert ("Northern Line", NS + "lakeside", "Lakeside Rail") in answers["cq02"]
    assert answers["cq04"] == [("Harbor Street", "1899")]
    assert answers["cq05"] == [(NS + "lakeside", "Lakeside Rail")]
    assert len(answers["cq01"]) == 2 and len(answers["cq03"]) == 2


def test_transcript_keeps_proposals_merges_votes_and_the_rejection(
        documents: list[Document], tmp_path: Path) -> None:
    models = panel_models()
    result = run(documents, models)
    write_design(result, tmp_path)
    t = json.loads((tmp_path / "transcript.json").read_text(encoding="utf-8"))
    assert t["format"] == "verikg-ontology-design-transcript/1"
    assert [a["name"] for a in t["agents"]] == ["domain_expert", "analyst",
                                                "ontology_engineer", "critic"]
    # proposals: every kept one, by agent; the hostile one is not among them
    assert len(t["proposals"]) == 8
    assert {p["agent"] for p in t["proposals"]} == {"domain_expert", "analyst",
                                                    "ontology_engineer", "critic"}
    assert all(INJECTION not in p["text"] for p in t["proposals"])
    # merges, with their similarity: a word-for-word repeat and a paraphrase
    merges = {(m["kept"], m["merged"]): m["similarity"] for m in t["merges"]}
    assert merges[("p001", "p004")] == 1.0
    assert 0.85 <= merges[("p002", "p005")] < 1.0
    assert [c["proposals"] for c in t["candidates"][:2]] == [["p001", "p004"], ["p002", "p005"]]
    # votes: one per agent per candidate; the quorum keeps the vague question out
    assert len(t["votes"]) == 4 * 6
    scope = {s["cq"]: s for s in t["scope"]}
    assert scope["cq06"]["accepted"] is False and scope["cq06"]["accepts"] == 1
    assert all(scope[c]["accepted"] for c in ("cq01", "cq02", "cq03", "cq04", "cq05"))
    assert scope["cq01"]["required"] == 2
    # round 2: the critic rejected the first draft, with the checks' findings; then accepted
    first, second = t["reviews"]
    assert first["verdict"] == "rejected" and first["critic_approved"] is False
    assert [(p["term"], p["problem"]) for p in first["critic_problems"]] == REJECTION
    codes = {f["code"] for f in first["findings"]}
    assert {"missing-domain", "cq-undefined-term"} <= codes
    assert second["verdict"] == "accepted" and second["critic_approved"] is True
    assert second["findings"] == [] and t["unresolved"] == []
    assert t["outcome"]["status"] == "accepted"
    # the malformed answer and its correction, the hostile answer and its quarantine
    calls = [(c["agent"], c["step"], c["attempt"], [v["code"] for v in c["violations"]])
             for c in t["calls"]]
    assert ("analyst", "propose", 1, ["malformed-output"]) in calls
    assert ("analyst", "propose", 2, []) in calls
    assert ("critic", "propose", 2, ["hostile-text"]) in calls
    [quarantined] = t["quarantine"]
    assert quarantined["agent"] == "critic" and INJECTION in quarantined["raw"]
    assert "hostile-text" in quarantined["reasons"][0]
    # the prompt injection in the corpus was kept out of every prompt
    [redaction] = t["corpus_redactions"]
    assert redaction["source"] == "01-northern-line.md" and redaction["text"] == INJECTION
    for model in models.values():
        for messages in model.seen:
            assert all(INJECTION not in m for m in messages[:2])
    md = (tmp_path / "transcript.md").read_text(encoding="utf-8")
    for needle in ("## Round 1: proposals", "### Merges", "similarity 0.8944", "### Votes",
                   "### Draft 1: rejected", "Critic: rejected", "### Draft 2: accepted",
                   "## Quarantined answers", "Kept out of every prompt"):
        assert needle in md, needle


def test_corrective_prompts_name_the_problems(documents: list[Document]) -> None:
    models = panel_models()
    run(documents, models)
    analyst_retry = models["analyst"].seen[1]
    assert "[malformed-output]" in analyst_retry[-1]
    assert analyst_retry[-2].startswith("Sure!")  # its own answer, shown back to it
    critic_retry = models["critic"].seen[1]
    assert "[hostile-text] questions[1].text" in critic_retry[-1]
    engineer = models["ontology_engineer"].seen
    second_draft = engineer[3]  # propose, vote, draft 1, draft 2
    assert "rejected this draft" in second_draft[-1]
    assert "[missing-domain]" in second_draft[-1] and "critic: operatedBy" in second_draft[-1]
    review_prompt = models["critic"].seen[3][-1]  # propose x2, vote, review 1
    assert "```turtle" in review_prompt and "[cq-undefined-term]" in review_prompt


def test_same_scripted_models_give_byte_identical_files(documents: list[Document],
                                                         tmp_path: Path) -> None:
    write_design(run(documents), tmp_path / "a")
    write_design(run(documents), tmp_path / "b")
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_critic_that_never_approves_is_reported_not_hidden(documents: list[Document],
                                                             tmp_path: Path) -> None:
    models = panel_models()
    stubborn = review(False, [("TrainLine", "should be called Route")])
    models["critic"] = RecordingChatModel(responses=[*models["critic"].responses[:3],
                                                     *[stubborn] * 3])
    models["ontology_engineer"] = RecordingChatModel(responses=[
        *models["ontology_engineer"].responses[:3],
        models["ontology_engineer"].responses[3], models["ontology_engineer"].responses[3]])
    result = run(documents, models)
    assert result.status == "unresolved"
    codes = {(f.code, f.source) for f in result.unresolved}
    assert ("critic-rejection", "critic") in codes
    assert [r.verdict for r in result.transcript.reviews] == ["rejected"] * 3
    out = tmp_path / "out"
    write_design(result, out)
    t = json.loads((out / "transcript.json").read_text())
    assert t["outcome"]["status"] == "unresolved"
    assert any("should be called Route" in f["message"] for f in t["unresolved"])
    assert (out / "ontology.ttl").is_file()  # the last draft is written, with its problems


def test_errors_left_after_the_last_round_are_listed(documents: list[Document]) -> None:
    models = panel_models()
    engineer = models["ontology_engineer"].responses
    # the engineer resubmits the broken first draft every time; the critic keeps rejecting
    models["ontology_engineer"] = RecordingChatModel(responses=[*engineer[:3], engineer[2],
                                                                engineer[2]])
    models["critic"] = RecordingChatModel(responses=[
        *models["critic"].responses[:3], *[review(False, REJECTION)] * 3])
    result = run(documents, models)
    assert result.status == "unresolved"
    errors = {f.code for f in result.unresolved if f.severity == "error"}
    assert {"missing-domain", "cq-undefined-term", "critic-rejection"} <= errors
    assert result.ontology_ttl is not None and "rail:operatedBy" in result.ontology_ttl


def test_a_draft_that_never_parses_fails_after_bounded_retries(documents: list[Document],
                                                               tmp_path: Path) -> None:
    models = panel_models()
    engineer = models["ontology_engineer"].responses
    models["ontology_engineer"] = RecordingChatModel(
        responses=[*engineer[:2], "I cannot do that.", '{"classes": "none"}'])
    settings = SETTINGS.model_copy(update={"review_rounds": 2})
    result = run(documents, models, settings)
    assert result.status == "failed" and result.ontology_ttl is None
    draft_calls = [c for c in result.transcript.calls if c.step == "draft"]
    assert len(draft_calls) == 2 * (settings.max_retries + 1)  # bounded
    assert [r.verdict for r in result.transcript.reviews] == ["no-draft", "no-draft"]
    assert sum(q.step == "draft" for q in result.transcript.quarantine) == 2
    assert [f.code for f in result.unresolved] == ["no-draft"]
    out = tmp_path / "out"
    write_design(result, out)
    assert sorted(p.name for p in out.iterdir()) == ["transcript.json", "transcript.md"]


def test_no_question_reaching_the_quorum_stops_before_round_2(documents: list[Document]) -> None:
    models = panel_models()
    reject_all = votes({f"cq0{i}": False for i in range(1, 7)})
    for name, model in models.items():
        responses = list(model.responses)
        index = next(i for i, r in enumerate(responses) if r.startswith('{"votes"'))
        responses[index] = reject_all
        models[name] = RecordingChatModel(responses=responses)
    result = run(documents, models)
    assert result.status == "failed"
    assert not any(c.step in ("draft", "review") for c in result.transcript.calls)
    assert result.transcript.outcome is not None
    assert "quorum" in result.transcript.outcome.message


def test_quorum_and_number_of_agents_are_settings(documents: list[Document]) -> None:
    settings = SETTINGS.model_copy(update={
        "roles": ("domain_expert", "analyst", "analyst", "ontology_engineer", "critic"),
        "quorum": 1.0})
    models = panel_models()
    second = [questions(("Which stations does each train line serve?", "Station")),
              votes({"cq01": True, "cq02": True, "cq03": False, "cq04": True, "cq05": True,
                     "cq06": False})]
    models["analyst-2"] = RecordingChatModel(responses=second)
    result = run(documents, models, settings)
    t = result.transcript
    assert [a.name for a in t.agents] == ["domain_expert", "analyst", "analyst-2",
                                          "ontology_engineer", "critic"]
    scope = {s.cq: s for s in t.scope}
    assert scope["cq01"].required == 5
    assert not scope["cq03"].accepted  # one reject is enough when all five must accept
    assert scope["cq01"].accepted


def test_panel_needs_an_engineer_and_a_critic() -> None:
    with pytest.raises(ValueError, match="critic"):
        DesignSettings(roles=("domain_expert", "ontology_engineer"))
    with pytest.raises(ConfigurationError, match="analyst"):
        build_agents(DesignSettings(), {"domain_expert": RecordingChatModel(responses=["x"])})


def test_cq_file_is_the_format_the_loader_reads(documents: list[Document],
                                                tmp_path: Path) -> None:
    write_design(run(documents), tmp_path)
    raw = yaml.safe_load((tmp_path / "competency_questions.yaml").read_text())
    assert [sorted(item) for item in raw] == [["answer_type", "id", "sparql", "text"]] * 5
    assert raw[0]["sparql"].startswith("PREFIX rail: <https://example.org/rail#>\n")


def test_a_critic_without_a_usable_review_leaves_the_verdict_to_the_checks(
        documents: list[Document]) -> None:
    models = panel_models()
    engineer = models["ontology_engineer"].responses
    models["ontology_engineer"] = RecordingChatModel(responses=[*engineer[:2], engineer[3]])
    models["critic"] = RecordingChatModel(responses=[*models["critic"].responses[:3],
                                                     "LGTM", "LGTM"])
    result = run(documents, models)
    assert result.status == "accepted"
    [only] = result.transcript.reviews
    assert only.critic_approved is None and only.verdict == "accepted"
    assert [q.step for q in result.transcript.quarantine] == ["propose", "review"]
    assert result.transcript.outcome is not None
    assert "no usable review" in result.transcript.outcome.message


def test_bad_votes_are_refused_one_by_one_and_missing_ones_abstain(
        documents: list[Document]) -> None:
    models = panel_models()
    partial = json.dumps({"votes": [
        *json.loads(votes({c: True for c in ("cq01", "cq02", "cq03", "cq04", "cq05")}))["votes"],
        {"cq": "cq09", "accept": True}]})
    analyst = models["analyst"].responses
    models["analyst"] = RecordingChatModel(responses=[*analyst[:2], partial, partial])
    result = run(documents, models)
    t = result.transcript
    mine = {v.cq: v for v in t.votes if v.agent == "analyst"}
    assert mine["cq01"].vote == "accept"
    assert mine["cq06"].vote == "abstain" and "no vote" in mine["cq06"].reason
    [refused] = [q for q in t.quarantine if q.step == "vote"]
    assert '"cq09"' in refused.raw and "unknown-question" in refused.reasons[0]


def test_a_single_word_is_not_a_competency_question(documents: list[Document]) -> None:
    models = panel_models()
    expert = models["domain_expert"].responses
    one_word = questions(("Mission", "Mission"), ("Which stations does each train line serve?",
                                                  "Station"))
    models["domain_expert"] = RecordingChatModel(responses=[one_word, one_word, *expert[1:]])
    result = run(documents, models)
    t = result.transcript
    assert all(p.text != "Mission" for p in t.proposals)
    assert any("not-a-question" in r for q in t.quarantine for r in q.reasons)


def test_later_proposal_rounds_see_the_list_and_merge_into_it(
        documents: list[Document]) -> None:
    settings = SETTINGS.model_copy(update={"roles": ("ontology_engineer", "critic"),
                                           "proposal_rounds": 2})
    no = votes({"cq01": False, "cq02": False, "cq03": False})
    engineer = RecordingChatModel(responses=[
        questions(("Which stations does each train line serve?", "Station")),
        questions(("Which stations does each train line serve", "Station"),
                  ("In which city is each station located?", "City")), no])
    critic = RecordingChatModel(responses=[
        questions(("Which company operates each train line?", "Operator")),
        questions(("Which company currently operates each train line?", "Operator")), no])
    result = run(documents, {"ontology_engineer": engineer, "critic": critic}, settings)
    t = result.transcript
    assert [(p.id, p.round) for p in t.proposals] == [
        ("p001", 1), ("p002", 1), ("p003", 2), ("p004", 2), ("p005", 2)]
    assert [(m.kept, m.merged) for m in t.merges] == [("p001", "p003"), ("p002", "p005")]
    assert [c.id for c in t.candidates] == ["cq01", "cq02", "cq03"]
    second_round_prompt = engineer.seen[1][-1]
    assert "Questions the panel has proposed so far" in second_round_prompt
    assert "cq02: Which company operates each train line?" in second_round_prompt
    assert result.status == "failed"  # and no question was voted in
