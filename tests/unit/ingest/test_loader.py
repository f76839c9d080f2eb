"""Loading a corpus: files read sorted and de-duplicated, bad documents refused clearly or
skipped with their reasons, other encodings read and recorded, long files read in parts."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from pipeline.errors import ConfigurationError, DocumentError
from pipeline.ingest import TextFileLoader
from pipeline.ingest.loader import MAX_BYTES
from pipeline.models import Document, SkippedDocument, ViolationReason

SENTENCE = "Acme Rockets was founded by Ada Byron in 1998. It is based in Seattle!\r\n\r\n"


def test_loads_folder_sorted_skips_readme_and_dedupes(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("# Bee\n\nBees make honey.", encoding="utf-8")
    (tmp_path / "a.txt").write_text("Ants build hills.", encoding="utf-8")
    (tmp_path / "copy.txt").write_text("Ants build hills.", encoding="utf-8")
    (tmp_path / "README.md").write_text("about the corpus", encoding="utf-8")
    docs = TextFileLoader().load(tmp_path)
    assert [d.source for d in docs] == ["a.txt", "b.md"]
    assert docs[1].title == "Bee"
    assert docs[0].id == Document.from_text("Ants build hills.", source="x").id
    assert docs[0].media_type == "text/plain"


@pytest.mark.parametrize(("name", "data", "needle"), [
    ("bin.txt", b"abc\x00def", "binary"),
    ("undecodable.txt", b"caf\x81\x90", "nor in a Western single-byte encoding"),
    ("cut.txt", b"Acme caf\xc3", "ends inside a character"),
    ("mixed.txt", "Orléans ".encode() + b"caf\xe9 au lait", "other parts read as UTF-8"),
    ("empty.md", b"   \n", "empty"),
    ("doc.pdf", b"%PDF-1.4", "unsupported"),
])
def test_bad_documents_are_refused_clearly(tmp_path: Path, name: str, data: bytes,
                                           needle: str) -> None:
    f = tmp_path / name
    f.write_bytes(data)
    with pytest.raises(DocumentError, match=needle) as info:
        TextFileLoader().load(f)
    assert name in str(info.value)


@pytest.mark.parametrize(("data", "text", "charset"), [
    ("Le château d'Orléans, été 1429.".encode("latin-1"), "Le château d'Orléans, été 1429.",
     "iso-8859-1"),
    (b"The \x93Acme\x94 Rockets cost \x80 5.", "The \u201cAcme\u201d Rockets cost \u20ac 5.",
     "windows-1252"),
    ("Hé, Acme.".encode("utf-16"), "Hé, Acme.", "utf-16"),
])
def test_other_encodings_are_read_and_recorded(tmp_path: Path, data: bytes, text: str,
                                               charset: str) -> None:
    (tmp_path / "fr.txt").write_bytes(data)
    [doc] = TextFileLoader().load(tmp_path / "fr.txt")
    assert doc.text == text
    assert doc.media_type == f"text/plain; charset={charset}"


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no such file"):
        TextFileLoader().load(tmp_path / "nope")


def test_an_unknown_choice_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="fail, skip"):
        TextFileLoader(on_bad="maybe")  # type: ignore[arg-type]


def _mixed_corpus(root: Path) -> None:
    root.mkdir()
    (root / "good.txt").write_text("Acme Rockets was founded by Ada Byron.", encoding="utf-8")
    (root / "bin.txt").write_bytes(b"Acme\x00Rockets")
    (root / "empty.md").write_bytes(b"")
    (root / "big.txt").write_bytes(b"Acme " * 400)
    (root / "photo.png").write_bytes(b"\x89PNG")
    (root / "loop.txt").symlink_to("loop.txt")
    (root / "gone.md").symlink_to(root / "nowhere.md")
    (root / "sub").mkdir()
    (root / "sub" / "up").symlink_to("..")
    (root / "sub" / "deep.md").write_text("Globex is based in Springfield.", encoding="utf-8")
    os.mkfifo(root / "pipe.txt")


def test_skip_goes_on_and_says_why_for_every_file(tmp_path: Path) -> None:
    _mixed_corpus(tmp_path / "c")
    items = list(TextFileLoader(max_bytes=1000, on_bad="skip").iter_load(tmp_path / "c"))
    docs = [i.source for i in items if isinstance(i, Document)]
    skipped = {i.source: i.reason for i in items if isinstance(i, SkippedDocument)}
    assert docs == ["good.txt", "sub/deep.md"]
    assert skipped == {
        "big.txt": ViolationReason.TOO_LARGE, "bin.txt": ViolationReason.BINARY_DOCUMENT,
        "empty.md": ViolationReason.EMPTY_DOCUMENT, "gone.md": ViolationReason.DANGLING_SYMLINK,
        "loop.txt": ViolationReason.SYMLINK_LOOP, "photo.png": ViolationReason.UNSUPPORTED_TYPE,
        "pipe.txt": ViolationReason.NOT_A_REGULAR_FILE, "sub/up": ViolationReason.SYMLINK_LOOP}
    for item in items:
        if isinstance(item, SkippedDocument):
            assert item.source.rsplit("/", 1)[-1] in item.detail, item


def test_fail_stops_at_the_first_bad_file_and_others_are_never_fatal(tmp_path: Path) -> None:
    _mixed_corpus(tmp_path / "c")
    with pytest.raises(DocumentError, match=r"big\.txt: 2000 bytes is over the 1000-byte"):
        TextFileLoader(max_bytes=1000).load(tmp_path / "c")
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "a.txt").write_text("Ants build hills.", encoding="utf-8")
    (clean / "photo.png").write_bytes(b"\x89PNG")
    (clean / "up").symlink_to("..")
    assert [d.source for d in TextFileLoader().load(clean)] == ["a.txt"]


def test_a_corpus_of_bad_files_only_is_an_error_even_when_skipping(tmp_path: Path) -> None:
    (tmp_path / "bin.txt").write_bytes(b"\x00")
    with pytest.raises(DocumentError, match=r"none of its 1 document\(s\) could be read"):
        TextFileLoader(on_bad="skip").load(tmp_path)


def test_a_file_over_the_old_5_mb_limit_is_read_in_parts(tmp_path: Path) -> None:
    text = SENTENCE * 80_000  # 5.9 MB, over the 5 MB the loader used to refuse
    (tmp_path / "big.txt").write_bytes(text.encode())
    assert 5_000_000 < len(text) < MAX_BYTES
    docs = TextFileLoader().load(tmp_path / "big.txt")
    read = text.replace("\r\n", "\n")
    assert len(docs) == 6 and "".join(d.text for d in docs) == read
    for n, d in enumerate(docs, 1):
        start, end = map(int, d.source.removeprefix("big.txt#char=").split(","))
        assert read[start:end] == d.text and len(d.text) <= 1_000_000
        assert d.text.endswith("\n\n") or n == len(docs)  # cut at a paragraph end
        assert d.title == f"big (part {n})"


def test_reading_in_parts_holds_a_window_not_the_file(tmp_path: Path) -> None:
    (tmp_path / "big.md").write_bytes((SENTENCE * 80_000).encode())
    parts = TextFileLoader(part_chars=100_000).iter_load(tmp_path / "big.md")
    tracemalloc.start()
    try:
        first, second = next(parts), next(parts)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(first, Document) and isinstance(second, Document)
    assert len(first.text) <= 100_000 and len(second.text) <= 100_000
    assert peak < 2_000_000, peak  # the file is 5.9 MB


def test_a_part_is_cut_at_a_sentence_or_space_when_there_is_no_paragraph(
        tmp_path: Path) -> None:
    (tmp_path / "one.txt").write_text("Acme flies. " * 300 + "x" * 2500, encoding="utf-8")
    docs = TextFileLoader(part_chars=1000).load(tmp_path / "one.txt")
    assert all(d.text.endswith("flies. ") for d in docs[:3])
    assert [len(d.text) for d in docs[-3:]] == [1000, 1000, 500]  # no space: hard cuts
