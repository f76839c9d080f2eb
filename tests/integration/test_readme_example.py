"""The README's Python example runs as written: over a graph built the way ``make demo`` builds
one (the flow, here with langchain-core's fake chat model and the toy ontology standing in for
the demo's LLM and ontology), from a folder laid out like the repository."""

from __future__ import annotations

import ast
import contextlib
import io
import re
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

import pipeline
from flows.build_kg import build_kg
from pipeline.settings import Settings
from tests.toy_ontology import TOY_ONTOLOGY, answer

README = Path(__file__).resolve().parents[2] / "README.md"


def python_example() -> str:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert len(blocks) == 1, "the README has one Python example"
    return blocks[0]


def test_the_example_uses_only_the_public_api() -> None:
    imports = [node for node in ast.walk(ast.parse(python_example()))
               if isinstance(node, ast.Import | ast.ImportFrom)]
    assert [getattr(node, "module", None) for node in imports] == ["pipeline"]
    assert {alias.name for alias in imports[0].names} <= set(pipeline.__all__)


def test_the_public_api_resolves_and_is_documented() -> None:
    assert 15 <= len(pipeline.__all__) <= 30
    for name in pipeline.__all__:
        value = getattr(pipeline, name)
        assert getattr(value, "__doc__", None), f"pipeline.{name} has no docstring"
    with pytest.raises(AttributeError):
        _ = pipeline.not_a_name  # type: ignore[attr-defined]


def test_the_readme_example_runs_as_written(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "a.md").write_text("# Acme\n\nAcme Rockets was founded by Ada Byron. "
                                 "Acme Rockets is based in Seattle.", encoding="utf-8")
    onto = tmp_path / "ontologies" / "space"
    onto.mkdir(parents=True)
    (onto / "ontology.ttl").write_text(TOY_ONTOLOGY, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / ".verikg", samples=1, max_retries=0,
                        llm_concurrency=1)
    report = build_kg(str(corpus), str(onto), settings=settings, chat_model=FakeListChatModel(
        responses=[answer(("Acme Rockets", "founded by", "Ada Byron"),
                          ("Acme Rockets", "based in", "Seattle"))]))
    assert report.accepted == 2

    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(python_example(), str(README), "exec"), {"__name__": "readme"})
    printed = out.getvalue()
    assert printed.splitlines()[0] == "[]"  # the ontology has no errors
    assert "Acme Rockets" in printed  # hits and the cited context
    assert "1 change would apply" in printed
    assert "refused:" in printed
