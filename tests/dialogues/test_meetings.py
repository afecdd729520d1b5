"""Meetings and their shared records, through the services: scheduling, visibility,
pseudonymous attendance, the record's versions, confirmations and the agreed record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from backchannel.errors import FieldError, InputError, NotAllowedNow, NotFound
from backchannel.services import dialogues, meetings, records
from backchannel.services.meetings import MeetingPlan
from backchannel.services.platform import Platform
from backchannel.storage import migrate, repo
from backchannel.storage.db import make_engine
from backchannel.storage.tables import MeetingRecordRow
from conftest import World, build_world, close, make_settings

from .conftest import Browserless, row_counts


def member_id(world: World, name: str) -> str:
    """The seat id of one of the world's actors."""
    with world.platform.view() as s:
        found = repo.member(s, world.dialogue_id, world.actors[name].user_id)
        assert found is not None
        return found.id


def plenary(world: World, **changes: object) -> MeetingPlan:
    """A plenary in Vienna on 14 March 2030 at 10:00 local time, a1 and b1 present."""
    values: dict[str, object] = {
        "starts": "2030-03-14T10:00",
        "zone": "Europe/Vienna",
        "place": "Palais Todesco",
        "issues": [world.issues[0]],
        "items": ["Humanitarian corridors"],
        "attendees": [member_id(world, "a1"), member_id(world, "b1")],
        "round_number": 1,
    }
    values.update(changes)
    return MeetingPlan(**values)  # type: ignore[arg-type]


def test_a_meeting_keeps_utc_and_its_zone(world: World) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    meeting_id = meetings.schedule(p, f, d, plenary(world))
    found = meetings.meeting(p, f, d, meeting_id)
    assert found.starts_at == datetime(2030, 3, 14, 9, 0, tzinfo=UTC)  # CET is UTC+1
    assert (found.zone, found.local) == ("Europe/Vienna", "2030-03-14 10:00")
    assert found.issues == [world.issues[0]] and found.items == ["Humanitarian corridors"]
    assert found.place == "Palais Todesco" and not found.online
    assert found.round_number == 1 and found.sides == [world.delegation_a, world.delegation_b]
    summer = meetings.schedule(p, f, d, plenary(world, starts="2030-07-14 10:00"))
    assert meetings.meeting(p, f, d, summer).starts_at.hour == 8  # CEST is UTC+2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"zone": "Mars/Olympus"}, "zone"),
        ({"zone": "../etc/passwd"}, "zone"),
        ({"starts": "14/03/2030"}, "starts"),
        ({"starts": "2030-03-14T10:00+01:00"}, "starts"),
        ({"format": "summit"}, "format"),
        ({"format": "caucus", "sides": []}, "sides"),
        ({"format": "bilateral", "sides": ["nope", "nada"]}, "sides"),
        ({"place": "  "}, "place"),
        ({"issues": ["not-an-issue"]}, "issues"),
        ({"round_number": 7}, "round"),
        ({"attendees": ["nobody"]}, "attendees"),
    ],
)
def test_bad_plans_name_their_field(world: World, changes: dict[str, object], field: str) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    with pytest.raises(FieldError) as caught:
        meetings.schedule(p, f, d, plenary(world, **changes))
    assert caught.value.field == field
    assert meetings.meetings(p, f, d) == []  # nothing half-written


def test_only_the_facilitator_schedules_edits_and_cancels(world: World) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    meeting_id = meetings.schedule(p, f, d, plenary(world))
    for name in ("a1", "b1", "observer", "outsider"):
        actor = world.actors[name]
        with pytest.raises(NotFound):
            meetings.schedule(p, actor, d, plenary(world))
        with pytest.raises(NotFound):
            meetings.edit(p, actor, d, meeting_id, plenary(world, place="Elsewhere"))
        with pytest.raises(NotFound):
            meetings.cancel(p, actor, d, meeting_id)
    meetings.edit(p, f, d, meeting_id, plenary(world, online=True, attendees=[]))
    changed = meetings.meeting(p, f, d, meeting_id)
    assert changed.online and changed.place == "" and changed.attendees == []
    meetings.cancel(p, f, d, meeting_id)
    assert meetings.meeting(p, f, d, meeting_id).cancelled


def test_the_other_side_sees_attendees_by_pseudonym_only(world: World) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    meeting_id = meetings.schedule(p, f, d, plenary(world))

    def names(reader: str) -> dict[str, str]:
        found = meetings.meeting(p, world.actors[reader], d, meeting_id)
        return {a.member_id: a.name for a in found.attendees}

    a1, b1 = member_id(world, "a1"), member_id(world, "b1")
    assert names("facilitator") == {a1: "A1", b1: "B1"}
    assert names("a2")[a1] == "A1" and names("a2")[b1] != "B1"
    assert names("b1")[b1] == "B1" and names("b1")[a1] != "A1"
    assert names("observer")[a1] != "A1" and names("observer")[b1] != "B1"
    assert names("a2")[b1] == names("observer")[b1]  # the pseudonym, the same for all


def test_a_caucus_is_hidden_from_the_other_side_and_the_observers(world: World) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    caucus = meetings.schedule(
        p,
        f,
        d,
        plenary(
            world, format="caucus", sides=[world.delegation_a], attendees=[member_id(world, "a1")]
        ),
    )
    assert meetings.meeting(p, world.actors["a2"], d, caucus).format == "caucus"
    for name in ("b1", "observer", "outsider"):
        with pytest.raises(NotFound):
            meetings.meeting(p, world.actors[name], d, caucus)
        if name != "outsider":
            assert meetings.meetings(p, world.actors[name], d) == []
    with pytest.raises(FieldError):  # b1 does not take part in A's caucus
        meetings.edit(p, f, d, caucus, plenary(world, format="caucus", sides=[world.delegation_a]))


def test_next_meeting_skips_past_and_cancelled_ones(world: World) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    now = datetime(2030, 1, 1, tzinfo=UTC)
    past = meetings.schedule(p, f, d, plenary(world, starts="2029-12-01T10:00"))
    cancelled = meetings.schedule(p, f, d, plenary(world, starts="2030-02-01T10:00"))
    meetings.cancel(p, f, d, cancelled)
    upcoming = meetings.schedule(p, f, d, plenary(world, starts="2030-03-01T10:00"))
    found = meetings.next_meeting(p, world.actors["b1"], d, now=now)
    assert found is not None and found.id == upcoming
    history = meetings.meetings(p, world.actors["b1"], d, now=now)
    assert [m.id for m in history] == [past, cancelled, upcoming]
    assert [m.past for m in history] == [True, False, False]
    assert meetings.next_meeting(p, f, d, now=now + timedelta(days=365)) is None


def test_the_overview_names_the_next_meeting_to_those_who_may_see_it(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    overview = f"/d/{d}"
    assert "none scheduled" in clients("b1").client.get(overview).text
    caucus = plenary(
        world,
        starts="2031-05-02T09:30",
        format="caucus",
        place="Kyiv embassy",
        sides=[world.delegation_a],
        attendees=[member_id(world, "a1")],
    )
    meetings.schedule(p, f, d, caucus)
    assert "Kyiv embassy" in clients("a1").client.get(overview).text  # its own side's caucus
    assert "Kyiv embassy" not in clients("b1").client.get(overview).text  # not the other's
    assert "Kyiv embassy" not in clients("observer").client.get(overview).text
    later = meetings.schedule(p, f, d, plenary(world, starts="2031-06-01T10:00"))
    page = clients("b1").client.get(overview).text
    assert f'href="/d/{d}/meetings/{later}"' in page and "Jun 1, 2031, 10:00" in page


# ---------------------------------------------------------------- the shared record
def test_the_record_has_no_speaker_field_by_construction() -> None:
    columns = {c.name for c in inspect(MeetingRecordRow).columns}
    assert columns == {"id", "dialogue_id", "meeting_id", "version", "body_ct", "created_at"}
    fields = set(records.RecordView.__dataclass_fields__)
    assert not {f for f in columns | fields if "speaker" in f or "author" in f or "by" in f}


def _meeting(world: World) -> str:
    return meetings.schedule(
        world.platform, world.actors["facilitator"], world.dialogue_id, plenary(world)
    )


def test_a_record_confirmed_by_every_side_is_agreed(world: World) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    a1, b1 = world.actors["a1"], world.actors["b1"]
    meeting_id = _meeting(world)
    with pytest.raises(NotFound):  # no record yet
        records.record(p, a1, d, meeting_id)
    assert records.write(p, f, d, meeting_id, "Both sides spoke of corridors.") == 1
    records.answer(p, a1, d, meeting_id, 1, "confirmed")
    found = records.record(p, b1, d, meeting_id)
    assert found.answers == {world.delegation_a: "confirmed", world.delegation_b: "pending"}
    assert not found.agreed
    with pytest.raises(NotFound):  # the observer sees only an agreed record
        records.record(p, world.actors["observer"], d, meeting_id)
    records.answer(p, b1, d, meeting_id, 1, "confirmed")
    agreed = records.record(p, world.actors["observer"], d, meeting_id)
    assert agreed.agreed and agreed.text == "Both sides spoke of corridors."


def test_editing_an_agreed_record_makes_a_new_version_without_answers(world: World) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    meeting_id = _meeting(world)
    records.write(p, f, d, meeting_id, "First.")
    for name in ("a1", "b1"):
        records.answer(p, world.actors[name], d, meeting_id, 1, "confirmed")
    assert records.record(p, f, d, meeting_id).agreed
    assert records.write(p, f, d, meeting_id, "Second.") == 2
    found = records.record(p, f, d, meeting_id)
    assert (found.version, found.text, found.agreed) == (2, "Second.", False)
    assert set(found.answers.values()) == {"pending"}
    with pytest.raises(NotAllowedNow):  # answering a version that is no longer current
        records.answer(p, world.actors["a1"], d, meeting_id, 1, "confirmed")


def test_a_request_for_changes_is_seen_by_its_side_and_the_facilitator_only(
    world: World,
) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    meeting_id = _meeting(world)
    records.write(p, f, d, meeting_id, "Draft.")
    records.answer(p, world.actors["a1"], d, meeting_id, 1, "changes", "Strike paragraph 2.")
    for name, answer, comments in (
        ("facilitator", "changes", {world.delegation_a: "Strike paragraph 2."}),
        ("a2", "changes", {world.delegation_a: "Strike paragraph 2."}),
        ("b1", "pending", {}),
    ):
        found = records.record(p, world.actors[name], d, meeting_id)
        assert found.answers[world.delegation_a] == answer, name
        assert found.comments == comments, name
    with pytest.raises(InputError):  # changes need a comment
        records.answer(p, world.actors["b1"], d, meeting_id, 1, "changes", " ")


def test_only_sides_taking_part_answer_and_only_the_facilitator_writes(world: World) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    meeting_id = _meeting(world)
    records.write(p, f, d, meeting_id, "Draft.")
    for name in ("a1", "b1", "observer", "outsider"):
        with pytest.raises(NotFound):
            records.write(p, world.actors[name], d, meeting_id, "Forged.")
    for name in ("facilitator", "observer", "outsider"):
        with pytest.raises(NotFound):
            records.answer(p, world.actors[name], d, meeting_id, 1, "confirmed")
    caucus = meetings.schedule(
        p, f, d, plenary(world, format="caucus", sides=[world.delegation_a], attendees=[])
    )
    records.write(p, f, d, caucus, "Caucus notes.")
    with pytest.raises(NotFound):
        records.answer(p, world.actors["b1"], d, caucus, 1, "confirmed")
    with pytest.raises(NotFound):
        records.record(p, world.actors["b1"], d, caucus)
    records.answer(p, world.actors["a2"], d, caucus, 1, "confirmed")
    assert records.record(p, f, d, caucus).agreed  # a caucus has one side to agree


def test_a_cancelled_meeting_takes_no_record(world: World) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    meeting_id = _meeting(world)
    meetings.cancel(p, f, d, meeting_id)
    with pytest.raises(NotAllowedNow):
        records.write(p, f, d, meeting_id, "Nothing.")


def test_a_meeting_of_another_dialogue_is_not_found(world: World) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    meeting_id = _meeting(world)
    second = dialogues.create_dialogue(p, f, "Second talks")  # the same facilitator
    with pytest.raises(NotFound):
        meetings.meeting(p, f, second, meeting_id)
    with pytest.raises(NotFound):
        meetings.cancel(p, f, second, meeting_id)
    with pytest.raises(NotFound):
        records.write(p, f, second, meeting_id, "Moved.")
    assert [m.id for m in meetings.meetings(p, f, d)] == [meeting_id]
    assert meetings.meetings(p, f, second) == []


# ---------------------------------------------------------------- pages and API
def _form(world: World, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "starts": "2030-03-14T10:00",
        "zone": "Europe/Vienna",
        "format": "plenary",
        "place": "Palais Todesco",
        "issue": [world.issues[0]],
        "items": "Humanitarian corridors\nNext steps",
        "attendee": [member_id(world, "a1"), member_id(world, "b1")],
        "round": "1",
    }
    values.update(changes)
    return values


def test_the_pages_schedule_a_meeting_and_keep_the_record(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    f, a1, b1 = clients("facilitator"), clients("a1"), clients("b1")
    d = world.dialogue_id
    listing = f.client.get(f"/d/{d}/meetings")
    assert listing.status_code == 200 and "Schedule a meeting" in listing.text
    assert 'type="checkbox" name="attendee"' in listing.text  # checkboxes, no multi-select
    form = {**_form(world), "csrf": f.csrf}
    made = f.client.post(f"/d/{d}/meetings", data=form, follow_redirects=False)
    assert made.status_code == 303, made.text
    url = made.headers["location"]
    page = f.client.get(url).text
    assert "Mar 14, 2030, 10:00" in page and "Palais Todesco" in page and "Next steps" in page
    assert "A1" in page and "B1" in page
    other = b1.client.get(url).text
    assert "B1" in other and ">A1<" not in other and "A1 (" not in other  # pseudonym only
    assert "Schedule a meeting" not in b1.client.get(f"/d/{d}/meetings").text
    saved = f.client.post(
        url + "/record", data={"text": "Corridors were discussed.", "csrf": f.csrf}
    )
    assert saved.status_code == 200 and "version 1" in saved.text
    for side in (a1, b1):
        page = side.client.get(url).text
        assert "Confirm version 1" in page
        done = side.client.post(
            url + "/record/answer",
            data={"version": "1", "answer": "confirmed", "comment": "", "csrf": side.csrf},
        )
        assert done.status_code == 200
    assert "Agreed record" in clients("observer").client.get(url).text


def test_a_refused_meeting_form_keeps_what_was_typed_and_names_the_field(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    f = clients("facilitator")
    d = world.dialogue_id
    form = {**_form(world, zone="Atlantis/Capital", place="Villa Typed"), "csrf": f.csrf}
    refused = f.client.post(f"/d/{d}/meetings", data=form)
    assert refused.status_code == 422
    page = refused.text
    assert 'id="zone-error"' in page and "the time zone is not one this server knows" in page
    assert 'value="Atlantis/Capital"' in page and 'value="Villa Typed"' in page
    assert "Humanitarian corridors\nNext steps" in page
    assert f'value="{member_id(world, "a1")}" checked' in page
    assert meetings.meetings(world.platform, world.actors["facilitator"], d) == []
    record_refused = f.client.post(
        f"/d/{d}/meetings/{_meeting(world)}/record", data={"text": "   ", "csrf": f.csrf}
    )
    assert record_refused.status_code == 422 and 'id="text-error"' in record_refused.text


def test_a_request_for_changes_without_a_comment_is_refused_beside_the_field(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    meeting_id = _meeting(world)
    records.write(p, f, d, meeting_id, "Draft.")
    a1 = clients("a1")
    refused = a1.client.post(
        f"/d/{d}/meetings/{meeting_id}/record/answer",
        data={"version": "1", "answer": "changes", "comment": "", "csrf": a1.csrf},
    )
    assert refused.status_code == 422 and 'id="comment-error"' in refused.text


def test_the_api_schedules_lists_and_answers(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    f, a1, b1 = clients("facilitator"), clients("a1"), clients("b1")
    d = world.dialogue_id
    base = f"/api/v1/dialogues/{d}/meetings"
    body = {
        "starts": "2030-03-14T10:00",
        "zone": "Europe/Vienna",
        "place": "Geneva",
        "issues": [world.issues[1]],
        "attendees": [member_id(world, "a1"), member_id(world, "b1")],
        "round": 1,
    }
    made = f.client.post(base, json=body, headers={"X-CSRF-Token": f.csrf})
    assert made.status_code == 201, made.text
    meeting_id = made.json()["id"]
    seen = b1.client.get(f"{base}/{meeting_id}").json()
    assert seen["starts_at"].startswith("2030-03-14T09:00") and seen["round"] == 1
    names = {a["member_id"]: a["name"] for a in seen["attendees"]}
    assert names[member_id(world, "b1")] == "B1" and names[member_id(world, "a1")] != "A1"
    assert [m["id"] for m in a1.client.get(base).json()] == [meeting_id]
    put = f.client.put(
        f"{base}/{meeting_id}/record", json={"text": "Said."}, headers={"X-CSRF-Token": f.csrf}
    )
    assert put.json() == {"version": 1}
    speaker = f.client.put(
        f"{base}/{meeting_id}/record",
        json={"text": "Said.", "speaker": "A1"},
        headers={"X-CSRF-Token": f.csrf},
    )
    assert speaker.status_code == 422  # no speaker field exists, and none is taken
    answered = a1.client.post(
        f"{base}/{meeting_id}/record/answers",
        json={"version": 1, "answer": "changes", "comment": "Add the date."},
        headers={"X-CSRF-Token": a1.csrf},
    )
    assert answered.json() == {"version": 1, "answer": "changes"}
    record = b1.client.get(f"{base}/{meeting_id}/record").json()
    assert record["answers"][world.delegation_a] == "pending" and record["comments"] == {}
    assert set(record) == {
        "meeting_id",
        "version",
        "text",
        "created_at",
        "answers",
        "comments",
        "agreed",
    }
    cancelled = f.client.post(f"{base}/{meeting_id}/cancel", headers={"X-CSRF-Token": f.csrf})
    assert cancelled.json()["cancelled"] is True


def test_migration_0010_up_and_down_with_data(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url=database_url)
    platform = Platform.open(settings, upgrade=True)
    world = build_world(platform)
    f, d = world.actors["facilitator"], world.dialogue_id
    meeting_id = meetings.schedule(platform, f, d, plenary(world))
    records.write(platform, f, d, meeting_id, "Said.")
    close(platform)

    engine = make_engine(database_url)
    before = row_counts(engine)
    assert before["meetings"] == before["meeting_records"] == 1
    migrate.downgrade(engine, "0009")
    left = set(inspect(engine).get_table_names())
    assert not left & {"meetings", "attendance", "meeting_records", "non_papers"}
    kept = {t: n for t, n in row_counts(engine).items() if t in left}
    assert kept == {t: n for t, n in before.items() if t in left}  # everything else stays
    migrate.upgrade(engine)
    assert row_counts(engine)["meetings"] == 0 and migrate.current(engine) == migrate.head()
    engine.dispose()


def test_the_meeting_pages_speak_russian(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    f = clients("facilitator")
    page = f.client.get(f"/d/{world.dialogue_id}/meetings", headers={"Accept-Language": "ru"}).text
    assert "Назначить встречу" in page and "Schedule a meeting" not in page
