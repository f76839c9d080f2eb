"""Fixtures for the compliance suites: every interface test runs on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from graph_store_fixtures import Sample, build_sample
from pydantic import SecretStr

from pipeline.store import GraphStore, Neo4jGraphStore, SQLiteGraphStore


@pytest.fixture(scope="session")
def neo4j_store(neo4j_uri: str, neo4j_password: SecretStr) -> Iterator[Neo4jGraphStore]:
    store = Neo4jGraphStore(neo4j_uri, user="neo4j", password=neo4j_password,
                            max_retry_time_s=5.0)
    store.open()
    yield store
    store.reset()
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    if request.param == "neo4j":
        shared: Neo4jGraphStore = request.getfixturevalue("neo4j_store")
        shared.reset()  # each test starts from an empty database
        yield shared
        return
    with SQLiteGraphStore(tmp_path / "kg.sqlite") as local:
        yield local


@pytest.fixture()
def sample() -> Sample:
    return build_sample()


@pytest.fixture()
def filled(store: GraphStore, sample: Sample) -> GraphStore:
    store.upsert_documents(sample.documents, sample.chunks)
    store.write_assertions(sample.assertions)
    store.write_quarantine(sample.quarantine)
    return store


