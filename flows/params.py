"""Flow parameters that deploy: plain JSON values in the schema, Python objects kept out.

A deployment's parameters are what a person types into the Prefect UI or a scheduler sends:
strings, numbers, booleans, lists, null. Flows also take Python objects when called
in-process (``Settings``, a progress callback, a fake chat model in tests); ``InProcess[...]``
keeps such a parameter out of the generated JSON schema, so the UI shows no form for it —
in particular none for ``Settings``, whose secrets (``neo4j_password``, ``llm_api_key``)
would otherwise be offered as a form and stored in plain text with the run. In a deployed
run these parameters take their default (None) and the settings come from the worker's
environment (``VERIKG_*``), where secrets belong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic.json_schema import SkipJsonSchema

from pipeline.settings import Settings

T = TypeVar("T")

#: a parameter for in-process callers only: validated as usual, absent from the schema
InProcess = Annotated[T, SkipJsonSchema()]


def with_overrides(settings: Settings | None, **overrides: Any) -> Settings:
    """``settings`` (default: the environment) with every override that is not None
    applied, validated as the settings validate (a path stays a path, bounds hold)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if "data_dir" in given:
        given["data_dir"] = Path(given["data_dir"])
    if settings is None:
        return Settings(**given)
    if not given:
        return settings
    return Settings.model_validate({**settings.model_dump(), **given})


__all__ = ["InProcess", "with_overrides"]
