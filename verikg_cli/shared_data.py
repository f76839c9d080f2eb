"""Where the shared evaluation data lives: read in place, never copied into the project.

Found at the edge (this module reads the environment and asks git), then passed to the
library as a path. In order: ``VERIKG_SHARED_DATA``; ``shared/data`` beside the checkout or
beside any folder above it; beside the origin of a clone made from a local checkout
(``git clone /work/main /tmp/x`` finds ``/work/shared/data``). ``shared_data_dir`` returns
None when nothing is found; ``require_shared_data`` says where it looked instead.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pipeline.errors import ConfigurationError

REPO = Path(__file__).resolve().parents[1]


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


def require_shared_data(*parts: str, repo: Path = REPO) -> Path:
    """``<shared data>/<parts...>``, which must exist; a ``ConfigurationError`` saying where
    it was looked for, and how to point at it, when it does not."""
    base = shared_data_dir(repo)
    found = base.joinpath(*parts) if base is not None else None
    if found is None or not found.exists():
        what = "/".join(parts) or "the shared data folder"
        where = f"not at {found}" if found is not None else "not found"
        raise ConfigurationError(
            f"{what}: {where}; looked at VERIKG_SHARED_DATA, for shared/data beside the "
            f"checkout ({repo}) and above it, and beside its git origin; set "
            "VERIKG_SHARED_DATA to the folder that holds it")
    return found


__all__ = ["require_shared_data", "shared_data_dir"]
