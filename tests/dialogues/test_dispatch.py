"""Route matching by shape picks what the whole route list picks, for every route.

:mod:`backchannel.web.dispatch` matches a request against the group of routes of its
path's shape. For a path made from every route of the application (its parameters
filled in, with a trailing slash, with its last segment changed, one segment more or
less) and every method, the first full match and the first path-only match (the 405)
of the group must be those of the whole list; a path no group holds goes to the whole
list. Through the application, a 404, a 405 and the trailing-slash redirect answer as
before.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Match, Route

from backchannel.web import dispatch
from backchannel.web.errors import METHODS
from conftest import World

from .conftest import BASE_URL

PARAMETER = re.compile(r"{[^}:]+(:[^}]+)?}")


def _filled(path: str) -> str:
    return PARAMETER.sub(lambda m: "7" if m.group(1) == ":int" else "x7", path)


def _first(routes: list[BaseRoute], scope: dict[str, object]) -> tuple[int | None, int | None]:
    """The positions of the first full and the first partial match (None: none)."""
    full = partial = None
    for k, route in enumerate(routes):
        found, _ = route.matches(scope)
        if found == Match.FULL and full is None:
            full = k
        if found == Match.PARTIAL and partial is None:
            partial = k
    return full, partial


def _paths(app: FastAPI) -> set[str]:
    made = set()
    for route in app.router.routes:
        if not isinstance(route, Route):
            continue
        path = _filled(route.path)
        head = path.rpartition("/")[0]
        made |= {path, path + "/", f"{head}/other", f"{path}/more", head or "/"}
    return made | {"/", "/static/backchannel.css", "/static/nothing/here.js", "/no/such/page"}


def test_every_route_is_matched_in_its_group_as_in_the_whole_list(app: FastAPI) -> None:
    router = app.router
    chosen = router.middleware_stack
    assert isinstance(chosen, dispatch.Dispatch), "the app does not match routes by shape"
    whole = list(router.routes)
    checked = grouped = 0
    for path in sorted(_paths(app)):
        group = chosen.candidates(path)
        for method in METHODS:
            scope = {"type": "http", "path": path, "root_path": "", "method": method}
            expected = _first(whole, scope)
            if group is None:
                assert expected == (None, None) or path.startswith("/static"), (method, path)
                continue
            members = list(group.routes)
            full, partial = _first(members, scope)
            named = (
                None if full is None else members[full],
                None if partial is None else members[partial],
            )
            wanted = tuple(None if k is None else whole[k] for k in expected)
            if named[0] is None and wanted[0] is not None:
                raise AssertionError(f"{method} {path}: the group misses {wanted[0]}")
            assert named == wanted, (method, path)
            checked += 1
            grouped += len(members) < len(whole) / 4
    assert checked > 1000 and grouped > checked * 0.9  # and the groups are small


def test_routes_added_later_are_grouped_again(app: FastAPI) -> None:
    chosen = app.router.middleware_stack
    assert isinstance(chosen, dispatch.Dispatch)

    def holds(group: object) -> bool:
        routes = getattr(group, "routes", [])
        return any(getattr(r, "path", "") == "/late/extra/route" for r in routes)

    assert not holds(chosen.candidates("/late/extra/route"))

    async def late() -> dict[str, str]:
        return {"late": "yes"}

    app.router.add_api_route("/late/extra/route", late, methods=["GET"])
    assert holds(chosen.candidates("/late/extra/route"))
    assert TestClient(app, base_url=BASE_URL).get("/late/extra/route").json() == {"late": "yes"}


def test_misses_answer_as_before(app: FastAPI, world: World) -> None:
    client = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    assert client.get("/no/such/page").status_code == 404
    assert client.get(f"/api/v1/dialogues/{world.dialogue_id}/no-such-thing").status_code == 404
    refused = client.put("/signin")
    assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD, POST"
    assert client.get("/static/backchannel.css").status_code == 200
    assert client.get("/static/no-such.css").status_code == 404


def test_through_the_app_every_miss_answers_as_the_whole_list_does(
    app: FastAPI, world: World
) -> None:
    client = TestClient(app, base_url=BASE_URL, follow_redirects=False)
    chosen = app.router.middleware_stack
    d = world.dialogue_id
    misses = ["/signin/", f"/d/{d}/", f"/api/v1/dialogues/{d}/rounds/", "/api/v1/", "/d", "//"]

    def answers() -> list[tuple[int, str | None]]:
        return [(r.status_code, r.headers.get("location")) for r in map(client.get, misses)]

    grouped = answers()
    app.router.middleware_stack = app.router.app  # the whole list, as before
    try:
        assert answers() == grouped
    finally:
        app.router.middleware_stack = chosen
