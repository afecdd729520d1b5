"""The one place where errors become responses (HTML for pages, JSON for the API).

* :class:`NotFound` (missing *or* forbidden) gives the same 404 body for every cause;
* bad input and an analysis that cannot run on the input 422, a rule of the dialogue
  broken 409, sign-in needed 401 (pages redirect), too many attempts 429, a full disk
  503 (nothing was saved; the same request works once space returns, and
  ``web/security.py`` adds ``Retry-After``); an unexpected error is logged without its
  arguments and answered with a generic 500 page that shows nothing of the request.

:func:`shown` is the mapping; the exception handlers use it, and so do the pages that
re-render their form with the error (:func:`form_error`), so that a user keeps what they
typed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from backchannel.errors import (
    AnalysisError,
    BackchannelError,
    DiskFull,
    InputError,
    NotAllowedNow,
    NotFound,
    SignInRequired,
    TooManyAttempts,
    WrongCredentials,
    validation_problem,
)
from backchannel.messages import Message, t_, verbatim
from backchannel.web.language import say

log = logging.getLogger("backchannel.web")

STATUS: tuple[tuple[type[BackchannelError], int], ...] = (
    (NotFound, 404),
    (SignInRequired, 401),
    (WrongCredentials, 401),
    (TooManyAttempts, 429),
    (DiskFull, 503),
    (NotAllowedNow, 409),
    (InputError, 422),
    (AnalysisError, 422),
)
"""The HTTP status of each error class (the first that matches); anything else is 500."""

FORM_STATUSES = (409, 422, 503)
"""The statuses a form page shows beside its form, keeping what was typed: the user can
fix the input (409, 422) or send it again later (503)."""


@dataclass(frozen=True)
class Shown:
    """What the user is told of an error: the status, the message and a hint.

    The message and the hint stay :class:`~backchannel.messages.Message` s until shown: a
    template prints them in the page's language, the API in the request's. 404 and 500
    tell nothing (a forbidden object looks missing; an internal error shows nothing of
    the request).
    """

    status: int
    message: Message
    hint: Message | None


NOT_FOUND = t_("not found")
INTERNAL = t_("internal error")


def shown(error: BackchannelError) -> Shown:
    """The status and the message of an error, for every page and API route."""
    status = next((code for kind, code in STATUS if isinstance(error, kind)), 500)
    if status in (404, 500):
        return Shown(status, NOT_FOUND if status == 404 else INTERNAL, None)
    return Shown(status, error.text, error.hint_text)


def form_error(error: BackchannelError) -> Shown:
    """What a form page shows beside its form; raises ``error`` again for any other error.

    Bad input (422), a rule of the dialogue broken (409) and a full disk (503) re-render
    the form with the message, keeping what was typed. Missing, forbidden, sign-in and
    internal errors are raised again, for the exception handler to answer like anywhere
    else.
    """
    found = shown(error)
    if found.status not in FORM_STATUSES:
        raise error
    return found


def sign_in_refused(error: InputError | WrongCredentials | TooManyAttempts) -> Shown:
    """The sign-in page's answer to a refused sign-in: 401 (429 when throttled).

    Wrong credentials and a malformed form alike answer with the status of a failed
    authentication, as ``POST /api/v1/session`` does for wrong credentials.
    """
    found = shown(error)
    return Shown(401 if found.status in (401, 422) else found.status, found.message, None)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def json_body(request: Request, message: Message, hint: Message | None) -> dict[str, str]:
    """An API error's body in the request's language: ``error``, ``hint`` if any, and
    ``code``, the English msgid of the message (stable across languages; absent for a text
    that was never a msgid)."""
    body = {"error": say(request, message)}
    if hint is not None:
        body["hint"] = say(request, hint)
    where, problem = message.params.get("where"), message.params.get("problem")
    if message.msgid == INVALID_INPUT and isinstance(where, str):
        body["field"] = where
        if isinstance(problem, Message):  # the problem's own msgid, not the wrapper's
            message = problem
    if not message.verbatim:
        body["code"] = message.msgid
    return body


def respond(request: Request, templates: Jinja2Templates, error: BackchannelError) -> Response:
    """The response for a Backchannel error."""
    found = shown(error)
    status = found.status
    if status == 500:
        log.error("internal error: %s", type(error).__name__)
    if _wants_json(request):
        return JSONResponse(json_body(request, found.message, found.hint), status_code=status)
    if status == 401:
        return RedirectResponse("/signin", status_code=303)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "message": found.message, "hint": found.hint},
        status_code=status,
    )


def install(app: FastAPI, templates: Jinja2Templates) -> None:
    """Register the handlers on the app."""

    @app.exception_handler(BackchannelError)
    async def _known(request: Request, error: BackchannelError) -> Response:
        return respond(request, templates, error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return respond(request, templates, InputError(invalid_input(where, first)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404:
            return respond(request, templates, NotFound())
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        message, hint = verbatim(str(error.detail)), None
        if error.status_code == 400:  # the only 400 raised inside the app: a body unparsed
            message, hint = UNPARSED_BODY
        elif error.status_code == 405:
            message = METHOD_NOT_ALLOWED
        if _wants_json(request):
            body = json_body(request, message, hint)
            return JSONResponse(body, status_code=error.status_code, headers=headers)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": error.status_code, "message": message, "hint": hint},
            status_code=error.status_code,
            headers=headers,
        )


UNPARSED_BODY = (
    t_("the request body could not be read"),
    t_(
        "send JSON in UTF-8 with Content-Type: application/json (a form: "
        "application/x-www-form-urlencoded)"
    ),
)

METHOD_NOT_ALLOWED = t_("this address does not answer that method")


INVALID_INPUT = "{where}: {problem}"
"""The msgid of :func:`invalid_input`'s message (the API's error body names the field and
gives the problem's own code for it)."""


def invalid_input(where: str, problem: Mapping[str, Any]) -> Message:
    """A request the API's schema refused: where, and what is wrong with it."""
    if not where:
        return t_("invalid input")
    return t_("{where}: {problem}", where=where, problem=validation_problem(problem))


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers at this path (the ``Allow`` of a 405).

    Starlette names only the methods of the first route that matched the path; a path
    served by several routes (``GET`` and ``POST /api/v1/dialogues``) needs them all, so
    each method is tried against every route.
    """
    allowed = []
    for method in METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    if "GET" in allowed:  # answered as a GET without its body (web.security.HeadAsGet)
        allowed.insert(allowed.index("GET") + 1, "HEAD")
    return allowed


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
"""The methods :func:`allowed_methods` tries."""
