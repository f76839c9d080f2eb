"""A contract file is refused at load with the file, the line and the problem, never
half-read; severities default per check and can be promoted."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.contracts.spec import DEFAULT_SEVERITY, load_contract
from pipeline.errors import ConfigurationError
from pipeline.models import Severity

SHIPPED = Path(__file__).resolve().parents[3] / "contracts" / "extraction.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "contract.yaml"
    path.write_text(text, encoding="utf-8")
    calibration = SHIPPED.parent / "calibration.yaml"
    (tmp_path / "calibration.yaml").write_text(calibration.read_text(encoding="utf-8"),
                                               encoding="utf-8")
    return path


def shipped_with(old: str, new: str) -> str:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


def test_the_shipped_contract_declares_every_severity() -> None:
    spec = load_contract("extraction")
    assert spec.calibration_map is not None and spec.calibration_map.count > 0
    for section in ("output", "postconditions", "graph"):
        for check in spec.enabled(section):
            if check.check not in ("resolve-entities", "declarations-outvoted"):
                assert check.severity is not None, check.check
                assert check.effective_severity is DEFAULT_SEVERITY[check.check]
    assert spec.severity("subject-in-text") is Severity.HARD
    assert spec.severity("shacl") is Severity.SOFT
    assert spec.severity("isolated-islands") is Severity.INFO
    assert set(spec.penalties()) == {"object-is-individual", "literal-datatype",
                                     "types-fit-domain-range", "functional-conflict", "shacl"}


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    text = shipped_with("  - check: shacl\n", "  - check: shacl\n   broken: [\n")
    with pytest.raises(ConfigurationError) as err:
        load_contract(write(tmp_path, text))
    assert "not valid YAML" in str(err.value)
    assert f"contract.yaml:{line_of(text, '   broken: [')}" in str(err.value) or \
        f"contract.yaml:{line_of(text, '   broken: [') + 1}" in str(err.value)


def test_an_unknown_severity_names_its_line(tmp_path: Path) -> None:
    text = shipped_with("    reason: shacl-violation\n    severity: soft\n",
                        "    reason: shacl-violation\n    severity: sometimes\n")
    with pytest.raises(ConfigurationError) as err:
        load_contract(write(tmp_path, text))
    message = str(err.value)
    assert f"contract.yaml:{line_of(text, 'severity: sometimes')}" in message
    assert "graph.3.severity" in message and "'hard', 'soft' or 'info'" in message


def test_a_penalty_out_of_range_names_its_line(tmp_path: Path) -> None:
    text = shipped_with("    reason: shacl-violation\n    severity: soft\n    penalty: 0.5\n",
                        "    reason: shacl-violation\n    severity: soft\n    penalty: 3\n")
    with pytest.raises(ConfigurationError) as err:
        load_contract(write(tmp_path, text))
    assert f"contract.yaml:{line_of(text, 'penalty: 3')}" in str(err.value)


def test_an_output_check_cannot_be_soft(tmp_path: Path) -> None:
    text = shipped_with("    reason: malformed-output\n    severity: hard\n",
                        "    reason: malformed-output\n    severity: soft\n")
    with pytest.raises(ConfigurationError, match="must be hard"):
        load_contract(write(tmp_path, text))


@pytest.mark.parametrize("text", ["", "- a list\n", "just a string\n"])
def test_not_a_mapping_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigurationError, match="contract"):
        load_contract(write(tmp_path, text))


def test_a_missing_calibration_file_is_refused(tmp_path: Path) -> None:
    text = shipped_with("calibration: calibration.yaml", "calibration: nowhere.yaml")
    with pytest.raises(ConfigurationError, match="nowhere.yaml"):
        load_contract(write(tmp_path, text))


def test_a_soft_check_can_be_promoted_to_hard(tmp_path: Path) -> None:
    text = shipped_with("    reason: shacl-violation\n    severity: soft\n",
                        "    reason: shacl-violation\n    severity: hard\n")
    spec = load_contract(write(tmp_path, text))
    assert spec.severity("shacl") is Severity.HARD
    assert "shacl" not in spec.penalties()
    hard = spec.hard_only()
    assert hard.severity("shacl") is Severity.HARD
    assert hard.severity("types-fit-domain-range") is None  # soft: switched off
