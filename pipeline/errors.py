"""VeriKG's one error tree.

    VeriKGError
    ├── ConfigurationError          a setting or descriptor is wrong; fix it and rerun
    ├── InputError                  user input cannot be used (what, where, what to do next);
    │   │                           also a ValueError, as bad arguments are in Python
    │   ├── DocumentError           a missing, unreadable, binary or empty document
    │   ├── OntologyError           a corrupt or unusable ontology file
    │   ├── ChangeRequestError      an invalid or inapplicable KGCL change request
    │   └── PermissionDeniedError   the actor's role may not make this change
    │       └── UnapprovedRequestError  a change request applied before its approval
    ├── ContractViolationError      an LLM step's output failed its contract after every retry
    ├── StoreError                  the graph store refused or lost a write (nothing committed)
    │   └── StoreUnavailableError   (retryable) the store cannot be reached right now
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


class StoreUnavailableError(StoreError, RetryableError):
    pass


class LLMUnavailableError(RetryableError):
    pass


class VectorIndexError(VeriKGError):
    """The vector index is missing, stale or inconsistent with its store."""


class StaleIndexError(VectorIndexError):
    """The index does not reflect the store's current version and may not refresh itself."""


class DeltaMismatchError(VectorIndexError):
    """A delta that does not fit the index: computed against another store version."""


__all__ = [
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
