"""What the overview page shows beside the dialogue: its checklist, the next meeting, the
facilitator's readiness panel and pending invitations (read in one place for the page and
its errors)."""

from __future__ import annotations

from typing import Any

from backchannel.services import (
    checklist,
    computations,
    invitations,
    meetings,
    nodes,
    positions,
    readiness,
    releases,
    stated,
)
from backchannel.services.access import FACILITATOR, MEMBER
from backchannel.services.accounts import Current
from backchannel.services.dialogues import DialogueView
from backchannel.services.platform import Platform
from backchannel.services.rounds import RoundView
from backchannel.web.deps import read


async def overview_context(
    platform: Platform, current: Current, view: DialogueView, found: list[RoundView]
) -> dict[str, Any]:
    """The checklist (``steps``), absent stakeholders' public red lines (``stated``), the
    next meeting the seat may see (``next_meeting``), and for the facilitator ``ready`` and
    ``pending``."""
    actor, dialogue_id = current.actor, view.id
    released = await read(platform, releases.released_to_me, platform, actor, dialogue_id)
    public = await read(platform, stated.stated_red_lines, platform, actor, dialogue_id)
    coming = await read(platform, meetings.next_meeting, platform, actor, dialogue_id)
    shared = {"stated": public, "next_meeting": coming}
    if view.seat.role == FACILITATOR:
        ready = await read(platform, readiness.readiness, platform, actor, dialogue_id)
        pending = await read(platform, invitations.pending, platform, actor, dialogue_id)
        blind = (
            await read(platform, computations.progress, platform, actor, dialogue_id)
            if view.blind
            else None
        )
        steps = checklist.facilitator_steps(view, found, ready, pending, released, blind)
        return {"steps": steps, "ready": ready, "pending": pending, **shared}
    if view.seat.role == MEMBER and view.blind:
        mine = await read(platform, nodes.nodes, platform, actor, dialogue_id)
        own = any(n.delegation_id == view.seat.delegation_id for n in mine)
        return {"steps": checklist.member_steps(found, [], released, own), **shared}
    if view.seat.role == MEMBER:
        history = await read(platform, positions.positions, platform, actor, dialogue_id)
        return {"steps": checklist.member_steps(found, history, released), **shared}
    return {"steps": [], **shared}
