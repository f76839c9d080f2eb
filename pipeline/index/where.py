"""A safe filter language over attribute columns, evaluated as numpy boolean masks.

``type == "Mission" and confidence >= 0.5`` or ``predicate in ["operatedBy"] or not status ==
"draft"``: comparisons (``== != < <= > >= in``, ``not in``, chained ``0.2 < x <= 0.8``) between
one column and one literal (string, int, float or a list of them), combined with ``and``,
``or``, ``not`` and parentheses. That is the whole language.

List columns hold a list of names per row (the knowledge-graph index's ``violations``: the
soft checks an assertion failed, one name per violation). Two forms test them:

- ``"shacl" in violations`` (``"shacl" not in violations``): the row's list holds that name
  (exactly: no prefix or case folding);
- ``violations == 0``, ``violations >= 2``, ``violations in [1, 2]``: a list column compared
  with a number stands for its length (``violations == 0``: no soft violation).

Comparing a list column with a string (``violations == "shacl"``) is refused, and so is
``"x" in column`` on a column that holds one value per row (write ``column == "x"``). A list
column is a text column whose every value is ``encode_list(names)``; what makes it one is its
values, so it stays a list column through any store of string columns (``VectorIndex``'s
categorical columns, their save and load).

Why ``ast`` and a whitelist rather than ``eval``: filter text comes from users and from LLM
tools, so it must never run code. Python's own parser gives precise positions for free; every
node type outside the whitelist (calls, attributes, subscripts, lambdas, arithmetic, ...) is
refused with its source text and column. Parsing yields a small immutable tree (``WhereExpr``)
that is checked against the columns and evaluated vectorised: one numpy operation per
comparison, however many rows there are.
"""

from __future__ import annotations

import ast
import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from pipeline.errors import InputError

MAX_EXPRESSION_CHARS = 10_000
MAX_DEPTH = 64

Literal_ = str | int | float


@dataclass(frozen=True)
class CategoricalColumn:
    """A string column stored as int32 codes into a vocabulary (compact, fast to compare).

    A comparison is evaluated once per vocabulary entry and gathered through the codes, so
    ``type == "Mission"`` costs one pass over int32 codes whatever the string lengths.
    """

    codes: np.ndarray
    vocabulary: tuple[str, ...]
    _vocab_array: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_vocab_array", np.array(self.vocabulary, dtype=object))

    @classmethod
    def encode(cls, values: Sequence[str] | np.ndarray) -> CategoricalColumn:
        vocab, codes = np.unique(np.asarray(values, dtype=str), return_inverse=True)
        return cls(codes.astype(np.int32).reshape(-1), tuple(str(v) for v in vocab))

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    def decode(self) -> np.ndarray:
        return self._vocab_array[self.codes] if len(self.vocabulary) else np.array([], object)

    def apply(self, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """``fn`` evaluated on the vocabulary, then gathered row by row through the codes."""
        if not self.vocabulary:
            return np.zeros(len(self), dtype=bool)
        per_value = np.asarray(fn(self._vocab_array), dtype=bool)
        return per_value[self.codes]


Column = np.ndarray | CategoricalColumn
"""What a filter evaluates over: a plain numpy array or a categorical string column."""

#: the first character of every value of a list column (ASCII record separator: no name, label
#: or status starts with it)
LIST_MARK = "\x1e"


def encode_list(names: Iterable[str]) -> str:
    """The value a list column holds for ``names`` (kept in the order given, repeats too):
    ``LIST_MARK`` then the names as a JSON array, so any name round-trips exactly."""
    items = list(names)
    for name in items:
        if not isinstance(name, str):
            raise TypeError(f"a list column holds names (strings), not {name!r}")
    return LIST_MARK + json.dumps(items, ensure_ascii=False, separators=(",", ":"))


def decode_list(value: str) -> tuple[str, ...] | None:
    """The names ``encode_list`` wrote, or None when ``value`` is not a list value."""
    if not value.startswith(LIST_MARK):
        return None
    try:
        items = json.loads(value[len(LIST_MARK):])
    except ValueError:
        return None
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        return None
    return tuple(items)


def _list_column(col: Column) -> tuple[CategoricalColumn, list[tuple[str, ...]]] | None:
    """``col`` as codes plus the decoded list of each vocabulary entry, when it is a list
    column (a text column whose every value is a list value); None otherwise. A column with
    no values at all is a list column with nothing in it."""
    if not _is_text_column(col):
        return None
    if isinstance(col, CategoricalColumn):
        cat = col
    else:
        arr = np.asarray(col).reshape(-1)
        if arr.shape[0] and not str(arr[0]).startswith(LIST_MARK):
            return None  # a plain text array: one look, no encoding
        cat = CategoricalColumn.encode(arr.astype(str))
    if cat.vocabulary and not cat.vocabulary[0].startswith(LIST_MARK):
        return None  # the common case, a plain text column: one look, no decoding
    lists = [decode_list(v) for v in cat.vocabulary]
    if any(items is None for items in lists):
        return None
    return cat, [items for items in lists if items is not None]


_COMPARE: dict[type[ast.cmpop], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Eq: ("==", operator.eq), ast.NotEq: ("!=", operator.ne),
    ast.Lt: ("<", operator.lt), ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt), ast.GtE: (">=", operator.ge),
}
_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    sym: fn for sym, fn in _COMPARE.values()}


# --------------------------------------------------------------------------- the tree


class WhereExpr:
    """A parsed, validated filter. ``evaluate(columns)`` returns a boolean row mask."""

    source: str

    @property
    def columns(self) -> frozenset[str]:
        raise NotImplementedError

    def _eval(self, columns: Mapping[str, Column], n: int) -> np.ndarray:
        raise NotImplementedError

    def evaluate(self, columns: Mapping[str, Column], n: int | None = None) -> np.ndarray:
        """The mask of rows that satisfy the filter; unknown columns raise ``InputError``."""
        unknown = sorted(self.columns - set(columns))
        if unknown:
            known = ", ".join(sorted(columns)) or "(none)"
            raise InputError(f"unknown column {unknown[0]!r} in filter {self.source!r}; "
                             f"known columns: {known}")
        if n is None:
            n = len(next(iter(columns.values()))) if columns else 0
        return self._eval(columns, n)

    def __and__(self, other: WhereExpr) -> WhereExpr:
        """Conjunction built on the tree, never by pasting strings (no injection)."""
        return _BoolOp("and", (self, other), f"({self.source}) and ({other.source})")

    def __or__(self, other: WhereExpr) -> WhereExpr:
        return _BoolOp("or", (self, other), f"({self.source}) or ({other.source})")


@dataclass(frozen=True)
class _BoolOp(WhereExpr):
    op: str  # "and" | "or"
    parts: tuple[WhereExpr, ...]
    source: str

    @property
    def columns(self) -> frozenset[str]:
        return frozenset().union(*(p.columns for p in self.parts))

    def _eval(self, columns: Mapping[str, Column], n: int) -> np.ndarray:
        masks = [p._eval(columns, n) for p in self.parts]
        fn = np.logical_and if self.op == "and" else np.logical_or
        return np.asarray(fn.reduce(masks), dtype=bool)


@dataclass(frozen=True)
class _Not(WhereExpr):
    part: WhereExpr
    source: str

    @property
    def columns(self) -> frozenset[str]:
        return self.part.columns

    def _eval(self, columns: Mapping[str, Column], n: int) -> np.ndarray:
        return ~self.part._eval(columns, n)


@dataclass(frozen=True)
class _Compare(WhereExpr):
    column: str
    op: str  # one of _OPS, or "in" / "not in"
    value: Literal_ | tuple[Literal_, ...]
    source: str

    @property
    def columns(self) -> frozenset[str]:
        return frozenset({self.column})

    def _eval(self, columns: Mapping[str, Column], n: int) -> np.ndarray:
        col = columns[self.column]
        values = self.value if isinstance(self.value, tuple) else (self.value,)
        listed = _list_column(col)
        if listed is not None and listed[1]:
            return self._eval_lengths(*listed, values, n)
        if listed is not None and not any(isinstance(v, str) for v in values):
            # a text column with no values at all may be a list column: nothing matches
            return np.zeros(n, dtype=bool)
        is_text = _is_text_column(col)
        for v in values:
            if isinstance(v, str) != is_text:
                kind = "a string" if is_text else "a numeric"
                raise InputError(f"column {self.column!r} is {kind} column; cannot compare it "
                                 f"with {v!r} in filter {self.source!r}")
        if self.op in ("in", "not in"):
            def test(arr: np.ndarray) -> np.ndarray:
                hit = np.isin(arr, np.array(values, dtype=object if is_text else None))
                return hit if self.op == "in" else ~hit
        else:
            fn = _OPS[self.op]
            value = self.value

            def test(arr: np.ndarray) -> np.ndarray:
                return np.asarray(fn(arr, value), dtype=bool)
        try:
            if isinstance(col, CategoricalColumn):
                return col.apply(test)
            arr = np.asarray(col)
            return test(arr.astype(object) if is_text else arr).reshape(n)
        except (TypeError, ValueError, OverflowError) as exc:
            raise InputError(f"cannot evaluate {self.source!r} on column {self.column!r}: "
                             f"{exc}") from exc

    def _eval_lengths(self, col: CategoricalColumn, lists: list[tuple[str, ...]],
                      values: tuple[Literal_, ...], n: int) -> np.ndarray:
        """A list column compared with numbers: its lengths are compared."""
        for v in values:
            if isinstance(v, str):
                raise InputError(
                    f"column {self.column!r} holds a list of names per row; compare it with a "
                    f"number (its length, e.g. {self.column} == 0) or test a name with "
                    f"{json.dumps(v, ensure_ascii=False)} in {self.column}, not {v!r} in "
                    f"filter {self.source!r}")
        if not lists:
            return np.zeros(n, dtype=bool)
        # float64: exact for any length, and comparable with any literal (a huge int too)
        lengths = np.array([len(items) for items in lists], dtype=np.float64)
        try:
            if self.op in ("in", "not in"):
                hit = np.isin(lengths, np.array(values, dtype=np.float64))
                per_value = hit if self.op == "in" else ~hit
            else:
                per_value = np.asarray(_OPS[self.op](lengths, self.value), dtype=bool)
        except (TypeError, ValueError, OverflowError) as exc:
            raise InputError(f"cannot evaluate {self.source!r} on column {self.column!r}: "
                             f"{exc}") from exc
        return per_value[col.codes].reshape(n)


@dataclass(frozen=True)
class _Contains(WhereExpr):
    """``"name" in column`` / ``"name" not in column`` on a list column."""

    column: str
    name: str
    negate: bool
    source: str

    @property
    def columns(self) -> frozenset[str]:
        return frozenset({self.column})

    def _eval(self, columns: Mapping[str, Column], n: int) -> np.ndarray:
        col = columns[self.column]
        listed = _list_column(col)
        if listed is None:
            what = "a numeric" if not _is_text_column(col) else "a one-value-per-row"
            raise InputError(
                f"column {self.column!r} is {what} column, not a list of names: "
                f"{json.dumps(self.name, ensure_ascii=False)} in {self.column} needs a list "
                f"column such as violations (for one value per row write {self.column} == "
                f"{json.dumps(self.name, ensure_ascii=False)}) in filter {self.source!r}")
        cat, lists = listed
        if not lists:
            return np.zeros(n, dtype=bool)
        per_value = np.array([self.name in items for items in lists], dtype=bool)
        if self.negate:
            per_value = ~per_value
        return per_value[cat.codes].reshape(n)


def _is_text_column(col: Column) -> bool:
    if isinstance(col, CategoricalColumn):
        return True
    arr = np.asarray(col)
    return arr.dtype.kind in "USO"


# --------------------------------------------------------------------------- parsing


class _Parser:
    """Turns a whitelisted Python expression tree into a ``WhereExpr``."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: ast.AST, what: str) -> InputError:
        piece = ast.get_source_segment(self.source, node) or type(node).__name__
        line = getattr(node, "lineno", 1)
        text = self.source.splitlines()[line - 1] if self.source else ""
        # ast counts UTF-8 bytes; people count characters
        col = len(text.encode()[:getattr(node, "col_offset", 0)].decode(errors="ignore")) + 1
        where = f"column {col}" if line == 1 else f"line {line}, column {col}"
        return InputError(f"{what} {piece!r} at {where} of filter {self.source!r}; "
                          "allowed: column == literal (also != < <= > >=), column in [...], "
                          "column not in [...], \"name\" in list_column, \"name\" not in "
                          "list_column, and, or, not, parentheses")

    def seg(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or ""

    def expr(self, node: ast.AST, depth: int = 0) -> WhereExpr:
        if depth > MAX_DEPTH:
            raise self.fail(node, "filter nested too deeply at")
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            parts = tuple(self.expr(v, depth + 1) for v in node.values)
            return _BoolOp(op, parts, self.seg(node))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return _Not(self.expr(node.operand, depth + 1), self.seg(node))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Name | ast.Constant):
            raise self.fail(node, "a bare column or literal is not a condition:")
        raise self.fail(node, f"unsupported {_describe(node)}")

    def compare(self, node: ast.Compare) -> WhereExpr:
        operands = [node.left, *node.comparators]
        parts: list[WhereExpr] = []
        for left, op, right in zip(operands[:-1], node.ops, operands[1:], strict=True):
            parts.append(self.one_comparison(node, left, op, right))
        if len(parts) == 1:
            return parts[0]
        return _BoolOp("and", tuple(parts), self.seg(node))

    def one_comparison(self, node: ast.Compare, left: ast.expr, op: ast.cmpop,
                       right: ast.expr) -> WhereExpr:
        src = self.seg(node)
        if isinstance(op, ast.In | ast.NotIn):
            negate = isinstance(op, ast.NotIn)
            if isinstance(right, ast.Name) and not isinstance(left, ast.Name):
                # "name" in list_column
                if not (isinstance(left, ast.Constant) and isinstance(left.value, str)):
                    raise self.fail(left, "only a name (a string) can be looked up in a list "
                                          "column, not")
                return _Contains(right.id, left.value, negate, src)
            if not isinstance(left, ast.Name):
                raise self.fail(left, "the left side of 'in' must be a column (or a string "
                                      "before a list column), not")
            values = self.list_literal(right)
            return _Compare(left.id, "not in" if negate else "in", values, src)
        if type(op) not in _COMPARE:
            raise self.fail(node, f"unsupported operator {type(op).__name__!r} in")
        sym = _COMPARE[type(op)][0]
        if isinstance(left, ast.Name) and not isinstance(right, ast.Name):
            return _Compare(left.id, sym, self.literal(right), src)
        if isinstance(right, ast.Name) and not isinstance(left, ast.Name):
            return _Compare(right.id, _FLIP[sym], self.literal(left), src)
        if isinstance(left, ast.Name):
            raise self.fail(node, "comparing two columns is not supported:")
        for side in (left, right):
            if not _literal_shaped(side):
                raise self.fail(side, f"unsupported {_describe(side)}")
        raise self.fail(node, "a comparison needs a column on one side:")

    def literal(self, node: ast.expr) -> Literal_:
        if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd)
                and isinstance(node.operand, ast.Constant)):
            value = self.literal(node.operand)
            if isinstance(value, str):
                raise self.fail(node, "a sign before a string is not allowed:")
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.Constant):
            const = node.value
            if isinstance(const, bool) or not isinstance(const, str | int | float):
                raise self.fail(node, "unsupported literal (strings, ints, floats only):")
            return const
        if isinstance(node, ast.List):
            raise self.fail(node, "a list is only allowed after 'in' / 'not in':")
        raise self.fail(node, f"unsupported {_describe(node)}")

    def list_literal(self, node: ast.expr) -> tuple[Literal_, ...]:
        if not isinstance(node, ast.List):
            raise self.fail(node, "'in' needs a list literal such as [\"a\", \"b\"], not")
        values = tuple(self.literal(e) for e in node.elts)
        if len({isinstance(v, str) for v in values}) > 1:
            raise self.fail(node, "a list mixing strings and numbers:")
        return values


def _literal_shaped(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return isinstance(node.operand, ast.Constant)
    return isinstance(node, ast.Constant | ast.List)


def _describe(node: ast.AST) -> str:
    names = {ast.Call: "function call", ast.Attribute: "attribute access",
             ast.Subscript: "subscript", ast.Lambda: "lambda", ast.BinOp: "arithmetic",
             ast.JoinedStr: "f-string", ast.IfExp: "conditional expression",
             ast.NamedExpr: "assignment expression", ast.Starred: "starred expression",
             ast.Dict: "dict literal", ast.Set: "set literal", ast.Tuple: "tuple",
             ast.ListComp: "comprehension", ast.GeneratorExp: "generator",
             ast.SetComp: "comprehension", ast.DictComp: "comprehension",
             ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
             ast.UnaryOp: "unary operator", ast.Name: "name", ast.Slice: "slice"}
    return names.get(type(node), type(node).__name__) + ":"


@lru_cache(maxsize=512)
def parse_where(source: str) -> WhereExpr:
    """Parse and validate ``source``; raises ``InputError`` naming the offending piece."""
    if not isinstance(source, str) or not source.strip():
        raise InputError("empty filter expression")
    if len(source) > MAX_EXPRESSION_CHARS:
        raise InputError(f"filter expression longer than {MAX_EXPRESSION_CHARS} characters")
    source = source.strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        col = exc.offset or len(source) + 1
        raise InputError(f"filter {source!r} is not valid Python-style syntax: {exc.msg} "
                         f"at line {exc.lineno or 1}, column {col}") from exc
    except (RecursionError, MemoryError, ValueError) as exc:
        raise InputError(f"filter {source[:80]!r}... is too deeply nested or malformed") from exc
    return _Parser(source).expr(tree.body)


def map_values(expr: WhereExpr, columns: frozenset[str],
               fn: Callable[[str, str], str]) -> WhereExpr:
    """``expr`` with every string compared with one of ``columns`` replaced by
    ``fn(column, value)`` (a value may name the same thing several ways: the knowledge-graph
    retriever maps a label or an IRI to the local name the index holds). A changed
    comparison gets a source that says what it now compares, so a cache keyed by the
    source (the vector index's partitions) never mixes the two."""
    if isinstance(expr, _BoolOp):
        parts = tuple(map_values(p, columns, fn) for p in expr.parts)
        if parts == expr.parts:
            return expr
        joined = f" {expr.op} ".join(f"({p.source})" for p in parts)
        return _BoolOp(expr.op, parts, joined)
    if isinstance(expr, _Not):
        part = map_values(expr.part, columns, fn)
        return expr if part == expr.part else _Not(part, f"not ({part.source})")
    if isinstance(expr, _Compare) and expr.column in columns:
        values = expr.value if isinstance(expr.value, tuple) else (expr.value,)
        mapped = tuple(fn(expr.column, v) if isinstance(v, str) else v for v in values)
        if mapped == values:
            return expr
        value: Literal_ | tuple[Literal_, ...] = (
            mapped if isinstance(expr.value, tuple) else mapped[0])
        shown = (json.dumps(list(mapped), ensure_ascii=False) if isinstance(value, tuple)
                 else json.dumps(value, ensure_ascii=False))
        return _Compare(expr.column, expr.op, value, f"{expr.column} {expr.op} {shown}")
    return expr


def compile_where(source: str | WhereExpr) -> Callable[[Mapping[str, Column]], np.ndarray]:
    """A function from attribute columns to the boolean mask of matching rows."""
    expr = source if isinstance(source, WhereExpr) else parse_where(source)
    return expr.evaluate


__all__ = ["LIST_MARK", "CategoricalColumn", "Column", "WhereExpr", "compile_where",
           "decode_list", "encode_list", "map_values", "parse_where"]
