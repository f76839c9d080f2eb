"""The real ontologies the verification tests check (shared data, read in place, never copied)
and a way to run ``verikg ontology check`` on them in-process and read its JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rdflib import Graph, Namespace
from typer.testing import CliRunner

from verikg_cli.main import app
from verikg_cli.shared_data import shared_data_dir

_SHARED = shared_data_dir() or Path("shared-data-not-found")
T2K = _SHARED / "text2kgbench"
GO_TTL = _SHARED / "kgcl-dev" / "ontologies" / "go-nucleus.owl.ttl"


def _t2k(family: str, name: str) -> Path:
    return T2K / family / "ontologies" / "owl" / f"ont_{name}.ttl"


#: every OWL file of the shared data: the five Text2KGBench ontologies and the GO slice
REAL: dict[str, Path] = {
    "university": _t2k("dbpedia_webnlg", "1_university"),
    "company": _t2k("dbpedia_webnlg", "7_company"),
    "celestialbody": _t2k("dbpedia_webnlg", "8_celestialbody"),
    "computer": _t2k("wikidata_tekgen", "6_computer"),
    "politics": _t2k("wikidata_tekgen", "8_politics"),
    "go-nucleus": GO_TTL,
}


def concepts(name: str) -> Namespace:
    """The class namespace of a Text2KGBench ontology (``university`` → ont_1_university)."""
    number = {"university": "1", "company": "7", "celestialbody": "8", "computer": "6",
              "politics": "8"}[name]
    return Namespace(f"https://cenguix.github.io/Text2KGBench/ont_{number}_{name}/concepts#")


def relations(name: str) -> Namespace:
    return Namespace(str(concepts(name)).replace("/concepts#", "/relations#"))


OBO = Namespace("http://purl.obolibrary.org/obo/")


def load(name: str) -> Graph:
    path = REAL[name]
    assert path.is_file(), f"the shared ontology {name} is not at {path}"
    graph = Graph()
    graph.parse(path, format="turtle")
    return graph


def check(*args: str) -> tuple[int, dict[str, Any]]:
    """``verikg ontology check ARGS --format json``: the exit code and the parsed report."""
    res = CliRunner().invoke(app, ["ontology", "check", *args, "--format", "json"])
    assert res.exit_code in (0, 1), f"exit {res.exit_code}: {res.output}"
    return res.exit_code, json.loads(res.stdout)


def found(report: dict[str, Any], code: str) -> list[tuple[str, ...]]:
    """The IRIs of each finding with ``code``."""
    return [tuple(f["iris"]) for f in report["findings"] if f["code"] == code]


def codes(report: dict[str, Any]) -> set[str]:
    return {f["code"] for f in report["findings"]}
