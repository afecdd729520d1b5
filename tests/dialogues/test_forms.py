"""Issue 10 §1 and §2 on the pages: nothing typed is lost, nothing happens twice.

* Every rendered form carries a one-time token: the same form sent twice (a double
  click, a reload of the answer) acts once, and the repeat gets a page that says so and
  links to the result; with two app processes on one database as with one.
* Post/redirect/get: a saved form answers 303; the page it leads to confirms once; the
  new invitation link is shown once after the redirect, never in an address.
* The same finding released twice to the same audience in a round is refused.
* A refused form comes back with exactly what was typed and the error beside its field,
  in plain words; a condition with an option of another issue is refused and kept; a
  note over the limit is refused whole, never cut.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from html import unescape

from fastapi import FastAPI
from fastapi.testclient import TestClient

from backchannel.services import dialogues, evaluations, positions, rounds
from backchannel.services.platform import Platform
from backchannel.web.app import create_app
from conftest import World

from .conftest import BASE_URL, Browserless, position_a, position_b, row_counts

Clients = Callable[[str], Browserless]


def hidden(html: str, action: str) -> dict[str, str]:
    """The hidden fields (one-time token, CSRF token) of the form posting to ``action``."""
    start = html.index(f'action="{action}"')
    form = html[start : html.index("</form>", start)]
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))


def dialogue_count(client: TestClient) -> int:
    return len(client.get("/api/v1/dialogues").json())


def revisions(world: World) -> int:
    history = positions.positions(world.platform, world.actors["a1"], world.dialogue_id)
    return history[-1].revision


def evaluated(world: World) -> str:
    p, f = world.platform, world.actors["facilitator"]
    positions.save_position(p, world.actors["a1"], world.dialogue_id, position_a(world))
    positions.save_position(p, world.actors["b1"], world.dialogue_id, position_b(world))
    rounds.lock_round(p, f, world.dialogue_id)
    return evaluations.evaluate(p, f, world.dialogue_id)


# ------------------------------------------------------------------ once
def test_every_form_carries_a_fresh_one_time_token(world: World, clients: Clients) -> None:
    a1 = clients("a1")
    first = a1.client.get(f"/d/{world.dialogue_id}/position").text
    again = a1.client.get(f"/d/{world.dialogue_id}/position").text
    token = hidden(first, f"/d/{world.dialogue_id}/position")["once"]
    assert len(token) >= 22 and token != hidden(again, f"/d/{world.dialogue_id}/position")["once"]
    assert "once" in hidden(a1.client.get("/dialogues").text, "/dialogues")
    anonymous = TestClient(a1.client.app, base_url=BASE_URL)
    assert "once" in hidden(anonymous.get("/invite/x").text, "/invite/x")


def test_a_double_click_on_create_makes_one_dialogue(world: World, clients: Clients) -> None:
    f = clients("facilitator")
    form = {**hidden(f.client.get("/dialogues").text, "/dialogues"), "title": "Spring round"}
    before = dialogue_count(f.client)
    first = f.client.post("/dialogues", data=form, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].startswith("/d/")
    created = f.client.get(first.headers["location"]).text  # says so once, then what's next
    assert "The dialogue was created. Next: add the issues and the parties." in created
    assert "The dialogue was created" not in f.client.get(first.headers["location"]).text
    second = f.client.post("/dialogues", data=form, follow_redirects=False)
    assert second.status_code == 409
    assert "Already done" in second.text and "changed nothing" in second.text
    assert f'href="{first.headers["location"]}"' in second.text
    assert dialogue_count(f.client) == before + 1
    # a new form (a new token) creates another one
    fresh = {**hidden(f.client.get("/dialogues").text, "/dialogues"), "title": "Autumn"}
    assert f.client.post("/dialogues", data=fresh, follow_redirects=False).status_code == 303
    assert dialogue_count(f.client) == before + 2


def test_concurrent_repeats_of_one_form_act_once_across_two_processes(
    world: World, clients: Clients
) -> None:
    """Two apps on their own platforms (two ``serve --workers`` processes), eight posts."""
    f = clients("facilitator")
    form = {**hidden(f.client.get("/dialogues").text, "/dialogues"), "title": "Twice?"}
    other = Platform.open(world.platform.settings)
    apps: list[FastAPI] = [f.client.app, create_app(other.settings, other)]  # type: ignore[list-item]
    cookies = dict(f.client.cookies)
    before = dialogue_count(f.client)

    def send(n: int) -> int:
        with TestClient(apps[n % 2], base_url=BASE_URL, cookies=cookies) as client:
            return int(client.post("/dialogues", data=form, follow_redirects=False).status_code)

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(send, range(8)))
    other.close()
    assert statuses == [303] + [409] * 7
    assert dialogue_count(f.client) == before + 1


def test_saving_a_position_redirects_confirms_once_and_a_reload_adds_no_revision(
    world: World, clients: Clients
) -> None:
    d, (i1, _) = world.dialogue_id, world.issues
    a1 = clients("a1")
    url = f"/d/{d}/position"
    form = {**hidden(a1.client.get(url).text, url), f"rating:{i1}:0": "40", "walk_away": "30"}
    saved = a1.client.post(url, data=form, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == url
    shown = a1.client.get(url)
    assert "Saved (revision 1 of round 1)" in shown.text
    assert "Saved (revision" not in a1.client.get(url).text  # once
    again = a1.client.post(url, data=form, follow_redirects=False)
    assert again.status_code == 409 and f'href="{url}"' in again.text
    assert revisions(world) == 1


def test_the_invitation_link_is_shown_once_after_the_redirect_and_a_reload_mints_none(
    world: World, clients: Clients
) -> None:
    d = world.dialogue_id
    f = clients("facilitator")
    url = f"/d/{d}/invitations"
    form = {**hidden(f.client.get(f"/d/{d}").text, url), "role": "member"}
    form |= {"delegation": world.delegation_a, "track": "expert"}
    before = row_counts(world.platform.engine)["invitations"]
    made = f.client.post(url, data=form, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == f"/d/{d}"
    assert "/invite/" not in made.headers["location"] and "/invite/" not in made.text
    links = re.findall(r"https?://[^\s<>\"']+/invite/[\w-]+", f.client.get(f"/d/{d}").text)
    assert len(links) == 1
    assert "/invite/" not in f.client.get(f"/d/{d}").text  # shown once
    again = f.client.post(url, data=form, follow_redirects=False)
    assert again.status_code == 409 and "/invite/" not in again.text
    assert row_counts(world.platform.engine)["invitations"] == before + 1
    # the link works: it was minted once and never shown in an address
    anonymous = TestClient(f.client.app, base_url=BASE_URL)
    assert anonymous.get(links[0].split("8000", 1)[-1]).status_code == 200


def test_a_forged_confirmation_is_not_shown(world: World, clients: Clients) -> None:
    f = clients("facilitator")
    planted = "eyJ3aGF0IjoiaW52aXRlZCIsInNlY3JldCI6Imh0dHBzOi8vZXZpbC5leGFtcGxlIn0.00"
    f.client.cookies.set("bc_notice", planted)
    page = f.client.get(f"/d/{world.dialogue_id}").text
    assert "evil.example" not in page


def test_a_release_sent_twice_is_released_once(world: World, clients: Clients) -> None:
    evaluation = evaluated(world)
    d = world.dialogue_id
    f = clients("facilitator")
    url = f"/d/{d}/releases"
    token = hidden(f.client.get(f"/d/{d}").text, f"/d/{d}/invitations")["once"]
    form = {"csrf": f.csrf, "once": token, "evaluation": evaluation, "kind": "zone"}
    form["audience"] = world.delegation_a
    assert f.client.post(url, data=form, follow_redirects=False).status_code == 303
    again = f.client.post(url, data=form, follow_redirects=False)
    assert again.status_code == 409 and "Already done" in again.text
    assert row_counts(world.platform.engine)["releases"] == 1


def test_the_same_release_to_the_same_audience_in_a_round_is_refused(
    world: World, clients: Clients
) -> None:
    evaluation = evaluated(world)
    d = world.dialogue_id
    f = clients("facilitator")
    body = {"evaluation_id": evaluation, "audience": world.delegation_a, "kind": "zone"}
    api = f"/api/v1/dialogues/{d}/releases"
    headers = {"X-CSRF-Token": f.csrf}
    assert f.client.post(api, json=body, headers=headers).status_code == 201
    refused = f.client.post(api, json=body, headers=headers)
    assert refused.status_code == 409
    assert "already released to this audience in this round" in refused.json()["error"]
    page = f.client.post(
        f"/d/{d}/releases",
        data={
            "csrf": f.csrf,
            "evaluation": evaluation,
            "audience": world.delegation_a,
            "kind": "zone",
        },
    )
    assert page.status_code == 409 and "already released to this audience" in page.text
    # another audience, or another finding, is still released
    other = {**body, "audience": world.delegation_b}
    assert f.client.post(api, json=other, headers=headers).status_code == 201
    assert (
        f.client.post(
            api, json={**body, "kind": "overlap", "parameter": world.issues[0]}, headers=headers
        ).status_code
        == 201
    )
    assert row_counts(world.platform.engine)["releases"] == 3


# ------------------------------------------------------------------ nothing typed is lost
PYDANTIC_WORDING = ("List should", "after validation", "Input should", "Field required")


def typed_position(world: World) -> dict[str, object]:
    """A whole position as a member types it, with a condition whose "then" ticks an
    option of the wrong issue (the observed bug: the list offered every option)."""
    i1, i2 = world.issues
    return {
        f"importance:{i1}": "2",
        f"importance:{i2}": "1",
        f"rating:{i1}:0": "11",
        f"rating:{i1}:1": "57",
        f"rating:{i1}:2": "93",
        f"rating:{i2}:0": "23",
        f"rating:{i2}:1": "68",
        f"rating:{i2}:2": "4",
        f"no:{i2}:2": "yes",
        f"firm:{i2}:2": "absolute",
        "rule:0:if_issue": i1,
        f"rule:0:if:{i1}": ["partial", "full"],
        "rule:0:then_issue": i2,
        f"rule:0:then:{i1}": ["none"],
        "rule:0:firmness": "flexible",
        "walk_away": "37",
        "note": "Our line on sanctions — keep this between us.",
    }


def test_a_condition_with_an_option_of_another_issue_is_refused_and_everything_kept(
    world: World, clients: Clients
) -> None:
    d, (i1, i2) = world.dialogue_id, world.issues
    a1 = clients("a1")
    url = f"/d/{d}/position"
    page = a1.client.post(url, data={"csrf": a1.csrf, **typed_position(world)})
    assert page.status_code == 422
    html = page.text
    assert "Nothing was saved." in html and "Correct the field marked below" in html
    beside = unescape(html[html.index('id="error-rule:0:then_options"') :][:400])
    assert "'none' belong to 'Ceasefire'" in beside and "about 'Sanctions'" in beside
    assert not [w for w in PYDANTIC_WORDING if w in html]
    for name, value in (
        (f"rating:{i1}:0", "11"),
        (f"rating:{i1}:1", "57"),
        (f"rating:{i1}:2", "93"),
        (f"rating:{i2}:0", "23"),
        (f"rating:{i2}:1", "68"),
        (f"rating:{i2}:2", "4"),
        ("walk_away", "37"),
    ):
        assert re.search(rf'name="{name}"[^>]*value="{value}"', html), name
    assert re.search(rf'name="no:{i2}:2" value="yes" checked', html)
    assert re.search(
        rf'name="firm:{i2}:2"[^>]*>(<option value="\w+" >\w+</option>)*'
        r'<option value="absolute" selected>absolute',
        html,
    )
    assert re.search(
        r'<option value="1" selected>1</option>', html[html.index(f"importance:{i2}") :]
    )
    assert re.search(rf'name="rule:0:if:{i1}" value="partial" checked', html)
    assert re.search(rf'name="rule:0:if:{i1}" value="full" checked', html)
    assert re.search(rf'name="rule:0:then:{i1}" value="none" checked', html)
    assert '<option value="flexible" selected>flexible</option>' in html
    assert "Our line on sanctions — keep this between us.</textarea>" in html
    assert positions.positions(world.platform, world.actors["a1"], d) == []


def test_the_condition_editor_uses_checkboxes_and_a_script_of_our_own(
    world: World, clients: Clients
) -> None:
    a1 = clients("a1")
    html = a1.client.get(f"/d/{world.dialogue_id}/position").text
    assert " multiple" not in html and "Ctrl" not in html
    assert '<script src="/static/forms.js"></script>' in html
    assert "<script>" not in html  # no inline script (the CSP allows none)
    script = a1.client.get("/static/forms.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "script-src 'self'" in script.headers["content-security-policy"]
    assert "showOptionsOf" in script.text and "http" not in script.text


def test_a_condition_left_half_filled_is_refused_not_dropped(
    world: World, clients: Clients
) -> None:
    d, (i1, _) = world.dialogue_id, world.issues
    a1 = clients("a1")
    form = {"csrf": a1.csrf, "rule:0:if_issue": i1, f"rule:0:if:{i1}": "full"}
    page = a1.client.post(f"/d/{d}/position", data=form)
    assert page.status_code == 422
    assert 'id="error-rule:0:then_issue"' in page.text and "no issue after “then”" in page.text
    assert re.search(rf'name="rule:0:if:{i1}" value="full" checked', page.text)


def test_a_long_note_is_refused_whole_never_cut(world: World, clients: Clients) -> None:
    a1 = clients("a1")
    note = ("Paragraph of our internal reasoning. " * 300)[:10_000]
    page = a1.client.post(f"/d/{world.dialogue_id}/position", data={"csrf": a1.csrf, "note": note})
    assert page.status_code == 422
    assert f"{note}</textarea>" in page.text
    assert "the note has 10000 characters; it may have at most 4000" in page.text
    assert "shorten it by 6000 characters; nothing was cut" in page.text
    textarea = re.search(r"<textarea name=\"note\"[^>]*>", page.text)
    assert textarea and "maxlength" not in textarea.group(0)
    assert 'data-limit="4000"' in textarea.group(0)
    assert "10000 of at most 4000 characters" in page.text


def test_a_refused_dialogue_keeps_what_was_typed(world: World, clients: Clients) -> None:
    f = clients("facilitator")
    before = dialogue_count(f.client)
    form = {
        "csrf": f.csrf,
        "title": "Arms control, spring",
        "evaluations_per_round": "0",
        "evaluations_per_dialogue": "42",
        "monotone": "yes",
    }
    page = f.client.post("/dialogues", data=form)
    assert page.status_code == 422
    html = page.text
    assert "The dialogue was not created." in html
    beside = html[html.index('id="error-evaluations_per_round"') :][:200]
    assert "evaluations per round: 0 is outside 1 to 10" in beside
    assert 'value="Arms control, spring"' in html and 'value="42"' in html
    assert re.search(r'name="monotone" value="yes" checked', html)
    assert not re.search(r'name="mfa_required" value="yes" checked', html)
    blank = f.client.post("/dialogues", data={"csrf": f.csrf, "title": "  "})
    assert blank.status_code == 422 and 'id="error-title"' in blank.text
    assert dialogue_count(f.client) == before


def test_a_refused_sign_up_keeps_what_was_typed_but_the_password(
    world: World, clients: Clients
) -> None:
    f = world.actors["facilitator"]
    token = dialogues.invite(
        world.platform,
        f,
        world.dialogue_id,
        "member",
        delegation_id=world.delegation_a,
        track="expert",
    )
    anonymous = TestClient(clients("a1").client.app, base_url=BASE_URL)
    form = {
        "username": "new.member",
        "display_name": "Anna Example",
        "pseudonym": "Delegate North",
        "password": "too short",
    }
    page = anonymous.post(f"/invite/{token}", data=form)
    assert page.status_code == 422
    html = page.text
    assert 'id="error-password"' in html and "a password needs 12 to 128 characters" in html
    for value in ("new.member", "Anna Example", "Delegate North"):
        assert f'value="{value}"' in html
    assert "too short" not in html
    bad_name = anonymous.post(f"/invite/{token}", data={**form, "username": "no spaces please"})
    assert 'id="error-username"' in bad_name.text and 'value="Anna Example"' in bad_name.text
    # the link still works, and once used it says so without a form
    done = anonymous.post(f"/invite/{token}", data={**form, "password": "a long enough passphrase"})
    assert done.status_code == 200 and str(done.url).endswith("/signin")
    again = {**form, "username": "someone.else", "password": "a long enough passphrase"}
    used = anonymous.post(f"/invite/{token}", data=again)
    assert used.status_code == 422 and "ask the facilitator for a new link" in used.text
    assert '<form method="post" action="/invite/' not in used.text
