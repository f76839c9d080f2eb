"""Reading one file as text, a bounded window at a time: its encoding, its checks, its parts.

A file is read twice, never whole: a first pass (``sniff``) finds the encoding and checks
every byte and character — so a file is refused before any of it is used — and a second pass
(``parts``) decodes it again and yields its text in parts of at most ``part_chars``
characters, each cut at a paragraph or sentence end. Memory stays within one window plus one
part, whatever the file's size; ``max_bytes`` is the hard limit.

Encodings: UTF-8 (with or without a byte-order mark); UTF-16 and UTF-32 with a byte-order
mark; otherwise a file that is not UTF-8 but reads as a single-byte Western text (no byte
Windows-1252 leaves undefined) is read as ISO-8859-1 — Windows-1252 when it uses that code
page's bytes 0x80-0x9F (curly quotes, the euro sign) — and the encoding is kept as the
document's ``media_type`` charset. A file that is UTF-8 in places and broken in others, ends
inside a UTF-8 character, or is neither is refused: guessing would garble it.
"""

from __future__ import annotations

import codecs
import errno
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from pipeline.models import ViolationReason

#: bytes read at once
WINDOW_BYTES = 1 << 18

#: control characters no text document holds (tab, line feed, vertical tab, form feed and
#: carriage return are layout; pdftotext writes form feeds between pages): C0, DEL and C1
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_ALNUM = re.compile(r"[^\W_]")
_VISIBLE = re.compile(r"[^\s\ufeff]")
#: a well-formed UTF-8 sequence of two to four bytes (what a single-byte text almost never has)
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}")
_C1_BYTES = re.compile(rb"[\x80-\x9f]")
#: the five bytes Windows-1252 does not define: a file holding one is no Western text
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
#: byte-order marks of UTF-16/32, longest first (UTF-32 LE starts like UTF-16 LE)
_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_PARAGRAPH = re.compile(r"\n[^\S\n]*\n\s*")
_SENTENCE = re.compile(r"[.!?]\s+")
_SPACE = re.compile(r"\s+")


class Refusal(Exception):  # noqa: N818 - a verdict, turned into DocumentError or a skip
    """A file that is not a readable document: why (a stored reason code) and the one-line
    message naming the file and what to do."""

    def __init__(self, reason: ViolationReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def check_regular(file: Path, max_bytes: int) -> int:
    """The size of ``file``, refusing anything but a readable regular file within
    ``max_bytes`` (a FIFO would block forever, a device never ends)."""
    try:
        info = file.stat()
    except OSError as exc:
        raise os_refusal(file, exc) from exc
    if not stat.S_ISREG(info.st_mode):
        raise Refusal(ViolationReason.NOT_A_REGULAR_FILE,
                      f"{file}: not a regular file (a device, FIFO or socket); give a text file")
    if info.st_size > max_bytes:
        raise Refusal(ViolationReason.TOO_LARGE,
                      f"{file}: {info.st_size} bytes is over the {max_bytes}-byte limit "
                      "(max_document_bytes); split the document or raise the limit")
    return info.st_size


def os_refusal(file: Path, exc: OSError) -> Refusal:
    if exc.errno == errno.ELOOP:
        return Refusal(ViolationReason.SYMLINK_LOOP,
                       f"{file}: a symbolic link that leads back to itself (a loop); fix or "
                       "remove the link")
    if exc.errno == errno.ENOENT and file.is_symlink():
        return Refusal(ViolationReason.DANGLING_SYMLINK,
                       f"{file}: no such file (a symbolic link to {os.readlink(file)}, which "
                       "does not exist); fix or remove the link")
    if exc.errno == errno.ENOENT:
        return Refusal(ViolationReason.UNREADABLE_FILE,
                       f"{file}: no such file (it disappeared while the corpus was read)")
    return Refusal(ViolationReason.UNREADABLE_FILE,
                   f"{file}: cannot be read ({exc.strerror or exc}); check its permissions")


def windows(file: Path, max_bytes: int, size: int = WINDOW_BYTES) -> Iterator[bytes]:
    """The bytes of ``file``, ``size`` at a time; refused past ``max_bytes`` (a file may
    grow between ``stat`` and ``read``)."""
    check_regular(file, max_bytes)
    total = 0
    try:
        with file.open("rb") as handle:
            while data := handle.read(size):
                total += len(data)
                if total > max_bytes:
                    raise Refusal(ViolationReason.TOO_LARGE,
                                  f"{file}: over the {max_bytes}-byte limit "
                                  "(max_document_bytes); split the document or raise the limit")
                yield data
    except OSError as exc:
        raise os_refusal(file, exc) from exc


@dataclass
class _Scan:
    """What one pass found with one decoder."""

    error_at: int | None = None      # byte offset of the first byte the decoder refused
    truncated: bool = False          # the file ends inside a character
    multibyte: bool = False          # a well-formed UTF-8 multi-byte sequence somewhere
    c1_bytes: bool = False           # a byte 0x80-0x9F somewhere
    undefined: bool = False          # a byte Windows-1252 leaves undefined
    control: tuple[int, str] | None = None  # character offset and the control character
    visible: bool = False            # a character other than white space and BOMs
    alnum: bool = False              # a letter or digit
    chars: int = 0                   # characters decoded so far

    def look(self, text: str) -> None:
        if self.control is None and (m := _CONTROL.search(text)):
            self.control = (self.chars + m.start(), m.group())
        self.visible = self.visible or bool(_VISIBLE.search(text))
        self.alnum = self.alnum or bool(_ALNUM.search(text))
        self.chars += len(text)


def _scan(file: Path, max_bytes: int, codec: str, *, nul_is_binary: bool) -> _Scan:
    """One pass over ``file`` decoding it as ``codec`` (stopping the decoding, not the byte
    checks, at the first byte it refuses)."""
    found = _Scan()
    decoder = codecs.getincrementaldecoder(codec)("strict")
    offset = 0
    tail = b""
    for data in windows(file, max_bytes):
        if nul_is_binary and b"\x00" in data:
            raise Refusal(ViolationReason.BINARY_DOCUMENT,
                          f"{file}: looks binary (contains NUL bytes); give a text file")
        found.multibyte = found.multibyte or bool(_UTF8_MULTIBYTE.search(tail + data))
        found.c1_bytes = found.c1_bytes or bool(_C1_BYTES.search(data))
        found.undefined = found.undefined or bool(_CP1252_UNDEFINED.search(data))
        tail = data[-3:]
        if found.error_at is None:
            pending = len(decoder.getstate()[0])
            try:
                found.look(decoder.decode(data))
            except UnicodeDecodeError as exc:
                found.error_at = offset - pending + exc.start
        offset += len(data)
    if found.error_at is None:
        try:
            found.look(decoder.decode(b"", final=True))
        except UnicodeDecodeError as exc:
            found.error_at, found.truncated = offset - len(exc.object) + exc.start, True
    return found


def _first_bytes(file: Path, max_bytes: int) -> bytes:
    for data in windows(file, max_bytes, size=4):
        return data
    return b""


def sniff(file: Path, max_bytes: int) -> str:
    """The codec ``file`` reads in (``utf-8``, ``utf-8-sig``, ``utf-16``, ``utf-32``,
    ``iso-8859-1`` or ``cp1252``), after checking every character of it: a ``Refusal`` for a
    binary, undecodable or empty file."""
    head = _first_bytes(file, max_bytes)
    codec = next((name for bom, name in _BOMS if head.startswith(bom)), "utf-8")
    found = _scan(file, max_bytes, codec, nul_is_binary=codec == "utf-8")
    if found.error_at is not None and codec != "utf-8":
        raise Refusal(ViolationReason.UNREADABLE_ENCODING,
                      f"{file}: not valid {codec.upper()} at byte {found.error_at} (it starts "
                      "with that encoding's byte-order mark); re-encode it as UTF-8")
    if found.error_at is not None:
        where = f"{file}: not valid UTF-8 at byte {found.error_at}"
        if found.truncated:
            raise Refusal(ViolationReason.UNREADABLE_ENCODING,
                          f"{where} (the file ends inside a character: cut short?); restore "
                          "or re-encode it as UTF-8")
        if found.multibyte:
            raise Refusal(ViolationReason.UNREADABLE_ENCODING,
                          f"{where}, though other parts read as UTF-8 (a damaged or mixed "
                          "file); fix or re-encode it as UTF-8")
        if found.undefined:
            raise Refusal(ViolationReason.UNREADABLE_ENCODING,
                          f"{where}, nor in a Western single-byte encoding (ISO-8859-1, "
                          "Windows-1252); re-encode it as UTF-8")
        codec = "cp1252" if found.c1_bytes else "iso-8859-1"
        found = _scan(file, max_bytes, "cp1252", nul_is_binary=True)
    if found.control is not None:
        at, char = found.control
        raise Refusal(ViolationReason.BINARY_DOCUMENT,
                      f"{file}: looks binary (control character U+{ord(char):04X} at "
                      f"character {at}); give a text file")
    if not found.visible:
        raise Refusal(ViolationReason.EMPTY_DOCUMENT,
                      f"{file}: empty document; remove it or add text")
    if not found.alnum:
        raise Refusal(ViolationReason.EMPTY_DOCUMENT,
                      f"{file}: empty document (no letter or digit); remove it or add text")
    return "utf-8-sig" if codec == "utf-8" and head.startswith(codecs.BOM_UTF8) else codec


def charset(codec: str) -> str | None:
    """The ``charset`` a document's media type records for ``codec`` (None: UTF-8)."""
    return {"utf-16": "utf-16", "utf-32": "utf-32", "iso-8859-1": "iso-8859-1",
            "cp1252": "windows-1252"}.get(codec)


def parts(file: Path, codec: str, *, max_bytes: int, part_chars: int) -> Iterator[str]:
    """The text of ``file`` (decoded as ``codec``, leading BOMs dropped, CRLF made LF) in
    parts of at most ``part_chars`` characters, each but the last cut at a paragraph end,
    else a sentence end, else white space (``cut``). One part when it all fits."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    buffer = ""
    started = False
    held_cr = False
    try:
        for data in chain(windows(file, max_bytes), [None]):
            text = decoder.decode(b"", final=True) if data is None else decoder.decode(data)
            if not started:
                text = text.lstrip("\ufeff")
                started = bool(text)
            if held_cr:
                text = "\r" + text
            held_cr = data is not None and text.endswith("\r")
            if held_cr:
                text = text[:-1]
            buffer += text.replace("\r\n", "\n")
            while len(buffer) > part_chars:
                at = cut(buffer, part_chars)
                yield buffer[:at]
                buffer = buffer[at:]
    except UnicodeDecodeError as exc:
        raise Refusal(ViolationReason.UNREADABLE_FILE,
                      f"{file}: changed while it was read ({exc.reason}); rerun") from exc
    yield buffer


def cut(text: str, limit: int) -> int:
    """Where to end a part of ``text`` of at most ``limit`` characters: after the last
    paragraph break in its second half, else the last sentence end, else the last white
    space, else at ``limit``."""
    floor = limit // 2
    for pattern in (_PARAGRAPH, _SENTENCE, _SPACE):
        ends = [m.end() for m in pattern.finditer(text, floor, limit)]
        if ends and ends[-1] <= limit:
            return ends[-1]
    return limit
