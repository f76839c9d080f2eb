"""The spans that support a statement's subject and object, and how each was grounded, on every
backend: ``Provenance.subject_text``/``object_text`` (exactly as the document writes them) and
``subject_grounding``/``object_grounding`` survive every write and every read, read as empty
where a source has none (or a store was written before they were kept), take no part in the
(chunk, model, prompt version) merge (a rerun adds and rewrites nothing), and stay out of the
audit's before/after states. ``corroboration`` (which the confidence model weighs) is kept the
same way and reads as 1.0 where it was never stored."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.models import (
    IRI,
    AddAssertion,
    Assertion,
    AssertionStatus,
    Chunk,
    Document,
    LiteralValue,
    Provenance,
    RemoveAssertion,
    SetStatus,
    Severity,
    Violation,
    ViolationReason,
)
from pipeline.store import GraphStore, Neo4jGraphStore, SQLiteGraphStore, canonical, rules
from tests.compliance.graph_store_fixtures import (
    EX,
    INJECTIONS,
    Sample,
    assertion,
    provenance,
    snapshot,
)

XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"
FIELDS = ("subject_text", "object_text", "subject_grounding", "object_grounding")
SHACL = Violation(reason=ViolationReason.SHACL_VIOLATION, check="shacl",
                  detail="Engine Company is not a sh:class ex:Organization",
                  severity=Severity.SOFT)


def grounded(p: Provenance, subject_text: str, object_text: str, subject_how: str = "exact",
             object_how: str = "exact") -> Provenance:
    return p.model_copy(update={"subject_text": subject_text, "object_text": object_text,
                                "subject_grounding": subject_how,
                                "object_grounding": object_how})


def with_provenance(a: Assertion, *prov: Provenance, **update: object) -> Assertion:
    return canonical(a.model_copy(update={"provenance": prov, **update}))


def spans(sample: Sample) -> list[Assertion]:
    """The sample with supporting spans: both sources of ``works`` grounded differently, one
    of ``located`` left without (as a scorer that found nothing leaves it), a literal grounded
    as a number, and ``works`` flagged so ``flagged()`` returns it."""
    w1, w2 = sample.works.provenance
    works = with_provenance(
        sample.works, grounded(w1, "Ada Lovelace", "the Engine Company"),
        grounded(w2, "Ada Lovelace", "Engine Company", object_how="inflected"),
        violations=(SHACL,))
    founded = with_provenance(sample.founded, grounded(
        sample.founded.provenance[0], "", "1834", subject_how="", object_how="number"))
    return sorted([works, sample.located, sample.babbage_works, founded], key=lambda a: a.id)


def _empty(p: Provenance) -> bool:
    return all(getattr(p, f) == "" for f in FIELDS)


# --------------------------------------------------------------------------- round trips


def test_supporting_spans_round_trip_through_every_read(store: GraphStore,
                                                        sample: Sample) -> None:
    written = spans(sample)
    store.upsert_documents(sample.documents, sample.chunks)
    assert store.write_assertions(written).created == 4
    works = next(a for a in written if a.id == sample.works.id)
    assert store.assertions() == written
    assert store.assertions(status=AssertionStatus.DRAFT) == written
    for a in written:
        assert store.get_assertion(a.id) == a
    assert store.neighbours(sample.company.id) == written
    assert store.neighbours(sample.people[0].id) == [works]
    assert store.flagged() == [works] and store.flagged("shacl") == [works]
    got = store.get_assertion(sample.works.id)
    assert got is not None
    assert {(p.subject_text, p.object_text, p.object_grounding) for p in got.provenance} == {
        ("Ada Lovelace", "the Engine Company", "exact"),
        ("Ada Lovelace", "Engine Company", "inflected")}
    founded = store.get_assertion(sample.founded.id)
    assert founded is not None
    assert [(p.subject_text, p.object_text, p.subject_grounding, p.object_grounding)
            for p in founded.provenance] == [("", "1834", "", "number")]
    # a status change keeps them
    store.apply_changes([SetStatus(assertion_id=works.id, status=AssertionStatus.CERTIFIED)],
                        actor="carol", role="certifier")
    certified = store.assertions(status=AssertionStatus.CERTIFIED)
    assert [a.provenance for a in certified] == [works.provenance]


def test_a_date_keeps_the_documents_own_spelling(store: GraphStore, sample: Sample) -> None:
    doc = Document.from_text("Charles Babbage was born on August 16th, 1920.",
                             source="data/born.md", title="Born")
    chunk = Chunk.make(doc, 0, 0, len(doc.text))
    date = LiteralValue(value="1920-08-16", datatype=IRI(XSD_DATE))
    born = assertion(sample.people[1], EX + "birthDate", date,
                     grounded(provenance(doc, chunk, doc.text), "Charles Babbage",
                              "August 16th, 1920", object_how="date"))
    store.upsert_documents([doc], [chunk])
    store.write_assertions([born])
    got = store.get_assertion(born.id)
    assert got == born
    assert got is not None and got.provenance[0].object_text == "August 16th, 1920"


def test_provenance_without_them_reads_as_empty(filled: GraphStore, sample: Sample) -> None:
    assert filled.assertions() == sample.assertions
    assert all(_empty(p) for a in filled.assertions() for p in a.provenance)
    # one source with them, one without, on the same assertion
    w1, w2 = sample.works.provenance
    mixed = with_provenance(sample.works, w1, grounded(w2, "Ada", "Engine", "alias", "acronym"))
    filled.reset()
    filled.write_assertions([mixed])
    got = filled.get_assertion(mixed.id)
    assert got == mixed and got is not None
    assert [_empty(p) for p in got.provenance] == [_empty(p) for p in mixed.provenance]


def test_an_applied_add_keeps_them(filled: GraphStore, sample: Sample) -> None:
    d1, c1 = sample.documents[0], sample.chunks[0]
    knows = assertion(sample.people[0], EX + "knows", sample.people[1],
                      grounded(provenance(d1, c1, "Ada Lovelace works for the Engine Company"),
                               "Ada Lovelace", "Babbage", object_how="alias"))
    filled.apply_changes([AddAssertion(assertion=knows)], actor="cur", role="curator")
    assert filled.get_assertion(knows.id) == knows
    # the audit states carry no provenance: a grounded add reads as an ungrounded one did
    plain = with_provenance(knows, *(p.model_copy(update=dict.fromkeys(FIELDS, ""))
                                     for p in knows.provenance))
    entry = filled.audit_log()[-1]
    assert (entry.before, entry.after) == rules.added_states(AddAssertion(assertion=plain), None)
    assert not any(f in entry.after for f in FIELDS)


def test_corroboration_round_trips_and_defaults_to_full(store: GraphStore,
                                                        sample: Sample) -> None:
    # the confidence model weighs it, so a build resumed from the store must read it back
    w1, w2 = sample.works.provenance
    weak = with_provenance(sample.works, w1.model_copy(update={"corroboration": 0.0}),
                           w2.model_copy(update={"corroboration": 0.375}))
    store.write_assertions([weak, sample.located])
    assert store.get_assertion(weak.id) == weak and store.assertions() == sorted(
        [weak, sample.located], key=lambda a: a.id)
    got = store.get_assertion(weak.id)
    assert got is not None
    assert [p.corroboration for p in got.provenance] == [p.corroboration
                                                         for p in weak.provenance]
    assert [p.corroboration for p in store.neighbours(sample.city.id)[0].provenance] == [1.0]


# --------------------------------------------------------------------------- merging


def test_a_rerun_with_spans_adds_and_rewrites_nothing(filled: GraphStore,
                                                      sample: Sample) -> None:
    before = snapshot(filled)
    rerun = [with_provenance(a, *(grounded(p, "S", "O", "alias", "demonym")
                                  for p in a.provenance)) for a in sample.assertions]
    result = filled.write_assertions(rerun)
    assert (result.created, result.updated) == (0, 0)
    assert snapshot(filled) == before  # the first run's provenance stays as it was
    assert all(_empty(p) for a in filled.assertions() for p in a.provenance)


def test_stored_spans_are_not_rewritten_by_a_rerun(store: GraphStore, sample: Sample) -> None:
    written = spans(sample)
    store.write_assertions(written)
    before = snapshot(store)
    bare = [with_provenance(a, *(p.model_copy(update=dict.fromkeys(FIELDS, ""))
                                 for p in a.provenance)) for a in written]
    for rerun in (bare,  # the same sources without spans
                  [with_provenance(a, *(grounded(p, "x", "y", "alias", "alias")
                                        for p in a.provenance)) for a in written]):
        result = store.write_assertions(rerun)
        assert (result.created, result.updated) == (0, 0)
        assert snapshot(store) == before
    assert store.assertions() == written


def test_a_new_source_with_spans_merges_in(filled: GraphStore, sample: Sample) -> None:
    d1, c1 = sample.documents[0], sample.chunks[0]
    other = grounded(provenance(d1, c1, "Ada Lovelace works for the Engine Company",
                                model="other-llm"), "Ada Lovelace", "Engine Company",
                     object_how="inflected")
    entries = len(filled.audit_log())
    result = filled.write_assertions([sample.works.model_copy(update={"provenance": (other,)})])
    assert (result.created, result.updated) == (0, 1)
    assert filled.get_assertion(sample.works.id) == with_provenance(
        sample.works, *sample.works.provenance, other)
    assert [(e.action, e.detail, e.before, e.after) for e in filled.audit_log()[entries:]] == [
        ("write_assertions", "created=0 updated=1", "", "")]


def test_duplicates_in_one_batch_keep_the_first_sources_spans(store: GraphStore,
                                                             sample: Sample) -> None:
    w1, w2 = sample.works.provenance
    first = with_provenance(sample.works, grounded(w1, "Ada", "Engine"), w2)
    second = with_provenance(sample.works, grounded(w1, "A.", "E.", "acronym", "acronym"),
                             grounded(w2, "Ada Lovelace", "the Engine Company"))
    assert store.write_assertions([first, second]).created == 1
    assert store.assertions() == [first]


def test_a_remove_and_re_add_takes_the_new_spans(filled: GraphStore, sample: Sample) -> None:
    regrounded = [a for a in spans(sample) if a.id == sample.works.id][0]
    filled.apply_changes([RemoveAssertion(assertion_id=sample.works.id),
                          AddAssertion(assertion=regrounded.model_copy(
                              update={"violations": ()}))], actor="cur", role="curator")
    assert filled.get_assertion(sample.works.id) == regrounded.model_copy(
        update={"violations": ()})


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_looking_spans_are_stored_verbatim(store: GraphStore, sample: Sample,
                                                     text: str) -> None:
    w1, w2 = sample.works.provenance
    odd = with_provenance(sample.works, grounded(w1, text, text + " object", text, text[::-1]),
                          grounded(w2, f"{text}\n", f" {text} "))
    store.write_assertions([odd])
    assert store.get_assertion(odd.id) == odd
    assert store.assertions() == [odd] and store.neighbours(sample.people[0].id) == [odd]
    knows = assertion(sample.people[0], EX + "knows", sample.people[1],
                      grounded(w1, text, text, text, text))
    store.apply_changes([AddAssertion(assertion=knows, kgcl=text)], actor="cur",
                        role="curator")
    assert store.get_assertion(knows.id) == knows
    assert store.counts().assertions == 2


# --------------------------------------------------------------------------- per backend


#: the provenance table of an earlier VeriKG: before the mentions, seen times and repairs
_BEFORE_MENTIONS = """
CREATE TABLE provenance (
    assertion_id TEXT NOT NULL REFERENCES assertions(id) ON DELETE CASCADE,
    chunk_id TEXT NOT NULL, model TEXT NOT NULL, prompt_version TEXT NOT NULL,
    document_id TEXT NOT NULL, span_start INTEGER NOT NULL, span_end INTEGER NOT NULL,
    quote TEXT NOT NULL, run_id TEXT NOT NULL, attempts INTEGER NOT NULL,
    samples_agreeing INTEGER NOT NULL, samples_total INTEGER NOT NULL,
    PRIMARY KEY (assertion_id, chunk_id, model, prompt_version)) WITHOUT ROWID"""
#: ... and the one just before the supporting spans
_BEFORE_SPANS = """
CREATE TABLE provenance (
    assertion_id TEXT NOT NULL REFERENCES assertions(id) ON DELETE CASCADE,
    chunk_id TEXT NOT NULL, model TEXT NOT NULL, prompt_version TEXT NOT NULL,
    document_id TEXT NOT NULL, span_start INTEGER NOT NULL, span_end INTEGER NOT NULL,
    quote TEXT NOT NULL, run_id TEXT NOT NULL, attempts INTEGER NOT NULL,
    samples_agreeing INTEGER NOT NULL, samples_total INTEGER NOT NULL,
    subject_mention TEXT NOT NULL DEFAULT '', object_mention TEXT NOT NULL DEFAULT '',
    seen_at TEXT, repairs TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (assertion_id, chunk_id, model, prompt_version)) WITHOUT ROWID"""
_OLD_COLUMNS: dict[str, tuple[str, ...]] = {
    "before_mentions": ("assertion_id", "chunk_id", "model", "prompt_version", "document_id",
                        "span_start", "span_end", "quote", "run_id", "attempts",
                        "samples_agreeing", "samples_total"),
}
_OLD_COLUMNS["before_spans"] = (*_OLD_COLUMNS["before_mentions"], "subject_mention",
                                "object_mention", "seen_at", "repairs")


@pytest.mark.parametrize(("era", "ddl"), [("before_mentions", _BEFORE_MENTIONS),
                                          ("before_spans", _BEFORE_SPANS)])
def test_sqlite_adds_the_span_columns_to_an_older_store(tmp_path: Path, sample: Sample,
                                                        era: str, ddl: str) -> None:
    path = tmp_path / "old.sqlite"
    mentioned = sample.works.model_copy(update={"provenance": tuple(
        p.model_copy(update={"subject_mention": "Ada", "repairs": ("fixed",)})
        for p in sample.works.provenance)})
    kept = [mentioned if a.id == mentioned.id else a for a in sample.assertions]
    with SQLiteGraphStore(path) as st:
        st.upsert_documents(sample.documents, sample.chunks)
        st.write_assertions(kept)
    # what an earlier VeriKG wrote: its provenance table, by hand, holding the same rows
    cols = ", ".join(_OLD_COLUMNS[era])
    conn = sqlite3.connect(path)
    conn.executescript(
        f"BEGIN; ALTER TABLE provenance RENAME TO provenance_new; {ddl}; "
        f"INSERT INTO provenance ({cols}) SELECT {cols} FROM provenance_new; "
        "DROP TABLE provenance_new; COMMIT;")
    have = {r[1] for r in conn.execute("PRAGMA table_info(provenance)")}
    conn.close()
    assert not have & set(FIELDS)

    migrated = SQLiteGraphStore(path)
    with migrated as st:
        info = {r[1]: r for r in migrated._require().execute("PRAGMA table_info(provenance)")}
        for f in FIELDS:  # (cid, name, type, notnull, default, pk)
            assert (info[f][2], info[f][3], info[f][4]) == ("TEXT", 1, "''")
        assert (info["corroboration"][2], info["corroboration"][4]) == ("REAL", "1.0")
        old = sample.assertions if era == "before_mentions" else kept
        assert st.assertions() == old
        assert all(_empty(p) and p.corroboration == 1.0
                   for a in st.assertions() for p in a.provenance)
        # a rerun of the same sources, now grounded, adds nothing to the migrated rows
        before = snapshot(st)
        rerun = [with_provenance(a, *(grounded(p, "S", "O") for p in a.provenance))
                 for a in old]
        assert st.write_assertions(rerun).updated == 0 and snapshot(st) == before
        # a new source keeps its spans
        d1, c1 = sample.documents[0], sample.chunks[0]
        other = grounded(provenance(d1, c1, "Ada Lovelace works for the Engine Company",
                                    model="other-llm"), "Ada Lovelace", "Engine Company",
                         "exact", "inflected")
        st.write_assertions([sample.works.model_copy(update={"provenance": (other,)})])
        stored = st.get_assertion(sample.works.id)
        assert stored is not None and other in stored.provenance
    with SQLiteGraphStore(path) as st:  # opening a migrated store again changes nothing
        assert st.get_assertion(sample.works.id) == stored


def test_sqlite_keeps_them_as_columns(tmp_path: Path, sample: Sample) -> None:
    lite = SQLiteGraphStore(tmp_path / "kg.sqlite")
    with lite:
        lite.write_assertions(spans(sample))
        rows = lite._require().execute(
            "SELECT subject_text, object_text, subject_grounding, object_grounding FROM "
            "provenance WHERE assertion_id = ? ORDER BY object_grounding",
            (sample.works.id,)).fetchall()
    assert [tuple(r) for r in rows] == [("Ada Lovelace", "the Engine Company", "exact", "exact"),
                                        ("Ada Lovelace", "Engine Company", "exact", "inflected")]


@pytest.mark.neo4j
def test_neo4j_keeps_them_as_relationship_properties(neo4j_store: Neo4jGraphStore,
                                                     sample: Sample) -> None:
    neo4j_store.reset()
    written = spans(sample)
    neo4j_store.write_assertions(written)
    driver = neo4j_store._driver
    assert driver is not None
    with driver.session(database=neo4j_store._database) as session:
        rows = [r.data() for r in session.run(
            "MATCH (:Assertion {id: $id})-[p:STATED_IN]->(:Chunk) RETURN p.subject_text AS st, "
            "p.object_text AS ot, p.subject_grounding AS sg, p.object_grounding AS og "
            "ORDER BY og", id=sample.works.id)]
        assert rows == [
            {"st": "Ada Lovelace", "ot": "the Engine Company", "sg": "exact", "og": "exact"},
            {"st": "Ada Lovelace", "ot": "Engine Company", "sg": "exact", "og": "inflected"}]
        # a relationship written before they were stored reads with them empty
        session.run("MATCH (a:Assertion)-[p:STATED_IN]->() REMOVE p.subject_text, "
                    "p.object_text, p.subject_grounding, p.object_grounding, "
                    "p.corroboration").consume()
    assert neo4j_store.assertions() == [with_provenance(a, *(
        p.model_copy(update=dict.fromkeys(FIELDS, "")) for p in a.provenance))
        for a in written]
    # ... and a rerun does not fill them in: provenance merges by its key
    before = snapshot(neo4j_store)
    assert neo4j_store.write_assertions(written).updated == 0
    assert snapshot(neo4j_store) == before


@pytest.mark.neo4j
def test_both_backends_agree_on_supporting_spans(tmp_path: Path, neo4j_store: Neo4jGraphStore,
                                                 sample: Sample) -> None:
    neo4j_store.reset()
    d1, c1 = sample.documents[0], sample.chunks[0]
    other = grounded(provenance(d1, c1, "Ada Lovelace works for the Engine Company",
                                model="other-llm"), "Ada", "the Engine Company", "alias")
    with SQLiteGraphStore(tmp_path / "kg.sqlite") as lite:
        for backend in (lite, neo4j_store):
            backend.upsert_documents(sample.documents, sample.chunks)
            backend.write_assertions(spans(sample))
            backend.write_assertions([sample.works.model_copy(update={"provenance": (other,)})])
            backend.apply_changes([AddAssertion(assertion=sample.located.model_copy(
                update={"provenance": (grounded(sample.located.provenance[0],
                                                "The Engine Company", "London"),)}))],
                actor="ann", role="admin")
        reads: list[Callable[[GraphStore], object]] = [
            lambda s: s.assertions(), lambda s: s.flagged(), lambda s: s.counts(),
            lambda s: s.neighbours(sample.company.id),
            lambda s: s.get_assertion(sample.works.id),
            lambda s: [(e.actor, e.action, e.target, e.detail, e.before, e.after)
                       for e in s.audit_log()]]
        for read in reads:
            assert read(lite) == read(neo4j_store)
        entry = lite.audit_log()[-1]
        assert json.loads(entry.after)["id"] == sample.located.id
