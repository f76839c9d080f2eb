"""The command-line cases of the corpus: each is refused before anything loads, with the exit
code and the message the case names, no traceback, and nothing created at a missing path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.hostile.hostile_corpus import params
from verikg_cli.kgcl import app as kgcl_app
from verikg_cli.main import app as verikg_app

REPO = Path(__file__).resolve().parents[2]
APPS = {"verikg": verikg_app, "kgcl": kgcl_app}


@pytest.mark.parametrize("case", params("cli_arguments.jsonl"))
def test_refused_before_anything_loads(case: dict[str, Any], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    missing = tmp_path / "typo" / "kg.sqlite"
    args = [a.replace("{missing}", str(missing)) for a in case["args"]]
    result = CliRunner().invoke(APPS[case["tool"]], args)
    assert result.exit_code == case["expected"]["exit"], result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    flat = " ".join(result.output.replace("│", " ").split())
    assert case["expected"]["says"] in flat, flat
    assert not missing.parent.exists()
