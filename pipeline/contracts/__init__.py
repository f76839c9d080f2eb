"""Contracts: the checks every LLM output must pass, loaded from ``contracts/*.yaml``."""

from pipeline.contracts.checks import CHECKS, parse_literal, resolve_property
from pipeline.contracts.graph_checks import check_types, type_violations
from pipeline.contracts.grounding import find_mention
from pipeline.contracts.runner import (
    AcceptedTriple,
    OutputReport,
    RejectedCandidate,
    TripleContract,
    parse_output,
)
from pipeline.contracts.spec import ContractSpec, load_contract

__all__ = ["CHECKS", "AcceptedTriple", "ContractSpec", "OutputReport", "RejectedCandidate",
           "TripleContract", "check_types", "find_mention", "load_contract", "parse_literal",
           "parse_output", "resolve_property", "type_violations"]
