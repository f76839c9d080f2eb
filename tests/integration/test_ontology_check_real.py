"""``verikg ontology check`` on every real OWL file of the shared data: what each check finds.

The findings are asserted exactly (code, IRIs), so a change in any check shows here. What the
files hold, in short: the Text2KGBench ontologies give literal-valued relations object-property
ranges that are never declared (``concepts#number``, ``#string``, ``#date``) — VeriKG reads
those as datatype properties, each a ``datatype-like-range`` warning — a few relations have no
range or an undeclared class range, and the Wikidata ones declare classes no relation reaches;
the GO slice takes its relations from RO/BFO without domains or ranges and has two classes
labelled "role". HermiT finds all six consistent, with no unsatisfiable class.
"""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.ontology.checks.report import REPORT_SCHEMA
from tests.integration.ontology_check_data import (
    OBO,
    REAL,
    check,
    codes,
    concepts,
    found,
    relations,
)


@pytest.fixture(scope="module")
def reports() -> dict[str, tuple[int, dict[str, Any]]]:
    for name, path in REAL.items():
        assert path.is_file(), f"the shared ontology {name} is not at {path}"
    # GO's classification takes ~40 s on a busy 2-core machine: a generous limit
    return {name: check(str(path), "--reasoner-timeout", "400") for name, path in REAL.items()}


def _iris(ns: Any, *names: str) -> tuple[str, ...]:
    return tuple(str(ns[n]) for n in names)


def _datatype_like(report: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The relations whose range (an undeclared term named like a datatype) is read as a
    datatype, by that range: one warning per relation, IRIs (relation, range)."""
    by_range: dict[str, list[str]] = {}
    for f in report["findings"]:
        if f["code"] == "datatype-like-range":
            assert f["severity"] == "warning" and len(f["iris"]) == 2, f
            by_range.setdefault(f["iris"][1], []).append(f["iris"][0])
    return {rng: tuple(sorted(rels)) for rng, rels in by_range.items()}


@pytest.mark.parametrize("name", list(REAL))
def test_hermit_finds_every_real_file_consistent_and_satisfiable(
        reports: dict[str, tuple[int, dict[str, Any]]], name: str) -> None:
    _, report = reports[name]
    assert report["schema"] == REPORT_SCHEMA
    assert report["reasoner"]["status"] == "ok", report["reasoner"]
    assert report["reasoner"]["unsatisfiable"] == []
    assert not codes(report) & {"inconsistent", "unsatisfiable-class", "reasoner-timeout",
                                "reasoner-failed", "reasoner-unavailable"}
    # no file has cycles, conflation or CQs; no roots are declared, so no orphan check
    assert not codes(report) & {"subclass-cycle", "class-instance-conflation", "orphan-class",
                                "cq-invalid-query", "cq-undefined-term", "cq-unanswered"}


def test_university(reports: dict[str, tuple[int, dict[str, Any]]]) -> None:
    exit_code, report = reports["university"]
    c, r = concepts("university"), relations("university")
    assert exit_code == 1
    assert codes(report) == {"missing-range", "datatype-like-range"}
    assert found(report, "missing-range") == [_iris(r, "staff")]
    assert report["summary"]["errors"] == 1
    read_as_datatype = _datatype_like(report)
    assert set(read_as_datatype) == set(_iris(c, "date", "number", "string"))
    assert read_as_datatype[str(c.date)] == _iris(r, "established")
    assert len(read_as_datatype[str(c.number)]) == 7
    assert str(r.numberOfStudents) in read_as_datatype[str(c.number)]
    assert read_as_datatype[str(c.string)] == _iris(r, "latinName", "leaderTitle", "longName",
                                                      "motto", "nickname", "postalCode")


def test_company(reports: dict[str, tuple[int, dict[str, Any]]]) -> None:
    exit_code, report = reports["company"]
    c, r = concepts("company"), relations("company")
    assert exit_code == 1
    assert codes(report) == {"undeclared-term", "datatype-like-range"}
    # Party is an undeclared class, not named like a datatype: still an error
    assert found(report, "undeclared-term") == [_iris(c, "Party") + _iris(r, "leaderParty")]
    assert report["summary"]["errors"] == 1
    read_as_datatype = _datatype_like(report)
    assert set(read_as_datatype) == set(_iris(c, "Date", "number", "string"))
    assert read_as_datatype[str(c.Date)] == _iris(r, "foundingDate")
    assert read_as_datatype[str(c.string)] == _iris(r, "leaderTitle", "longName")
    assert len(read_as_datatype[str(c.number)]) == 8


def test_celestialbody_has_only_warnings_and_exits_0(
        reports: dict[str, tuple[int, dict[str, Any]]]) -> None:
    exit_code, report = reports["celestialbody"]
    c, r = concepts("celestialbody"), relations("celestialbody")
    assert exit_code == 0 and report["ok"] is True
    assert report["summary"] == {"errors": 0, "warnings": 17,
                                 "by_code": {"datatype-like-range": 17}}
    read_as_datatype = _datatype_like(report)
    assert set(read_as_datatype) == set(_iris(c, "Date", "number", "string"))
    assert read_as_datatype[str(c.Date)] == _iris(r, "birthDate", "deathDate")
    assert read_as_datatype[str(c.string)] == _iris(r, "formerName")
    assert len(read_as_datatype[str(c.number)]) == 14


def test_computer(reports: dict[str, tuple[int, dict[str, Any]]]) -> None:
    exit_code, report = reports["computer"]
    c, r = concepts("computer"), relations("computer")
    assert exit_code == 1
    assert codes(report) == {"missing-range", "undeclared-term", "disconnected-schema"}
    assert found(report, "missing-range") == [_iris(r, "P138"), _iris(r, "P373"),
                                              _iris(r, "P61")]
    assert found(report, "undeclared-term") == [_iris(c, "Q4830453") + _iris(r, "P178"),
                                                _iris(c, "Q62008942") + _iris(r, "P880")]
    # nine declared classes no relation reaches, each an island of its own
    islands = found(report, "disconnected-schema")
    assert islands == [(str(c[q]),) for q in sorted(
        ["Q1301371", "Q166142", "Q1709010", "Q189210", "Q215627", "Q41455", "Q55990535",
         "Q8366", "Q8513"])]
    assert all(f["severity"] == "warning" for f in report["findings"]
               if f["code"] == "disconnected-schema")


def test_politics_has_only_warnings_and_exits_0(
        reports: dict[str, tuple[int, dict[str, Any]]]) -> None:
    exit_code, report = reports["politics"]
    c = concepts("politics")
    assert exit_code == 0 and report["ok"] is True
    assert report["summary"] == {"errors": 0, "warnings": 5,
                                 "by_code": {"disconnected-schema": 5}}
    # head of government, position, head of state, government, state: declared, never used
    assert found(report, "disconnected-schema") == [
        (str(c[q]),) for q in sorted(["Q2285706", "Q4164871", "Q48352", "Q7188", "Q7275"])]


def test_go_nucleus(reports: dict[str, tuple[int, dict[str, Any]]]) -> None:
    exit_code, report = reports["go-nucleus"]
    assert exit_code == 1
    assert report["ontology"]["classes"] == 204
    assert report["ontology"]["object_properties"] == 95
    assert codes(report) == {"missing-domain", "missing-range", "duplicate-label"}
    no_domain = {iris[0] for iris in found(report, "missing-domain")}
    no_range = {iris[0] for iris in found(report, "missing-range")}
    assert len(no_domain) == 17 and len(no_range) == 15
    # part of / has part (BFO) and overlaps (RO) have neither
    for rel in ("BFO_0000050", "BFO_0000051", "RO_0002131"):
        assert str(OBO[rel]) in no_domain & no_range
    # 'bearer of' has a range but no domain; 'inheres in' a domain but no range
    assert str(OBO.RO_0000053) in no_domain - no_range
    assert str(OBO.RO_0000052) in no_range - no_domain
    assert found(report, "duplicate-label") == [(str(OBO.BFO_0000023), str(OBO.CHEBI_50906))]
    # the 28 obsolete classes (owl:deprecated) are detached on purpose: no island is reported
    assert found(report, "disconnected-schema") == []
