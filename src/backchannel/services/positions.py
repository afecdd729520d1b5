"""Positions: each side records its own, privately, in the current draft round.

* A member reads and writes only the own delegation's position; the facilitator only
  those of absent stakeholders (whose public red lines they enter), never a
  delegation's private position. Anything else answers NotFound.
* A position changes only while the current round is a draft, names only issues and
  options of the agenda, and, with ``monotone_red_lines``, may only loosen the red
  lines of the round before.
* Positions carry over to the next round (:func:`carry_over`, called when a round opens).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backchannel.errors import NotAllowedNow, NotFound
from backchannel.messages import t_
from backchannel.model.dialogue import Position, check_position, prune, tightened
from backchannel.services import access
from backchannel.services.access import FACILITATOR, MEMBER, Actor, Seat
from backchannel.services.dialogues import current_round, read_agenda, state_name
from backchannel.services.platform import DialogueKeys, Platform
from backchannel.storage import repo
from backchannel.storage.db import Session
from backchannel.storage.tables import DelegationRow, DialogueRow, PositionRow, RoundRow, utcnow


@dataclass(frozen=True)
class PositionView:
    """A side's position in one round (the own side, or the facilitator for absent ones)."""

    round_number: int
    revision: int
    updated_at: datetime
    position: Position


def read_position(keys: DialogueKeys, row: PositionRow) -> Position:
    """A stored position (unsealed), as it was saved."""
    return Position.model_validate(keys.open("positions", "body", row.id, row.body_ct))


def _store(
    s: Session,
    keys: DialogueKeys,
    row: RoundRow,
    delegation_id: str,
    position: Position,
    revision: int,
) -> PositionRow:
    """Seal ``position`` as the delegation's in round ``row`` (a new row at ``revision``)."""
    found = repo.position(s, row.id, delegation_id)
    if found is None:
        found = PositionRow(
            dialogue_id=row.dialogue_id,
            round_id=row.id,
            delegation_id=delegation_id,
            revision=revision,
            body_ct=b"",
        )
        repo.add(s, found)
    else:
        found.revision += 1
        found.updated_at = utcnow()
    found.body_ct = keys.seal("positions", "body", found.id, position.model_dump(mode="json"))
    return found


def carry_over(s: Session, keys: DialogueKeys, previous: RoundRow, row: RoundRow) -> None:
    """Copy every position of the ``previous`` round into the new round ``row`` (revision 0)."""
    for d in repo.delegations(s, row.dialogue_id):
        old = repo.position(s, previous.id, d.id)
        if old is not None:
            _store(s, keys, row, d.id, read_position(keys, old), revision=0)


def _position_target(s: Session, place: Seat, delegation_id: str | None) -> DelegationRow:
    """The delegation whose position the seat may read and write, or NotFound.

    A member: their own delegation only. The facilitator: absent stakeholders only
    (whose public red lines they enter); never a delegation's private position.
    """
    if place.role == MEMBER:
        own = access.own_delegation(place)
        if delegation_id not in (None, own):
            raise NotFound()
        target = own
    elif place.role == FACILITATOR and delegation_id is not None:
        target = delegation_id
    else:
        raise NotFound()
    row = access.owned(s, place, DelegationRow, target)
    if place.role == FACILITATOR and row.role != "absent":
        raise NotFound()
    if row.role == "delegation":
        dialogue = repo.get(s, DialogueRow, place.dialogue_id)
        if dialogue is not None and dialogue.blind:
            raise BlindPosition()
    return row


class BlindPosition(NotAllowedNow):
    """A delegation's position in a blind dialogue: it stays on the delegation's node."""

    def __init__(self) -> None:
        super().__init__(
            t_(
                "this is a blind dialogue: your delegation's position stays on its own node "
                "and is never sent to the server"
            ),
            hint=t_(
                "enter it in your node (`backchannel node`); how to set one up: "
                "“Running a blind node” in the operator's guide "
                "(docs/how-to/operator-guide.md#running-a-blind-node)"
            ),
        )


@dataclass(frozen=True)
class _Checked:
    """What a position was checked against: if all of it still holds, the check holds."""

    place: Seat
    target: DelegationRow
    round_id: str
    agenda_ct: bytes
    monotone: bool


def _check_position(
    platform: Platform,
    s: Session,
    actor: Actor,
    dialogue_id: str,
    position: Position,
    delegation_id: str | None,
) -> tuple[_Checked, DialogueKeys, RoundRow]:
    """Every check of :func:`save_position` (seat, target, agenda, round, red lines)."""
    place = access.seat(s, actor, dialogue_id)
    target = _position_target(s, place, delegation_id)
    dialogue = repo.get(s, DialogueRow, dialogue_id)
    assert dialogue is not None
    keys = platform.keys(s, dialogue_id)
    agenda = read_agenda(keys, dialogue)
    check_position(agenda, position)
    row = current_round(s, dialogue_id)
    if row.state != "draft":
        raise NotAllowedNow(
            t_(
                "round {number} is {state}: positions are frozen",
                number=row.number,
                state=state_name(row.state),
            ),
            hint=t_("wait for the facilitator to open the next round"),
        )
    if dialogue.monotone_red_lines and row.number > 1:
        previous = repo.rounds(s, dialogue_id)[-2]
        old = repo.position(s, previous.id, target.id)
        if old is not None:
            problems = tightened(prune(agenda, read_position(keys, old)), position)
            if problems:
                raise NotAllowedNow(
                    t_(
                        "red lines may only loosen in this dialogue: {problems}",
                        problems="; ".join(problems),
                    ),
                    hint=t_("keep or relax the red lines of the previous round"),
                )
    checked = _Checked(place, target, row.id, dialogue.agenda_ct, dialogue.monotone_red_lines)
    return checked, keys, row


def _still_holds(s: Session, checked: _Checked, actor: Actor, dialogue_id: str) -> RoundRow | None:
    """The current round if nothing the check depended on has changed since; else None.

    Positions of earlier rounds never change, so the monotone check holds as long as
    the round, the agenda and the setting are the same.
    """
    if access.seat(s, actor, dialogue_id) != checked.place:
        return None
    dialogue = repo.get(s, DialogueRow, dialogue_id)
    if dialogue is None or (dialogue.agenda_ct, dialogue.monotone_red_lines) != (
        checked.agenda_ct,
        checked.monotone,
    ):
        return None
    row = current_round(s, dialogue_id)
    return row if row.id == checked.round_id and row.state == "draft" else None


def save_position(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    position: Position,
    delegation_id: str | None = None,
) -> PositionView:
    """Record a side's position in the current draft round.

    The position is checked (seat, agenda, round state, monotone red lines) in a read
    snapshot first, so a refused position never waits for the write lock and the
    lock is held only for the write and its audit entry. Inside the write transaction
    the seat is checked again and the round and agenda are compared with what the
    check saw; if anything changed in between, every check runs again there.
    """
    with platform.view() as s:
        checked, keys, _ = _check_position(platform, s, actor, dialogue_id, position, delegation_id)
    with platform.unit() as s:
        repo.lock_dialogue(s, dialogue_id)
        row = _still_holds(s, checked, actor, dialogue_id)
        if row is None:  # something changed since the check: check again, under the lock
            checked, keys, row = _check_position(
                platform, s, actor, dialogue_id, position, delegation_id
            )
        target = checked.target
        stored = _store(s, keys, row, target.id, position, revision=1)
        platform.log(
            s,
            "position.saved",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            audience=target.id if target.role == "delegation" else "facilitator",
        )
        return PositionView(row.number, stored.revision, stored.updated_at, position)


def positions(
    platform: Platform, actor: Actor, dialogue_id: str, delegation_id: str | None = None
) -> list[PositionView]:
    """A side's positions, round by round (own side; the facilitator for absent ones)."""
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        target = _position_target(s, place, delegation_id)
        keys = platform.keys(s, dialogue_id)
        dialogue = repo.get(s, DialogueRow, dialogue_id)
        assert dialogue is not None
        agenda = read_agenda(keys, dialogue)
        numbers = {r.id: r.number for r in repo.rounds(s, dialogue_id)}
        out = []
        for row in repo.positions_of(s, dialogue_id, target.id):
            out.append(
                PositionView(
                    numbers[row.round_id],
                    row.revision,
                    row.updated_at,
                    prune(agenda, read_position(keys, row)),
                )
            )
        return sorted(out, key=lambda v: v.round_number)
