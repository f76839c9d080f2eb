"""What retrieval returns: hits with their evidence and graph neighbourhood, and a context
that renders them as prompt-ready text with citations.

Every hit carries the text it was found by, the graph object behind it (an ``Assertion`` or
an ``EntityRef``), the evidence chunks its provenance points to (document, span, quote) and
the assertions around it, so an LLM answer can cite where each fact came from.
"""

from __future__ import annotations

from typing import Literal

from pipeline.index.kg_rows import assertion_label
from pipeline.models import (
    Assertion,
    ChunkId,
    DocumentId,
    EntityRef,
    Frozen,
    Span,
)


class EvidenceChunk(Frozen):
    """One place in the corpus that states a hit: document, chunk, span and quote."""

    document_id: DocumentId
    document_title: str
    document_source: str
    chunk_id: ChunkId
    span: Span
    quote: str
    chunk_text: str

    def citation(self) -> str:
        return (f"{self.document_title} ({self.document_source}), "
                f"chars {self.span.start}-{self.span.end}")


class Hit(Frozen):
    """One retrieved row: an assertion or an entity, with score, evidence and neighbours."""

    kind: Literal["assertion", "entity"]
    id: str
    score: float
    label: str
    text: str
    assertion: Assertion | None = None
    entity: EntityRef | None = None
    evidence: tuple[EvidenceChunk, ...] = ()
    neighbours: tuple[Assertion, ...] = ()


class RetrievalContext(Frozen):
    """The hits for one query, ready to paste into a prompt via ``render()``."""

    query: str
    hits: tuple[Hit, ...]

    def render(self, *, max_evidence: int = 3, max_neighbours: int = 5) -> str:
        """Numbered facts, each with its evidence quotes cited as [S#] and related facts,
        then the list of sources (document title, source, character span)."""
        sources: dict[tuple[DocumentId, ChunkId, int, int], int] = {}
        lines = [f"Question: {self.query}", "", "Facts:"]
        if not self.hits:
            lines.append("(nothing relevant was found in the knowledge graph)")
        for n, hit in enumerate(self.hits, start=1):
            meta = f"{hit.kind}, score {hit.score:.3f}"
            if hit.assertion is not None:
                meta += (f", confidence {hit.assertion.confidence:.2f}, "
                         f"{hit.assertion.status.value}")
                flagged = hit.assertion.violation_checks  # info-only violations flag nothing
                if flagged:  # kept as a fact, but a soft check failed
                    meta += f", flagged: {', '.join(flagged)}"
            lines.append(f"[{n}] {hit.label} ({meta})")
            for ev in hit.evidence[:max_evidence]:
                key = (ev.document_id, ev.chunk_id, ev.span.start, ev.span.end)
                ref = sources.setdefault(key, len(sources) + 1)
                quote = " ".join(ev.quote.split())
                lines.append(f'    evidence [S{ref}]: "{quote}"')
            for nb in hit.neighbours[:max_neighbours]:
                lines.append(f"    related: {assertion_label(nb)}")
        if sources:
            lines += ["", "Sources:"]
            by_key = {ev_key: ev for hit in self.hits for ev in hit.evidence
                      for ev_key in [(ev.document_id, ev.chunk_id, ev.span.start, ev.span.end)]}
            for key, ref in sources.items():
                lines.append(f"[S{ref}] {by_key[key].citation()}")
        return "\n".join(lines)


__all__ = ["EvidenceChunk", "Hit", "RetrievalContext"]
