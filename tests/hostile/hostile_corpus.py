"""Reading the hostile-input corpus (the ``*.jsonl`` files beside this module).

The files are written by ``make_corpus.py``; ``test_corpus.py`` checks they are up to date.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).resolve().parent
FILES = ("documents.jsonl", "llm_outputs.jsonl", "cypher_injection.jsonl", "kgcl_invalid.jsonl",
         "prompt_injection.jsonl", "cli_arguments.jsonl")


@cache
def load(name: str) -> tuple[dict[str, Any], ...]:
    """Every case of one corpus file, in file order."""
    lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
    return tuple(json.loads(line) for line in lines if line.strip())


def text(case: dict[str, Any], key: str) -> str:
    """A text field of a case; a long one is stored as ``<key>_parts`` ``[piece, times]``."""
    if key in case:
        return str(case[key])
    return "".join(piece * times for piece, times in case[f"{key}_parts"])


def params(name: str, **marks_by_category: Any) -> list[Any]:
    """The cases of ``name`` as pytest params, each with its case id as the test id."""
    return [pytest.param(c, id=c["id"], marks=marks_by_category.get(c["category"], ()))
            for c in load(name)]


def total() -> dict[str, int]:
    return {name: len(load(name)) for name in FILES}
