"""The overview as a checklist: each step of a dialogue, its state and what comes next.

The facilitator's steps run agenda → parties → invitations → round open → positions
saved → lock → evaluate → release; a member's run accept the invitation → enter the
position → wait for the facilitator → read the releases. Each step is ``done``, ``next``
(the seat can act on it now), ``waiting`` (on someone else) or ``later``. The steps are
computed from what the page already read (:func:`facilitator_steps` and
:func:`member_steps` read no database); the wording is the template's, so that it can
be translated, and each step carries the counts it names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from backchannel.services.dialogues import DialogueView
from backchannel.services.invitations import PendingInvitation
from backchannel.services.positions import PositionView
from backchannel.services.readiness import Readiness
from backchannel.services.releases import ReleaseView
from backchannel.services.rounds import RoundView


class State(str, Enum):
    """Where a step stands."""

    DONE = "done"
    NEXT = "next"
    WAITING = "waiting"
    LATER = "later"


@dataclass(frozen=True)
class Step:
    """One step of the checklist: its key (the template words it), state and counts."""

    key: str
    state: State
    counts: dict[str, int] = field(default_factory=dict)


def _states(done: Sequence[tuple[str, bool, bool, bool]]) -> list[State]:
    """States from ``(key, done, waits on others, blocks what follows)`` in order.

    The first step not done is ``next`` (``waiting`` when it waits on others); after a
    step that waits without blocking, the following one may be ``next`` too.
    """
    out: list[State] = []
    open_ = True
    for _, finished, waits, blocks in done:
        if finished:
            out.append(State.DONE)
            continue
        if not open_:
            out.append(State.LATER)
            continue
        out.append(State.WAITING if waits else State.NEXT)
        open_ = waits and not blocks
    return out


@dataclass(frozen=True)
class BlindProgress:
    """Where a blind dialogue's nodes and computations stand, for the checklist: the
    delegations at the table with a node, the helpers, and whether a finding was asked
    for (and opened) in the current round."""

    with_node: int
    helpers: int
    asked: bool
    opened: bool


def facilitator_steps(
    view: DialogueView,
    rounds: Sequence[RoundView],
    ready: Readiness,
    invitations: Sequence[PendingInvitation],
    released: Sequence[ReleaseView],
    blind: BlindProgress | None = None,
) -> list[Step]:
    """The facilitator's checklist for the current round (a blind dialogue: nodes
    registered and a helper present instead of positions saved, a finding asked of the
    nodes and opened instead of an evaluation)."""
    at_table = [d for d in view.delegations if not d.absent]
    seated = {p.delegation_id for p in view.participants if p.delegation_id}
    unseated = [d for d in at_table if d.id not in seated]
    live = [i for i in invitations if not i.expired]
    invited = {i.delegation for i in live if i.delegation}
    current = rounds[-1] if rounds else None
    state = current.state if current else None
    saved = sum(d.saved.value != "missing" for d in ready.delegations)
    in_round = [r for r in released if current and r.round_number == current.number]
    left = min(
        (current.evaluations_allowed - current.evaluations_used) if current else 0,
        view.evaluations_per_dialogue - view.evaluations_used,
    )
    rows = [
        ("agenda", bool(view.agenda.issues), False, True),
        ("parties", len(at_table) >= 2, False, True),
        (
            "invitations",
            bool(at_table) and not unseated,
            bool(unseated) and all(d.name in invited for d in unseated),
            False,
        ),
        ("round", current is not None, False, True),
        ("positions", ready.all_saved and bool(at_table), state == "draft", True),
        ("lock", state in ("locked", "evaluated", "disclosed"), False, True),
        ("evaluate", state in ("evaluated", "disclosed"), not left, True),
        ("release", bool(in_round), False, True),
    ]
    extra: dict[str, dict[str, int]] = {}
    if blind is not None:
        ready_nodes = blind.with_node == len(at_table) and bool(at_table) and blind.helpers > 0
        rows[4] = ("nodes", ready_nodes, False, True)
        evaluated = state in ("evaluated", "disclosed")
        rows[6] = ("compute", evaluated and blind.opened, evaluated and not blind.opened, True)
        extra = {
            "nodes": {
                "with_node": blind.with_node,
                "delegations": len(at_table),
                "helpers": blind.helpers,
            },
            "compute": {"asked": int(blind.asked), "opened": int(blind.opened)},
        }
    counts = {
        **extra,
        "agenda": {"issues": len(view.agenda.issues)},
        "parties": {
            "delegations": len(at_table),
            "absent": sum(d.absent for d in view.delegations),
        },
        "invitations": {
            "seated": len(at_table) - len(unseated),
            "delegations": len(at_table),
            "pending": len(live),
        },
        "round": {"number": current.number if current else 0},
        "positions": {"saved": saved, "delegations": len(at_table)},
        "lock": {"incomplete": len(ready.incomplete)},
        "evaluate": {
            "left": (current.evaluations_allowed - current.evaluations_used) if current else 0,
            "left_in_all": view.evaluations_per_dialogue - view.evaluations_used,
        },
        "release": {"released": len(in_round)},
    }
    return [Step(key, s, counts[key]) for (key, *_), s in zip(rows, _states(rows), strict=True)]


def member_steps(
    rounds: Sequence[RoundView],
    history: Sequence[PositionView],
    released: Sequence[ReleaseView],
    own_node: bool | None = None,
) -> list[Step]:
    """A member's checklist for the current round (the invitation is accepted: they sit);
    in a blind dialogue (``own_node`` not None) the position step is the side's node."""
    current = rounds[-1] if rounds else None
    state = current.state if current else None
    mine = next(
        (p for p in history if current is not None and p.round_number == current.number), None
    )
    in_round = [r for r in released if current and r.round_number == current.number]
    if current is None:
        position = ("position", False, True, True)  # the facilitator opens the first round
    elif state == "draft":
        position = ("position", mine is not None and mine.revision > 0, False, True)
    else:  # frozen: what was there when the round was locked counts
        position = ("position", mine is not None, True, False)
    if own_node is not None:
        position = ("node", own_node, False, True)
    rows = [
        ("accept", True, False, True),
        position,
        ("wait", state in ("evaluated", "disclosed"), True, True),
        ("read", False, not in_round, True),
    ]
    counts = {
        "accept": {},
        "position": {
            "round": current.number if current else 0,
            "carried": int(mine is not None and mine.revision == 0),
        },
        "node": {},
        "wait": {},
        "read": {"released": len(in_round), "in_all": len(released)},
    }
    return [Step(key, s, counts[key]) for (key, *_), s in zip(rows, _states(rows), strict=True)]
