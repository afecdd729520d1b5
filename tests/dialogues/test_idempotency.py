"""Issue 10 §2 on the JSON API: ``Idempotency-Key`` on every write.

The same key from the same account with the same request replays the first answer
(status and body) without acting again; with another request it is a 422; a refused
request lets the key go; concurrent repeats act once (threads, and two app processes
on one database); keys are stored hashed, answers sealed, and forgotten after a day;
the OpenAPI description declares the header on every covered write.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from backchannel.services import once
from backchannel.services.platform import Platform
from backchannel.storage import tables
from backchannel.web.app import create_app
from conftest import World

from .conftest import BASE_URL, Browserless, row_counts

Clients = Callable[[str], Browserless]


def write(
    b: Browserless, path: str, body: object, key: str | None
) -> tuple[int, dict[str, str], bytes]:
    headers = {"X-CSRF-Token": b.csrf} | ({"Idempotency-Key": key} if key else {})
    answer = b.client.post(path, json=body, headers=headers)
    return answer.status_code, dict(answer.headers), answer.content


def test_the_same_key_replays_the_first_answer_without_acting_again(
    world: World, clients: Clients
) -> None:
    f = clients("facilitator")
    before = row_counts(world.platform.engine)["dialogues"]
    first = write(f, "/api/v1/dialogues", {"title": "Once"}, "key-1")
    second = write(f, "/api/v1/dialogues", {"title": "Once"}, "key-1")
    assert first[0] == second[0] == 201
    assert first[2] == second[2]
    assert second[1]["idempotent-replayed"] == "true" and "idempotent-replayed" not in first[1]
    assert row_counts(world.platform.engine)["dialogues"] == before + 1
    # another key acts again; no key at all acts every time
    assert write(f, "/api/v1/dialogues", {"title": "Once"}, "key-2")[2] != first[2]
    write(f, "/api/v1/dialogues", {"title": "Once"}, None)
    write(f, "/api/v1/dialogues", {"title": "Once"}, None)
    assert row_counts(world.platform.engine)["dialogues"] == before + 4


def test_the_same_key_with_another_request_is_refused(world: World, clients: Clients) -> None:
    f = clients("facilitator")
    d = world.dialogue_id
    assert write(f, "/api/v1/dialogues", {"title": "One"}, "k")[0] == 201
    status, _, body = write(f, "/api/v1/dialogues", {"title": "Another"}, "k")
    assert status == 422 and b"was used for a different request" in body
    status, _, body = write(f, f"/api/v1/dialogues/{d}/delegations", {"name": "C"}, "k")
    assert status == 422 and b"different request" in body


def test_keys_belong_to_their_account(world: World, clients: Clients) -> None:
    f, a1 = clients("facilitator"), clients("a1")
    first = write(f, "/api/v1/dialogues", {"title": "Mine"}, "shared")
    other = write(a1, "/api/v1/dialogues", {"title": "Mine"}, "shared")
    assert other[0] == 201 and other[2] != first[2] and "idempotent-replayed" not in other[1]


def test_a_refused_request_lets_its_key_go(world: World, clients: Clients) -> None:
    f = clients("facilitator")
    d = world.dialogue_id
    assert write(f, f"/api/v1/dialogues/{d}/rounds/current/evaluate", None, "ev")[0] == 409
    status, _, _ = write(f, "/api/v1/dialogues", {"title": ""}, "t")
    assert status == 422
    status, headers, _ = write(f, "/api/v1/dialogues", {"title": "Fixed"}, "t")
    assert status == 201 and "idempotent-replayed" not in headers


def test_a_key_is_checked(world: World, clients: Clients) -> None:
    f = clients("facilitator")
    status, _, body = write(f, "/api/v1/dialogues", {"title": "T"}, "x" * 256)
    assert status == 422 and b"Idempotency-Key is not 1 to 255 visible ASCII characters" in body


def test_concurrent_repeats_act_once_in_threads_and_across_two_processes(
    world: World, clients: Clients
) -> None:
    f = clients("facilitator")
    other = Platform.open(world.platform.settings)
    apps: list[FastAPI] = [f.client.app, create_app(other.settings, other)]  # type: ignore[list-item]
    cookies = dict(f.client.cookies)
    before = row_counts(world.platform.engine)["dialogues"]

    def send(n: int) -> tuple[int, bytes]:
        with TestClient(apps[n % 2], base_url=BASE_URL, cookies=cookies) as client:
            answer = client.post(
                "/api/v1/dialogues",
                json={"title": "Raced"},
                headers={"X-CSRF-Token": f.csrf, "Idempotency-Key": "race"},
            )
            return answer.status_code, answer.content

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(8)))
    other.close()
    assert {status for status, _ in answers} == {201}
    assert len({body for _, body in answers}) == 1
    assert row_counts(world.platform.engine)["dialogues"] == before + 1


def test_keys_are_stored_hashed_answers_sealed_and_forgotten_after_a_day(
    world: World, clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = clients("facilitator")
    d = world.dialogue_id
    key = "secret-looking-key-0123456789"
    body = {"role": "member", "delegation_id": world.delegation_a, "track": "expert"}
    status, _, answer = write(f, f"/api/v1/dialogues/{d}/invitations", body, key)
    assert status == 201
    token = answer.decode().rsplit("/", 1)[1].split('"', 1)[0]
    with world.platform.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM request_keys")).all()
    stored = repr(rows)
    assert len(rows) == 1 and key not in stored and token not in stored
    # a day later the key is forgotten: the next claim of any key prunes it
    later = tables.utcnow() + once.KEEP + timedelta(minutes=1)
    monkeypatch.setattr(once, "utcnow", lambda: later)
    assert once.claim(world.platform, None, "another", "print") is None
    assert row_counts(world.platform.engine)["request_keys"] == 1  # only the new one


def test_the_openapi_description_declares_the_header_on_every_covered_write(
    app: FastAPI,
) -> None:
    paths = app.openapi()["paths"]
    declared = {
        (method.upper(), path)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    }
    writes = {
        (method.upper(), path)
        for path, operations in paths.items()
        for method in operations
        if method.upper() in {"POST", "PUT", "PATCH", "DELETE"}
    }
    sessions = {
        ("POST", "/api/v1/session"),
        ("POST", "/api/v1/session/code"),
        ("POST", "/api/v1/session/end"),
        ("POST", "/api/v1/account/password"),
    }
    assert declared == writes - sessions
    assert ("PUT", "/api/v1/dialogues/{dialogue_id}/position") in declared
