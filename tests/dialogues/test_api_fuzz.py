"""The JSON API against its own OpenAPI description, fuzzed as each role (schemathesis).

A bounded run with a fixed seed: every operation, schema-valid and schema-invalid
examples, signed in as the facilitator, a member, an observer, an account with no seat
and no one. No server error, no undeclared status, every body of the declared shape;
the longer run is ``python -m benchmarks.api_fuzz``. Then what the fuzz run of issue 12
found, one test each: an undeclared ``Allow``, a ``true`` taken for a number, limits and
enums the description did not state, wrong credentials answered 422.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backchannel.services import dialogues
from backchannel.services.platform import Platform
from backchannel.web.app import create_app
from benchmarks.api_fuzz import ROLES, Target, fuzz
from conftest import PASSWORD, World, build_world, make_settings
from dialogues.conftest import BASE_URL, Browserless, sign_in

Clients = Callable[[str], Browserless]

EXAMPLES = 6
"""Examples per operation, mode and role in the suite (about 1,300 requests in all; the
longer run is `benchmarks/api_fuzz.py`)."""


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Target:
    """The test world served to the fuzzer (Host ``testserver``, short evaluations)."""
    folder = tmp_path_factory.mktemp("fuzz")
    settings = make_settings(
        folder, allowed_hosts=("testserver", "127.0.0.1"), evaluation_time_limit=5.0
    )
    platform = Platform.open(settings, upgrade=True)
    world = build_world(platform)
    names = {"facilitator": "facilitator", "member": "a1", "observer": "observer"}
    names["outsider"] = "outsider"
    return Target(create_app(settings, platform), world.dialogue_id, names, PASSWORD)


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_as_described(target: Target, role: str) -> None:
    report = fuzz(target, role, EXAMPLES)
    assert report.failures == {}, "\n\n".join(f"{k}\n{v}" for k, v in report.failures.items())
    assert report.requests >= EXAMPLES * 10
    assert not [code for code in report.statuses if code >= 500]
    if role == "anonymous":
        assert not [code for code in report.statuses if 200 <= code < 300]
    else:
        assert sum(n for code, n in report.statuses.items() if 200 <= code < 300) > 0


def test_the_fuzzer_reports_a_server_error(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    """The negative control: a route that breaks is found and named."""

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("a bug")

    monkeypatch.setattr(dialogues, "add_delegation", broken)
    report = fuzz(target, "facilitator", 5, only="/delegations")
    assert list(report.failures) == [
        "POST /api/v1/dialogues/{dialogue_id}/delegations (positive)",
    ], report.failures
    assert "Server error" in report.failures[next(iter(report.failures))]


def test_a_405_names_every_method_of_its_path(app: FastAPI, world: World) -> None:
    client = TestClient(app, base_url=BASE_URL)
    paths = app.openapi()["paths"]
    assert len(paths) >= 15
    for path, operations in paths.items():
        url = path.replace("{dialogue_id}", world.dialogue_id)
        declared = {method.upper() for method in operations}
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - declared:
            answer = client.request(method, url)
            assert answer.status_code == 405, (method, path)
            head = {"HEAD"} if "GET" in declared else set()  # a GET answers HEAD too
            assert set(answer.headers["allow"].split(", ")) == declared | head, (method, path)
    page = client.request("PUT", "/signin")  # pages too, HTML
    assert page.status_code == 405
    assert page.headers["allow"] == "GET, HEAD, POST"


def test_head_is_answered_like_get_without_the_body(clients: Clients, world: World) -> None:
    """A monitoring probe's HEAD: the GET's status and headers, no body; a 404 stays one."""
    member = clients("a1")
    for url in ("/signin", f"/api/v1/dialogues/{world.dialogue_id}/rounds"):
        got, head = member.client.get(url), member.client.head(url)
        assert got.status_code == head.status_code == 200, url
        assert head.content == b"" and got.content
        assert head.headers["content-type"] == got.headers["content-type"]
        assert head.headers["content-length"] == got.headers["content-length"]
    assert member.client.head("/api/v1/dialogues/nothing-here/rounds").status_code == 404


def test_true_is_not_a_number(clients: Clients, world: World) -> None:
    facilitator = clients("facilitator")
    headers = {"X-CSRF-Token": facilitator.csrf}
    for field in ("evaluations_per_round", "evaluations_per_dialogue"):
        body = {"title": "Fuzzed", field: True}
        refused = facilitator.client.post("/api/v1/dialogues", json=body, headers=headers)
        assert refused.status_code == 422, (field, refused.text)
        assert field in refused.json()["error"]
    for flag in ("monotone_red_lines",):
        refused = facilitator.client.post(
            "/api/v1/dialogues", json={"title": "Fuzzed", flag: 1}, headers=headers
        )
        assert refused.status_code == 422, refused.text
    a1 = clients("a1")
    i1 = world.issues[0]
    position = {"importance": {i1: True}}
    url = f"/api/v1/dialogues/{world.dialogue_id}/position"
    refused = a1.client.put(url, json=position, headers={"X-CSRF-Token": a1.csrf})
    assert refused.status_code == 422, refused.text
    whole = a1.client.put(
        url, json={"importance": {i1: 1.0}}, headers={"X-CSRF-Token": a1.csrf}
    )  # JSON's 1.0 is the whole number 1
    assert whole.status_code == 200, whole.text


def test_the_description_states_limits_enums_and_statuses(app: FastAPI) -> None:
    described = app.openapi()
    schemas = described["components"]["schemas"]
    dialogue = schemas["DialogueBody"]["properties"]
    assert dialogue["title"]["maxLength"] == 200 and dialogue["title"]["minLength"] == 1
    assert dialogue["evaluations_per_round"]["maximum"] == 10
    invitation = schemas["InvitationBody"]["properties"]
    assert schemas[invitation["role"]["$ref"].rsplit("/", 1)[-1]]["enum"] == [
        "facilitator",
        "member",
        "observer",
    ]
    assert schemas["EvaluationKind"]["enum"] == ["zone", "overlap", "clash", "package", "frontier"]
    kinds = ["zone", "overlap", "clash", "package", "frontier", "equilibrium", "path"]
    assert schemas["Kind"]["enum"] == kinds
    assert schemas["PasswordBody"]["properties"]["new"]["minLength"] == 12
    for path, operations in described["paths"].items():
        for method, operation in operations.items():
            declared = set(operation["responses"])
            assert {"400", "401", "422", "503"} <= declared, (method, path)
            if "{dialogue_id}" in path:
                assert "404" in declared, (method, path)
            if "requestBody" in operation:
                assert "413" in declared, (method, path)
            assert "500" not in declared, (method, path)
    assert "429" in described["paths"]["/api/v1/session"]["post"]["responses"]


def test_wrong_credentials_are_a_401_with_the_same_answer(world: World, app: FastAPI) -> None:
    client = TestClient(app, base_url=BASE_URL)
    unknown = client.post("/api/v1/session", json={"username": "nobody", "password": "x" * 14})
    wrong = client.post("/api/v1/session", json={"username": "a1", "password": "x" * 14})
    assert unknown.status_code == wrong.status_code == 401
    said = {"error": "user name or password is wrong", "code": "user name or password is wrong"}
    assert unknown.json() == wrong.json() == said
    assert sign_in(app, "a1").csrf  # the right password still signs in


def test_an_unreadable_body_says_what_to_send(clients: Clients, world: World) -> None:
    facilitator = clients("facilitator")
    answer = facilitator.client.post(
        "/api/v1/dialogues",
        content=b"\xff\xfe not json",
        headers={"X-CSRF-Token": facilitator.csrf, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "the request body could not be read"
    assert "JSON in UTF-8" in answer.json()["hint"]
