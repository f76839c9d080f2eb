"""The filter language: what it accepts, what it computes, and what it refuses (and how)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import InputError
from pipeline.index.where import (
    LIST_MARK,
    CategoricalColumn,
    compile_where,
    decode_list,
    encode_list,
    parse_where,
)


@pytest.fixture()
def columns() -> dict[str, object]:
    return {
        "type": CategoricalColumn.encode(["Mission", "Agency", "Mission", "Planet", "Mission"]),
        "predicate": np.array(["operatedBy", "", "launchedOn", "", "visited"]),
        "status": CategoricalColumn.encode(["draft", "draft", "certified", "draft",
                                            "quarantined"]),
        "confidence": np.array([0.9, 1.0, 0.4, 1.0, 0.55]),
        "year": np.array([1997, 1958, 2004, 0, 2011]),
    }


@pytest.mark.parametrize(("expr", "expected"), [
    ('type == "Mission"', [1, 0, 1, 0, 1]),
    ("type == 'Mission'", [1, 0, 1, 0, 1]),
    ('type != "Mission"', [0, 1, 0, 1, 0]),
    ('type == "Nope"', [0, 0, 0, 0, 0]),
    ('type != "Nope"', [1, 1, 1, 1, 1]),
    ('"Mission" == type', [1, 0, 1, 0, 1]),
    ("confidence >= 0.5", [1, 1, 0, 1, 1]),
    ("0.5 < confidence", [1, 1, 0, 1, 1]),
    ("confidence < 1", [1, 0, 1, 0, 1]),
    ("year > -1 and year <= 2004", [1, 1, 1, 1, 0]),
    ("0.5 < confidence < 1.0", [1, 0, 0, 0, 1]),
    ('type == "Mission" and confidence >= 0.5', [1, 0, 0, 0, 1]),
    ('predicate in ["operatedBy", "launchedOn"] or not status == "draft"', [1, 0, 1, 0, 1]),
    ('predicate not in ["", "visited"]', [1, 0, 1, 0, 0]),
    ("year in [1997, 2011]", [1, 0, 0, 0, 1]),
    ("year in []", [0, 0, 0, 0, 0]),
    ('type in ["Agency", "Planet"] and (confidence > 0.9 or year == 0)', [0, 1, 0, 1, 0]),
    ('not (type == "Mission" or type == "Agency")', [0, 0, 0, 1, 0]),
    ('type < "N"', [1, 1, 1, 0, 1]),
    ('status == "certified" or status == "quarantined" and year > 2005', [0, 0, 1, 0, 1]),
])
def test_valid_expressions(columns: dict[str, object], expr: str, expected: list[int]) -> None:
    mask = compile_where(expr)(columns)
    assert mask.dtype == np.bool_
    assert mask.astype(int).tolist() == expected


def test_combinators_build_trees_not_strings(columns: dict[str, object]) -> None:
    # a crafted string cannot escape its parentheses: the two parts are separate trees
    user = parse_where('type == "Mission"')
    combined = user & parse_where('status == "certified"')
    assert combined.evaluate(columns).astype(int).tolist() == [0, 0, 1, 0, 0]
    either = user | parse_where("year == 0")
    assert either.evaluate(columns).astype(int).tolist() == [1, 0, 1, 1, 1]
    assert combined.columns == {"type", "status"}


def test_plain_string_arrays_work_too() -> None:
    cols = {"kind": np.array(["a", "b", "a"], dtype=object)}
    assert parse_where('kind == "a"').evaluate(cols).tolist() == [True, False, True]


@pytest.mark.parametrize(("expr", "piece"), [
    ('__import__("os").system("rm -rf /")', "function call"),
    ("type.__class__ == 1", "attribute access"),
    ('type.lower() == "x"', "function call"),
    ("confidence[0] == 1", "subscript"),
    ("(lambda: 1)() == 1", "function call"),
    ("lambda: 1", "lambda"),
    ("confidence == 1 + 1", "arithmetic"),
    ("confidence * 2 > 1", "arithmetic"),
    ('type == f"{x}"', "f-string"),
    ("type == (1 if x else 2)", "conditional expression"),
    ("(y := 1) == 1", "assignment expression"),
    ('type == {"a": 1}', "dict literal"),
    ('type in {"a"}', "'in' needs a list literal"),
    ('type in ("a", "b")', "'in' needs a list literal"),
    ("[x for x in y] == 1", "comprehension"),
    ("type is None", "unsupported operator"),
    ("type == None", "unsupported literal"),
    ("type == True", "unsupported literal"),
    ('type == b"x"', "unsupported literal"),
    ("type == ...", "unsupported literal"),
    ("type == 1j", "unsupported literal"),
    ('type == ["a"]', "only allowed after 'in'"),
    ('type in [1, "a"]', "mixing strings and numbers"),
    ('["a"] in violations', "only a name (a string)"),
    ("violations in violations", "'in' needs a list literal"),
    ('1 in violations', "only a name (a string)"),
    ('"a" in ["a", "b"]', "must be a column"),
    ("type == status", "two columns"),
    ("1 == 1", "needs a column"),
    ("type", "bare column"),
    ("-type == 1", "unary operator"),
    ('-"x" == type', "sign before a string"),
    ("~(type == 'a')", "unary operator"),
    ("type == 'a' & status == 'b'", "arithmetic"),
])
def test_hostile_expressions_are_refused_with_the_piece(expr: str, piece: str) -> None:
    with pytest.raises(InputError) as info:
        parse_where(expr)
    assert piece in str(info.value)
    assert "column" in str(info.value)


def test_error_names_the_position() -> None:
    with pytest.raises(InputError, match=r"'open\(\"x\"\)' at column 27"):
        parse_where('type == "a" and status == open("x")')
    with pytest.raises(InputError, match="'x.y' at column 17"):
        parse_where('type == "é" and x.y == 1')  # characters, not UTF-8 bytes


@pytest.mark.parametrize("expr", ["", "   ", "type ==", "type == 'a' and", "import os",
                                  "type = 'a'", "x == 1; import os", "a\x00 == 1",
                                  "(" * 300 + "type == 'a'" + ")" * 300,
                                  "not " * 200 + "type == 'a'", "type == 'a' " * 5000])
def test_malformed_or_oversized_input_is_an_input_error(expr: str) -> None:
    with pytest.raises(InputError):
        parse_where(expr)


def test_unknown_column_lists_known_columns(columns: dict[str, object]) -> None:
    with pytest.raises(InputError, match="unknown column 'colour'.*known columns: "
                                         "confidence, predicate, status, type, year"):
        parse_where('colour == "red"').evaluate(columns)


def test_type_mismatch_is_explained(columns: dict[str, object]) -> None:
    with pytest.raises(InputError, match="'type' is a string column"):
        parse_where("type > 3").evaluate(columns)
    with pytest.raises(InputError, match="'confidence' is a numeric column"):
        parse_where('confidence in ["high"]').evaluate(columns)


def test_huge_int_literal_does_not_crash(columns: dict[str, object]) -> None:
    mask = parse_where("year < 99999999999999999999999999").evaluate(columns)
    assert mask.dtype == np.bool_


def test_empty_columns() -> None:
    cols = {"type": CategoricalColumn.encode(np.array([], dtype=str)),
            "confidence": np.array([], dtype=float)}
    assert parse_where('type == "a" or confidence > 0').evaluate(cols).shape == (0,)


# --------------------------------------------------------------------------- list columns

#: one list of check names per row, as the knowledge-graph index holds them
VIOLATIONS = [(), ("shacl",), ("shacl", "types-fit-domain-range"), (),
              ("functional-conflict", "functional-conflict")]


@pytest.fixture()
def listed(columns: dict[str, object]) -> dict[str, object]:
    return {**columns, "violations": CategoricalColumn.encode(
        [encode_list(v) for v in VIOLATIONS])}


@pytest.mark.parametrize(("expr", "expected"), [
    ("violations == 0", [1, 0, 0, 1, 0]),
    ("0 == violations", [1, 0, 0, 1, 0]),
    ("violations > 0", [0, 1, 1, 0, 1]),
    ("violations >= 2", [0, 0, 1, 0, 1]),
    ("violations in [1, 2]", [0, 1, 1, 0, 1]),
    ("violations not in [0]", [0, 1, 1, 0, 1]),
    ("0 < violations < 2", [0, 1, 0, 0, 0]),
    ('"shacl" in violations', [0, 1, 1, 0, 0]),
    ("'shacl' in violations", [0, 1, 1, 0, 0]),
    ('"shacl" not in violations', [1, 0, 0, 1, 1]),
    ('not "shacl" in violations', [1, 0, 0, 1, 1]),
    ('"functional-conflict" in violations', [0, 0, 0, 0, 1]),
    ('"types-fit-domain-range" in violations and confidence < 0.5', [0, 0, 1, 0, 0]),
    ('"shacl" in violations or violations == 0', [1, 1, 1, 1, 0]),
    # exact names: no prefix, substring or case folding
    ('"shac" in violations', [0, 0, 0, 0, 0]),
    ('"SHACL" in violations', [0, 0, 0, 0, 0]),
    ('"types" in violations', [0, 0, 0, 0, 0]),
    ('"" in violations', [0, 0, 0, 0, 0]),
    ('type == "Mission" and violations == 0', [1, 0, 0, 0, 0]),
])
def test_list_column_expressions(listed: dict[str, object], expr: str,
                                 expected: list[int]) -> None:
    mask = compile_where(expr)(listed)
    assert mask.dtype == np.bool_
    assert mask.astype(int).tolist() == expected


def test_a_plain_array_of_list_values_is_a_list_column_too() -> None:
    cols = {"violations": np.array([encode_list(v) for v in VIOLATIONS], dtype=object)}
    assert parse_where('"shacl" in violations').evaluate(cols).astype(int).tolist() == [
        0, 1, 1, 0, 0]
    assert parse_where("violations == 0").evaluate(cols).astype(int).tolist() == [
        1, 0, 0, 1, 0]


@pytest.mark.parametrize(("expr", "message"), [
    ('violations == "shacl"', "holds a list of names per row"),
    ('violations in ["shacl"]', "holds a list of names per row"),
    ('violations < "z"', "holds a list of names per row"),
    ('"Mission" in type', "not a list of names"),
    ('"x" in confidence', "is a numeric column, not a list of names"),
])
def test_list_column_misuse_is_explained(listed: dict[str, object], expr: str,
                                         message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_where(expr).evaluate(listed)


def test_list_columns_without_rows_match_nothing() -> None:
    empty = {"violations": CategoricalColumn.encode(np.array([], dtype=str)),
             "type": CategoricalColumn.encode(np.array([], dtype=str))}
    for expr in ("violations == 0", '"shacl" in violations', '"shacl" not in violations',
                 'type == "a"', "violations > 1 or type == 'x'"):
        assert parse_where(expr).evaluate(empty).shape == (0,)
    # rows removed, their values still in the vocabulary: still a list column
    gone = CategoricalColumn(np.zeros(0, dtype=np.int32), (encode_list(["shacl"]),))
    assert parse_where('"shacl" in violations').evaluate({"violations": gone}).shape == (0,)


@pytest.mark.parametrize("names", [(), ("shacl",), ("a", "a"), ("",), ("x,y", 'q"uote'),
                                   (LIST_MARK, "\n", "é")])
def test_encode_list_round_trips_any_names(names: tuple[str, ...]) -> None:
    value = encode_list(names)
    assert value.startswith(LIST_MARK) and decode_list(value) == names
    assert decode_list(value[1:]) is None and decode_list("shacl") is None
    assert decode_list(LIST_MARK + "{}") is None and decode_list(LIST_MARK + "[1]") is None
    assert decode_list(LIST_MARK + "[") is None


NAMES = ["shacl", "types-fit-domain-range", "functional-conflict", "literal-datatype"]
LIST_LEAVES = [
    *((f'"{n}" in violations', lambda r, n=n: n in r["violations"]) for n in NAMES),
    *((f'"{n}" not in violations', lambda r, n=n: n not in r["violations"]) for n in NAMES),
    *((f"violations {op} {k}", lambda r, op=op, k=k: {
        "==": len(r["violations"]) == k, "!=": len(r["violations"]) != k,
        "<": len(r["violations"]) < k, ">=": len(r["violations"]) >= k}[op])
      for op in ("==", "!=", "<", ">=") for k in (0, 1, 2)),
    ("violations in [0, 2]", lambda r: len(r["violations"]) in (0, 2)),
    ('status == "draft"', lambda r: r["status"] == "draft"),
    ("confidence >= 0.5", lambda r: r["confidence"] >= 0.5),
]


def _leaf() -> st.SearchStrategy[tuple[str, object]]:
    return st.sampled_from(LIST_LEAVES)


list_predicates = st.recursive(
    _leaf(),
    lambda inner: st.one_of(
        st.builds(lambda a, b: (f"({a[0]}) and ({b[0]})",
                                lambda r: a[1](r) and b[1](r)), inner, inner),
        st.builds(lambda a, b: (f"({a[0]}) or ({b[0]})",
                                lambda r: a[1](r) or b[1](r)), inner, inner),
        st.builds(lambda a: (f"not ({a[0]})", lambda r: not a[1](r)), inner)),
    max_leaves=5)

list_rows = st.lists(st.fixed_dictionaries({
    "violations": st.lists(st.sampled_from(NAMES), max_size=4).map(lambda v: tuple(sorted(v))),
    "status": st.sampled_from(["draft", "certified"]),
    "confidence": st.integers(0, 10).map(lambda i: i / 10)}), max_size=30)


@settings(max_examples=200, deadline=None)
@given(rows=list_rows, pred=list_predicates, categorical=st.booleans())
def test_list_filters_match_python_exactly(rows: list[dict[str, object]],
                                           pred: tuple[str, object],
                                           categorical: bool) -> None:
    """Any combination of list and plain conditions selects exactly the rows Python does."""
    source, fn = pred
    values = [encode_list(r["violations"]) for r in rows]  # type: ignore[arg-type]
    cols: dict[str, object] = {
        "violations": CategoricalColumn.encode(values) if categorical
        else np.array(values, dtype=object),
        "status": CategoricalColumn.encode([str(r["status"]) for r in rows]),
        "confidence": np.array([r["confidence"] for r in rows], dtype=np.float64)}
    mask = parse_where(source).evaluate(cols, len(rows))  # type: ignore[arg-type]
    assert mask.tolist() == [bool(fn(r)) for r in rows]  # type: ignore[operator]
