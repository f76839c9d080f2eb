"""The written form of every KGCL command, and what to say when a command does not parse.

``COMMANDS`` lists each command the parser accepts with its syntax line and one example; the
README's KGCL table shows the same lines (a test keeps the two equal and parses every
example). When kgcl-schema's grammar refuses a command, :func:`diagnose` matches the command's
words against these syntax lines to say, in words, which command it reads as, what was
expected, where (a column, and a caret in the command) and what the right form is — instead of
the grammar's "No terminal matches …".

A syntax line is words separated by spaces: lower-case words are keywords, ``ID`` an id
(CURIE or ``<IRI>``), a quoted upper-case word (``'NEW'``) a quoted label, ``VALUE``-like
words a value (an entity or a ``"literal"``), ``SUBSET`` a subset name, other upper-case words
an entity (id or quoted label); ``[…]`` is optional and ``a|b`` a choice of keywords.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: placeholder marks of :mod:`pipeline.kgcl.parser` (private-use characters, never user text)
OPEN, CLOSE = "\ue000", "\ue001"


@dataclass(frozen=True)
class Command:
    """One KGCL command: its name, syntax line and an example."""

    name: str
    syntax: str
    example: str


COMMANDS: tuple[Command, ...] = (
    Command("rename", "rename [ID from] 'OLD' to 'NEW'",
            "rename GO:0005634 from 'nucleus' to 'cell nucleus'"),
    Command("create node", "create node ID 'LABEL'", "create node ex:Loire 'Loire'@fr"),
    Command("create class", "create ID", "create ex:River"),
    Command("delete", "delete ENTITY", "delete 'obsolete river'"),
    Command("obsolete", "obsolete ENTITY [with replacement REPLACEMENT]",
            "obsolete GO:0000001 with replacement GO:0000002"),
    Command("unobsolete", "unobsolete ENTITY", "unobsolete GO:0000001"),
    Command("create synonym", "create [exact|narrow|broad|related] synonym 'SYNONYM' for ENTITY",
            "create exact synonym 'Le «Grand» Canal' for ex:canal"),
    Command("change synonym",
            "change [exact|narrow|broad|related] synonym 'OLD' for ENTITY to 'NEW'",
            "change exact synonym 'nucleus' for GO:0005634 to 'cell nucleus'"),
    Command("remove synonym", "remove synonym 'SYNONYM' for ENTITY",
            "remove synonym 'Big Smoke' for 'London'"),
    Command("add definition", "add definition 'TEXT' to ENTITY",
            "add definition 'A river that flows into the sea.' to ex:Loire"),
    Command("change definition", "change definition of ENTITY [from 'OLD'] to 'NEW'",
            "change definition of ex:Loire to 'The longest river of France.'"),
    Command("remove definition", "remove definition for ENTITY", "remove definition for ex:Loire"),
    Command("add to subset", "add ID to subset SUBSET", "add GO:0005634 to subset goslim_generic"),
    Command("remove from subset", "remove ID from subset SUBSET",
            "remove GO:0005634 from subset goslim_generic"),
    Command("move", "move SUBJECT PREDICATE OBJECT from OLD_OBJECT to NEW_OBJECT",
            "move ex:Orleans ex:locatedOn ex:Cher from ex:Cher to ex:Loire"),
    Command("deepen", "deepen ENTITY from OLD_PARENT to NEW_PARENT",
            "deepen ex:Loire from ex:WaterBody to ex:River"),
    Command("shallow", "shallow ENTITY from OLD_PARENT to NEW_PARENT",
            "shallow ex:Loire from ex:River to ex:WaterBody"),
    Command("create edge", "create edge SUBJECT PREDICATE VALUE",
            "create edge ex:Orleans ex:locatedOn ex:Loire"),
    Command("delete edge", "delete edge SUBJECT PREDICATE VALUE",
            "delete edge ex:Loire rdfs:comment \"draft\"@en"),
    Command("change relationship",
            "change relationship between SUBJECT and OBJECT from OLD_PREDICATE to NEW_PREDICATE",
            "change relationship between ex:Orleans and ex:Loire from ex:near to ex:locatedOn"),
    Command("change annotation",
            "change annotation of SUBJECT with PREDICATE from OLD_VALUE to NEW_VALUE",
            "change annotation of ex:Loire with rdfs:comment from \"long\"@en to \"longest\"@en"),
)

_TO = frozenset({"to", "as", "->"})  # the grammar's spellings of "to"

# --------------------------------------------------------------------------- the matcher

def _compile(syntax: str) -> list[object]:
    """A syntax line as a list of elements: a keyword choice (tuple of words), a slot name
    (str) or an optional group (list)."""
    stack: list[list[object]] = [[]]
    for word in syntax.replace("[", " [ ").replace("]", " ] ").split():
        if word == "[":
            stack.append([])
        elif word == "]":
            group = stack.pop()
            stack[-1].append(group)
        elif word.startswith("'"):
            stack[-1].append("LABEL")
        elif word == "ID":
            stack[-1].append("ID")
        elif word == "SUBSET":
            stack[-1].append("WORD")
        elif "VALUE" in word:
            stack[-1].append("VALUE")
        elif word.isupper() or "_" in word:
            stack[-1].append("ENTITY")
        else:
            stack[-1].append(tuple(word.split("|")))
    return stack[0]


_LANG = r"(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*)?"
_LABEL = re.compile(rf"^'{OPEN}\d+{CLOSE}'{_LANG}$")
_LITERAL = re.compile(rf"^\"{OPEN}\d+{CLOSE}\"(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^\S+)?$")
_IRI = re.compile(rf"^{OPEN}i\d+{CLOSE}$")
_CURIE = re.compile(r"^[A-Za-z_][\w.-]*:[^\s'\"]+$")

_WORDS = {
    "ID": "an id (a CURIE such as GO:0005634, or an <IRI>)",
    "LABEL": "a quoted label ('…')",
    "ENTITY": "an entity (a CURIE, an <IRI> or a quoted 'label')",
    "VALUE": "a value (an entity, or a \"literal\" with an optional @language or ^^datatype)",
    "WORD": "a subset name or id",
}


def _fits(slot: str, token: str) -> bool:
    is_id = bool(_IRI.match(token) or _CURIE.match(token))
    if slot == "ID":
        return is_id
    if slot == "LABEL":
        return bool(_LABEL.match(token))
    if slot == "ENTITY":
        return is_id or bool(_LABEL.match(token))
    if slot == "VALUE":
        return is_id or bool(_LABEL.match(token) or _LITERAL.match(token))
    return not token.startswith(("'", '"'))  # WORD


class _Match:
    """The furthest token a syntax line reached, and what it wanted there."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.furthest = -1
        self.expected: list[str] = []
        self.complete = False

    def fail(self, at: int, wanted: str) -> None:
        if at > self.furthest:
            self.furthest, self.expected = at, []
        if at == self.furthest and wanted not in self.expected:
            self.expected.append(wanted)

    def run(self, elems: list[object], at: int) -> set[int]:
        """Every token index the elements can end at, starting at ``at``."""
        ends = {at}
        for elem in elems:
            nxt: set[int] = set()
            for pos in ends:
                if isinstance(elem, list):
                    nxt |= {pos} | self.run(elem, pos)
                    continue
                token = self.tokens[pos] if pos < len(self.tokens) else None
                if isinstance(elem, tuple):
                    words = set(elem) | (_TO if "to" in elem else set())
                    if token is not None and token in words:
                        nxt.add(pos + 1)
                    else:
                        self.fail(pos, " or ".join(f"'{w}'" for w in elem))
                elif token is not None and _fits(str(elem), token):
                    nxt.add(pos + 1)
                else:
                    self.fail(pos, _WORDS[str(elem)])
            ends = nxt
            if not ends:
                break
        return ends


@dataclass(frozen=True)
class Diagnosis:
    """Where a command stops making sense: the token index, what was wanted, which forms."""

    token: int
    expected: str
    commands: tuple[Command, ...]


def diagnose(tokens: list[str]) -> Diagnosis | None:
    """Why the command of these (placeholder-protected, whitespace-split) tokens does not parse;
    None when some syntax line accepts it whole (the grammar and the table then disagree)."""
    best: list[tuple[Command, _Match]] = []
    for cmd in COMMANDS:
        m = _Match(tokens)
        ends = m.run(_compile(cmd.syntax), 0)
        if len(tokens) in ends:
            return None
        for end in ends:
            m.fail(end, "the end of the command")
        if not best or m.furthest > best[0][1].furthest:
            best = [(cmd, m)]
        elif m.furthest == best[0][1].furthest:
            best.append((cmd, m))
    at = best[0][1].furthest
    if at == 0:
        verbs = sorted({c.syntax.split()[0] for c in COMMANDS})
        return Diagnosis(0, "a KGCL command (" + ", ".join(verbs) + ")", ())
    wanted: list[str] = []
    for _, m in best:
        wanted += [w for w in m.expected if w not in wanted]
    return Diagnosis(at, _join(wanted), tuple(c for c, _ in best))


def _join(words: list[str]) -> str:
    keywords = [w for w in words if w.startswith("'")]
    others = [w for w in words if not w.startswith("'")]
    parts = []
    if keywords:
        kw = " or ".join(keywords)
        parts.append(f"the keyword {kw}" if len(keywords) == 1 and " or " not in kw
                     else f"one of the keywords {kw}")
    parts += others
    return "; or ".join(parts)


def shown(text: str, column: int, width: int = 40) -> str:
    """The command with a caret ``^`` before the 1-based ``column``, cut to about ``width``
    characters each side, characters that do not print written as ``\\uXXXX``."""
    at = max(0, column - 1)
    left, right = text[:at], text[at:]
    left = "\u2026" + left[-width:] if len(left) > width else left
    right = right[:width] + "\u2026" if len(right) > width else right
    return f"{_printable(left)}^{_printable(right)}"


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else f"\\u{ord(c):04X}" for c in text)


def forms_of(commands: tuple[Command, ...]) -> str:
    """``the form is: …`` for the commands a text reads as (empty when none)."""
    if not commands:
        return ""
    lines = " | ".join(dict.fromkeys(c.syntax for c in commands))
    return f"; the form is: {lines}" if len(commands) == 1 else f"; the forms are: {lines}"


def read_as(tokens: list[str]) -> tuple[Command, ...]:
    """The commands a (protected) beginning of a command reads as, for messages."""
    d = diagnose(tokens)
    return d.commands if d is not None else ()


def explain(text: str, tokens: list[str], columns: list[int], column: int | None) -> str:
    """Why a command the grammar refused does not parse, in one line: the command it reads
    as, what was expected, the column and a caret, and the command's form.

    ``tokens`` are the command's protected words, ``columns`` their 1-based columns in
    ``text``; ``column`` is where the grammar stopped (used when no syntax line explains)."""
    d = diagnose(tokens)
    end = len(text) + 1
    if d is None:
        col = column or end
        return (f"the command is not well formed at column {col}: {shown(text, col)}"
                f"{forms_of(read_as(tokens[:1] + ['?']))}")
    col = columns[d.token] if d.token < len(columns) else end
    where = "at the end of the command" if col == end else f"at column {col}"
    if not d.commands:
        hint = ""
        if tokens and tokens[0].lower() in {c.syntax.split()[0] for c in COMMANDS}:
            hint = " (KGCL keywords are written in lower case)"
        return f"expected {d.expected} {where}: {shown(text, col)}{hint}"
    names = " or ".join(f"'{n}'" for n in dict.fromkeys(c.name for c in d.commands))
    note = _note(tokens[d.token]) if d.token < len(tokens) else ""
    return (f"read as {names}, expected {d.expected} {where}{note}: {shown(text, col)}"
            f"{forms_of(d.commands)}")


_GLUED = re.compile(rf"^(['\"]){OPEN}\d+{CLOSE}\1(.+)$")
_TYPOGRAPHIC = ("\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f"
                "\u00ab\u00bb\u2039\u203a\u300c\u300d")


def _note(token: str) -> str:
    """A hint for a word that looks almost right."""
    if m := _GLUED.match(token):
        return (f" (after a closing quote only @language or ^^datatype may follow, "
                f"not {_printable(m.group(2))!r})")
    if token[:1] in _TYPOGRAPHIC:
        return (" (typographic quotes such as \u2018\u2026\u2019, \u201c\u2026\u201d or "
                "\u00ab\u2026\u00bb do not quote in KGCL: write '\u2026' or \"\u2026\")")
    return ""


__all__ = ["CLOSE", "COMMANDS", "OPEN", "Command", "Diagnosis", "diagnose", "explain",
           "forms_of", "read_as", "shown"]
