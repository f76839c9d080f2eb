"""A corpus as a build reads it: its documents chunked as they are read, and the files it
skipped, which a build quarantines as documents.

A skipped file is stored in the graph store's quarantine as a record without a candidate
(``skipped_quarantine``): reason ``binary-document``, ``unreadable-encoding``,
``empty-document``, ``too-large``, ``symlink-loop`` ... and the loader's message, so
``verikg quarantine`` lists it beside the refused statements. Files of other types
(``unsupported-type``) are reported, not quarantined: they were never documents. A later build
that reads the file resolves its record (``loaded_scopes``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.ingest.base import Chunker, DocumentLoader
from pipeline.ingest.loader import file_source
from pipeline.models import (
    Chunk,
    ChunkId,
    Document,
    DocumentId,
    ExtractionScope,
    QuarantinedCandidate,
    QuarantineId,
    RunId,
    Severity,
    SkippedDocument,
    Violation,
    ViolationReason,
    stable_hash,
)

#: the "model" and "prompt version" of a skipped document's quarantine record
LOADER = "verikg-loader"
LOADER_STAGE = "ingest"
#: the check a skipped document failed
READABLE_CHECK = "document-readable"


@dataclass
class Corpus:
    """The documents read (parts of long files included), their chunks, and the files
    skipped with their reasons, in the order they were met."""

    documents: list[Document] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    skipped: list[SkippedDocument] = field(default_factory=list)


def read_corpus(path: Path | str, loader: DocumentLoader, chunker: Chunker) -> Corpus:
    """Read ``path`` through ``loader``, chunking each document (or part) as it arrives. A
    file skipped after some of its parts were read (it changed while read) keeps none."""
    corpus = Corpus()
    for item in loader.iter_load(Path(path)):
        if isinstance(item, SkippedDocument):
            corpus.skipped.append(item)
            dropped = {d.id for d in corpus.documents if file_source(d.source) == item.source}
            if dropped:
                corpus.documents = [d for d in corpus.documents if d.id not in dropped]
                corpus.chunks = [c for c in corpus.chunks if c.document_id not in dropped]
            continue
        corpus.documents.append(item)
        corpus.chunks.extend(chunker.chunk(item))
    return corpus


def _record_ids(source: str) -> tuple[ChunkId, DocumentId]:
    """The chunk and document ids a skipped file's record carries: the file's, not content
    hashes (there is no content), so the next build of the same corpus finds them."""
    return ChunkId(f"file:{source}"), DocumentId(f"file:{source}")


def skipped_quarantine(skipped: Iterable[SkippedDocument],
                       run_id: str) -> list[QuarantinedCandidate]:
    """The quarantine records of the files a build skipped (not those of other types)."""
    out = []
    for s in skipped:
        if s.reason is ViolationReason.UNSUPPORTED_TYPE:
            continue
        chunk_id, document_id = _record_ids(s.source)
        out.append(QuarantinedCandidate(
            id=QuarantineId(f"q:{stable_hash(LOADER, s.source, s.reason.value)}"),
            chunk_id=chunk_id, document_id=document_id,
            raw=f"document {s.source} skipped by the loader", candidate=None,
            violations=(Violation(reason=s.reason, check=READABLE_CHECK, detail=s.detail,
                                  severity=Severity.HARD),),
            model=LOADER, prompt_version=LOADER_STAGE, run_id=RunId(run_id), attempts=1,
            sample_index=0))
    return out


def loaded_scopes(documents: Sequence[Document], run_id: str) -> list[ExtractionScope]:
    """What a build's reading covered: every file it read, so an earlier build's record of
    that file as skipped is resolved by this one."""
    files = sorted({file_source(d.source) for d in documents})
    return [ExtractionScope(run_id=RunId(run_id), chunk_id=_record_ids(f)[0], model=LOADER,
                            prompt_version=LOADER_STAGE, samples=1) for f in files]
