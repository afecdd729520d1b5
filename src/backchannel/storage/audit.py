"""The hash-chained audit log, written in the same transaction as each action.

Entry ``n`` stores ``h_n = SHA-256(0x00 ‖ h_{n-1} ‖ canonical JSON of the entry)`` with
``h_0`` 64 zeros, and ``mac_n = HMAC-SHA256(k, h_n)`` with ``k`` derived from the
key-encryption key (so someone holding only the database cannot re-forge the chain
after editing it). The head ``(n, h_n)`` is kept, MACed, in the ``meta`` table and
locked while appending, so entries are strictly sequential on SQLite and PostgreSQL.

:func:`verify` detects an edited, deleted, inserted or reordered entry, a truncated
tail (the head no longer matches) and, given a checkpoint ``(n, h_n)`` a delegation
noted earlier, a rollback to an older copy of the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backchannel.storage.tables import AuditEntryRow, MetaRow, iso_utc, utcnow

GENESIS = "0" * 64
HEAD_KEY = "audit_head"


def _canonical(entry: AuditEntryRow) -> bytes:
    body = {
        "seq": entry.seq,
        "at": iso_utc(entry.at),
        "dialogue": entry.dialogue_id,
        "actor": entry.actor_id,
        "action": entry.action,
        "target": entry.target,
        "audience": entry.audience,
        "detail": entry.detail,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _hash(prev: str, entry: AuditEntryRow) -> str:
    return hashlib.sha256(b"\x00" + bytes.fromhex(prev) + _canonical(entry)).hexdigest()


def _mac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode("ascii"), hashlib.sha256).hexdigest()


def _head_value(key: bytes, seq: int, digest: str) -> bytes:
    text = f"{seq}:{digest}"
    return f"{text}:{_mac(key, 'head|' + text)}".encode("ascii")


_HEAD = (
    select(MetaRow).where(MetaRow.key == HEAD_KEY).with_for_update()
)  # built once: it is constant


def append(
    session: Session,
    key: bytes,
    action: str,
    *,
    dialogue_id: str | None = None,
    actor_id: str | None = None,
    target: str | None = None,
    audience: str = "all",
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntryRow:
    """Append one entry inside the caller's transaction (never commits by itself)."""
    head = session.execute(_HEAD).scalar()
    if head is None:
        seq, prev = 0, GENESIS
        head = MetaRow(key=HEAD_KEY, value=b"")
        session.add(head)
    else:
        seq_text, prev, _ = head.value.decode("ascii").split(":")
        seq = int(seq_text)
    entry = AuditEntryRow(
        seq=seq + 1,
        at=at or utcnow(),
        dialogue_id=dialogue_id,
        actor_id=actor_id,
        action=action,
        target=target,
        audience=audience,
        detail=json.dumps(detail or {}, sort_keys=True, separators=(",", ":")),
        prev_hash=prev,
    )
    entry.hash = _hash(prev, entry)
    entry.mac = _mac(key, entry.hash)
    session.add(entry)
    head.value = _head_value(key, entry.seq, entry.hash)
    return entry


@dataclass
class Verification:
    """Outcome of :func:`verify`: entries checked, the head, and every problem found."""

    entries: int = 0
    head: tuple[int, str] = (0, GENESIS)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the chain is intact."""
        return not self.problems


def verify(session: Session, key: bytes, expect: tuple[int, str] | None = None) -> Verification:
    """Re-check the whole chain; ``expect`` is a checkpoint ``(seq, hash)`` noted earlier."""
    report = Verification()
    prev, expected_seq = GENESIS, 1
    seen: dict[int, str] = {}
    for entry in session.execute(select(AuditEntryRow).order_by(AuditEntryRow.seq)).scalars():
        report.entries += 1
        if entry.seq != expected_seq:
            report.problems.append(f"entry {expected_seq} is missing (next is {entry.seq})")
        if entry.prev_hash != prev:
            report.problems.append(f"entry {entry.seq} does not follow the entry before it")
        if _hash(entry.prev_hash, entry) != entry.hash:
            report.problems.append(f"entry {entry.seq} was altered (its hash does not match)")
        if not hmac.compare_digest(_mac(key, entry.hash), entry.mac):
            report.problems.append(f"entry {entry.seq} has no valid MAC (forged or re-hashed)")
        prev, expected_seq = entry.hash, entry.seq + 1
        seen[entry.seq] = entry.hash
        report.head = (entry.seq, entry.hash)
    head = session.get(MetaRow, HEAD_KEY)
    if head is None:  # every opened database has one: its first entry is written at once
        report.problems.append(
            "the log's recorded head is missing (the log was truncated or deleted)"
        )
    elif head.value != _head_value(key, *report.head):
        report.problems.append("the log's recorded head does not match its last entry (truncated)")
    if expect is not None and seen.get(expect[0], GENESIS if expect[0] == 0 else None) != expect[1]:
        report.problems.append(
            f"checkpoint {expect[0]}:{expect[1][:12]}… is not in this log (rolled back or forked)"
        )
    return report
