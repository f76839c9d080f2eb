"""The contract definitions in ``contracts/`` as typed, validated models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import Field, ValidationError

from pipeline.errors import ConfigurationError
from pipeline.models import Frozen, ViolationReason

#: the folder of contract files shipped with the project
CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"


class CheckSpec(Frozen):
    check: str
    description: str = ""
    reason: ViolationReason | None = None
    enabled: bool = True


class RetryPolicy(Frozen):
    max_retries: Annotated[int, Field(ge=0, le=10)] = 2
    unavailable_retries: Annotated[int, Field(ge=0, le=10)] = 3
    backoff_seconds: Annotated[float, Field(ge=0)] = 1.0
    backoff_factor: Annotated[float, Field(ge=1)] = 2.0


class SamplePolicy(Frozen):
    count: Annotated[int, Field(ge=1, le=20)] = 3


class ConfidencePolicy(Frozen):
    #: assertions below this confidence are kept out of a verified output
    min_confidence: Annotated[float, Field(ge=0, le=1)] = 0.0
    #: equal-width bins of the reliability diagram and ECE
    calibration_bins: Annotated[int, Field(ge=1, le=100)] = 10


class ResolutionPolicy(Frozen):
    #: compare label embeddings too (the build's embedder), not only normalised forms
    use_embeddings: bool = False
    embedding_threshold: Annotated[float, Field(ge=0, le=1)] = 0.92
    #: alias → name pairs a curator knows ("ESA": "European Space Agency")
    aliases: dict[str, str] = Field(default_factory=dict)


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

    @property
    def tag(self) -> str:
        return f"{self.contract}@v{self.version}"

    def enabled(self, section: str) -> tuple[CheckSpec, ...]:
        return tuple(c for c in getattr(self, section) if c.enabled)


def load_contract(name_or_path: str | Path = "extraction") -> ContractSpec:
    """Load ``contracts/<name>.yaml`` (or a given path) and validate it."""
    path = Path(name_or_path)
    if not path.suffix:
        path = CONTRACTS_DIR / f"{name_or_path}.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return ContractSpec.model_validate(raw)
    except FileNotFoundError as exc:
        raise ConfigurationError(f"contract file {path} not found") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigurationError(f"contract file {path} is invalid: {exc}") from exc
