"""Messages that keep their msgid and parameters until they are shown.

Code that tells a user something (an error, a hint) writes it as
``t_("the note is longer than {limit} characters", limit=4000)``: a :class:`Message`
that prints in English through ``str()`` (the CLI, the logs, the tests) and in the
reader's language through :meth:`Message.render` (the web pages and the JSON API, with
a catalogue of :mod:`backchannel.i18n`). The msgid is the English text with named
``str.format`` fields; Babel extracts it through the keywords ``t_`` and ``t_n``
(``make messages``).

A parameter may itself be a :class:`Message` (a phrase chosen at run time); it is shown
in the same language. Any other parameter is shown as ``str.format`` shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


class Translations(Protocol):
    """What rendering needs of a catalogue: gettext's two lookups."""

    def gettext(self, message: str, /) -> str:
        """The translation of ``message`` (itself when there is none)."""

    def ngettext(self, singular: str, plural: str, n: int, /) -> str:
        """The translation of the form of ``singular``/``plural`` that fits ``n``."""


class English:
    """The source language: every msgid is its own translation."""

    def gettext(self, message: str, /) -> str:
        """``message`` itself."""
        return message

    def ngettext(self, singular: str, plural: str, n: int, /) -> str:
        """English's two forms: one, and every other number."""
        return singular if n == 1 else plural


ENGLISH = English()


@dataclass(frozen=True)
class Message:
    """A text to show, kept as its msgid and parameters until the reader's language is known.

    Parameters
    ----------
    msgid:
        The English text, with ``{name}`` fields (``str.format``).
    params:
        The value of each field.
    plural:
        The English plural form, when the text depends on the number ``params["n"]``.
    verbatim:
        Shown as it is in every language (a text that was never a msgid: a file's own
        words, a library's message).
    """

    msgid: str
    params: Mapping[str, object] = field(default_factory=dict)
    plural: str | None = None
    verbatim: bool = False

    def render(self, translations: Translations = ENGLISH) -> str:
        """The text in the language of ``translations`` (English by default)."""
        if self.verbatim:
            return self.msgid
        if self.plural is None:
            text = translations.gettext(self.msgid)
        else:
            count = self.params["n"]
            assert isinstance(count, int)
            text = translations.ngettext(self.msgid, self.plural, count)
        if not self.params:
            return text
        shown = {
            key: value.render(translations) if isinstance(value, Message) else value
            for key, value in self.params.items()
        }
        return text.format(**shown)

    def __str__(self) -> str:
        return self.render()

    def replaced(self, old: str, new: str) -> Message:
        """This message with ``old`` replaced by ``new`` in its verbatim text and in every
        text among its parameters, at any depth (a temporary folder a reader must not see)."""
        if self.verbatim:
            return verbatim(self.msgid.replace(old, new))
        params = {
            key: value.replaced(old, new)
            if isinstance(value, Message)
            else value.replace(old, new)
            if isinstance(value, str)
            else value
            for key, value in self.params.items()
        }
        return Message(self.msgid, params, self.plural)


def t_(msgid: str, /, **params: object) -> Message:
    """A message to translate: ``t_("{name} is not an option", name=name)``."""
    return Message(msgid, params)


def t_n(singular: str, plural: str, /, n: int, **params: object) -> Message:
    """A message whose form follows the number ``n`` (``{n}`` in the text)."""
    return Message(singular, {"n": n, **params}, plural=plural)


def verbatim(text: str) -> Message:
    """A text shown as it is in every language (it was never a msgid)."""
    return Message(text, verbatim=True)


Text = str | Message
"""What an error or a hint may be given as: a :class:`Message`, or a plain text (shown as it
is in every language)."""


def as_message(text: Text) -> Message:
    """``text`` as a :class:`Message` (a plain text is shown verbatim)."""
    return text if isinstance(text, Message) else verbatim(text)


Render = Callable[[Message], str]
"""How one reader's language turns a message into text (:meth:`Message.render` bound to a
catalogue)."""
