from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.confidence.calibration import (
    calibration,
    calibration_yaml,
    fit_calibration,
    reliability_diagram,
)
from pipeline.contracts.spec import load_calibration
from pipeline.errors import ConfigurationError
from pipeline.models import CalibrationMap


def test_perfectly_calibrated_has_zero_ece() -> None:
    conf = [0.25] * 4 + [0.75] * 4
    hits = [True, False, False, False, True, True, True, False]
    assert calibration(conf, hits, bins=4).ece == pytest.approx(0.0)


def test_overconfident_scores_have_the_expected_ece() -> None:
    cal = calibration([1.0, 1.0, 0.5, 0.5], [True, False, False, False], bins=10)
    # bin [0.9,1]: conf 1.0, acc 0.5 -> 0.5 gap; bin [0.5,0.6): conf 0.5, acc 0 -> 0.5 gap
    assert cal.ece == pytest.approx(0.5)
    assert [b.count for b in cal.bins if b.count] == [2, 2]
    assert cal.bins[-1].accuracy == 0.5 and cal.bins[-1].mean_confidence == 1.0


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="labels"):
        calibration([0.5], [True, False])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        calibration([1.5], [True])


def test_reliability_diagram_is_a_png(tmp_path: Path) -> None:
    cal = calibration([0.1, 0.9, 0.9], [False, True, False])
    path = reliability_diagram(cal, tmp_path / "d" / "rel.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    empty = reliability_diagram(calibration([], []), tmp_path / "empty.png")
    assert empty.stat().st_size > 0


def test_fitted_map_maps_overconfidence_onto_observed_accuracy() -> None:
    conf = [0.5] * 10 + [1.0] * 10
    hits = [True] * 2 + [False] * 8 + [True] * 6 + [False] * 4
    cal = fit_calibration(conf, hits, fitted_on="test")
    assert [cal.apply(c) for c in (0.5, 1.0)] == pytest.approx([0.2, 0.6])
    assert calibration([cal.apply(c) for c in conf], hits).ece == pytest.approx(0.0)
    assert calibration(conf, hits).ece > 0.3
    with pytest.raises(ValueError, match="labelled"):
        fit_calibration([], [])


def test_calibration_file_round_trips_through_the_contract_loader(tmp_path: Path) -> None:
    cal = fit_calibration([0.1, 0.4, 0.4, 0.9, 0.9], [False, True, False, True, True],
                          fitted_on="five statements")
    path = tmp_path / "calibration.yaml"
    path.write_text(calibration_yaml(cal), encoding="utf-8")
    back = load_calibration(path)
    assert back.fitted_on == "five statements" and back.count == 5
    assert [back.apply(x) for x in (0.1, 0.4, 0.9)] == pytest.approx(
        [cal.apply(x) for x in (0.1, 0.4, 0.9)], abs=1e-6)


@pytest.mark.parametrize(("xs", "ys", "problem"), [
    ((0.5, 0.2), (0.1, 0.2), "xs must be ascending"),
    ((0.2, 0.5), (0.3, 0.1), "monotone"),
    ((0.2,), (0.1, 0.2), "as many xs as ys"),
    ((0.2, 1.5), (0.1, 0.2), r"\[0, 1\]"),
])
def test_a_bad_calibration_file_is_refused_with_its_line(tmp_path: Path, xs: tuple[float, ...],
                                                        ys: tuple[float, ...],
                                                        problem: str) -> None:
    path = tmp_path / "calibration.yaml"
    path.write_text(f"fitted_on: x\ncount: 2\nxs: {list(xs)}\nys: {list(ys)}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigurationError, match=problem):
        load_calibration(path)


def test_interpolation_between_and_clipping_outside_breakpoints() -> None:
    cal = CalibrationMap(xs=(0.2, 0.6), ys=(0.1, 0.5))
    assert [cal.apply(x) for x in (0.0, 0.2, 0.4, 0.6, 1.0)] == pytest.approx(
        [0.1, 0.1, 0.3, 0.5, 0.5])
