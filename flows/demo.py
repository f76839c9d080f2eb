"""The demo: build the sample knowledge graph, answer the sample hybrid queries, and run the
domain's competency questions over the graph (functional verification: which CQs it answers)."""

from __future__ import annotations

from pathlib import Path

from langchain_core.language_models import BaseChatModel
from prefect import flow

from flows.build_kg import build_kg
from flows.clients import make_store
from flows.query import QueryAnswer, answer_queries, load_queries
from pipeline.build import ProgressFn
from pipeline.models import BuildReport, Frozen
from pipeline.ontology import load_ontology
from pipeline.ontology.checks.cqs import CQRun, run_cqs
from pipeline.settings import Settings


class DemoResult(Frozen):
    build: BuildReport
    answers: tuple[QueryAnswer, ...]
    #: the ontology's competency questions run over the built graph
    cqs: CQRun


@flow(name="demo")
def demo(corpus: str = "data/sample", ontology: str = "ontologies/space",
         queries: str = "data/sample/queries.yaml", settings: Settings | None = None,
         progress: ProgressFn | None = None,
         chat_model: BaseChatModel | None = None) -> DemoResult:
    """Build the graph from ``corpus``, answer the queries in ``queries`` and run the
    ontology's competency questions over the graph."""
    settings = settings or Settings()
    report = build_kg(corpus, ontology, settings=settings, progress=progress,
                      chat_model=chat_model)
    answers = answer_queries(load_queries(Path(queries)), settings, Path(ontology))
    with make_store(settings) as store:
        cqs = run_cqs(store, load_ontology(Path(ontology)).competency_questions)
    return DemoResult(build=report, answers=tuple(answers), cqs=cqs)
