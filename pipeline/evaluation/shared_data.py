"""Where the shared evaluation data lives: read in place, never copied into the project.

In order: ``VERIKG_SHARED_DATA``; ``shared/data`` beside the checkout or beside any folder
above it; beside the origin of a clone made from a local checkout (``git clone /work/main
/tmp/x`` finds ``/work/shared/data``). None when nothing is found.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _origin_dir(repo: Path) -> Path | None:
    try:
        url = subprocess.run(["git", "-C", str(repo), "config", "--get", "remote.origin.url"],
                             capture_output=True, text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    url = url.strip().removeprefix("file://")
    path = Path(url) if url else None
    return path.resolve() if path is not None and path.is_dir() else None


def shared_data_dir(repo: Path = REPO) -> Path | None:
    env = os.environ.get("VERIKG_SHARED_DATA")
    if env:
        return Path(env)
    origin = _origin_dir(repo)
    for base in (repo, *repo.parents, *((origin, *origin.parents) if origin else ())):
        candidate = base / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return None


__all__ = ["shared_data_dir"]
