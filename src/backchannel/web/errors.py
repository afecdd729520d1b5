"""The one place where errors become responses (HTML for pages, JSON for the API).

* :class:`NotFound` (missing *or* forbidden) gives the same 404 body for every cause;
* bad input 422, a rule of the dialogue broken 409, sign-in needed 401 (pages redirect),
  too many attempts 429; an unexpected error is logged without its arguments and
  answered with a generic 500 page that shows nothing of the request.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from backchannel.errors import (
    BackchannelError,
    InputError,
    NotAllowedNow,
    NotFound,
    SignInRequired,
    TooManyAttempts,
)

log = logging.getLogger("backchannel.web")

NOT_FOUND_JSON = {"error": "not found"}


def _status(error: BackchannelError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, SignInRequired):
        return 401
    if isinstance(error, TooManyAttempts):
        return 429
    if isinstance(error, NotAllowedNow):
        return 409
    if isinstance(error, InputError):
        return 422
    return 500


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def respond(request: Request, templates: Jinja2Templates, error: BackchannelError) -> Response:
    """The response for a Backchannel error."""
    status = _status(error)
    if status == 500:
        log.error("internal error: %s", type(error).__name__)
    if _wants_json(request):
        if status == 404:
            return JSONResponse(NOT_FOUND_JSON, status_code=404)
        body = {"error": error.message if status != 500 else "internal error"}
        if error.hint and status != 500:
            body["hint"] = error.hint
        return JSONResponse(body, status_code=status)
    if status == 401:
        return RedirectResponse("/signin", status_code=303)
    message = "" if status in (404, 500) else error.message
    hint = None if status in (404, 500) else error.hint
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "message": message, "hint": hint},
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
        text = f"{where}: {first.get('msg', 'invalid input')}" if where else "invalid input"
        return respond(request, templates, InputError(text))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404:
            return respond(request, templates, NotFound())
        if _wants_json(request):
            return JSONResponse({"error": str(error.detail)}, status_code=error.status_code)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": error.status_code, "message": str(error.detail), "hint": None},
            status_code=error.status_code,
        )
