"""Starting a command loads only what it needs: the help pages and argument checks come before
Prefect, the model layer, torch or sentence-transformers are imported, and naming the
embedder's model loads no model."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = ("prefect", "torch", "sentence_transformers", "langchain_core", "pydantic_settings",
         "pipeline.models", "kgcl_schema", "rdflib")


def _loaded(code: str, *, env: dict[str, str] | None = None) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=300, env={**os.environ, **(env or {})})
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_command_lines_import_nothing_heavy() -> None:
    loaded = _loaded("import verikg_cli.main, verikg_cli.kgcl")
    assert not [m for m in HEAVY if m in loaded]


def test_naming_the_embedder_loads_no_model() -> None:
    loaded = _loaded("from flows.clients import make_embedder\n"
                     "from pipeline.settings import Settings\n"
                     "print(make_embedder(Settings()).model_id)",
                     env={"VERIKG_EMBEDDING_PRECISION": "fp32"})
    assert "sentence_transformers" not in loaded and "torch" not in loaded
    assert "prefect" not in loaded and "langchain_core" not in loaded
