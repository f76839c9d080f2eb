"""Loading plain-text and Markdown documents (including text extracted from PDFs).

Bad input never half-loads: a missing path, something that is not a regular file (a FIFO, a
device), a file over the size limit, a binary file (NUL bytes or other control characters),
UTF-16/32, invalid UTF-8 or an empty file raises ``DocumentError`` naming the file and what to
do, before anything reaches the store. At most ``max_bytes + 1`` bytes are ever read, so a
symlink to ``/dev/zero`` or a FIFO named ``x.txt`` cannot exhaust memory or hang the load.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

from pipeline.errors import DocumentError
from pipeline.ingest.base import DocumentLoader
from pipeline.models import Document

SUPPORTED_SUFFIXES = {".txt": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown"}
#: files in a corpus folder that describe the corpus rather than belong to it
SKIPPED_NAMES = {"readme.md", "readme.txt", "license", "license.md", "license.txt"}
MAX_BYTES = 5_000_000

_TITLE = re.compile(r"^\s*#\s+(.+?)\s*$", re.MULTILINE)
#: control characters no text document holds (tab, line feed, vertical tab, form feed and
#: carriage return are layout; pdftotext writes form feeds between pages): C0, DEL and C1
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
#: byte-order marks of encodings other than UTF-8, longest first (UTF-32 LE starts like UTF-16 LE)
_OTHER_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
               (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


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
        data = self._read(file)
        for bom, encoding in _OTHER_BOMS:
            if data.startswith(bom):
                raise DocumentError(f"{file}: encoded as {encoding} (byte-order mark); "
                                    "re-encode it as UTF-8")
        if b"\x00" in data:
            raise DocumentError(f"{file}: looks binary (contains NUL bytes); give a text file")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"{file}: not valid UTF-8 at byte {exc.start}; re-encode it "
                                "as UTF-8") from exc
        control = _CONTROL.search(text)
        if control:
            raise DocumentError(
                f"{file}: looks binary (control character U+{ord(control.group()):04X} at "
                f"character {control.start()}); give a text file")
        text = text.replace("\r\n", "\n").lstrip("\ufeff")
        if not text.strip():
            raise DocumentError(f"{file}: empty document; remove it or add text")
        if not any(ch.isalnum() for ch in text):  # only punctuation or invisible characters
            raise DocumentError(f"{file}: empty document (no letter or digit); remove it or "
                                "add text")
        match = _TITLE.search(text)
        title = match.group(1) if match else file.stem
        source = str(file.relative_to(root)) if file.is_relative_to(root) else str(file)
        return Document.from_text(text, source=source, title=title,
                                  media_type=SUPPORTED_SUFFIXES[suffix])

    def _read(self, file: Path) -> bytes:
        """The file's bytes, refusing anything but a regular file within ``max_bytes``.

        Checked before reading and bounded while reading: a FIFO would block forever, a device
        never ends, and a file may grow between ``stat`` and ``read``."""
        try:
            info = file.stat()
            if not stat.S_ISREG(info.st_mode):
                raise DocumentError(f"{file}: not a regular file (a device, FIFO or socket); "
                                    "give a text file")
            if info.st_size > self.max_bytes:
                raise DocumentError(f"{file}: {info.st_size} bytes is over the "
                                    f"{self.max_bytes}-byte limit; split the document")
            with file.open("rb") as handle:
                data = handle.read(self.max_bytes + 1)
        except OSError as exc:
            raise DocumentError(f"{file}: cannot be read ({exc.strerror or exc}); check its "
                                "permissions") from exc
        if len(data) > self.max_bytes:
            raise DocumentError(f"{file}: over the {self.max_bytes}-byte limit; split the "
                                "document")
        return data


def _dedupe(docs: list[Document]) -> list[Document]:
    """Identical content under two names is one document (ids are content hashes)."""
    seen: dict[str, Document] = {}
    for d in docs:
        seen.setdefault(d.id, d)
    return list(seen.values())


def load_documents(path: Path | str) -> list[Document]:
    """The documents of a ``.txt``/``.md`` file or a folder of them (``TextFileLoader``);
    ``DocumentError`` says which file cannot be read and why."""
    return TextFileLoader().load(Path(path))
