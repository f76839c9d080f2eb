"""KGCL: change requests parsed with kgcl-schema and applied atomically.

To a knowledge-graph store (``apply_to_store``), to an RDF graph (``apply_to_graph``) or to an
OBO document (``apply_to_obo``); rendered back to text (``render_change``); and computed as the
difference of two versions of an ontology (``diff_graphs``, ``diff_obo``).
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.kgcl.files import guess_format, load_graph, serialize_graph
    from pipeline.kgcl.obo_diff import diff_obo
    from pipeline.kgcl.obo_editor import OboApplyResult, apply_to_obo
    from pipeline.kgcl.obo_format import OboDocument
    from pipeline.kgcl.parser import ParsedChange, parse_change_request, parse_command
    from pipeline.kgcl.rdf_compare import equivalent_graphs
    from pipeline.kgcl.rdf_diff import diff_graphs
    from pipeline.kgcl.rdf_editor import GraphApplyResult, apply_to_graph
    from pipeline.kgcl.render import CHANGE_TYPES, change_fields, render_change, render_changes
    from pipeline.kgcl.store_apply import apply_to_store
    from pipeline.kgcl.store_plan import compile_changes
    from pipeline.kgcl.vocab import PrefixMap

#: every public name and the module that holds it
_NAMES = {
    "guess_format": "files", "load_graph": "files", "serialize_graph": "files",
    "diff_obo": "obo_diff", "OboApplyResult": "obo_editor", "apply_to_obo": "obo_editor",
    "OboDocument": "obo_format", "ParsedChange": "parser",
    "parse_change_request": "parser", "parse_command": "parser",
    "equivalent_graphs": "rdf_compare", "diff_graphs": "rdf_diff",
    "GraphApplyResult": "rdf_editor", "apply_to_graph": "rdf_editor",
    "CHANGE_TYPES": "render", "change_fields": "render", "render_change": "render",
    "render_changes": "render", "PrefixMap": "vocab",
    "apply_to_store": "store_apply", "compile_changes": "store_plan",
}


def __getattr__(name: str) -> object:
    """Each name loads its module on first use: validating a request (``kgcl validate``)
    needs the parser alone, not the diff, the renderer or the store and index stack."""
    if name in _NAMES:
        module = importlib.import_module(f"pipeline.kgcl.{_NAMES[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'pipeline.kgcl' has no attribute {name!r}")


__all__ = ["CHANGE_TYPES", "GraphApplyResult", "OboApplyResult", "OboDocument", "ParsedChange",
           "PrefixMap", "apply_to_graph", "apply_to_obo", "apply_to_store", "change_fields",
           "compile_changes", "diff_graphs", "diff_obo", "equivalent_graphs", "guess_format",
           "load_graph", "parse_change_request", "parse_command", "render_change",
           "render_changes", "serialize_graph"]
