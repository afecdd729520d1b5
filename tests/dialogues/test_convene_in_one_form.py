"""The first-time set-up in few forms: the agenda and the parties on the form that creates
the dialogue, one invitation link per delegation from one form; and the facilitator's
forms keep what was typed when they are refused."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import FastAPI

from backchannel.services import dialogues, invitations
from backchannel.services.platform import Platform
from conftest import World

from .conftest import Browserless, csrf_of, sign_in

AGENDA = "Ceasefire (ordered): none; partial; full\nSanctions: keep; ease; lift"
PARTIES = "Side A\nSide B\nAbsent Z (absent)"


def _create(client: Browserless, **fields: str) -> tuple[int, str, str]:
    page = client.client.get("/dialogues").text
    form = {"csrf": csrf_of(page), "evaluations_per_round": "1", **fields}
    answer = client.client.post("/dialogues", data=form, follow_redirects=False)
    return answer.status_code, answer.headers.get("location", ""), answer.text


def test_the_agenda_and_parties_come_with_the_dialogue(
    app: FastAPI, world: World, clients: Callable[[str], Browserless]
) -> None:
    f = clients("facilitator")
    status, where, _ = _create(f, title="Talks", agenda=AGENDA, parties=PARTIES)
    assert status == 303
    view = dialogues.view(world.platform, world.actors["facilitator"], where.split("/")[-1])
    assert [(i.name, i.kind.value, i.options) for i in view.agenda.issues] == [
        ("Ceasefire", "ordered", ["none", "partial", "full"]),
        ("Sanctions", "unordered", ["keep", "ease", "lift"]),
    ]
    assert [(p.name, p.absent) for p in view.delegations] == [
        ("Side A", False),
        ("Side B", False),
        ("Absent Z", True),
    ]


def test_a_refused_creation_keeps_everything_and_creates_nothing(
    app: FastAPI, world: World, clients: Callable[[str], Browserless]
) -> None:
    f = clients("facilitator")
    before = dialogues.my_dialogues(world.platform, world.actors["facilitator"])
    bad = "Ceasefire: none\nSanctions: keep; ease"
    status, _, page = _create(f, title="Talks", agenda=bad, parties="Side A\nside a")
    assert status == 422 and "line 1" in page
    assert ">Ceasefire: none\nSanctions: keep; ease</textarea>" in page
    assert ">Side A\nside a</textarea>" in page and 'value="Talks"' in page
    status, _, page = _create(f, title="Talks", agenda=AGENDA, parties="Side A\nside a")
    assert status == 422 and "there is already a party named" in page
    assert dialogues.my_dialogues(world.platform, world.actors["facilitator"]) == before


def test_one_form_invites_a_member_of_each_delegation(
    app: FastAPI, world: World, clients: Callable[[str], Browserless]
) -> None:
    f, d = clients("facilitator"), world.dialogue_id
    page = f.client.get(f"/d/{d}").text
    form = {
        "csrf": csrf_of(page),
        f"invite:{world.delegation_a}": "yes",
        f"track:{world.delegation_a}": "former official",
        f"invite:{world.delegation_b}": "yes",
        f"track:{world.delegation_b}": "serving official",
    }
    made = f.client.post(f"/d/{d}/invitations/each", data=form, follow_redirects=False)
    assert made.status_code == 303
    shown = f.client.get(made.headers["location"]).text
    links = re.findall(
        r'<span class="for">([^<]+)</span>: <code class="select">([^<]+)</code>', shown
    )
    assert [name for name, _ in links] == ["Side A", "Side B"]
    assert all(link.startswith("http://127.0.0.1:8000/invite/") for _, link in links)
    tracks = {
        i.delegation: i.track
        for i in invitations.pending(world.platform, world.actors["facilitator"], d)
    }
    assert tracks == {"Side A": "former official", "Side B": "serving official"}
    again = f.client.get(f"/d/{d}").text  # reloading mints nothing and shows no link again
    assert 'class="for"' not in again
    assert len(invitations.pending(world.platform, world.actors["facilitator"], d)) == 2


def test_the_issue_form_keeps_what_was_typed(
    app: FastAPI, world: World, clients: Callable[[str], Browserless], platform: Platform
) -> None:
    f, d = clients("facilitator"), world.dialogue_id
    page = f.client.get(f"/d/{d}").text
    form = {
        "csrf": csrf_of(page),
        "name": "Ceasefire",  # already on the agenda
        "kind": "ordered",
        "options": "a\nb",
        "description": "Typed with care.",
    }
    refused = f.client.post(f"/d/{d}/issues", data=form)
    assert refused.status_code in (409, 422)
    issue_form = refused.text[refused.text.index('id="form-issue"') :]
    assert 'value="Ceasefire"' in issue_form and ">a\nb</textarea>" in issue_form
    assert (
        'value="Typed with care."' in issue_form
        and '<option value="ordered" selected>' in issue_form
    )


def test_a_fresh_sign_in_sees_the_new_form(app: FastAPI, world: World) -> None:
    page = sign_in(app, "facilitator").client.get("/dialogues").text
    assert 'name="agenda"' in page and 'name="parties"' in page


def test_a_refused_agenda_is_told_in_the_readers_language(
    app: FastAPI, world: World, clients: Callable[[str], Browserless]
) -> None:
    f = clients("facilitator")
    page = f.client.get("/dialogues").text
    form = {"csrf": csrf_of(page), "title": "Talks", "agenda": "Water: a; b\nPorts", "parties": ""}
    refused = f.client.post("/dialogues", data=form, headers={"Accept-Language": "ru"})
    assert refused.status_code == 422
    assert "строка 2: между вопросом и его вариантами нет двоеточия" in refused.text
    assert ">Water: a; b\nPorts</textarea>" in refused.text
