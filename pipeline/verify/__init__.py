"""Graph-level verification, after confidence and before anything is stored: entity
resolution, type fit from evidence, functional conflicts, SHACL, islands — each flagging (soft)
or refusing (hard) as the contract declares, then the statements scored again.

The per-answer contract (what one LLM answer must satisfy, with corrective retries) is
``pipeline.contracts``; this package sits above it, confidence and resolve.
"""

from pipeline.verify.conflicts import resolve_functional_conflicts
from pipeline.verify.declarations import waive_declaration_conflicts
from pipeline.verify.islands import find_islands
from pipeline.verify.records import quarantine_records
from pipeline.verify.runner import run_graph_checks
from pipeline.verify.shacl import shapes_for, validate_batch
from pipeline.verify.types import (
    ClassSupport,
    TypeEvidence,
    check_types,
    entity_classes,
    type_evidence,
    type_violations,
)

__all__ = ["ClassSupport", "TypeEvidence", "check_types", "entity_classes", "find_islands",
           "quarantine_records", "resolve_functional_conflicts", "run_graph_checks",
           "shapes_for", "type_evidence", "type_violations", "validate_batch",
           "waive_declaration_conflicts"]
