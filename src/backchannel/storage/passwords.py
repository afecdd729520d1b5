"""Password hashing with Argon2id (argon2-cffi); a dummy verify keeps timing uniform."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 128


@lru_cache(maxsize=4)
def _hasher(memory_kib: int) -> PasswordHasher:
    return PasswordHasher(memory_cost=memory_kib)


def hash_password(password: str, memory_kib: int = 65536) -> str:
    """The PHC string of an Argon2id hash (argon2-cffi defaults: t=3, p=4)."""
    return _hasher(memory_kib).hash(password)


def verify_password(stored: str | None, password: str, memory_kib: int = 65536) -> bool:
    """Whether ``password`` matches; with ``stored`` None a dummy hash is checked (same cost)."""
    hasher = _hasher(memory_kib)
    target = stored if stored is not None else _dummy(memory_kib)
    try:
        hasher.verify(target, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None


def needs_rehash(stored: str, memory_kib: int = 65536) -> bool:
    """Whether the hash was made with other parameters than today's."""
    return _hasher(memory_kib).check_needs_rehash(stored)


@lru_cache(maxsize=4)
def _dummy(memory_kib: int) -> str:
    return _hasher(memory_kib).hash("no such account: timing stays the same")
