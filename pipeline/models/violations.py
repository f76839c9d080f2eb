"""What a contract check found wrong: reason, check, severity."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pipeline.models.base import Frozen


class ViolationReason(StrEnum):
    """Why an LLM output, or one triple of it, was refused. Stable codes: they are stored."""

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
    # a document the loader skipped (``verikg build --on-bad-document skip``), quarantined whole
    UNREADABLE_ENCODING = "unreadable-encoding"
    BINARY_DOCUMENT = "binary-document"
    EMPTY_DOCUMENT = "empty-document"
    TOO_LARGE = "too-large"
    SYMLINK_LOOP = "symlink-loop"
    DANGLING_SYMLINK = "dangling-symlink"
    NOT_A_REGULAR_FILE = "not-a-regular-file"
    UNREADABLE_FILE = "unreadable-file"
    UNSUPPORTED_TYPE = "unsupported-type"


class Severity(StrEnum):
    """What a failed check does, declared per check in the contract.

    ``hard``: the evidence is certain (no ontology property, a name the text never writes,
    malformed or injection-shaped output): the candidate is refused and quarantined.
    ``soft``: the check can be wrong on true facts (type fit against a quirky ontology, SHACL
    shapes, functional conflicts, a value coerced to its datatype): the statement is kept, the
    violation is recorded on the assertion, lowers its confidence and is reviewable.
    ``info``: reported only (isolated islands)."""

    HARD = "hard"
    SOFT = "soft"
    INFO = "info"


class Violation(Frozen):
    reason: ViolationReason
    check: str
    detail: str
    #: hard for records written before severities existed: they were all refusals
    severity: Severity = Severity.HARD


def flag_checks(violations: Iterable[Violation]) -> tuple[str, ...]:
    """The names of the checks ``violations`` flag a statement for, sorted, each once: the
    informational ones left out."""
    return tuple(sorted({v.check for v in violations if v.severity is not Severity.INFO}))
