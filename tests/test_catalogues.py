"""The catalogues are in step with the code: no msgid missing, none stale (``make test``).

A failure names the command that fixes it (``make messages``), then what is left to
translate.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from backchannel import catalogues, i18n

ROOT = Path(__file__).resolve().parents[1]


def test_every_catalogue_matches_a_fresh_extraction() -> None:
    for drift in catalogues.drifts(ROOT):
        assert not drift.missing, (
            f"{drift.language}: {len(drift.missing)} msgid(s) without a reviewed translation, "
            f"e.g. {drift.missing[:5]}: run `{catalogues.FIX}` and translate them in "
            f"{i18n.catalogue_path(drift.language)}"
        )
        assert not drift.stale, (
            f"{drift.language}: {len(drift.stale)} msgid(s) no longer in the code, "
            f"e.g. {drift.stale[:5]}: run `{catalogues.FIX}`"
        )


def test_russian_is_served() -> None:
    assert i18n.languages() == ("en", "ru")


@pytest.fixture
def copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sources and catalogues to change (the real ones stay as they are)."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "src", root / "src")
    shutil.copy(ROOT / "babel.cfg", root / "babel.cfg")
    monkeypatch.setattr(i18n, "LOCALE_DIR", root / "src" / "backchannel" / "locale")
    return root


def test_a_new_message_is_missing_until_translated(copy: Path) -> None:
    module = copy / "src" / "backchannel" / "fresh.py"
    module.write_text('from backchannel.messages import t_\n\nNEW = t_("a brand new message")\n')
    (drift,) = catalogues.drifts(copy)
    assert drift.missing == ("a brand new message",) and drift.stale == ()
    assert catalogues.main(["check", "--root", str(copy)]) == 1
    assert catalogues.main(["update", "--root", str(copy)]) == 0  # still missing, written
    with i18n.catalogue_path("ru").open("rb") as po:
        entry = read_po(po, locale="ru").get("a brand new message")
    assert entry is not None and entry.string == ""


def test_a_message_no_longer_used_is_stale_and_goes_with_the_update(copy: Path) -> None:
    for template in (copy / "src" / "backchannel" / "web" / "templates").glob("*.html"):
        template.write_text(template.read_text().replace('{{ _("User name") }}', "Login"))
    (drift,) = catalogues.drifts(copy)
    assert drift.stale == ("User name",) and drift.missing == ()
    assert catalogues.main(["update", "--root", str(copy)]) == 0
    assert catalogues.drifts(copy)[0].stale == ()
    assert catalogues.main(["check", "--root", str(copy)]) == 0


def test_a_fuzzy_translation_counts_as_missing(copy: Path) -> None:
    path = i18n.catalogue_path("ru")
    text = path.read_text(encoding="utf-8")
    marked = text.replace('msgid "Sign out"', '#, fuzzy\nmsgid "Sign out"', 1)
    assert marked != text
    path.write_text(marked, encoding="utf-8")
    (drift,) = catalogues.drifts(copy)
    assert drift.missing == ("Sign out",)
