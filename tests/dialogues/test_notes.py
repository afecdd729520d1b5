"""A delegation's private notes of a meeting: its own members read and write them; for the
other side and the facilitator they do not exist, not even in the dialogue's log."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backchannel.errors import InputError, NotFound
from backchannel.services import audit_log, meetings, notes
from backchannel.services.meetings import MeetingPlan
from conftest import World

from .conftest import Browserless

PLENARY = MeetingPlan(starts="2030-03-14T10:00", zone="Europe/Vienna", place="Vienna")


def _meeting(world: World, plan: MeetingPlan = PLENARY) -> str:
    return meetings.schedule(world.platform, world.actors["facilitator"], world.dialogue_id, plan)


def test_a_side_keeps_its_notes_and_nobody_else_sees_them(world: World) -> None:
    p, d = world.platform, world.dialogue_id
    meeting_id = _meeting(world)
    a1, a2 = world.actors["a1"], world.actors["a2"]
    assert notes.note(p, a1, d, meeting_id).text == ""  # nothing yet
    notes.save_note(p, a1, d, meeting_id, "B1 said corridors could open in May.")
    found = notes.note(p, a2, d, meeting_id)  # the same side
    assert found.text == "B1 said corridors could open in May." and found.updated_at
    assert notes.note(p, world.actors["b1"], d, meeting_id).text == ""  # B's own, empty
    for name in ("facilitator", "observer", "outsider"):
        with pytest.raises(NotFound) as caught:
            notes.note(p, world.actors[name], d, meeting_id)
        assert str(caught.value) == "not found" and caught.value.hint is None
        with pytest.raises(NotFound):
            notes.save_note(p, world.actors[name], d, meeting_id, "forged")
    notes.save_note(p, a2, d, meeting_id, "")  # cleared
    assert notes.note(p, a1, d, meeting_id).text == ""


def test_notes_of_a_caucus_exist_only_for_its_side(world: World) -> None:
    p, d = world.platform, world.dialogue_id
    caucus = _meeting(
        world,
        MeetingPlan(
            starts="2030-03-14T10:00",
            zone="UTC",
            online=True,
            format="caucus",
            sides=[world.delegation_a],
        ),
    )
    notes.save_note(p, world.actors["a1"], d, caucus, "Our line for the plenary.")
    with pytest.raises(NotFound):
        notes.note(p, world.actors["b1"], d, caucus)
    with pytest.raises(NotFound):
        notes.save_note(p, world.actors["b1"], d, caucus, "forged")


def test_saving_notes_leaves_no_trace_in_any_dialogue_log(world: World) -> None:
    p, d = world.platform, world.dialogue_id
    meeting_id = _meeting(world)
    before = {
        name: audit_log.entries(p, world.actors[name], d) for name in ("facilitator", "b1", "a1")
    }
    notes.save_note(p, world.actors["a1"], d, meeting_id, "A private line.")
    for name, entries in before.items():
        assert audit_log.entries(p, world.actors[name], d) == entries, name


def test_notes_have_a_length_limit(world: World) -> None:
    p, d = world.platform, world.dialogue_id
    with pytest.raises(InputError):
        notes.save_note(p, world.actors["a1"], d, _meeting(world), "x" * (notes.MAX_NOTE + 1))


def test_the_page_and_the_api_keep_notes_for_the_own_side(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    d = world.dialogue_id
    meeting_id = _meeting(world)
    url = f"/d/{d}/meetings/{meeting_id}"
    a1, b1, f = clients("a1"), clients("b1"), clients("facilitator")
    assert "Our private notes" in a1.client.get(url).text
    saved = a1.client.post(url + "/note", data={"note": "B1 hinted at May.", "csrf": a1.csrf})
    assert saved.status_code == 200 and "Notes saved." in saved.text
    assert "B1 hinted at May." in saved.text
    for other in (b1, f):
        page = other.client.get(url).text
        assert "B1 hinted at May." not in page
    assert "Our private notes" not in f.client.get(url).text
    api = f"/api/v1/dialogues/{d}/meetings/{meeting_id}/note"
    assert a1.client.get(api).json()["text"] == "B1 hinted at May."
    assert b1.client.get(api).json() == {"meeting_id": meeting_id, "text": "", "updated_at": None}
    assert f.client.get(api).status_code == 404
    put = b1.client.put(api, json={"text": "Ours."}, headers={"X-CSRF-Token": b1.csrf})
    assert put.status_code == 200 and put.json()["text"] == "Ours."
    refused = a1.client.post(
        url + "/note", data={"note": "y" * (notes.MAX_NOTE + 1), "csrf": a1.csrf}
    )
    assert refused.status_code == 422 and 'id="note-error"' in refused.text
    assert "y" * 100 in refused.text  # what was typed is kept
