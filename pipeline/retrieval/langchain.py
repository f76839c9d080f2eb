"""``HybridRetriever`` as a langchain-core ``BaseRetriever``, for LangChain RAG chains.

Each hit becomes a ``Document`` whose text is the fact (or entity) followed by the quotes that
state it, and whose metadata carries what a chain needs to cite and filter: id, kind, score,
confidence, status, predicate and every evidence location (document, source, span).
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from pipeline.retrieval.models import Hit


def hit_document(hit: Hit) -> LCDocument:
    lines = [hit.text or hit.label]
    lines += [f'"{e.quote}" ({e.citation()})' for e in hit.evidence]
    meta: dict[str, Any] = {"id": hit.id, "kind": hit.kind, "score": hit.score,
                            "label": hit.label,
                            "evidence": [{"document_id": e.document_id,
                                          "document": e.document_title,
                                          "source": e.document_source, "chunk_id": e.chunk_id,
                                          "start": e.span.start, "end": e.span.end}
                                         for e in hit.evidence]}
    if hit.assertion is not None:
        meta.update(confidence=hit.assertion.confidence, status=hit.assertion.status.value,
                    predicate=hit.assertion.triple.predicate)
    return LCDocument(page_content="\n".join(lines), metadata=meta)


class VeriKGRetriever(BaseRetriever):
    """A LangChain retriever over a ``HybridRetriever`` (see ``HybridRetriever.as_langchain``).
    ``invoke(query)`` returns the hits as documents, best first."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any
    k: int = 10
    where: str | None = None
    expand: int = 1
    certified_only: bool = False

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        hits = self.retriever.search(query, self.k, self.where, expand=self.expand,
                                     certified_only=self.certified_only)
        return [hit_document(h) for h in hits]


__all__ = ["VeriKGRetriever", "hit_document"]
