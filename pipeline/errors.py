"""VeriKG's one error tree.

    VeriKGError
    ├── ConfigurationError          a setting or descriptor is wrong; fix it and rerun
    │   └── MissingOntologyError    no --ontology given and the store recorded none
    ├── InputError                  user input cannot be used (what, where, what to do next);
    │   │                           also a ValueError, as bad arguments are in Python
    │   ├── DocumentError           a missing, unreadable, binary or empty document
    │   ├── OntologyError           a corrupt or unusable ontology file
    │   ├── ChangeRequestError      an invalid or inapplicable KGCL change request
    │   │   └── ContractRefusalError  one the contracts refuse (a hard check failed)
    │   └── PermissionDeniedError   the actor's role may not make this change
    │       └── UnapprovedRequestError  a change request applied before its approval
    ├── ContractViolationError      an LLM step's output failed its contract after every retry
    ├── StoreError                  the graph store refused or lost a write (nothing committed)
    │   ├── StoreNotFoundError      a reading command named a store that does not exist
    │   └── StoreUnavailableError   (retryable) the store cannot be reached right now
    ├── BuildInProgressError        another live build holds the run (its lease in the ledger)
    ├── VectorIndexError            the vector index is missing, stale or inconsistent
    │   ├── StaleIndexError         it does not reflect the store's version, may not refresh
    │   └── DeltaMismatchError      a delta computed against another store version
    └── RetryableError              a transient failure worth retrying (marker base)
        ├── StoreUnavailableError
        └── LLMUnavailableError     the LLM endpoint timed out, refused or rate-limited

Adapters wrap vendor exceptions (neo4j, faiss, LLM clients) with ``raise ... from exc`` so a
caller needs to know only these types. Messages say what failed, where, and what to do next.
"""

from __future__ import annotations


class VeriKGError(Exception):
    """Base of every error VeriKG raises on purpose."""


class ConfigurationError(VeriKGError):
    pass


class InputError(VeriKGError, ValueError):
    pass


class DocumentError(InputError):
    pass


class OntologyError(InputError):
    pass


class ChangeRequestError(InputError):
    pass


class ContractRefusalError(ChangeRequestError):
    """A change request a contract's hard check refuses (``reasons``: the reason codes); the
    refusal is audited, unlike a request that merely cannot apply."""

    def __init__(self, message: str, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reasons = reasons


class PermissionDeniedError(InputError):
    pass


class UnapprovedRequestError(PermissionDeniedError):
    """A change request applied (or one of its changes) before a reviewer approved it."""


class ContractViolationError(VeriKGError):
    pass


class RetryableError(VeriKGError):
    """Marker: the operation may succeed if retried later."""


class StoreError(VeriKGError):
    pass


class StoreNotFoundError(StoreError):
    """A command that reads a store was pointed at a place that holds none (a mistyped
    path is never silently turned into a new, empty store)."""


class MissingOntologyError(ConfigurationError):
    """No ontology was given and the store has none recorded."""


class StoreUnavailableError(StoreError, RetryableError):
    pass


class LLMUnavailableError(RetryableError):
    pass


class BuildInProgressError(VeriKGError):
    """Another build holds the ledger run this one would resume (or took it over): the
    message names its pid, host and start; rerun when it finishes."""


class VectorIndexError(VeriKGError):
    """The vector index is missing, stale or inconsistent with its store."""


class StaleIndexError(VectorIndexError):
    """The index does not reflect the store's current version and may not refresh itself."""


class DeltaMismatchError(VectorIndexError):
    """A delta that does not fit the index: computed against another store version."""


__all__ = [
    "BuildInProgressError",
    "ChangeRequestError",
    "ConfigurationError",
    "ContractViolationError",
    "DeltaMismatchError",
    "DocumentError",
    "InputError",
    "LLMUnavailableError",
    "OntologyError",
    "PermissionDeniedError",
    "RetryableError",
    "StoreError",
    "StaleIndexError",
    "StoreUnavailableError",
    "UnapprovedRequestError",
    "VectorIndexError",
    "VeriKGError",
]
