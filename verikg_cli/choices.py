"""The closed sets of values the command-line options take, as enums Typer checks itself.

An option typed with one of these refuses any other value before the command runs (exit 2,
the valid values listed), so a typo never reaches a flow and never loads a model. They are
spelled out here rather than imported from ``pipeline.models``, which would cost every
``--help`` the import of the whole model layer; ``tests/unit/verikg_cli/test_options.py``
keeps each one equal to the library's set.
"""

from __future__ import annotations

from enum import StrEnum


class OutputFormat(StrEnum):
    """``--format`` of a listing: lines for people, or JSON."""

    TEXT = "text"
    JSON = "json"


class Reason(StrEnum):
    """``verikg quarantine --reason``: ``pipeline.models.ViolationReason``'s codes."""

    MALFORMED_OUTPUT = "malformed-output"
    EMPTY_OUTPUT = "empty-output"
    EMPTY_FIELD = "empty-field"
    UNKNOWN_PREDICATE = "unknown-predicate"
    SUBJECT_NOT_IN_TEXT = "subject-not-in-text"
    OBJECT_NOT_IN_TEXT = "object-not-in-text"
    INJECTION_SHAPED = "injection-shaped"
    SELF_LOOP = "self-loop"
    CLASS_AS_INSTANCE = "class-as-instance"
    LITERAL_DATATYPE = "literal-datatype"
    NOT_A_VALUE = "not-a-value"
    DOMAIN_MISMATCH = "domain-mismatch"
    RANGE_MISMATCH = "range-mismatch"
    DUPLICATE = "duplicate"
    SHACL_VIOLATION = "shacl-violation"
    FUNCTIONAL_CONFLICT = "functional-conflict"
    ISOLATED_ISLAND = "isolated-island"
    UNREADABLE_ENCODING = "unreadable-encoding"
    BINARY_DOCUMENT = "binary-document"
    EMPTY_DOCUMENT = "empty-document"
    TOO_LARGE = "too-large"
    SYMLINK_LOOP = "symlink-loop"
    DANGLING_SYMLINK = "dangling-symlink"
    NOT_A_REGULAR_FILE = "not-a-regular-file"
    UNREADABLE_FILE = "unreadable-file"
    UNSUPPORTED_TYPE = "unsupported-type"


class StoreRole(StrEnum):
    """``--role`` of a change to a store: ``pipeline.models.Role``."""

    READER = "reader"
    CURATOR = "curator"
    CERTIFIER = "certifier"
    ADMIN = "admin"


class RequestState(StrEnum):
    """``kgcl requests --status``: ``pipeline.models.RequestStatus``."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    APPLIED = "applied"


class Form(StrEnum):
    """``verikg eval text2kgbench --written-form``: ``pipeline.models.WrittenForm``."""

    TIDY = "tidy"
    MODEL = "model"
    TEXT = "text"
    CANONICAL = "canonical"


class PanelRole(StrEnum):
    """``verikg ontology design --role``: ``pipeline.ontology.design.settings.ROLE_KINDS``."""

    DOMAIN_EXPERT = "domain_expert"
    ANALYST = "analyst"
    ONTOLOGY_ENGINEER = "ontology_engineer"
    CRITIC = "critic"


#: the most hits ``verikg query --k`` may ask for (the library clamps to the index's size)
MAX_K = 1000

__all__ = ["MAX_K", "Form", "OutputFormat", "PanelRole", "Reason",
           "RequestState", "StoreRole"]
