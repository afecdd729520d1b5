"""The application factory: one frozen :class:`Settings`, nothing created at import."""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from anyio import to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from backchannel import __version__
from backchannel.config import Settings
from backchannel.errors import EnrolmentNeeded, InputError
from backchannel.messages import t_
from backchannel.model.disclosure import words
from backchannel.model.findings import red_line_words
from backchannel.services.dialogues import FACILITATOR_ALIAS
from backchannel.services.platform import Platform
from backchannel.web import dispatch, errors, gate, labels, language, light_format
from backchannel.web.deps import PasswordChangeNeeded
from backchannel.web.form_fields import form_guard
from backchannel.web.security import AllowedHosts, HeadAsGet, SecurityHeaders

HERE = Path(__file__).parent


SWITCH_INTERVAL_S = 0.001
"""How long a thread may hold the GIL while another waits for it (Python's default: 5 ms).

A write holds SQLite's lock across a dozen statements, and each statement lets the GIL
go and must wait to get it back; with the thread pool's other workers busy, each wait
could last the whole interval. At 1 ms the writer gets it back sooner, so the write
lock is held for less time: under saturation the p99 of the writes fell from 1.0-1.4 s
to 0.35-0.85 s over four alternating runs, with no measurable loss of throughput."""


POSTGRES_THREADS = 8
"""Worker threads of a server on PostgreSQL (AnyIO's default: 40).

There every request holds a worker while it waits on the database; forty of them took turns
at the GIL, and a request cost 8-9 ms of the server's CPU instead of 5-6. At 200 users on
the 2-core machine (`load_bench.py --profile crowd --database postgresql`, quiet, 30 s runs):
p99 382-559 ms at 111-179 requests/s with 8 workers, 1,321-1,636 ms at 111-126 with 40; with
12, 847 ms. Ten concurrent sign-ins still had a p95 of 747 ms. On SQLite reads and short
writes run on the event loop, and the pool keeps AnyIO's default."""


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Process settings for serving: the serving lock, a GIL switch interval and, on
    PostgreSQL, the size of the thread pool.

    The serving lock (shared, released when the process ends, however it ends) tells
    ``keys rotate --data-keys`` that a server runs on the database, so that it refuses.
    """
    if not app.state.settings.is_sqlite:
        to_thread.current_default_thread_limiter().total_tokens = POSTGRES_THREADS
    held = app.state.platform.hold_serving()
    previous = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)
        held.release()


def serving_app(settings: Settings, platform: Platform | None = None) -> FastAPI:
    """The app of a process that only serves it (``backchannel serve``, each worker).

    Everything alive once the app is built (modules, the app, the ORM and pydantic
    machinery: some 170,000 objects) lives as long as the process. While the collector
    tracked it, each full collection scanned all of it and paused every request in
    flight for about 90 ms, once every few thousand requests; frozen, a full collection
    scans only what requests create and takes under a millisecond. Only a serving
    process freezes its heap: an app started inside a longer-lived process (a test, a
    script) leaves the collector as it found it, and does not pay for a full collection
    each time it starts.
    """
    app = create_app(settings, platform)
    gc.collect()
    gc.freeze()
    return app


def create_app(settings: Settings, platform: Platform | None = None) -> FastAPI:
    """The web application and JSON API on an opened platform (opened here if not given)."""
    platform = platform or Platform.open(settings)
    docs = settings.api_docs
    app = FastAPI(
        lifespan=_lifespan,
        title="Backchannel",
        version=__version__,
        description="Confidential dialogues for track 1.5 diplomacy: positions, rationed "
        "evaluations and facilitator-controlled disclosures.",
        docs_url=None,  # FastAPI's page loads its script from a CDN: air-gapped, we serve the JSON
        redoc_url=None,
        openapi_url="/api/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.platform = platform
    app.state.proxies, app.state.signin_gate = gate.install(settings)
    # gettext in every template, in the request's language: {{ _("text") }},
    # {{ _("%(n)s left", n=3) }}, {% trans %}; dates and numbers by Babel
    templates = language.templates(HERE / "templates")
    templates.env.globals["version"] = __version__
    templates.env.globals["form_guard"] = form_guard
    templates.env.filters["log_action"] = labels.log_action
    templates.env.filters["label"] = labels.label
    templates.env.filters["extract"] = lambda key, container: container[key]
    templates.env.filters["light"] = light_format.light
    templates.env.filters["headline"] = words
    templates.env.globals["red_line"] = red_line_words
    templates.env.globals["facilitator_alias"] = FACILITATOR_ALIAS
    app.state.templates = templates
    errors.install(app, templates)

    @app.exception_handler(PasswordChangeNeeded)
    async def _change(request: Request, error: PasswordChangeNeeded) -> Response:
        return RedirectResponse("/account/password", status_code=303)

    @app.exception_handler(EnrolmentNeeded)
    async def _enrol(request: Request, error: EnrolmentNeeded) -> Response:
        if request.url.path.startswith("/api/"):
            return errors.respond(request, templates, error)
        return RedirectResponse("/account/mfa", status_code=303)

    from backchannel.web.routes import (
        account,
        api,
        blind,
        escalation,
        pages,
        readouts,
        record,
        text_api,
        text_pages,
        workspace,
    )

    add_routes(
        app,
        pages.router,
        workspace.router,
        account.router,
        api.router,
        text_api.router,
        text_pages.router,
        *record.routers,
        *escalation.routers,
        *readouts.routers,
        *blind.routers,
    )

    @app.get("/favicon.ico", include_in_schema=False)
    async def _favicon() -> Response:
        return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    # a Host that is not ours is refused (400) before anything else, inside the headers
    app.add_middleware(HeadAsGet)
    app.add_middleware(AllowedHosts, hosts=settings.hosts, base_url=settings.base_url)
    app.add_middleware(SecurityHeaders, max_body=settings.max_request_bytes, tls=settings.tls)
    dispatch.install(app.router)
    return app


def add_routes(app: FastAPI, *routers: APIRouter) -> None:
    """Every route of ``routers`` added to ``app`` as it is, in order.

    Since FastAPI 0.137 ``include_router`` keeps each included router as a node that
    every request walks, route by route, twice (to choose the router, then the route):
    about 1 ms per request on this application's 200 routes, of a 2-3 ms read.
    Our routers carry their prefix, tags and responses on each route already (no
    ``include_router`` option is used), so their routes are added to the application's
    own list, which Starlette matches once per request.
    """
    for router in routers:
        app.router.routes.extend(router.routes)


WORKER_SETTINGS = "BACKCHANNEL_WORKER_SETTINGS"
"""The environment variable that hands ``serve --workers N``'s settings to each worker."""


def worker_settings(settings: Settings, workers: int) -> str:
    """The settings of one of ``workers`` processes, as the JSON :func:`worker_app` reads.

    The key passphrase is left out: a worker reads it from its own environment, inherited
    from the serving process, as that process did. The sign-in gate's places are shared
    out, so that the Argon2id checks running at once on the machine stay within
    ``signin_concurrency`` whatever the number of workers; each worker keeps the whole
    queue (a wait costs no Argon2 memory), since the kernel hands connections to the
    workers unevenly and people signing in together should not be refused for it.
    """
    per_worker = max(1, settings.signin_concurrency // workers)
    data = settings.model_dump(mode="json", exclude={"key_passphrase"})
    data["signin_concurrency"] = per_worker
    data["signin_queue"] = settings.sign_in_queue
    return json.dumps(data)


def worker_app() -> FastAPI:
    """The app of one worker of ``backchannel serve --workers N`` (a uvicorn factory).

    Every worker opens its own engines on the same database; what must hold across
    workers lives in the database (sessions, the sign-in throttle, the evaluation
    ration), never in a process.
    """
    return serving_app(Settings(**json.loads(os.environ[WORKER_SETTINGS])))


WILDCARDS = ("0.0.0.0", "::", "")  # noqa: S104 (compared with, not bound to)


def server_options(settings: Settings) -> dict[str, object]:
    """How ``backchannel serve`` runs uvicorn for these settings.

    Proxy headers are believed only from ``trusted_proxies``. A server listening on every
    address has no address of its own to put in links, so it needs ``public_url`` (an
    InputError says so).
    """
    if settings.host in WILDCARDS and settings.public_url is None:
        raise InputError(
            t_(
                "listening on {host} needs the public URL",
                host=settings.host or t_("every address"),
            ),
            hint=t_(
                "set BACKCHANNEL_PUBLIC_URL to the address people use, e.g. "
                "https://talks.example.org"
            ),
        )
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": "warning",
        "server_header": False,
        # the C parser and loop (see pyproject.toml): named, so that a missing one fails
        # at start-up instead of serving slower without a word
        "http": "httptools",
        "loop": "asyncio" if sys.platform == "win32" else "uvloop",
        # X-Forwarded-For believed from the trusted proxies only (uvicorn's default
        # believes any loopback peer): the same rule as web.gate.client_source
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": ",".join(settings.trusted_proxies),
    }
