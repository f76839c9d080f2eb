"""Every option of both command lines that takes one of a closed set of values refuses any
other value before the command runs: exit 2, the valid values listed, no traceback."""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from pipeline.kgcl.files import FORMATS
from pipeline.models import RequestStatus, ViolationReason, WrittenForm
from pipeline.ontology.design.settings import ROLE_KINDS
from verikg_cli import choices
from verikg_cli.kgcl import app as kgcl_app
from verikg_cli.main import app as verikg_app

runner = CliRunner()
APPS = {"verikg": verikg_app, "kgcl": kgcl_app}

#: closed sets a command checks by hand (aliases, or a set only the store knows): a bogus
#: value must still be exit 2 before anything loads
HAND_CHECKED = [
    ("kgcl", ["apply", "--format", "yaml", "--input", "pyproject.toml", "--dry-run",
              "delete node X"], "ttl, nt, rdfxml, obo"),
    ("kgcl", ["diff", "--format", "yaml", "pyproject.toml", "pyproject.toml"],
     "ttl, nt, rdfxml, obo"),
    ("verikg", ["quarantine", "--check", "shacl"], "--check"),  # --check without --soft
]


def _commands(app: typer.Typer) -> Iterator[tuple[list[str], typer.core.TyperCommand]]:
    def walk(cmd: object, path: list[str]) -> Iterator[tuple[list[str], typer.core.TyperCommand]]:
        sub = getattr(cmd, "commands", None)
        if sub is None:
            yield path, cmd  # type: ignore[misc]
            return
        for name, child in sorted(sub.items()):
            yield from walk(child, [*path, name])
    yield from walk(get_command(app), [])


def _enum_of(hint: object) -> type[enum.Enum] | None:
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    for arg in typing.get_args(hint):
        found = _enum_of(arg)
        if found is not None:
            return found
    return None


def closed_options() -> list[tuple[str, list[str], str, type[enum.Enum]]]:
    """(tool, command path, option, its enum) for every enum-typed option of both apps."""
    found = []
    for tool, app in APPS.items():
        for path, cmd in _commands(app):
            hints = typing.get_type_hints(cmd.callback, include_extras=True)
            for param in cmd.params:
                kind = _enum_of(hints.get(param.name or ""))
                if kind is not None and param.opts and param.opts[0].startswith("--"):
                    found.append((tool, path, param.opts[0], kind))
    return found


CLOSED = closed_options()


def test_the_walk_finds_the_closed_options() -> None:
    names = {(tool, " ".join(path), opt) for tool, path, opt, _ in CLOSED}
    # the ones the first-hour trial hit, and every --format and --role
    for expected in [("verikg", "quarantine", "--reason"), ("verikg", "quarantine", "--format"),
                     ("verikg", "query", "--format"), ("verikg", "runs", "--format"),
                     ("verikg", "ontology check", "--format"),
                     ("verikg", "ontology design", "--role"),
                     ("verikg", "eval text2kgbench", "--written-form"),
                     ("kgcl", "log", "--format"), ("kgcl", "requests", "--format"),
                     ("kgcl", "requests", "--status"), ("kgcl", "apply", "--role"),
                     ("kgcl", "request", "--role"), ("kgcl", "review", "--role"),
                     ("kgcl", "certify", "--role")]:
        assert expected in names, expected
    assert len(CLOSED) >= 14


@pytest.mark.parametrize(("tool", "path", "option", "kind"), CLOSED,
                         ids=[f"{t} {' '.join(p)} {o}" for t, p, o, _ in CLOSED])
def test_a_bogus_value_is_bad_usage_naming_the_valid_ones(tool: str, path: list[str],
                                                          option: str,
                                                          kind: type[enum.Enum]) -> None:
    result = runner.invoke(APPS[tool], [*path, option, "no-such-value"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert option in result.output and "no-such-value" in result.output
    for member in kind:
        assert repr(str(member.value)) in result.output.replace("\n", "").replace("│", "") \
            or str(member.value) in result.output


@pytest.mark.parametrize(("tool", "args", "says"), HAND_CHECKED)
def test_hand_checked_closed_options_are_bad_usage(tool: str, args: list[str],
                                                   says: str) -> None:
    result = runner.invoke(APPS[tool], args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert says in " ".join(result.output.replace("│", " ").split())


@pytest.mark.parametrize("k", ["0", "-5", "1001", "1000000000000", "many"])
def test_query_k_is_bounded_before_anything_loads(k: str) -> None:
    result = runner.invoke(verikg_app, ["query", "Juno", "--k", k])
    assert result.exit_code == 2, result.output
    assert "--k" in result.output and "Traceback" not in result.output


def test_a_missing_path_is_bad_usage_before_models_load(tmp_path: Path) -> None:
    result = runner.invoke(verikg_app, ["build", "--corpus", str(tmp_path), "--ontology",
                                        str(tmp_path / "nope.ttl")])
    assert result.exit_code == 2 and "--ontology" in result.output
    result = runner.invoke(verikg_app, ["query", "Juno", "--where", "type =="])
    assert result.exit_code == 2 and "--where" in result.output


def test_the_cli_sets_are_the_library_sets() -> None:
    assert [m.value for m in choices.Reason] == [m.value for m in ViolationReason]
    assert [m.value for m in choices.RequestState] == [m.value for m in RequestStatus]
    assert {m.value for m in choices.Form} == {m.value for m in WrittenForm}
    assert [m.value for m in choices.StoreRole] == ["reader", "curator", "certifier", "admin"]
    assert {m.value for m in choices.PanelRole} == set(ROLE_KINDS)
    assert set(FORMATS) == {"ttl", "nt", "rdfxml", "obo"}
