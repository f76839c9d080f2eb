from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipeline.evaluation.shared_data import shared_data_dir


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
