"""The ontology a store was built with, kept in the store (both backends), and a reading
command pointed at a store that is not there."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import StoreNotFoundError
from pipeline.store import GraphStore, RecordedOntology, SQLiteGraphStore, open_store

FIRST = RecordedOntology(source="@prefix : <https://example.org/a#> .\n", path="/o/a.ttl",
                         sha256="a" * 64)
SECOND = RecordedOntology(source="@prefix : <https://example.org/b#> .\n", path="/o/b.ttl",
                          sha256="b" * 64)


def test_a_new_store_has_no_ontology(store: GraphStore) -> None:
    assert store.ontology_source() is None


def test_recording_keeps_it_and_a_change_is_audited(store: GraphStore) -> None:
    version = store.version()
    assert store.record_ontology(FIRST, actor="build") is True
    assert store.ontology_source() == FIRST
    assert store.record_ontology(FIRST, actor="build") is False  # the same: nothing to say
    assert store.record_ontology(SECOND, actor="ada") is True
    assert store.ontology_source() == SECOND
    entries = store.audit_log(action="record_ontology")
    assert [(e.actor, e.before, e.after) for e in entries] == [
        ("build", "", f"sha256:{'a' * 64} /o/a.ttl"),
        ("ada", f"sha256:{'a' * 64} /o/a.ttl", f"sha256:{'b' * 64} /o/b.ttl")]
    assert store.version() == version  # the graph did not change


def test_reset_forgets_it(store: GraphStore) -> None:
    store.record_ontology(FIRST, actor="build")
    store.reset()
    assert store.ontology_source() is None


def test_a_reading_open_never_creates_a_store(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "kg.sqlite"
    with pytest.raises(StoreNotFoundError, match=r"no VeriKG store at .*typo.*verikg build"):
        open_store(f"sqlite:{missing}", create=False)
    assert not missing.parent.exists()
    other = tmp_path / "notes.sqlite"
    other.write_text("not a database", encoding="utf-8")
    with pytest.raises(StoreNotFoundError, match="not a VeriKG store"):
        open_store(f"sqlite:{other}", create=False)
    assert other.read_text(encoding="utf-8") == "not a database"
    with SQLiteGraphStore(tmp_path / "kg.sqlite"):
        pass  # a build creates it
    with open_store(f"sqlite:{tmp_path / 'kg.sqlite'}", create=False) as st:
        assert st.counts().assertions == 0
