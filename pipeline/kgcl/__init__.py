"""KGCL: change requests parsed with kgcl-schema and applied atomically."""

from pipeline.kgcl.parser import ParsedChange, parse_change_request, parse_command
from pipeline.kgcl.store_apply import apply_to_store, compile_changes

__all__ = ["ParsedChange", "apply_to_store", "compile_changes", "parse_change_request",
           "parse_command"]
