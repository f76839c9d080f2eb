"""How long a user waits for the command line: each command in a fresh process, the median of
``--repeat`` runs, for this tree and (``--baseline-tree``) another checkout of the project
run side by side in the same session with the same interpreter.

    python benchmarks/cli_latency.py --data-dir BUILT_DATA_DIR [--baseline-tree DIR]

``BUILT_DATA_DIR`` holds a store built from the sample corpus (``verikg build --corpus
data/sample --ontology ontologies/space --data-dir DIR``); every timed command gets its own
copy of it, so a review or a certification always finds the same state (a query is timed
after one untimed query has brought the copy's index up to date). The commands are
what a user types: help, validating a KGCL request, the failures that should be quick (a
missing ontology, an unknown role), a hybrid query, reviewing a change request and certifying
an assertion. Writes ``results/cli_latency.json`` and ``.md``. With
``--baseline-without-bytecode`` the baseline runs as its install left it (no compiled bytecode
of torch and transformers: every command compiled them again), this tree as ``make setup``
installs it now.
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
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
CLIS = {"verikg": "from verikg_cli.main import main; main()",
        "kgcl": "from verikg_cli.kgcl import main; main()"}


#: the interpreter's environment per tree (``--baseline-without-bytecode`` points the
#: baseline's bytecode cache at an empty folder: the install without compiled bytecode)
TREE_ENV: dict[Path, dict[str, str]] = {}


def _cli(tree: Path, name: str, *args: str, data: Path | None = None
         ) -> tuple[float, int, str]:
    """Run one command of ``tree`` in a fresh interpreter; (seconds, exit code, output)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           **TREE_ENV.get(tree, {})}
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
    query = ("verikg", "query", "Which agency operated Cassini?", "--ontology", ontology,
             "--data-dir", str(data))
    # a copied data folder's index names the store by its old path and is rebuilt by the
    # first query: that query settles it, untimed; the timed one is a user's next query
    _cli(tree, *query)
    out["query"] = _cli(tree, *query)
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
    parser.add_argument("--baseline-without-bytecode", action="store_true",
                        help="run the baseline as installed without compiled bytecode (its "
                             "Makefile's uv sync had no --compile-bytecode)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "cli_latency")
    args = parser.parse_args()
    trees = {"this tree": ROOT}
    if args.baseline_tree:
        trees = {"baseline": args.baseline_tree.resolve(), **trees}
    runs: dict[str, dict[str, list[tuple[float, int, str]]]] = {t: {} for t in trees}
    with tempfile.TemporaryDirectory(prefix="verikg-cli-latency-") as tmp:
        if args.baseline_tree and args.baseline_without_bytecode:
            empty = Path(tmp) / "no-bytecode"
            empty.mkdir()
            TREE_ENV[trees["baseline"]] = {"PYTHONPYCACHEPREFIX": str(empty),
                                           "PYTHONDONTWRITEBYTECODE": "1"}
        for _ in range(args.repeat):  # interleaved: both trees see the same machine load
            for name, tree in trees.items():
                for case, result in _cases(tree, args.data_dir.resolve(), Path(tmp)).items():
                    runs[name].setdefault(case, []).append(result)
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for name, cases in runs.items():
        table[name] = {case: {"median_s": round(statistics.median(r[0] for r in results), 3),
                              "runs_s": [round(r[0], 3) for r in results],
                              "exit_codes": [r[1] for r in results],
                              "last_output": results[-1][2]}
                       for case, results in cases.items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{args.out}.json").write_text(json.dumps(
        {"repeat": args.repeat, "trees": {k: str(v) for k, v in trees.items()},
         "baseline_without_bytecode": args.baseline_without_bytecode,
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
            a, b = (float(table[n][case]["median_s"]) for n in names)
            ratio = f" {a / b:.1f}x |" if b > 0 else " - |"
        lines.append(f"| {case} | " + " | ".join(cells) + " |" + ratio)
    Path(f"{args.out}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
