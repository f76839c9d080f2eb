"""Ingest: documents in, sentence-aligned chunks with character spans out."""

from pipeline.ingest.base import Chunker, DocumentLoader
from pipeline.ingest.chunker import SentenceChunker
from pipeline.ingest.corpus import Corpus, loaded_scopes, read_corpus, skipped_quarantine
from pipeline.ingest.loader import TextFileLoader, load_documents

__all__ = ["Chunker", "Corpus", "DocumentLoader", "SentenceChunker", "TextFileLoader",
           "load_documents", "loaded_scopes", "read_corpus", "skipped_quarantine"]
