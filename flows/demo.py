"""The demo: build the sample knowledge graph, then answer the sample hybrid queries."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.build_kg import BuildReport, ProgressFn, build_kg
from flows.query import QueryAnswer, answer_queries, load_queries
from pipeline.models import Frozen
from pipeline.settings import Settings


class DemoResult(Frozen):
    build: BuildReport
    answers: tuple[QueryAnswer, ...]


@flow(name="demo")
def demo(corpus: str = "data/sample", ontology: str = "ontologies/space",
         queries: str = "data/sample/queries.yaml", settings: Settings | None = None,
         progress: ProgressFn | None = None) -> DemoResult:
    """Build the graph from ``corpus`` and answer the queries in ``queries``."""
    settings = settings or Settings()
    report = build_kg(corpus, ontology, settings=settings, progress=progress)
    answers = answer_queries(load_queries(Path(queries)), settings, Path(ontology))
    return DemoResult(build=report, answers=tuple(answers))
