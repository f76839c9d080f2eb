"""Hostile documents, each of ``documents.jsonl`` materialised in tmp_path:

- a file the loader refuses raises ``DocumentError`` naming the file and the problem when bad
  documents fail the load, and nothing is loaded (a folder with one bad file loads none);
- when they are skipped (the build's default), the same file beside a good one is skipped
  with its reason, the good one is read, and the skipped file is quarantined as a document
  in the graph store with that reason;
- a file in another encoding is read, as that encoding, never garbled or refused, and a file
  over the old 5 MB limit is read in parts.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import DocumentError
from pipeline.ingest import SentenceChunker, TextFileLoader, read_corpus, skipped_quarantine
from pipeline.ingest.loader import MAX_BYTES, PART_CHARS
from pipeline.ingest.reading import charset
from pipeline.models import Document
from pipeline.store import open_store
from tests.hostile.hostile_corpus import load, text

GOOD_TEXT = "Acme Rockets was founded by Ada Byron in 1998.\n"
#: contents of the files a ``folder:`` case names (``name=kind``; no kind: a good document)
FOLDER_CONTENT = {"": GOOD_TEXT.encode(), "binary": b"Acme\x00Rockets",
                  "latin1": "Café Acme à Orléans".encode("latin-1"),
                  "undecodable": b"Acme \x81\x90 Rockets", "empty": b" \n"}
#: links a ``folder:`` case names: to itself, to the folder holding it
FOLDER_LINKS = {"loop": "{name}", "updir": ".."}


def _cases(kind: str) -> list[Any]:
    def wanted(case: dict[str, Any]) -> bool:
        expected = case["expected"]
        if kind == "read":
            return "read" in expected
        if kind == "refused":
            return "error" in expected
        if kind == "skipped":  # one bad file, skipped beside a good one
            return "reason" in expected and not case.get("special", "").startswith("folder:")
        return "skip" in expected  # folders a skipping load reads
    return [pytest.param(c, id=c["id"]) for c in load("documents.jsonl") if wanted(c)]


def _content(case: dict[str, Any]) -> bytes:
    if "hex" in case:
        return bytes.fromhex(case["hex"])
    if "repeat" in case:
        return bytes.fromhex(case["repeat"]["hex"]) * case["repeat"]["times"]
    return text(case, "text").encode("utf-8")


def materialise(case: dict[str, Any], root: Path) -> Path:
    """Build the case's file (or folder, FIFO, link) under ``root`` and return its path."""
    path = root / case["name"]
    special = case.get("special")
    if special is None:
        path.write_bytes(_content(case))
    elif special == "fifo":
        os.mkfifo(path)
    elif special.startswith("symlink:"):
        path.symlink_to(special.removeprefix("symlink:"))
    elif special.startswith("folder:"):
        path.mkdir()
        for entry in filter(None, special.removeprefix("folder:").split(",")):
            name, _, kind = entry.partition("=")
            if kind in FOLDER_LINKS:
                (path / name).symlink_to(FOLDER_LINKS[kind].format(name=name))
            else:
                (path / name).write_bytes(FOLDER_CONTENT[kind])
    elif special != "missing":
        raise AssertionError(f"unknown special file {special!r} in case {case['id']}")
    return path


def _loader(case: dict[str, Any], on_bad: str) -> TextFileLoader:
    return TextFileLoader(max_bytes=case.get("max_bytes", MAX_BYTES),
                          part_chars=case.get("part_chars", PART_CHARS),
                          on_bad=on_bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("case", _cases("refused"))
def test_hostile_document_fails_the_load_clearly(case: dict[str, Any], tmp_path: Path) -> None:
    path = materialise(case, tmp_path)
    with pytest.raises(DocumentError) as info:
        _loader(case, "fail").load(path)
    message = str(info.value)
    assert re.search(case["expected"]["match"], message), message
    assert case["name"] in message, f"the error does not name the file: {message}"
    assert type(info.value) is DocumentError
    assert "\n" not in message


@pytest.mark.parametrize("case", _cases("skipped"))
def test_hostile_document_is_skipped_and_quarantined_beside_a_good_one(
        case: dict[str, Any], tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    materialise(case, corpus)
    (corpus / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    reason = case["expected"]["reason"]
    read = read_corpus(corpus, _loader(case, "skip"), SentenceChunker())
    assert [d.source for d in read.documents] == ["good.txt"]
    assert len(read.chunks) == 1
    assert [(s.source, s.reason.value) for s in read.skipped] == [(case["name"], reason)]
    assert re.search(case["expected"]["match"], read.skipped[0].detail)
    with open_store(f"sqlite:{tmp_path / 'kg.sqlite'}") as store:
        store.write_quarantine(skipped_quarantine(read.skipped, "run-1"))
        stored = store.quarantined()
    if reason == "unsupported-type":  # reported, not quarantined: never a document
        assert stored == []
        return
    [record] = stored
    assert record.candidate is None and record.document_id == f"file:{case['name']}"
    assert [v.reason.value for v in record.violations] == [reason]
    # failing on bad documents: the same folder stops the load, naming the file
    with pytest.raises(DocumentError, match=re.escape(case["name"])):
        read_corpus(corpus, _loader(case, "fail"), SentenceChunker())


@pytest.mark.parametrize("case", _cases("folder"))
def test_hostile_folder_loads_its_good_files_when_skipping(case: dict[str, Any],
                                                           tmp_path: Path) -> None:
    path = materialise(case, tmp_path)
    read = read_corpus(path, _loader(case, "skip"), SentenceChunker())
    expected = case["expected"]["skip"]
    assert [d.source for d in read.documents] == expected["loaded"]
    assert {s.source: s.reason.value for s in read.skipped} == expected["skipped"]


@pytest.mark.parametrize("case", _cases("read"))
def test_hostile_encoding_or_size_is_read_faithfully(case: dict[str, Any],
                                                     tmp_path: Path) -> None:
    path = materialise(case, tmp_path)
    expected = case["expected"]["read"]
    docs = _loader(case, "fail").load(path)
    assert all(isinstance(d, Document) for d in docs)
    assert len(docs) == expected["parts"]
    want = _content(case).decode(expected["encoding"]).lstrip("\ufeff").replace("\r\n", "\n")
    assert "".join(d.text for d in docs) == want
    label = charset(expected["encoding"])
    for d in docs:
        assert d.media_type.endswith(f"; charset={label}" if label else "text/plain") or (
            label is None and d.media_type == "text/markdown")
