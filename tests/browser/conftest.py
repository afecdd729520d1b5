"""The browser tests' harness: a real server, headless Chromium, people, eyes.

* :func:`serve`: the application on a fresh database, served by uvicorn on a free local
  port (``site``: an empty one per test module).
* ``browser``: Debian's Chromium, headless (Playwright downloads nothing); ``person``
  makes a browser context of one's own, in a language, whose every request is recorded
  and any request to anywhere but the test server refused (:class:`Traffic`).
* ``folder``: where a module's screenshots go; :func:`eyes_for` the :class:`Eyes` that
  take them and check each page with axe-core, and write the user guides' pictures when
  ``$BACKCHANNEL_GUIDE_PICTURES`` names their folder.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright

from backchannel.services.platform import Platform
from backchannel.web.app import create_app
from conftest import make_settings
from page_routes import NOT_PAGES, Prepared, page_routes

from .pages import Eyes

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
LOCALES = {"en": "en-GB", "ru": "ru-RU"}


# ------------------------------------------------------------------ the server
@dataclass
class Site:
    """A running test server."""

    origin: str
    platform: Platform
    route_of: Callable[[str], str]
    app: FastAPI
    prepared: Prepared | None = None


def _route_matcher(app: FastAPI) -> Callable[[str], str]:
    """The page route an address belongs to (its template), or its path."""
    # a fixed segment before a parameter: /readouts/draft is not the readout "draft"
    templates = sorted(page_routes(app) | set(NOT_PAGES), key=lambda t: (t.count("{"), -len(t)))
    patterns = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", t) + "$"), t) for t in templates]

    def route_of(url: str) -> str:
        path = re.sub(r"^https?://[^/]+", "", url).split("?")[0].split("#")[0]
        return next((t for pattern, t in patterns if pattern.match(path)), path)

    return route_of


def serve(folder: Path, setup: Callable[[Platform], Prepared | None]) -> Iterator[Site]:
    """The application on a fresh database (``setup`` fills it), served by uvicorn on a
    free local port until the generator is closed."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    origin = f"http://127.0.0.1:{listener.getsockname()[1]}"  # invitation links point here
    settings = make_settings(folder, public_url=origin)
    platform = Platform.open(settings, upgrade=True)
    prepared = setup(platform)
    app = create_app(settings, platform)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield Site(origin, platform, _route_matcher(app), app, prepared)
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()
    platform.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """An empty site: the flows start from nothing."""
    yield from serve(tmp_path_factory.mktemp("flow"), lambda platform: None)


# ------------------------------------------------------------------ the browser
@dataclass
class Traffic:
    """Every request of every context; those not to the test server are refused."""

    origin: str
    seen: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> None:
        """Record the context's requests and let only the test server's through."""
        context.on("request", lambda request: self.seen.append(request.url))

        def guard(route: Route) -> None:
            if route.request.url.startswith(self.origin + "/"):
                route.continue_()
            else:
                self.refused.append(route.request.url)
                route.abort()

        context.route("**/*", guard)

    def check(self) -> None:
        """Nothing went anywhere but the test server."""
        assert self.seen, "no request was recorded"
        assert self.refused == []
        assert [u for u in self.seen if not u.startswith(self.origin + "/")] == []


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's; Playwright downloads nothing)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def folder(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the module's screenshots (and other artefacts) go: a folder named after the
    module under ``$BACKCHANNEL_SCREENSHOTS`` (its old pictures removed first), else a
    temporary folder."""
    chosen = os.environ.get("BACKCHANNEL_SCREENSHOTS")
    module = request.module.__name__.rpartition(".")[2]
    where = Path(chosen) / module if chosen else tmp_path_factory.mktemp(module)
    where.mkdir(parents=True, exist_ok=True)
    for old in where.glob("*.png"):
        old.unlink()
    return where


@pytest.fixture(scope="module")
def checked() -> set[tuple[str, str]]:
    """The pages (route, language) axe-core checked in this module."""
    return set()


@dataclass
class People:
    """Browser contexts for one test: ``person(language)`` makes one."""

    browser: Browser
    traffic: Traffic
    contexts: list[BrowserContext] = field(default_factory=list)

    def __call__(self, language: str = "en", js: bool = True) -> Page:
        context = self.browser.new_context(
            viewport={"width": 1100, "height": 800},
            java_script_enabled=js,
            locale=LOCALES[language],
            bypass_csp=True,  # lets the test add axe-core's script to the page
        )
        context.set_default_timeout(10_000)
        context.set_default_navigation_timeout(60_000)
        self.traffic.watch(context)
        self.contexts.append(context)
        return context.new_page()


def people_on(browser: Browser, site: Site) -> Iterator[People]:
    people = People(browser, Traffic(site.origin))
    yield people
    for context in people.contexts:
        context.close()
    people.traffic.check()


@pytest.fixture
def person(browser: Browser, site: Site) -> Iterator[People]:
    """People on the empty site."""
    yield from people_on(browser, site)


def eyes_for(
    folder: Path,
    site: Site,
    checked: set[tuple[str, str]],
    pictures: dict[str, str] | None = None,
    axe: bool = True,
) -> Eyes:
    """Screenshots into ``folder`` (whole pages when ``$BACKCHANNEL_SCREENSHOTS`` asks for
    them to be kept; the window only otherwise, which is quicker) and axe-core.

    ``pictures``: screenshot name (without its language) -> the user guides' picture it
    makes, when ``$BACKCHANNEL_GUIDE_PICTURES`` names the guides' folder (``docs/images``).
    """
    full = bool(os.environ.get("BACKCHANNEL_SCREENSHOTS"))
    eyes = Eyes(folder, AXE if axe else None, site.route_of, full_page=full)
    guide = os.environ.get("BACKCHANNEL_GUIDE_PICTURES")
    if guide:  # the user guides' pictures, one of each page in each language
        eyes.guide, eyes.pictures = Path(guide), dict(pictures or {})
    eyes.checked = checked
    return eyes


def no_violations(eyes: Eyes) -> None:
    assert not eyes.violations, "accessibility violations:\n" + "\n".join(eyes.violations)
