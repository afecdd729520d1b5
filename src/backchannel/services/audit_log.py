"""The audit log: each seat's view of a dialogue's log, and the operator's check of it.

Every action writes a hash-chained audit entry (:mod:`backchannel.storage.audit`) in
the same transaction; this is its reading side. Entries shared with everyone (rounds,
evaluations) show to every seat, so every evaluation is seen by both sides; a side
also sees its own entries, the facilitator every entry of the dialogue. The operator
re-checks the whole chain with :func:`verify`, or :func:`verify_database` from the
settings (``backchannel audit verify``), where a database too damaged to open is a
problem of the report like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backchannel.config import Settings
from backchannel.errors import InputError
from backchannel.services import access
from backchannel.services.access import MEMBER, Actor
from backchannel.services.platform import Platform, SchemaOutOfDate
from backchannel.storage import audit, repo
from backchannel.storage.audit import Verification
from backchannel.storage.faults import DamagedDatabase
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
        raise InputError("a log page needs a limit and a 'before' of at least 1")
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        if place.is_facilitator:
            audiences: list[str] | None = None
        elif place.role == MEMBER:
            audiences = ["all", access.own_delegation(place)]
        else:
            audiences = ["all"]
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


def verify(platform: Platform, expect: tuple[int, str] | None = None) -> Verification:
    """Re-check the whole audit chain: edits, deletions, insertions, reordering, truncation.

    Parameters
    ----------
    platform:
        The opened platform (its audit key checks the entries' MACs).
    expect:
        A checkpoint ``(seq, hash)`` noted earlier, which the chain must still contain.

    Returns
    -------
    Verification
        ``ok``, the number of entries, the head, and every problem found.
    """
    with platform.unit() as s:
        return audit.verify(s, platform.vault.audit_key(), expect)


def verify_database(settings: Settings, expect: tuple[int, str] | None = None) -> Verification:
    """Open the database of ``settings`` and re-check its audit chain.

    A database that cannot be opened for what it holds (not a database, corrupt, tables
    lost, no schema) is reported as a problem, like damage inside the log; a wrong key,
    unsafe settings or files are errors, as for every command.

    Parameters
    ----------
    settings:
        The database and the key-encryption key.
    expect:
        A checkpoint ``(seq, hash)`` noted earlier, which the chain must still contain.

    Returns
    -------
    Verification
        ``ok``, the number of entries, the head, and every problem found.
    """
    try:
        return verify(Platform.open(settings), expect)
    except (DamagedDatabase, SchemaOutOfDate) as error:
        return Verification(problems=[str(error)])
