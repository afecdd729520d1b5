"""Non-papers: unattributed drafts seen by those they are for, destroyed at expiry so that
neither their text nor their key survives in the database files."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from backchannel.cli import main
from backchannel.errors import InputError, NotFound
from backchannel.services import audit_log, nonpapers
from backchannel.services.platform import Platform
from backchannel.storage import nonpapers as stored
from backchannel.storage.tables import NonPaperRow
from conftest import World

from .conftest import Browserless
from .test_at_rest import database_files

NOW = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)


def _texts(world: World, name: str, now: datetime = NOW) -> list[str]:
    found = nonpapers.nonpapers(world.platform, world.actors[name], world.dialogue_id, now=now)
    return [n.text for n in found]


def test_the_facilitators_non_paper_reaches_every_side_and_a_sides_only_the_facilitator(
    world: World,
) -> None:
    p, d = world.platform, world.dialogue_id
    nonpapers.circulate(p, world.actors["facilitator"], d, "Elements of a deal.", 7, now=NOW)
    later = NOW + timedelta(minutes=1)
    nonpapers.circulate(p, world.actors["a1"], d, "What A could accept.", 3, now=later)
    assert _texts(world, "facilitator") == ["Elements of a deal.", "What A could accept."]
    assert _texts(world, "a2") == ["Elements of a deal.", "What A could accept."]
    assert _texts(world, "b1") == ["Elements of a deal."]
    for name in ("observer", "outsider"):
        with pytest.raises(NotFound):
            nonpapers.nonpapers(p, world.actors[name], d, now=NOW)
        with pytest.raises(NotFound):
            nonpapers.circulate(p, world.actors[name], d, "forged", 3, now=NOW)
    seen = nonpapers.nonpapers(p, world.actors["facilitator"], d, now=NOW)
    assert [(n.from_facilitator, n.mine) for n in seen] == [(True, True), (False, False)]
    mine = nonpapers.nonpapers(p, world.actors["a2"], d, now=NOW)
    assert [(n.from_facilitator, n.mine) for n in mine] == [(True, False), (False, True)]
    assert not {"author", "origin", "by"} & set(nonpapers.NonPaperView.__dataclass_fields__)


@pytest.mark.parametrize(("text", "days"), [("  ", 3), ("text", 0), ("text", 91)])
def test_bad_non_papers_are_refused(world: World, text: str, days: int) -> None:
    with pytest.raises(InputError):
        nonpapers.circulate(
            world.platform, world.actors["facilitator"], world.dialogue_id, text, days, now=NOW
        )


def test_a_non_paper_expires_on_access_and_the_log_keeps_only_that_it_existed(
    world: World,
) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    made = nonpapers.circulate(p, f, d, "Short-lived.", 2, now=NOW)
    assert _texts(world, "b1", NOW + timedelta(days=2) - timedelta(seconds=1)) == ["Short-lived."]
    assert _texts(world, "b1", NOW + timedelta(days=2)) == []
    with p.view() as s:
        assert s.get(NonPaperRow, made) is None
    actions = [e.action for e in audit_log.entries(p, world.actors["b1"], d)]
    assert actions[:2] == ["nonpaper.expired", "nonpaper.circulated"]


def test_the_sweep_destroys_what_is_due_in_every_dialogue(world: World) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    nonpapers.circulate(p, f, d, "One.", 1, now=NOW)
    nonpapers.circulate(p, f, d, "Two.", 5, now=NOW)
    assert nonpapers.expire(p, now=NOW) == 0
    assert nonpapers.expire(p, now=NOW + timedelta(days=1)) == 1
    assert _texts(world, "facilitator", NOW + timedelta(days=1)) == ["Two."]
    assert nonpapers.expire(p, now=NOW + timedelta(days=30)) == 1


def _fragments(blob: bytes) -> list[bytes]:
    """Pieces of a stored value that no other data would contain by chance."""
    return [blob[k : k + 16] for k in range(0, len(blob) - 16, 16)]


def _residue(platform: Platform, secrets: dict[str, bytes]) -> list[tuple[str, str]]:
    return [
        (where, name)
        for where, data in database_files(platform).items()
        for name, blob in secrets.items()
        if any(piece in data for piece in _fragments(blob))
    ]


def _plant(world: World) -> dict[str, bytes]:
    """A non-paper whose text is a canary; its text, sealed text, sealed key and key."""
    p, d = world.platform, world.dialogue_id
    canary = "cnry-nonpaper-" + "q" * 40
    made = nonpapers.circulate(p, world.actors["facilitator"], d, canary, 1, now=NOW)
    with p.view() as s:
        row = s.get(NonPaperRow, made)
        assert row is not None
        key = base64.b64decode(p.keys(s, d).open("non_papers", "key", row.id, row.key_ct))
        planted = {"sealed text": row.body_sealed, "sealed key": row.key_ct}
    planted |= {"text": canary.encode(), "key": key, "key (base64)": base64.b64encode(key)}
    return planted


def test_no_text_or_key_of_an_expired_non_paper_survives_in_the_database_files(
    world: World,
) -> None:
    planted = _plant(world)
    residue = _residue(world.platform, planted)
    assert ("backchannel.db-wal", "sealed text") in residue  # the control: it was written
    assert not {name for _, name in residue} & {"text", "key", "key (base64)"}  # sealed
    assert nonpapers.expire(world.platform, now=NOW + timedelta(days=1)) == 1
    assert _residue(world.platform, planted) == []  # the server still running


def test_without_emptying_the_wal_the_sealed_text_would_survive(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The negative control: the scan finds what an expiry without a checkpoint leaves."""
    monkeypatch.setattr(stored, "flush_to_disk", lambda engine: None)
    planted = _plant(world)
    nonpapers.expire(world.platform, now=NOW + timedelta(days=1))
    assert _residue(world.platform, planted) != []


def test_the_pages_and_the_api_circulate_and_list_non_papers(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    d = world.dialogue_id
    f, a1, b1 = clients("facilitator"), clients("a1"), clients("b1")
    page = f.client.get(f"/d/{d}/nonpapers")
    assert page.status_code == 200 and "Circulate a non-paper" in page.text
    done = f.client.post(
        f"/d/{d}/nonpapers", data={"text": "Elements.", "days": "7", "csrf": f.csrf}
    )
    assert done.status_code == 200 and "Elements." in done.text
    assert "Elements." in b1.client.get(f"/d/{d}/nonpapers").text
    refused = a1.client.post(
        f"/d/{d}/nonpapers", data={"text": "Kept text.", "days": "500", "csrf": a1.csrf}
    )
    assert refused.status_code == 422 and "Kept text." in refused.text
    assert 'id="days-error"' in refused.text
    api = f"/api/v1/dialogues/{d}/nonpapers"
    made = a1.client.post(
        api, json={"text": "A's idea.", "days": 3}, headers={"X-CSRF-Token": a1.csrf}
    )
    assert made.status_code == 201
    assert [n["text"] for n in b1.client.get(api).json()] == ["Elements."]
    listed = f.client.get(api).json()
    assert [(n["text"], n["from_facilitator"]) for n in listed] == [
        ("Elements.", True),
        ("A's idea.", False),
    ]
    assert clients("observer").client.get(api).status_code == 404


def test_the_sweep_command_destroys_what_is_due(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    p = world.platform
    two_days_ago = datetime.now(UTC) - timedelta(days=2)  # the command reads the real clock
    nonpapers.circulate(
        p, world.actors["facilitator"], world.dialogue_id, "Gone.", 1, now=two_days_ago
    )
    settings = p.settings
    argv = ["nonpapers", "expire", "--database", settings.database_url]
    argv += ["--key-file", str(settings.key_file)]
    assert main(argv) == 0
    assert "1 non-paper destroyed" in capsys.readouterr().out
    assert main(argv) == 0
    assert "0 non-papers destroyed" in capsys.readouterr().out
