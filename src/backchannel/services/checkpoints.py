"""Signed audit checkpoints: what each seat downloads, and the operator's check against them.

The server signs the head of the audit chain at each round transition (see
:meth:`~backchannel.services.platform.Platform.log`). A seat downloads the checkpoints
of its audience as one JSON file (:func:`document`) and keeps it; the public key is on
the file and on the dialogue page, to be pinned. ``backchannel audit verify
--checkpoint FILE`` (:func:`verify_database`) then proves that the log still holds
every checkpoint of the file: each must carry a valid signature by this server's key,
and its entry must still be in the chain with the same hash.

What a checkpoint tells a side: its dialogue, round, event and time, and a hash of the
log's head. It does not carry the entry's place in the global log (format v2), which
would tell how many actions of other dialogues and sides happened between two rounds.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

from backchannel.config import Settings
from backchannel.errors import InputError
from backchannel.messages import Message, t_
from backchannel.services import access, audit_log
from backchannel.services.access import Actor
from backchannel.services.platform import Platform, SchemaOutOfDate, stored_checkpoint
from backchannel.storage import checkpoints, repo
from backchannel.storage.audit import Verification
from backchannel.storage.faults import DamagedDatabase

FILE_FORMAT = "backchannel-checkpoints-v1"
MAX_FILE_BYTES = 10_000_000


def public_key(platform: Platform) -> str:
    """The server's checkpoint public key as delegations pin it (``ed25519:<base64>``)."""
    return checkpoints.public_text(platform.signer.public)


def document(platform: Platform, actor: Actor, dialogue_id: str) -> dict[str, Any]:
    """The signed checkpoints of a dialogue that the actor's seat may see, as one file.

    Parameters
    ----------
    platform:
        The opened platform.
    actor:
        The signed-in account (it needs a seat in the dialogue).
    dialogue_id:
        The dialogue.

    Returns
    -------
    dict
        ``format``, the server's ``key``, the ``dialogue`` and its ``checkpoints``, each
        with its signed fields and ``signature`` (base64), oldest first.
    """
    with platform.view() as s:
        audiences = audit_log.audiences_of(access.seat(s, actor, dialogue_id))
        rows = repo.checkpoints(s, dialogue_id, audiences)
    public = platform.signer.public
    return {
        "format": FILE_FORMAT,
        "key": checkpoints.public_text(public),
        "dialogue": dialogue_id,
        "checkpoints": [
            {
                **stored_checkpoint(public, row),
                "signature": base64.b64encode(row.signature).decode("ascii"),
            }
            for row in rows
        ],
    }


def read_file(path: Path) -> list[dict[str, Any]]:
    """The checkpoints in a downloaded file (a one-line error when it is not one)."""
    if not path.is_file():
        raise InputError(
            t_("checkpoint file {path} not found or not a regular file", path=str(path))
        )
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(
            t_(
                "checkpoint file {path} is larger than {limit} bytes",
                path=str(path),
                limit=MAX_FILE_BYTES,
            )
        )
    try:
        found = json.loads(path.read_bytes())
        if not isinstance(found, dict) or found.get("format") != FILE_FORMAT:
            raise ValueError("format")
        items = found["checkpoints"]
        if not isinstance(items, list) or not all(_complete(c) for c in items):
            raise ValueError("checkpoints")
    except (ValueError, KeyError, UnicodeDecodeError):
        raise InputError(
            t_("{path} is not a checkpoint file", path=str(path)),
            hint=t_("download it from the dialogue's log page or GET …/checkpoints"),
        ) from None
    return list(items)


def _complete(item: object) -> bool:
    """Whether ``item`` has every field of its checkpoint format and a signature."""
    if not isinstance(item, dict):
        return False
    names = checkpoints.FIELDS_OF.get(str(item.get("format")))
    return names is not None and all(name in item for name in (*names, "signature"))


def _name(item: dict[str, Any]) -> Message:
    return t_(
        "checkpoint of round {round} ({event}, {at})",
        round=item["round"],
        event=item["event"],
        at=item["at"],
    )


def _signed(item: dict[str, Any]) -> bool:
    try:
        signature = base64.b64decode(str(item["signature"]), validate=True)
    except (binascii.Error, ValueError):
        return False
    return checkpoints.signature_holds(item, signature)


def screen(
    platform: Platform, items: list[dict[str, Any]]
) -> tuple[list[tuple[int | None, str]], list[Message]]:
    """The ``(seq, head)`` of the checkpoints signed by this server (``seq`` None for
    format v2, found by its hash), and a problem for each one that is forged, altered,
    or signed by another key."""
    own = checkpoints.public_text(platform.signer.public)
    expect: list[tuple[int | None, str]] = []
    problems: list[Message] = []
    for item in items:
        if not _signed(item):
            said = t_(
                "{checkpoint} has no valid signature (forged or altered)", checkpoint=_name(item)
            )
            problems.append(said)
        elif item["key"] != own:
            said = t_(
                "{checkpoint} is signed by {key}, not by this server's key {own}",
                checkpoint=_name(item),
                key=item["key"],
                own=own,
            )
            problems.append(said)
        elif not isinstance(item.get("seq", 0), int) or not isinstance(item["head"], str):
            problems.append(t_("{checkpoint} does not name an entry", checkpoint=_name(item)))
        else:
            expect.append((item.get("seq"), item["head"]))
    return expect, problems


def verify_database(
    settings: Settings, expect: list[tuple[int | None, str]], files: list[Path]
) -> Verification:
    """Open the database of ``settings`` and check its audit chain against checkpoints.

    Parameters
    ----------
    settings:
        The database, the key-encryption key and the checkpoint signing key.
    expect:
        Plain checkpoints ``(seq, hash)`` noted earlier (``--expect``).
    files:
        Checkpoint files downloaded by delegations (``--checkpoint``).

    Returns
    -------
    Verification
        ``ok``, the number of entries, the head, and every problem found: damage in the
        chain, a checkpoint not in the log (rollback, rewrite), a forged checkpoint, or
        one of another server.
    """
    items = [item for path in files for item in read_file(path)]
    try:
        platform = Platform.open(settings)
    except (DamagedDatabase, SchemaOutOfDate) as error:
        return Verification(problems=[error.whole])
    signed, problems = screen(platform, items)
    report = audit_log.verify(platform, [*expect, *signed])
    report.problems += problems
    return report
