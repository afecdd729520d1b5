"""The encrypted backup file: a database snapshot sealed to an offline public key.

A backup is encrypted to the **backup public key** (X25519), whose private half lives
offline (``backchannel keys backup-init`` writes the pair): the server that makes the
backup can write it but never read it again, nor read any older one.

Layout::

    MAGIC ‖ u32 header length ‖ header (JSON) ‖ chunk ‖ chunk ‖ ... ‖ final chunk

* A fresh ephemeral X25519 key pair per backup; ``shared = X25519(ephemeral, recipient)``.
* ``key = HKDF-SHA256(shared, salt = 16 random bytes in the header, info = label ‖
  SHA-256(MAGIC ‖ header))``: the header (kind of database, schema, time, recipient)
  is bound to the key, so an edited header opens nothing.
* The payload is cut into chunks of ``chunk`` bytes, each sealed with AES-256-GCM,
  ``nonce = counter (11 bytes, big-endian) ‖ last flag (1 byte)`` (the STREAM
  construction, as in the age format): a chunk cannot be dropped, reordered or moved,
  and the final chunk (always shorter than ``chunk``, possibly empty) is marked, so a
  truncated file is detected. Each chunk is stored as ``u32 length ‖ ciphertext``.

Without the private key, :func:`check_structure` checks the framing (magic, header,
every chunk full but the last, the file ending on a chunk); with it, :func:`decrypt`
authenticates every byte.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from backchannel.errors import BackchannelError, InputError
from backchannel.messages import Message, t_

MAGIC = b"BACKCHANNEL-BACKUP\x01\n"
FORMAT = "backchannel-backup-v1"
CHUNK = 64 * 1024
TAG = 16
LABEL = b"backchannel backup v1|"
MAX_HEADER = 64 * 1024
PUBLIC_PREFIX = "backchannel-backup-public-key-v1:"
SECRET_PREFIX = "backchannel-backup-secret-key-v1:"  # noqa: S105 (a label, not a secret)


class DamagedBackup(BackchannelError):
    """A backup file is not whole: truncated, altered, or not a backup."""


class BackupKeyError(BackchannelError):
    """A backup key file is missing, unsafe, or not the key a backup was made for."""

    exit_code = 2


# ------------------------------------------------------------------ keys
def _write_new(path: Path, text: str, mode: int) -> None:
    if path.exists() or path.is_symlink():
        raise BackupKeyError(
            t_("{path} already exists", path=str(path)), hint=t_("keys are never overwritten")
        )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text + "\n")


def init_key_pair(public_path: Path, secret_path: Path) -> str:
    """Write a new backup key pair; return the public key's fingerprint.

    The secret key (mode 0600) is meant to be moved offline at once; the server keeps
    only the public key. Neither file is ever overwritten.
    """
    for path in (public_path, secret_path):
        if path.exists() or path.is_symlink():
            raise BackupKeyError(
                t_("{path} already exists", path=str(path)), hint=t_("keys are never overwritten")
            )
    secret = X25519PrivateKey.generate()
    public = secret.public_key().public_bytes_raw()
    _write_new(
        secret_path, SECRET_PREFIX + base64.b64encode(secret.private_bytes_raw()).decode(), 0o600
    )
    _write_new(public_path, PUBLIC_PREFIX + base64.b64encode(public).decode(), 0o644)
    return fingerprint(public)


def fingerprint(public: bytes) -> str:
    """A short name of a backup public key (the first 16 hex digits of its SHA-256)."""
    return hashlib.sha256(public).hexdigest()[:16]


def _read_key(path: Path, prefix: str, what: Message) -> bytes:
    if not path.is_file():
        raise BackupKeyError(
            t_("{what} {path} not found", what=what, path=str(path)),
            hint=t_("create the pair with `backchannel keys backup-init`"),
        )
    try:
        text = path.read_text(encoding="ascii").strip()
        if not text.startswith(prefix):
            raise ValueError(text[:20])
        raw = base64.b64decode(text[len(prefix) :], validate=True)
    except (ValueError, UnicodeDecodeError):
        raise BackupKeyError(t_("{path} is not a {what}", path=str(path), what=what)) from None
    if len(raw) != 32:
        raise BackupKeyError(t_("{path} is not a {what}", path=str(path), what=what))
    return raw


def read_public_key(path: Path) -> bytes:
    """The raw X25519 public key in a public key file."""
    return _read_key(path, PUBLIC_PREFIX, t_("backup public key"))


def read_secret_key(path: Path) -> bytes:
    """The raw X25519 private key in a secret key file (refused when others can read it)."""
    raw = _read_key(path, SECRET_PREFIX, t_("backup secret key"))
    if path.stat().st_mode & 0o077:
        raise BackupKeyError(
            t_("backup secret key {path} is readable by other users", path=str(path)),
            hint=t_("run `chmod 600 {path}`", path=str(path)),
        )
    return raw


# ------------------------------------------------------------------ the stream
def _file_key(shared: bytes, salt: bytes, header: bytes) -> bytes:
    info = LABEL + hashlib.sha256(MAGIC + header).digest()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(shared)


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _pieces(source: IO[bytes]) -> Iterator[tuple[bytes, bool]]:
    """The payload in chunks of :data:`CHUNK`, each with whether it is the last; the last
    is always shorter than a chunk (empty when the payload fills its chunks exactly)."""
    current = source.read(CHUNK)
    while len(current) == CHUNK:
        following = source.read(CHUNK)
        yield current, False
        current = following
    yield current, True


def encrypt(source: IO[bytes], target: IO[bytes], public: bytes, facts: dict[str, Any]) -> int:
    """Seal ``source`` into ``target`` for the holder of ``public``'s private key.

    ``facts`` (what the backup holds: kind of database, schema, time) go into the
    header in the clear and are bound to the key. Returns the payload's size in bytes.
    """
    ephemeral = X25519PrivateKey.generate()
    salt = secrets.token_bytes(16)
    header = json.dumps(
        {
            **facts,
            "format": FORMAT,
            "recipient": fingerprint(public),
            "ephemeral": base64.b64encode(ephemeral.public_key().public_bytes_raw()).decode(),
            "salt": base64.b64encode(salt).decode(),
            "chunk": CHUNK,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode("utf-8")
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
    sealer = AESGCM(_file_key(shared, salt, header))
    target.write(MAGIC + struct.pack(">I", len(header)) + header)
    size = 0
    for counter, (piece, last) in enumerate(_pieces(source)):
        sealed = sealer.encrypt(_nonce(counter, last), piece, None)
        target.write(struct.pack(">I", len(sealed)) + sealed)
        size += len(piece)
    return size


@dataclass(frozen=True)
class Header:
    """The clear header of a backup: what it holds and for which key."""

    facts: dict[str, Any]
    raw: bytes

    @property
    def recipient(self) -> str:
        """The fingerprint of the public key the backup was sealed to."""
        return str(self.facts["recipient"])


def read_header(source: IO[bytes]) -> Header:
    """Read and check the magic and the header; the source is left at the first chunk."""
    if source.read(len(MAGIC)) != MAGIC:
        raise DamagedBackup(t_("not a Backchannel backup (its first bytes are not the format's)"))
    length_bytes = source.read(4)
    if len(length_bytes) != 4:
        raise DamagedBackup(t_("the backup ends inside its header"))
    (length,) = struct.unpack(">I", length_bytes)
    if length > MAX_HEADER:
        raise DamagedBackup(
            t_(
                "the backup's header claims {length} bytes (at most {most})",
                length=length,
                most=MAX_HEADER,
            )
        )
    raw = source.read(length)
    try:
        facts = json.loads(raw)
        if not isinstance(facts, dict) or facts.get("format") != FORMAT:
            raise ValueError("format")
        for name in ("recipient", "ephemeral", "salt", "database"):
            if not isinstance(facts.get(name), str):
                raise ValueError(name)
        if facts.get("chunk") != CHUNK:
            raise ValueError("chunk")
    except (ValueError, UnicodeDecodeError):
        raise DamagedBackup(t_("the backup's header is damaged")) from None
    return Header(facts, raw)


def _frames(source: IO[bytes]) -> Iterator[bytes]:
    """The sealed chunks, each checked to be of a possible length."""
    while True:
        length_bytes = source.read(4)
        if not length_bytes:
            return
        if len(length_bytes) != 4:
            raise DamagedBackup(t_("the backup ends inside a chunk's length (truncated)"))
        (length,) = struct.unpack(">I", length_bytes)
        if not TAG <= length <= CHUNK + TAG:
            raise DamagedBackup(
                t_("a chunk of the backup claims an impossible length {length}", length=length)
            )
        sealed = source.read(length)
        if len(sealed) != length:
            raise DamagedBackup(t_("the backup ends inside a chunk (truncated)"))
        yield sealed


def check_structure(source: IO[bytes]) -> tuple[Header, int]:
    """The header and the number of chunks, checking the framing without any key.

    Every chunk but the last must be full and the last shorter: a file cut at a chunk
    boundary or inside a chunk is refused. Tampering inside a chunk needs the key.
    """
    header = read_header(source)
    count, last_full = 0, True
    for sealed in _frames(source):
        if not last_full:
            raise DamagedBackup(
                t_("chunk {count} of the backup is short but not the last", count=count)
            )
        last_full = len(sealed) == CHUNK + TAG
        count += 1
    if last_full:
        raise DamagedBackup(t_("the backup has no final chunk (truncated)"))
    return header, count


def decrypt(source: IO[bytes], secret: bytes) -> tuple[Header, Iterable[bytes]]:
    """The header and the payload's chunks, each authenticated before it is given out.

    The chunks are yielded lazily: a damaged chunk raises :class:`DamagedBackup` when it
    is reached, so a caller writes to a temporary place and keeps it only at the end.
    """
    header = read_header(source)
    private = X25519PrivateKey.from_private_bytes(secret)
    if fingerprint(private.public_key().public_bytes_raw()) != header.recipient:
        raise BackupKeyError(
            t_(
                "the backup was sealed to key {recipient}, not to this secret key",
                recipient=header.recipient,
            ),
            hint=t_("use the secret key whose public key was configured when it was made"),
        )
    try:
        ephemeral = X25519PublicKey.from_public_bytes(base64.b64decode(header.facts["ephemeral"]))
        salt = base64.b64decode(header.facts["salt"])
    except ValueError:
        raise DamagedBackup(t_("the backup's header is damaged")) from None
    opener = AESGCM(_file_key(private.exchange(ephemeral), salt, header.raw))

    def chunks() -> Iterator[bytes]:
        finished = False
        for counter, sealed in enumerate(_frames(source)):
            if finished:
                raise DamagedBackup(t_("the backup goes on after its final chunk"))
            last = len(sealed) < CHUNK + TAG
            try:
                yield opener.decrypt(_nonce(counter, last), sealed, None)
            except InvalidTag:
                raise DamagedBackup(
                    t_(
                        "chunk {counter} of the backup failed its integrity check (altered)",
                        counter=counter,
                    )
                ) from None
            finished = last
        if not finished:
            raise DamagedBackup(t_("the backup has no final chunk (truncated)"))

    return header, chunks()


def open_for_reading(path: Path) -> IO[bytes]:
    """The backup file opened for reading (a clear error when it is not a file)."""
    if not path.is_file():
        raise InputError(t_("backup {path} not found or not a regular file", path=str(path)))

    return path.open("rb")
