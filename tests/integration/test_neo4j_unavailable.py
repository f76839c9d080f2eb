"""Neo4j that is not there, or goes away mid-run, surfaces as StoreUnavailableError.

The error is retryable and says where and what to do; no raw driver exception escapes, and a
write that could not reach the server leaves nothing behind. The second test runs its own
throwaway Neo4j (started and stopped by PID through launch.sh), never the session's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import neo4j.exceptions
import pytest
from pydantic import SecretStr

from pipeline.errors import RetryableError, StoreError, StoreUnavailableError
from pipeline.models import (
    IRI,
    Assertion,
    Chunk,
    Document,
    EntityRef,
    Provenance,
    RunId,
    Span,
    Triple,
)
from pipeline.settings import Settings
from pipeline.store import GraphStore, Neo4jGraphStore, open_store

EX = "http://example.org/onto#"


def _batch(names: list[str], doc: Document, chunk: Chunk) -> list[Assertion]:
    """One ``knows`` assertion per name, each with provenance in ``chunk``."""
    hub = EntityRef.make("Hub", EX + "Person")
    out = []
    for name in names:
        start = doc.text.index(name)
        prov = Provenance(document_id=doc.id, chunk_id=chunk.id,
                          span=Span(start=start, end=start + len(name)), quote=name,
                          model="fake-llm", prompt_version="v1", run_id=RunId("run-1"),
                          attempts=1)
        triple = Triple(subject=hub, predicate=IRI(EX + "knows"),
                        object=EntityRef.make(name, EX + "Person"))
        out.append(Assertion.of(triple, confidence=0.5, provenance=(prov,)))
    return out


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process; a zombie awaiting its reaper counts as gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def _observable(store: GraphStore) -> tuple[object, ...]:
    return (store.counts(), store.assertions(), store.entities(), store.audit_log(),
            store.version())


def test_a_closed_port_is_unavailable_with_a_clear_message(neo4j_launcher: Any) -> None:
    port = neo4j_launcher.free_port()
    uri = f"bolt://127.0.0.1:{port}"
    store = Neo4jGraphStore(uri, user="neo4j", password=SecretStr("not-the-password"),
                            connection_timeout_s=3.0)
    with pytest.raises(StoreUnavailableError) as info:
        store.open()
    message = str(info.value)
    assert uri in message and "unavailable" in message
    assert "launch.sh" in message and "VERIKG_STORE" in message  # what to do next
    assert isinstance(info.value, RetryableError)
    assert isinstance(info.value.__cause__, neo4j.exceptions.ServiceUnavailable)
    with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{port}"):
        open_store(uri, Settings(neo4j_password=SecretStr("not-the-password")))


@pytest.mark.neo4j
def test_wrong_credentials_are_a_store_error_not_unavailability(neo4j_uri: str) -> None:
    store = Neo4jGraphStore(neo4j_uri, user="neo4j", password=SecretStr("wrong-password"))
    with pytest.raises(StoreError, match="VERIKG_NEO4J_PASSWORD") as info:
        store.open()
    assert not isinstance(info.value, StoreUnavailableError)
    assert isinstance(info.value.__cause__, neo4j.exceptions.AuthError)


@pytest.mark.neo4j
@pytest.mark.slow
def test_a_store_that_goes_away_mid_run(tmp_path: Path, neo4j_launcher: Any) -> None:
    home = tmp_path / "neo4j-throwaway"
    server = neo4j_launcher.start(home)
    store = Neo4jGraphStore(server.uri, user="neo4j", password=server.password,
                            max_retry_time_s=3.0, connection_timeout_s=3.0)
    try:
        store.open()
        doc = Document.from_text("Hub knows Ann, Bob, Cy, Di and Ed.", source="hub.txt")
        chunk = Chunk.make(doc, 0, 0, len(doc.text))
        store.upsert_documents([doc], [chunk])
        assert store.write_assertions(_batch(["Ann", "Bob", "Cy"], doc, chunk)).created == 3
        first = _observable(store)

        pid = neo4j_launcher.pid(home)
        assert pid is not None
        neo4j_launcher.stop(home)
        assert not _running(pid)

        with pytest.raises(StoreUnavailableError) as info:
            store.write_assertions(_batch(["Di", "Ed"], doc, chunk))
        assert server.uri in str(info.value) and "Nothing was committed" in str(info.value)
        assert isinstance(info.value.__cause__, neo4j.exceptions.DriverError)
        with pytest.raises(StoreUnavailableError):
            store.counts()

        neo4j_launcher.start(home, port=server.port,
                             password=server.password.get_secret_value())
        # the same store object reconnects; the first batch is intact, the second absent
        assert _observable(store) == first
        assert store.write_assertions(_batch(["Di", "Ed"], doc, chunk)).created == 2
        assert store.counts().assertions == 5
    finally:
        store.close()
        neo4j_launcher.stop(home)
