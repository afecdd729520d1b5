"""The pydantic model of a conflict file (option form of the Graph Model).

The file describes a conflict in option form (Howard 1971; Fang, Hipel & Kilgour
1993, ch. 2): decision makers, the options each controls, which combinations are
infeasible, and each decision maker's preferences, either as option-prioritisation
statements or as an explicit ranking of states. Only the structure is checked here;
cross-references (unknown options, decision makers, rankings that miss states) are
checked by :func:`backchannel.model.conflict.checks.check_conflict` and by the
compiler, which report located errors.

States are written as Y/N strings: character ``j`` is ``"Y"`` when option ``j``
(in the order of ``options``) is taken.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    model_validator,
)
from pydantic_core import PydanticCustomError

from backchannel.model.conditions import Locator

__all__ = [
    "ConflictFile",
    "DecisionMakerSpec",
    "OptionSpec",
    "PreferenceSpec",
    "ReversibilityName",
]

ReversibilityName = Literal["both", "forward_only", "backward_only"]


class _Strict(BaseModel):
    """Base: frozen, and unknown keys are rejected with the list of allowed keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = list(cls.model_fields)
            for key in data:
                if key not in cls.model_fields:
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key {key}; allowed keys: {allowed}",
                        {"key": repr(key), "allowed": ", ".join(allowed), "name": str(key)},
                    )
        return data


def _one_or_many(value: Any) -> Any:
    """A tie group may be written as a single state string."""
    return [value] if isinstance(value, str) else value


def _option_entry(value: Any) -> Any:
    """An option may be written as its bare id."""
    return {"id": value} if isinstance(value, str) else value


TieGroup = Annotated[list[str], BeforeValidator(_one_or_many)]


class OptionSpec(_Strict):
    """One option (a course of action a decision maker may take or not)."""

    id: str = Field(min_length=1)
    name: str | None = None
    description: str | None = None
    reversibility: ReversibilityName | None = None
    irreversible: bool | None = None


class DecisionMakerSpec(_Strict):
    """A decision maker and the options it controls."""

    id: str = Field(min_length=1)
    name: str | None = None
    description: str | None = None
    options: list[str] = Field(min_length=1)


class PreferenceSpec(_Strict):
    """One decision maker's preferences: statements or a ranking (exactly one)."""

    statements: list[str] | None = None
    ranking: list[TieGroup] | None = None
    unranked: list[tuple[str, str]] = Field(default_factory=list)


class ConflictFile(_Strict):
    """A whole conflict file.

    Attributes
    ----------
    title, description:
        Free text.
    decision_makers:
        In order; each lists the ids of the options it controls.
    options:
        All options in bit order. When omitted, the decision makers' options are
        taken in order, all reversible.
    infeasible:
        Rules, each a conjunction ``{option: true/false, ...}``; a state matching any
        rule is removed.
    mutually_exclusive, at_least_one:
        Shorthands: at most one / at least one option of each group is taken.
    preferences:
        Decision-maker id to :class:`PreferenceSpec`.
    status_quo:
        The state the conflict starts from.
    coalitions:
        Groups of decision-maker ids that move as one.
    misperceived:
        Decision-maker id to states (``-`` matches either value) that decision maker
        cannot move to or from.
    state_names:
        Short names for states, shown in pictures and reports.
    """

    title: str = Field(min_length=1)
    description: str | None = None
    decision_makers: list[DecisionMakerSpec] = Field(min_length=1)
    options: Annotated[
        list[OptionSpec] | None,
        BeforeValidator(lambda v: [_option_entry(x) for x in v] if isinstance(v, list) else v),
    ] = None
    infeasible: list[dict[str, bool]] = Field(default_factory=list)
    mutually_exclusive: list[list[str]] = Field(default_factory=list)
    at_least_one: list[list[str]] = Field(default_factory=list)
    preferences: dict[str, PreferenceSpec]
    status_quo: str | None = None
    coalitions: list[list[str]] = Field(default_factory=list)
    misperceived: dict[str, list[str]] = Field(default_factory=dict)
    state_names: dict[str, str] = Field(default_factory=dict)
    _locate: Locator | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        """Equal when the content is equal (where it was read from does not matter)."""
        if not isinstance(other, ConflictFile):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    def attach_locator(self, locate: Locator) -> None:
        """Remember how to find the line of a path in the source text (for error messages)."""
        self._locate = locate

    def line_of(self, path: tuple[str | int, ...] | list[str | int]) -> int | None:
        """The 1-based line of ``path`` (or of its longest known prefix), if known."""
        return None if self._locate is None else self._locate(tuple(path))

    def option_order(self) -> list[str]:
        """Option ids in bit order (from ``options``, or from the decision makers)."""
        if self.options is not None:
            return [option.id for option in self.options]
        return [option for dm in self.decision_makers for option in dm.options]
