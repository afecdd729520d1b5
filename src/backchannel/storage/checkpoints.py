"""Signed audit checkpoints: the head of the audit chain, signed with Ed25519.

At each round transition the server signs ``(dialogue, round, event, head, time)``
where ``head`` is the hash of the audit chain's head just after the transition's entry.
The entry's place in the log (its global sequence number) is not in the checkpoint: the
difference between two of them would tell a side how many actions of every dialogue and
side happened in between; the hash alone finds the entry. (Checkpoints of format v1,
signed before, also carried ``seq``; they still verify.) The
delegations download and keep these checkpoints; later, ``backchannel audit verify
--checkpoint FILE`` proves that the log still holds every one of them. A rollback to an
older copy loses the entry a checkpoint names; a history rewritten and re-MACed (by
someone who holds the KEK) changes the hash at that place; a checkpoint forged or
edited fails its signature; one of another server carries another key.

The signing key is a file beside the key-encryption key (mode 0600, never in the
database or in backups); its public key is recorded in the database (so a replaced key
is noticed at start-up) and printed on every checkpoint file and dialogue page, for the
delegations to pin.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from backchannel.messages import t_
from backchannel.storage.vault import KeyFileError

FORMAT = "backchannel-checkpoint-v2"
FORMAT_V1 = "backchannel-checkpoint-v1"
KEY_PREFIX = "backchannel-signing-key-v1:"
PUBLIC_PREFIX = "ed25519:"
FIELDS = ("format", "key", "dialogue", "round", "event", "head", "at")
"""The signed fields of a checkpoint."""
FIELDS_OF = {
    FORMAT: FIELDS,
    FORMAT_V1: ("format", "key", "dialogue", "round", "event", "seq", "head", "at"),
}
"""The signed fields of each format a checkpoint file may hold."""


def public_text(public: bytes) -> str:
    """A public key as printed on checkpoints and pages: ``ed25519:<base64>``."""
    return PUBLIC_PREFIX + base64.b64encode(public).decode("ascii")


def signed_bytes(fields: dict[str, Any]) -> bytes:
    """The canonical form of a checkpoint's signed fields (sorted keys, no spaces).

    KeyError when ``fields`` is not of a known format or lacks one of its fields.
    """
    names = FIELDS_OF[str(fields["format"])]
    return json.dumps(
        {name: fields[name] for name in names}, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")


@dataclass(frozen=True)
class Signer:
    """The server's checkpoint signing key."""

    private: Ed25519PrivateKey = field(repr=False)

    @property
    def public(self) -> bytes:
        """The raw 32-byte public key."""
        return self.private.public_key().public_bytes_raw()

    def sign(self, fields: dict[str, Any]) -> bytes:
        """The Ed25519 signature of a checkpoint's fields."""
        return self.private.sign(signed_bytes(fields))


def signature_holds(fields: dict[str, Any], signature: bytes) -> bool:
    """Whether ``signature`` is the signature of ``fields`` by the key the fields name."""
    key = str(fields["key"])
    if not key.startswith(PUBLIC_PREFIX):
        return False
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key[len(PUBLIC_PREFIX) :]))
        public.verify(signature, signed_bytes(fields))
    except (InvalidSignature, ValueError, KeyError):
        return False
    return True


def init_signing_key(path: Path) -> None:
    """Write a new Ed25519 signing key to ``path`` (mode 0600); never overwrite."""
    if path.exists() or path.is_symlink():
        raise KeyFileError(
            t_("{path} already exists", path=str(path)),
            hint=t_("keep it: delegations pinned its key"),
        )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    raw = Ed25519PrivateKey.generate().private_bytes_raw()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(KEY_PREFIX + base64.b64encode(raw).decode("ascii") + "\n")


def read_signing_key(path: Path) -> Signer:
    """The signing key in ``path``; refused when others can read it or it is not one."""
    if not path.is_file():
        raise KeyFileError(
            t_("checkpoint signing key {path} not found", path=str(path)),
            hint=t_("restore it from where the key-encryption key is kept"),
        )
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            t_("checkpoint signing key {path} is readable by other users", path=str(path)),
            hint=t_("run `chmod 600 {path}`", path=str(path)),
        )
    try:
        text = path.read_text(encoding="ascii").strip()
        if not text.startswith(KEY_PREFIX):
            raise ValueError(text[:20])
        raw = base64.b64decode(text[len(KEY_PREFIX) :], validate=True)
        return Signer(Ed25519PrivateKey.from_private_bytes(raw))
    except (ValueError, UnicodeDecodeError):
        raise KeyFileError(t_("{path} is not a checkpoint signing key", path=str(path))) from None


def load_signer(path: Path, recorded: bytes | None) -> Signer:
    """The signing key for a database that recorded ``recorded`` as its public key.

    A database with no recorded key (new, or made before checkpoints) gets the key file,
    written when missing; one with a recorded key needs exactly that key.
    """
    if recorded is None and not path.exists():
        init_signing_key(path)
    signer = read_signing_key(path)
    if recorded is not None and signer.public != recorded:
        raise KeyFileError(
            t_(
                "checkpoint signing key {path} is not the key this database signs with",
                path=str(path),
            ),
            hint=t_("restore the signing key kept with the key-encryption key"),
        )
    return signer
