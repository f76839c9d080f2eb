"""The graph store interface: one contract, one implementation per backend.

``SQLiteGraphStore`` is the embedded default (no server); ``Neo4jGraphStore`` talks Bolt to a
real Neo4j. Both pass the same compliance suite (``tests/compliance/test_graph_store.py``).

Rules every backend keeps:
- constructors do no I/O; ``open()`` connects and creates the schema (idempotent);
- every public write is one transaction: all of it commits or none of it does;
- writes are idempotent: assertions merge by id, provenance by (assertion, chunk, model,
  prompt version), quarantined candidates by id, documents and chunks by id; writing the same
  batch twice reports ``created == 0`` the second time and changes nothing;
- lifecycle changes are role-gated (only ``certifier``/``admin`` certify) and audited;
- vendor exceptions surface as ``StoreError`` / ``StoreUnavailableError`` (``raise ... from``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from types import TracebackType
from typing import Annotated, Literal

from pydantic import Field

from pipeline.models import (
    Assertion,
    AssertionId,
    AssertionStatus,
    AuditEntry,
    Chunk,
    ChunkId,
    Document,
    DocumentId,
    EntityId,
    EntityRef,
    Frozen,
    QuarantinedCandidate,
    Role,
    WriteResult,
)


class StoreCounts(Frozen):
    documents: int = 0
    chunks: int = 0
    entities: int = 0
    assertions: int = 0
    draft: int = 0
    certified: int = 0
    quarantined: int = 0
    contested: int = 0


# ---- primitive changes, applied atomically by ``GraphStore.apply_changes`` (KGCL compiles to
# these). ``kgcl`` carries the command text that asked for the change, for the audit log.


class AddAssertion(Frozen):
    op: Literal["add_assertion"] = "add_assertion"
    assertion: Assertion
    kgcl: str = ""


class RemoveAssertion(Frozen):
    op: Literal["remove_assertion"] = "remove_assertion"
    assertion_id: AssertionId
    kgcl: str = ""


class RenameEntity(Frozen):
    op: Literal["rename_entity"] = "rename_entity"
    entity_id: EntityId
    new_label: Annotated[str, Field(min_length=1)]
    kgcl: str = ""


class SetStatus(Frozen):
    op: Literal["set_status"] = "set_status"
    assertion_id: AssertionId
    status: AssertionStatus
    kgcl: str = ""


StoreChange = Annotated[AddAssertion | RemoveAssertion | RenameEntity | SetStatus,
                        Field(discriminator="op")]

#: roles allowed to make each kind of change; certification is the certifier's alone
ROLE_RIGHTS: dict[Role, frozenset[str]] = {
    "reader": frozenset(),
    "curator": frozenset({"add_assertion", "remove_assertion", "rename_entity", "set_status"}),
    "certifier": frozenset({"set_status", "certify"}),
    "admin": frozenset({"add_assertion", "remove_assertion", "rename_entity", "set_status",
                        "certify"}),
}


class GraphStore(ABC):
    """Where assertions live, with provenance, lifecycle status and an audit log."""

    #: the descriptor this store was opened from (``sqlite:PATH`` or a Bolt URI)
    descriptor: str

    @abstractmethod
    def open(self) -> None:
        """Connect and create schema/constraints. Idempotent. Raises StoreUnavailableError."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> GraphStore:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ---- writes (each one transaction)
    @abstractmethod
    def upsert_documents(self, documents: Sequence[Document],
                         chunks: Sequence[Chunk]) -> WriteResult:
        """Merge documents and chunks by id; ``created`` counts new documents."""

    @abstractmethod
    def write_assertions(self, assertions: Sequence[Assertion], *,
                         actor: str = "pipeline") -> WriteResult:
        """Merge assertions (and their entities and provenance) by id. An existing assertion
        keeps its status (a certified one stays certified) and takes the new confidence."""

    @abstractmethod
    def write_quarantine(self, items: Sequence[QuarantinedCandidate]) -> WriteResult:
        """Merge quarantined candidates by id."""

    @abstractmethod
    def apply_changes(self, changes: Sequence[AddAssertion | RemoveAssertion | RenameEntity
                                              | SetStatus],
                      *, actor: str, role: Role) -> int:
        """Apply all changes in one transaction, or none: an unknown id raises
        ChangeRequestError, a forbidden change PermissionDeniedError (``certified`` needs
        ``certifier`` or ``admin``), and the store is left exactly as it was. Each applied
        change gets an audit entry. Returns the number of changes applied."""

    @abstractmethod
    def reset(self) -> None:
        """Delete everything (tests and ``verikg build --fresh``)."""

    # ---- reads
    @abstractmethod
    def get_assertion(self, assertion_id: AssertionId) -> Assertion | None: ...

    @abstractmethod
    def assertions(self, *, status: AssertionStatus | None = None) -> list[Assertion]:
        """All assertions with provenance, ordered by id; ``status`` filters."""

    @abstractmethod
    def quarantined(self) -> list[QuarantinedCandidate]:
        """All quarantined candidates, ordered by id."""

    @abstractmethod
    def entities(self) -> list[EntityRef]:
        """All entities, ordered by id."""

    @abstractmethod
    def neighbours(self, entity_id: EntityId) -> list[Assertion]:
        """Assertions that have ``entity_id`` as subject or object, ordered by id."""

    @abstractmethod
    def get_chunks(self, ids: Sequence[ChunkId]) -> dict[ChunkId, Chunk]: ...

    @abstractmethod
    def get_documents(self, ids: Sequence[DocumentId]) -> dict[DocumentId, Document]: ...

    @abstractmethod
    def audit_log(self) -> list[AuditEntry]:
        """Every recorded change, oldest first."""

    @abstractmethod
    def counts(self) -> StoreCounts: ...

    @abstractmethod
    def version(self) -> int:
        """A counter that grows with every committed write; the index records the version it
        reflects, so a stale index is detected."""
