"""The audit log: each seat's view of a dialogue's log, and the operator's check of it.

Every action writes a hash-chained audit entry (:mod:`backchannel.storage.audit`) in
the same transaction; this is its reading side. Entries shared with everyone (rounds,
evaluations) show to every seat, so every evaluation is seen by both sides; a side
also sees its own entries, the facilitator every entry of the dialogue. The operator
re-checks the whole chain with :func:`verify`, or from the settings and against signed
checkpoints with :func:`backchannel.services.checkpoints.verify_database` (``backchannel
audit verify``), where a database too damaged to open is a problem of the report like
any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from backchannel.errors import InputError
from backchannel.messages import t_
from backchannel.services import access
from backchannel.services.access import MEMBER, Actor, Seat
from backchannel.services.platform import Platform
from backchannel.storage import audit, repo
from backchannel.storage.audit import Verification
from backchannel.storage.tables import as_utc

LOG_PAGE = 100
"""Log entries a page shows (the API's default ``limit``)."""


@dataclass(frozen=True)
class LogLine:
    """One audit entry as a seat may read it."""

    seq: int
    at: datetime
    action: str
    mine: bool


def audiences_of(place: Seat) -> list[str] | None:
    """The audiences whose entries (and checkpoints) a seat reads: the facilitator all of
    them (None), a member the shared ones and the own side's, an observer the shared."""
    if place.is_facilitator:
        return None
    if place.role == MEMBER:
        return ["all", access.own_delegation(place)]
    return ["all"]


def entries(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    *,
    limit: int | None = None,
    before: int | None = None,
) -> list[LogLine]:
    """The dialogue's log as the seat may read it: shared entries, plus the own side's.

    Newest first; the ``limit`` newest (all when None) of those numbered below
    ``before``. The facilitator sees the global sequence numbers (for checkpoints); a
    side sees its entries numbered 1, 2, ... so that gaps cannot count what it may not
    see, and pages by those numbers.
    """
    if (limit is not None and limit < 1) or (before is not None and before < 1):
        raise InputError(t_("a log page needs a limit and a 'before' of at least 1"))

    with platform.view() as s:
        audiences = audiences_of(access.seat(s, actor, dialogue_id))
        if audiences is None:
            found = repo.audit_entries(s, dialogue_id, None, limit=limit, before_seq=before)
            numbers = [seq for seq, *_ in found]
        else:
            total = repo.audit_count(s, dialogue_id, audiences)
            skip = 0 if before is None else max(0, total - before + 1)
            found = repo.audit_entries(s, dialogue_id, audiences, limit=limit, offset=skip)
            numbers = list(range(total - skip, total - skip - len(found), -1))
    me = actor.user_id
    return [
        LogLine(number, as_utc(at), action, actor_id == me)
        for number, (_, at, action, actor_id) in zip(numbers, found, strict=True)
    ]


def verify(platform: Platform, expect: Sequence[tuple[int | None, str]] = ()) -> Verification:
    """Re-check the whole audit chain: edits, deletions, insertions, reordering, truncation.

    Parameters
    ----------
    platform:
        The opened platform (its audit key checks the entries' MACs).
    expect:
        Checkpoints ``(seq, hash)`` noted earlier, which the chain must still contain.

    Returns
    -------
    Verification
        ``ok``, the number of entries, the head, and every problem found.
    """
    with platform.unit() as s:
        return audit.verify(s, platform.audit_key, expect)
