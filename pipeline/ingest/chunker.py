"""Sentence-aligned chunking that keeps character spans."""

from __future__ import annotations

import re

from pipeline.errors import ConfigurationError
from pipeline.ingest.base import Chunker
from pipeline.models import Chunk, Document

# A sentence ends at . ! ? followed by whitespace, or at a blank line (paragraph break).
_BOUNDARY = re.compile(r"(?<=[.!?])\s+|\n\s*\n")


class SentenceChunker(Chunker):
    """Packs whole sentences into chunks of at most ``max_chars`` (a longer sentence is cut).

    Chunk text is always ``document.text[span.start:span.end]`` exactly, so an evidence span
    found inside a chunk maps back to the document by adding the chunk's start.
    """

    def __init__(self, max_chars: int = 1200, overlap_sentences: int = 0) -> None:
        if max_chars < 50:
            raise ConfigurationError("max_chars must be at least 50")
        self.max_chars = max_chars
        self.overlap_sentences = overlap_sentences

    def _sentences(self, text: str) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        pos = 0
        for m in _BOUNDARY.finditer(text):
            spans.append((pos, m.start()))
            pos = m.end()
        spans.append((pos, len(text)))
        out: list[tuple[int, int]] = []
        for s, e in spans:
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            while e - s > self.max_chars:  # hard-cut an over-long sentence
                out.append((s, s + self.max_chars))
                s += self.max_chars
            if e > s:
                out.append((s, e))
        return out

    def chunk(self, document: Document) -> list[Chunk]:
        sents = self._sentences(document.text)
        chunks: list[Chunk] = []
        i = 0
        while i < len(sents):
            start, end = sents[i]
            j = i + 1
            while j < len(sents) and sents[j][1] - start <= self.max_chars:
                end = sents[j][1]
                j += 1
            chunks.append(Chunk.make(document, len(chunks), start, end))
            i = max(j - self.overlap_sentences, i + 1)
        return chunks
