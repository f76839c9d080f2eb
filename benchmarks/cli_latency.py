"""How long a user waits for the command line: each command in a fresh process, the median of
``--repeat`` runs, for this tree and (``--baseline-tree``) another checkout of the project
run side by side in the same session with the same interpreter.

    python benchmarks/cli_latency.py --data-dir BUILT_DATA_DIR [--baseline-tree DIR]

``BUILT_DATA_DIR`` holds a store built from the sample corpus (``verikg build --corpus
data/sample --ontology ontologies/space --data-dir DIR``); every timed command gets its own
copy of it, so a review or a certification always finds the same state. The commands are
what a user types: help, validating a KGCL request, the failures that should be quick (a
missing ontology, an unknown role), a hybrid query, reviewing a change request and certifying
an assertion. Writes ``results/cli_latency.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
CLIS = {"verikg": "from verikg_cli.main import main; main()",
        "kgcl": "from verikg_cli.kgcl import main; main()"}


def _cli(tree: Path, name: str, *args: str, data: Path | None = None
         ) -> tuple[float, int, str]:
    """Run one command of ``tree`` in a fresh interpreter; (seconds, exit code, output)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    if data is not None:
        env["VERIKG_DATA_DIR"] = str(data)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CLIS[name], *args], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    return time.perf_counter() - start, done.returncode, (done.stdout + done.stderr)[-400:]


def _one_assertion(data: Path) -> str:
    with sqlite3.connect(data / "kg.sqlite") as conn:
        row = conn.execute("SELECT id FROM assertions WHERE status = 'draft' ORDER BY id "
                           "LIMIT 1").fetchone()
    return str(row[0])


def _one_entity(data: Path) -> tuple[str, str]:
    with sqlite3.connect(data / "kg.sqlite") as conn:
        row = conn.execute("SELECT id, label FROM entities ORDER BY id LIMIT 1").fetchone()
    return str(row[0]), str(row[1])


def _cases(tree: Path, built: Path, scratch: Path) -> dict[str, tuple[float, int, str]]:
    """One timed run of every command on ``tree``; each gets a fresh copy of the store."""
    def fresh(name: str) -> Path:
        target = scratch / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(built, target)
        return target

    ontology = "ontologies/space"
    out: dict[str, tuple[float, int, str]] = {}
    out["verikg --help"] = _cli(tree, "verikg", "--help")
    out["kgcl validate"] = _cli(tree, "kgcl", "validate",
                                "rename ent:x from 'Old name' to 'New name'")
    out["build, missing ontology"] = _cli(
        tree, "verikg", "build", "--corpus", "data/sample", "--ontology", "no/such/ontology",
        "--data-dir", str(fresh("b")))
    data = fresh("q")
    out["query"] = _cli(tree, "verikg", "query", "Which agency operated Cassini?",
                        "--ontology", ontology, "--data-dir", str(data))
    data = fresh("c")
    store = f"sqlite:{data / 'kg.sqlite'}"
    out["certify, unknown role"] = _cli(tree, "kgcl", "certify", _one_assertion(data),
                                        "--store", store, "--actor", "carol", "--role", "boss")
    out["certify"] = _cli(tree, "kgcl", "certify", _one_assertion(data), "--store", store,
                          "--actor", "carol", "--role", "certifier", data=data)
    data = fresh("r")
    store = f"sqlite:{data / 'kg.sqlite'}"
    entity, label = _one_entity(data)
    secs, code, text = _cli(tree, "kgcl", "request", f"rename {entity} from '{label}' to "
                            f"'{label} (renamed)'", "--store", store, "--actor", "alice",
                            "--ontology", ontology, data=data)
    request_id = next((w for w in text.split() if w.startswith("cr-")), "")
    if code != 0 or not request_id:
        raise SystemExit(f"{tree}: kgcl request failed ({code}): {text}")
    out["review --approve"] = _cli(tree, "kgcl", "review", request_id, "--approve", "--store",
                                   store, "--actor", "bob", "--role", "admin",
                                   "--ontology", ontology, data=data)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True,
                        help="a data directory holding a store built from data/sample")
    parser.add_argument("--baseline-tree", type=Path, help="another checkout to compare with")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "cli_latency")
    args = parser.parse_args()
    trees = {"this tree": ROOT}
    if args.baseline_tree:
        trees = {"baseline": args.baseline_tree.resolve(), **trees}
    runs: dict[str, dict[str, list[tuple[float, int, str]]]] = {t: {} for t in trees}
    with tempfile.TemporaryDirectory(prefix="verikg-cli-latency-") as tmp:
        for _ in range(args.repeat):  # interleaved: both trees see the same machine load
            for name, tree in trees.items():
                for case, result in _cases(tree, args.data_dir.resolve(), Path(tmp)).items():
                    runs[name].setdefault(case, []).append(result)
    table: dict[str, dict[str, dict[str, object]]] = {}
    for name, cases in runs.items():
        table[name] = {case: {"median_s": round(statistics.median(r[0] for r in results), 3),
                              "runs_s": [round(r[0], 3) for r in results],
                              "exit_codes": [r[1] for r in results],
                              "last_output": results[-1][2]}
                       for case, results in cases.items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{args.out}.json").write_text(json.dumps(
        {"repeat": args.repeat, "trees": {k: str(v) for k, v in trees.items()},
         "results": table}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    names = list(trees)
    lines = ["| command | " + " | ".join(f"{n}: median s (exit)" for n in names)
             + (" | ratio |" if len(names) == 2 else " |"),
             "|---|" + "---|" * (len(names) + (1 if len(names) == 2 else 0))]
    for case in table[names[-1]]:
        cells = [f"{table[n][case]['median_s']:.2f} ({table[n][case]['exit_codes'][-1]})"
                 for n in names]
        ratio = ""
        if len(names) == 2:
            a, b = (float(table[n][case]["median_s"]) for n in names)  # type: ignore[arg-type]
            ratio = f" {a / b:.1f}x |" if b > 0 else " - |"
        lines.append(f"| {case} | " + " | ".join(cells) + " |" + ratio)
    Path(f"{args.out}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
