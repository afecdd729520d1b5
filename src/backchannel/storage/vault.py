"""Encryption at rest: a key-encryption key outside the database, one key per dialogue.

* The **key-encryption key** (KEK, 256 bits) lives in a key file with owner-only
  permissions (``backchannel keys init`` writes one), or is derived at start-up from a
  passphrase with Argon2id; it is never stored in the database or beside it.
* Each dialogue has a **data key** (DEK, 256 bits) stored only wrapped by the KEK
  (AES key wrap, RFC 3394). Deleting the wrapped key destroys the dialogue's data.
* Every private field is sealed with **AES-256-GCM** under its dialogue's DEK, a fresh
  96-bit nonce per write, and the row bound as associated data
  (``table|column|row id|dialogue id|key version``): a ciphertext copied to another
  row, column or dialogue does not open.

Blob layout: ``0x01 ‖ nonce (12) ‖ ciphertext ‖ tag (16)``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from backchannel.errors import BackchannelError
from backchannel.messages import t_

FORMAT = b"\x01"
KEY_BYTES = 32


class KeyFileError(BackchannelError):
    """The key-encryption key is missing, unsafe or does not match the database."""

    exit_code = 2


class TamperedData(BackchannelError):
    """A sealed field failed authentication: it was altered or moved."""


def _not_a_file(path: Path) -> KeyFileError:
    hint = t_("give the path of the key file itself, e.g. kek.key")
    if path.is_dir():
        return KeyFileError(t_("key file {path} is a folder", path=str(path)), hint=hint)
    return KeyFileError(t_("key file {path} is not a regular file", path=str(path)), hint=hint)


def init_key_file(path: Path) -> None:
    """Write a new random KEK to ``path`` (mode 0600, folder 0700); never overwrite."""
    if path.exists() and not path.is_file():
        raise _not_a_file(path)
    if path.exists():
        raise KeyFileError(
            t_("{path} already exists", path=str(path)),
            hint=t_("keep it: the data cannot be read without it"),
        )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode() + "\n")


def read_key_file(path: Path) -> bytes:
    """The KEK in ``path``; refused when the file is readable by group or others."""
    if not path.exists():
        raise KeyFileError(
            t_("key file {path} not found", path=str(path)),
            hint=t_("create one with `backchannel keys init`"),
        )
    if not path.is_file():  # a folder, or a FIFO that would block the reader
        raise _not_a_file(path)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            t_(
                "key file {path} is readable by other users (mode {mode})",
                path=str(path),
                mode=f"{stat.S_IMODE(mode):o}",
            ),
            hint=t_("run `chmod 600 {path}`", path=str(path)),
        )
    try:
        key = base64.b64decode(path.read_text(encoding="ascii").strip(), validate=True)
    except (ValueError, UnicodeDecodeError) as error:
        raise KeyFileError(t_("key file {path} is not a base64 key", path=str(path))) from error
    if len(key) != KEY_BYTES:
        raise KeyFileError(
            t_(
                "key file {path} holds {size} bytes, not {expected}",
                path=str(path),
                size=len(key),
                expected=KEY_BYTES,
            )
        )

    return key


def derive_key(passphrase: str, salt: bytes) -> bytes:
    """A KEK from a passphrase: Argon2id (t=3, m=64 MiB, p=4), 256 bits."""
    return hash_secret_raw(
        passphrase.encode("utf-8"),
        salt,
        time_cost=3,
        memory_cost=65536,
        parallelism=4,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


def associated_data(table: str, column: str, row_id: str, dialogue_id: str, version: int) -> bytes:
    """The associated data that binds a sealed field to its place."""
    return "|".join((table, column, row_id, dialogue_id, str(version))).encode("utf-8")


@dataclass(frozen=True)
class Vault:
    """Seals and opens fields; wraps and unwraps dialogue keys under the KEK."""

    kek: bytes = field(repr=False)

    def new_data_key(self) -> tuple[bytes, bytes]:
        """A fresh DEK and its wrapped form (the only form that is stored)."""
        dek = secrets.token_bytes(KEY_BYTES)
        return dek, aes_key_wrap(self.kek, dek)

    def wrap(self, key: bytes) -> bytes:
        """``key`` wrapped by the KEK (AES key wrap)."""
        return aes_key_wrap(self.kek, key)

    def unwrap(self, wrapped: bytes) -> bytes:
        """The DEK inside a wrapped key; fails when the KEK is not the one that wrapped it."""
        try:
            return aes_key_unwrap(self.kek, wrapped)
        except InvalidUnwrap as error:
            raise KeyFileError(
                t_("a dialogue key does not unwrap with this key-encryption key"),
                hint=t_("start with the key file (or passphrase) this database was made with"),
            ) from error

    @staticmethod
    def seal(dek: bytes, aad: bytes, plaintext: bytes) -> bytes:
        """AES-256-GCM ciphertext of ``plaintext`` bound to ``aad``."""
        nonce = secrets.token_bytes(12)
        return FORMAT + nonce + AESGCM(dek).encrypt(nonce, plaintext, aad)

    @staticmethod
    def open(dek: bytes, aad: bytes, blob: bytes) -> bytes:
        """The plaintext of a sealed field; :class:`TamperedData` if it was altered or moved."""
        if blob[:1] != FORMAT or len(blob) < 29:
            raise TamperedData(t_("a stored field is not in the sealed format"))
        try:
            return AESGCM(dek).decrypt(blob[1:13], blob[13:], aad)
        except InvalidTag as error:
            raise TamperedData(t_("a stored field failed its integrity check")) from error

    def check_value(self) -> bytes:
        """A value sealed under the KEK itself, stored once to recognise the right KEK."""
        return self.seal(self.kek, b"backchannel kek check", b"ok")

    def matches(self, check: bytes) -> bool:
        """Whether ``check`` (from :meth:`check_value`) was made with this KEK."""
        try:
            return self.open(self.kek, b"backchannel kek check", check) == b"ok"
        except TamperedData:
            return False

    def audit_key(self) -> bytes:
        """The key of the audit log's MACs, derived from the KEK (never stored)."""
        return hmac.new(self.kek, b"backchannel audit log v1", hashlib.sha256).digest()


def account_data(table: str, column: str, user_id: str) -> bytes:
    """The associated data that binds a sealed account secret to its user."""
    return "|".join((table, column, user_id, "account")).encode("utf-8")
