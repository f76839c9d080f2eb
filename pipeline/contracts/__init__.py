"""Contracts: what every LLM answer must satisfy, loaded from ``contracts/*.yaml``.

The per-answer contract (output checks and post-conditions, each hard or soft) lives here; the
checks on the assembled graph are ``pipeline.verify``.
"""

from pipeline.contracts.checks import CHECKS, parse_literal, resolve_property
from pipeline.contracts.runner import TripleContract, parse_output
from pipeline.contracts.spec import ContractSpec, load_contract

__all__ = [
    "CHECKS",
    "ContractSpec",
    "TripleContract",
    "load_contract",
    "parse_literal",
    "parse_output",
    "resolve_property",
]
