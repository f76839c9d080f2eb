"""Loading a corpus: files read sorted and de-duplicated, bad documents refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import DocumentError
from pipeline.ingest import TextFileLoader
from pipeline.models import Document


def test_loads_folder_sorted_skips_readme_and_dedupes(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("# Bee\n\nBees make honey.", encoding="utf-8")
    (tmp_path / "a.txt").write_text("Ants build hills.", encoding="utf-8")
    (tmp_path / "copy.txt").write_text("Ants build hills.", encoding="utf-8")
    (tmp_path / "README.md").write_text("about the corpus", encoding="utf-8")
    docs = TextFileLoader().load(tmp_path)
    assert [d.source for d in docs] == ["a.txt", "b.md"]
    assert docs[1].title == "Bee"
    assert docs[0].id == Document.from_text("Ants build hills.", source="x").id


@pytest.mark.parametrize(("name", "data", "needle"), [
    ("bin.txt", b"abc\x00def", "binary"),
    ("latin.txt", "caf\u00e9".encode("latin-1"), "UTF-8"),
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


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no such file"):
        TextFileLoader().load(tmp_path / "nope")
