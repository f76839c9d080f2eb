"""The demo flow end to end with a scripted chat model: build, hybrid queries, and the
ontology's competency questions run over the built graph (functional verification)."""

from __future__ import annotations

import json
from pathlib import Path

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from rich.console import Console

from flows.demo import demo
from pipeline.settings import Settings
from tests.toy_ontology import TOY_ONTOLOGY
from verikg_cli.render import print_cqs

ONTO = TOY_ONTOLOGY

CQS = """
- id: cq1
  text: Who founded which company?
  sparql: |
    PREFIX t: <https://example.org/toy#>
    SELECT ?c ?p WHERE { ?c t:foundedBy ?p }
  answer_type: Person
- id: cq2
  text: Which companies are based in Paris?
  sparql: |
    PREFIX t: <https://example.org/toy#>
    PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    SELECT ?c WHERE { ?c t:basedIn ?city . ?city rdfs:label ?l .
                      FILTER(LCASE(STR(?l)) = "paris") }
  answer_type: Company
"""


def test_demo_runs_the_competency_questions_over_the_built_graph(tmp_path: Path) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "a.md").write_text("# Acme\n\nAcme Rockets was founded by Ada Byron. "
                                 "Acme Rockets is based in Seattle.", encoding="utf-8")
    onto = tmp_path / "onto"
    onto.mkdir()
    (onto / "ontology.ttl").write_text(ONTO, encoding="utf-8")
    (onto / "competency_questions.yaml").write_text(CQS, encoding="utf-8")
    queries = tmp_path / "queries.yaml"
    queries.write_text("- text: Who founded Acme Rockets?\n", encoding="utf-8")
    reply = json.dumps({"triples": [
        {"subject": "Acme Rockets", "predicate": "founded by", "object": "Ada Byron"},
        {"subject": "Acme Rockets", "predicate": "based in", "object": "Seattle"}]})
    result = demo(str(corpus), str(onto), str(queries),
                  settings=Settings(data_dir=tmp_path / "state", samples=1, max_retries=0,
                                    llm_concurrency=1),
                  chat_model=FakeListChatModel(responses=[reply]))
    assert result.build.new_assertions == 2
    assert [(r.id, r.answered, r.answers) for r in result.cqs.results] == [
        ("cq1", True, 1), ("cq2", False, 0)]
    assert (result.cqs.answered, result.cqs.asked) == (1, 2)
    console = Console(record=True, width=200)
    print_cqs(console, result.cqs)
    text = console.export_text()
    assert "answered by the graph: 1/2 (50%)" in text and "no  cq2" in text
