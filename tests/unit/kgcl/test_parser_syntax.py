"""The KGCL syntax table: the README's table is the parser's, every example parses, any Unicode
is accepted inside quotes, and a command that does not parse is explained in one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from kgcl_schema.datamodel.kgcl import (
    NewSynonym,
    NodeCreation,
    NodeRename,
    NodeTextDefinitionChange,
)

from pipeline.errors import ChangeRequestError
from pipeline.kgcl import parse_change_request, parse_command
from pipeline.kgcl.syntax import COMMANDS

README = Path(__file__).resolve().parents[3] / "README.md"


def _readme_table() -> list[tuple[str, str, str]]:
    """(command, syntax, example) rows of the KGCL command table in the README."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Changing the graph: KGCL"):]
    section = section[:section.index("\n### ", 10)]
    rows = []
    for line in section.splitlines():
        m = re.match(r"^\| `([^`]+)` \| `(.+)` \| `(.+)` \|$", line)
        if m:
            rows.append((m.group(1), m.group(2).replace("\\|", "|"), m.group(3)))
    return rows


def test_the_readme_table_is_the_parsers_table() -> None:
    assert _readme_table() == [(c.name, c.syntax, c.example) for c in COMMANDS]
    for name in ("move", "create node", "create edge", "delete edge", "change annotation"):
        assert name in {row[0] for row in _readme_table()}


@pytest.mark.parametrize("row", _readme_table(), ids=lambda r: r[0])
def test_every_readme_example_parses(row: tuple[str, str, str]) -> None:
    parsed = parse_command(row[2])
    assert parsed.text == row[2]


@pytest.mark.parametrize("label", [
    "Le «Grand» Canal", "‹petit›", "“quoted”", "„Zitat“", "「引用」", "\u202eevil", "a\u2028b",
    "tab\there", "émoji 🌊", "«0»", "\ue000", "'''", "x » y « z",
])
def test_any_unicode_inside_quotes_is_kept(label: str) -> None:
    escaped = label.replace("\\", "\\\\").replace("'", "\\'")
    rename = parse_change_request(f"rename ent:x from 'Le Canal' to '{escaped}'")[0].change
    assert isinstance(rename, NodeRename) and rename.new_value == label
    node = parse_command(f"create node ent:y '{escaped}'").change
    assert isinstance(node, NodeCreation) and node.name == label
    syn = parse_command(f'create exact synonym "{escaped}" for ent:y'.replace('"', "'")).change
    assert isinstance(syn, NewSynonym) and syn.new_value == label
    definition = parse_command(f"change definition of ent:y to '{escaped}'").change
    assert isinstance(definition, NodeTextDefinitionChange) and definition.new_value == label


def test_the_guillemet_rename_of_the_issue_parses() -> None:
    change = parse_command("rename ent:x from 'Le «Grand» Canal' to 'Le Grand Canal'").change
    assert (change.old_value, change.new_value) == ("Le «Grand» Canal", "Le Grand Canal")


def test_extra_spaces_between_words_are_fine() -> None:
    assert parse_command("create   node  ent:x    'X'").change.name == "X"


def _error(command: str) -> str:
    with pytest.raises(ChangeRequestError) as info:
        parse_change_request(command)
    return str(info.value)


def test_an_error_names_the_command_what_was_expected_the_column_and_the_form() -> None:
    message = _error("rename 'London' 'Londinium'")
    assert message == ("line 1: cannot parse KGCL command: read as 'rename', expected the "
                       "keyword 'to' at column 17: rename 'London' ^'Londinium'; the form is: "
                       "rename [ID from] 'OLD' to 'NEW'")


@pytest.mark.parametrize("command, expected", [
    ("create node", r"read as 'create node', expected an id .* at the end of the command: "
                    r"create node\^"),
    ("create edge ent:a ent:p", r"'create edge', expected a value"),
    ("move ent:a ent:p ent:b to ent:c", r"'move', expected the keyword 'from' at column 24"),
    ("delete 'London' now", r"expected the end of the command at column 17"),
    ("RENAME 'a' TO 'b'", r"written in lower case"),
    ("rename ‘London’ to ‘x’", r"typographic quotes"),
    ("rename 'London' to 'x'; DROP TABLE x", r"only @language or \^\^datatype may follow"),
    ("rename 'London'\u202e to 'x'", r"U\+202E at column 16 outside quotes"),
    ("rename 'Lon\x00don' to 'x'", r"control character U\+0000 at column 12"),
])
def test_errors_say_what_was_expected_in_words(command: str, expected: str) -> None:
    message = _error(command)
    assert re.search(expected, message), message
    assert "\n" not in message and "No terminal" not in message and "__ANON" not in message


@pytest.mark.parametrize("command", [c.example for c in COMMANDS], ids=[c.name for c in COMMANDS])
def test_every_cut_short_example_is_explained_with_a_caret(command: str) -> None:
    """Every example cut after each of its words either parses or is explained: which command,
    what was expected, a caret, and (past the first word) the command's form."""
    words = command.split(" ")
    for n in range(1, len(words)):
        head = " ".join(words[:n])
        if head.count("'") % 2 or head.count('"') % 2:
            continue  # cut inside a quoted label: the quoting error is tested elsewhere
        try:
            parse_command(head)
        except ChangeRequestError as exc:
            message = str(exc)
            assert "^" in message and "expected" in message, message
            assert "the form is" in message or "the forms are" in message, message
            assert "\n" not in message and "__ANON" not in message, message
