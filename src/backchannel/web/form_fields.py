"""The hidden fields every form of the pages carries, in one place.

Templates write ``{{ form_guard() }}`` inside each ``<form method="post">``; what a
form must carry to be accepted (today the session's CSRF token) is decided here only.
"""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from markupsafe import Markup, escape


@pass_context
def form_guard(context: Any) -> Markup:
    """The hidden inputs of a signed-in form (empty when no one is signed in)."""
    current = context.get("current")
    if current is None:
        return Markup("")
    return Markup('<input type="hidden" name="csrf" value="{}">').format(escape(current.csrf))
