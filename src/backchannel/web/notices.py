"""What a page confirms once after a form redirected to it (post/redirect/get).

A successful form answers with a 303 to the page that shows the result; what that page
says about it (and, once, a secret such as a new invitation link, which must never be
in an address) travels in a short-lived cookie: HttpOnly, SameSite=Strict, signed with
the session's own secret so that no other session or site can plant one, read and
cleared by the first page that shows it. Nothing of it is stored on the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from fastapi import Request, Response

from backchannel.messages import Message, t_

MESSAGES = {
    "created": t_("The dialogue was created. Next: add the issues and the parties."),
    "saved": t_("Saved. Your side's position is recorded for this round."),
    "invited": t_("Invitation link created."),
    "escalation_saved": t_("The escalation model was saved; its analysis is below."),
    "escalation_released": t_("The escalation finding was released to that delegation."),
    "responses_recorded": t_("Your responses are recorded."),
    "node_registered": t_("The node was registered."),
    "blind_requested": t_("The nodes were asked for the finding; every side sees it in its log."),
    "blind_released": t_("The finding was released."),
}
"""The confirmations a page can show, by name (the cookie names one, never free text)."""
MAX_AGE_S = 300
"""A confirmation not shown within this time is dropped."""


@dataclass(frozen=True)
class Notice:
    """A confirmation to show once: its name, its text and, perhaps, a secret shown
    only now."""

    what: str
    text: Message
    secret: str | None = None


def _name(request: Request) -> str:
    return "__Host-bc_notice" if request.app.state.settings.tls else "bc_notice"


def _sign(key: str, payload: str) -> str:
    return hmac.new(key.encode(), payload.encode(), hashlib.sha256).hexdigest()


def notify(
    request: Request, response: Response, key: str, what: str, secret: str | None = None
) -> None:
    """Make the next page of this session confirm ``what`` (a name in :data:`MESSAGES`).

    ``key`` is the session's secret (its CSRF token) that signs the cookie.
    """
    data = json.dumps({"what": what, "secret": secret}, separators=(",", ":"))
    payload = base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")
    response.set_cookie(
        _name(request),
        f"{payload}.{_sign(key, payload)}",
        max_age=MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.tls,
        path="/",
    )


def take(request: Request, key: str | None) -> Notice | None:
    """The confirmation waiting for this session, if any (a forged one is ignored)."""
    value = request.cookies.get(_name(request))
    if not value or key is None or "." not in value:
        return None
    payload, signature = value.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(key, payload)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    what = str(data.get("what"))
    text = MESSAGES.get(what)
    secret = data.get("secret")
    if text is None:
        return None
    return Notice(what, text, secret if isinstance(secret, str) else None)


def clear(request: Request, response: Response) -> None:
    """Drop the confirmation once a page showed it."""
    if _name(request) in request.cookies:
        response.delete_cookie(
            _name(request),
            httponly=True,
            samesite="strict",
            secure=request.app.state.settings.tls,
            path="/",
        )
