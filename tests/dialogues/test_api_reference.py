"""docs/reference/api.md describes every route of the JSON API, and every route it describes exists.

A route is described by a heading that holds its method and path in code, such as
``#### `POST /api/v1/dialogues/{dialogue_id}/rounds` ``, with the path written
exactly as the app declares it.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import APIRoute

from backchannel.services.platform import Platform
from backchannel.web.app import create_app
from backchannel.web.routes import api

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "api.md"
HEADING = re.compile(r"^#{2,6} `([A-Z]+) (/api/\S*)`\s*$", re.MULTILINE)

Route = tuple[str, str]


def documented(text: str) -> list[Route]:
    """``(method, path)`` of every route heading of a Markdown text, in order."""
    return [(m.group(1), m.group(2)) for m in HEADING.finditer(text)]


def served(app: FastAPI) -> set[Route]:
    """``(method, path)`` of every route of the app under ``/api/``.

    Read from the app's own OpenAPI description (FastAPI builds it from the routes it
    serves), plus the route that serves that description.
    """
    out = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    if app.openapi_url:
        out.add(("GET", app.openapi_url))
    return {(method, path) for method, path in out if path.startswith("/api/")}


def test_every_api_route_is_documented_and_every_documented_route_exists(
    platform: Platform,
) -> None:
    app = create_app(platform.settings, platform)
    routes = served(app)
    described = documented(API_DOC.read_text(encoding="utf-8"))
    declared = {
        (m, r.path) for r in api.router.routes if isinstance(r, APIRoute) for m in r.methods
    }
    assert declared and declared <= routes  # control: no API route is left out of the reading
    assert sorted(routes - set(described)) == [], "routes missing from docs/reference/api.md"
    assert sorted(set(described) - routes) == [], (
        "docs/reference/api.md describes routes the app lacks"
    )
    twice = [route for route, count in Counter(described).items() if count > 1]
    assert twice == [], "described twice in docs/reference/api.md"


def test_headings_are_read_as_routes_and_nothing_else_is() -> None:
    text = (
        "## Endpoints\n\n#### `POST /api/v1/dialogues/{dialogue_id}/rounds`\n\n"
        "Opens a round: see `GET /api/v1/dialogues/{dialogue_id}/rounds`.\n"
        "### `GET /api/openapi.json`\n#### `GET /dialogues`\n"
    )
    assert documented(text) == [
        ("POST", "/api/v1/dialogues/{dialogue_id}/rounds"),
        ("GET", "/api/openapi.json"),
    ]
