"""The graph store interface: one contract, one implementation per backend.

``SQLiteGraphStore`` is the embedded default (no server); ``Neo4jGraphStore`` talks Bolt to a
real Neo4j. Both pass the same compliance suite (``tests/compliance/test_graph_store.py``).

Rules every backend keeps:
- constructors do no I/O; ``open()`` connects and creates the schema (idempotent);
- every public write is one transaction: all of it commits or none of it does;
- writes are idempotent: assertions merge by id, provenance by (assertion, chunk, model,
  prompt version), quarantined candidates by id (never dropped: one a later run no longer
  refuses is marked resolved), documents and chunks by id; writing the same
  batch twice reports ``created == 0`` the second time and changes nothing;
- lifecycle changes are role-gated (only ``certifier``/``admin`` certify, or take a certified
  assertion back out of ``certified``) and audited;
- the audit log is append-only: no method updates or deletes an entry (``reset`` wipes the
  whole store, as deleting its file would); ``record_audit`` appends entries that change
  nothing else (refusals, change-request reviews) and does not move ``version``;
- change requests are stored with their review; a request's author and text never change
  after filing, and its status moves only pending → approved | rejected, approved → applied
  (``apply_changes(..., request=...)`` marks it applied in the same transaction);
- vendor exceptions surface as ``StoreError`` / ``StoreUnavailableError`` (``raise ... from``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType

from pipeline.models import (
    Assertion,
    AssertionId,
    AssertionStatus,
    AuditEntry,
    Change,
    ChangeRequest,
    Chunk,
    ChunkId,
    Document,
    DocumentId,
    EntityAnnotation,
    EntityId,
    EntityRef,
    ExtractionScope,
    QuarantinedCandidate,
    RequestStatus,
    Role,
    StoreCounts,
    WriteResult,
)
from pipeline.models.base import Frozen


class RecordedOntology(Frozen):
    """The ontology a store was built with, kept in the store (``record_ontology``) so a
    command run anywhere finds it without ``--ontology``: its Turtle text, the path it was
    read from, and the SHA-256 of that file's bytes."""

    source: str
    path: str
    sha256: str


def ontology_audit(old: RecordedOntology | None, new: RecordedOntology, *, actor: str,
                   at: datetime) -> AuditEntry:
    """The audit entry of recording ``new`` over ``old`` (both backends write it)."""
    return AuditEntry(at=at, actor=actor, action="record_ontology", target="ontology",
                      detail=f"the store's ontology is now {new.path}",
                      before=f"sha256:{old.sha256} {old.path}" if old is not None else "",
                      after=f"sha256:{new.sha256} {new.path}")

#: the curation ops (``Change.op``, ``pipeline.models.changes``) a curator may apply
_CURATION = frozenset({"add_assertion", "remove_assertion", "rename_entity", "set_status",
                       "create_entity", "delete_entity", "retype_entity", "add_annotation",
                       "remove_annotation"})

#: roles allowed to make each kind of change; certification is the certifier's alone
ROLE_RIGHTS: dict[Role, frozenset[str]] = {
    "reader": frozenset(),
    "curator": _CURATION,
    "certifier": frozenset({"set_status", "certify"}),
    "admin": _CURATION | {"certify"},
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
        keeps its status (a certified one stays certified) and takes the new confidence and
        the new soft violations (an empty tuple clears them); either change counts as
        ``updated``."""

    @abstractmethod
    def write_quarantine(self, items: Sequence[QuarantinedCandidate], *,
                         covered: Sequence[ExtractionScope] = ()) -> WriteResult:
        """Merge quarantined candidates by id (``pipeline.store.quarantine``): a record
        refused again takes the new run's id, attempts and history and adds the run to its
        ``runs``; a stored record that ``covered`` (what the run extracted) covers but the
        run does not refuse is kept, marked ``resolved_by`` the run. ``created`` counts new
        records, ``updated`` changed ones."""

    @abstractmethod
    def apply_changes(self, changes: Sequence[Change], *, actor: str, role: Role,
                      request: ChangeRequest | None = None) -> int:
        """Apply all changes in one transaction, or none: an unknown id raises
        ChangeRequestError, a forbidden change PermissionDeniedError (``certified`` needs
        ``certifier`` or ``admin``, and so does taking a certified assertion out of
        ``certified``), and the store is left exactly as it was. Each applied change gets an
        audit entry with ``role``, its KGCL text and its before/after state.

        With ``request`` (the request as it becomes: status ``applied``), the stored request
        must be ``approved``: it is marked applied in the same transaction, and the entries
        carry its id. Returns the number of changes applied."""

    @abstractmethod
    def record_audit(self, entries: Sequence[AuditEntry]) -> None:
        """Append entries that record something other than a graph change (a refusal, a
        review). One transaction; the graph and ``version`` stay as they are."""

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
    def flagged(self, check: str | None = None) -> list[Assertion]:
        """Assertions carrying at least one soft violation (of the check named ``check``, when
        given; informational ones do not count: ``rules.review_violations``), with provenance,
        ordered by id: the statements kept as facts but flagged for review (``verikg
        quarantine --soft``)."""

    @abstractmethod
    def quarantined(self) -> list[QuarantinedCandidate]:
        """All quarantined candidates, resolved ones included, ordered by id."""

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
    def get_entities(self, ids: Sequence[EntityId]) -> dict[EntityId, EntityRef]:
        """The entities among ``ids`` that the store holds, by id."""

    @abstractmethod
    def annotations(self, entity_id: EntityId | None = None) -> list[EntityAnnotation]:
        """Entity annotations (of one entity, or all), ordered by entity, property, value."""

    @abstractmethod
    def audit_log(self, *, actor: str | None = None, action: str | None = None,
                  target: str | None = None, since: datetime | None = None,
                  until: datetime | None = None,
                  request_id: str | None = None) -> list[AuditEntry]:
        """Recorded entries, oldest first; each given filter must match (``since``/``until``
        bound ``at``, inclusive; a naive datetime is taken as UTC)."""

    # ---- change requests (governance; see ``pipeline.kgcl.governance``)
    @abstractmethod
    def save_change_request(self, request: ChangeRequest, *, expect: RequestStatus | None,
                            audit: Sequence[AuditEntry] = ()) -> None:
        """File ``request`` (``expect=None``: its id must be new) or record its review
        (``expect``: the status the stored request must still have, so two reviewers cannot
        both decide it), with ``audit`` appended in the same transaction. Author, text and
        filing time never change. Does not move ``version``."""

    @abstractmethod
    def get_change_request(self, request_id: str) -> ChangeRequest | None: ...

    @abstractmethod
    def change_requests(self, *, status: RequestStatus | None = None,
                        author: str | None = None) -> list[ChangeRequest]:
        """Stored change requests, oldest first (then by id)."""

    # ---- the ontology the store was built with
    @abstractmethod
    def record_ontology(self, ontology: RecordedOntology, *, actor: str) -> bool:
        """Keep ``ontology`` as the store's (replacing any other), with a
        ``record_ontology`` audit entry naming the old and new digests when it changes; one
        transaction, ``version`` unmoved. Returns whether it changed."""

    @abstractmethod
    def ontology_source(self) -> RecordedOntology | None:
        """The recorded ontology, or None when no build recorded one."""

    @abstractmethod
    def counts(self) -> StoreCounts: ...

    @abstractmethod
    def version(self) -> int:
        """A counter that grows with every committed write; the index records the version it
        reflects, so a stale index is detected."""
