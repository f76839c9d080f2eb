"""KGIndex deltas on a real SQLite store: only new or changed texts are embedded, attribute
changes keep their vectors, removals drop rows, ids stay stable, a delta for another version
is refused, and after any sequence of changes the delta-maintained index equals a fresh
build of the same store."""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.embeddings.base import Embedder
from pipeline.errors import DeltaMismatchError, VectorIndexError
from pipeline.index.kg_index import KGIndex, RefreshResult
from pipeline.models import (
    IRI,
    AddAssertion,
    Assertion,
    AssertionStatus,
    ChunkId,
    DocumentId,
    EntityRef,
    IndexDelta,
    LiteralValue,
    Provenance,
    RemoveAssertion,
    RenameEntity,
    RunId,
    SetStatus,
    Severity,
    Span,
    Triple,
    Violation,
    ViolationReason,
)
from pipeline.store.sqlite import SQLiteGraphStore
from tests.fakes import FakeEmbedder

NS = "https://example.org/space#"


def ent(label: str, cls: str) -> EntityRef:
    return EntityRef.make(label, NS + cls)


def prov(quote: str, chunk: str = "c1") -> Provenance:
    return Provenance(document_id=DocumentId("doc:1"), chunk_id=ChunkId(f"chunk:{chunk}"),
                      span=Span(start=0, end=max(1, len(quote))), quote=quote, model="hand",
                      prompt_version="v1", run_id=RunId("run-test"), attempts=1)


def fact(subject: EntityRef, predicate: str, obj: EntityRef | LiteralValue, quote: str,
         confidence: float = 0.7, chunk: str = "c1") -> Assertion:
    return Assertion.of(Triple(subject=subject, predicate=IRI(NS + predicate), object=obj),
                        confidence=confidence, provenance=(prov(quote, chunk),))


CASSINI, NASA = ent("Cassini mission", "Mission"), ent("NASA", "Organization")
TITAN, SATURN = ent("Titan IV", "Rocket"), ent("Saturn", "Planet")
ESA, HUYGENS = ent("ESA", "Organization"), ent("Huygens probe", "Spacecraft")
OPERATED = fact(CASSINI, "operatedBy", NASA, "The Cassini mission was operated by NASA", 0.9)
LAUNCHED = fact(CASSINI, "launchedOn", TITAN, "Cassini was launched on a Titan IV rocket", 0.8)
ORBITED = fact(CASSINI, "orbited", SATURN, "The probe orbited Saturn", 0.7)
BASE = [OPERATED, LAUNCHED, ORBITED]
PARTNER = fact(CASSINI, "partner", ESA, "in partnership with ESA", 0.6)
CARRIED = fact(CASSINI, "carried", HUYGENS, "Cassini carried the Huygens probe", 0.75)


def apply(store: SQLiteGraphStore, *changes: AddAssertion | RemoveAssertion | RenameEntity
          | SetStatus) -> None:
    store.apply_changes(list(changes), actor="ada", role="admin")


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[SQLiteGraphStore]:
    s = SQLiteGraphStore(tmp_path / "kg.sqlite")
    s.open()
    s.write_assertions(BASE)
    yield s
    s.close()


@pytest.fixture()
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture()
def index(store: SQLiteGraphStore, embedder: FakeEmbedder) -> KGIndex:
    built = KGIndex.build(store, embedder)
    embedder.calls.clear()
    return built


# ---------------------------------------------------------------- comparing with a fresh build


def snapshot(index: KGIndex) -> dict[tuple[str, str], tuple[object, ...]]:
    """Everything the index holds per graph object: row metadata, attributes, vector."""
    assert index.vectors is not None
    ids = index.vectors.ids.tolist()
    cols = {name: index.vectors.column(name).tolist()
            for name in ("kind", "type", "predicate", "confidence", "status", "violations")}
    vecs = index.vectors.vectors
    out: dict[tuple[str, str], tuple[object, ...]] = {}
    for pos, rid in enumerate(ids):
        row = index.row(rid)
        assert row.row == rid and cols["kind"][pos] == row.kind
        out[(row.kind, row.kgid)] = (row.label, row.text, row.type_iri, cols["type"][pos],
                                     cols["predicate"][pos], cols["confidence"][pos],
                                     cols["status"][pos], cols["violations"][pos],
                                     vecs[pos].tobytes())
    assert len(out) == len(ids) == index.size
    return out


FILTERS = [None, "status == 'certified'", "kind == 'entity'", "kind == 'assertion' and "
           "confidence >= 0.65", "type == 'Mission' or predicate == 'orbited'",
           "kind == 'assertion' and violations == 0", "'shacl' in violations",
           "violations >= 2 or 'functional-conflict' in violations"]
QUERIES = ["Which agency operated Cassini?", "a rocket", "Saturn", "probe"]


#: scores of the same texts may differ in the last bits between two indexes: a delta-built
#: index and a fresh one can take different scan paths (int8 rescoring, float32 blocks of
#: another size) — answers are compared with this tolerance, never by rounding
SCORE_TOL = 1e-5


def ranked(index: KGIndex, q: np.ndarray, k: int, where: str | None
           ) -> list[list[tuple[str, str, float]]]:
    return [[(r.kind, r.kgid, float(s)) for r, s in hits]
            for hits in index.search(q, k, where)]


def assert_same_answers(got: KGIndex, want: KGIndex, embedder: Embedder) -> None:
    """Same top-k as a fresh build, scores within ``SCORE_TOL``; rows whose scores are within
    the tolerance of the k-th may be swapped (ties break by row id, ids differ between the
    two indexes, and near-ties by the last bits of the scan)."""
    q = embedder.embed(QUERIES)
    for where in FILTERS:
        for k in (3, max(1, want.size)):
            for a, b in zip(ranked(got, q, k, where), ranked(want, q, k, where), strict=True):
                np.testing.assert_allclose([s for *_, s in a], [s for *_, s in b],
                                           rtol=0, atol=SCORE_TOL, err_msg=str(where))
                if not b:
                    continue
                kth = min(a[-1][2], b[-1][2]) + SCORE_TOL
                assert {x[:2] for x in a if x[2] > kth} == {x[:2] for x in b if x[2] > kth}


def assert_matches_fresh_build(index: KGIndex, store: SQLiteGraphStore,
                               embedder: FakeEmbedder) -> None:
    fresh = KGIndex.build(store, FakeEmbedder(embedder.dim, embedder.model_id))
    assert index.version == fresh.version == store.version()
    assert snapshot(index) == snapshot(fresh)
    assert_same_answers(index, fresh, embedder)
    ids = [r.row for r in index.rows()]
    assert len(set(ids)) == len(ids)


# ---------------------------------------------------------------- deltas from the store


def test_added_assertions_embed_only_their_texts(store: SQLiteGraphStore, index: KGIndex,
                                                 embedder: FakeEmbedder) -> None:
    before = {r.kgid: r.row for r in index.rows()}
    apply(store, AddAssertion(assertion=PARTNER), AddAssertion(assertion=CARRIED))
    assert index.is_stale(store)
    result = index.sync(store)
    assert result.action == "delta" and result.version == store.version() == index.version
    # two assertions and their two new entities; Cassini's row is untouched
    assert (result.added, result.removed, result.updated, result.embedded) == (4, 0, 0, 4)
    assert sorted(embedder.embedded) == sorted(
        [index.find("assertion", PARTNER.id).text,  # type: ignore[union-attr]
         index.find("assertion", CARRIED.id).text,  # type: ignore[union-attr]
         "ESA (organization)", "Huygens probe (spacecraft)"])
    assert index.last_embedded == 4
    # old rows keep their ids; new rows get fresh ones
    assert all(index.find(r.kind, kgid).row == rid  # type: ignore[union-attr]
               for kgid, rid in before.items() for r in [index.row(rid)])
    new_ids = {index.find("assertion", PARTNER.id).row,  # type: ignore[union-attr]
               index.find("assertion", CARRIED.id).row}  # type: ignore[union-attr]
    assert new_ids.isdisjoint(before.values())
    assert not index.is_stale(store)
    assert_matches_fresh_build(index, store, embedder)


def test_certify_embeds_nothing_and_the_status_filter_finds_it(
        store: SQLiteGraphStore, index: KGIndex, embedder: FakeEmbedder) -> None:
    q = embedder.embed(["Cassini"])
    assert index.search(q, 10, "status == 'certified'") == [[]]
    embedder.calls.clear()
    store.apply_changes([SetStatus(assertion_id=LAUNCHED.id,
                                   status=AssertionStatus.CERTIFIED)],
                        actor="ada", role="certifier")
    row_before = index.find("assertion", LAUNCHED.id)
    result = index.sync(store)
    assert (result.action, result.updated, result.reembedded, result.embedded) == (
        "delta", 1, 0, 0)
    assert embedder.calls == [] and index.last_embedded == 0
    hits = index.search(q, 10, "status == 'certified'")[0]
    assert [(r.kind, r.kgid) for r, _ in hits] == [("assertion", LAUNCHED.id)]
    assert hits[0][0].row == row_before.row  # type: ignore[union-attr]
    # a new confidence is an attribute change too
    store.write_assertions([LAUNCHED.model_copy(update={"confidence": 0.3})])
    result = index.sync(store)
    assert (result.updated, result.embedded) == (1, 0)
    assert index.search(q, 10, "confidence < 0.5")[0][0][0].kgid == LAUNCHED.id
    assert_matches_fresh_build(index, store, embedder)


SHACL = Violation(reason=ViolationReason.SHACL_VIOLATION, check="shacl", detail="sh:class",
                  severity=Severity.SOFT)
RANGE = Violation(reason=ViolationReason.RANGE_MISMATCH, check="types-fit-domain-range",
                  detail="not a Rocket", severity=Severity.SOFT)
CONFLICT = Violation(reason=ViolationReason.FUNCTIONAL_CONFLICT, check="functional-conflict",
                     detail="two operators", severity=Severity.SOFT)
ISLAND = Violation(reason=ViolationReason.ISOLATED_ISLAND, check="isolated-islands",
                   detail="alone", severity=Severity.INFO)


def test_new_violations_are_an_attribute_change_and_the_filters_find_them(
        store: SQLiteGraphStore, index: KGIndex, embedder: FakeEmbedder) -> None:
    q = embedder.embed(["Cassini"])

    def found(where: str) -> set[str]:
        return {r.kgid for r, _ in index.search(q, 20, where)[0]}

    assertions = {OPERATED.id, LAUNCHED.id, ORBITED.id}
    assert found("violations == 0") == assertions | {e.id for e in (CASSINI, NASA, TITAN,
                                                                      SATURN)}
    assert found("'shacl' in violations") == set()
    row = index.find("assertion", LAUNCHED.id)
    embedder.calls.clear()
    store.write_assertions([LAUNCHED.model_copy(update={"violations": (RANGE, SHACL)}),
                            ORBITED.model_copy(update={"violations": (ISLAND,)})])
    result = index.sync(store)
    # one row's attributes changed; nothing embedded; an informational note is not a flag
    assert (result.action, result.updated, result.reembedded, result.embedded) == (
        "delta", 1, 0, 0)
    assert embedder.calls == [] and index.find("assertion", LAUNCHED.id) == row
    assert found("'shacl' in violations") == {LAUNCHED.id}
    assert found("'types-fit-domain-range' in violations") == {LAUNCHED.id}
    assert found("violations == 2 and kind == 'assertion'") == {LAUNCHED.id}
    assert found("kind == 'assertion' and violations == 0") == assertions - {LAUNCHED.id}
    assert found("'isolated-islands' in violations") == set()
    assert found("'shacl' not in violations and kind == 'assertion'") == assertions - {
        LAUNCHED.id}
    assert_matches_fresh_build(index, store, embedder)
    # the newest write replaces them: another check, then none
    store.write_assertions([LAUNCHED.model_copy(update={"violations": (CONFLICT,)})])
    assert (index.sync(store).updated, index.last_embedded) == (1, 0)
    assert found("'shacl' in violations") == set()
    assert found("'functional-conflict' in violations") == {LAUNCHED.id}
    assert_matches_fresh_build(index, store, embedder)
    store.write_assertions([LAUNCHED])
    assert (index.sync(store).updated, index.last_embedded) == (1, 0)
    assert found("violations > 0") == set()
    assert_matches_fresh_build(index, store, embedder)


def test_a_merged_add_brings_its_violations_as_a_kgcl_delta(
        store: SQLiteGraphStore, index: KGIndex, embedder: FakeEmbedder) -> None:
    flagged = OPERATED.model_copy(update={"violations": (CONFLICT,)})
    applied, result = index.apply_store_changes(store, [AddAssertion(assertion=flagged)],
                                                actor="ada", role="admin")
    assert applied == 1 and (result.action, result.updated, result.embedded) == ("delta", 1, 0)
    q = embedder.embed(["NASA"])
    hits = index.search(q, 5, "'functional-conflict' in violations")[0]
    assert [r.kgid for r, _ in hits] == [OPERATED.id]
    assert_matches_fresh_build(index, store, embedder)


def test_removed_assertion_is_gone_from_results(store: SQLiteGraphStore, index: KGIndex,
                                                embedder: FakeEmbedder) -> None:
    gone = index.find("assertion", ORBITED.id)
    assert gone is not None
    apply(store, RemoveAssertion(assertion_id=ORBITED.id))
    result = index.sync(store)
    assert (result.removed, result.added, result.embedded) == (1, 0, 0)
    assert index.find("assertion", ORBITED.id) is None
    q = embedder.embed(["The probe orbited Saturn", "Saturn"])
    for hits in index.search(q, index.size + 5):
        assert ORBITED.id not in {r.kgid for r, _ in hits}
        assert len(hits) == index.size
    with pytest.raises(KeyError):
        index.row(gone.row)
    # the id is retired: adding the assertion back gives it a fresh id, and its vector
    # is embedded again only because the index no longer holds that text
    apply(store, AddAssertion(assertion=ORBITED))
    index.sync(store)
    back = index.find("assertion", ORBITED.id)
    assert back is not None and back.row > gone.row
    assert_matches_fresh_build(index, store, embedder)


def test_rename_reembeds_the_entity_and_the_assertions_that_mention_it(
        store: SQLiteGraphStore, index: KGIndex, embedder: FakeEmbedder) -> None:
    apply(store, RenameEntity(entity_id=NASA.id, new_label="National Aeronautics and Space "
                                                            "Administration"))
    result = index.sync(store)
    assert (result.updated, result.reembedded, result.embedded) == (2, 2, 2)
    assert index.find("entity", NASA.id).label.startswith("National")  # type: ignore[union-attr]
    assert_matches_fresh_build(index, store, embedder)


def test_an_unchanged_store_is_a_no_op(store: SQLiteGraphStore, index: KGIndex,
                                       embedder: FakeEmbedder) -> None:
    result = index.sync(store)
    assert result == RefreshResult("none", store.version()) and not result
    assert index.refresh(store) is False and embedder.calls == []
    # a write that changes nothing the index shows (a document) moves only the version
    from pipeline.models import Chunk, Document

    doc = Document.from_text("Unrelated text.", source="x.md", title="x")
    store.upsert_documents([doc], [Chunk.make(doc, 0, 0, len(doc.text))])
    assert index.is_stale(store)
    assert index.refresh(store) is True
    last = index.last_refresh
    assert last is not None and last.action == "delta"
    assert (last.added, last.removed, last.updated, last.embedded) == (0, 0, 0, 0)
    assert not index.is_stale(store)


# ---------------------------------------------------------------- apply_delta directly


def test_apply_delta_upserts_and_removes(store: SQLiteGraphStore, index: KGIndex,
                                         embedder: FakeEmbedder) -> None:
    certified = OPERATED.model_copy(update={"status": AssertionStatus.CERTIFIED})
    delta = IndexDelta(base_version=index.version,  # type: ignore[arg-type]
                       upserted_assertions=[certified, PARTNER],
                       removed_assertion_ids=[ORBITED.id], upserted_entities=[ESA])
    result = index.apply_delta(delta, index.version + 3)  # type: ignore[operator]
    assert (result.added, result.removed, result.updated, result.reembedded,
            result.embedded) == (2, 1, 1, 0, 2)
    assert index.version == store.version() + 3
    assert index.find("assertion", ORBITED.id) is None
    q = embedder.embed(["anything"])
    assert [r.kgid for r, _ in index.search(q, 5, "status == 'certified'")[0]] == [OPERATED.id]
    # removing what the index does not hold is a no-op; an unchanged upsert too
    again = IndexDelta(base_version=index.version,  # type: ignore[arg-type]
                       removed_assertion_ids=[ORBITED.id], upserted_assertions=[PARTNER])
    result = index.apply_delta(again, index.version)  # type: ignore[arg-type]
    assert (result.added, result.removed, result.updated, result.embedded) == (0, 0, 0, 0)


def test_a_delta_for_another_version_is_refused(store: SQLiteGraphStore, index: KGIndex,
                                                embedder: FakeEmbedder) -> None:
    v = index.version
    assert v is not None
    before = snapshot(index)
    for base in (v - 1, v + 1):
        with pytest.raises(DeltaMismatchError, match="refresh the index"):
            index.apply_delta(IndexDelta(base_version=base, upserted_assertions=[PARTNER]),
                              v + 2)
    with pytest.raises(DeltaMismatchError, match="only grow"):
        index.apply_delta(IndexDelta(base_version=v, upserted_assertions=[PARTNER]), v - 1)
    assert index.version == v and snapshot(index) == before and embedder.calls == []
    # a delta computed, then overtaken by a write the index took in first, no longer fits
    apply(store, AddAssertion(assertion=PARTNER))
    delta, version = index.diff(store)
    apply(store, RemoveAssertion(assertion_id=ORBITED.id))
    index.sync(store)
    with pytest.raises(DeltaMismatchError):
        index.apply_delta(delta, version)
    assert_matches_fresh_build(index, store, embedder)


def test_a_delta_cannot_both_upsert_and_remove() -> None:
    with pytest.raises(ValueError, match="both upserts and removes"):
        IndexDelta(base_version=1, upserted_assertions=[PARTNER],
                   removed_assertion_ids=[PARTNER.id])
    with pytest.raises(ValueError, match="twice"):
        IndexDelta(base_version=1, upserted_assertions=[PARTNER, PARTNER])


def test_a_failing_embedder_leaves_the_index_untouched(store: SQLiteGraphStore,
                                                       index: KGIndex) -> None:
    before, version = snapshot(index), index.version
    index.embedder = FakeEmbedder(fail=True)
    apply(store, AddAssertion(assertion=PARTNER), SetStatus(
        assertion_id=OPERATED.id, status=AssertionStatus.CERTIFIED))
    with pytest.raises(RuntimeError):
        index.sync(store)
    assert snapshot(index) == before and index.version == version and index.is_stale(store)


# ---------------------------------------------------------------- rebuilds and KGCL deltas


def test_another_store_or_model_rebuilds(tmp_path: Path, store: SQLiteGraphStore,
                                         index: KGIndex, embedder: FakeEmbedder) -> None:
    other = SQLiteGraphStore(tmp_path / "other.sqlite")
    other.open()
    try:
        other.write_assertions([PARTNER])
        result = index.sync(other)
        assert result.action == "rebuild" and "another store" in result.reason
        assert {r.kgid for r in index.rows()} == {PARTNER.id, CASSINI.id, ESA.id}
        assert index.store_descriptor == other.descriptor
    finally:
        other.close()
    index.sync(store)
    new_model = FakeEmbedder(model="hash-v2")
    result = index.sync(store, embedder=new_model)
    assert result.action == "rebuild" and "model" in result.reason
    assert index.model_id == "hash-v2" and result.embedded == index.size
    assert_matches_fresh_build(index, store, new_model)


def test_store_changes_arrive_as_a_delta(store: SQLiteGraphStore, index: KGIndex,
                                         embedder: FakeEmbedder) -> None:
    retyped = fact(ent("NASA", "SpaceAgency"), "funded", CASSINI, "NASA funded Cassini")
    changes: list[AddAssertion | RemoveAssertion | RenameEntity | SetStatus] = [
        AddAssertion(assertion=PARTNER), AddAssertion(assertion=retyped),
        RenameEntity(entity_id=SATURN.id, new_label="Saturn (planet)"),
        SetStatus(assertion_id=LAUNCHED.id, status=AssertionStatus.CERTIFIED),
        RemoveAssertion(assertion_id=OPERATED.id)]
    applied, result = index.apply_store_changes(store, changes, actor="ada", role="admin")
    assert applied == 5 and result.action == "delta"
    # new: PARTNER, retyped, ESA; changed text: Saturn, ORBITED (mentions it), NASA (class);
    # changed attributes only: LAUNCHED (status); removed: OPERATED
    assert (result.added, result.removed, result.updated, result.reembedded) == (3, 1, 4, 3)
    assert result.embedded == 6
    assert_matches_fresh_build(index, store, embedder)
    # an index that was stale before falls back to a diff of the whole store
    apply(store, RemoveAssertion(assertion_id=PARTNER.id))
    _, result = index.apply_store_changes(
        store, [SetStatus(assertion_id=ORBITED.id, status=AssertionStatus.CONTESTED)],
        actor="ada", role="admin")
    assert result.action == "delta" and result.removed == 1 and result.updated == 1
    assert_matches_fresh_build(index, store, embedder)


# ---------------------------------------------------------------- persistence


def test_save_and_load_keep_ids_and_version(tmp_path: Path, store: SQLiteGraphStore,
                                            index: KGIndex, embedder: FakeEmbedder) -> None:
    apply(store, RemoveAssertion(assertion_id=ORBITED.id), AddAssertion(assertion=PARTNER))
    index.sync(store)
    index.save(tmp_path / "ix")
    loaded = KGIndex.load(tmp_path / "ix", embedder)
    assert loaded.version == index.version and not loaded.is_stale(store)
    assert loaded.rows() == index.rows() and snapshot(loaded) == snapshot(index)
    # new rows continue after the saved next id: a retired id is never handed out again
    apply(store, AddAssertion(assertion=CARRIED))
    loaded.sync(store)
    assert loaded.find("assertion", CARRIED.id).row >= index._next_row  # type: ignore[union-attr]
    assert_matches_fresh_build(loaded, store, embedder)


def test_a_format_1_index_still_loads_and_takes_deltas(
        tmp_path: Path, store: SQLiteGraphStore, index: KGIndex,
        embedder: FakeEmbedder) -> None:
    index.save(tmp_path / "ix")
    manifest_path = tmp_path / "ix" / "kg_index.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    # what the previous release wrote: rows by position, no ids, no next_row
    old = {"format": 1, "version": manifest["version"], "model_id": manifest["model_id"],
           "store": manifest["store"], "rows": [r[1:] for r in manifest["rows"]]}
    manifest_path.write_text(json.dumps(old), encoding="utf-8")
    loaded = KGIndex.load(tmp_path / "ix", embedder)
    assert loaded.rows() == index.rows() and not loaded.is_stale(store)
    apply(store, AddAssertion(assertion=PARTNER))
    assert loaded.sync(store).action == "delta"
    assert_matches_fresh_build(loaded, store, embedder)
    manifest_path.write_text(json.dumps({**old, "format": 7}), encoding="utf-8")
    with pytest.raises(VectorIndexError, match="format 7"):
        KGIndex.load(tmp_path / "ix")


def test_an_index_saved_before_the_violations_column_loads_with_it(
        tmp_path: Path, store: SQLiteGraphStore, index: KGIndex,
        embedder: FakeEmbedder) -> None:
    index.save(tmp_path / "ix")
    vectors_manifest = tmp_path / "ix" / "vectors" / "index.json"
    manifest = json.loads(vectors_manifest.read_text(encoding="utf-8"))
    del manifest["columns"]["violations"]  # what the previous release saved
    vectors_manifest.write_text(json.dumps(manifest), encoding="utf-8")
    loaded = KGIndex.load(tmp_path / "ix", embedder)
    assert loaded.rows() == index.rows() and snapshot(loaded) == snapshot(index)
    assert not loaded.is_stale(store) and embedder.calls == []
    q = embedder.embed(["Cassini"])
    assert len(loaded.search(q, 20, "violations == 0")[0]) == index.size
    store.write_assertions([ORBITED.model_copy(update={"violations": (SHACL,)})])
    assert loaded.sync(store).action == "delta" and loaded.last_embedded == 0
    assert [r.kgid for r, _ in loaded.search(q, 20, "'shacl' in violations")[0]] == [
        ORBITED.id]
    assert_matches_fresh_build(loaded, store, embedder)


# ---------------------------------------------------------------- any sequence of changes

ENTITIES = [CASSINI, NASA, TITAN, SATURN, ESA, HUYGENS, ent("Voyager 2", "Spacecraft"),
            ent("JPL", "Organization"), ent("Neptune", "Planet")]
CLASSES = ["Mission", "Organization", "Rocket", "Planet", "Spacecraft", "SpaceAgency"]
PREDICATES = ["operatedBy", "launchedOn", "orbited", "partner", "visited", "builtBy"]
STATUSES = [AssertionStatus.DRAFT, AssertionStatus.CERTIFIED, AssertionStatus.CONTESTED,
            AssertionStatus.QUARANTINED]
OPS = ["add", "add", "write", "remove", "status", "status", "rename", "retype", "sync",
       "sync", "reload", "document", "reset"]


def random_fact(rng: random.Random) -> Assertion:
    s = rng.choice(ENTITIES)
    o: EntityRef | LiteralValue = (
        LiteralValue(value=str(rng.randint(1950, 2030)),
                     datatype=IRI("http://www.w3.org/2001/XMLSchema#gYear"))
        if rng.random() < 0.2 else rng.choice([e for e in ENTITIES if e.id != s.id]))
    quote = rng.choice(["", "as the record shows", f"source line {rng.randint(0, 5)}"])
    return fact(s, rng.choice(PREDICATES), o, quote, round(rng.uniform(0.1, 1.0), 3),
                chunk=f"c{rng.randint(0, 3)}")


def run_random_changes(ops: list[tuple[str, int, bool]], tmp: Path) -> None:
    embedder = FakeEmbedder(dim=16)
    store = SQLiteGraphStore(":memory:")
    store.open()
    try:
        store.write_assertions(BASE)
        index = KGIndex.build(store, embedder)
        for op, seed, through_index in ops:
            rng = random.Random(seed)
            held = store.assertions()
            change: AddAssertion | RemoveAssertion | RenameEntity | SetStatus | None = None
            if op == "add":
                change = AddAssertion(assertion=random_fact(rng))
            elif op == "remove" and held:
                change = RemoveAssertion(assertion_id=rng.choice(held).id)
            elif op == "status" and held:
                change = SetStatus(assertion_id=rng.choice(held).id,
                                   status=rng.choice(STATUSES))
            elif op == "rename":
                entities = store.entities()
                if entities:
                    change = RenameEntity(entity_id=rng.choice(entities).id,
                                          new_label=f"{rng.choice(ENTITIES).label} "
                                                    f"{rng.choice(['', 'II', 'prime'])}".strip())
            elif op == "write" and held:
                # the pipeline path: a new confidence and maybe a new quote (a new text)
                old = rng.choice(held)
                extra = (prov(f"new quote {seed % 7}", f"c{seed % 5}"),) \
                    if rng.random() < 0.5 else ()
                # and the graph check's verdict: new soft violations, or none
                flags = tuple(rng.sample([SHACL, RANGE, CONFLICT, ISLAND], rng.randint(0, 2)))
                store.write_assertions([old.model_copy(update={
                    "confidence": round(rng.uniform(0.1, 1.0), 3),
                    "provenance": old.provenance + extra, "status": AssertionStatus.DRAFT,
                    "violations": flags})])
            elif op == "retype" and held:
                old = rng.choice(held)
                subject = old.triple.subject.model_copy(
                    update={"type_iri": IRI(NS + rng.choice(CLASSES))})
                change = AddAssertion(assertion=fact(subject, rng.choice(PREDICATES),
                                                     rng.choice(ENTITIES), "retyped"))
            elif op == "sync":
                index.sync(store)
            elif op == "reload":
                index.save(tmp / "ix")
                index = KGIndex.load(tmp / "ix", embedder)
            elif op == "document":
                from pipeline.models import Chunk, Document

                doc = Document.from_text(f"Document {seed}.", source=f"{seed}.md", title="d")
                store.upsert_documents([doc], [Chunk.make(doc, 0, 0, len(doc.text))])
            elif op == "reset" and rng.random() < 0.3:
                store.reset()
            if change is not None:
                if through_index:
                    index.apply_store_changes(store, [change], actor="ada", role="admin")
                else:
                    apply(store, change)
            if index.version == store.version():
                # never silently stale: an index that claims the store's version is exact
                assert_matches_fresh_build(index, store, embedder)
        embedder.calls.clear()
        result = index.sync(store)
        # a delta embeds at most the rows it added or re-texted, and says what it embedded
        assert len(embedder.embedded) == result.embedded == index.last_embedded
        assert result.embedded <= result.added + result.reembedded
        assert_matches_fresh_build(index, store, embedder)
        assert index.sync(store).action == "none"
    finally:
        store.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 10**6), st.booleans()),
                max_size=30))
def test_any_sequence_of_changes_matches_a_fresh_build(
        ops: list[tuple[str, int, bool]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run_random_changes(ops, Path(tmp))


@pytest.mark.parametrize("seed", range(5))
def test_long_seeded_sequences_match_a_fresh_build(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    ops = [(rng.choice(OPS), rng.randint(0, 10**6), rng.random() < 0.5) for _ in range(120)]
    run_random_changes(ops, tmp_path)
