"""The contract definitions in ``contracts/`` as typed, validated models.

Every check of a contract has a **severity** (``pipeline.models.Severity``): a *hard* check
refuses what fails it (the candidate is quarantined with its reasons), a *soft* check flags it
(the statement is kept, the violation is recorded on the assertion and multiplies its raw
confidence by the check's ``penalty``), an *info* check only reports. Each known check has a
default severity (``DEFAULT_SEVERITY``); a contract file may promote any soft check to hard.
Output checks are always hard: an answer that does not parse leaves nothing to keep.

A contract file that does not parse, or does not validate, is refused at load with the file,
the line and the problem (``ConfigurationError``), never half-read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, ValidationError, model_validator

from pipeline.errors import ConfigurationError
from pipeline.models import CalibrationMap, Frozen, Severity, ViolationReason

#: the folder of contract files shipped with the project
CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"

_H, _S, _I = Severity.HARD, Severity.SOFT, Severity.INFO
#: the severity of every known check when the contract file does not set one: hard only where
#: the evidence is certain (a predicate the ontology lacks, a name the text never writes,
#: malformed or injection-shaped output, the name of an ontology class used as a thing, a
#: statement relating a name to itself, which the graph cannot hold as two nodes, words where
#: only a number or a date can be); soft where a check can be wrong on true facts
DEFAULT_SEVERITY: dict[str, Severity] = {
    "output-is-json": _H, "output-not-empty": _H,
    "fields-present": _H, "predicate-in-ontology": _H, "subject-in-text": _H,
    "object-in-text": _H, "names-are-plain": _H, "not-a-class": _H, "not-self-loop": _H,
    "literal-is-a-value": _H,
    "object-is-individual": _S, "literal-datatype": _S,
    "types-fit-domain-range": _S, "functional-conflict": _S, "shacl": _S,
    "isolated-islands": _I,
}
#: graph steps that are actions, not checks (they have no severity)
ACTIONS = frozenset({"resolve-entities", "declarations-outvoted"})
#: how much one failed soft check multiplies a statement's raw confidence, unless set per check
DEFAULT_PENALTY = 0.5


class CheckSpec(Frozen):
    check: str
    description: str = ""
    reason: ViolationReason | None = None
    enabled: bool = True
    #: None: the check's default (``DEFAULT_SEVERITY``); hard for a check VeriKG does not know
    severity: Severity | None = None
    #: the factor a failure of this soft check multiplies the raw confidence by
    penalty: Annotated[float, Field(ge=0, le=1)] = DEFAULT_PENALTY

    @property
    def effective_severity(self) -> Severity:
        if self.severity is not None:
            return self.severity
        return DEFAULT_SEVERITY.get(self.check, Severity.HARD)


class RetryPolicy(Frozen):
    max_retries: Annotated[int, Field(ge=0, le=10)] = 2
    unavailable_retries: Annotated[int, Field(ge=0, le=10)] = 3
    backoff_seconds: Annotated[float, Field(ge=0)] = 1.0
    backoff_factor: Annotated[float, Field(ge=1)] = 2.0


class SamplePolicy(Frozen):
    count: Annotated[int, Field(ge=1, le=20)] = 3


class ConfidencePolicy(Frozen):
    #: assertions below this confidence stay out of a verified output
    min_confidence: Annotated[float, Field(ge=0, le=1)] = 0.0
    #: equal-width bins of the reliability diagram and ECE
    calibration_bins: Annotated[int, Field(ge=1, le=100)] = 10
    #: a calibration file beside the contract (``calibration.yaml``); none: raw confidence
    calibration: str | None = None


class ResolutionPolicy(Frozen):
    #: compare label embeddings too (the build's embedder), not only normalised forms
    use_embeddings: bool = False
    embedding_threshold: Annotated[float, Field(ge=0, le=1)] = 0.92
    #: alias → name pairs a curator knows ("ESA": "European Space Agency")
    aliases: dict[str, str] = Field(default_factory=dict)


class DeclarationPolicy(Frozen):
    """When a soft check's failures on one property speak about the property's declaration
    (``pipeline.verify.declarations``)."""

    min_statements: Annotated[int, Field(ge=1)] = 3
    share: Annotated[float, Field(gt=0, le=1)] = 0.5


class ContractSpec(Frozen):
    contract: str
    version: int
    step: str
    description: str = ""
    preconditions: tuple[CheckSpec, ...] = ()
    output: tuple[CheckSpec, ...] = ()
    postconditions: tuple[CheckSpec, ...] = ()
    graph: tuple[CheckSpec, ...] = ()
    retry: RetryPolicy = RetryPolicy()
    samples: SamplePolicy = SamplePolicy()
    confidence: ConfidencePolicy = ConfidencePolicy()
    entity_resolution: ResolutionPolicy = ResolutionPolicy()
    declarations: DeclarationPolicy = DeclarationPolicy()
    #: the map ``confidence.calibration`` names, read with the contract
    calibration_map: CalibrationMap | None = None

    @model_validator(mode="after")
    def _severities(self) -> ContractSpec:
        for c in self.output:
            if c.effective_severity is not Severity.HARD:
                raise ValueError(f"output check {c.check!r} must be hard: an answer that does "
                                 "not parse leaves nothing to keep")
        for c in self.graph:
            if c.check in ACTIONS and c.severity is not None:
                raise ValueError(f"{c.check!r} is an action, not a check: it has no severity")
        return self

    @property
    def tag(self) -> str:
        return f"{self.contract}@v{self.version}"

    def enabled(self, section: str) -> tuple[CheckSpec, ...]:
        return tuple(c for c in getattr(self, section) if c.enabled)

    def check(self, name: str) -> CheckSpec | None:
        """The enabled check called ``name`` in any section, or None."""
        for section in ("output", "postconditions", "graph"):
            for c in self.enabled(section):
                if c.check == name:
                    return c
        return None

    def severity(self, name: str) -> Severity | None:
        """The severity of the enabled check ``name``; None when it is off or absent."""
        found = self.check(name)
        return found.effective_severity if found else None

    def penalties(self) -> dict[str, float]:
        """The confidence factor of every enabled soft check, by name."""
        return {c.check: c.penalty
                for section in ("postconditions", "graph") for c in self.enabled(section)
                if c.effective_severity is Severity.SOFT}

    def hard_only(self) -> ContractSpec:
        """The same contract with every soft and info check switched off: what the hard
        checks alone keep (the evaluation's "verified, hard checks only" column)."""
        def keep(cs: tuple[CheckSpec, ...]) -> tuple[CheckSpec, ...]:
            return tuple(c if c.check in ACTIONS or c.effective_severity is Severity.HARD
                         else c.model_copy(update={"enabled": False}) for c in cs)

        return self.model_copy(update={"postconditions": keep(self.postconditions),
                                       "graph": keep(self.graph)})


# --------------------------------------------------------------------------- loading


def _line_of(node: yaml.Node, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at pydantic's error location ``loc``."""
    line: int | None = node.start_mark.line + 1
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            if found is None:
                break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) \
                and 0 <= key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def _problems(exc: ValidationError, root: yaml.Node | None, path: Path) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = ".".join(str(p) for p in loc) or "(top level)"
        line = _line_of(root, loc) if root is not None else None
        at = f"{path}:{line}" if line else str(path)
        lines.append(f"{at}: {where}: {err['msg']}")
    return "; ".join(lines)


def parse_contract(text: str, *, path: Path, directory: Path | None = None) -> ContractSpec:
    """Validate the text of a contract file; ``directory`` is where a calibration file it
    names is looked for (the contract's own folder)."""
    try:
        root = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigurationError(f"contract file {at}: not valid YAML: {problem}") from exc
    if not isinstance(raw, dict):
        raise ConfigurationError(f"contract file {path}:1: expected a mapping of contract "
                                 f"fields (contract, version, step, ...), found "
                                 f"{type(raw).__name__}")
    if "calibration_map" in raw:
        raise ConfigurationError(f"contract file {path}: calibration_map is read from the file "
                                 "that confidence.calibration names, not written inline")
    try:
        spec = ContractSpec.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(f"contract file is invalid: {_problems(exc, root, path)}"
                                 ) from exc
    name = spec.confidence.calibration
    if name:
        spec = spec.model_copy(update={"calibration_map": load_calibration(
            (directory or path.parent) / name)})
    return spec


def load_calibration(path: Path) -> CalibrationMap:
    """Read a calibration file (``xs``, ``ys``, ``fitted_on``, ``count``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"calibration file {path} cannot be read: {exc}") from exc
    try:
        root = yaml.compose(text)
        raw = yaml.safe_load(text)
        return CalibrationMap.model_validate(raw)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"calibration file {path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        raise ConfigurationError(f"calibration file is invalid: {_problems(exc, root, path)}"
                                 ) from exc


def load_contract(name_or_path: str | Path = "extraction") -> ContractSpec:
    """Load ``contracts/<name>.yaml`` (or a given path) and validate it."""
    path = Path(name_or_path)
    if not path.suffix:
        path = CONTRACTS_DIR / f"{name_or_path}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigurationError(f"contract file {path} not found") from exc
    except OSError as exc:
        raise ConfigurationError(f"contract file {path} cannot be read: {exc}") from exc
    return parse_contract(text, path=path)


__all__ = ["ACTIONS", "CONTRACTS_DIR", "DEFAULT_PENALTY", "DEFAULT_SEVERITY", "CheckSpec",
           "ConfidencePolicy", "ContractSpec", "DeclarationPolicy", "load_calibration",
           "load_contract", "parse_contract"]
