"""The facilitator's workspace: the checklist, readiness, pending invitations with revoke,
and the confirm step of an evaluation."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import pytest

from backchannel.errors import InputError, NotFound
from backchannel.model.dialogue import Position
from backchannel.services import (
    audit_log,
    checklist,
    dialogues,
    evaluations,
    invitations,
    positions,
    readiness,
    releases,
    rounds,
)
from backchannel.services.checklist import State
from backchannel.services.platform import Platform
from conftest import World

from .conftest import Browserless, position_a, position_b

CANARY = "CANARY-readiness-7f3a"


def _states(steps: list[checklist.Step]) -> dict[str, str]:
    return {s.key: s.state.value for s in steps}


def facilitator_checklist(platform: Platform, world: World) -> dict[str, str]:
    f, d = world.actors["facilitator"], world.dialogue_id
    view, found = rounds.overview(platform, f, d)
    steps = checklist.facilitator_steps(
        view,
        found,
        readiness.readiness(platform, f, d),
        invitations.pending(platform, f, d),
        releases.released_to_me(platform, f, d),
    )
    return _states(steps)


def member_checklist(platform: Platform, world: World, name: str) -> dict[str, str]:
    actor, d = world.actors[name], world.dialogue_id
    return _states(
        checklist.member_steps(
            rounds.rounds(platform, actor, d),
            positions.positions(platform, actor, d),
            releases.released_to_me(platform, actor, d),
        )
    )


# ------------------------------------------------------------------ the checklist
def test_the_checklist_follows_the_dialogue(platform: Platform, world: World) -> None:
    p, f, d = platform, world.actors["facilitator"], world.dialogue_id
    assert facilitator_checklist(p, world) == {
        "agenda": "done",
        "parties": "done",
        "invitations": "done",
        "round": "done",
        "positions": "waiting",
        "lock": "later",
        "evaluate": "later",
        "release": "later",
    }
    assert member_checklist(p, world, "a1") == {
        "accept": "done",
        "position": "next",
        "wait": "later",
        "read": "later",
    }
    positions.save_position(p, world.actors["a1"], d, position_a(world))
    positions.save_position(p, world.actors["b1"], d, position_b(world))
    assert facilitator_checklist(p, world)["positions"] == "done"
    assert facilitator_checklist(p, world)["lock"] == "next"
    assert member_checklist(p, world, "a1")["position"] == "done"
    assert member_checklist(p, world, "a1")["wait"] == "waiting"
    rounds.lock_round(p, f, d)
    assert facilitator_checklist(p, world)["evaluate"] == "next"
    evaluation = evaluations.evaluate(p, f, d)
    assert facilitator_checklist(p, world)["release"] == "next"
    assert member_checklist(p, world, "a1")["read"] == "waiting"
    releases.release(p, f, d, evaluation, world.delegation_a, "zone")
    assert set(facilitator_checklist(p, world).values()) == {"done"}
    assert member_checklist(p, world, "a1")["read"] == "next"
    assert member_checklist(p, world, "b1")["read"] == "waiting"  # nothing released to B
    rounds.open_round(p, f, d)
    # positions carry over: saved, but a member is asked to review its own
    assert facilitator_checklist(p, world)["positions"] == "done"
    assert member_checklist(p, world, "a1")["position"] == "next"


def test_a_new_dialogue_starts_with_the_agenda(platform: Platform, world: World) -> None:
    f = world.actors["facilitator"]
    d = dialogues.create_dialogue(platform, f, "Fresh")
    dialogues.add_delegation(platform, f, d, "North")
    view, found = rounds.overview(platform, f, d)
    steps = checklist.facilitator_steps(view, found, readiness.readiness(platform, f, d), [], [])
    assert [(s.key, s.state) for s in steps[:4]] == [
        ("agenda", State.NEXT),
        ("parties", State.LATER),
        ("invitations", State.LATER),
        ("round", State.LATER),
    ]
    dialogues.add_issue(platform, f, d, "Fish", "unordered", ["quota", "none"])
    dialogues.add_delegation(platform, f, d, "South")
    view, found = rounds.overview(platform, f, d)
    south = next(x for x in view.delegations if x.name == "South")
    dialogues.invite(platform, f, d, "member", delegation_id=south.id, track="expert")
    steps = checklist.facilitator_steps(
        view,
        found,
        readiness.readiness(platform, f, d),
        invitations.pending(platform, f, d),
        [],
    )
    states = _states(steps)
    # North has no member and no link: inviting is next; opening the round can wait
    assert (states["invitations"], states["round"]) == ("next", "later")


def test_the_overview_page_shows_the_next_step(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    page = clients("facilitator").client.get(f"/d/{world.dialogue_id}").text
    steps = re.findall(r'<li class="step step-(\w+)"', page)
    assert steps == ["done"] * 4 + ["waiting"] + ["later"] * 3
    assert "<details" not in page.split('id="agenda"')[0]  # nothing collapsed above
    member = clients("a1").client.get(f"/d/{world.dialogue_id}").text
    assert '<li class="step step-next" aria-current="step">' in member
    assert "Enter our position" in member
    assert "Readiness" not in member and "Invitations" not in member


# ------------------------------------------------------------------ readiness
def test_readiness_says_saved_when_and_unrated_and_nothing_more(
    platform: Platform, world: World, clients: Callable[[str], Browserless]
) -> None:
    p, f, d = platform, world.actors["facilitator"], world.dialogue_id
    i1 = world.issues[0]
    partial = Position(ratings={i1: {"full": 77}}, walk_away=33, note=CANARY)
    positions.save_position(p, world.actors["a1"], d, partial)
    found = readiness.readiness(p, f, d)
    a, b = found.delegations
    assert (a.name, a.saved.value, a.unrated) == ("Side A", "saved", ["Sanctions"])
    assert a.at is not None
    assert (b.name, b.saved.value, b.unrated, b.at) == ("Side B", "missing", [], None)
    assert [x.name for x in found.incomplete] == ["Side A", "Side B"]
    assert not found.all_saved
    page = clients("facilitator").client.get(f"/d/{d}").text
    assert "Readiness in round 1" in page and "Sanctions" in page
    assert "Incomplete positions:" in page
    panel = page.split('id="readiness"')[1].split("</table>")[0]
    panel = re.sub(r"<time[^>]*>[^<]*</time>", "TIME", panel)  # a time may hold any digits
    for secret in (CANARY, "77", "33"):  # no rating, walk-away level or note
        assert secret not in panel
    assert CANARY not in page
    for name in ("a1", "b1", "observer", "outsider"):
        with pytest.raises(NotFound):
            readiness.readiness(p, world.actors[name], d)


def test_a_carried_over_position_is_told_apart(platform: Platform, world: World) -> None:
    p, f, d = platform, world.actors["facilitator"], world.dialogue_id
    positions.save_position(p, world.actors["a1"], d, position_a(world))
    positions.save_position(p, world.actors["b1"], d, position_b(world))
    rounds.lock_round(p, f, d)
    evaluations.evaluate(p, f, d)
    rounds.open_round(p, f, d)
    positions.save_position(p, world.actors["b1"], d, position_b(world, note="again"))
    found = readiness.readiness(p, f, d)
    assert found.round_number == 2
    assert [x.saved.value for x in found.delegations] == ["carried over", "saved"]
    assert found.all_saved


# ------------------------------------------------------------------ invitations
def test_pending_invitations_are_listed_and_revoked(
    platform: Platform, world: World, clients: Callable[[str], Browserless]
) -> None:
    p, f, d = platform, world.actors["facilitator"], world.dialogue_id
    token = dialogues.invite(p, f, d, "member", delegation_id=world.delegation_b, track="expert")
    dialogues.invite(p, f, d, "observer")
    found = invitations.pending(p, f, d)
    assert [(i.role, i.delegation, i.track) for i in found] == [
        ("member", "Side B", "expert"),
        ("observer", None, None),
    ]
    key = hashlib.sha256(token.encode()).hexdigest()
    assert found[0].id == key
    for name in ("a1", "b1", "observer", "outsider"):
        with pytest.raises(NotFound):
            invitations.pending(p, world.actors[name], d)
        with pytest.raises(NotFound):
            invitations.revoke(p, world.actors[name], d, key)
    page = clients("facilitator").client.get(f"/d/{d}").text
    assert f"/invitations/{key}/revoke" in page and "a member of Side B" in page
    fac = clients("facilitator")
    done = fac.client.post(
        f"/d/{d}/invitations/{key}/revoke", data={"csrf": fac.csrf}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == f"/d/{d}#invitations"
    assert [i.role for i in invitations.pending(p, f, d)] == ["observer"]
    with pytest.raises(InputError, match="not valid"):
        dialogues.accept_invitation(p, token, "late", "Late", "a long enough passphrase")
    with pytest.raises(NotFound):
        invitations.revoke(p, f, d, key)  # gone
    log = audit_log.entries(p, f, d)
    assert [e.action for e in log].count("invitation.revoked") == 1
    assert "invitation.revoked" not in [
        e.action for e in audit_log.entries(p, world.actors["a1"], d)
    ]


def test_a_used_invitation_is_not_pending(platform: Platform, world: World) -> None:
    p, f, d = platform, world.actors["facilitator"], world.dialogue_id
    token = dialogues.invite(p, f, d, "observer")
    dialogues.accept_invitation(p, token, "watcher", "Watcher", "a long enough passphrase")
    assert invitations.pending(p, f, d) == []
    with pytest.raises(NotFound):
        invitations.revoke(p, f, d, hashlib.sha256(token.encode()).hexdigest())


# ------------------------------------------------------------------ the confirm step
def test_evaluating_asks_for_confirmation_first(
    platform: Platform, world: World, clients: Callable[[str], Browserless]
) -> None:
    p, f, d = platform, world.actors["facilitator"], world.dialogue_id
    positions.save_position(p, world.actors["a1"], d, position_a(world))
    positions.save_position(p, world.actors["b1"], d, position_b(world))
    rounds.lock_round(p, f, d)
    fac = clients("facilitator")
    overview = fac.client.get(f"/d/{d}").text
    assert f'href="/d/{d}/rounds/evaluate"' in overview
    assert f'action="/d/{d}/rounds/evaluate"' not in overview  # a link to the confirm step
    confirm = fac.client.get(f"/d/{d}/rounds/evaluate")
    assert confirm.status_code == 200
    assert "This round has 1 evaluation left" in confirm.text
    assert "After this one, the round has 0 left." in confirm.text
    assert "Incomplete positions:" not in confirm.text  # both rate every issue
    unconfirmed = fac.client.post(f"/d/{d}/rounds/evaluate", data={"csrf": fac.csrf})
    assert unconfirmed.status_code == 200 and 'name="confirm" value="yes"' in unconfirmed.text
    assert evaluations.evaluations(p, f, d) == []
    done = fac.client.post(
        f"/d/{d}/rounds/evaluate",
        data={"csrf": fac.csrf, "confirm": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/d/{d}/analysis"
    assert len(evaluations.evaluations(p, f, d)) == 1
    for name in ("a1", "observer"):
        assert clients(name).client.get(f"/d/{d}/rounds/evaluate").status_code == 404


# ------------------------------------------------------------------ the JSON API
def test_the_api_lists_and_revokes_invitations_and_tells_readiness(
    platform: Platform, world: World, clients: Callable[[str], Browserless]
) -> None:
    p, d = platform, world.dialogue_id
    api = f"/api/v1/dialogues/{d}"
    fac = clients("facilitator")
    made = fac.client.post(
        f"{api}/invitations",
        json={"role": "member", "delegation_id": world.delegation_a, "track": "expert"},
        headers={"X-CSRF-Token": fac.csrf},
    )
    token = made.json()["link"].rsplit("/", 1)[1]
    (listed,) = fac.client.get(f"{api}/invitations").json()
    assert listed["id"] == hashlib.sha256(token.encode()).hexdigest()
    assert (listed["role"], listed["delegation"], listed["expired"]) == ("member", "Side A", False)
    member = clients("a1")
    assert member.client.get(f"{api}/invitations").status_code == 404
    assert member.client.get(f"{api}/readiness").status_code == 404
    refused = member.client.delete(
        f"{api}/invitations/{listed['id']}", headers={"X-CSRF-Token": member.csrf}
    )
    assert refused.status_code == 404
    gone = fac.client.delete(
        f"{api}/invitations/{listed['id']}", headers={"X-CSRF-Token": fac.csrf}
    )
    assert gone.status_code == 204 and gone.content == b""
    assert fac.client.get(f"{api}/invitations").json() == []
    again = fac.client.delete(
        f"{api}/invitations/{listed['id']}", headers={"X-CSRF-Token": fac.csrf}
    )
    assert again.status_code == 404
    positions.save_position(p, world.actors["b1"], d, Position(note=CANARY))
    ready = fac.client.get(f"{api}/readiness")
    assert ready.status_code == 200 and CANARY not in ready.text
    body = ready.json()
    assert body["round"] == 1
    assert [(x["name"], x["saved"], x["unrated"]) for x in body["delegations"]] == [
        ("Side A", "missing", []),
        ("Side B", "saved", ["Ceasefire", "Sanctions"]),
    ]
