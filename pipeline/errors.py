"""VeriKG's one error tree.

    VeriKGError
    ├── ConfigurationError          a setting or descriptor is wrong; fix it and rerun
    ├── InputError                  user input cannot be used (what, where, what to do next)
    │   ├── DocumentError           a missing, unreadable, binary or empty document
    │   ├── OntologyError           a corrupt or unusable ontology file
    │   ├── ChangeRequestError      an invalid or inapplicable KGCL change request
    │   └── PermissionDeniedError   the actor's role may not make this change
    ├── ContractViolationError      an LLM step's output failed its contract after every retry
    ├── StoreError                  the graph store refused or lost a write (nothing committed)
    │   └── StoreUnavailableError   (retryable) the store cannot be reached right now
    ├── IndexError_                 the vector index is missing, stale or inconsistent
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


class InputError(VeriKGError):
    pass


class DocumentError(InputError):
    pass


class OntologyError(InputError):
    pass


class ChangeRequestError(InputError):
    pass


class PermissionDeniedError(InputError):
    pass


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


class IndexError_(VeriKGError):  # noqa: N801 - avoids shadowing the builtin IndexError
    pass


__all__ = [
    "ChangeRequestError",
    "ConfigurationError",
    "ContractViolationError",
    "DocumentError",
    "IndexError_",
    "InputError",
    "LLMUnavailableError",
    "OntologyError",
    "PermissionDeniedError",
    "RetryableError",
    "StoreError",
    "StoreUnavailableError",
    "VeriKGError",
]
