"""Which way the imports of the verification packages point (DESIGN.md, "Which way the imports
point"): the per-answer contract knows nothing of the graph-level checks above it, the text
helpers nothing of any stage, and nothing below ``pipeline.verify`` reaches up into it. Read
from the source with ``ast``, so a wrong arrow fails here the day it is written."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"


def imports_of(package: str) -> dict[str, set[str]]:
    """``pipeline.*`` modules each file of ``package`` imports (top level or in a function)."""
    out: dict[str, set[str]] = {}
    for path in sorted((PIPELINE / package).rglob("*.py")):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        out[str(path.relative_to(PIPELINE.parent))] = {m for m in found
                                                       if m.startswith("pipeline")}
    return out


def reaching(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{file} imports {module}" for file, modules in imports_of(package).items()
            for module in sorted(modules)
            if any(module == f or module.startswith(f + ".") for f in forbidden)]


@pytest.mark.parametrize(("package", "forbidden"), [
    # the per-answer contract sits below confidence, resolve and the graph-level checks
    ("contracts", ("pipeline.verify", "pipeline.confidence", "pipeline.resolve",
                   "pipeline.evaluation", "pipeline.store", "pipeline.index")),
    # below verify, nothing reaches up into it
    ("confidence", ("pipeline.verify", "pipeline.resolve", "pipeline.evaluation")),
    ("resolve", ("pipeline.verify", "pipeline.evaluation")),
    ("extract", ("pipeline.verify", "pipeline.confidence", "pipeline.resolve")),
    ("ontology", ("pipeline.verify", "pipeline.confidence", "pipeline.resolve",
                  "pipeline.contracts.runner")),
    ("store", ("pipeline.verify", "pipeline.contracts", "pipeline.confidence")),
])
def test_no_import_points_up(package: str, forbidden: tuple[str, ...]) -> None:
    assert reaching(package, forbidden) == []


def test_text_helpers_depend_on_no_stage() -> None:
    allowed = ("pipeline.text", "pipeline.models", "pipeline.errors")
    wrong = [f"{file} imports {m}" for file, modules in imports_of("text").items()
             for m in sorted(modules) if not any(m == a or m.startswith(a + ".")
                                                 for a in allowed)]
    assert wrong == []


def test_verify_is_above_what_it_checks() -> None:
    used = {m for modules in imports_of("verify").values() for m in modules}
    assert {"pipeline.contracts.spec", "pipeline.confidence", "pipeline.resolve"} <= used
