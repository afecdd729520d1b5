"""Links from the configured public URL, and only our own ``Host`` names served.

Issue 12 §1.3: the ``Host`` header was copied into invitation links, so a request with
``Host: evil.example`` gave a link to evil.example. Links are now built from the
``public_url`` setting (default: the address ``serve`` listens on), and a request whose
``Host`` is not an allowed name (default: the public URL's host and the loopback names)
is refused with 400 before any route runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backchannel.errors import InputError
from backchannel.services.platform import Platform
from backchannel.storage.tables import InvitationRow
from backchannel.web.app import create_app, server_options
from conftest import World, build_world, close, make_settings

from .conftest import BASE_URL, Browserless, sign_in
from .test_web_security import header_problems


def invitation_count(platform: Platform) -> int:
    with platform.view() as s:
        return s.query(InvitationRow).count()


def api_link(who: Browserless, world: World, host: str | None = None) -> tuple[int, str]:
    headers = {"X-CSRF-Token": who.csrf}
    if host is not None:
        headers["Host"] = host
    response = who.client.post(
        f"/api/v1/dialogues/{world.dialogue_id}/invitations",
        json={"role": "observer"},
        headers=headers,
    )
    return response.status_code, response.json().get("link", "") if response.is_success else ""


def page_link(who: Browserless, world: World, host: str | None = None) -> tuple[int, str]:
    headers = {"Host": host} if host is not None else {}
    response = who.client.post(
        f"/d/{world.dialogue_id}/invitations",
        data={"role": "observer", "csrf": who.csrf},
        headers=headers,
    )
    found = re.search(r"https?://[^\s<>\"']+/invite/[\w-]+", response.text)
    return response.status_code, found.group(0) if found else ""


@pytest.mark.parametrize("make", [api_link, page_link], ids=["api", "page"])
def test_a_foreign_host_gets_no_invitation_link(
    world: World, clients: Callable[[str], Browserless], make: Callable[..., tuple[int, str]]
) -> None:
    facilitator = clients("facilitator")
    status, link = make(facilitator, world, "evil.example")
    assert (status, link) == (400, "")
    assert invitation_count(world.platform) == 0
    status, link = make(facilitator, world)  # the control: our own address
    assert status in (200, 201) and link.startswith(f"{BASE_URL}/invite/")


@pytest.mark.parametrize("make", [api_link, page_link], ids=["api", "page"])
def test_links_use_the_public_url_whatever_host_the_request_names(
    tmp_path: Path, make: Callable[..., tuple[int, str]]
) -> None:
    settings = make_settings(tmp_path, public_url="https://talks.example.org")
    platform = Platform.open(settings, upgrade=True)
    world = build_world(platform)
    facilitator = sign_in(create_app(settings, platform), "facilitator")
    for host in ("talks.example.org", "localhost:9999", "127.0.0.1:8000", None):
        status, link = make(facilitator, world, host)
        assert status in (200, 201), host
        assert link.startswith("https://talks.example.org/invite/"), (host, link)
    facilitator.client.close()
    close(platform)


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "talks.example.org.evil", ""],
)
@pytest.mark.parametrize("path", ["/signin", "/api/v1/dialogues", "/static/backchannel.css"])
def test_requests_naming_another_host_are_refused(app: FastAPI, host: str, path: str) -> None:
    with TestClient(app, base_url=BASE_URL) as client:
        refused = client.get(path, headers={"Host": host})
        assert refused.status_code == 400, (host, path)
        assert header_problems(refused, static=path.startswith("/static/")) == []


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8000", "localhost:8000", "[::1]:8000"])
def test_the_loopback_names_are_served_by_default(app: FastAPI, host: str) -> None:
    with TestClient(app, base_url=BASE_URL) as client:
        assert client.get("/signin", headers={"Host": host}).status_code == 200


def test_allowed_hosts_replace_the_default_list(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, allowed_hosts="talks.example.org, ::1")
    assert settings.hosts == ("talks.example.org", "[::1]")
    platform = Platform.open(settings, upgrade=True)
    with TestClient(create_app(settings, platform), base_url=BASE_URL) as client:
        for host, status in (
            ("talks.example.org", 200),
            ("TALKS.example.org:443", 200),
            ("[::1]:8000", 200),
            ("127.0.0.1:8000", 400),
            ("localhost", 400),
        ):
            assert client.get("/signin", headers={"Host": host}).status_code == status, host
    close(platform)


def test_the_public_url_and_its_host_by_default(tmp_path: Path) -> None:
    plain = make_settings(tmp_path)
    assert plain.base_url == "http://127.0.0.1:8000"
    assert plain.hosts == ("127.0.0.1", "localhost", "[::1]")
    assert make_settings(tmp_path, port=8443, tls=True).base_url == "https://127.0.0.1:8443"
    public = make_settings(tmp_path, public_url="https://Talks.Example.org:8443/")
    assert public.base_url == "https://talks.example.org:8443"
    assert public.hosts[0] == "talks.example.org"
    for bad in (
        "talks.example.org",
        "ftp://talks.example.org",
        "https://x.org/talks",
        "https://u@x.org",
    ):
        with pytest.raises(ValueError, match="public URL"):
            make_settings(tmp_path, public_url=bad)


def test_serving_on_every_address_needs_a_public_url(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="public URL"):
        server_options(make_settings(tmp_path, host="0.0.0.0"))
    options = server_options(
        make_settings(tmp_path, host="0.0.0.0", public_url="https://talks.example.org")
    )
    assert options["host"] == "0.0.0.0"


def test_a_refused_host_is_told_where_the_server_answers(app: FastAPI) -> None:
    with TestClient(app, base_url=BASE_URL) as client:
        page = client.get("/signin", headers={"Host": "evil.example"})
        assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
        assert f"Open it at {BASE_URL}" in page.text and "evil.example" not in page.text
        api = client.get(
            "/api/v1/dialogues", headers={"Host": "evil.example", "Accept-Language": "ru"}
        )
        assert api.status_code == 400
        body = api.json()
        assert body["code"] == "This server does not answer to the address used."
        assert body["error"] == "Этот сервер не отвечает по использованному адресу."
        assert BASE_URL in body["hint"] and "BACKCHANNEL_ALLOWED_HOSTS" in body["hint"]
