"""Loading plain-text and Markdown documents (including text extracted from PDFs).

A file that cannot be read as a document — binary, empty, in an encoding that cannot be
told, over ``max_bytes``, not a regular file (a FIFO, a device), a symbolic link that loops
or leads nowhere, unreadable — is refused with its reason (``reading.Refusal``): with
``on_bad="fail"`` the whole load raises ``DocumentError`` naming the file and what to do;
with ``on_bad="skip"`` the file is yielded as a ``SkippedDocument`` and the load goes on.
Either way nothing of a bad file is ever used, and a path given directly that cannot be read
always raises. In a folder, files of other types are reported (``unsupported-type``) but never
fail a load; a symbolic link to a folder is followed unless it leads back to a folder the
walk is already in (``symlink-loop``, reported).

Reading is bounded (``pipeline.ingest.reading``): a file is read a window at a time, checked
whole before any of it is used, and a text longer than ``part_chars`` becomes several
documents, one per part, whose ``source`` is the file's with an RFC 5147 fragment
(``notes.txt#char=0,999812``: the part's characters in the text as read). Text in another
encoding than UTF-8 records it in ``media_type`` (``text/plain; charset=iso-8859-1``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from itertools import chain
from pathlib import Path
from typing import Literal, get_args

from pipeline.errors import ConfigurationError, DocumentError
from pipeline.ingest import reading
from pipeline.ingest.base import DocumentLoader
from pipeline.models import Document, SkippedDocument, ViolationReason

SUPPORTED_SUFFIXES = {".txt": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown"}
#: files in a corpus folder that describe the corpus rather than belong to it
SKIPPED_NAMES = {"readme.md", "readme.txt", "license", "license.md", "license.txt"}
#: the largest file read as a document (``Settings.max_document_bytes``)
MAX_BYTES = 50_000_000
#: the longest text kept as one document (``Settings.document_part_chars``)
PART_CHARS = 1_000_000
#: what a bad document does to a load (``Settings.on_bad_document``)
OnBadDocument = Literal["fail", "skip"]
ON_BAD_CHOICES: tuple[str, ...] = get_args(OnBadDocument)

_TITLE = re.compile(r"^\s*#\s+(.+?)\s*$", re.MULTILINE)
_ALNUM = re.compile(r"[^\W_]")
#: the fragment a part's source carries (RFC 5147, text/plain fragment identifiers)
PART_FRAGMENT = "#char="


class TextFileLoader(DocumentLoader):
    """Reads ``.txt``/``.md`` files; a folder is read recursively in sorted order."""

    def __init__(self, *, max_bytes: int = MAX_BYTES, part_chars: int = PART_CHARS,
                 on_bad: OnBadDocument = "fail") -> None:
        if on_bad not in ON_BAD_CHOICES:
            raise ConfigurationError(f"on_bad_document must be one of {', '.join(ON_BAD_CHOICES)}"
                                     f", not {on_bad!r}")
        if max_bytes < 1 or part_chars < 1:
            raise ConfigurationError("max_document_bytes and document_part_chars must be "
                                     "positive")
        self.max_bytes = max_bytes
        self.part_chars = part_chars
        self.on_bad = on_bad

    def load(self, path: Path) -> list[Document]:
        """The documents of ``path``; with ``on_bad="skip"`` the bad files are left out
        (``iter_load`` and ``pipeline.ingest.read_corpus`` say which and why)."""
        return [d for d in self.iter_load(path) if isinstance(d, Document)]

    def iter_load(self, path: Path) -> Iterator[Document | SkippedDocument]:
        """Every document of ``path`` (a file or a folder), part by part as it is read, and
        with ``on_bad="skip"`` every skipped file; identical content is yielded once."""
        path = Path(path)
        if not path.exists():
            try:
                path.stat()
            except OSError as exc:
                if path.is_symlink():
                    raise DocumentError(reading.os_refusal(path, exc).message) from None
            raise DocumentError(f"{path}: no such file or directory; check the path you gave")
        if not path.is_dir():
            suffix = path.suffix.lower()
            if suffix not in SUPPORTED_SUFFIXES:
                raise DocumentError(_unsupported(path))
            try:
                yield from self._read(path, root=path.parent)
            except reading.Refusal as refusal:
                raise DocumentError(refusal.message) from None
            return
        yield from self._folder(path)

    def _folder(self, root: Path) -> Iterator[Document | SkippedDocument]:
        seen: set[str] = set()
        files = bad = 0
        first_bad = ""
        for entry in _walk(root, root, _ancestors(root)):
            if isinstance(entry, SkippedDocument):
                yield entry
                continue
            files += 1
            try:
                for doc in self._read(entry, root=root):
                    if doc.id not in seen:
                        seen.add(doc.id)
                        yield doc
            except reading.Refusal as refusal:
                if self.on_bad == "fail":
                    raise DocumentError(refusal.message) from None
                bad += 1
                first_bad = first_bad or refusal.message
                yield SkippedDocument(source=_relative(entry, root), reason=refusal.reason,
                                      detail=refusal.message)
        if not files:
            raise DocumentError(
                f"{root}: no documents found (looked for {', '.join(SUPPORTED_SUFFIXES)})")
        if not seen:
            raise DocumentError(f"{root}: none of its {bad} document(s) could be read "
                                f"(the first: {first_bad})")

    def _read(self, file: Path, *, root: Path) -> Iterator[Document]:
        """The document(s) of one file: one, or one per part of a long text."""
        codec = reading.sniff(file, self.max_bytes)
        media = SUPPORTED_SUFFIXES[file.suffix.lower()]
        if (charset := reading.charset(codec)) is not None:
            media = f"{media}; charset={charset}"
        source = _relative(file, root)
        pieces = reading.parts(file, codec, max_bytes=self.max_bytes,
                               part_chars=self.part_chars)
        first = next(pieces)
        second = next(pieces, None)
        match = _TITLE.search(first)
        title = match.group(1) if match else file.stem
        if second is None:
            yield Document.from_text(first, source=source, title=title, media_type=media)
            return
        start, n = 0, 0
        for text in chain((first, second), pieces):
            end = start + len(text)
            if _ALNUM.search(text):  # a stretch of blank lines is no document
                n += 1
                yield Document.from_text(text, source=f"{source}{PART_FRAGMENT}{start},{end}",
                                         title=f"{title} (part {n})", media_type=media)
            start = end


def file_source(source: str) -> str:
    """The file a document's ``source`` names (a part's without its fragment)."""
    return source.partition(PART_FRAGMENT)[0]


def _relative(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _unsupported(path: Path) -> str:
    return (f"{path}: unsupported file type '{path.suffix.lower() or '(none)'}'; VeriKG reads "
            f"{', '.join(SUPPORTED_SUFFIXES)} (extract text from PDFs first)")


def _ancestors(root: Path) -> frozenset[tuple[int, int]]:
    """The folders holding ``root`` (and itself): a link to one of them is a loop."""
    keys = set()
    for folder in (root.resolve(), *root.resolve().parents):
        info = folder.stat()
        keys.add((info.st_dev, info.st_ino))
    return frozenset(keys)


def _walk(folder: Path, root: Path, inside: frozenset[tuple[int, int]]
          ) -> Iterator[Path | SkippedDocument]:
    """The candidate documents under ``folder`` depth first, sorted by name (the order of
    ``sorted(root.rglob("*"))``), and the paths skipped with their reasons."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        yield SkippedDocument(source=_relative(folder, root),
                              reason=ViolationReason.UNREADABLE_FILE,
                              detail=f"{folder}: the folder cannot be listed "
                                     f"({exc.strerror or exc}); check its permissions")
        return
    for entry in entries:
        path = Path(entry.path)
        if _is_dir(entry):
            info = path.stat()
            key = (info.st_dev, info.st_ino)
            if key in inside:
                yield SkippedDocument(
                    source=_relative(path, root), reason=ViolationReason.SYMLINK_LOOP,
                    detail=f"{path}: a symbolic link to a folder that holds it "
                           f"({os.readlink(path)}, a loop); not followed")
                continue
            yield from _walk(path, root, inside | {key})
        elif entry.name.lower() in SKIPPED_NAMES:
            continue
        elif path.suffix.lower() in SUPPORTED_SUFFIXES:
            yield path
        elif not any(part.startswith(".") for part in path.relative_to(root).parts):
            yield SkippedDocument(source=_relative(path, root),
                                  reason=ViolationReason.UNSUPPORTED_TYPE,
                                  detail=_unsupported(path))


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """Whether ``entry`` is a folder or a link to one (a link that loops is not: the reader
    reports it as a file)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def load_documents(path: Path | str) -> list[Document]:
    """The documents of a ``.txt``/``.md`` file or a folder of them (``TextFileLoader``);
    ``DocumentError`` says which file cannot be read and why."""
    return TextFileLoader().load(Path(path))
