"""The case file: a negotiation agenda, its parties, their priorities and red lines.

A *case* is what a facilitator (or an analyst) writes down about one negotiation:

* the **issues** on the agenda, each with unordered options, ordered options or a
  numeric range;
* the **parties**: delegations at the table, with issue weights, a rating per option,
  red lines and a reservation value; and **absent stakeholders**, who are not at the
  table but whose public red lines must hold all the same;
* every **red line** has an id, a firmness (how costly it is to relax) and a
  visibility (stated in public, or private to the delegation).

These classes only describe and validate the *shape* of a case. Cross-references
(a red line naming an issue that does not exist, a rating for an unknown option,
weights that do not sum...) are checked by :mod:`backchannel.model.compile`, which
reports every problem with its location in the file.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

Number = float | int
OptionRef = str | int | float
"""An option as written in a file: its name, or a number on a numeric issue."""


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )


class IssueKind(str, Enum):
    """How the options of an issue relate to each other."""

    UNORDERED = "unordered"
    ORDERED = "ordered"
    NUMERIC = "numeric"


class Option(_Strict):
    """One option of an issue, with optional provenance."""

    name: Annotated[str, Field(min_length=1)]
    description: str | None = None
    source: str | None = None


class NumericRange(_Strict):
    """The values a numeric issue may take: ``min, min + step, ..., max``."""

    min: Number
    max: Number
    step: Annotated[Number, Field(gt=0)] = 1
    unit: str | None = None


class Issue(_Strict):
    """An agenda item.

    Unordered and ordered issues list their ``options`` (ordered ones from least to
    most, so that *at least* and *at most* make sense); numeric issues give a
    ``range`` instead.
    """

    name: Annotated[str, Field(min_length=1)]
    kind: IssueKind = IssueKind.UNORDERED
    options: list[Option | str] | None = None
    range: NumericRange | None = None
    description: str | None = None
    source: str | None = None


class Condition(_Strict):
    """A statement about one issue that a package either satisfies or not.

    Exactly one of ``options`` (the package picks one of these options) or a bound
    (``at_least`` and/or ``at_most``, for ordered and numeric issues) is given.
    """

    issue: str
    options: list[OptionRef] | None = None
    at_least: OptionRef | None = None
    at_most: OptionRef | None = None


class Bound(_Strict):
    """A one-sided bound on an ordered or numeric issue."""

    issue: str
    value: OptionRef


class Visibility(str, Enum):
    """Whether a red line has been stated in public or is private to its party."""

    STATED = "stated"
    PRIVATE = "private"


class RedLine(_Strict):
    """A hard constraint of one party; exactly one form is given.

    Forms
    -----
    ``forbid``
        The package must not satisfy the condition.
    ``require``
        The package must satisfy the condition.
    ``at_least`` / ``at_most``
        A bound on an ordered or numeric issue.
    ``if_`` (written ``if``) and ``then``
        When every ``if`` condition holds, every ``then`` condition must hold.
    ``min_utility``
        The party's utility of the package must be at least this value in [0, 1].
    """

    id: Annotated[str, Field(min_length=1)]
    forbid: Condition | None = None
    require: Condition | None = None
    at_least: Bound | None = None
    at_most: Bound | None = None
    if_: Annotated[list[Condition] | None, Field(alias="if")] = None
    then: list[Condition] | None = None
    min_utility: Number | None = None
    firmness: Annotated[Number, Field(gt=0)] = 1
    visibility: Visibility = Visibility.PRIVATE
    description: str | None = None
    source: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _single_conditions_to_lists(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in ("if", "if_", "then"):
                if isinstance(data.get(key), dict):
                    data = {**data, key: [data[key]]}
        return data


class PiecewiseLinear(_Strict):
    """A rating over a numeric range given by points ``[value, rating]``.

    Between points the rating is interpolated linearly; outside them it is the
    rating of the nearest point.
    """

    points: Annotated[list[tuple[Number, Number]], Field(min_length=1)]


class Rectangle(_Strict):
    """One term of a hyper-rectangle utility: ``value`` when every condition holds."""

    value: Number
    conditions: list[Condition]


class RectangleUtilitySpec(_Strict):
    """A non-linear utility as a case file writes it (ANAC 2014 style), compiled into a
    :class:`~backchannel.model.problem.RectangleUtility`.

    ``u = min(1, sum of the values of the rectangles that contain the package
    / max_value)``.
    """

    max_value: Annotated[Number, Field(gt=0)]
    rectangles: list[Rectangle]


class PartyRole(str, Enum):
    """A delegation at the table, or a stakeholder who is absent from it."""

    DELEGATION = "delegation"
    ABSENT = "absent"


class Reservation(_Strict):
    """The walk-away level (BATNA) on the utility scale, and how firm it is."""

    value: Number
    firmness: Annotated[Number, Field(gt=0)] = 1


class Party(_Strict):
    """A delegation (with its private preferences) or an absent stakeholder."""

    name: Annotated[str, Field(min_length=1)]
    role: PartyRole = PartyRole.DELEGATION
    description: str | None = None
    weights: dict[str, Number] | None = None
    ratings: dict[str, dict[str, Number] | PiecewiseLinear] | None = None
    utility: RectangleUtilitySpec | None = None
    red_lines: list[RedLine] = Field(default_factory=list)
    reservation: Reservation | Number | None = None
    illustrative: bool = False


class Weighting(str, Enum):
    """How issue weights are read.

    ``normalised`` (the default for case files): the weights of a party must sum
    to 1 or to 100 and are divided by their sum. ``as_written``: used exactly as
    given (what Genius does with its XML profiles).
    """

    NORMALISED = "normalised"
    AS_WRITTEN = "as_written"


class Case(_Strict):
    """A whole negotiation case: the agenda and every party's view of it."""

    title: Annotated[str, Field(min_length=1)]
    description: str | None = None
    sources: list[str] = Field(default_factory=list)
    weighting: Weighting = Weighting.NORMALISED
    issues: Annotated[list[Issue], Field(min_length=1)]
    parties: Annotated[list[Party], Field(min_length=1)]
    metadata: dict[str, Any] = Field(default_factory=dict)
