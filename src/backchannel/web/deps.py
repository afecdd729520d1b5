"""Request dependencies: the platform, the signed-in user and the CSRF check; and
:func:`read`, the one way a route runs a read-only service call.

Where a read runs
-----------------
On SQLite a read is a WAL snapshot: it never waits for the writer, for the network or
for a lock, and takes about a millisecond of CPU under one GIL wherever it runs. Sent
to the thread pool it paid two hand-offs and fought forty workers for the GIL: under
the load test's mix (50 users, 50-200 ms think time) the server served 190-250
requests/s with a p99 of 0.26-0.6 s. Run on the event loop, the same reads leave the
GIL to the writers and the server served 320 requests/s with a p99 of 0.16 s. On
PostgreSQL a read waits on a socket, so it stays in the thread pool. Writes, sign-ins
(Argon2id) and evaluations (the solver) always run in the thread pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from typing import Annotated, ParamSpec, TypeVar

from fastapi import Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from backchannel.errors import (
    DiskFull,
    EnrolmentNeeded,
    InputError,
    NotAllowedNow,
    SignInRequired,
)
from backchannel.messages import t_
from backchannel.services import accounts
from backchannel.services.accounts import Current
from backchannel.services.platform import Platform, WriteWouldWait
from backchannel.web.language import remember_account_language
from backchannel.web.security import SAFE_METHODS, foreign_origin, same_token


def cookie_name(request: Request) -> str:
    """``__Host-`` prefixed over TLS (the prefix requires Secure and Path=/)."""
    return "__Host-bc_session" if request.app.state.settings.tls else "bc_session"


def set_cookie(request: Request, response: Response, token: str) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, Path=/, Secure over TLS."""
    tls = request.app.state.settings.tls
    response.set_cookie(
        cookie_name(request), token, httponly=True, samesite="strict", secure=tls, path="/"
    )


def clear_cookie(request: Request, response: Response) -> None:
    """Expire the session cookie with the same attributes (a ``__Host-`` cookie needs Secure)."""
    tls = request.app.state.settings.tls
    response.delete_cookie(
        cookie_name(request), httponly=True, samesite="strict", secure=tls, path="/"
    )


def challenge_cookie_name(request: Request) -> str:
    """The cookie of a sign-in awaiting its code (``__Host-`` prefixed over TLS)."""
    return "__Host-bc_signin" if request.app.state.settings.tls else "bc_signin"


def set_challenge_cookie(request: Request, response: Response, token: str) -> None:
    """The cookie of a sign-in awaiting its code: like the session's, for a few minutes."""
    response.set_cookie(
        challenge_cookie_name(request),
        token,
        max_age=accounts.CHALLENGE_MINUTES * 60,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.tls,
        path="/",
    )


def clear_challenge_cookie(request: Request, response: Response) -> None:
    """Expire the cookie of a sign-in awaiting its code."""
    tls = request.app.state.settings.tls
    response.delete_cookie(
        challenge_cookie_name(request), httponly=True, samesite="strict", secure=tls, path="/"
    )


def refuse_other_sites(request: Request) -> None:
    """InputError when the request comes from another site (Sec-Fetch-Site, then Origin)."""
    headers = request.headers
    if foreign_origin(headers.get("origin"), headers.get("sec-fetch-site"), headers.get("host")):
        raise InputError(t_("request refused: it comes from another site"))


def invitation_link(request: Request, token: str) -> str:
    """The link an invitation token is sent as: on the configured public URL, never on
    the address the request named (its ``Host`` header is the requester's to choose)."""
    settings = request.app.state.settings
    return f"{settings.base_url}/invite/{token}"


async def get_platform(request: Request) -> Platform:
    """The platform the app was created with (``async``: FastAPI would run a plain
    function in the thread pool, a hop and a wait for a free worker on every request)."""
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]

P = ParamSpec("P")
T = TypeVar("T")


async def read(platform: Platform, call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a read-only service call: on the event loop on SQLite, else in the thread pool.

    On the loop the call is marked :meth:`Platform.read_only`, so a call that tried to
    write would fail at once instead of holding every request behind the write lock. On
    PostgreSQL a read waits on the server's socket: reads on the loop would wait one after
    the other (measured: 96 instead of 105 requests/s served to 200 users, p99 3.6 s
    instead of 1.5 s), so they stay in the thread pool.
    """
    if platform.settings.is_sqlite:
        with platform.read_only():
            return call(*args, **kwargs)
    return await run_in_threadpool(call, *args, **kwargs)


RETRY_DELAYS_S = (0.001, 0.002, 0.004, 0.008, 0.016, 0.032)
"""How long a short write that gave way waits on the loop before it tries again (about
60 ms in all), before it goes to the thread pool to wait its turn there."""


async def write(
    platform: Platform, call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run a short write service call: on the event loop on SQLite, else in the thread pool.

    In the thread pool a write takes the GIL back after each of its dozen statements, each
    time behind the event loop: under load a 5 ms write held the database for 20-30 ms and
    writes queued behind it (p50 150 ms). On the loop it runs at once, in one piece. If
    another writer is first (a thread of this process, another worker, the CLI) the call
    stops before writing anything (:meth:`Platform.without_waiting`) and tries again after
    a short sleep that leaves the loop free (:data:`RETRY_DELAYS_S`): SQLite's own wait
    for the lock would poll with sleeps of up to 100 ms, holding a thread. After the last
    try it runs in the thread pool, where it waits its turn. Only for calls of a few
    milliseconds: anything that hashes a password, solves or renders a PDF stays in the
    thread pool.
    """
    if platform.settings.is_sqlite:
        for delay in (*RETRY_DELAYS_S, None):
            try:
                with platform.without_waiting():
                    return call(*args, **kwargs)
            except WriteWouldWait:
                if delay is None:
                    break
                await asyncio.sleep(delay)
    return await run_in_threadpool(call, *args, **kwargs)


async def session_of(request: Request, platform: Platform) -> Current:
    """The live session behind the request's cookie, or SignInRequired.

    The session is read like any read; the rare write it needs (a stale session deleted,
    ``last_seen_at`` refreshed every 30 s) runs in the thread pool. On a full disk that
    write is skipped, so that pages can still be read: the session only looks idle
    longer, and a stale one is refused all the same.
    """
    found = await read(
        platform, accounts.look_up, platform, request.cookies.get(cookie_name(request))
    )
    if found.upkeep is not None:
        with suppress(DiskFull):
            await run_in_threadpool(accounts.keep_up, platform, found)
    if found.current is None:
        raise SignInRequired()
    remember_account_language(request, found.current.language)
    return found.current


PASSWORD_PATHS = frozenset(
    ("/account/password", "/signout", "/api/v1/account/password", "/api/v1/session/end")
)
"""What an account that must choose a new password may still do."""
ENROLMENT_PATHS = PASSWORD_PATHS | {
    "/account/mfa",
    "/account/mfa/begin",
    "/account/mfa/confirm",
    "/api/v1/account/mfa",
    "/api/v1/account/mfa/begin",
    "/api/v1/account/mfa/confirm",
}
"""What an account that must set up two-factor sign-in may still do."""


async def get_current(request: Request, platform: PlatformDep) -> Current:
    """The live session, or SignInRequired; state-changing requests pass the CSRF check.

    An account that must choose a password, or set up two-factor sign-in, may do only
    that (and sign out) first.
    """
    current = await session_of(request, platform)
    path = request.url.path
    if current.must_change_password and path not in PASSWORD_PATHS:
        if path.startswith("/api/"):
            raise NotAllowedNow(
                t_("choose a new password first"),
                hint=t_("send it with {request}", request="POST /api/v1/account/password"),
            )
        raise PasswordChangeNeeded()
    if current.must_enrol and path not in ENROLMENT_PATHS:
        raise EnrolmentNeeded(t_("your account must use two-factor sign-in"))
    if request.method not in SAFE_METHODS:
        await check_csrf(request, current.csrf)
    return current


async def check_csrf(request: Request, expected: str) -> None:
    """The session's token in the ``X-CSRF-Token`` header or the ``csrf`` form field."""
    refuse_other_sites(request)
    headers = request.headers
    given = headers.get("x-csrf-token")
    if given is None and "form" in headers.get("content-type", ""):
        form = await request.form()
        value = form.get("csrf")
        given = value if isinstance(value, str) else None
    if not same_token(expected, given):
        raise InputError(
            t_("request refused: missing or stale form token"), hint=t_("reload the page")
        )


LARGEST_NUMBER = 2**31 - 1
"""The largest whole number any route takes: what an ``Integer`` column holds on every
database (PostgreSQL's is 32-bit, SQLite's 64-bit). A bigger one is a 422, never a
database error."""

LogBefore = Annotated[int | None, Query(ge=1, le=LARGEST_NUMBER)]
"""The ``before`` of a log page: the ``seq`` of the last entry received."""


class PasswordChangeNeeded(SignInRequired):
    """A one-time password was used: the user must choose a password first."""


CurrentDep = Annotated[Current, Depends(get_current)]
