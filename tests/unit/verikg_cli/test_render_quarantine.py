"""``verikg quarantine``'s rendering (``verikg_cli.render.print_quarantine`` and
``quarantine_json``): one line per refused statement with its samples, where it was read,
and the records a later run resolved apart."""

from __future__ import annotations

import json

from rich.console import Console

from pipeline.models import (
    CandidateTriple,
    Chunk,
    Document,
    QuarantinedCandidate,
    RunId,
    Violation,
    ViolationReason,
)
from verikg_cli.render import print_quarantine, quarantine_json

DOC = Document.from_text("Intro.\n\nThe Loire flows through Orléans. Tours is on the Loire.",
                         source="rivers/loire.md", title="Loire")
CHUNK = Chunk.make(DOC, 1, 8, len(DOC.text))


def _refused(predicate: str, sample: int, *, attempts: int = 3, run: str = "run-2",
             runs: tuple[str, ...] = ("run-1", "run-2"),
             resolved_by: str | None = None) -> QuarantinedCandidate:
    q = QuarantinedCandidate.make(
        chunk=CHUNK, raw="{}", candidate=CandidateTriple(subject="Loire", predicate=predicate,
                                                         object="Orléans"),
        violations=(Violation(reason=ViolationReason.UNKNOWN_PREDICATE,
                              check="predicate-in-ontology",
                              detail=f"'{predicate}' is not a property"),),
        model="fake-llm", prompt_version="extract-v1", run_id=RunId(run), attempts=attempts,
        sample_index=sample, samples_total=3)
    return q.model_copy(update={"runs": tuple(RunId(r) for r in runs),
                                "resolved_by": resolved_by})


ITEMS = sorted([_refused("flows past", 0), _refused("flows past", 1),
                _refused("flows past", 2, attempts=2), _refused("waters", 1),
                _refused("drains", 0, run="run-1", runs=("run-1",), resolved_by="run-2")],
               key=lambda q: q.id)


def _text(items: list[QuarantinedCandidate]) -> list[str]:
    console = Console(record=True, width=400, color_system=None)
    print_quarantine(console, items, {CHUNK.id: CHUNK}, {DOC.id: DOC})
    return console.export_text().splitlines()


def test_one_line_per_statement_with_its_samples_and_where_it_was_read() -> None:
    lines = _text(ITEMS)
    where = f"rivers/loire.md chunk 1 [{CHUNK.span.start}:{CHUNK.span.end}]"
    flows = [line for line in lines if "flows past" in line]
    assert flows == [f"{where} (Loire | flows past | Orléans): [unknown-predicate] 'flows past' "
                     "is not a property (samples 0,1,2 of 3, attempts 2,3, fake-llm, run run-2 "
                     "(also refused by run-1))"]
    assert [line for line in lines if "waters" in line] == [
        f"{where} (Loire | waters | Orléans): [unknown-predicate] 'waters' is not a property "
        "(sample 1 of 3, attempts 3, fake-llm, run run-2 (also refused by run-1))"]
    # the resolved record is listed apart, after the ones that stand, with its resolver
    heading = lines.index("resolved (a later run read the same text and did not refuse them):")
    assert heading > max(lines.index(flows[0]), 1)
    assert "(Loire | drains | Orléans)" in lines[heading + 1]
    assert lines[heading + 1].endswith("run run-1; resolved by run-2)")
    assert lines[-1] == "4 quarantined (2 statement(s)); 1 statement(s) resolved by a later run"


def test_a_chunk_the_store_does_not_hold_is_named_by_its_id() -> None:
    console = Console(record=True, width=400, color_system=None)
    print_quarantine(console, [_refused("waters", 0)], {}, {})
    assert console.export_text().startswith(f"{DOC.id} {CHUNK.id} (Loire | waters | Orléans)")


def test_json_keeps_one_object_per_record_with_its_sample_and_runs() -> None:
    out = json.loads(json.dumps(quarantine_json(ITEMS, {CHUNK.id: CHUNK}, {DOC.id: DOC})))
    assert len(out) == 5
    assert sorted(o["sample_index"] for o in out
                  if o["candidate"]["predicate"] == "flows past") == [0, 1, 2]
    drains = next(o for o in out if o["candidate"]["predicate"] == "drains")
    assert (drains["runs"], drains["resolved_by"]) == (["run-1"], "run-2")
    assert all(o["document"] == "rivers/loire.md" and o["chunk_index"] == 1
               and o["span"] == [CHUNK.span.start, CHUNK.span.end] for o in out)
