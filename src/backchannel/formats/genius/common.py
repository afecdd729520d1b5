"""Pieces shared by the Genius XML and GeniusWeb JSON readers.

Both formats describe the same things: a *domain* (issues and their values) and one
*profile* (a utility function) per party. The readers turn a domain into a tuple of
:class:`GeniusIssue` and each profile into an :class:`ImportedProfile`; the folder
loader (:mod:`backchannel.formats.genius.folder`) assembles them into one
:class:`~backchannel.model.case.Case`.

Errors are collected by a :class:`Reporter` and raised together as one
:class:`~backchannel.errors.CaseFileErrors`, each located in its file.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, NoReturn

from backchannel.errors import MAX_KEPT, CaseFileError, CaseFileErrors
from backchannel.messages import Text
from backchannel.model.case import Issue, IssueKind, NumericRange, Party
from backchannel.model.compile import MAX_NUMERIC_VALUES

Where = tuple[str | int, ...]
IssueType = Literal["discrete", "integer", "real"]

REAL_STEPS = 10
"""A real (continuous) Genius issue becomes a numeric issue of ``REAL_STEPS + 1`` values:
both ends of its range and ``REAL_STEPS - 1`` equally spaced values between them."""


@dataclass
class Reporter:
    """Collects located errors for one file and raises them together.

    Parameters
    ----------
    source:
        The file the errors are in, as shown to the user.
    line_of:
        Optional function giving the 1-based line of a location, when known.
    """

    source: str
    line_of: Callable[[Where], int | None] | None = None
    errors: list[CaseFileError] = field(default_factory=list)
    unlisted: int = 0

    def add(
        self, where: Where, message: Text, hint: Text | None = None, line: int | None = None
    ) -> None:
        """Record one problem at ``where`` (beyond :data:`MAX_KEPT` of them, only count it)."""
        if len(self.errors) >= MAX_KEPT:
            self.unlisted += 1
            return
        if line is None and self.line_of is not None:
            line = self.line_of(where)
        self.errors.append(CaseFileError(self.source, where, message, hint=hint, line=line))

    def fail(
        self, where: Where, message: Text, hint: Text | None = None, line: int | None = None
    ) -> NoReturn:
        """Record one problem and raise every problem recorded so far."""
        self.add(where, message, hint, line)
        self.check()
        raise AssertionError("unreachable")  # pragma: no cover

    def check(self) -> None:
        """Raise :class:`CaseFileErrors` if any problem was recorded."""
        if self.errors:
            raise CaseFileErrors(self.errors, unlisted=self.unlisted)


@dataclass(frozen=True)
class GeniusIssue:
    """One issue of a domain, with the values a package may pick.

    ``key`` is what profiles use to refer to the issue: the XML ``index`` attribute (an
    ID, not a position) or the GeniusWeb issue name. Discrete issues list ``labels``;
    numeric ones (``integer``, ``real``, GeniusWeb ranges) give ``grid``, the values
    exactly as :func:`~backchannel.model.compile.compile_case` will enumerate them.
    """

    key: int | str
    name: str
    kind: IssueType
    labels: tuple[str, ...] = ()
    low: float = 0.0
    high: float = 0.0
    step: float = 1.0

    @property
    def grid(self) -> tuple[float, ...]:
        """The numeric values of the issue (empty for a discrete issue)."""
        if self.kind == "discrete":
            return ()
        count = round((self.high - self.low) / self.step) if self.high > self.low else 0
        integral = float(self.low).is_integer() and float(self.step).is_integer()
        values = [self.low + k * self.step for k in range(count + 1)]
        return tuple(float(round(v)) if integral else float(v) for v in values)

    def to_case_issue(self) -> Issue:
        """The case issue: unordered options, or a numeric range."""
        if self.kind == "discrete":
            return Issue(name=self.name, kind=IssueKind.UNORDERED, options=list(self.labels))
        return Issue(
            name=self.name,
            kind=IssueKind.NUMERIC,
            range=NumericRange(min=_num(self.low), max=_num(self.high), step=_num(self.step)),
        )


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def numeric_issue(
    key: int | str,
    name: str,
    kind: IssueType,
    low: float,
    high: float,
    *,
    step: float,
    out: Reporter,
    where: Where,
) -> GeniusIssue | None:
    """Check a numeric range and build its issue (``None`` after reporting a problem)."""
    if low > high:
        out.add(where, f"the range is reversed: {low:g} is above {high:g}", "swap the bounds")
        return None
    steps = (high - low) / step  # inf when the range or the step is extreme
    count = math.floor(steps + 1e-9) + 1 if steps < MAX_NUMERIC_VALUES else MAX_NUMERIC_VALUES + 1
    if count > MAX_NUMERIC_VALUES:
        many = f"{math.floor(steps) + 1:,}" if steps < 1e15 else "far more"
        out.add(
            where,
            f"issue {name!r} has {many} values, more than {MAX_NUMERIC_VALUES:,}",
            "use a narrower range or a coarser step",
        )
        return None
    last = low + (count - 1) * step
    if math.isclose(last, high, rel_tol=1e-12, abs_tol=1e-12):
        last = high
    return GeniusIssue(key, name, kind, low=low, high=last, step=step)


@dataclass(frozen=True)
class ImportedProfile:
    """One party read from a profile file, with what the case model cannot hold."""

    party: Party
    discount: float | None = None
    extra: dict[str, object] = field(default_factory=dict)


def parse_number(text: object) -> float | None:
    """A finite number from an attribute or JSON value, or ``None``."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        value = float(text)
    elif isinstance(text, str):
        try:
            value = float(text.strip())
        except ValueError:
            return None
    else:
        return None
    return value if math.isfinite(value) else None


def clamp01(value: float) -> float:
    """``value`` clamped into [0, 1]."""
    return min(1.0, max(0.0, value))


def clamped_line_points(
    low: float, high: float, at_low: float, slope: float
) -> list[tuple[float, float]]:
    """Points ``(x, rating)`` of ``100 * clamp(at_low + slope * (x - low), 0, 1)`` on [low, high].

    The points are the two ends and every corner where the line meets 0 or 1 inside
    the range, so linear interpolation between them reproduces the clamped line
    exactly at every value of the range.
    """
    xs = {low, high}
    if slope != 0:
        for level in (0.0, 1.0):
            x = low + (level - at_low) / slope
            if low < x < high:
                xs.add(x)
    return [(x, 100.0 * clamp01(at_low + slope * (x - low))) for x in sorted(xs)]


def validate_discount(value: float) -> float | None:
    """Genius' rule: a discount factor ``d`` applies only when ``0 < d < 1``."""
    return value if 0 < value < 1 else None
