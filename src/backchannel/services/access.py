"""The one authorisation choke point: who may do what in which dialogue.

Every service that touches a dialogue starts with :func:`seat`, which loads the
caller's membership *by (dialogue, user)*; a dialogue the caller is not part of is
:class:`~backchannel.errors.NotFound`, exactly like one that does not exist.
:func:`require` then checks the role; a role that may not see an object also gets
``NotFound``, so a forbidden object answers exactly like a missing one. Objects
inside a dialogue are always loaded through :func:`owned`, which checks that they
belong to the seat's dialogue (and delegation, for private ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from backchannel.errors import EnrolmentNeeded, NotFound
from backchannel.messages import t_
from backchannel.storage import repo
from backchannel.storage.db import Session
from backchannel.storage.tables import Base

FACILITATOR, MEMBER, OBSERVER = "facilitator", "member", "observer"


class Track(str, Enum):
    """A delegation member's background."""

    SERVING = "serving official"
    FORMER = "former official"
    EXPERT = "expert"


@dataclass(frozen=True)
class Actor:
    """A signed-in user."""

    user_id: str
    username: str
    display_name: str


@dataclass(frozen=True)
class Seat:
    """An actor's place in one dialogue."""

    actor: Actor
    dialogue_id: str
    member_id: str
    role: str
    delegation_id: str | None

    @property
    def is_facilitator(self) -> bool:
        """Whether the seat runs the dialogue."""
        return self.role == FACILITATOR


def seat(s: Session, actor: Actor, dialogue_id: str) -> Seat:
    """The actor's seat in the dialogue, or NotFound.

    A dialogue that requires two-factor sign-in of every seat gives a seat whose account
    has not set it up :class:`~backchannel.errors.EnrolmentNeeded` instead (only to its
    own seats: anyone else still gets NotFound).
    """
    found = repo.seat(s, dialogue_id, actor.user_id)
    if found is None:
        raise NotFound()
    if found.mfa_required and not found.mfa_enabled:
        raise EnrolmentNeeded(t_("this dialogue requires two-factor sign-in of every seat"))
    return Seat(actor, dialogue_id, found.member_id, found.role, found.delegation_id)


def require(place: Seat, *roles: str) -> None:
    """NotFound unless the seat has one of ``roles``."""
    if place.role not in roles:
        raise NotFound()


def facilitator(s: Session, actor: Actor, dialogue_id: str) -> Seat:
    """The actor's seat in the dialogue if they facilitate it, else NotFound."""
    place = seat(s, actor, dialogue_id)
    require(place, FACILITATOR)
    return place


RowT = TypeVar("RowT", bound=Base)


def owned(
    s: Session, place: Seat, table: type[RowT], key: str, *, delegation: str | None = None
) -> RowT:
    """A row of the seat's dialogue (and of ``delegation`` when given), or NotFound."""
    row = repo.get(s, table, key)
    if row is None or getattr(row, "dialogue_id", None) != place.dialogue_id:
        raise NotFound()
    if delegation is not None and getattr(row, "delegation_id", None) != delegation:
        raise NotFound()
    return row


def own_delegation(place: Seat) -> str:
    """The seat's delegation (a member's); NotFound for any other role."""
    if place.role != MEMBER or place.delegation_id is None:
        raise NotFound()
    return place.delegation_id
