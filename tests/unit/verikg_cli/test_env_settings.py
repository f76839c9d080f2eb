"""A setting in the environment that does not validate is one clear line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(("cli", "args"), [
    ("verikg_cli.main", ["quarantine"]),
    ("verikg_cli.kgcl", ["log", "--store", "sqlite:kg.sqlite"]),
])
def test_a_bad_setting_names_the_variable_and_exits_2(cli: str, args: list[str],
                                                       tmp_path: Path) -> None:
    env = {**os.environ, "VERIKG_SAMPLES": "abc", "VERIKG_LLM_CONCURRENCY": "0",
           "VERIKG_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", f"from {cli} import main; main()", *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr
    assert any(line.startswith("error: setting VERIKG_SAMPLES='abc': ") and "integer" in line
               for line in lines), lines
    assert any(line.startswith("error: setting VERIKG_LLM_CONCURRENCY='0': ") for line in lines)
    assert not list(tmp_path.iterdir())  # nothing was created
