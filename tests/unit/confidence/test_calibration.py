from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.confidence.calibration import calibration, reliability_diagram


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


def test_calibrator_maps_overconfidence_onto_observed_accuracy() -> None:
    from pipeline.confidence.calibration import Calibrator

    conf = [0.5] * 10 + [1.0] * 10
    hits = [True] * 2 + [False] * 8 + [True] * 6 + [False] * 4
    cal = Calibrator.fit(conf, hits)
    assert cal([0.5, 1.0]) == pytest.approx([0.2, 0.6])
    assert calibration(cal(conf), hits).ece == pytest.approx(0.0)
    assert calibration(conf, hits).ece > 0.3
    assert Calibrator.model_validate_json(cal.model_dump_json())(conf) == cal(conf)
    with pytest.raises(ValueError, match="labelled"):
        Calibrator.fit([], [])
