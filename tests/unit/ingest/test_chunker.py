"""Sentence chunks: exact spans into the document, and a sentence too long for one chunk cut."""

from __future__ import annotations

from pipeline.ingest import SentenceChunker
from pipeline.models import Document


def test_chunks_keep_exact_spans() -> None:
    text = "First sentence here. Second one! Third?\n\nA new paragraph starts. " * 20
    doc = Document.from_text(text, source="t")
    chunks = SentenceChunker(max_chars=120).chunk(doc)
    assert len(chunks) > 5
    for c in chunks:
        assert doc.text[c.span.start:c.span.end] == c.text
        assert len(c.text) <= 120
        assert c.text == c.text.strip()
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)


def test_overlong_sentence_is_cut() -> None:
    doc = Document.from_text("x" * 500, source="t")
    chunks = SentenceChunker(max_chars=100).chunk(doc)
    assert [len(c.text) for c in chunks] == [100] * 5
