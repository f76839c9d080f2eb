"""The graph store: assertions with provenance, lifecycle status, roles and an audit log.

Pick a backend with a descriptor (as oaklib's ``get_adapter``): ``sqlite:PATH`` for the
embedded default, or a Bolt URI (``bolt://``, ``neo4j://``, ``+s``/``+ssc`` variants) for
Neo4j. ``open_store`` returns the store already opened; close it (or use ``with``) when done.
"""

from __future__ import annotations

from pydantic import SecretStr

from pipeline.errors import ConfigurationError
from pipeline.settings import EMBEDDED_STORE_FILE, Settings
from pipeline.store.base import ROLE_RIGHTS, GraphStore, RecordedOntology
from pipeline.store.neo4j import Neo4jGraphStore
from pipeline.store.rules import canonical
from pipeline.store.sqlite import SQLiteGraphStore

_BOLT_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


def open_store(descriptor: str, settings: Settings | None = None, *,
               create: bool = True) -> GraphStore:
    """Build the store ``descriptor`` names and open it.

    ``create=False`` (every command that only reads or changes an existing store): an
    embedded store's file must already hold a VeriKG store, else ``StoreNotFoundError``
    says so instead of a new, empty store being created at a mistyped path. (A Neo4j
    database is a server's: reaching it is the check.)

    ``settings`` supplies the Neo4j user, password and database (the defaults when omitted:
    user ``neo4j``, no password, database ``neo4j``) and, for a bare ``sqlite:``, the data
    directory. Raises ConfigurationError for a descriptor no backend understands and
    StoreUnavailableError when the store cannot be reached.
    """
    store = _build(descriptor.strip(), settings, create)
    store.open()
    return store


def _build(descriptor: str, settings: Settings | None, create: bool = True) -> GraphStore:
    scheme, sep, rest = descriptor.partition(":")
    if sep and scheme.lower() == "sqlite":
        if rest:
            return SQLiteGraphStore(rest, create=create)
        if settings is None:
            raise ConfigurationError(
                "the descriptor 'sqlite:' names no file; write sqlite:PATH or pass settings "
                "whose data_dir holds the store")
        return SQLiteGraphStore(settings.data_dir / EMBEDDED_STORE_FILE, create=create)
    if sep and scheme.lower() in _BOLT_SCHEMES and rest.startswith("//") and len(rest) > 2:
        if settings is None:
            return Neo4jGraphStore(descriptor, user="neo4j", password=SecretStr(""))
        return Neo4jGraphStore(descriptor, user=settings.neo4j_user,
                               password=settings.neo4j_password,
                               database=settings.neo4j_database,
                               max_retry_time_s=settings.neo4j_retry_seconds)
    raise ConfigurationError(
        f"unknown graph store descriptor {descriptor!r}: use sqlite:PATH for the embedded store "
        "or a Neo4j URI such as bolt://127.0.0.1:7687 (set VERIKG_STORE)")


__all__ = [
    "ROLE_RIGHTS",
    "GraphStore",
    "Neo4jGraphStore",
    "RecordedOntology",
    "SQLiteGraphStore",
    "canonical",
    "open_store",
]
