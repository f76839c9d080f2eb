"""Invalid KGCL: every request of ``kgcl_invalid.jsonl`` is refused with ``ChangeRequestError``
naming the problem (and the line), at the stage the case says — ``parse`` (it is not KGCL) or
``apply`` (it is KGCL, but not applicable to the graph) — and the store is left exactly as it
was: not even the lines before the bad one apply, and nothing is audited. Every refusal is one
clear line (no traceback, none of the grammar's terminal names), and ``kgcl apply --input``
refuses a request that does not parse without touching the file or writing an output."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipeline.errors import ChangeRequestError
from pipeline.kgcl import apply_to_store
from pipeline.kgcl.parser import parse_change_request
from pipeline.store import GraphStore, SQLiteGraphStore
from tests.compliance.graph_store_fixtures import Sample, snapshot
from tests.compliance.kgcl_store_fixtures import ONTOLOGY
from tests.hostile.hostile_corpus import load, text
from verikg_cli.kgcl import app


def _cases(stage: str) -> list[Any]:
    return [pytest.param(c, id=c["id"]) for c in load("kgcl_invalid.jsonl")
            if c["expected"]["stage"] == stage]


def _one_clear_line(message: str) -> None:
    assert "\n" not in message and "\r" not in message, message
    assert len(message) < 1500, message[:300]
    for raw in ("Traceback", "No terminal matches", "__ANON", "Unexpected end-of-input"):
        assert raw not in message, message


def _refused(request: str, store: GraphStore, match: str) -> None:
    before = snapshot(store)
    with pytest.raises(ChangeRequestError) as info:
        apply_to_store(request, store, ONTOLOGY, actor="mallory", role="admin")
    assert type(info.value) is ChangeRequestError
    assert re.search(match, str(info.value)), str(info.value)
    _one_clear_line(str(info.value))
    assert snapshot(store) == before


@pytest.mark.parametrize("case", _cases("parse"))
def test_request_that_is_not_kgcl_is_refused_before_the_store(
        case: dict[str, Any], sample: Sample, tmp_path: Path) -> None:
    """Refused by the parser, so one backend is enough: no store call is made."""
    request, match = text(case, "kgcl"), case["expected"]["match"]
    with pytest.raises(ChangeRequestError, match=match) as info:
        parse_change_request(request)
    _one_clear_line(str(info.value))
    with SQLiteGraphStore(tmp_path / "kg.sqlite") as store:
        store.upsert_documents(sample.documents, sample.chunks)
        store.write_assertions(sample.assertions)
        _refused(request, store, match)


@pytest.mark.parametrize("case", _cases("apply"))
def test_kgcl_that_cannot_apply_changes_nothing(case: dict[str, Any],
                                                filled: GraphStore) -> None:
    request = text(case, "kgcl")
    parse_change_request(request)  # it is KGCL: the refusal comes from the graph
    _refused(request, filled, case["expected"]["match"])


_TURTLE = """@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

# a city
ex:london rdfs:label "London" .
"""


@pytest.mark.parametrize("case", _cases("parse"))
def test_the_cli_refuses_it_in_one_line_and_leaves_the_file_alone(
        case: dict[str, Any], tmp_path: Path) -> None:
    source, out, changes = tmp_path / "city.ttl", tmp_path / "out.ttl", tmp_path / "req.kgcl"
    source.write_bytes(_TURTLE.encode())
    changes.write_bytes(text(case, "kgcl").encode("utf-8"))
    result = CliRunner().invoke(app, ["apply", "--input", str(source), "--changes",
                                      str(changes), "--output", str(out)])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("rejected: ") and result.stderr.count("\n") == 1
    _one_clear_line(result.stderr.rstrip("\n"))
    assert source.read_bytes() == _TURTLE.encode() and not out.exists()
