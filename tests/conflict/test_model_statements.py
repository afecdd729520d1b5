"""Option-prioritisation statements: grammar, semantics, columns, printing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backchannel.model.conflict.statements import (
    StatementSyntaxError,
    format_statement,
    holds,
    parse_statement,
)

OPTIONS = {"a": 0, "b": 1, "c": 2}


def truth(text: str) -> list[bool]:
    expr = parse_statement(text, OPTIONS)
    return [holds(expr, code) for code in range(8)]


def table(fn) -> list[bool]:  # type: ignore[no-untyped-def]
    return [bool(fn(code & 1, code >> 1 & 1, code >> 2 & 1)) for code in range(8)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a", lambda a, b, c: a),
        ("-a", lambda a, b, c: not a),
        ("a & b", lambda a, b, c: a and b),
        ("a | b", lambda a, b, c: a or b),
        ("a & -b | c", lambda a, b, c: (a and not b) or c),
        ("a & (-b | c)", lambda a, b, c: a and (not b or c)),
        ("--a", lambda a, b, c: a),
        ("-(a | b)", lambda a, b, c: not (a or b)),
        # "A if B" is the implication B -> A (GMCR+)
        ("a if b", lambda a, b, c: a or not b),
        ("-a if b & c", lambda a, b, c: not a or not (b and c)),
        ("a iff -b", lambda a, b, c: a == (not b)),
        ("(a if b) iff c", lambda a, b, c: (a or not b) == c),
    ],
)
def test_semantics(text: str, expected) -> None:  # type: ignore[no-untyped-def]
    assert truth(text) == table(expected)


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("a & & b", 5, "expected an option id"),
        ("a & d", 5, "unknown option 'd'"),
        ("(a | b", 7, "expected ')'"),
        ("a b", 3, "unexpected 'b'"),
        ("a | b)", 6, "unexpected ')'"),
        ("a # b", 3, "unexpected character '#'"),
        ("a if b if c", 8, "cannot follow"),
        ("   ", 1, "empty statement"),
        ("a &", 4, "the end of the statement"),
    ],
)
def test_syntax_errors_carry_the_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(StatementSyntaxError) as info:
        parse_statement(text, OPTIONS)
    assert info.value.column == column
    assert fragment in info.value.message


def test_unknown_option_suggests_a_close_one() -> None:
    with pytest.raises(StatementSyntaxError) as info:
        parse_statement("blockad", {"blockade": 0, "withdraw": 1})
    assert info.value.hint == "did you mean blockade?"


_atoms = st.sampled_from(["a", "b", "c", "-a", "-b", "-c"])


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    ops = st.sampled_from([" & ", " | ", " if ", " iff "])
    return st.builds(lambda x, op, y: f"({x}{op}{y})", children, ops, children) | st.builds(
        lambda x: f"-({x})", children
    )


statements = st.recursive(_atoms, _combine, max_leaves=8)


@given(statements)
def test_format_then_parse_keeps_the_meaning(text: str) -> None:
    expr = parse_statement(text, OPTIONS)
    printed = format_statement(expr, ["a", "b", "c"])
    assert truth(printed) == truth(text)
    assert len(printed) <= len(text)
