"""The language of each request, and the templates that speak it.

A request's language is the account's choice when someone is signed in and chose one,
else the cookie the switch sets, else the browser's ``Accept-Language``, else English.
Every template gets gettext (``{{ _("text") }}``, ``{{ ngettext(...) }}``, ``{% trans %}``)
in that language, the filters ``datetime``, ``date`` and ``number`` (Babel's formats of the
language), and any :class:`~backchannel.messages.Message` it prints (``{{ error.message }}``)
is shown in that language.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal
from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context

from backchannel import i18n
from backchannel.errors import shorten
from backchannel.messages import Message, Render, Translations

COOKIE = "bc_language"
"""The cookie the switch sets (the language only: nothing secret, readable by anyone)."""

COOKIE_DAYS = 365


def language_of(request: Request) -> str:
    """The language of this request (see the module's docstring).

    The account's choice is known once its session was read (``request.state.language``,
    set by :func:`remember_account_language`); a request without a session is answered in
    the cookie's language, then the browser's.
    """
    chosen = getattr(request.state, "language", None)
    if chosen in i18n.languages():
        return str(chosen)
    cookie = request.cookies.get(COOKIE)
    if cookie in i18n.languages():
        return str(cookie)
    return i18n.negotiate(request.headers.get("accept-language")) or i18n.SOURCE


def remember_account_language(request: Request, language: str | None) -> None:
    """Note the signed-in account's chosen language for the rest of the request."""
    if language is not None:
        request.state.language = language


def translations_of(request: Request) -> Translations:
    """The catalogue of this request's language."""
    return i18n.translations(language_of(request))


def render_of(request: Request) -> Render:
    """How this request's language shows a message, in full (the texts drawn into a page's
    charts)."""
    translations = translations_of(request)
    return lambda message: message.render(translations)


def say(request: Request, message: Message) -> str:
    """``message`` in this request's language, cut to a screen."""
    return shorten(message.render(translations_of(request)))


def set_language_cookie(request: Request, response: Response, language: str) -> None:
    """Remember ``language`` in this browser (for pages before and without a sign-in)."""
    response.set_cookie(
        COOKIE,
        language,
        max_age=COOKIE_DAYS * 24 * 3600,
        samesite="lax",
        secure=request.app.state.settings.tls,
        path="/",
    )


def _language(context: Context) -> str:
    request = context.get("request")
    return language_of(request) if isinstance(request, Request) else i18n.SOURCE


def _translations(context: Context) -> Translations:
    return i18n.translations(_language(context))


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _translations(context).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _translations(context).ngettext(singular, plural, n)


@pass_context
def _finalize(context: Context, value: Any) -> Any:
    """What ``{{ value }}`` prints: a message in the page's language, the rest as it is."""
    if isinstance(value, Message):
        return shorten(value.render(_translations(context)))
    return value


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@pass_context
def _datetime(
    context: Context, moment: datetime, form: str = "medium", zone: str | None = None
) -> str:
    """A date and time in the page's language (``short``, ``medium``, ``long``, or
    ``minute``: the medium date and the time to the minute), in UTC or in the IANA time
    zone ``zone``."""
    where = UTC if zone is None else ZoneInfo(zone)
    language = _language(context)
    if form == "minute":
        there = _utc(moment).astimezone(where)
        day = format_date(there.date(), "medium", locale=language)
        return f"{day}, {format_time(there, 'short', tzinfo=where, locale=language)}"
    return format_datetime(_utc(moment), form, tzinfo=where, locale=language)


@pass_context
def _date(context: Context, moment: datetime, form: str = "medium") -> str:
    """A date in the page's language."""
    return format_date(_utc(moment).astimezone(UTC).date(), form, locale=_language(context))


@pass_context
def _number(context: Context, value: float, digits: int | None = None) -> str:
    """A number in the page's language (its decimal sign and digit groups), with exactly
    ``digits`` decimals when given."""
    pattern = None if digits is None else "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(value, format=pattern, locale=_language(context))


def here(request: Request) -> str:
    """Where the switch brings the reader back: this page's path, or, for the answer to a
    form (a path that may have no page of its own), the start.

    The query is left out: a page never shows back what the address carried.
    """
    return request.url.path if request.method in ("GET", "HEAD") else "/"


def _page_language(request: Request) -> dict[str, Any]:
    """What every page knows of languages: its own (``<html lang>``), those served, and
    the page the switch comes back to."""
    return {
        "language": language_of(request),
        "languages": [(code, i18n.LANGUAGE_NAMES.get(code, code)) for code in i18n.languages()],
        "here": here(request),
    }


def templates(directory: Path) -> Jinja2Templates:
    """The templates of the pages, speaking each request's language."""
    env = Environment(
        loader=FileSystemLoader(str(directory)),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        finalize=_finalize,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    env.filters["datetime"] = _datetime
    env.filters["date"] = _date
    env.filters["number"] = _number
    return Jinja2Templates(env=env, context_processors=[_page_language])
