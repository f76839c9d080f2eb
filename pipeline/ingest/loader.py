"""Loading plain-text and Markdown documents (including text extracted from PDFs).

Bad input never half-loads: a missing path, a binary file, invalid UTF-8 or an empty file raises
``DocumentError`` naming the file and what to do, before anything reaches the store.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.errors import DocumentError
from pipeline.ingest.base import DocumentLoader
from pipeline.models import Document

SUPPORTED_SUFFIXES = {".txt": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown"}
#: files in a corpus folder that describe the corpus rather than belong to it
SKIPPED_NAMES = {"readme.md", "readme.txt", "license", "license.md", "license.txt"}
MAX_BYTES = 5_000_000

_TITLE = re.compile(r"^\s*#\s+(.+?)\s*$", re.MULTILINE)


class TextFileLoader(DocumentLoader):
    """Reads ``.txt``/``.md`` files as UTF-8; a folder is read recursively in sorted order."""

    def __init__(self, *, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes

    def load(self, path: Path) -> list[Document]:
        path = Path(path)
        if not path.exists():
            raise DocumentError(f"{path}: no such file or directory; check the path you gave")
        if path.is_dir():
            files = sorted(p for p in path.rglob("*")
                           if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
                           and p.name.lower() not in SKIPPED_NAMES)
            if not files:
                raise DocumentError(
                    f"{path}: no documents found (looked for {', '.join(SUPPORTED_SUFFIXES)})")
            docs = [self._load_file(f, root=path) for f in files]
            return _dedupe(docs)
        return [self._load_file(path, root=path.parent)]

    def _load_file(self, file: Path, *, root: Path) -> Document:
        suffix = file.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise DocumentError(
                f"{file}: unsupported file type '{suffix or '(none)'}'; VeriKG reads "
                f"{', '.join(SUPPORTED_SUFFIXES)} (extract text from PDFs first)")
        data = file.read_bytes()
        if len(data) > self.max_bytes:
            raise DocumentError(f"{file}: {len(data)} bytes is over the {self.max_bytes}-byte "
                                "limit; split the document")
        if b"\x00" in data:
            raise DocumentError(f"{file}: looks binary (contains NUL bytes); give a text file")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"{file}: not valid UTF-8 at byte {exc.start}; re-encode it "
                                "as UTF-8") from exc
        text = text.replace("\r\n", "\n").lstrip("\ufeff")
        if not text.strip():
            raise DocumentError(f"{file}: empty document; remove it or add text")
        match = _TITLE.search(text)
        title = match.group(1) if match else file.stem
        source = str(file.relative_to(root)) if file.is_relative_to(root) else str(file)
        return Document.from_text(text, source=source, title=title,
                                  media_type=SUPPORTED_SUFFIXES[suffix])


def _dedupe(docs: list[Document]) -> list[Document]:
    """Identical content under two names is one document (ids are content hashes)."""
    seen: dict[str, Document] = {}
    for d in docs:
        seen.setdefault(d.id, d)
    return list(seen.values())
