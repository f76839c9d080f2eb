"""Ingest: documents in, sentence-aligned chunks with character spans out."""

from pipeline.ingest.base import Chunker, DocumentLoader
from pipeline.ingest.chunker import SentenceChunker
from pipeline.ingest.loader import TextFileLoader, load_documents

__all__ = ["Chunker", "DocumentLoader", "SentenceChunker", "TextFileLoader", "load_documents"]
