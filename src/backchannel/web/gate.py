"""Who is signing in, and how much unauthenticated work they may cause.

* :class:`TrustedProxies`: the client's address is the peer's, unless the peer is one
  of the configured ``trusted_proxies``; then it is the nearest address in
  ``X-Forwarded-For`` that is not a trusted proxy (uvicorn's rule, which ``backchannel
  serve`` turns on with the same list; applied twice it gives the same answer). With
  no trusted proxy a client cannot choose its address by sending a header.
* :class:`SignInGate`: an Argon2id check costs tens of milliseconds of CPU and
  ``password_hash_memory_kib`` of memory, and anyone may ask for one. At most
  ``signin_concurrency_per_source`` sign-ins of one address and ``signin_concurrency``
  password checks in all are under way at once. When every check place is taken, a
  short queue (``Settings.sign_in_queue``: two attempts per place, each waiting at most
  ``QUEUE_WAIT_S``) takes the people who arrive together, as at the start of a meeting;
  one more than the queue holds is refused at once (429), so a flood neither grows a
  queue without bound nor causes more Argon2 work than the places allow. Attempts on an
  account under the per-account back-off
  (:func:`~backchannel.services.accounts.sign_in_delay`) take turns, spaced by the
  back-off; they wait holding their address's place but no place for a check, so a
  back-off slows that account only.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from backchannel.config import Settings
from backchannel.errors import TooManyAttempts
from backchannel.messages import t_
from backchannel.services import accounts
from backchannel.services.accounts import Challenge, SignedIn
from backchannel.services.platform import Platform
from backchannel.services.throttle import BACKOFF_MAX_S
from backchannel.web.deps import read

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The configured reverse proxies, and the client address they vouch for."""

    def __init__(self, networks: Iterable[str]) -> None:
        self.networks: list[Network] = [ipaddress.ip_network(n, strict=False) for n in networks]

    def trusts(self, host: str) -> bool:
        """Whether ``host`` is one of the trusted proxies."""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client(self, peer: str, forwarded_for: list[str]) -> str:
        """The client behind ``peer``, given every ``X-Forwarded-For`` header it sent."""
        if not self.networks or not self.trusts(peer):
            return peer
        hops = [h.strip() for value in forwarded_for for h in value.split(",")]
        hops = [_host(h) for h in hops if h]
        for hop in reversed(hops):  # each proxy appends the address it saw
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer


def _host(hop: str) -> str:
    """An ``X-Forwarded-For`` entry without its port (``[v6]:port`` or ``v4:port``)."""
    if hop.startswith("[") and "]" in hop:
        return hop[1 : hop.index("]")]
    if hop.count(":") == 1:
        return hop.split(":", 1)[0]
    return hop


QUEUE_WAIT_S = 5.0
"""The longest an attempt waits for a check place before it is refused."""


class SignInGate:
    """Places for password checks per source and in all, and turns on backed-off accounts.

    Used from the event loop only (no lock needed).
    """

    def __init__(self, overall: int, per_source: int, queue: int = 0) -> None:
        self.overall = overall
        self.per_source = per_source
        self.queue = queue
        self.checking = 0
        self.waiting = 0
        self._freed = asyncio.Condition()
        self._sources: Counter[str] = Counter()
        self._turns: dict[str, asyncio.Lock] = {}
        self._queued: Counter[str] = Counter()
        self._last: dict[str, float] = {}

    @asynccontextmanager
    async def admit(self, source: str) -> AsyncIterator[None]:
        """A place for one sign-in from ``source``; TooManyAttempts at once when it has none."""
        if self._sources[source] >= self.per_source:
            raise TooManyAttempts(
                t_("too many sign-ins from your address at once"),
                hint=t_("wait for the others to finish, then try again"),
            )
        self._sources[source] += 1
        try:
            yield
        finally:
            self._sources[source] -= 1
            if self._sources[source] <= 0:
                del self._sources[source]

    @asynccontextmanager
    async def check(self) -> AsyncIterator[None]:
        """A place for one password check in all, waiting in the short queue when every
        place is taken; TooManyAttempts when the queue is full or the wait too long."""
        if self.checking >= self.overall:
            await self._wait_for_a_place()
        self.checking += 1  # no await since the place was seen free: it is ours
        try:
            yield
        finally:
            self.checking -= 1
            async with self._freed:
                self._freed.notify()

    async def _wait_for_a_place(self) -> None:
        busy = TooManyAttempts(
            t_("the server is busy with other sign-ins"), hint=t_("try again in a few seconds")
        )
        if self.waiting >= self.queue:
            raise busy
        self.waiting += 1
        try:
            async with asyncio.timeout(QUEUE_WAIT_S), self._freed:
                await self._freed.wait_for(lambda: self.checking < self.overall)
        except TimeoutError:
            raise busy from None
        finally:
            self.waiting -= 1

    @asynccontextmanager
    async def turn(self, account: str, delay: float) -> AsyncIterator[None]:
        """With ``delay`` > 0: wait for the account's turn, ``delay`` after its last check.

        At most ``overall`` attempts wait for one account; one more is refused at once,
        so that the wait stays bounded (``overall`` times the delay at most).
        """
        if delay <= 0:
            yield
            return
        if self._queued[account] >= self.overall:
            raise TooManyAttempts(
                t_("too many sign-ins to this account at once"),
                hint=t_("try again in a few seconds"),
            )
        loop = asyncio.get_running_loop()
        lock = self._turns.setdefault(account, asyncio.Lock())
        self._queued[account] += 1
        try:
            async with lock:
                wait = self._last.get(account, -delay) + delay - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                try:
                    yield
                finally:
                    self._last[account] = loop.time()
        finally:
            self._queued[account] -= 1
            if self._queued[account] <= 0:
                del self._queued[account], self._turns[account]
            now = loop.time()
            for name in [n for n, t in self._last.items() if now - t > BACKOFF_MAX_S]:
                del self._last[name]


def install(settings: Settings) -> tuple[TrustedProxies, SignInGate]:
    """The proxies and the gate of an app built with these settings."""
    gate = SignInGate(
        settings.signin_concurrency, settings.signin_concurrency_per_source, settings.sign_in_queue
    )
    return TrustedProxies(settings.trusted_proxies), gate


def client_source(request: Request) -> str:
    """The client's address by the trusted-proxy rule: the sign-in throttle's "source"."""
    proxies: TrustedProxies = request.app.state.proxies
    peer = request.client.host if request.client else "unknown"
    return proxies.client(peer, request.headers.getlist("x-forwarded-for"))


async def sign_in(
    request: Request, platform: Platform, username: str, password: str
) -> SignedIn | Challenge:
    """Sign in through the gate: a place of the source, the account's turn (when it is
    backed off; waiting costs no place for a check), then a place for the check."""
    gate: SignInGate = request.app.state.signin_gate
    source = client_source(request)
    async with gate.admit(source):
        delay = await read(platform, accounts.sign_in_delay, platform, username)
        async with gate.turn(accounts.account_name(username), delay), gate.check():
            return await run_in_threadpool(accounts.sign_in, platform, username, password, source)


async def complete_sign_in(
    request: Request, platform: Platform, token: str | None, code: str
) -> SignedIn:
    """The second step of a sign-in, through the source's place (a code costs no Argon2
    check, so it needs no place for one; its throttle is the password's)."""
    gate: SignInGate = request.app.state.signin_gate
    source = client_source(request)
    async with gate.admit(source):
        return await run_in_threadpool(accounts.complete_sign_in, platform, token, code, source)
