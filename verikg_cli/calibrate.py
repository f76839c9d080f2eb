"""``verikg calibrate``: fit the map from raw to stored confidence on labelled statements.

Registered on the main app by ``register`` (one line in ``verikg_cli.main``). The labelled
sample is either a labels file over a built store (``--labels``, see
``pipeline.confidence.labels``) or the results of ``verikg eval text2kgbench`` (``--eval``,
whose points carry each verified triple's raw score and whether gold holds it). The map is
written where the contract's ``confidence.calibration`` points (or ``--out``), so the next build
stores calibrated confidence; the stored confidence's ECE on the labels before, and the new
map's (in-sample) after, are printed, with a reliability diagram beside the map.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from pipeline.errors import InputError, VeriKGError

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(Text.assemble(("error: ", "bold red"), message))
    return typer.Exit(code=code)


def _eval_points(paths: list[Path]) -> list[tuple[float, float, bool]]:
    points: list[tuple[float, float, bool]] = []
    for path in paths:
        try:
            result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            found = result["confidence"]["points"]
            points.extend((float(p["raw"]), float(p["confidence"]), bool(p["correct"]))
                          for p in found)
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc}") from exc
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path} is not a result of `verikg eval text2kgbench` with "
                             f"confidence points ({type(exc).__name__}: {exc})") from exc
    return points


def _store_points(labels: Path, store: str | None, data_dir: Path | None,
                  contract: str) -> list[tuple[float, float, bool]]:
    from flows.clients import make_store
    from pipeline.confidence import ConfidenceModel
    from pipeline.confidence.labels import match_labels, read_labels
    from pipeline.contracts import load_contract
    from pipeline.settings import Settings

    overrides: dict[str, object] = {}
    if store:
        overrides["store"] = store
    if data_dir:
        overrides["data_dir"] = data_dir
    settings = Settings(**overrides)  # type: ignore[arg-type]
    descriptor = settings.store_descriptor()
    if descriptor.startswith("sqlite:"):
        path = descriptor.removeprefix("sqlite:")
        if not Path(path).is_file():
            raise InputError(f"no store at {path}: build one first (verikg build) or pass "
                             "--store")
    wanted = read_labels(labels)
    model = ConfidenceModel.from_spec(load_contract(contract))
    with make_store(settings) as graph:
        points, missing = match_labels(wanted, graph.assertions(), model)
    for label in missing:
        err.print(f"warning: {labels}:{label.line}: no stored statement "
                  f"{label.describe()}", highlight=False, markup=False)
    return [(p.raw, p.confidence, p.correct) for p in points]


def calibrate(
    labels: Annotated[Path | None, typer.Option(
        help="labelled statements over the store (JSONL or CSV: assertion or "
             "subject/predicate/object, and correct)", exists=True, dir_okay=False)] = None,
    eval_result: Annotated[list[Path] | None, typer.Option(
        "--eval", help="a RESULT.json of `verikg eval text2kgbench`; repeatable",
        exists=True, dir_okay=False)] = None,
    store: Annotated[str | None, typer.Option(help="store descriptor (with --labels)")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="state folder (default .verikg)")]
    = None,
    contract: Annotated[str, typer.Option(help="contract name or file")] = "extraction",
    out: Annotated[Path | None, typer.Option(
        help="where to write the map (default: the file the contract's "
             "confidence.calibration names, else calibration.yaml beside the contract)")]
    = None,
    bins: Annotated[int, typer.Option(min=1, max=100, help="bins of the ECE")] = 10,
    fitted_on: Annotated[str | None, typer.Option(
        help="what the labels are, written into the map (default: the files' names)")] = None,
) -> None:
    """Fit the calibration of stored confidence on labelled statements and write it."""
    from pipeline.confidence.calibration import (
        calibration,
        calibration_yaml,
        fit_calibration,
        reliability_diagram,
    )
    from pipeline.contracts.spec import CONTRACTS_DIR, load_contract

    if (labels is None) == (not eval_result):
        raise _fail("give either --labels (over a store) or --eval (benchmark results)", 2)
    try:
        spec = load_contract(contract)
        points = (_store_points(labels, store, data_dir, contract) if labels is not None
                  else _eval_points(eval_result or []))
        if not points:
            raise InputError("no labelled statement was found: nothing to fit on")
        source = (f"{len(points)} labelled statements of {labels.name}" if labels is not None
                  else f"{len(points)} verified triples of " + ", ".join(
                      p.name for p in eval_result or []))
        fitted = fit_calibration([r for r, _, _ in points], [ok for _, _, ok in points],
                                 fitted_on=fitted_on or source)
    except VeriKGError as exc:
        raise _fail(str(exc)) from exc
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    contract_dir = Path(contract).parent if Path(contract).suffix else CONTRACTS_DIR
    target = out or contract_dir / (spec.confidence.calibration or "calibration.yaml")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(calibration_yaml(fitted), encoding="utf-8")
    correct = [ok for _, _, ok in points]
    before = calibration([c for _, c, _ in points], correct, bins=bins)
    after = calibration([fitted.apply(r) for r, _, _ in points], correct, bins=bins)
    png = reliability_diagram(after, target.with_suffix(".reliability.png"),
                              title=f"after calibration (in-sample ECE {after.ece:.3f})")
    console.print(f"labelled statements: {len(points)} ({sum(correct)} right)",
                  highlight=False)
    console.print(f"ECE of the stored confidence: {before.ece:.3f}; with the new map "
                  f"(in-sample): {after.ece:.3f}", highlight=False)
    console.print(f"wrote {target} and {png}", highlight=False)
    if not spec.confidence.calibration:
        console.print(f"the contract names no calibration file yet: set confidence.calibration"
                      f" to {target.name} in it to use this map", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate)


__all__ = ["calibrate", "register"]
