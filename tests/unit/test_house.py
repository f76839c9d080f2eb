"""The house rules that are not import arrows (those are import-linter's contracts in
``pyproject.toml``, run by ``make lint``): the contracts bite, the library never reads the
environment, and no module grows past the size a newcomer can read in one sitting."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("pipeline", "flows", "verikg_cli")
#: a module past this many lines (the goal is ~500) holds more than one job: split it
MAX_LINES = 550


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(exe), "--no-cache", "--config", str(root / "pyproject.toml")],
                          cwd=root, capture_output=True, text=True, timeout=300, check=False,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)})


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the three packages and the import contracts, to break on purpose."""
    root = tmp_path_factory.mktemp("house")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.c"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.slow
def test_the_import_contracts_hold_and_bite(house: Path) -> None:
    kept = _lint_imports(house)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    # the per-answer contract reaching up into the graph-level checks above it
    target = house / "pipeline" / "contracts" / "spec.py"
    original = target.read_text(encoding="utf-8")
    target.write_text(original + "\nimport pipeline.verify  # noqa: E402,F401\n",
                      encoding="utf-8")
    try:
        broken = _lint_imports(house)
    finally:
        target.write_text(original, encoding="utf-8")
    assert broken.returncode != 0
    assert "pipeline.contracts.spec -> pipeline.verify" in broken.stdout


def _python_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_the_library_never_reads_the_environment() -> None:
    """``os.environ``/``os.getenv`` and building ``Settings`` (which reads ``VERIKG_*``) belong
    to the edge: flows and the CLI read settings and pass them in."""
    found = []
    for path in sorted((ROOT / "pipeline").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id == "os" and node.attr in ("environ", "getenv", "putenv")):
                found.append(f"{where} os.{node.attr}")
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id in ("Settings", "DesignSettings")):
                found.append(f"{where} {node.func.id}() reads the environment")
            elif isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                    a.name in ("environ", "getenv", "putenv") for a in node.names):
                found.append(f"{where} from os import ...")
    assert found == []


def test_no_module_holds_several_jobs() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
             for p in _python_files()}
    assert {p: n for p, n in sizes.items() if n > MAX_LINES} == {}
