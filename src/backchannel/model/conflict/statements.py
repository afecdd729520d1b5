"""Option-prioritisation statements: parsing, printing and single-state evaluation.

A statement is a boolean formula over options, written with option ids::

    -air_strike                    not taken
    blockade | withdraw            either taken
    withdraw & -escalate           conjunction
    accept if -modify              implication: satisfied unless ``-modify`` holds
                                   and ``accept`` does not (``B -> A`` for ``A if B``)
    -delay iff insist              equivalence

Precedence, tightest first: ``-`` (not), ``&``, ``|``, then ``if``/``iff``, which do
not chain without parentheses. This follows the statement language of GMCR+
(Kinsara, Petersons, Hipel & Kilgour 2015; Fang, Hipel, Kilgour & Peng 2003, option
prioritisation), with option ids instead of option numbers.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from backchannel.errors import listing
from backchannel.messages import Text, as_message, t_

__all__ = [
    "RESERVED_WORDS",
    "And",
    "Expr",
    "If",
    "Iff",
    "Not",
    "Opt",
    "Or",
    "StatementSyntaxError",
    "expression_options",
    "format_statement",
    "holds",
    "parse_statement",
]

RESERVED_WORDS = frozenset({"if", "iff"})
_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[-&|()]))")


@dataclass(frozen=True)
class Opt:
    """An option is taken (its bit is set)."""

    index: int


@dataclass(frozen=True)
class Not:
    """Negation."""

    arg: Expr


@dataclass(frozen=True)
class And:
    """Conjunction of two or more terms."""

    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    """Disjunction of two or more terms."""

    args: tuple[Expr, ...]


@dataclass(frozen=True)
class If:
    """``then if cond``: satisfied when ``cond`` is false or ``then`` is true."""

    then: Expr
    cond: Expr


@dataclass(frozen=True)
class Iff:
    """``left iff right``: satisfied when both sides agree."""

    left: Expr
    right: Expr


Expr = Opt | Not | And | Or | If | Iff


class StatementSyntaxError(ValueError):
    """A statement that cannot be read; ``column`` is 1-based."""

    def __init__(self, column: int, message: Text, hint: Text | None = None) -> None:
        self.column = column
        self.text = as_message(message)
        """What is wrong, in the reader's language when shown (``message``: its English)."""
        self.hint_text = None if hint is None else as_message(hint)
        self.message = str(self.text)
        self.hint = None if self.hint_text is None else str(self.hint_text)
        super().__init__(f"column {column}: {self.message}")


@dataclass(frozen=True)
class _Token:
    kind: str  # "name", "op" or "end"
    text: str
    column: int


def _tokenise(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            column = pos + len(text[pos:]) - len(text[pos:].lstrip()) + 1
            raise StatementSyntaxError(
                column,
                t_("unexpected character {character}", character=repr(text[column - 1])),
                t_("use option ids, '-' (not), '&', '|', 'if', 'iff' and parentheses"),
            )
        kind = "name" if match.group("name") is not None else "op"
        start = match.start(kind)
        tokens.append(_Token(kind, match.group(kind), start + 1))
        pos = match.end()
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str, options: Mapping[str, int]) -> None:
        self.tokens = _tokenise(text)
        self.pos = 0
        self.options = options

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def statement(self) -> Expr:
        left = self.disjunction()
        token = self.peek()
        if token.kind == "name" and token.text in RESERVED_WORDS:
            self.take()
            right = self.disjunction()
            after = self.peek()
            if after.kind == "name" and after.text in RESERVED_WORDS:
                raise StatementSyntaxError(
                    after.column,
                    t_("'{word}' cannot follow another 'if'/'iff' here", word=after.text),
                    t_("add parentheses, e.g. 'a if (b iff c)'"),
                )
            return If(left, right) if token.text == "if" else Iff(left, right)
        return left

    def disjunction(self) -> Expr:
        terms = [self.conjunction()]
        while self.peek().text == "|" and self.peek().kind == "op":
            self.take()
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else Or(tuple(terms))

    def conjunction(self) -> Expr:
        terms = [self.unary()]
        while self.peek().text == "&" and self.peek().kind == "op":
            self.take()
            terms.append(self.unary())
        return terms[0] if len(terms) == 1 else And(tuple(terms))

    def unary(self) -> Expr:
        token = self.take()
        if token.kind == "op" and token.text == "-":
            return Not(self.unary())
        if token.kind == "op" and token.text == "(":
            inner = self.statement()
            close = self.take()
            if close.text != ")" or close.kind != "op":
                raise StatementSyntaxError(
                    close.column,
                    t_(
                        "expected ')' to close the '(' at column {column}, found {found}",
                        column=token.column,
                        found=_describe(close),
                    ),
                )
            return inner
        if token.kind == "name" and token.text not in RESERVED_WORDS:
            if token.text not in self.options:
                similar = difflib.get_close_matches(token.text, list(self.options), n=3)
                hint = (
                    t_("did you mean {names}?", names=", ".join(similar))
                    if similar
                    else t_("known options: {names}", names=listing(self.options))
                )
                raise StatementSyntaxError(
                    token.column, t_("unknown option {name}", name=repr(token.text)), hint
                )
            return Opt(self.options[token.text])
        raise StatementSyntaxError(
            token.column,
            t_("expected an option id, '-' or '(', found {found}", found=_describe(token)),
        )


def _describe(token: _Token) -> Text:
    return t_("the end of the statement") if token.kind == "end" else repr(token.text)


def parse_statement(text: str, options: Mapping[str, int]) -> Expr:
    """Parse one option-prioritisation statement.

    Parameters
    ----------
    text:
        The statement, e.g. ``"withdraw & -escalate"``.
    options:
        Option id to option index (bit position).

    Returns
    -------
    Expr
        The formula; see the module docstring for the grammar (GMCR+ statement
        semantics, Kinsara et al. 2015).

    Raises
    ------
    StatementSyntaxError
        With the 1-based column of the first problem.
    """
    if not text.strip():
        raise StatementSyntaxError(1, t_("empty statement"), t_("write e.g. '-escalate'"))
    parser = _Parser(text, options)
    expr = parser.statement()
    end = parser.peek()
    if end.kind != "end":
        hint = t_("join terms with '&' or '|'") if end.kind == "name" else None
        raise StatementSyntaxError(end.column, t_("unexpected {found}", found=_describe(end)), hint)
    return expr


def holds(expr: Expr, code: int) -> bool:
    """Whether the state with bit code ``code`` satisfies ``expr``."""
    if isinstance(expr, Opt):
        return bool(code >> expr.index & 1)
    if isinstance(expr, Not):
        return not holds(expr.arg, code)
    if isinstance(expr, And):
        return all(holds(arg, code) for arg in expr.args)
    if isinstance(expr, Or):
        return any(holds(arg, code) for arg in expr.args)
    if isinstance(expr, If):
        return holds(expr.then, code) or not holds(expr.cond, code)
    return holds(expr.left, code) == holds(expr.right, code)


def expression_options(expr: Expr) -> frozenset[int]:
    """The option indices a formula mentions."""
    if isinstance(expr, Opt):
        return frozenset({expr.index})
    if isinstance(expr, Not):
        return expression_options(expr.arg)
    if isinstance(expr, And | Or):
        return frozenset().union(*(expression_options(arg) for arg in expr.args))
    if isinstance(expr, If):
        return expression_options(expr.then) | expression_options(expr.cond)
    return expression_options(expr.left) | expression_options(expr.right)


_LEVEL = {If: 0, Iff: 0, Or: 1, And: 2, Not: 3, Opt: 4}


def format_statement(expr: Expr, option_ids: tuple[str, ...] | list[str]) -> str:
    """Write a formula back in statement syntax with the fewest parentheses."""

    def wrap(sub: Expr, level: int) -> str:
        text = format_statement(sub, option_ids)
        return f"({text})" if _LEVEL[type(sub)] <= level else text

    if isinstance(expr, Opt):
        return option_ids[expr.index]
    if isinstance(expr, Not):
        return "-" + wrap(expr.arg, 2)
    if isinstance(expr, And):
        return " & ".join(wrap(arg, 2) for arg in expr.args)
    if isinstance(expr, Or):
        return " | ".join(wrap(arg, 1) for arg in expr.args)
    if isinstance(expr, If):
        return f"{wrap(expr.then, 0)} if {wrap(expr.cond, 0)}"
    return f"{wrap(expr.left, 0)} iff {wrap(expr.right, 0)}"
