"""Readiness: which delegation has saved its position in the current round.

The facilitator sees, per delegation at the table, only whether a position was saved in
this round (or carried over unchanged from the round before, or is missing), when, and
which issues it left without any rating: never a rating, a red line, a walk-away level, a
note or how often it was saved. The lock and evaluate steps use it to warn about
incomplete positions before the facilitator acts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from backchannel.services import access
from backchannel.services.access import Actor
from backchannel.services.dialogues import name_of, read_agenda
from backchannel.services.platform import Platform
from backchannel.services.positions import read_position
from backchannel.storage import repo
from backchannel.storage.tables import DialogueRow, as_utc


class Saved(str, Enum):
    """Where a delegation's position for the current round stands."""

    SAVED = "saved"
    CARRIED = "carried over"
    MISSING = "missing"


@dataclass(frozen=True)
class DelegationReadiness:
    """One delegation's readiness in the current round."""

    delegation_id: str
    name: str
    saved: Saved
    at: datetime | None
    unrated: list[str]
    """Names of the issues it gave no rating at all, in agenda order."""

    @property
    def complete(self) -> bool:
        """Whether it saved (or kept) a position that rates every issue."""
        return self.saved is not Saved.MISSING and not self.unrated


@dataclass(frozen=True)
class Readiness:
    """The current round's readiness (``round_number`` None: no round yet)."""

    round_number: int | None
    delegations: list[DelegationReadiness]

    @property
    def all_saved(self) -> bool:
        """Whether every delegation has a position in the round."""
        return self.round_number is not None and all(
            d.saved is not Saved.MISSING for d in self.delegations
        )

    @property
    def incomplete(self) -> list[DelegationReadiness]:
        """The delegations whose position is missing or leaves issues unrated."""
        return [d for d in self.delegations if not d.complete]


def readiness(platform: Platform, actor: Actor, dialogue_id: str) -> Readiness:
    """Per delegation at the table: saved in this round or not, when, issues unrated
    (facilitator only)."""
    with platform.view() as s:
        access.facilitator(s, actor, dialogue_id)
        found = repo.rounds(s, dialogue_id)
        if not found:
            return Readiness(None, [])
        current = found[-1]
        dialogue = repo.get(s, DialogueRow, dialogue_id)
        assert dialogue is not None
        keys = platform.keys(s, dialogue_id)
        agenda = read_agenda(keys, dialogue)
        out = []
        for d in repo.delegations(s, dialogue_id):
            if d.role != "delegation":
                continue
            row = repo.position(s, current.id, d.id)
            if row is None:
                out.append(DelegationReadiness(d.id, name_of(keys, d), Saved.MISSING, None, []))
                continue
            ratings = read_position(keys, row).ratings
            unrated = [
                i.name for i in agenda.issues if not set(ratings.get(i.id, {})) & set(i.options)
            ]
            state = Saved.SAVED if row.revision > 0 else Saved.CARRIED
            out.append(
                DelegationReadiness(d.id, name_of(keys, d), state, as_utc(row.updated_at), unrated)
            )
        return Readiness(current.number, out)
