"""Run ``benchmarks/gpu.py`` on a leased GPU machine that has PyTorch but not the project's
environment (no FAISS, pydantic, or the packaged model), in one call.

``gpu.py`` needs only ``pipeline.index.torch_scan``, ``benchmarks/kmeans.py`` and the
embedder's model path; the packages ``pipeline`` and ``pipeline.index`` import everything else
on import (FAISS, pydantic, the stores). So this runner registers those two as bare packages
(their modules load from the source tree, their ``__init__`` is not run) and then runs
``gpu.py`` with the arguments it was given. The packaged MiniLM (91 MB of float32 weights) is
over what a lease can carry, and the GPU embeds in float16 anyway, so ``--prepare DIR`` (run
here, in the project's environment) writes a float16 copy of it to ``DIR`` for the lease to
carry and ``gpu.py --model DIR`` to load:

    .venv/bin/python benchmarks/gpu_lease.py --prepare .gpu-carry/minilm-fp16
    # on the lease (carry .gpu-carry):
    python3 benchmarks/gpu_lease.py --model .gpu-carry/minilm-fp16 --budget-s 300
"""

from __future__ import annotations

import runpy
import shutil
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bare_packages() -> None:
    """Make ``pipeline`` and ``pipeline.index`` importable without running their __init__."""
    for name, folder in (("pipeline", ROOT / "pipeline"),
                         ("pipeline.index", ROOT / "pipeline" / "index")):
        module = types.ModuleType(name)
        module.__path__ = [str(folder)]
        sys.modules[name] = module


def prepare(target: Path) -> None:
    """A float16 copy of the packaged model directory at ``target``."""
    from safetensors.torch import load_file, save_file

    sys.path.insert(0, str(ROOT))
    from pipeline.embeddings.embedder import default_model_path

    source = default_model_path()
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("model.safetensors",
                                                                   "*.onnx", "onnx", "openvino"))
    weights = load_file(str(source / "model.safetensors"))
    save_file({k: (v.half() if v.is_floating_point() else v) for k, v in weights.items()},
              str(target / "model.safetensors"), metadata={"format": "pt"})
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    print(f"{target}: {size / 2**20:.1f} MiB (float16 weights of {source})")


def main() -> None:
    if sys.argv[1:2] == ["--prepare"]:
        prepare(Path(sys.argv[2]))
        return
    bare_packages()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.argv = [str(ROOT / "benchmarks" / "gpu.py"), *sys.argv[1:]]
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
