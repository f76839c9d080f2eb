"""``check_statement`` / ``check_label``: the contract's post-conditions on a statement a person
makes (no text, no model), with the contract's own severities."""

from __future__ import annotations

import pytest

from pipeline.contracts import load_contract
from pipeline.contracts.spec import CheckSpec, ContractSpec
from pipeline.contracts.statement import check_label, check_statement
from pipeline.models import (
    IRI,
    LiteralValue,
    Ontology,
    OntologyClass,
    OntologyProperty,
    PropertyKind,
    Severity,
)

R = "https://example.org/rivers#"
XSD = "http://www.w3.org/2001/XMLSchema#"
FLOWS = OntologyProperty(iri=IRI(R + "flowsThrough"), label="flows through",
                         kind=PropertyKind.OBJECT, domain=(IRI(R + "River"),),
                         range=(IRI(R + "City"),))
LENGTH = OntologyProperty(iri=IRI(R + "length"), label="length", kind=PropertyKind.DATATYPE,
                          domain=(IRI(R + "River"),), range=(IRI(XSD + "integer"),))
NICKNAME = OntologyProperty(iri=IRI(R + "nickname"), label="nickname",
                            kind=PropertyKind.DATATYPE, domain=(IRI(R + "City"),),
                            range=(IRI(XSD + "string"),))
RIVERS = Ontology(iri=IRI("https://example.org/rivers"), label="rivers",
                  classes=(OntologyClass(iri=IRI(R + "City"), label="City"),
                           OntologyClass(iri=IRI(R + "River"), label="River")),
                  properties=(FLOWS, LENGTH, NICKNAME))


@pytest.fixture()
def spec() -> ContractSpec:
    return load_contract("extraction")


def codes(violations: tuple[object, ...]) -> list[str]:
    return [v.reason.value for v in violations]  # type: ignore[attr-defined]


def test_words_where_the_range_wants_a_number_are_refused(spec: ContractSpec) -> None:
    """Issue 19: ``create edge ENT length 'very long'`` was stored as an xsd:integer."""
    verdict = check_statement(spec, RIVERS, "Loire", LENGTH, "very long")
    assert verdict.refused and codes(verdict.hard) == ["not-a-value"]
    assert all(v.severity is Severity.HARD for v in verdict.hard)


@pytest.mark.parametrize(("written", "stored"), [("1012", "1012"), (" 1012 ", "1012"),
                                                 ("1,012 km", "1012")])
def test_a_valid_integer_stays_an_integer(spec: ContractSpec, written: str,
                                          stored: str) -> None:
    verdict = check_statement(spec, RIVERS, "Loire", LENGTH, written)
    assert not verdict.refused and verdict.soft == ()
    assert verdict.literal == LiteralValue(value=stored, datatype=IRI(XSD + "integer"))


def test_a_value_of_another_kind_is_kept_as_a_string_and_flagged(spec: ContractSpec) -> None:
    verdict = check_statement(spec, RIVERS, "Loire", LENGTH, "2001-07-01")
    assert not verdict.refused and codes(verdict.soft) == ["literal-datatype"]
    assert verdict.literal == LiteralValue(value="2001-07-01", datatype=IRI(XSD + "string"))


def test_a_written_datatype_reads_the_value_and_is_flagged_outside_the_range(
        spec: ContractSpec) -> None:
    same = check_statement(spec, RIVERS, "Loire", LENGTH, "1012", datatype=XSD + "integer")
    assert same.soft == () and same.literal == LiteralValue(value="1012",
                                                            datatype=IRI(XSD + "integer"))
    other = check_statement(spec, RIVERS, "Loire", LENGTH, "1012", datatype=XSD + "string")
    assert not other.refused and codes(other.soft) == ["literal-datatype"]
    assert "takes an integer" in other.soft[0].detail
    assert other.literal == LiteralValue(value="1012", datatype=IRI(XSD + "string"))


def test_a_string_property_takes_any_text_even_code(spec: ContractSpec) -> None:
    """A value is never a label: names-are-plain leaves it alone."""
    text = "Orléans`]->(x) DELETE x"
    verdict = check_statement(spec, RIVERS, "Orléans", NICKNAME, text)
    assert not verdict.refused and verdict.soft == ()
    assert verdict.literal == LiteralValue(value=text, datatype=IRI(XSD + "string"))


@pytest.mark.parametrize(("subject", "obj", "reason"), [
    ("Orléans`]->(x) DELETE x", "Paris", "injection-shaped"),
    ("Loire", "Orléans' DELETE", "injection-shaped"),
    ("City", "Paris", "class-as-instance"),
    ("Loire", "Loire", "self-loop"),
])
def test_hard_checks_refuse_as_they_refuse_an_extracted_triple(
        spec: ContractSpec, subject: str, obj: str, reason: str) -> None:
    verdict = check_statement(spec, RIVERS, subject, FLOWS, obj)
    assert reason in codes(verdict.hard)
    assert verdict.literal is None


def test_a_value_where_a_thing_belongs_is_only_flagged(spec: ContractSpec) -> None:
    verdict = check_statement(spec, RIVERS, "Loire", FLOWS, "1998")
    assert not verdict.refused and codes(verdict.soft) == ["range-mismatch"]
    assert verdict.soft[0].check == "object-is-individual"


def test_skipped_and_disabled_checks_do_not_run(spec: ContractSpec) -> None:
    assert not check_statement(spec, RIVERS, "Paris", FLOWS, "Paris",
                               skip=frozenset({"not-self-loop"})).refused
    off = spec.model_copy(update={"postconditions": tuple(
        c.model_copy(update={"enabled": False}) if c.check == "literal-is-a-value" else c
        for c in spec.postconditions)})
    verdict = check_statement(off, RIVERS, "Loire", LENGTH, "very long")
    assert not verdict.refused and codes(verdict.soft) == ["literal-datatype"]


def test_a_soft_check_promoted_to_hard_refuses(spec: ContractSpec) -> None:
    strict = spec.model_copy(update={"postconditions": tuple(
        CheckSpec(check=c.check, severity=Severity.HARD) if c.check == "literal-datatype"
        else c for c in spec.postconditions)})
    assert codes(check_statement(strict, RIVERS, "Loire", LENGTH, "2001-07-01").hard) == [
        "literal-datatype"]


def test_labels_that_read_as_code_are_refused(spec: ContractSpec) -> None:
    [violation] = check_label(spec, RIVERS, "Orléans`]->(x) DELETE x")
    assert violation.reason.value == "injection-shaped" and violation.severity is Severity.HARD
    assert violation.detail.startswith("label 'Orléans")
    assert check_label(spec, RIVERS, "Guns N' Roses") == ()
