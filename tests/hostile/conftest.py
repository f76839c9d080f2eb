"""Fixtures for the hostile-input corpus: the toy ontology and chunk the LLM cases run on,
stores of both backends holding a sentinel graph, and a closing line with the case count.

The sentinel graph is the compliance suite's sample (``tests/compliance/graph_store_fixtures``,
named uniquely for ``sys.path``): a hostile input must leave every part of it as it was.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compliance"))

from graph_store_fixtures import Sample, build_sample  # noqa: E402
from hostile_corpus import TEXT, TOY_TTL, total  # noqa: E402

from pipeline.models import Chunk, Document, Ontology  # noqa: E402
from pipeline.ontology import load_ontology  # noqa: E402
from pipeline.store import GraphStore, Neo4jGraphStore, SQLiteGraphStore  # noqa: E402


@pytest.fixture(scope="session")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Ontology:
    path = tmp_path_factory.mktemp("toy") / "toy.ttl"
    path.write_text(TOY_TTL, encoding="utf-8")
    return load_ontology(path)


@pytest.fixture()
def toy_chunk() -> Chunk:
    doc = Document.from_text("# Acme\n\n" + TEXT, source="acme.md", title="Acme")
    start = doc.text.index("Acme Rockets")
    return Chunk.make(doc, 0, start, len(doc.text))


@pytest.fixture(scope="session")
def hostile_neo4j(neo4j_uri: str, neo4j_password: SecretStr) -> Iterator[Neo4jGraphStore]:
    store = Neo4jGraphStore(neo4j_uri, user="neo4j", password=neo4j_password,
                            max_retry_time_s=5.0)
    store.open()
    yield store
    store.reset()
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """An empty store of each backend (the shared Neo4j is reset for every test)."""
    if request.param == "neo4j":
        shared: Neo4jGraphStore = request.getfixturevalue("hostile_neo4j")
        shared.reset()
        yield shared
        return
    with SQLiteGraphStore(tmp_path / "kg.sqlite") as local:
        yield local


@pytest.fixture()
def sample() -> Sample:
    return build_sample()


@pytest.fixture()
def sentinel(backend: GraphStore, sample: Sample) -> GraphStore:
    """A store holding the sample graph, which every hostile input must leave intact."""
    backend.upsert_documents(sample.documents, sample.chunks)
    backend.write_assertions(sample.assertions)
    backend.write_quarantine(sample.quarantine)
    return backend


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts = total()
    terminalreporter.write_sep("-", "hostile-input corpus (tests/hostile)")
    terminalreporter.write_line(
        f"{sum(counts.values())} cases: " + ", ".join(
            f"{name.removesuffix('.jsonl')} {n}" for name, n in counts.items()))
