"""Applying compiled KGCL change requests to the knowledge graph: one store transaction,
with the vector index brought along by a delta.

The store applies the primitives of a request (compiled by :mod:`pipeline.kgcl.store_plan`)
in one transaction. With a ``KGIndex``, the texts the request will change are embedded
*before* the store commits (an embedder failure leaves store and index as they were), and the
index then takes a delta of just what changed: only new or changed texts are embedded, a status
change embeds nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.contracts.spec import ContractSpec
from pipeline.embeddings.base import Embedder
from pipeline.errors import ContractRefusalError, PermissionDeniedError, VectorIndexError
from pipeline.index.kg_index import KGIndex, RefreshResult
from pipeline.index.kg_rows import assertion_text, entity_label
from pipeline.kgcl.store_plan import CompiledRequest, compile_request
from pipeline.kgcl.store_workspace import Primitive, entity_ids, with_entity
from pipeline.models import Assertion, ChangeRequest, EntityId, Ontology, Role
from pipeline.store import rules
from pipeline.store.base import ROLE_RIGHTS, GraphStore


@dataclass(frozen=True)
class ApplyOutcome:
    """What applying a request did: commands, primitive changes, the store version it left,
    and what the index did (None without an index)."""

    commands: int
    changes: int
    version: int
    index: RefreshResult | None = None


def check_may_change(store: GraphStore, *, actor: str, role: str, target: str,
                     changes: Sequence[Primitive] = ()) -> None:
    """Refuse (and audit the refusal) an actor whose role may not make ``changes`` (or no
    change at all, when none are given yet). The store's own check stays the last word; this
    one records who tried."""
    try:
        if role not in ROLE_RIGHTS:
            rules.check_rights([], actor=actor, role=role)
        if not changes and not ROLE_RIGHTS[role]:  # type: ignore[index]
            raise PermissionDeniedError(f"{actor!r} (role {role}) may not change the knowledge "
                                        "graph; nothing was changed")
        rules.check_rights(changes, actor=actor, role=role)
    except PermissionDeniedError as exc:
        store.record_audit([rules.refusal(actor=actor, role=role, target=target,
                                          detail=str(exc))])
        raise


def compile_checked(request: str, store: GraphStore, ontology: Ontology, *, actor: str,
                    role: str, target: str, request_id: str = "",
                    contract: ContractSpec | None = None) -> CompiledRequest:
    """``compile_request``, with a refusal by the contract audited (action ``refused``, the
    reason codes in its detail) before it is raised: someone tried to put into the graph what
    the contracts keep out. A request that merely cannot apply is not audited."""
    try:
        return compile_request(request, store, ontology, contract)
    except ContractRefusalError as exc:
        store.record_audit([rules.refusal(actor=actor, role=role, target=target,
                                          detail=str(exc), request_id=request_id)])
        raise


class _PrimedEmbedder(Embedder):
    """The index's embedder with vectors computed ahead: texts embedded before the store
    committed are served from memory, anything unforeseen goes to the real embedder."""

    def __init__(self, inner: Embedder, primed: Mapping[str, np.ndarray]) -> None:
        self.inner = inner
        self.primed = dict(primed)

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.primed]
        if missing:
            fresh = np.asarray(self.inner.embed(missing), dtype=np.float32)
            self.primed.update(zip(missing, fresh, strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.primed[t] for t in texts]).astype(np.float32)


def predicted_texts(compiled: CompiledRequest, store: GraphStore, index: KGIndex) -> list[str]:
    """The index texts the request will create or change, computed from the store before it
    commits: entity rows of created/renamed/retyped entities, assertion rows of new edges and
    of every edge naming a renamed or retyped entity. Texts the index already holds for the
    same row are left out (they will not be embedded again)."""
    final = compiled.entities
    onto = index.ontology
    texts: list[str] = []

    def current(a: Assertion) -> Assertion:
        for eid in entity_ids(a):
            e = final.get(eid)
            if e is not None:
                a = with_entity(a, e)
        return a

    def want(kind: str, kgid: str, text: str) -> None:
        row = index.find(kind, kgid)  # type: ignore[arg-type]
        if row is None or row.text != text:
            texts.append(text)

    for eid, e in final.items():
        if e is not None:
            want("entity", eid, entity_label(e, onto))
    seen: set[str] = set()
    for aid, a in compiled.assertions.items():
        seen.add(aid)
        if a is not None:
            want("assertion", aid, assertion_text(current(a), onto))
    for eid in sorted(compiled.relabelled):
        if final.get(eid) is None:
            continue
        for a in store.neighbours(EntityId(eid)):
            if a.id not in seen:
                seen.add(a.id)
                want("assertion", a.id, assertion_text(current(a), onto))
    return list(dict.fromkeys(texts))


def apply_compiled(compiled: CompiledRequest, store: GraphStore, *, actor: str, role: Role,
                   index: KGIndex | None = None,
                   request: ChangeRequest | None = None) -> ApplyOutcome:
    """Apply a compiled request in one store transaction and bring ``index`` along (see
    ``apply_primitives``)."""
    return apply_primitives(compiled.changes, store, actor=actor, role=role, index=index,
                            request=request, prediction=compiled,
                            commands=len(compiled.commands))


def apply_primitives(changes: Sequence[Primitive], store: GraphStore, *, actor: str,
                     role: Role, index: KGIndex | None = None,
                     request: ChangeRequest | None = None,
                     prediction: CompiledRequest | None = None,
                     commands: int | None = None) -> ApplyOutcome:
    """Apply ``changes`` in one store transaction and bring ``index`` along.

    With an index: it is first brought up to the store's version if it was behind (so the
    delta below is exact), the texts ``prediction`` says the changes will create are
    embedded, and only then does the store commit; the index then takes the delta of what
    the changes touched (a delta for exactly this commit, or a diff when another writer
    committed meanwhile), embedding nothing more. A failure before the commit leaves store
    and index as they were."""
    n = len(changes) if commands is None else commands
    if index is None:
        store.apply_changes(changes, actor=actor, role=role, request=request)
        return ApplyOutcome(n, len(changes), store.version())
    inner = index.embedder
    if inner is None:
        raise VectorIndexError("the index has no embedder: load it with one before applying "
                               "changes through it; nothing was changed")
    rules.check_rights(changes, actor=actor, role=role)  # before any embedding work
    if index.is_stale(store):
        index.sync(store)
    texts = predicted_texts(prediction, store, index) if prediction is not None else []
    primed = _PrimedEmbedder(inner, {})
    if texts:
        primed.embed(texts)  # an embedder failure raises here, before the store is written
    index.embedder = primed
    try:
        before = store.version()
        store.apply_changes(changes, actor=actor, role=role, request=request)
        after = store.version()
        try:
            if index.version == before and after == before + 1:
                result = index.apply_delta(index.delta_for_changes(store, changes), after)
            else:
                result = index.sync(store)
        except Exception as exc:
            raise VectorIndexError(
                f"the store committed the changes (version {after}) but the index could not "
                f"follow: {exc}. The index is behind the store, which every reader detects; "
                "refresh it (it catches up by a delta)") from exc
    finally:
        index.embedder = inner
    return ApplyOutcome(n, len(changes), after, result)


def apply_request_text(request: str, store: GraphStore, ontology: Ontology, *, actor: str,
                       role: Role, index: KGIndex | None = None,
                       contract: ContractSpec | None = None) -> ApplyOutcome:
    """Parse, check, compile and apply a change request directly (no review), atomically
    across store and index. A refusal for the actor's role or by the contract is audited
    (and changes nothing else); an invalid request raises ``ChangeRequestError`` and changes
    nothing (not even the audit log)."""
    check_may_change(store, actor=actor, role=role, target="change request")
    compiled = compile_checked(request, store, ontology, actor=actor, role=role,
                               target="change request", contract=contract)
    check_may_change(store, actor=actor, role=role, target="change request",
                     changes=compiled.changes)
    return apply_compiled(compiled, store, actor=actor, role=role, index=index)


def apply_to_store(request: str, store: GraphStore, ontology: Ontology, *, actor: str,
                   role: Role, dry_run: bool = False, index: KGIndex | None = None,
                   contract: ContractSpec | None = None) -> int:
    """Parse, resolve and apply a change request atomically; returns the number of commands
    applied (or that would be, with ``dry_run``, which writes nothing at all: a refusal by
    the contract is raised, not audited)."""
    if dry_run:
        return len(compile_request(request, store, ontology, contract).commands)
    return apply_request_text(request, store, ontology, actor=actor, role=role,
                              index=index, contract=contract).commands


__all__ = ["ApplyOutcome", "apply_compiled", "apply_primitives", "apply_request_text",
           "apply_to_store", "check_may_change", "compile_checked", "predicted_texts"]
