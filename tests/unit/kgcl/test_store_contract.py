"""KGCL changes to the graph pass the contracts (issue 19: an admin's ``create edge ENT length
'very long'`` was stored as an xsd:integer with confidence 1, and a City → River edge against
the property's domain and range was accepted). A hard failure refuses the whole request, in
one line naming the command and the reason codes, audited as a refusal, at filing, approval,
application and direct application alike; a soft one is applied and flagged, as an extracted
statement would be."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.contracts import load_contract
from pipeline.contracts.spec import CheckSpec, ContractSpec
from pipeline.errors import ContractRefusalError
from pipeline.kgcl import apply_to_store
from pipeline.kgcl.governance import apply_directly, apply_request, file_request, review_request
from pipeline.models import (
    IRI,
    EntityRef,
    LiteralValue,
    Ontology,
    RequestStatus,
    Severity,
)
from pipeline.ontology import load_ontology
from pipeline.store import SQLiteGraphStore
from tests.compliance.graph_store_fixtures import assertion, snapshot

R = "https://example.org/rivers#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RIVERS_TTL = f"""
@prefix : <{R}> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <{XSD}> .
<https://example.org/rivers> a owl:Ontology ; rdfs:label "rivers" .
:City a owl:Class ; rdfs:label "City" .
:River a owl:Class ; rdfs:label "River" .
:flowsThrough a owl:ObjectProperty ; rdfs:label "flows through" ;
    rdfs:domain :River ; rdfs:range :City .
:length a owl:DatatypeProperty ; rdfs:label "length" ; rdfs:domain :River ;
    rdfs:range xsd:integer .
"""
SEINE, PARIS = EntityRef.make("Seine", R + "River"), EntityRef.make("Paris", R + "City")
LOIRE, ORLEANS = EntityRef.make("Loire", R + "River"), EntityRef.make("Orléans", R + "City")
VERY_LONG = f"create edge 'Loire' <{R}length> 'very long'"
CITY_TO_RIVER = f"create edge 'Paris' <{R}flowsThrough> 'Loire'"


@pytest.fixture()
def ontology_path(tmp_path: Path) -> Path:
    path = tmp_path / "rivers.ttl"
    path.write_text(RIVERS_TTL, encoding="utf-8")
    return path


@pytest.fixture()
def rivers(ontology_path: Path) -> Ontology:
    return load_ontology(ontology_path)


@pytest.fixture()
def kg_path(tmp_path: Path) -> Path:
    """A store holding what a build of the rivers domain would: two rivers through cities."""
    path = tmp_path / "kg.sqlite"
    with SQLiteGraphStore(path) as store:
        store.upsert_documents([], [])
        store.write_assertions([assertion(SEINE, R + "flowsThrough", PARIS),
                                assertion(LOIRE, R + "flowsThrough", ORLEANS)])
    return path


@pytest.fixture()
def store(kg_path: Path):  # type: ignore[no-untyped-def]
    with SQLiteGraphStore(kg_path) as opened:
        yield opened


def strict() -> ContractSpec:
    """The shipped contract with the type fit promoted to hard (a domain that trusts its
    ontology to the letter)."""
    spec = load_contract("extraction")
    return spec.model_copy(update={"graph": tuple(
        CheckSpec(check=c.check, severity=Severity.HARD) if c.check == "types-fit-domain-range"
        else c for c in spec.graph)})


def length_of(store: SQLiteGraphStore) -> list[LiteralValue]:
    return [a.triple.object for a in store.neighbours(LOIRE.id)  # type: ignore[misc]
            if a.triple.predicate == R + "length"]


# ---------------------------------------------------------------------- the library


def test_words_for_an_integer_are_refused_in_one_audited_line(store: SQLiteGraphStore,
                                                              rivers: Ontology) -> None:
    before = snapshot(store)
    with pytest.raises(ContractRefusalError) as info:
        apply_directly(store, VERY_LONG, rivers, actor="ann", role="admin")
    message = str(info.value)
    assert info.value.reasons == ("not-a-value",)
    assert message.startswith("line 1: ") and VERY_LONG in message and "\n" not in message
    assert "[not-a-value]" in message and message.endswith("nothing was changed")
    after = snapshot(store)
    assert after[:4] == before[:4] and after[-1] == before[-1]  # the graph is as it was
    [entry] = store.audit_log(action="refused")
    assert (entry.actor, entry.role, entry.target) == ("ann", "admin", "change request")
    assert "not-a-value" in entry.detail


def test_a_valid_integer_is_stored_as_an_integer(store: SQLiteGraphStore,
                                                 rivers: Ontology) -> None:
    apply_directly(store, f"create edge 'Loire' <{R}length> '1012'", rivers, actor="ann",
                   role="admin")
    assert length_of(store) == [LiteralValue(value="1012", datatype=IRI(XSD + "integer"))]
    [stored] = [a for a in store.neighbours(LOIRE.id) if a.triple.predicate == R + "length"]
    assert stored.confidence == 1.0 and stored.violations == ()


def test_an_edge_against_domain_and_range_is_applied_and_flagged(store: SQLiteGraphStore,
                                                                 rivers: Ontology) -> None:
    apply_directly(store, CITY_TO_RIVER, rivers, actor="ann", role="admin")
    [flagged] = store.flagged()
    assert (flagged.triple.subject.id, flagged.triple.object) == (PARIS.id, LOIRE)
    assert flagged.violation_checks == ("types-fit-domain-range",)
    assert sorted(v.reason.value for v in flagged.violations) == ["domain-mismatch",
                                                                  "range-mismatch"]
    assert all(v.severity is Severity.SOFT for v in flagged.violations)
    assert flagged.confidence == pytest.approx(0.5)  # the contract's penalty, as extracted
    assert store.flagged("types-fit-domain-range") == [flagged]


def test_an_edge_that_fits_is_not_flagged(store: SQLiteGraphStore, rivers: Ontology) -> None:
    apply_directly(store, f"create edge 'Seine' <{R}flowsThrough> 'Orléans'", rivers,
                   actor="ann", role="admin")
    assert store.flagged() == [] and len(store.assertions()) == 3


def test_one_refused_command_refuses_the_whole_request(store: SQLiteGraphStore,
                                                      rivers: Ontology) -> None:
    before = snapshot(store)
    with pytest.raises(ContractRefusalError, match=r"^line 2: .*not-a-value"):
        apply_directly(store, f"rename 'Seine' to 'La Seine'\n{VERY_LONG}", rivers,
                       actor="ann", role="admin")
    assert snapshot(store)[:4] == before[:4]
    assert {e.label for e in store.entities()} >= {"Seine"}


@pytest.mark.parametrize("request_text", [
    "create node ent:x 'Orléans`]->(x) DELETE x'",
    "rename 'Orléans' to 'Orléans\\' DELETE'",
])
def test_labels_that_read_as_code_are_refused(store: SQLiteGraphStore, rivers: Ontology,
                                              request_text: str) -> None:
    with pytest.raises(ContractRefusalError, match="injection-shaped"):
        apply_directly(store, request_text, rivers, actor="ann", role="admin")
    assert {e.label for e in store.entities()} == {"Seine", "Paris", "Loire", "Orléans"}


def test_a_dry_run_refuses_without_writing_even_the_audit(store: SQLiteGraphStore,
                                                         rivers: Ontology) -> None:
    before = snapshot(store)
    with pytest.raises(ContractRefusalError):
        apply_to_store(VERY_LONG, store, rivers, actor="ann", role="reader", dry_run=True)
    assert snapshot(store) == before


def test_filing_refuses_and_audits(store: SQLiteGraphStore, rivers: Ontology) -> None:
    with pytest.raises(ContractRefusalError, match="not-a-value"):
        file_request(store, VERY_LONG, rivers, actor="cy", role="curator")
    assert store.change_requests() == []
    [entry] = store.audit_log(action="refused")
    assert entry.actor == "cy" and "not-a-value" in entry.detail


def test_approval_and_application_check_the_contract_again(store: SQLiteGraphStore,
                                                           rivers: Ontology) -> None:
    """Filed under the shipped contract (the type fit is soft: it would be flagged), the
    request cannot be approved, nor applied, under one where the type fit is hard."""
    filed = file_request(store, CITY_TO_RIVER, rivers, actor="cy", role="curator")
    with pytest.raises(ContractRefusalError, match="cannot be approved.*domain-mismatch"):
        review_request(store, filed.id, approve=True, reason="", actor="rev",
                       role="certifier", ontology=rivers, contract=strict())
    pending = store.get_change_request(filed.id)
    assert pending is not None and pending.status is RequestStatus.PENDING
    [refused] = store.audit_log(action="refused")
    assert (refused.actor, refused.request_id, refused.target) == ("rev", filed.id, filed.id)

    review_request(store, filed.id, approve=True, reason="", actor="rev", role="certifier",
                   ontology=rivers)
    with pytest.raises(ContractRefusalError, match="is refused"):
        apply_request(store, filed.id, rivers, actor="rev", role="certifier",
                      contract=strict())
    approved = store.get_change_request(filed.id)
    assert approved is not None and approved.status is RequestStatus.APPROVED
    assert len(store.audit_log(action="refused")) == 2 and store.flagged() == []

    apply_request(store, filed.id, rivers, actor="rev", role="certifier")
    [flagged] = store.flagged()
    assert flagged.triple.subject.id == PARIS.id


# ---------------------------------------------------------------------- the command line

runner = CliRunner()


def test_the_admin_create_edge_case_through_the_cli(kg_path: Path, ontology_path: Path) -> None:
    from verikg_cli.kgcl import app as kgcl_app
    from verikg_cli.main import app as verikg_app

    at = ["--store", f"sqlite:{kg_path}", "--ontology", str(ontology_path)]
    refused = runner.invoke(kgcl_app, ["apply", *at, "--role", "admin", "--actor", "ann",
                                       VERY_LONG])
    assert refused.exit_code == 1, refused.output
    assert refused.stderr.startswith("rejected: line 1: ") and refused.stderr.count("\n") == 1
    assert "not-a-value" in refused.stderr and "create edge 'Loire'" in refused.stderr
    with SQLiteGraphStore(kg_path) as store:
        assert length_of(store) == [] and len(store.assertions()) == 2

    typed = runner.invoke(kgcl_app, ["apply", *at, "--role", "admin", "--actor", "ann",
                                     f"create edge 'Loire' <{R}length> '1012'"])
    assert typed.exit_code == 0, typed.output
    flagged = runner.invoke(kgcl_app, ["apply", *at, "--role", "admin", "--actor", "ann",
                                       CITY_TO_RIVER])
    assert flagged.exit_code == 0, flagged.output
    with SQLiteGraphStore(kg_path) as store:
        assert length_of(store) == [LiteralValue(value="1012", datatype=IRI(XSD + "integer"))]

    soft = runner.invoke(verikg_app, ["quarantine", "--soft", "--store", f"sqlite:{kg_path}"])
    assert soft.exit_code == 0, soft.output
    assert "domain-mismatch" in soft.stdout and "range-mismatch" in soft.stdout
    assert "Paris" in soft.stdout and "1012" not in soft.stdout

    log = runner.invoke(kgcl_app, ["log", "--store", f"sqlite:{kg_path}", "--action",
                                   "refused"])
    assert log.exit_code == 0 and "not-a-value" in log.stdout and "ann (admin)" in log.stdout

    filed = runner.invoke(kgcl_app, ["request", *at, "--actor", "cy", VERY_LONG])
    assert filed.exit_code == 1 and "not-a-value" in filed.stderr
