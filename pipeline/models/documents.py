"""Documents, their chunks and the spans of evidence in them."""

from __future__ import annotations

import hashlib
from typing import Annotated

from pydantic import Field, model_validator

from pipeline.models.base import ChunkId, DocumentId, Frozen, stable_hash
from pipeline.models.violations import ViolationReason


class Span(Frozen):
    """A half-open character range ``[start, end)`` in a document's text."""

    start: Annotated[int, Field(ge=0)]
    end: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end < self.start:
            raise ValueError(f"span end {self.end} is before start {self.start}")
        return self


class Document(Frozen):
    """One source document; ``id`` is derived from its content, not its path."""

    id: DocumentId
    source: str
    title: str
    text: str
    sha256: str
    media_type: str = "text/plain"

    @classmethod
    def from_text(cls, text: str, *, source: str, title: str | None = None,
                  media_type: str = "text/plain") -> Document:
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return cls(id=DocumentId(f"doc:{sha[:16]}"), source=source, title=title or source,
                   text=text, sha256=sha, media_type=media_type)


class SkippedDocument(Frozen):
    """A file of a corpus the loader could not read as a document, and why (``detail`` is the
    one-line message naming the file and what to do)."""

    source: str
    reason: ViolationReason
    detail: str


class Chunk(Frozen):
    """A piece of a document with the span it came from, so evidence can point back."""

    id: ChunkId
    document_id: DocumentId
    index: Annotated[int, Field(ge=0)]
    text: str
    span: Span

    @classmethod
    def make(cls, document: Document, index: int, start: int, end: int) -> Chunk:
        text = document.text[start:end]
        cid = ChunkId(f"chunk:{stable_hash(document.id, str(start), str(end))}")
        return cls(id=cid, document_id=document.id, index=index, text=text,
                   span=Span(start=start, end=end))


class Evidence(Frozen):
    """Where in the corpus a triple is stated."""

    document_id: DocumentId
    chunk_id: ChunkId
    span: Span
    quote: str
