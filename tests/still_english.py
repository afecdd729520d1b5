"""The "still English" detector of the Russian tests: a Latin word that is no allowed name.

The Russian page walk (``tests/dialogues/test_every_page_in_russian.py``) and the Russian
CLI (``tests/test_cli_in_russian.py``) both use it.
"""

from __future__ import annotations

import re

NOT_ENGLISH = {
    "Backchannel",  # the product's name
    "UTC",  # the time zone's name, the same in Russian
    "IANA",  # the time zone database's name
    "SWIFT",  # a proper name in an option of the demo
    "Genius",  # the negotiation competition's file format
    "yaml",  # file name endings
    "yml",
    "json",
    "xml",
    "gmcr",
    "ad",  # "ad referendum": Latin, written so in Russian diplomatic texts too
    "referendum",
    "if",  # keywords of the preference statements' syntax, typed as they are
    "iff",
    "GMCR",  # the graph model and its solution concepts, abbreviated so in Russian too
    "GMR",
    "SMR",
    "SEQ",
    "SIM",
    "SVG",  # the picture's file format
    "HTML",  # the readouts' file formats and paper size, named so in Russian too
    "PDF",
    "Letter",
    "PEM",  # the certificate's file format, and its digest's name (SHA-256)
    "SHA",
}
"""Latin words that may stand on a Russian page."""

LATIN = re.compile(r"[A-Za-z][A-Za-z'’]*[A-Za-z]")
"""A word in Latin letters (of two letters or more: a lone letter is a placeholder)."""
ZONE = re.compile(r"\b[A-Z][A-Za-z]+/[A-Za-z_/+-]+")
"""An IANA time zone's name (Europe/Vienna): an identifier, the same in every language."""
STATE = re.compile(r"\b[YN]{2,}\b")
"""A state of an escalation model in Y/N form (each option taken or not): a code."""


def english_in(texts: list[str], allowed: set[str]) -> list[str]:
    """The texts that hold a Latin word not in ``allowed``."""
    return [
        t
        for t in texts
        if any(w not in allowed for w in LATIN.findall(STATE.sub("", ZONE.sub("", t))))
    ]
