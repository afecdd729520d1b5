"""The whole dialogue in a real browser, against a real server on 127.0.0.1.

A uvicorn server runs the application in a background thread on a fresh SQLite
database and key file (fast password hashing, as in the other platform tests), and
Debian's Chromium, driven by Playwright's sync API, plays every person: the
facilitator, one member of each delegation (each in their own browser context) and
an observer. Every request any context makes is recorded, and any request to
anywhere but the test server is refused and makes the test fail. Each page visited
is saved as ``test-artifacts/screenshots/NN-who-what.png``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright

from backchannel.services import accounts, positions
from backchannel.services.platform import Platform
from backchannel.web.app import create_app
from conftest import PASSWORD, build_world, make_settings

from .pages import (
    Camera,
    DialoguePage,
    DialoguesPage,
    InvitationPage,
    PasswordPage,
    SignInPage,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's Chromium is missing (run `make browsers`)"
)


# ------------------------------------------------------------------ the server
@dataclass
class Site:
    """The running test server."""

    origin: str
    platform: Platform


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The application on a fresh database, served by uvicorn on a free local port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    origin = f"http://127.0.0.1:{port}"  # invitation links point here
    settings = make_settings(tmp_path_factory.mktemp("browser"), public_url=origin)
    platform = Platform.open(settings, upgrade=True)
    app = create_app(settings, platform)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield Site(origin, platform)
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()


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
def camera() -> Camera:
    """Screenshots under test-artifacts/screenshots (old ones removed first)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    return Camera(SCREENSHOTS)


Person = Callable[..., Page]


@pytest.fixture
def person(browser: Browser, site: Site) -> Iterator[Person]:
    """``person(js=True)``: a page in a browser context of its own (own cookies)."""
    traffic = Traffic(site.origin)
    contexts: list[BrowserContext] = []

    def make(js: bool = True) -> Page:
        context = browser.new_context(
            viewport={"width": 1100, "height": 800}, java_script_enabled=js
        )
        context.set_default_timeout(10_000)
        context.set_default_navigation_timeout(60_000)
        traffic.watch(context)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    traffic.check()


# ------------------------------------------------------------------ the story
TITLE = "Black Sea shipping talks"
NORTH, SOUTH, COAST = "Northern delegation", "Southern delegation", "Coastal State"
GRAIN, RELIEF, MONITORING = "Grain corridor", "Sanctions relief", "Monitoring"
NEW_PASSWORD = "a calm and patient chair"


def _join(
    page: Page, camera: Camera, who: str, link: str, user: tuple[str, str, str]
) -> DialoguePage:
    """Accept an invitation, sign in and open the dialogue."""
    username, name, pseudonym = user
    signin = InvitationPage.open(page, camera, who, link).accept(
        username, name, PASSWORD, pseudonym
    )
    dialogues = signin.sign_in(username, PASSWORD)
    assert isinstance(dialogues, DialoguesPage)
    assert dialogues.titles() == [TITLE]
    return dialogues.open(TITLE)


def test_a_whole_round_in_the_browser(site: Site, person: Person, camera: Camera) -> None:
    otp = accounts.create_user(site.platform, "ilse.marek", "Dr. Ilse Marek")[1]

    # The facilitator signs in with the one-time password and must choose her own.
    chair = person()
    first = SignInPage.open(chair, camera, "facilitator", site.origin).sign_in("ilse.marek", otp)
    assert isinstance(first, PasswordPage)
    assert "one-time password" in first.main_text()
    home = first.choose(otp, NEW_PASSWORD)
    assert home.titles() == []

    # Convening: agenda, the two delegations and an absent stakeholder.
    overview = home.convene(TITLE)
    overview = overview.add_issue(
        GRAIN,
        ["closed", "inspected passage", "open passage"],
        ordered=True,
        description="Commercial shipping through the northern lanes.",
    )
    overview = overview.add_issue(
        RELIEF, ["no relief", "partial relief", "full relief"], ordered=True
    )
    overview = overview.add_issue(MONITORING, ["UN mission", "joint commission", "no monitoring"])
    overview = overview.add_delegation(NORTH)
    overview = overview.add_delegation(SOUTH)
    overview = overview.add_delegation(COAST, absent=True)
    text = overview.main_text()
    assert all(name in text for name in (GRAIN, RELIEF, MONITORING, NORTH, SOUTH, COAST))
    assert "absent stakeholder" in text

    # Invitations by one-time link; each person accepts in a browser context of their own.
    north_link = overview.invite("member", NORTH, "former official")
    south_link = overview.invite("member", SOUTH, "serving official")
    observer_link = overview.invite("observer")
    assert north_link.startswith(f"{site.origin}/invite/")
    north = _join(
        person(), camera, "north", north_link, ("a.whitfield", "Ann Whitfield", "Delegate Oak")
    )
    south = _join(
        person(), camera, "south", south_link, ("p.orlov", "Pavel Orlov", "Delegate Cedar")
    )
    observer = _join(person(), camera, "observer", observer_link, ("liaison", "Liaison", ""))
    # A one-time link works once.
    again = InvitationPage.open(person(), camera, "stranger", north_link)
    refused = again.refused("someone.else", "Someone", PASSWORD)
    assert "not valid" in refused

    # Real names for the own side and the facilitator, pseudonyms for the other side.
    overview = overview.overview()
    assert "Ann Whitfield" in overview.participants()
    assert "Pavel Orlov" in overview.participants()
    south = south.overview()
    assert "Delegate Oak" in south.participants()
    assert "Ann Whitfield" not in south.main_text()
    assert "Pavel Orlov" in south.participants()

    # Round 1, and the absent stakeholder's public red line.
    overview = overview.open_round()
    assert overview.round_state() == "draft"
    coast = overview.red_lines_of(COAST)
    assert coast.heading() == f"Public red lines of {COAST}"
    coast.mark_unacceptable(MONITORING, "no monitoring", "absolute")
    assert "Saved" in coast.save()

    # Each delegation records its position through the form.
    ours = north.overview().our_position()
    for issue, rank in ((GRAIN, 1), (RELIEF, 2), (MONITORING, 3)):
        ours.rank(issue, rank)
    for issue, option, value in (
        (GRAIN, "open passage", 100),
        (GRAIN, "inspected passage", 70),
        (RELIEF, "no relief", 100),
        (RELIEF, "partial relief", 60),
        (MONITORING, "UN mission", 100),
        (MONITORING, "joint commission", 60),
        (MONITORING, "no monitoring", 20),
    ):
        ours.rate(issue, option, value)
    ours.mark_unacceptable(RELIEF, "full relief", "firm")
    ours.set_walk_away(40)
    ours.write_note("Capital insists on no full relief this year.")
    assert ours.save().startswith("Saved (revision 1 of round 1)")

    theirs = south.our_position()
    for issue, rank in ((RELIEF, 1), (MONITORING, 2), (GRAIN, 3)):
        theirs.rank(issue, rank)
    for issue, option, value in (
        (GRAIN, "closed", 100),
        (GRAIN, "inspected passage", 80),
        (GRAIN, "open passage", 30),
        (RELIEF, "full relief", 100),
        (RELIEF, "partial relief", 70),
        (MONITORING, "joint commission", 100),
        (MONITORING, "no monitoring", 80),
        (MONITORING, "UN mission", 30),
    ):
        theirs.rate(issue, option, value)
    theirs.mark_unacceptable(RELIEF, "no relief", "absolute")
    theirs.add_condition(RELIEF, ["partial relief"], GRAIN, ["closed", "inspected passage"])
    theirs.set_walk_away(30)
    assert theirs.save().startswith("Saved (revision 1 of round 1)")
    assert theirs.value_of(GRAIN, "closed") == "100"

    # The facilitator locks and evaluates; positions freeze.
    overview = overview.overview().lock_round()
    assert overview.round_state() == "locked"
    assert north.our_position().frozen()
    analysis = overview.evaluate()
    assert analysis.verdict().startswith("Yes")
    red_lines = analysis.red_line_map()
    assert red_lines[RELIEF]["ruled out"] == ["no relief", "full relief"]
    assert red_lines[RELIEF]["viable"] == ["partial relief"]
    assert red_lines[MONITORING]["ruled out"] == ["no monitoring"]
    assert red_lines[GRAIN]["viable"] == ["inspected passage"]
    packages = analysis.packages()
    assert packages and all(p[RELIEF] == "partial relief" for p in packages.values())
    chart = analysis.frontier_chart()
    assert chart.locator("title").first.text_content() == "Pareto frontier"  # an SVG title
    assert chart.locator("circle.point").count() >= 1

    # A different finding for each side, and one for the observers.
    rule = next(iter(packages))
    analysis = analysis.release(NORTH, "clash", "full relief")
    analysis = analysis.release(SOUTH, "package", rule)
    analysis = analysis.release("the observers", "zone")
    assert len(analysis.released_so_far()) == 3
    assert analysis.round_state() == "disclosed"

    package = "A package for discussion on the whole agenda:"
    zone = "Agreement on the whole agenda is possible: yes."
    seen_by_north = north.overview().releases()
    (clash,) = seen_by_north.headlines()
    assert clash.startswith("Your red line “") and "full relief" in clash
    assert clash.endswith("” clashes with another side: no.")
    seen_by_south = south.releases()
    assert seen_by_south.headlines() == [package]
    assert seen_by_south.packages() == [{i: packages[rule][i] for i in (GRAIN, RELIEF, MONITORING)}]
    assert clash not in seen_by_south.main_text()
    assert zone not in seen_by_south.main_text()
    assert package not in seen_by_north.main_text()
    assert zone not in seen_by_north.main_text()
    seen_by_observer = observer.releases()
    assert seen_by_observer.headlines() == [zone]
    observer = observer.overview()
    assert observer.tabs() == [
        "Overview",
        "Released to observers",
        "Meetings",
        "Text",
        "Readouts",
        "Log",
    ]
    assert "Delegate Oak" in observer.participants()
    assert "Ann Whitfield" not in observer.main_text()
    assert sorted(analysis.releases().headlines()) == sorted([clash, package, zone])

    # The log shows the one evaluation to every side; the analysis stays the chair's.
    assert seen_by_north.log().actions().count("round evaluated") == 1
    assert seen_by_south.log().actions().count("round evaluated") == 1
    refused = north.visit(f"{site.origin}/d/{analysis.dialogue_id}/analysis", "analysis-refused")
    assert refused.heading() == "Not found"


def test_the_pages_work_without_javascript(site: Site, person: Person, camera: Camera) -> None:
    world = build_world(site.platform)
    otp = accounts.reset_password(site.platform, "a1")
    page = person(js=False)

    first = SignInPage.open(page, camera, "nojs", site.origin).sign_in("a1", otp)
    assert isinstance(first, PasswordPage)
    dialogue = first.choose(otp, NEW_PASSWORD).open("Channel talks")
    ours = dialogue.our_position()
    ours.rank("Sanctions", 1)
    ours.rank("Ceasefire", 2)
    ours.rate("Ceasefire", "full", 100)
    ours.rate("Ceasefire", "partial", 60)
    ours.rate("Sanctions", "keep", 100)
    ours.rate("Sanctions", "ease", 50)
    ours.mark_unacceptable("Sanctions", "lift", "absolute")
    ours.add_condition("Ceasefire", ["partial"], "Sanctions", ["keep", "ease"], "flexible")
    ours.set_walk_away(20)
    assert ours.save().startswith("Saved (revision 1 of round 1)")
    assert ours.value_of("Ceasefire", "partial") == "60"

    (saved,) = positions.positions(site.platform, world.actors["a1"], world.dialogue_id)
    i1, i2 = world.issues
    position = saved.position
    assert position.importance == {i1: 2, i2: 1}
    assert position.ratings == {i1: {"full": 100, "partial": 60}, i2: {"keep": 100, "ease": 50}}
    assert [(u.option, u.firmness.value) for u in position.unacceptable] == [("lift", "absolute")]
    (rule,) = position.rules
    assert (rule.if_issue, rule.if_options, rule.then_issue, rule.then_options) == (
        i1,
        ["partial"],
        i2,
        ["keep", "ease"],
    )
    assert position.walk_away == 20
