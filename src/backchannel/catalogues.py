"""Keeping the catalogues in step with the code: extraction, update and check.

``python -m backchannel.catalogues --update`` (``make messages``) extracts every msgid
from the sources (as ``babel.cfg`` says) and updates each language's ``.po``: new
msgids are added untranslated, those no longer used are dropped. ``--check`` (run by
``tests/i18n``) does the same in memory and says what is missing (untranslated or fuzzy)
and what is stale, without writing.

Run from the repository root (where ``babel.cfg`` is).
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from backchannel import i18n

KEYWORDS = {"t_": None, "t_n": (1, 2), "_": None, "gettext": None, "ngettext": (1, 2)}
"""The calls whose arguments are msgids: the Python messages and the templates' gettext."""

WIDTH = 100
FIX = "make messages"
"""The command that brings every catalogue in step (named by a failed check)."""


def extract(root: Path) -> Catalog:
    """Every msgid of the sources under ``root``, as ``root/babel.cfg`` maps them."""
    with (root / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    template = Catalog(project="Backchannel", domain=i18n.DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
        root, method_map, options_map, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


@dataclass(frozen=True)
class Drift:
    """How one catalogue differs from the sources."""

    language: str
    missing: tuple[str, ...]
    """Msgids of the sources without a reviewed translation (absent, empty or fuzzy)."""
    stale: tuple[str, ...]
    """Msgids of the catalogue that the sources no longer use."""


def _key(message_id: str | tuple[str, ...] | list[str]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def updated(template: Catalog, language: str) -> tuple[Catalog, Drift]:
    """The catalogue of ``language`` brought in step with ``template``, and how it differed."""
    with i18n.catalogue_path(language).open("rb") as po:
        catalogue = read_po(po, locale=language, domain=i18n.DOMAIN)
    wanted = {_key(m.id) for m in template if m.id}
    had = {_key(m.id) for m in catalogue if m.id}
    stale = sorted(had - wanted)
    catalogue.update(template, no_fuzzy_matching=True, update_creation_date=False)
    missing = sorted(
        _key(m.id)
        for m in catalogue
        if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string]))
    )
    return catalogue, Drift(language, tuple(missing), tuple(stale))


def write(catalogue: Catalog, path: Path) -> None:
    """Write a catalogue as its ``.po`` (obsolete entries dropped, files without lines)."""
    out = io.BytesIO()
    write_po(out, catalogue, width=WIDTH, ignore_obsolete=True, include_lineno=False)
    path.write_bytes(out.getvalue())


def drifts(root: Path) -> list[Drift]:
    """How each catalogue differs from the sources under ``root`` (nothing is written)."""
    template = extract(root)
    return [updated(template, language)[1] for language in i18n.languages()[1:]]


def main(argv: Sequence[str] | None = None) -> int:
    """``update`` every catalogue, or ``check`` them (exit 1 when one drifted)."""
    parser = argparse.ArgumentParser(prog="python -m backchannel.catalogues")
    parser.add_argument("action", choices=("update", "check"))
    parser.add_argument("--root", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    template = extract(args.root)
    drifted = False
    for language in i18n.languages()[1:]:
        catalogue, drift = updated(template, language)
        if args.action == "update":
            write(catalogue, i18n.catalogue_path(language))
        for kind, ids in (("missing", drift.missing), ("stale", drift.stale)):
            if ids:
                drifted = True
                print(f"{language}: {len(ids)} {kind}", file=sys.stderr)
    if args.action == "check" and drifted:
        print(f"run `{FIX}`, then translate what is missing", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
