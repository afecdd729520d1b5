"""Non-papers: deniable, unattributed drafts that destroy themselves.

* The facilitator circulates a non-paper to every side; a side passes one to the facilitator
  only. Nobody's name is on it: readers see only whether it came from the facilitator, and
  the side that passed one sees that it is its own. Observers never see non-papers.
* Each expires after a chosen number of days (1 to :data:`MAX_DAYS`). Its text is sealed under
  its own random key, kept only sealed under the dialogue's key; expiry deletes the row, key
  and text together (``secure_delete`` overwrites them) and empties SQLite's write-ahead log,
  so no copy of the text or of its key is left in the database files. The log keeps only
  that the non-paper existed (``nonpaper.circulated``, ``nonpaper.expired``).
* Expiry happens on access (every read first destroys what is due) and by the sweep
  ``backchannel nonpapers expire``, which an operator runs from cron or a systemd timer: a
  non-paper nobody opens is destroyed on time even while the server is stopped, and no
  server process has to run a background thread for it.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from backchannel.errors import FieldError, NotFound
from backchannel.messages import t_
from backchannel.services import access
from backchannel.services.access import FACILITATOR, MEMBER, Actor, Seat
from backchannel.services.platform import Platform
from backchannel.storage import nonpapers as stored
from backchannel.storage import repo
from backchannel.storage.tables import NonPaperRow, as_utc, utcnow
from backchannel.storage.vault import KEY_BYTES, Vault, associated_data

MAX_DAYS = 90
MAX_TEXT = 20_000


@dataclass(frozen=True)
class NonPaperView:
    """A non-paper as a seat may read it (no author: only whether the facilitator issued it,
    and whether it is the reader's own)."""

    id: str
    text: str
    created_at: datetime
    expires_at: datetime
    from_facilitator: bool
    mine: bool


def _audience(origin: str) -> str:
    return "all" if origin == FACILITATOR else origin


def _aad(row: NonPaperRow) -> bytes:
    return associated_data("non_papers", "body", row.id, row.dialogue_id, 1)


def circulate(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    text: str,
    days: int,
    *,
    now: datetime | None = None,
) -> str:
    """Circulate a non-paper (facilitator: to every side; a member: to the facilitator);
    its id. It expires ``days`` days from ``now``."""
    body = text.strip()
    with platform.unit() as s:
        place = access.seat(s, actor, dialogue_id)
        if place.role == MEMBER:
            origin = access.own_delegation(place)
        else:
            access.require(place, FACILITATOR)
            origin = FACILITATOR
        if not body:
            raise FieldError("text", t_("the non-paper is empty"), hint=t_("write its text"))
        if len(body) > MAX_TEXT:
            raise FieldError("text", t_("the non-paper is longer than {n} characters", n=MAX_TEXT))
        if not 1 <= days <= MAX_DAYS:
            raise FieldError(
                "days",
                t_("a non-paper lasts 1 to {n} days", n=MAX_DAYS),
                hint=t_("choose how many days it stays readable"),
            )
        moment = now or utcnow()
        own_key = secrets.token_bytes(KEY_BYTES)
        row = NonPaperRow(
            dialogue_id=dialogue_id,
            origin=origin,
            created_at=moment,
            expires_at=moment + timedelta(days=days),
            key_ct=b"",
            body_sealed=b"",
        )
        repo.add(s, row)
        keys = platform.keys(s, dialogue_id)
        row.key_ct = keys.seal("non_papers", "key", row.id, base64.b64encode(own_key).decode())
        row.body_sealed = Vault.seal(own_key, _aad(row), body.encode("utf-8"))
        platform.log(
            s,
            "nonpaper.circulated",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            target=row.id,
            audience=_audience(origin),
            detail={"days": days},
        )
        return row.id


def expire(
    platform: Platform, *, now: datetime | None = None, dialogue_id: str | None = None
) -> int:
    """Destroy every non-paper whose time is up (of one dialogue, or all); how many.

    Each row goes with its sealed key and text in one transaction with its log entry; then
    the write-ahead log is emptied into the database file, so no old page keeps them.
    """
    moment = now or utcnow()
    with platform.view() as s:
        if not stored.due(s, moment, dialogue_id):
            return 0
    with platform.unit() as s:
        found = stored.due(s, moment, dialogue_id)
        for row in found:
            platform.log(
                s,
                "nonpaper.expired",
                dialogue_id=row.dialogue_id,
                target=row.id,
                audience=_audience(row.origin),
            )
            repo.remove(s, row)
        count = len(found)
    stored.flush_to_disk(platform.engine)
    return count


def _visible(place: Seat, row: NonPaperRow) -> bool:
    if place.is_facilitator:
        return True
    if place.role != MEMBER:
        return False
    return row.origin in (FACILITATOR, place.delegation_id)


def nonpapers(
    platform: Platform, actor: Actor, dialogue_id: str, *, now: datetime | None = None
) -> list[NonPaperView]:
    """The non-papers the seat may read, oldest first, after destroying those that are due
    (facilitator and members; an observer gets NotFound)."""
    moment = now or utcnow()
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        if place.role not in (FACILITATOR, MEMBER):
            raise NotFound()
    expire(platform, now=moment, dialogue_id=dialogue_id)
    out = []
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        keys = platform.keys(s, dialogue_id)
        for row in stored.of_dialogue(s, dialogue_id):
            if not _visible(place, row) or as_utc(row.expires_at) <= moment:
                continue
            own_key = base64.b64decode(keys.open("non_papers", "key", row.id, row.key_ct))
            text = Vault.open(own_key, _aad(row), row.body_sealed).decode("utf-8")
            mine = row.origin == (FACILITATOR if place.is_facilitator else place.delegation_id)
            out.append(
                NonPaperView(
                    row.id,
                    text,
                    as_utc(row.created_at),
                    as_utc(row.expires_at),
                    row.origin == FACILITATOR,
                    mine,
                )
            )
    return out
