"""Headers on every response, a request size limit, and the CSRF checks.

Every response, errors and static files included, carries a strict Content Security
Policy (no inline script, nothing from elsewhere), ``nosniff``, ``Referrer-Policy:
no-referrer``, frame denial and same-origin isolation; pages behind sign-in are
``Cache-Control: no-store``; a 503 says ``Retry-After``. A request body over
``max_request_bytes`` is refused with 413 before it is read. State-changing requests
must carry the session's CSRF token (a form field ``csrf`` or the ``X-CSRF-Token``
header) and may not come from another origin.
"""

from __future__ import annotations

import json
import logging
import secrets
from html import escape

from starlette.datastructures import Headers
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backchannel.messages import Message as Text
from backchannel.messages import t_
from backchannel.web.language import language_of, translations_of

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
log = logging.getLogger("backchannel.web")
RETRY_AFTER = b"60"
"""Seconds a 503 (a full disk) asks a client to wait before sending the request again."""
INTERNAL_JSON = b'{"error": "internal error"}'
INTERNAL_HTML = (
    b"<!doctype html><html lang=en><meta charset=utf-8><title>Error</title>"
    b"<p>Something went wrong on the server. Nothing was changed.</p></html>"
)


class HeadAsGet:
    """ASGI middleware: ``HEAD`` is answered as the ``GET`` of the same URL without its
    body (RFC 9110, 9.3.2), so a monitoring probe that sends ``HEAD`` sees the status and
    headers a ``GET`` would get, not a 405. Only the application sees ``GET``: the server
    still knows the request was ``HEAD``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headless(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headless)


class SecurityHeaders:
    """ASGI middleware: headers on every response; 413 for oversized bodies."""

    def __init__(self, app: ASGIApp, *, max_body: int, tls: bool) -> None:
        self.app = app
        self.max_body = max_body
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await self._answer(send, 413, self._too_large(scope))
            return
        received = 0
        started = False  # the app began its response
        answered = False  # this middleware answered instead (413 or 500)

        async def limited() -> Message:
            nonlocal received, answered
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body and not answered:
                    answered = True
                    await self._answer(send, 413, self._too_large(scope))
                    raise BodyTooLarge
            return message

        async def with_headers(message: Message) -> None:
            nonlocal started
            if answered:  # whatever the app says after our 413 is dropped
                return
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = self._headers(scope["path"], message.get("headers", []))
                if message["status"] == 503:  # nothing was saved: say when to send it again
                    message["headers"].append((b"retry-after", RETRY_AFTER))
            await send(message)

        try:
            await self.app(scope, limited, with_headers)
        except BodyTooLarge:
            return
        except Exception as error:  # logged by type only: messages may quote private data
            log.error("unexpected error: %s", type(error).__name__)
            if not started and not answered:
                body = INTERNAL_JSON if scope["path"].startswith("/api/") else INTERNAL_HTML
                await self._answer(send, 500, body)

    def _headers(self, path: str, given: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        headers = [(k, v) for k, v in given if k.lower() != b"server"]
        headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
        if not path.startswith("/static/"):
            headers.append((b"cache-control", b"no-store"))
        if self.tls:
            headers.append((b"strict-transport-security", b"max-age=63072000"))
        return headers

    def _too_large(self, scope: Scope) -> bytes:
        megabytes = f"{self.max_body / 1_000_000:.1f}".rstrip("0").rstrip(".")
        return refusal(
            scope,
            t_("What you sent is larger than this server takes ({size} MB).", size=megabytes),
            t_(
                "Nothing was saved. Go back: your browser still has what you typed. Shorten "
                "it (or split it in parts) and send it again."
            ),
        )

    async def _answer(self, send: Send, status: int, body: bytes) -> None:
        kind = b"text/html; charset=utf-8" if body.startswith(b"<") else b"application/json"
        headers = self._headers("", [(b"content-type", kind)])
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    """Raised inside the app when a streamed body passes the limit."""


def same_token(expected: str, given: str | None) -> bool:
    """Constant-time comparison of CSRF tokens."""
    return given is not None and secrets.compare_digest(expected.encode(), given.encode())


def foreign_origin(origin: str | None, fetch_site: str | None, host: str | None) -> bool:
    """Whether the request comes from another site.

    Browsers that send fetch metadata say so in ``Sec-Fetch-Site``, which is trusted
    first. Otherwise a real ``Origin`` must name this host. ``Origin: null`` (what a
    browser sends for a same-site form under ``Referrer-Policy: no-referrer``) and no
    Origin at all (scripts) are judged by the CSRF token alone.
    """
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    if origin is None or origin == "null":
        return False
    return origin.split("://", 1)[-1] != (host or "")


def refusal(scope: Scope, message: Text, hint: Text) -> bytes:
    """The body of a refusal made before any route runs, in the request's language (its
    cookie's, else its browser's): JSON for the API (``error``, ``hint``, ``code``, as the
    routes' errors), else a short page that says what to do."""
    request = Request(scope)
    translations = translations_of(request)
    error, advice = message.render(translations), hint.render(translations)
    if scope["path"].startswith("/api/"):
        body = {"error": error, "hint": advice, "code": message.msgid}
        return json.dumps(body, ensure_ascii=False).encode("utf-8")
    title = escape(t_("Not sent").render(translations))
    return (
        f'<!doctype html><html lang="{language_of(request)}"><meta charset=utf-8>'
        f"<title>{title} · Backchannel</title><main><h1>{title}</h1>"
        f"<p>{escape(error)}</p><p>{escape(advice)}</p></main></html>"
    ).encode()


class AllowedHosts(TrustedHostMiddleware):
    """Starlette's check of the ``Host`` header (400 for a name not ours, before anything
    else), answering in words that say what to do instead of "Invalid host header"."""

    def __init__(self, app: ASGIApp, *, hosts: tuple[str, ...], base_url: str) -> None:
        super().__init__(app, allowed_hosts=list(hosts), www_redirect=False)
        self.base_url = base_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._ours(scope):
            await self.app(scope, receive, send)
            return
        body = refusal(
            scope,
            t_("This server does not answer to the address used."),
            t_(
                "Open it at {address}. If that is its right address, ask the operator to add it "
                "to BACKCHANNEL_ALLOWED_HOSTS.",
                address=self.base_url,
            ),
        )
        kind = b"text/html; charset=utf-8" if body.startswith(b"<") else b"application/json"
        headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _ours(self, scope: Scope) -> bool:
        if self.allow_any:
            return True
        given = Headers(scope=scope).get("host", "").lower()
        # an IPv6 address keeps its brackets; any port goes
        host = given.rpartition("]")[0] + "]" if given.startswith("[") else given.partition(":")[0]
        return any(
            host == pattern or (pattern.startswith("*") and host.endswith(pattern[1:]))
            for pattern in self.allowed_hosts
        )
