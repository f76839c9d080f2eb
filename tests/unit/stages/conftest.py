"""Small fixtures for the stage tests: a toy ontology written here, and chunks of text."""

from __future__ import annotations

from pathlib import Path

import pytest
from toy_ontology import STAGES_TOY_ONTOLOGY

from pipeline.models import Chunk, Document, Ontology
from pipeline.ontology import load_ontology

TOY_TTL = STAGES_TOY_ONTOLOGY

TEXT = ("Acme Rockets was founded by Ada Byron in 1998. Acme Rockets is based in Seattle. "
        "The company has 250 employees.")


@pytest.fixture()
def toy_path(tmp_path: Path) -> Path:
    p = tmp_path / "toy.ttl"
    p.write_text(TOY_TTL, encoding="utf-8")
    return p


@pytest.fixture()
def toy(toy_path: Path) -> Ontology:
    return load_ontology(toy_path)


@pytest.fixture()
def doc() -> Document:
    return Document.from_text("# Acme\n\n" + TEXT, source="acme.md", title="Acme")


@pytest.fixture()
def chunk(doc: Document) -> Chunk:
    start = doc.text.index("Acme Rockets")
    return Chunk.make(doc, 0, start, len(doc.text))
