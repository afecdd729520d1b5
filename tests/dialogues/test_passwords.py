"""Argon2id: the parameters in force, rehash of older hashes, the cap on concurrent hashes."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from sqlalchemy import update

from backchannel.services import accounts
from backchannel.services.platform import Platform
from backchannel.storage import passwords
from backchannel.storage.tables import UserRow
from conftest import PASSWORD, user


def test_new_hashes_use_64_mib_two_passes_one_lane() -> None:
    """The production parameters (one real 64 MiB hash) are above the OWASP minimum."""
    stored = passwords.hash_password(PASSWORD)
    found = extract_parameters(stored)
    assert found.type is Type.ID
    assert (found.memory_cost, found.time_cost, found.parallelism) == (65536, 2, 1)
    assert found.memory_cost >= 19 * 1024 and found.time_cost >= 2  # OWASP: m >= 19 MiB, t >= 2
    assert passwords.verify_password(stored, PASSWORD)
    assert not passwords.verify_password(stored, PASSWORD + "!")
    assert not passwords.needs_rehash(stored)


def test_an_older_hash_still_signs_in_and_is_replaced(platform: Platform) -> None:
    memory = platform.settings.password_hash_memory_kib
    actor = user(platform, "veteran")
    older = PasswordHasher(memory_cost=memory, time_cost=3, parallelism=4).hash(PASSWORD)
    assert passwords.needs_rehash(older, memory)
    with platform.unit() as s:
        s.execute(update(UserRow).where(UserRow.id == actor.user_id).values(password_hash=older))
    accounts.sign_in(platform, "veteran", PASSWORD, "192.0.2.1")
    with platform.view() as s:
        now = s.get(UserRow, actor.user_id)
        assert now is not None
        stored = now.password_hash
    assert stored != older and not passwords.needs_rehash(stored, memory)
    assert (extract_parameters(stored).time_cost, extract_parameters(stored).parallelism) == (2, 1)
    accounts.sign_in(platform, "veteran", PASSWORD, "192.0.2.1")  # the new hash works too


class _Counting:
    """A stand-in hasher that records how many calls overlap."""

    def __init__(self) -> None:
        self.now = self.most = 0
        self.lock = threading.Lock()

    def _work(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.05)
        with self.lock:
            self.now -= 1

    def hash(self, password: str) -> str:
        self._work()
        return "hashed"

    def verify(self, stored: str, password: str) -> bool:
        self._work()
        return True


@pytest.mark.parametrize("call", ["hash", "verify"])
def test_no_more_hashes_run_at_once_than_there_are_cores(
    monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    counting = _Counting()
    monkeypatch.setattr(passwords, "_hasher", lambda memory_kib: counting)

    def one(_: int) -> object:
        if call == "hash":
            return passwords.hash_password(PASSWORD, 64)
        return passwords.verify_password("stored", PASSWORD, 64)

    with ThreadPoolExecutor(max_workers=passwords.CONCURRENT_HASHES + 6) as pool:
        list(pool.map(one, range(passwords.CONCURRENT_HASHES + 6)))
    assert counting.most == passwords.CONCURRENT_HASHES


def test_the_cap_is_what_the_test_above_measures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: without the cap, the same calls overlap beyond it."""
    counting = _Counting()
    monkeypatch.setattr(passwords, "_hasher", lambda memory_kib: counting)
    monkeypatch.setattr(passwords, "_slots", threading.BoundedSemaphore(100))
    workers = passwords.CONCURRENT_HASHES + 6
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda _: passwords.hash_password(PASSWORD, 64), range(workers)))
    assert counting.most > passwords.CONCURRENT_HASHES
