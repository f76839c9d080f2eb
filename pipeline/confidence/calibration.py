"""Is a confidence of 0.8 right 80% of the time? Expected calibration error and the
reliability diagram, wherever gold labels exist.

ECE (Naeini et al., 2015): split [0, 1] into equal-width bins, and weigh each bin's gap between
mean confidence and accuracy by its share of the predictions. A confidence of exactly 1.0 falls
in the last bin.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml

from pipeline.errors import InputError
from pipeline.models import CalibrationMap, Frozen


class CalibrationBin(Frozen):
    lower: float
    upper: float
    count: int
    mean_confidence: float
    accuracy: float


class Calibration(Frozen):
    ece: float
    count: int
    bins: tuple[CalibrationBin, ...]


def calibration(confidences: Sequence[float], correct: Sequence[bool], *,
                bins: int = 10) -> Calibration:
    conf = np.asarray(confidences, dtype=np.float64)
    hit = np.asarray(correct, dtype=np.float64)
    if conf.shape != hit.shape:
        raise InputError(f"{conf.size} confidences but {hit.size} labels")
    if conf.size and (conf.min() < 0 or conf.max() > 1):
        raise InputError("confidences must lie in [0, 1]")
    if bins < 1:
        raise InputError("bins must be at least 1")
    which = np.minimum((conf * bins).astype(int), bins - 1)
    out, ece = [], 0.0
    for b in range(bins):
        mask = which == b
        n = int(mask.sum())
        mc = float(conf[mask].mean()) if n else 0.0
        acc = float(hit[mask].mean()) if n else 0.0
        if n:
            ece += n / conf.size * abs(acc - mc)
        out.append(CalibrationBin(lower=b / bins, upper=(b + 1) / bins, count=n,
                                  mean_confidence=mc, accuracy=acc))
    return Calibration(ece=ece, count=int(conf.size), bins=tuple(out))


def reliability_diagram(cal: Calibration, path: str | Path, *, title: str = "") -> Path:
    """Save the reliability diagram of ``cal`` as a PNG: accuracy per confidence bin against
    the diagonal of perfect calibration, and how many predictions each bin holds."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    width = cal.bins[0].upper - cal.bins[0].lower if cal.bins else 0.1
    lefts = [b.lower for b in cal.bins]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5, 6), height_ratios=(3, 1), sharex=True)
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    top.bar(lefts, [b.accuracy if b.count else 0 for b in cal.bins], width=width,
            align="edge", edgecolor="black", alpha=0.8, label="accuracy")
    shown = [b for b in cal.bins if b.count]
    top.plot([b.mean_confidence for b in shown], [b.accuracy for b in shown], "o",
             color="black", label="mean confidence")
    top.set_ylabel("accuracy (share correct)")
    top.set_ylim(0, 1)
    top.set_title(title or f"Reliability (ECE {cal.ece:.3f}, n={cal.count})")
    top.legend(loc="upper left", fontsize="small")
    bottom.bar(lefts, [b.count for b in cal.bins], width=width, align="edge",
               edgecolor="black", color="tab:grey")
    bottom.set_xlabel("confidence")
    bottom.set_ylabel("count")
    bottom.set_xlim(0, 1)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def fit_calibration(confidences: Sequence[float], correct: Sequence[bool], *,
                    fitted_on: str = "") -> CalibrationMap:
    """A monotone map from raw confidence to the probability of being right, fitted on
    labelled predictions by isotonic regression and stored as its breakpoints (a
    ``CalibrationMap``, the form a contract ships and ``verikg calibrate`` writes)."""
    from sklearn.isotonic import IsotonicRegression

    if not confidences:
        raise InputError("a calibration needs labelled predictions to fit on")
    if len(confidences) != len(correct):
        raise InputError(f"{len(confidences)} confidences but {len(correct)} labels")
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit(np.asarray(confidences, dtype=np.float64), np.asarray(correct, dtype=np.float64))
    xs = tuple(min(max(float(x), 0.0), 1.0) for x in iso.X_thresholds_)
    ys = tuple(min(max(float(y), 0.0), 1.0) for y in iso.y_thresholds_)
    return CalibrationMap(xs=xs, ys=ys, fitted_on=fitted_on, count=len(confidences))


def calibration_yaml(cal: CalibrationMap) -> str:
    """The calibration file a contract names (``confidence.calibration``)."""
    head = ("# Calibration of VeriKG's stored confidence: raw confidence (agreement x soft-check\n"
            "# penalties) -> probability that a statement is right. Isotonic regression on\n"
            "# labelled statements; written by `verikg calibrate`, read with the contract.\n")
    body = {"fitted_on": cal.fitted_on, "count": cal.count,
            "xs": [round(x, 6) for x in cal.xs], "ys": [round(y, 6) for y in cal.ys]}
    return head + yaml.safe_dump(body, sort_keys=False, default_flow_style=None, width=96)


__all__ = ["Calibration", "CalibrationBin", "calibration", "calibration_yaml",
           "fit_calibration", "reliability_diagram"]
