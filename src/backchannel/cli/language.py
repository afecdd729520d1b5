"""The language the CLI speaks in this run, and its texts in that language.

The root command's ``--language`` picks it, else ``BACKCHANNEL_LANGUAGE``, else the POSIX
locale, else English (:func:`backchannel.i18n.cli_language`, the one decision). Every
command prints its sentences through :func:`text`, and errors are shown through
:func:`translations`; numbers, file names and a case's own names stay as they are.

The catalogue is read only when a command shows a text in a language other than English:
an English run, and ``--help`` in any language, read none.
"""

from __future__ import annotations

from backchannel.messages import ENGLISH, Text, Translations, as_message


class _Chosen:
    """The language of the command being run, and its catalogue once it was needed."""

    language = "en"
    translations: Translations | None = ENGLISH


def use(language: str) -> None:
    """Speak ``language`` (a served one: see :func:`backchannel.i18n.cli_language`); its
    catalogue is read when the first text is shown (``--help`` never reads it)."""
    _Chosen.language = language
    _Chosen.translations = None


def current() -> str:
    """The code of the language spoken now (``en``, ``ru``)."""
    return _Chosen.language


def translations() -> Translations:
    """The catalogue of the language spoken now."""
    if _Chosen.translations is None:
        from backchannel import i18n

        _Chosen.translations = i18n.translations(_Chosen.language)
    return _Chosen.translations


def text(message: Text) -> str:
    """``message`` in the language spoken now (a plain text as it is)."""
    return as_message(message).render(translations())
