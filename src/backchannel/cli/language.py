"""The language the CLI speaks in this run, and its texts in that language.

The root command's ``--language`` picks it, else ``BACKCHANNEL_LANGUAGE``, else the POSIX
locale, else English (:func:`backchannel.i18n.cli_language`, the one decision). Every
command prints its sentences through :func:`text`, and errors are shown through
:func:`translations`; numbers, file names and a case's own names stay as they are.

The catalogue is read only when a command speaks a language other than English, so that
an English run loads no Babel catalogue.
"""

from __future__ import annotations

from backchannel.messages import ENGLISH, Text, Translations, as_message


class _Chosen:
    """The language of the command being run."""

    language = "en"
    translations: Translations = ENGLISH


def use(language: str) -> None:
    """Speak ``language`` (a served one: see :func:`backchannel.i18n.cli_language`)."""
    from backchannel import i18n

    _Chosen.language = language
    _Chosen.translations = i18n.translations(language)


def use_english() -> None:
    """Speak English (the start of every run, until the global options are read)."""
    _Chosen.language = "en"
    _Chosen.translations = ENGLISH


def current() -> str:
    """The code of the language spoken now (``en``, ``ru``)."""
    return _Chosen.language


def translations() -> Translations:
    """The catalogue of the language spoken now."""
    return _Chosen.translations


def text(message: Text) -> str:
    """``message`` in the language spoken now (a plain text as it is)."""
    return as_message(message).render(_Chosen.translations)
