"""The corpus itself: at least 200 cases, unique ids, every case with a category and an
expected outcome, and the committed files exactly what ``make_corpus.py`` writes."""

from __future__ import annotations

from pathlib import Path

from tests.hostile.hostile_corpus import CORPUS, FILES, load, total
from tests.hostile.make_corpus import write_all

EXPECTATION_KEYS = {"documents.jsonl": "expected", "llm_outputs.jsonl": "reasons",
                    "cypher_injection.jsonl": "expected", "kgcl_invalid.jsonl": "expected",
                    "prompt_injection.jsonl": "outcome", "cli_arguments.jsonl": "expected"}


def test_the_corpus_holds_at_least_200_cases_with_unique_ids() -> None:
    counts = total()
    assert sum(counts.values()) >= 200, counts
    ids = [c["id"] for name in FILES for c in load(name)]
    assert len(ids) == len(set(ids))


def test_every_case_says_what_it_is_and_what_must_happen() -> None:
    for name in FILES:
        for case in load(name):
            assert case["id"] and case["category"], case
            assert EXPECTATION_KEYS[name] in case, case


def test_the_committed_files_are_what_make_corpus_writes(tmp_path: Path) -> None:
    write_all(tmp_path)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (CORPUS / name).read_bytes(), (
            f"{name} is stale: run .venv/bin/python tests/hostile/make_corpus.py")
