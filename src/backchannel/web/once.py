"""Every write of the pages and of the API acts once, by construction.

:class:`OnceRoute` is the route class of the page and API routers: each write route
(POST, PUT, PATCH, DELETE) carrying a key is run through :mod:`backchannel.services.once`.

* **Pages.** ``form_guard()`` puts a fresh random token in every rendered form
  (:data:`FORM_FIELD`). A form is done when it redirects (post/redirect/get); the same
  form sent again (a double click, a reload of the answer, the back button) changes
  nothing and gets a page that says so and links to the result.
* **API.** A write may carry an ``Idempotency-Key`` header: the same key from the same
  account (for the node API: the same node token) with the same request replays the
  first answer (status and body, with ``Idempotent-Replayed: true``) without acting
  again; the same key with another request is refused (422). Only a success (2xx) is
  kept: after a refusal the corrected request may be sent with the same key.

A repeat that arrives while the first request still runs waits for it (up to
:data:`WAIT_S`), then answers as above, or 409 if it is still running. Keys live a day
(``services.once.KEEP``). The routes that set the session cookie are not covered
(:data:`SESSION_ROUTES`): their answer cannot be replayed, and repeating them is harmless.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from backchannel.errors import BackchannelError, InputError, NotAllowedNow
from backchannel.messages import t_
from backchannel.services import once
from backchannel.services.accounts import Current
from backchannel.services.once import Answer, Earlier
from backchannel.services.platform import Platform
from backchannel.web.deps import session_of

FORM_FIELD = "once"
"""The hidden field of a page form that holds its one-time token."""
HEADER = "Idempotency-Key"
KEY = re.compile(r"[\x21-\x7e]{1,255}")
"""A key: 1 to 255 visible ASCII characters."""
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SESSION_ROUTES = frozenset(
    {
        "/signin",
        "/signin/code",
        "/signout",
        "/language",
        "/account/password",
        "/api/v1/session",
        "/api/v1/session/code",
        "/api/v1/session/end",
        "/api/v1/account/password",
    }
)
"""Writes that set or end the session cookie, or the language cookie (not covered)."""
NODE_API = "/api/v1/blind/"
"""The node API's prefix: its writes are scoped to the node token that sent them."""
WAIT_S = 10.0
"""How long a repeat waits for the first request to finish."""
POLL_S = 0.05

KEY_PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "Any unique string (1 to 255 visible ASCII characters, e.g. a UUID). "
    "The same key from the same account with the same request replays the first "
    "successful answer without acting again (`Idempotent-Replayed: true`); with "
    "another request it is refused (422). Kept for 24 hours.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}
"""The header as the OpenAPI description declares it on every covered API write."""

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def new_form_token() -> str:
    """A fresh one-time token for one rendered form."""
    return secrets.token_urlsafe(16)


def covered(path: str, methods: set[str]) -> bool:
    """Whether a route's writes are run once per key."""
    return bool(methods & WRITES) and path not in SESSION_ROUTES


class OnceRoute(APIRoute):
    """A route whose writes carrying a key act once (see the module's description)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in kwargs.get("methods") or ()}
        if path.startswith("/api/") and covered(path, methods):
            extra = dict(kwargs.get("openapi_extra") or {})
            given = extra.get("parameters", [])
            if KEY_PARAMETER not in given:  # a router included in another passes it on
                extra["parameters"] = [*given, KEY_PARAMETER]
            kwargs["openapi_extra"] = extra
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Handler:
        handler: Handler = super().get_route_handler()
        if not covered(self.path_format, set(self.methods or ())):
            return handler
        api = self.path_format.startswith("/api/")

        async def once_only(request: Request) -> Response:
            key = request.headers.get(HEADER) if api else await _form_token(request)
            if key is None:
                return await handler(request)
            if not KEY.fullmatch(key):
                raise InputError(
                    t_("the {what} is not 1 to 255 visible ASCII characters", what=HEADER)
                    if api
                    else t_("the form token is not 1 to 255 visible ASCII characters"),
                    hint=t_("send a new random key, e.g. a UUID") if api else t_("reload the page"),
                )
            return await _run(request, handler, key, api)

        return once_only


async def _form_token(request: Request) -> str | None:
    if "form" not in request.headers.get("content-type", ""):
        return None
    await request.body()  # kept for the fingerprint before the form is parsed
    value = (await request.form()).get(FORM_FIELD)
    return value if isinstance(value, str) and value else None


async def _run(request: Request, handler: Handler, key: str, api: bool) -> Response:
    platform: Platform = request.app.state.platform
    current = await _signed_in(request, platform)
    user_id = current.actor.user_id if current is not None else _node_scope(request)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    print_ = once.fingerprint(request.method, target, await request.body())
    earlier = await _claim(platform, user_id, key, print_)
    if earlier is not None:
        return _repeat(request, current, earlier, api)
    try:
        response = await handler(request)
    except Exception:
        await run_in_threadpool(once.release, platform, user_id, key)
        raise
    answer = _answer(response, api)
    if answer is None:
        await run_in_threadpool(once.release, platform, user_id, key)
    else:
        await run_in_threadpool(once.complete, platform, user_id, key, answer)
    return response


def _node_scope(request: Request) -> str | None:
    """A node API call's keys are scoped to its node token (a digest of it), as a
    session's are to its account; None for any other call without a session."""
    authorization = request.headers.get("authorization")
    if not request.url.path.startswith(NODE_API) or not authorization:
        return None
    return "node:" + hashlib.sha256(authorization.encode("utf-8", "replace")).hexdigest()[:32]


async def _signed_in(request: Request, platform: Platform) -> Current | None:
    try:
        return await session_of(request, platform)
    except BackchannelError:
        return None


async def _claim(platform: Platform, user_id: str | None, key: str, print_: str) -> Earlier | None:
    """Take the key, or the earlier request once it is done (waiting a while for it)."""
    waited = 0.0
    while True:
        earlier = await run_in_threadpool(once.claim, platform, user_id, key, print_)
        if earlier is None or earlier.answer is not None:
            return earlier
        if waited >= WAIT_S:
            raise NotAllowedNow(
                t_("the same request is still being processed"),
                hint=t_("wait a moment, then reload the page to see the result"),
            )
        await asyncio.sleep(POLL_S)
        waited += POLL_S


def _answer(response: Response, api: bool) -> Answer | None:
    """What to keep of a successful answer (None: it failed, let the key go)."""
    if api:
        return (
            Answer(response.status_code, bytes(response.body))
            if response.status_code < 300
            else None
        )
    location = response.headers.get("location")
    if response.status_code != 303 or location is None:
        return None
    return Answer(303, location.encode())


def _repeat(request: Request, current: Current | None, earlier: Earlier, api: bool) -> Response:
    """The answer to a repeat: the first answer replayed (API) or a page saying so."""
    assert earlier.answer is not None
    if api:
        if not earlier.same:
            raise InputError(
                t_("this {header} was used for a different request", header=HEADER),
                hint=t_(
                    "use a new key for each new request, the same key only to send "
                    "the same request again"
                ),
            )
        return Response(
            earlier.answer.body,
            status_code=earlier.answer.status,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    result = earlier.answer.body.decode()
    templates = request.app.state.templates
    page: Response = templates.TemplateResponse(
        request,
        "done.html",
        {"current": current, "result": result if result.startswith("/") else "/"},
        status_code=409,
    )
    return page
