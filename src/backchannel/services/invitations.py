"""Pending invitations: the facilitator lists the links not yet used, and revokes one.

An invitation is known by the hash of its one-time token (the token itself is shown once,
when it is made, and never stored). Revoking deletes it, so the link answers like any
mistyped one; the revocation is written to the facilitator's log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backchannel.errors import NotFound
from backchannel.services import access
from backchannel.services.access import Actor
from backchannel.services.dialogues import name_of
from backchannel.services.platform import Platform
from backchannel.storage import repo
from backchannel.storage.tables import InvitationRow, as_utc, utcnow


@dataclass(frozen=True)
class PendingInvitation:
    """An invitation not yet used (or expired, and never used)."""

    id: str
    role: str
    delegation: str | None
    track: str | None
    expires_at: datetime
    expired: bool


def pending(platform: Platform, actor: Actor, dialogue_id: str) -> list[PendingInvitation]:
    """Every invitation of the dialogue not yet used, soonest to expire first (facilitator)."""
    now = utcnow()
    with platform.view() as s:
        access.facilitator(s, actor, dialogue_id)
        keys = platform.keys(s, dialogue_id)
        names = {d.id: name_of(keys, d) for d in repo.delegations(s, dialogue_id)}
        return [
            PendingInvitation(
                row.token_hash,
                row.role,
                names.get(row.delegation_id) if row.delegation_id else None,
                row.track,
                as_utc(row.expires_at),
                as_utc(row.expires_at) < now,
            )
            for row in repo.invitations(s, dialogue_id)
        ]


def revoke(platform: Platform, actor: Actor, dialogue_id: str, invitation_id: str) -> None:
    """Revoke an invitation not yet used (facilitator); a used or unknown one is NotFound."""
    with platform.unit() as s:
        place = access.facilitator(s, actor, dialogue_id)
        row = access.owned(s, place, InvitationRow, invitation_id)
        if row.used_at is not None:
            raise NotFound()
        role = row.role
        repo.remove(s, row)
        platform.log(
            s,
            "invitation.revoked",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            audience="facilitator",
            detail={"role": role},
        )
