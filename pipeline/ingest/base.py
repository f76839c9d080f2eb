"""Ingest interfaces: loading documents and cutting them into chunks with spans."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path

from pipeline.models import Chunk, Document, SkippedDocument


class DocumentLoader(ABC):
    """Turns files into ``Document`` objects; refuses what it cannot read with DocumentError."""

    @abstractmethod
    def load(self, path: Path) -> list[Document]:
        """Load one file, or every supported file under a directory (sorted, deterministic)."""

    def iter_load(self, path: Path) -> Iterator[Document | SkippedDocument]:
        """The documents of ``path`` one at a time, and the files skipped with their reasons
        (a loader that reads everything at once, or skips nothing, yields ``load``'s)."""
        yield from self.load(path)


class Chunker(ABC):
    """Splits a document into chunks whose spans index back into ``document.text``."""

    @abstractmethod
    def chunk(self, document: Document) -> list[Chunk]: ...

    def chunk_all(self, documents: Sequence[Document]) -> list[Chunk]:
        return [c for d in documents for c in self.chunk(d)]
