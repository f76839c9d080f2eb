"""Where the shared Text2KGBench development data lives (read in place, never copied)."""

from __future__ import annotations

from pathlib import Path

from verikg_cli.shared_data import shared_data_dir

_SHARED = shared_data_dir()
DATA = (_SHARED or Path("shared-data-not-found")) / "text2kgbench"

#: (family, ontology, responses file of each system, official scores file of each system)
ONTOLOGIES = [("dbpedia_webnlg", "1_university"), ("dbpedia_webnlg", "7_company"),
              ("dbpedia_webnlg", "8_celestialbody"), ("wikidata_tekgen", "6_computer"),
              ("wikidata_tekgen", "8_politics")]
SYSTEMS = ["Vicuna-13B", "Alpaca-LoRA-13B"]


def bench_file(family: str, ontology: str, system: str, kind: str) -> Path:
    folder = DATA / family / "baselines" / system / kind
    found = sorted(p for p in folder.iterdir() if f"{ontology}_" in p.name)
    assert len(found) == 1, f"expected one {kind} file for {ontology} in {folder}: {found}"
    return found[0]


def ontology_file(family: str, ontology: str) -> Path:
    return DATA / family / "ontologies" / f"{ontology}_ontology.json"


def gold_file(family: str, ontology: str) -> Path:
    return DATA / family / "ground_truth" / f"ont_{ontology}_ground_truth.jsonl"
