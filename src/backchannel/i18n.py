"""The languages Backchannel speaks: gettext catalogues read from their ``.po`` files.

English is the source language (every msgid is English); each other language has its
catalogue at ``locale/<language>/LC_MESSAGES/messages.po`` in the package. A catalogue is
read with Babel the first time it is needed and compiled in memory into a
:class:`gettext.GNUTranslations` (no ``.mo`` file, no build step); an entry still marked
fuzzy is left out, so its English shows until it is reviewed. Babel is imported only then
(and to negotiate a browser's languages or write a date): the CLI starts without it.

``make messages`` extracts every msgid (``t_``/``t_n`` in Python, ``_``/``ngettext`` in
the templates, see ``babel.cfg``) and updates each catalogue; ``tests/i18n`` fails when a
catalogue misses an entry or keeps a stale one.
"""

from __future__ import annotations

import gettext
import io
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from backchannel.errors import InputError
from backchannel.messages import ENGLISH, Translations, t_

LOCALE_DIR = Path(__file__).parent / "locale"
"""Where the catalogues are: ``<language>/LC_MESSAGES/messages.po``."""

DOMAIN = "messages"
SOURCE = "en"
"""The source language: its text is the msgid, it has no catalogue."""

LANGUAGE_NAMES: Mapping[str, str] = {"en": "English", "ru": "Русский"}
"""Each language's name in itself, as the switch shows it (a language without one shows its
code)."""


def catalogue_path(language: str) -> Path:
    """The ``.po`` file of ``language``."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def languages() -> tuple[str, ...]:
    """Every language served: English, then each language that has a catalogue, by code."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE, *found)


@cache
def translations(language: str) -> Translations:
    """The catalogue of ``language`` (English for the source language or an unknown one)."""
    if language == SOURCE or language not in languages():
        return ENGLISH
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with catalogue_path(language).open("rb") as po:
        catalogue = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)  # fuzzy entries left out
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def choose(language: str) -> str:
    """``language`` if it is served, else an InputError that lists those that are."""
    if language not in languages():
        raise InputError(
            t_("{language} is not a language Backchannel speaks", language=repr(language)),
            hint=t_("choose one of: {languages}", languages=", ".join(languages())),
        )
    return language


def parse_accept_language(header: str | None) -> list[str]:
    """The languages of an ``Accept-Language`` header, most preferred first.

    Entries with ``q=0`` (not acceptable) and malformed weights are left out; equal weights
    keep the header's order.
    """
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        weight = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                weight = float(value)
            except ValueError:
                continue
        if weight > 0:
            weighted.append((-weight, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(header: str | None) -> str | None:
    """The served language that an ``Accept-Language`` header prefers, if any."""
    from babel.core import negotiate_locale

    found: str | None = negotiate_locale(parse_accept_language(header), list(languages()), sep="-")
    return found


LANGUAGE_VARIABLE = "BACKCHANNEL_LANGUAGE"
"""The environment variable that chooses the CLI's language when ``--language`` does not."""


def cli_language(given: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The language the CLI speaks: the one decision, for every command.

    ``given`` (the root command's ``--language``), else :data:`LANGUAGE_VARIABLE`, else
    the POSIX locale (:func:`from_environment`), else English. A language named by the
    option or the variable must be served (InputError otherwise: a typo is said, not
    ignored); a locale Backchannel does not speak (``C``, ``de_DE``) means English.
    """
    environ = os.environ if environ is None else environ
    if given is not None:
        return choose(given.strip())
    named = environ.get(LANGUAGE_VARIABLE, "").strip()
    if named:
        if named not in languages():
            raise InputError(
                t_(
                    "{variable}={language} is not a language Backchannel speaks",
                    variable=LANGUAGE_VARIABLE,
                    language=repr(named),
                ),
                hint=t_("choose one of: {languages}", languages=", ".join(languages())),
            )
        return named
    return from_environment(environ)


def from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The served language of the POSIX locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``),
    else English: how the CLI chooses when not told."""
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            code = value.split(".")[0].split("@")[0]  # ru_RU.UTF-8@euro: ru_RU
            for candidate in (code, code.split("_")[0]):
                if candidate in languages():
                    return candidate
            return SOURCE
    return SOURCE


def moment_text(moment: datetime, language: str) -> str:
    """``moment`` written as ``language`` writes a date and time to the second, in UTC
    (for documents made outside a page, such as readouts)."""
    from babel.dates import format_datetime

    return format_datetime(moment.astimezone(UTC), "medium", tzinfo=UTC, locale=choose(language))
