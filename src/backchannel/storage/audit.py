"""The hash-chained audit log, written in the same transaction as each action.

Entry ``n`` stores ``h_n = SHA-256(0x00 ‖ h_{n-1} ‖ canonical JSON of the entry)`` with
``h_0`` 64 zeros, and ``mac_n = HMAC-SHA256(k, h_n)`` with ``k`` a key kept wrapped by the
key-encryption key (so someone holding only the database cannot re-forge the chain
after editing it). The head ``(n, h_n)`` is kept, MACed, in the ``meta`` table and
locked while appending, so entries are strictly sequential on SQLite and PostgreSQL.

:func:`verify` detects an edited, deleted, inserted or reordered entry, a truncated
tail (the head no longer matches) and, given a checkpoint ``(n, h_n)`` a delegation
noted earlier (signed checkpoints, :mod:`backchannel.storage.checkpoints`), a rollback
to an older copy of the database or a history rewritten after them. It reads the rows as
stored, so damage beneath the chain (a value of the wrong type, a NULL, a lost table or
column) is a problem it reports, never an exception.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Dialect, inspect, select, text
from sqlalchemy.orm import Session

from backchannel.messages import Message, t_, t_n
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
    problems: list[Message] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the chain is intact."""
        return not self.problems


COLUMNS = (
    "seq",
    "at",
    "dialogue_id",
    "actor_id",
    "action",
    "target",
    "audience",
    "detail",
    "prev_hash",
    "hash",
    "mac",
)
"""The audit table's columns, every one of which :func:`verify` checks."""
_NULLABLE = frozenset({"dialogue_id", "actor_id", "target"})
_DIGESTS = frozenset({"prev_hash", "hash", "mac"})
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ENTRIES = text("SELECT * FROM audit_log ORDER BY seq")
_HEAD_VALUE = text("SELECT value FROM meta WHERE key = :key")


def _shown(value: object) -> Message:
    """A stored value described for a problem line: its type, and short text escaped."""
    if value is None:
        return t_("NULL")
    if isinstance(value, bytes | bytearray | memoryview):
        return t_n("a BLOB of {n} byte", "a BLOB of {n} bytes", len(bytes(value)))
    if isinstance(value, str):
        return t_("the text {text}", text=repr(value[:24]) + ("…" if len(value) > 24 else ""))
    if isinstance(value, int | float):
        return t_("the number {number}", number=repr(value))
    return t_("a value of type {kind}", kind=type(value).__name__)


def _time(value: object, dialect: Dialect) -> tuple[datetime | None, bool]:
    """The moment a stored ``at`` holds (None when it holds none), and whether it is in
    the exact form the log writes (SQLite keeps text; PostgreSQL a timestamp)."""
    if isinstance(value, datetime):
        return value, True
    if not isinstance(value, str):
        return None, False
    kind = AuditEntryRow.__table__.c.at.type.dialect_impl(dialect)
    parse, render = kind.result_processor(dialect, None), kind.bind_processor(dialect)
    if parse is None or render is None:
        return None, False
    try:
        moment = parse(value)
    except (ValueError, TypeError, OverflowError):
        return None, False
    return moment, render(moment) == value


def _entry(
    raw: dict[str, Any], label: str, dialect: Dialect
) -> tuple[AuditEntryRow | None, list[Message]]:
    """The entry a raw row stands for (None when a column holds what no entry can), and a
    problem per column that does not hold what the log writes: a wrong type, NULL, text
    that is not a digest, a time that is not one or not in the log's form."""
    problems: list[Message] = []

    def wrong(column: str, wanted: Message) -> None:
        problems.append(
            t_(
                "entry {label}: {column} holds {value}, not {wanted}",
                label=label,
                column=column,
                value=_shown(raw[column]),
                wanted=wanted,
            )
        )

    seq = raw["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool):
        wrong("seq", t_("a whole number"))
    moment, exact = _time(raw["at"], dialect)
    if moment is None:
        wrong("at", t_("a time"))
    for column in COLUMNS[2:]:
        value = raw[column]
        if value is None and column in _NULLABLE:
            continue
        if not isinstance(value, str):
            wrong(column, t_("text"))
        elif column in _DIGESTS and not _HEX64.fullmatch(value):
            wrong(column, t_("a SHA-256 digest in hex"))
    if problems or moment is None:
        return None, problems
    if not exact:  # readable, but not as written: hashed as read, and named
        wrong("at", t_("a time in the form the log writes"))
    return AuditEntryRow(seq=seq, at=moment, **{c: raw[c] for c in COLUMNS[2:]}), problems


def _head(connection: Connection) -> object:
    """The raw value of the log's recorded head (None when there is none)."""
    return connection.execute(_HEAD_VALUE, {"key": HEAD_KEY}).scalar()


def verify(
    session: Session, key: bytes, expect: Sequence[tuple[int | None, str]] = ()
) -> Verification:
    """Re-check the whole chain; ``expect`` are checkpoints ``(seq, hash)`` noted earlier
    (``seq`` None: the entry with that hash, wherever it is).

    The rows are read as stored, without the ORM's conversions, so that any damage (a
    value of the wrong type, NULL, a missing table or column, a time or digest that is
    not one) is a problem in the report, never an exception.
    """
    report = Verification()
    connection = session.connection()
    tables = set(inspect(connection).get_table_names())
    if "audit_log" not in tables:
        report.problems.append(t_("the audit log's table audit_log is missing"))
        return report
    rows = connection.execute(_ENTRIES)
    names = set(rows.keys())
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        rows.close()
        report.problems.append(
            t_("the audit log's table lacks the columns {columns}", columns=", ".join(missing))
        )
        return report
    prev: str | None = GENESIS
    expected_seq = 1
    seen: dict[int, str] = {}
    for position, row in enumerate(rows.mappings(), start=1):
        report.entries += 1
        raw = dict(row)
        seq = raw["seq"]
        label = str(seq) if isinstance(seq, int) else f"{expected_seq} (row {position})"
        entry, problems = _entry(raw, label, connection.dialect)
        report.problems += problems
        if entry is None:  # unreadable: the chain goes on from what it claims
            digest = raw["hash"]
            prev = digest if isinstance(digest, str) and _HEX64.fullmatch(digest) else None
            expected_seq = seq + 1 if isinstance(seq, int) else expected_seq + 1
            continue
        _check(report, key, entry, expected_seq, prev)
        prev, expected_seq = entry.hash, entry.seq + 1
        seen[entry.seq] = entry.hash
        report.head = (entry.seq, entry.hash)
    head = _head(connection) if "meta" in tables else None
    if head is None:  # every opened database has one: its first entry is written at once
        report.problems.append(
            t_("the log's recorded head is missing (the log was truncated or deleted)")
        )
    elif not isinstance(head, bytes) or head != _head_value(key, *report.head):
        report.problems.append(
            t_("the log's recorded head does not match its last entry (truncated)")
        )
    hashes = set(seen.values()) if any(seq is None for seq, _ in expect) else set()
    for seq, digest in expect:
        found = digest in hashes if seq is None else seen.get(seq, _genesis(seq)) == digest
        if not found:
            where = "" if seq is None else f"{seq}:"
            report.problems.append(
                t_(
                    "checkpoint {checkpoint}… is not in this log (rolled back or forked)",
                    checkpoint=f"{where}{digest[:12]}",
                )
            )
    return report


def _genesis(seq: int) -> str | None:
    """The hash before the first entry, which checkpoint 0 names."""
    return GENESIS if seq == 0 else None


def _check(
    report: Verification, key: bytes, entry: AuditEntryRow, expected_seq: int, prev: str | None
) -> None:
    """The chain's checks of one readable entry: its place, its link, its hash, its MAC."""
    if entry.seq != expected_seq:
        said = t_("entry {seq} is missing (next is {next})", seq=expected_seq, next=entry.seq)
        report.problems.append(said)
    if entry.prev_hash != prev:
        said = t_("entry {seq} does not follow the entry before it", seq=entry.seq)
        report.problems.append(said)
    if _hash(entry.prev_hash, entry) != entry.hash:
        said = t_("entry {seq} was altered (its hash does not match)", seq=entry.seq)
        report.problems.append(said)
    if not hmac.compare_digest(_mac(key, entry.hash), entry.mac):
        said = t_("entry {seq} has no valid MAC (forged or re-hashed)", seq=entry.seq)
        report.problems.append(said)
