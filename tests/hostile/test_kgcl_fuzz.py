"""KGCL fuzzed with hypothesis: random text and mutations of valid commands either parse or
raise ``ChangeRequestError`` — never another exception — and a batch holding a mutated command,
applied to a store, either applies whole or leaves the store exactly as it was.

Derandomized (the same examples every run, so the suite stays deterministic) and bounded."""

from __future__ import annotations

import shutil
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import ChangeRequestError
from pipeline.kgcl import apply_to_store
from pipeline.kgcl.parser import parse_change_request, parse_command
from pipeline.store import SQLiteGraphStore
from tests.compliance.graph_store_fixtures import Sample, build_sample, snapshot
from tests.compliance.kgcl_store_fixtures import ONTOLOGY


def fuzz(examples: int) -> settings:
    """Deterministic, bounded, no example database written into the checkout."""
    return settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

#: valid commands on the sentinel graph, one per KGCL verb the graph understands
VALID = (
    "rename 'London' to 'Londinium'",
    "rename 'London' from 'London' to 'Londinium'",
    "create edge 'Charles Babbage' ex:locatedIn 'London'",
    "delete edge 'Charles Babbage' ex:worksFor 'Engine Company'",
    "obsolete 'London' with replacement 'Engine Company'",
    "create exact synonym 'Big Smoke' for 'London'",
    "add definition 'a city on the Thames' to 'London'",
    "create node ent:fuzz 'Fuzz'",
    "deepen 'Ada Lovelace' from ex:Person to ex:Scientist",
    "change relationship between 'Ada Lovelace' and 'Engine Company' from ex:worksFor to "
    "ex:knows",
    "add 'London' to subset ex:cities",
    "change annotation of 'London' with rdfs:comment from \"a\"@en to \"b\"@fr",
    "create edge 'Engine Company' ex:foundedYear \"1835\"^^xsd:gYear",
    "rename '''Ada Lovelace''' to \"\"\"Ada King\"\"\"",
)
#: characters that break quoting, placeholders, IRIs, Cypher and lines
NASTY = "'\"\\`{}()<>«»@^:;#/\n\t\x00\u202e\u200b "
_CHARS = st.sampled_from(string.ascii_letters + string.digits + NASTY)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A valid command with up to four characters inserted, deleted or replaced."""
    chars = list(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(chars)))
        op = draw(st.sampled_from(("insert", "delete", "replace")))
        if op == "insert":
            chars.insert(at, draw(_CHARS))
        elif chars:
            at = min(at, len(chars) - 1)
            if op == "delete":
                del chars[at]
            else:
                chars[at] = draw(_CHARS)
    return "".join(chars)


def _parses_or_refuses(text: str) -> None:
    try:
        parse_change_request(text)
    except ChangeRequestError as exc:
        assert str(exc).strip()


@fuzz(200)
@given(st.text(max_size=120))
def test_random_text_parses_or_is_refused_clearly(text: str) -> None:
    _parses_or_refuses(text)


@fuzz(300)
@given(mutated())
def test_mutated_command_parses_or_is_refused_clearly(command: str) -> None:
    try:
        parsed = parse_command(command, line=3)
    except ChangeRequestError as exc:
        assert str(exc).startswith("line 3: ")
    else:
        assert parsed.text == command.strip()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Sample]:
    """A closed SQLite file holding the sentinel graph, copied for every example."""
    sample = build_sample()
    path = tmp_path_factory.mktemp("fuzz") / "template.sqlite"
    with SQLiteGraphStore(path) as store:
        store.upsert_documents(sample.documents, sample.chunks)
        store.write_assertions(sample.assertions)
        store.write_quarantine(sample.quarantine)
    return path, sample


@fuzz(60)
@given(valid=st.lists(st.sampled_from(VALID), min_size=0, max_size=2), bad=mutated(),
       at=st.integers(0, 2))
def test_a_batch_with_a_mutated_command_applies_whole_or_not_at_all(
        template: tuple[Path, Sample], tmp_path_factory: pytest.TempPathFactory,
        valid: list[str], bad: str, at: int) -> None:
    path = tmp_path_factory.mktemp("example") / "kg.sqlite"
    shutil.copy(template[0], path)
    lines = list(valid)
    lines.insert(min(at, len(lines)), bad)
    with SQLiteGraphStore(path) as store:
        before = snapshot(store)
        try:
            applied = apply_to_store("\n".join(lines), store, ONTOLOGY, actor="fuzz",
                                     role="admin")
        except ChangeRequestError:
            assert snapshot(store) == before
        else:
            commands = len([ln for ln in lines if ln.strip() and not ln.strip().startswith("#")])
            assert applied == commands
            assert store.version() == before[-1] + 1  # one transaction
            assert len([e for e in store.audit_log() if e.actor == "fuzz"]) >= commands
