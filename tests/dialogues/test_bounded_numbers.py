"""Every whole number a route takes is bounded: out of range or not a number is a 422.

Issue 12 §1.5: ``GET …/log?before=9223372036854775808`` was a 500 (SQLite cannot bind
an integer above 2**63 - 1), on the API and on the HTML log page. Here every integer
query or path parameter of every route (found from the app's own route list, so a new
one is covered without being listed), every integer field of every JSON body (found
from the OpenAPI description) and every number field of the forms is sent huge,
negative and non-numeric values, as the facilitator (whose log reads by global
sequence number) and as a member: the answer is always a 422, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from backchannel.model.text import Draft
from backchannel.services import texts
from backchannel.web.deps import LARGEST_NUMBER
from conftest import World
from page_routes import route_entries

from .conftest import Browserless

HOSTILE = [
    str(2**63),  # the value of the issue: one past SQLite's largest integer
    str(2**64 + 1),
    str(LARGEST_NUMBER + 1),
    "9" * 5000,  # more digits than Python converts by default
    "-1",
    str(-(2**63) - 1),
    "ten",
    "1e3",
    "1.5",
    "",
]


def _params(dependant: Any) -> Iterator[Any]:
    yield from dependant.query_params
    yield from dependant.path_params
    for sub in dependant.dependencies:
        yield from _params(sub)


def integer_parameters(app: FastAPI) -> set[tuple[str, str, str]]:
    """``(method, path, name)`` of every integer query or path parameter of the app."""
    found = set()
    for route, path, methods in route_entries(app):
        if not isinstance(route, APIRoute):
            continue
        for field in _params(route.dependant):
            if "int" in str(field.field_info.annotation):
                found |= {(method, path, field.name) for method in methods}
    return found


def test_the_integer_parameters_are_the_known_ones(app: FastAPI) -> None:
    """A new integer parameter shows up here (and is then covered by the tests below)."""
    assert integer_parameters(app) == {
        ("GET", "/api/v1/dialogues/{dialogue_id}/log", "limit"),
        ("GET", "/api/v1/dialogues/{dialogue_id}/log", "before"),
        ("GET", "/d/{dialogue_id}/log", "before"),
        ("GET", "/api/v1/dialogues/{dialogue_id}/texts/{text_id}", "version"),
        ("GET", "/api/v1/dialogues/{dialogue_id}/texts/{text_id}/diff", "old"),
        ("GET", "/api/v1/dialogues/{dialogue_id}/texts/{text_id}/diff", "new"),
        ("GET", "/api/v1/dialogues/{dialogue_id}/escalation/analysis", "horizon"),
    }


@pytest.mark.parametrize("who", ["facilitator", "a1"])
def test_every_integer_parameter_refuses_what_is_out_of_range(
    app: FastAPI, world: World, clients: Callable[[str], Browserless], who: str
) -> None:
    client = clients(who).client
    draft = [Draft(body="The parties meet.")]
    fac = world.actors["facilitator"]
    text = texts.create_text(world.platform, fac, world.dialogue_id, "T", draft)
    for method, path, name in sorted(integer_parameters(app)):
        url = path.format(dialogue_id=world.dialogue_id, text_id=text)
        for value in HOSTILE:
            response = client.request(method, url, params={name: value})
            assert response.status_code == 422, (url, name, value[:30], response.status_code)
        largest = client.request(method, url, params={name: str(LARGEST_NUMBER)})
        # limit, the versions of a text (a diff needs both) and the limited-move horizon have
        # their own, smaller bounds
        expected = 422 if name in ("limit", "version", "old", "new", "horizon") else 200
        assert largest.status_code == expected, (url, name, largest.text[:200])


def _integer_fields(schema: Any, where: str, components: dict[str, Any]) -> Iterator[str]:
    """Every integer in a JSON schema, named by where it is, each with its bounds checked."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            yield from _integer_fields(
                components[schema["$ref"].rsplit("/", 1)[-1]], where, components
            )
            return
        if schema.get("type") == "integer":
            assert "minimum" in schema and "maximum" in schema, f"{where} is not bounded"
            yield where
        for key, value in schema.items():
            yield from _integer_fields(value, f"{where}.{key}", components)
    elif isinstance(schema, list):
        for item in schema:
            yield from _integer_fields(item, where, components)


def test_every_integer_of_every_json_body_is_bounded(app: FastAPI) -> None:
    spec = app.openapi()
    components = spec["components"]["schemas"]
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                found += list(_integer_fields(body["schema"], f"{method} {path}", components))
    assert found, "no integer found in the request bodies: the walk is broken"


def _json_cases(world: World) -> list[tuple[str, str, str, Callable[[Any], Any]]]:
    """``(who, method, url, body of a value)`` for every integer of the JSON bodies."""
    d = world.dialogue_id
    i1 = world.issues[0]
    position = f"/api/v1/dialogues/{d}/position"
    return [
        ("a1", "POST", "/api/v1/dialogues", lambda v: {"title": "T", "evaluations_per_round": v}),
        (
            "a1",
            "POST",
            "/api/v1/dialogues",
            lambda v: {"title": "T", "evaluations_per_dialogue": v},
        ),
        ("a1", "PUT", position, lambda v: {"importance": {i1: v}}),
        ("a1", "PUT", position, lambda v: {"ratings": {i1: {"full": v}}}),
        ("a1", "PUT", position, lambda v: {"walk_away": v}),
    ]


def test_every_integer_of_a_json_body_refuses_what_is_out_of_range(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    values: list[Any] = [2**63, 2**64 + 1, 10**400, -1, -(2**63) - 1, "ten", 1.5, [1]]
    for who, method, url, body in _json_cases(world):
        signed_in = clients(who)
        for value in values:
            response = signed_in.client.request(
                method, url, json=body(value), headers={"X-CSRF-Token": signed_in.csrf}
            )
            assert response.status_code == 422, (url, value, response.status_code)


def test_every_number_of_a_form_refuses_what_is_out_of_range(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    d, (i1, _) = world.dialogue_id, world.issues
    cases = [
        ("a1", "/dialogues", lambda v: {"title": "T", "evaluations_per_round": v}),
        ("a1", "/dialogues", lambda v: {"title": "T", "evaluations_per_dialogue": v}),
        ("a1", f"/d/{d}/position", lambda v: {f"importance:{i1}": v}),
        ("a1", f"/d/{d}/position", lambda v: {f"rating:{i1}:0": v}),
        ("a1", f"/d/{d}/position", lambda v: {"walk_away": v}),
    ]
    for who, url, form in cases:
        signed_in = clients(who)
        for value in [v for v in HOSTILE if v]:
            fields = {**form(value), "csrf": signed_in.csrf}
            response = signed_in.client.post(url, data=fields, follow_redirects=False)
            assert response.status_code == 422, (url, value[:30], response.status_code)
