"""Hostile documents: every file of ``documents.jsonl`` is refused by the loader with a
``DocumentError`` that names the file and the problem, and nothing is loaded (a folder with one
bad file loads none of its good ones)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import DocumentError
from pipeline.ingest import TextFileLoader
from pipeline.ingest.loader import MAX_BYTES
from tests.hostile.hostile_corpus import params, text

GOOD_TEXT = "Acme Rockets was founded by Ada Byron in 1998.\n"
#: contents of the files a ``folder:`` case names (``name=kind``; no kind: a good document)
FOLDER_CONTENT = {"": GOOD_TEXT.encode(), "binary": b"Acme\x00Rockets",
                  "latin1": "Café Acme".encode("latin-1")}


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
            (path / name).write_bytes(FOLDER_CONTENT[kind])
    elif special != "missing":
        raise AssertionError(f"unknown special file {special!r} in case {case['id']}")
    return path


@pytest.mark.parametrize("case", params("documents.jsonl"))
def test_hostile_document_is_refused(case: dict[str, Any], tmp_path: Path) -> None:
    path = materialise(case, tmp_path)
    loader = TextFileLoader(max_bytes=case.get("max_bytes", MAX_BYTES))
    with pytest.raises(DocumentError) as info:
        loader.load(path)
    message = str(info.value)
    assert re.search(case["expected"]["match"], message), message
    assert case["name"] in message, f"the error does not name the file: {message}"
    assert type(info.value) is DocumentError
