"""Blind dialogues over HTTP: the pages and the API of the seats, and the node API that
the nodes call with their node tokens (played here by a test client, as a node would)."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backchannel.services import computations, rounds
from backchannel.services.platform import Platform
from backchannel.storage import repo
from blind_world import BlindWorld, build_blind, certificate, play
from page_routes import declared_routes

from .conftest import BASE_URL, Browserless, csrf_of, sign_in

NODES = "/api/v1/blind/computations"


@pytest.fixture
def blind(platform: Platform) -> BlindWorld:
    return build_blind(platform, prefix="")


@pytest.fixture
def seats(app: FastAPI, blind: BlindWorld) -> Iterator[dict[str, Browserless]]:
    made = {name: sign_in(app, name) for name in ("facilitator", "a1", "b1", "observer")}
    yield made
    for b in made.values():
        b.client.close()


def node(app: FastAPI, token: str) -> TestClient:
    """A client that authenticates as a node: its token, no cookie."""
    return TestClient(app, base_url=BASE_URL, headers={"Authorization": f"Bearer {token}"})


def write(b: Browserless, method: str, url: str, body: object) -> object:
    return b.client.request(method, url, json=body, headers={"X-CSRF-Token": b.csrf})


def test_a_blind_round_through_the_api(
    app: FastAPI, blind: BlindWorld, seats: dict[str, Browserless]
) -> None:
    f, a1 = seats["facilitator"], seats["a1"]
    base = f"/api/v1/dialogues/{blind.dialogue_id}"
    assert f.client.get(base).json()["blind"] is True
    refused = write(a1, "PUT", f"{base}/position", {"walk_away": 10})
    assert refused.status_code == 409 and "Running a blind node" in refused.json()["hint"]  # type: ignore[attr-defined]
    asked = write(f, "POST", f"{base}/blind/computations", {"finding": "overlap"})
    assert asked.status_code == 201, asked.text  # type: ignore[attr-defined]
    computation = asked.json()["id"]  # type: ignore[attr-defined]
    a, b, h = (node(app, blind.tokens[w]) for w in ("a", "b", "helper"))
    waiting = a.get(NODES).json()
    assert [(c["id"], c["index"], c["state"]) for c in waiting] == [(computation, 0, "waiting")]
    early = a.get(f"{NODES}/{computation}/session")
    assert early.status_code == 409 and "not every node is ready" in early.json()["error"]
    bad = a.post(f"{NODES}/{computation}/ready", json={"links": [[0, "x"]]})
    assert bad.status_code == 422 and "links" in bad.text
    assert a.post(f"{NODES}/{computation}/ready", json={"links": [[0, 1]]}).json() == {
        "state": "waiting"
    }
    b.post(f"{NODES}/{computation}/ready", json={})
    assert h.post(f"{NODES}/{computation}/ready", json={}).json() == {"state": "running"}
    doc = h.get(f"{NODES}/{computation}/session").json()
    assert doc["links"] == [[0, 1]] and len(doc["parties"]) == 3
    result = {"computation": computation, "opened": {"overlap": [True, False]}}
    key = {"Idempotency-Key": "result-0"}
    first = a.post(f"{NODES}/{computation}/result", json={**result, "index": 0}, headers=key)
    again = a.post(f"{NODES}/{computation}/result", json={**result, "index": 0}, headers=key)
    assert first.json() == again.json() == {"state": "running"}
    assert again.headers["Idempotent-Replayed"] == "true"
    b.post(f"{NODES}/{computation}/result", json={**result, "index": 1})
    done = h.post(f"{NODES}/{computation}/result", json={**result, "index": 2})
    assert done.json() == {"state": "opened"}
    shown = f.client.get(f"{base}/blind/computations").json()[0]
    assert shown["opened"] == {"overlap": [True, False], "exists": None, "package": None}
    body = {"computation_id": computation, "audiences": [blind.delegation_a], "issue": 1}
    assert write(f, "POST", f"{base}/blind/releases", body).status_code == 201  # type: ignore[attr-defined]
    told = a1.client.get(f"{base}/releases").json()
    assert [r["headline"] for r in told] == ["Issue “Sanctions” has overlap: no."]
    assert a.get(NODES).json() == []


def test_node_tokens_open_the_node_api_only(
    app: FastAPI, platform: Platform, blind: BlindWorld, seats: dict[str, Browserless]
) -> None:
    other = build_blind(platform, prefix="o-")
    theirs = computations.request(
        platform, other.actors["facilitator"], other.dialogue_id, "exists"
    )
    a = node(app, blind.tokens["a"])
    for url in (
        f"{NODES}/{theirs}/session",
        f"/d/{blind.dialogue_id}",
        f"/api/v1/dialogues/{blind.dialogue_id}",
        f"/api/v1/dialogues/{blind.dialogue_id}/blind/nodes",
        "/api/v1/dialogues",
    ):
        answer = a.get(url, follow_redirects=False)
        assert answer.status_code in (303, 401, 404), (url, answer.status_code)
        assert "Blind talks" not in answer.text and "Side B" not in answer.text
    assert a.get(f"{NODES}/{theirs}/session").status_code == 404
    assert a.post(f"{NODES}/{theirs}/ready", json={}).status_code == 404
    assert a.get(NODES).json() == []
    for header in ("Bearer nonsense-token-that-is-long", "Basic abc", ""):
        answer = TestClient(app, base_url=BASE_URL).get(NODES, headers={"Authorization": header})
        assert answer.status_code == 401
    session = seats["a1"].client  # a session cookie opens no node API route
    assert session.get(NODES).status_code == 401


def test_the_blind_page_registers_a_node_and_shows_its_token_once(
    app: FastAPI, blind: BlindWorld, seats: dict[str, Browserless]
) -> None:
    a1 = seats["a1"].client
    page = a1.get(f"/d/{blind.dialogue_id}/blind")
    assert page.status_code == 200 and "Register your delegation" in page.text
    assert "Side B" not in page.text  # a member sees its own node and the helpers only
    pem, key = certificate()
    form = {"csrf": csrf_of(page.text), "certificate": key, "host": "192.0.2.9", "port": "7000"}
    refused = a1.post(f"/d/{blind.dialogue_id}/blind/nodes", data=form)
    assert refused.status_code == 422 and "private key" in unescape(refused.text)
    assert "192.0.2.9" in refused.text  # what was typed is kept
    form["certificate"] = pem
    made = a1.post(f"/d/{blind.dialogue_id}/blind/nodes", data=form, follow_redirects=False)
    assert made.status_code == 303
    shown = a1.get(f"/d/{blind.dialogue_id}/blind").text
    token = re.search(r"shown only now.*?<code class=\"select\">([^<]+)</code>", shown, re.S)
    assert token is not None and len(token.group(1)) >= 40
    assert token.group(1) not in a1.get(f"/d/{blind.dialogue_id}/blind").text
    assert seats["observer"].client.get(f"/d/{blind.dialogue_id}/blind").status_code == 404


def test_the_facilitator_asks_and_sees_the_finding_on_the_page(
    app: FastAPI, platform: Platform, blind: BlindWorld, seats: dict[str, Browserless]
) -> None:
    f = seats["facilitator"].client
    page = f.get(f"/d/{blind.dialogue_id}/blind")
    form = {"csrf": csrf_of(page.text), "finding": "nash"}
    assert f.post(f"/d/{blind.dialogue_id}/blind/computations", data=form).status_code == 200
    (asked,) = computations.computations(platform, blind.actors["facilitator"], blind.dialogue_id)
    play(platform, blind, asked.id, {"exists": True, "package": [2, 0]})
    shown = f.get(f"/d/{blind.dialogue_id}/blind").text
    assert "Recommended package" in shown and "full" in shown and "keep" in shown
    log = unescape(seats["b1"].client.get(f"/d/{blind.dialogue_id}/log").text)
    assert "the facilitator asked the nodes for the recommended package (Nash)" in log
    assert "the nodes opened the finding asked for" in log
    again = f.post(f"/d/{blind.dialogue_id}/blind/computations", data=form)
    assert again.status_code == 409 and "evaluation of round 1 is used" in unescape(again.text)
    rounds.open_round(platform, blind.actors["facilitator"], blind.dialogue_id)
    assert "Release to" not in f.get(f"/d/{blind.dialogue_id}/blind").text


def test_the_overview_shows_the_blind_steps(
    app: FastAPI, platform: Platform, seats: dict[str, Browserless]
) -> None:
    world = build_blind(platform, prefix="s-", nodes_too=False, lock=False)
    f = sign_in(app, "s-facilitator").client
    a1 = sign_in(app, "s-a1").client
    facilitator = unescape(f.get(f"/d/{world.dialogue_id}").text)
    assert "0 of 2 delegations have registered their node" in facilitator
    assert "Register a helper node" in facilitator and "have a position" not in facilitator
    rounds.lock_round(platform, world.actors["facilitator"], world.dialogue_id)
    locked = f.get(f"/d/{world.dialogue_id}").text
    assert "/rounds/evaluate" not in locked and f"/d/{world.dialogue_id}/blind#ask" in locked
    member = unescape(a1.get(f"/d/{world.dialogue_id}").text)
    assert "not registered yet: your position stays on your own node" in member
    assert "Enter our position" not in member and "/history" not in member
    log = unescape(f.get(f"/d/{world.dialogue_id}/log").text)
    assert "delegation added" in log


def _database_bytes(platform: Platform) -> bytes:
    path = platform.settings.database_url.removeprefix("sqlite:///")
    files = [path, f"{path}-wal", f"{path}-shm"]
    return b"".join(open(f, "rb").read() for f in files if os.path.exists(f))


def test_a_blind_sides_canaries_never_reach_the_server(
    app: FastAPI, platform: Platform, blind: BlindWorld, seats: dict[str, Browserless]
) -> None:
    """What only the node side holds (its position, with planted canaries) is refused by
    every route that takes a position, and is nowhere after a whole blind round: not in the
    database files, not in anything a seat or a node can read back."""
    canary = f"CANARY-{secrets.token_hex(8)}"
    f, a1 = seats["facilitator"], seats["a1"]
    base = f"/api/v1/dialogues/{blind.dialogue_id}"
    position = {"walk_away": 30, "note": canary, "importance": {blind.issues[0]: 1}}
    refused = write(a1, "PUT", f"{base}/position", position)
    assert refused.status_code == 409  # type: ignore[attr-defined]
    page = a1.client.get(f"/d/{blind.dialogue_id}")
    form = {"csrf": csrf_of(page.text), "note": canary, "walk_away": "30"}
    assert a1.client.post(f"/d/{blind.dialogue_id}/position", data=form).status_code == 409
    # a whole round: the node side publishes links and the opened finding, nothing else
    computation = write(f, "POST", f"{base}/blind/computations", {"finding": "exists"})
    cid = computation.json()["id"]  # type: ignore[attr-defined]
    clients = {w: node(app, blind.tokens[w]) for w in ("a", "b", "helper")}
    for w, c in clients.items():
        c.post(f"{NODES}/{cid}/ready", json={"links": [[0, 1]] if w == "a" else []})
    session = clients["a"].get(f"{NODES}/{cid}/session").text
    for k, c in enumerate(clients.values()):
        c.post(
            f"{NODES}/{cid}/result",
            json={"computation": cid, "index": k, "opened": {"exists": True}},
        )
    body = {"computation_id": cid, "audiences": [blind.delegation_b, "observers"]}
    assert write(f, "POST", f"{base}/blind/releases", body).status_code == 201  # type: ignore[attr-defined]

    def readable() -> str:
        out = [session]
        for seat in seats.values():
            for url in ("", "/blind/nodes", "/blind/computations", "/releases", "/log"):
                out.append(seat.client.get(base + url).text)
        return "\n".join(out)

    with platform.view() as s:
        assert not list(repo.positions_of(s, blind.dialogue_id, blind.delegation_a))
    assert canary not in readable()
    assert canary.encode() not in _database_bytes(platform)
    # the control: what the server did receive (a helper's label) is found by the same scan
    control = f"CANARY-{secrets.token_hex(8)}"
    pem, _ = certificate()
    write(
        f,
        "POST",
        f"{base}/blind/nodes",
        {"certificate": pem, "host": "h", "port": 1, "label": control},
    )
    assert control in readable()


def test_a_node_token_opens_nothing_an_anonymous_caller_cannot(
    app: FastAPI, platform: Platform, blind: BlindWorld
) -> None:
    """Every route of the app but the node API answers a node token exactly as it answers
    no credentials at all; in the node API, side A's token cannot act as side B's node."""
    computation = computations.request(
        platform, blind.actors["facilitator"], blind.dialogue_id, "overlap"
    )
    values = {
        "dialogue_id": blind.dialogue_id,
        "computation_id": computation,
        "path": "backchannel.css",
    }
    anonymous = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    a = node(app, blind.tokens["a"])
    checked = 0
    for method, template in sorted(declared_routes(app)):
        if template.startswith(NODES):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x" * 22), template)
        with_token = a.request(method, url, follow_redirects=False)
        without = anonymous.request(method, url)
        assert with_token.status_code == without.status_code, (method, template)
        checked += 1
    assert checked > 100
    for w in ("a", "b", "helper"):
        node(app, blind.tokens[w]).post(f"{NODES}/{computation}/ready", json={})
    as_b = {"computation": computation, "index": 1, "opened": {"overlap": [True, True]}}
    refused = a.post(f"{NODES}/{computation}/result", json=as_b)
    assert refused.status_code == 422 and "this node is party 0" in refused.json()["error"]
    (mine,) = node(app, blind.tokens["b"]).get(NODES).json()
    assert mine["index"] == 1  # B's turn is still B's


def test_a_refused_release_keeps_what_was_ticked(
    app: FastAPI, platform: Platform, blind: BlindWorld, seats: dict[str, Browserless]
) -> None:
    """The release form of an opened finding, refused (here: already released), comes
    back with the audiences ticked and the issue chosen as they were sent (it used to
    come back empty), and nothing was released."""
    f = seats["facilitator"].client
    computation = computations.request(
        platform, blind.actors["facilitator"], blind.dialogue_id, "overlap"
    )
    play(platform, blind, computation, {"overlap": [True, False]})
    computations.release(
        platform, blind.actors["facilitator"], blind.dialogue_id, computation, ["observers"], 1
    )
    page = f.get(f"/d/{blind.dialogue_id}/blind")
    form = {
        "csrf": csrf_of(page.text),
        "computation": computation,
        "audience": [blind.delegation_b, "observers"],
        "issue": "1",
    }
    refused = f.post(f"/d/{blind.dialogue_id}/blind/releases", data=form)
    assert refused.status_code == 409 and "already released" in unescape(refused.text)
    ticked = re.findall(r'name="audience" value="([^"]+)" checked', refused.text)
    assert sorted(ticked) == sorted([blind.delegation_b, "observers"])
    assert re.search(r'<option value="1" selected>Sanctions</option>', refused.text)
    assert seats["b1"].client.get(f"/api/v1/dialogues/{blind.dialogue_id}/releases").json() == []
