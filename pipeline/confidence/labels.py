"""A user's labelled sample of statements: is each one right? The data ``verikg calibrate``
fits a calibration map on, and the gold a build's stored confidence is checked against.

A labels file is JSON Lines or CSV. Each record names a statement either by its assertion id
(``assertion``) or by ``subject``, ``predicate`` and ``object`` as a person would write them
(case, spacing and underscores ignored; the predicate by its IRI, local name or label), and says
``correct`` (true/false, yes/no, 1/0). A record that names no stored statement is reported,
never silently dropped.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from pathlib import Path

from pipeline.confidence.scoring import ConfidenceModel
from pipeline.errors import InputError
from pipeline.models import Assertion, Frozen, LabelledCalibration, LabelledPoint, local_name

_TRUE = {"true", "yes", "1", "y", "t", "correct", "right"}
_FALSE = {"false", "no", "0", "n", "f", "wrong", "incorrect"}


class Label(Frozen):
    """One labelled statement, as the labels file gives it (``line`` for messages)."""

    line: int
    correct: bool
    assertion: str = ""
    subject: str = ""
    predicate: str = ""
    object: str = ""

    def describe(self) -> str:
        return self.assertion or f"({self.subject} | {self.predicate} | {self.object})"




def _flag(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InputError(f"{where}: 'correct' must be true or false, not {value!r}")


def _label(record: dict[str, object], where: str, line: int) -> Label:
    if "correct" not in record:
        raise InputError(f"{where}: a label needs \"correct\" (true or false)")
    fields = {k: str(record.get(k) or "").strip()
              for k in ("assertion", "subject", "predicate", "object")}
    if not fields["assertion"] and not all(fields[k] for k in ("subject", "predicate",
                                                                "object")):
        raise InputError(f"{where}: a label names a statement by \"assertion\" (its id) or by "
                         "\"subject\", \"predicate\" and \"object\"")
    return Label(line=line, correct=_flag(record["correct"], where), **fields)


def read_labels(path: Path) -> list[Label]:
    """The labels of a JSON Lines (``.jsonl``/``.json``) or CSV file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the labels file {path}: {exc}") from exc
    labels: list[Label] = []
    if Path(path).suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        for n, row in enumerate(reader, 2):
            labels.append(_label(dict(row), f"{path}:{n}", n))
    else:
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{n}: not a JSON object: {exc.msg}") from exc
            if not isinstance(record, dict):
                raise InputError(f"{path}:{n}: expected a JSON object per line")
            labels.append(_label(record, f"{path}:{n}", n))
    if not labels:
        raise InputError(f"{path}: no labels in the file")
    return labels


def _key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text).casefold()


def _predicate_keys(iri: str) -> set[str]:
    name = local_name(iri)
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return {_key(iri), _key(name), _key(spaced)}


def match_labels(labels: Sequence[Label], assertions: Sequence[Assertion],
                 model: ConfidenceModel) -> tuple[list[LabelledPoint], list[Label]]:
    """The labelled statements found among ``assertions`` (with the raw score ``model`` gives
    them and their stored confidence), and the labels that name no assertion."""
    by_id: dict[str, Assertion] = {a.id: a for a in assertions}
    by_triple: dict[tuple[str, str, str], list[Assertion]] = {}
    for a in assertions:
        for p in _predicate_keys(a.triple.predicate):
            by_triple.setdefault((_key(a.triple.subject.label), p,
                                  _key(a.triple.object_label)), []).append(a)
    points: list[LabelledPoint] = []
    missing: list[Label] = []
    for label in labels:
        found: list[Assertion]
        if label.assertion:
            found = [by_id[label.assertion]] if label.assertion in by_id else []
        else:
            found = by_triple.get((_key(label.subject), _key(label.predicate),
                                   _key(label.object)), [])
        if not found:
            missing.append(label)
            continue
        for a in found:
            points.append(LabelledPoint(assertion=a.id, raw=model.raw(a.provenance,
                                                                        a.violations),
                                        confidence=a.confidence, correct=label.correct))
    return points, missing




def check_calibration(labels: Sequence[Label], assertions: Sequence[Assertion],
                      model: ConfidenceModel, diagram: Path, *,
                      bins: int = 10) -> LabelledCalibration:
    """The stored confidence of the labelled statements against their labels: ECE and a
    reliability diagram written to ``diagram``."""
    from pipeline.confidence.calibration import calibration, reliability_diagram

    points, missing = match_labels(labels, assertions, model)
    cal = calibration([p.confidence for p in points], [p.correct for p in points], bins=bins)
    png = reliability_diagram(cal, diagram, title=f"stored confidence on {len(points)} labelled "
                                                  f"statements (ECE {cal.ece:.3f})")
    return LabelledCalibration(labels=len(labels), found=len(points),
                               right=sum(p.correct for p in points), missing=len(missing),
                               ece=round(cal.ece, 6), diagram=str(png))


__all__ = [
    "Label",
    "check_calibration",
    "match_labels",
    "read_labels",
]
