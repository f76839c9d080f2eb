"""KGCL change requests planned on the knowledge graph: parsed, checked command by command
against the store and compiled to store primitives, writing nothing.

What each KGCL change type means on the knowledge graph (entities are instances of ontology
classes; assertions are the edges between them, or from an entity to a literal):

==============================================  ============================================
``rename X from 'a' to 'b'`` / ``rename 'a' to``  RenameEntity (the entity keeps its id)
``create node ID 'label'``                      CreateEntity, class ``owl:Thing`` until typed
``create edge X rdf:type C``                    RetypeEntity (C an ontology class)
``create edge S P O`` / ``delete edge S P O``   AddAssertion (curated: confidence 1, draft, no
                                                provenance) / RemoveAssertion; P an ontology
                                                property, O a literal for datatype properties
``change relationship between S and O from P    RemoveAssertion + AddAssertion (the new edge is
to Q``                                          curated: its evidence stated P, not Q)
``move S P O from O to N``                      RemoveAssertion + AddAssertion (S P N)
``deepen``/``shallow X from A to B``            RetypeEntity: X's class A becomes B, a sub- /
                                                superclass of A in the ontology
``delete X``                                    DeleteEntity, refused while an assertion names X
``obsolete X [with replacement Y]``             annotations owl:deprecated, IAO:0100001 (term
                                                replaced by); X's assertions stay
``unobsolete X``                                removes those annotations
``create|remove|change [scope] synonym``        oboInOwl:has{Exact,Narrow,Broad,Related}Synonym
                                                (no scope: oboInOwl:hasSynonym, as in files)
``add|change|remove definition``                IAO:0000115
``add X to subset S`` / ``remove X from subset``  oboInOwl:inSubset
``change annotation of X with P from V to W``   a literal assertion when P is a datatype
                                                property of the ontology, else an annotation
``create ID`` (a class)                         refused: classes live in the ontology file
==============================================  ============================================

A command changes exactly what it names: deleting a node never deletes its edges, obsoleting
one never touches another. Every command is checked against the store as the earlier
commands of the same request leave it (so ``create node`` then ``create edge`` to it works);
an entity is named by its id or its label (a label no entity has any more still names the
entity that had it when the request began, as its author saw the graph);
an unknown entity, an edge that does not exist (or already does), an annotation that is
absent (or present) rejects the whole request with ``ChangeRequestError`` naming the line,
and nothing is written. Every statement a command adds passes the contract's checks, as an
extracted triple does (:mod:`pipeline.kgcl.store_contract`): a hard failure refuses the whole
request (``ContractRefusalError``, with the reason codes), a soft one is stored on the
assertion, flagged. Applying the result is :mod:`pipeline.kgcl.store_apply`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from pipeline.contracts.spec import ContractSpec, load_contract
from pipeline.kgcl.parser import ParsedChange, parse_change_request
from pipeline.kgcl.store_compiler import CommandCompiler
from pipeline.kgcl.store_workspace import Primitive, Workspace, expand
from pipeline.models import Assertion, EntityRef, Ontology
from pipeline.store.base import GraphStore


@dataclass(frozen=True)
class CompiledCommand:
    """One KGCL command and the store primitives it compiles to (one or two)."""

    parsed: ParsedChange
    changes: tuple[Primitive, ...]


@dataclass(frozen=True)
class CompiledRequest:
    """A whole request, checked against the store and compiled; ``entities`` and
    ``assertions`` hold what the request leaves of every object it touches (None: gone), the
    basis of the index's text prediction."""

    commands: tuple[CompiledCommand, ...]
    entities: Mapping[str, EntityRef | None] = field(default_factory=dict)
    assertions: Mapping[str, Assertion | None] = field(default_factory=dict)
    #: entities whose label or class the request changes (their assertions' texts change)
    relabelled: frozenset[str] = frozenset()

    @property
    def changes(self) -> list[Primitive]:
        return [c for cmd in self.commands for c in cmd.changes]


def _references(pc: ParsedChange) -> list[str]:
    """Every id-like reference of a command, to fetch the entities in one read."""
    ch = pc.change
    refs = [getattr(ch, n, None) for n in ("about_node", "subject", "object", "old_value",
                                           "new_value", "has_direct_replacement")]
    edge = getattr(ch, "about_edge", None)
    if edge is not None:
        refs += [getattr(edge, "subject", None), getattr(edge, "object", None)]
    return [expand(str(r)) for r in refs if isinstance(r, str) and r and " " not in r]


@cache
def shipped_contract() -> ContractSpec:
    """The extraction contract shipped with the project, which change requests pass unless
    a caller names another."""
    return load_contract("extraction")


def compile_request(request: str | Sequence[ParsedChange], store: GraphStore,
                    ontology: Ontology, contract: ContractSpec | None = None
                    ) -> CompiledRequest:
    """Parse (if text) and compile a request against ``store``, command by command, each
    seeing what the earlier ones did, every added statement checked by ``contract`` (the
    shipped extraction contract by default). Raises ``ChangeRequestError`` naming the line
    on the first command that cannot apply (``ContractRefusalError`` when the contract
    refuses it); reads only, writes nothing."""
    parsed = parse_change_request(request) if isinstance(request, str) else list(request)
    ws = Workspace(store, ontology)
    ws.prefetch(r for pc in parsed for r in _references(pc))
    compiler = CommandCompiler(ws, contract or shipped_contract())
    commands = tuple(CompiledCommand(pc, compiler.compile(pc)) for pc in parsed)
    return CompiledRequest(commands, entities=dict(ws.entities), assertions=dict(ws.assertions),
                           relabelled=frozenset(ws.relabelled))


def compile_changes(parsed: Sequence[ParsedChange], store: GraphStore,
                    ontology: Ontology, contract: ContractSpec | None = None
                    ) -> list[Primitive]:
    """The primitives a parsed request compiles to (see ``compile_request``)."""
    return compile_request(parsed, store, ontology, contract).changes


__all__ = ["CompiledCommand", "CompiledRequest", "compile_changes", "compile_request",
           "shipped_contract"]
