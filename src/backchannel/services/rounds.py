"""Rounds: the state machine of a dialogue, the rule the server enforces first.

A round moves ``draft -> locked -> evaluated -> disclosed``; only the facilitator moves
it. Positions change only in a draft round (:mod:`~backchannel.services.positions`);
only a locked round is evaluated (:mod:`~backchannel.services.evaluations`), a ration
of times; its findings go out as releases (:mod:`~backchannel.services.releases`). A
new round opens once the last one was evaluated, and the positions carry over to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from backchannel.errors import NotAllowedNow
from backchannel.messages import t_
from backchannel.services import access
from backchannel.services.access import Actor
from backchannel.services.dialogues import DialogueView, current_round, seat_view, state_name
from backchannel.services.platform import Platform
from backchannel.services.positions import carry_over
from backchannel.storage import repo
from backchannel.storage.tables import DialogueRow, RoundRow


@dataclass(frozen=True)
class RoundView:
    """A round as everyone in the dialogue sees it."""

    id: str
    number: int
    state: str
    evaluations_allowed: int
    evaluations_used: int


def _round_view(row: RoundRow) -> RoundView:
    return RoundView(row.id, row.number, row.state, row.evaluations_allowed, row.evaluations_used)


def rounds(platform: Platform, actor: Actor, dialogue_id: str) -> list[RoundView]:
    """The rounds of a dialogue (everyone with a seat sees them)."""
    with platform.view() as s:
        access.seat(s, actor, dialogue_id)
        return [_round_view(r) for r in repo.rounds(s, dialogue_id)]


def overview(
    platform: Platform, actor: Actor, dialogue_id: str
) -> tuple[DialogueView, list[RoundView]]:
    """The dialogue as the actor's seat sees it and its rounds, from one snapshot."""
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        found = [_round_view(r) for r in repo.rounds(s, dialogue_id)]
        return seat_view(platform, s, place), found


def open_round(platform: Platform, actor: Actor, dialogue_id: str) -> RoundView:
    """Open the next round as a draft; positions carry over from the round before."""
    with platform.unit() as s:
        access.facilitator(s, actor, dialogue_id)
        repo.lock_dialogue(s, dialogue_id)
        dialogue = repo.get(s, DialogueRow, dialogue_id)
        assert dialogue is not None
        previous = repo.rounds(s, dialogue_id)
        if previous and previous[-1].state in ("draft", "locked"):
            raise NotAllowedNow(
                t_(
                    "round {number} is still {state}",
                    number=previous[-1].number,
                    state=state_name(previous[-1].state),
                ),
                hint=t_("evaluate it before opening the next round"),
            )
        row = RoundRow(
            dialogue_id=dialogue_id,
            number=len(previous) + 1,
            state="draft",
            evaluations_allowed=dialogue.evaluations_per_round,
            evaluations_used=0,
        )
        repo.add(s, row)
        if previous:
            carry_over(s, platform.keys(s, dialogue_id), previous[-1], row)
        platform.log(
            s,
            "round.opened",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            target=row.id,
            audience="all",
            detail={"round": row.number},
        )
        return _round_view(row)


def _move(
    platform: Platform, actor: Actor, dialogue_id: str, start: tuple[str, ...], end: str
) -> RoundView:
    with platform.unit() as s:
        access.facilitator(s, actor, dialogue_id)
        repo.lock_dialogue(s, dialogue_id)
        row = current_round(s, dialogue_id)
        if row.state not in start:
            raise NotAllowedNow(
                t_(
                    "round {number} is {state}; it cannot become {end}",
                    number=row.number,
                    state=state_name(row.state),
                    end=state_name(end),
                )
            )
        row.state = end
        platform.log(
            s,
            f"round.{end}",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            target=row.id,
            audience="all",
            detail={"round": row.number},
        )
        return _round_view(row)


def lock_round(platform: Platform, actor: Actor, dialogue_id: str) -> RoundView:
    """Lock the current draft round: positions freeze and can be evaluated."""
    return _move(platform, actor, dialogue_id, ("draft",), "locked")


def unlock_round(platform: Platform, actor: Actor, dialogue_id: str) -> RoundView:
    """Return a locked round that was not evaluated to draft (e.g. a side had not saved)."""
    return _move(platform, actor, dialogue_id, ("locked",), "draft")
