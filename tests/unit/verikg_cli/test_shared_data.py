from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from verikg_cli.shared_data import shared_data_dir


def test_found_beside_an_ancestor_or_beside_a_local_origin(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.delenv("VERIKG_SHARED_DATA", raising=False)
    (tmp_path / "work" / "shared" / "data").mkdir(parents=True)
    origin = tmp_path / "work" / "main"
    origin.mkdir()
    subprocess.run(["git", "init", "-q", str(origin)], check=True)
    assert shared_data_dir(origin) == tmp_path / "work" / "shared" / "data"
    clone = tmp_path / "elsewhere" / "clone"  # nothing called shared above it
    clone.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    assert shared_data_dir(clone) is None
    subprocess.run(["git", "-C", str(clone), "remote", "add", "origin", str(origin)],
                   check=True)
    assert shared_data_dir(clone) == tmp_path / "work" / "shared" / "data"
    monkeypatch.setenv("VERIKG_SHARED_DATA", str(tmp_path / "mine"))
    assert shared_data_dir(clone) == tmp_path / "mine"


def test_require_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.errors import ConfigurationError
    from verikg_cli.shared_data import require_shared_data

    monkeypatch.setenv("VERIKG_SHARED_DATA", str(tmp_path))
    (tmp_path / "text2kgbench").mkdir()
    assert require_shared_data("text2kgbench") == tmp_path / "text2kgbench"
    with pytest.raises(ConfigurationError, match="kgcl-dev: not at .*VERIKG_SHARED_DATA"):
        require_shared_data("kgcl-dev")
    monkeypatch.delenv("VERIKG_SHARED_DATA")
    clone = tmp_path / "elsewhere" / "clone"  # no shared/data above it, no origin
    clone.mkdir(parents=True)
    with pytest.raises(ConfigurationError, match="text2kgbench: not found"):
        require_shared_data("text2kgbench", repo=clone)
