"""The hidden fields every form of the pages carries, in one place.

Templates write ``{{ form_guard() }}`` inside each ``<form method="post">``; what a
form must carry to be accepted is decided here only: the session's CSRF token (when
someone is signed in) and a fresh one-time token, so that the form acts once
(:mod:`backchannel.web.once`).
"""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from markupsafe import Markup, escape

from backchannel.web.once import FORM_FIELD, new_form_token


@pass_context
def form_guard(context: Any, once: bool = True) -> Markup:
    """The hidden inputs of a form: its one-time token, and the CSRF token when signed in.

    ``once=False`` leaves the one-time token out, for the forms of every page's header
    (sign out, the language switch) whose repetition is harmless: a page then carries no
    random value but in the forms that need one.
    """
    fields = (
        Markup('<input type="hidden" name="{}" value="{}">').format(FORM_FIELD, new_form_token())
        if once
        else Markup()
    )
    current = context.get("current")
    if current is None:
        return fields
    return fields + Markup('<input type="hidden" name="csrf" value="{}">').format(
        escape(current.csrf)
    )
