"""Account pages: the code step of signing in, setting up two-factor sign-in, and the
language switch.

Every page is a plain form. The secret and the recovery codes are shown only in the
answer to the post that made them (``Cache-Control: no-store``, like every page behind
sign-in); the QR code is inline SVG drawn on the server.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from backchannel import i18n
from backchannel.errors import BackchannelError, InputError, SignInRequired, TooManyAttempts
from backchannel.services import accounts, mfa
from backchannel.services.accounts import Current
from backchannel.services.platform import Platform
from backchannel.web import gate
from backchannel.web.deps import (
    CurrentDep,
    PlatformDep,
    challenge_cookie_name,
    check_csrf,
    clear_challenge_cookie,
    read,
    refuse_other_sites,
    session_of,
)
from backchannel.web.errors import Shown, form_error, sign_in_refused
from backchannel.web.language import set_language_cookie
from backchannel.web.once import OnceRoute
from backchannel.web.qr import qr_svg
from backchannel.web.routes.pages import back, page, signed_in

router = APIRouter(include_in_schema=False, route_class=OnceRoute)


@router.get("/signin/code")
async def code_form(request: Request) -> Response:
    """The second step of signing in: the code (back to the first without its cookie)."""
    if not request.cookies.get(challenge_cookie_name(request)):
        return back("/signin")
    return page(request, "signin_code.html", error=None)


@router.post("/signin/code")
async def code_check(request: Request, platform: PlatformDep) -> Response:
    """Check the code (or a recovery code); a new session cookie on success."""
    form = await request.form()
    refuse_other_sites(request)
    token = request.cookies.get(challenge_cookie_name(request))
    try:
        done = await gate.complete_sign_in(request, platform, token, str(form.get("code", "")))
    except (InputError, TooManyAttempts) as error:
        refused = sign_in_refused(error)
        return page(request, "signin_code.html", status=refused.status, error=refused.message)
    response = signed_in(request, done)
    clear_challenge_cookie(request, response)
    return response


async def _mfa_page(
    request: Request,
    platform: Platform,
    current: Current,
    *,
    codes: list[str] | None = None,
    error: Shown | None = None,
) -> HTMLResponse:
    """The account's two-factor page: its state, the set-up under way, new codes once."""
    found = await read(platform, mfa.status, platform, current.actor)
    qr = Markup(qr_svg(found.pending.uri)) if found.pending else None  # noqa: S704 (segno's SVG)
    return page(
        request,
        "mfa.html",
        status=200 if error is None else error.status,
        current=current,
        mfa=found,
        qr=qr,
        codes=codes,
        error=error,
    )


@router.get("/account/mfa")
async def mfa_page(request: Request, platform: PlatformDep, current: CurrentDep) -> HTMLResponse:
    """Two-factor sign-in: set it up, replace the recovery codes, or turn it off."""
    return await _mfa_page(request, platform, current)


@router.post("/account/mfa/begin")
async def mfa_begin(request: Request, platform: PlatformDep, current: CurrentDep) -> Response:
    """Start setting it up: a new secret, shown with its QR code until confirmed."""
    try:
        await run_in_threadpool(mfa.begin, platform, current.actor)
    except BackchannelError as error:
        return await _mfa_page(request, platform, current, error=form_error(error))
    return back("/account/mfa")


@router.post("/account/mfa/confirm")
async def mfa_confirm(request: Request, platform: PlatformDep, current: CurrentDep) -> Response:
    """Turn it on with a first code; the recovery codes are shown once."""
    form = await request.form()
    try:
        codes = await run_in_threadpool(
            mfa.confirm, platform, current.actor, current.token_hash, str(form.get("code", ""))
        )
    except BackchannelError as error:
        return await _mfa_page(request, platform, current, error=form_error(error))
    return await _mfa_page(request, platform, current, codes=codes)


@router.post("/account/mfa/recovery-codes")
async def mfa_codes(request: Request, platform: PlatformDep, current: CurrentDep) -> Response:
    """New recovery codes for a current code; shown once."""
    form = await request.form()
    try:
        codes = await run_in_threadpool(
            mfa.replace_recovery_codes,
            platform,
            current.actor,
            str(form.get("code", "")),
            gate.client_source(request),
        )
    except BackchannelError as error:
        return await _mfa_page(request, platform, current, error=form_error(error))
    return await _mfa_page(request, platform, current, codes=codes)


@router.post("/account/mfa/disable")
async def mfa_disable(request: Request, platform: PlatformDep, current: CurrentDep) -> Response:
    """Turn it off: the password and a code (or a recovery code)."""
    form = await request.form()
    try:
        await run_in_threadpool(
            mfa.disable,
            platform,
            current.actor,
            current.token_hash,
            str(form.get("password", "")),
            str(form.get("code", "")),
            gate.client_source(request),
        )
    except BackchannelError as error:
        return await _mfa_page(request, platform, current, error=form_error(error))
    return back("/account/mfa")


def same_site_path(target: str) -> str:
    """``target`` when it is a path of this site (``/d/1?x=2``), else ``/``: the switch
    never sends anyone to another site."""
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


@router.post("/language")
async def language_switch(request: Request, platform: PlatformDep) -> Response:
    """Show the pages in another language, back on the page the switch was used on.

    The choice is kept in a cookie, and on the account of whoever is signed in (then it
    follows them to every browser).
    """
    form = await request.form()
    refuse_other_sites(request)
    chosen = i18n.choose(str(form.get("language", "")))
    try:
        current = await session_of(request, platform)
    except SignInRequired:
        current = None
    if current is not None:
        await check_csrf(request, current.csrf)
        await run_in_threadpool(accounts.set_language, platform, current.actor, chosen)
    response = back(same_site_path(str(form.get("next", "/"))))
    set_language_cookie(request, response, chosen)
    return response
