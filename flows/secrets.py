"""Secrets at the edge: the Neo4j password and the LLM API key, from settings or Prefect.

A secret reaches VeriKG in one of two ways: directly, as ``VERIKG_NEO4J_PASSWORD`` /
``VERIKG_LLM_API_KEY`` (``SecretStr`` fields, never printed), or by name, as
``VERIKG_NEO4J_PASSWORD_BLOCK`` / ``VERIKG_LLM_API_KEY_BLOCK`` naming a Prefect ``Secret``
block. The block is the production way: the value lives in the Prefect server's database
(obfuscated in the UI and the API's block views), so workers, compose files and job templates
carry only its name. ``resolve_secrets`` loads the named blocks here, where clients are built,
because ``pipeline/`` never imports Prefect. A value given directly wins over a block, and a
secret the run does not need (the Neo4j password for a SQLite store, the key for the embedded
LLM) is not fetched at all.

Errors say which block or setting is wrong and what to do; they never contain a value.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from pydantic import SecretStr

from pipeline.errors import ConfigurationError
from pipeline.settings import Settings

SecretField = Literal["neo4j_password", "llm_api_key"]
ALL_SECRETS: tuple[SecretField, ...] = ("neo4j_password", "llm_api_key")


@dataclass(frozen=True)
class _Source:
    """Where one secret may come from: its field, and the field naming its block."""

    field: SecretField
    block_field: str
    variable: str
    block_variable: str


_SOURCES: dict[SecretField, _Source] = {
    "neo4j_password": _Source("neo4j_password", "neo4j_password_block",
                              "VERIKG_NEO4J_PASSWORD", "VERIKG_NEO4J_PASSWORD_BLOCK"),
    "llm_api_key": _Source("llm_api_key", "llm_api_key_block",
                           "VERIKG_LLM_API_KEY", "VERIKG_LLM_API_KEY_BLOCK"),
}


def resolve_secrets(settings: Settings, fields: Collection[str] = ALL_SECRETS) -> Settings:
    """``settings`` with each secret in ``fields`` filled from its Prefect ``Secret`` block
    when the block is named, the plain value is empty and the run needs that secret.

    Returns ``settings`` itself when nothing changes, else a copy. Also refuses a Neo4j
    address that carries credentials (``bolt://user:password@host``), since the address is
    logged and reported; the refusal shows the address with the credentials masked.
    Raises ``ConfigurationError`` for a named block that is missing, unreadable or not a
    non-empty string, ``ValueError`` for a field that is not a secret.
    """
    unknown = set(fields) - set(_SOURCES)
    if unknown:
        raise ValueError(f"not secret settings: {sorted(unknown)}; use {list(ALL_SECRETS)}")
    updates: dict[str, SecretStr] = {}
    for name in fields:
        source = _SOURCES[cast(SecretField, name)]
        if name == "neo4j_password":
            if not _uses_neo4j(settings):
                continue
            refuse_credentials_in_uri(settings.store)
        elif settings.llm.strip().lower() != "openai":
            continue
        block = str(getattr(settings, source.block_field)).strip()
        current: SecretStr = getattr(settings, name)
        if block and not current.get_secret_value():
            updates[name] = SecretStr(_load_block(block, source))
    return settings.model_copy(update=updates) if updates else settings


def refuse_credentials_in_uri(store: str) -> None:
    """Raise ``ConfigurationError`` when a Neo4j address has a user or password in it.

    The Neo4j driver rejects such an address anyway, but its message quotes the address in
    full; this one masks the credentials and says where the password belongs instead."""
    parts = urlsplit(store.strip())
    if "@" not in parts.netloc:
        return
    host = parts.netloc.rpartition("@")[2]
    masked = f"{parts.scheme}://***@{host}{parts.path}"
    raise ConfigurationError(
        f"VERIKG_STORE carries credentials in the address ({masked}); give the address "
        "alone and the password as VERIKG_NEO4J_PASSWORD or a Prefect Secret block named by "
        "VERIKG_NEO4J_PASSWORD_BLOCK (the user is VERIKG_NEO4J_USER)")


def _uses_neo4j(settings: Settings) -> bool:
    return not settings.store_descriptor().strip().lower().startswith("sqlite:")


def _load_block(name: str, source: _Source) -> str:
    """The string a Prefect ``Secret`` block holds, read through the configured Prefect API
    (the ephemeral one when ``PREFECT_API_URL`` is unset)."""
    from prefect.blocks.system import Secret

    try:
        block = cast("Secret[Any]", Secret.load(name))  # sync here: no event loop runs
    except ValueError as exc:  # Prefect's "Unable to find block document named ..."
        raise ConfigurationError(
            f"{source.block_variable} names the Prefect Secret block {name!r}, which the "
            "Prefect API does not hold; create it (prefect block create secret, or "
            f"Secret(value=...).save({name!r})), fix the name, or set {source.variable}"
        ) from exc
    except Exception as exc:
        raise ConfigurationError(
            f"cannot read the Prefect Secret block {name!r} ({source.block_variable}): "
            f"{type(exc).__name__}; check PREFECT_API_URL and that the Prefect server is "
            "running") from exc
    # the raw value: ``Secret.get()`` would JSON-decode it, turning "12345678" into an int
    raw = block.value.get_secret_value()
    if not isinstance(raw, str) or not raw:
        kind = "an empty string" if raw == "" else f"a {type(raw).__name__}"
        raise ConfigurationError(
            f"the Prefect Secret block {name!r} ({source.block_variable}) holds {kind}, not "
            f"the {source.variable.removeprefix('VERIKG_').lower().replace('_', ' ')} as a "
            "non-empty string")
    return raw


__all__ = ["ALL_SECRETS", "SecretField", "refuse_credentials_in_uri", "resolve_secrets"]
