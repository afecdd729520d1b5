"""The whole first-time flow in Chromium (Debian's, headless), in English and in Russian.

A real server (uvicorn on a free local port) on a fresh database; each person in a
browser context of their own, whose browser asks for the run's language. The
facilitator signs in with a one-time password, chooses her own, convenes a dialogue with
an 8-issue agenda, two delegations and an absent stakeholder (one form), invites one
member per delegation (one form), opens round 1, enters the absent stakeholder's public
red line; both members join and enter their positions; the facilitator locks,
evaluates and releases a finding to each side, and each member reads its own. The
facilitator's form submissions and page loads from her first sign-in to the first
analysis are counted (at most :data:`MOST_SUBMISSIONS` submissions).

The English run also takes every error path of the forms: a position with a wrong
condition keeps every rating, red line and note; the invitation, dialogue and issue forms
keep what was typed; a double-click on Create makes one dialogue; reloading after a save
adds no revision; reloading the page that showed the invitation links mints none; the same
release twice is refused.

Every page visited is saved as ``NN-who-what.png`` under ``$BACKCHANNEL_SCREENSHOTS/test_flow``
(whole pages; by default the window only, in a temporary folder), and checked once per
page and language with axe-core (WCAG 2.0/2.1 A and AA, vendored by ``make axe``): a
violation fails the test. A last test tours every page of the app (routes read from the
app) in both languages so that each one is checked. Every request any context makes is
recorded, and any request to anywhere but the test server is refused and fails the test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Request

from backchannel.formats.cases import load_case
from backchannel.model.case import IssueKind
from backchannel.model.compile import compile_case
from backchannel.model.dialogue import Agenda, Position, Side, Unacceptable, build_case
from backchannel.model.results import SettlementRule
from backchannel.services import accounts, demo, positions
from backchannel.services.dialogues import add_member, create_dialogue
from backchannel.services.dialogues import view as view_of
from backchannel.solvers import engine
from conftest import PASSWORD, build_world, user
from page_routes import SEATS, VISITOR, WALK, actor_of, page_routes, prepare

from .blind_nodes import make_nodes, run_nodes
from .conftest import (
    AXE,
    CHROMIUM,
    People,
    Site,
    eyes_for,
    no_violations,
    people_on,
    serve,
)
from .pages import (
    AnalysisPage,
    DialoguePage,
    DialoguesPage,
    Eyes,
    InvitationPage,
    PasswordPage,
    PositionPage,
    Screen,
    SignInPage,
)

GUIDE_PICTURES = {
    "facilitator-password": "first-sign-in",
    "facilitator-dialogues": "facilitator-convene",
    "facilitator-invitation-links": "facilitator-dialogue",
    "facilitator-absent-red-lines": "facilitator-absent-red-lines",
    "facilitator-analysis": "facilitator-analysis",
    "north-invitation": "member-invitation",
    "north-position-saved": "member-position",
    "north-releases": "member-releases",
}
"""Screenshots that are the user guides' pictures (``BACKCHANNEL_GUIDE_PICTURES=docs/images``
makes them: ``name.png`` in English, ``name.ru.png`` in Russian)."""
MOST_SUBMISSIONS = 10
"""The facilitator's form submissions from the first sign-in to a first analysis."""

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's Chromium is missing (run `make browsers`)"
)


# ------------------------------------------------------------------ the tour's site
@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The demo, with something on every page (``tests/page_routes.py``)."""
    yield from serve(tmp_path_factory.mktemp("tour"), lambda platform: prepare(platform, "en"))


# ------------------------------------------------------------------ the story's names
@dataclass(frozen=True)
class Story:
    """The names of one run, in its language: the demo case's agenda and parties."""

    language: str
    title: str
    north: str
    south: str
    coast: str
    issues: list[tuple[str, bool, list[str]]]
    option: Callable[[str], str]
    issue: Callable[[str], str]

    def agenda_text(self) -> str:
        """The agenda as the creation form takes it, one issue a line."""
        mark = " (по порядку)" if self.language == "ru" else " (ordered)"
        return "\n".join(
            f"{name}{mark if ordered else ''}: {'; '.join(options)}"
            for name, ordered, options in self.issues
        )

    def parties_text(self) -> str:
        """The parties as the creation form takes them."""
        absent = "(отсутствует)" if self.language == "ru" else "(absent)"
        return f"{self.north}\n{self.south}\n{self.coast} {absent}"


CASE = load_case(demo.EXAMPLE)


def story(language: str) -> Story:
    """The demo case's names in ``language``."""
    words = demo.WORDINGS[language]
    issues = [
        (
            words.issue(i.name, i.description)[0],
            i.kind is IssueKind.ORDERED,
            [words.option(o if isinstance(o, str) else o.name) for o in i.options or []],
        )
        for i in CASE.issues
    ]
    return Story(
        language,
        "Переговоры по «треку 1,5»" if language == "ru" else "Track 1.5 talks",
        words.party("US"),
        words.party("Russia"),
        words.party("Ukraine"),
        issues,
        words.option,
        lambda name: words.issue(name, "")[0],
    )


def _enter(ours: PositionPage, side: str, s: Story) -> None:
    """Rank the issues and rate every option as the demo case's ``side`` does."""
    party = next(p for p in CASE.parties if p.name == side)
    weights = party.weights or {}
    order = sorted(set(weights.values()), reverse=True)
    for issue, weight in weights.items():
        ours.rank(s.issue(issue), order.index(weight) + 1)
    for issue, table in (party.ratings or {}).items():
        assert isinstance(table, dict)
        for option, value in table.items():
            ours.rate(s.issue(issue), s.option(option), round(float(value)))


# ------------------------------------------------------------------ the counts
@dataclass
class Counts:
    """The facilitator's form submissions and page loads while it counts."""

    on: bool = False
    submissions: int = 0
    loads: int = 0

    def watch(self, page: Page) -> None:
        def seen(request: Request) -> None:
            if self.on and request.is_navigation_request() and request.frame == page.main_frame:
                if request.method == "POST":
                    self.submissions += 1
                else:
                    self.loads += 1

        page.on("request", seen)


def _join(
    page: Page, eyes: Eyes, who: str, link: str, user: tuple[str, str, str], s: Story
) -> DialoguePage:
    """Accept an invitation, sign in and open the dialogue."""
    username, name, pseudonym = user
    signin = InvitationPage.open(page, eyes, who, link).accept(username, name, PASSWORD, pseudonym)
    dialogues = signin.sign_in(username, PASSWORD)
    assert isinstance(dialogues, DialoguesPage)
    assert dialogues.titles() == [s.title]
    return dialogues.open(s.title)


# ------------------------------------------------------------------ the flow
@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_first_time_flow(
    site: Site,
    person: People,
    folder: Path,
    checked: set[tuple[str, str]],
    language: str,
) -> None:
    s = story(language)
    eyes = eyes_for(folder, site, checked, GUIDE_PICTURES)
    english = language == "en"
    chair_name = f"chair.{language}"
    people = demo.WORDINGS[language].people
    otp = accounts.create_user(site.platform, chair_name, people["facilitator"])[1]

    # The facilitator signs in with the one-time password and chooses her own; from here
    # to the first analysis every form she sends and every page she loads is counted.
    chair = person(language)
    counts = Counts()
    counts.watch(chair)
    signin = SignInPage.open(chair, eyes, f"{language}-facilitator", site.origin)
    counts.on = True
    first = signin.sign_in(chair_name, otp)
    assert isinstance(first, PasswordPage)
    home = first.choose(otp, "a calm and patient chair")
    assert home.titles() == []

    # One form: the title, the 8-issue agenda, two delegations and an absent stakeholder.
    overview = home.convene(s.title, s.agenda_text(), s.parties_text())
    assert overview.issues() == [name for name, _, _ in s.issues]
    north_party, south_party, coast_party = overview.parties()
    assert north_party.startswith(s.north) and south_party.startswith(s.south)
    assert coast_party.startswith(s.coast) and overview.t("absent stakeholder") in coast_party

    # One form: a one-time link for a member of each delegation, shown once.
    links = overview.invite_each({s.north: "former official", s.south: "serving official"})
    assert sorted(links) == sorted([s.north, s.south])
    assert all(link.startswith(f"{site.origin}/invite/") for link in links.values())
    overview.reload("invitation-links-reloaded")  # a reload mints no link, shows none
    assert overview.shown_links() == {} and overview.pending_invitations() == 2

    overview = overview.open_round()
    assert overview.round_state() == overview.t("draft")
    coast = overview.red_lines_of(s.coast)
    coast.mark_unacceptable(
        s.issue("zaporizhzhia_npp"), s.option("restart_split_50_50"), "absolute"
    )
    saved_once = "Saved (revision %(revision)s of round %(round)s)."
    assert coast.save() == coast.t(saved_once, revision=1, round=1)

    # Both members join, each in a browser of their own, and enter their positions.
    north = _join(
        person(language),
        eyes,
        f"{language}-north",
        links[s.north],
        (f"north.{language}", people["us-1"], "Oak" if english else "Дуб"),
        s,
    )
    south_page = person(language)
    invitation = InvitationPage.open(south_page, eyes, f"{language}-south", links[s.south])
    if english:  # a taken user name is refused; everything typed but the password stays
        refused = invitation.refused(f"north.{language}", people["ru-1"], PASSWORD, "Cedar")
        assert "taken" in refused or "already" in refused, refused
        assert invitation.value("display_name") == people["ru-1"]
        assert invitation.value("pseudonym") == "Cedar"
        assert invitation.value("username") == f"north.{language}"
        assert invitation.value("password") == ""
    pseudonym = "Cedar" if english else "Кедр"
    dialogues = invitation.accept(f"south.{language}", people["ru-1"], PASSWORD, pseudonym).sign_in(
        f"south.{language}", PASSWORD
    )
    assert isinstance(dialogues, DialoguesPage)
    south = dialogues.open(s.title)

    ours = north.our_position()
    _enter(ours, "US", s)
    ours.mark_unacceptable(s.issue("sanctions"), s.option("all_lifted"), "firm")
    ours.set_walk_away(20)
    ours.write_note("Capital insists on no wholesale lifting this year.")
    saved = ours.save()
    assert saved == ours.t(saved_once, revision=1, round=1)
    if english:  # a reload after the save sends nothing again: still one save
        ours.reload("position-reloaded")
        (kept,) = positions.positions(
            site.platform, actor_of(site.platform, f"north.{language}"), ours.dialogue_id
        )
        assert kept.revision == 1

    theirs = south.our_position()
    _enter(theirs, "Russia", s)
    theirs.mark_unacceptable(s.issue("alignment"), s.option("nato_path_open"), "absolute")
    theirs.set_walk_away(20)
    theirs.write_note("Grain only with sanctions relief.")
    grain, relief = (
        s.option("revive_grain_initiative"),
        [s.option(o) for o in ("sector_relief_agri_swift", "staged_lifting_g8", "all_lifted")],
    )
    if english:  # a condition without its "then" options is refused; nothing typed is lost
        theirs.add_condition(s.issue("black_sea"), [grain], s.issue("sanctions"), [])
        refused = theirs.save_refused()
        assert "tick at least one option" in refused, refused
        assert theirs.value_of(s.issue("territory"), s.option("four_regions_ceded")) == "100"
        assert theirs.value_of(s.issue("prisoners"), s.option("batch_pow_exchanges")) == "100"
        assert theirs.unacceptable(s.issue("alignment"), s.option("nato_path_open"))
        assert theirs.value("note") == "Grain only with sanctions relief."
        assert theirs.value("walk_away") == "20"
        assert theirs.ticked("if") == [grain]
        theirs.tick("then", s.issue("sanctions"), relief, row=0)
    else:
        theirs.add_condition(s.issue("black_sea"), [grain], s.issue("sanctions"), relief)
    assert theirs.save() == theirs.t(saved_once, revision=1, round=1)

    # The facilitator locks and evaluates: the first analysis.
    overview = overview.overview().lock_round()
    assert overview.round_state() == overview.t("locked")
    analysis = overview.evaluate()
    counts.on = False
    assert analysis.verdict().startswith(analysis.t("Yes:"))
    figures = {"language": language, "submissions": counts.submissions, "page_loads": counts.loads}
    (folder / f"facilitator-counts-{language}.json").write_text(json.dumps(figures) + "\n")
    print(f"\nfirst-time flow ({language}): {figures}")
    assert counts.submissions <= MOST_SUBMISSIONS, figures

    red_lines = analysis.red_line_map()
    assert red_lines[s.issue("zaporizhzhia_npp")]["ruled out"] == [s.option("restart_split_50_50")]
    packages = analysis.packages()
    assert packages
    rule = next(iter(packages))

    # A finding for each side; each member reads its own and nothing of the other's.
    red_line = analysis.t("{issue}: not {option}").format(
        issue=s.issue("sanctions"), option=repr(s.option("all_lifted"))
    )
    analysis = analysis.release(s.north, "clash", f"{s.north}: {red_line}")
    analysis = analysis.release(s.south, "package", rule)
    assert len(analysis.released_so_far()) == 2
    if english:  # the same finding to the same side again is refused, and not recorded
        refusal = analysis.release_refused(s.south, "package", rule)
        assert "already released" in (refusal.error() or "")
        analysis.page.goto(f"{site.origin}/d/{analysis.dialogue_id}/analysis")
        analysis = AnalysisPage(analysis.page, eyes, analysis.who, "analysis-after-refusal")
        assert len(analysis.released_so_far()) == 2
    seen_by_north = north.overview().releases()
    (clash,) = seen_by_north.headlines()
    answer = seen_by_north.t("no")
    assert clash.endswith(f"{answer}.") and s.option("all_lifted") in clash
    seen_by_south = south.releases()
    (package,) = seen_by_south.headlines()
    assert package == seen_by_south.t("A package for discussion on the whole agenda:")
    (shown,) = seen_by_south.packages()
    assert len(shown) == len(s.issues)
    assert clash not in seen_by_south.main_text()
    assert package not in seen_by_north.main_text()
    refused_page = north.visit(
        f"{site.origin}/d/{analysis.dialogue_id}/analysis", "analysis-refused"
    )
    assert refused_page.heading() == refused_page.t("Not found")

    if english:
        _forms_keep_what_was_typed(analysis, site, s)
    no_violations(eyes)


def _forms_keep_what_was_typed(analysis: Screen, site: Site, s: Story) -> None:
    """The dialogue and issue forms keep what was typed; Create pressed twice makes one."""
    analysis._follow(analysis.page.locator("header nav a[href='/dialogues']"))
    home = DialoguesPage(analysis.page, analysis.eyes, analysis.who, "dialogues")
    before = home.titles()
    bad = "Water rights: upstream; downstream\nPorts without options"
    refused = home.convene_refused("Second channel", bad, "North\nSouth (absent)")
    assert "line 2" in refused, refused
    assert home.value("title") == "Second channel"
    assert home.value("agenda") == bad
    assert home.value("parties") == "North\nSouth (absent)"
    assert home.titles() == before  # nothing was created
    made = home.convene_by_double_click("Second channel")
    made._follow(made.page.locator("header nav a[href='/dialogues']"))
    titles = DialoguesPage(made.page, made.eyes, made.who, "dialogues").titles()
    assert titles.count("Second channel") == 1, titles
    second = DialoguesPage(made.page, made.eyes, made.who).open("Second channel")
    refused = second.add_issue_refused("Water rights", ["upstream"], "Shared river basin.")
    assert "at least two options" in refused or "2 or more" in refused, refused
    form = "form#form-issue"
    assert second.value("name", form) == "Water rights"
    assert second.value("options", form) == "upstream"
    assert second.value("description", form) == "Shared river basin."
    assert second.value("kind", form) == "ordered"


# ------------------------------------------------------------------ every page, axe
@pytest.fixture
def visitors(browser: Browser, demo_site: Site) -> Iterator[People]:
    """People on the demo site."""
    yield from people_on(browser, demo_site)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_page_passes_axe(
    demo_site: Site,
    visitors: People,
    folder: Path,
    checked: set[tuple[str, str]],
    language: str,
) -> None:
    """Every page of the app (read from the app), as the seats that open it, in each
    language: axe-core finds no violation of WCAG 2.0/2.1 A and AA."""
    prepared = demo_site.prepared
    assert prepared is not None
    assert set(WALK) == page_routes(demo_site.app)
    eyes = eyes_for(folder, demo_site, checked)
    pages: dict[str, Page] = {}
    for seat in (*SEATS, VISITOR):
        page = pages[seat] = visitors(language)
        if seat != VISITOR:
            signed = SignInPage.open(page, eyes, f"tour-{language}-{seat}", demo_site.origin)
            assert isinstance(signed.sign_in(seat, PASSWORD), DialoguesPage)
        else:
            page.context.add_cookies(
                [{"name": "bc_signin", "value": "waiting", "url": demo_site.origin}]
            )
    for template, seats in WALK.items():
        for seat in seats:
            for url in prepared.urls(template, seat):
                if (template, language) in eyes.checked:
                    break
                pages[seat].goto(demo_site.origin + url)
                assert pages[seat].evaluate("() => document.documentElement.lang") == language
                eyes.check(pages[seat])
    unchecked = sorted(t for t in WALK if (t, language) not in eyes.checked)
    assert not unchecked, f"pages axe did not check in {language}: {unchecked}"
    no_violations(eyes)


# ------------------------------------------------------------------ without JavaScript
def test_the_pages_work_without_javascript(site: Site, person: People, folder: Path) -> None:
    world = build_world(site.platform)
    otp = accounts.reset_password(site.platform, "a1")
    page = person("en", js=False)
    eyes = Eyes(folder, None, site.route_of)  # axe is a script: not here

    first = SignInPage.open(page, eyes, "nojs", site.origin).sign_in("a1", otp)
    assert isinstance(first, PasswordPage)
    dialogue = first.choose(otp, "a calm and patient member").open("Channel talks")
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


def test_axe_finds_what_it_must(site: Site, person: People, folder: Path) -> None:
    """The accessibility check can fail: an image without a text and a nameless button
    are violations, named."""
    page = person("en")
    page.goto(site.origin + "/signin")
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<img src="/static/favicon.svg"><button></button></main></body></html>'
    )
    eyes = Eyes(folder, AXE, site.route_of)
    eyes.check(page)
    found = " ".join(eyes.violations)
    assert "image-alt" in found and "button-name" in found, eyes.violations


# ------------------------------------------------------------------ the escalation watch
def test_an_escalation_model_built_in_the_browser(
    site: Site, person: People, folder: Path, checked: set[tuple[str, str]]
) -> None:
    chair = user(site.platform, "chair")
    create_dialogue(site.platform, chair, "Missile crisis channel")
    eyes = eyes_for(folder, site, checked)
    signed = SignInPage.open(person(), eyes, "chair", site.origin).sign_in("chair", PASSWORD)
    assert isinstance(signed, DialoguesPage)
    watch = signed.open("Missile crisis channel").escalation()
    watch.name_model("Cuban missile crisis")
    watch.add_decision_maker(0, "US", "United States")
    watch.add_option(0, 0, "air_strike", irreversible=True)
    watch.add_option(0, 1, "blockade")
    watch.write_preferences(0, ["withdraw", "-escalate", "-air_strike", "blockade if -withdraw"])
    watch.add_decision_maker(1, "USSR", "Soviet Union")
    watch.add_option(1, 0, "withdraw")
    watch.add_option(1, 1, "escalate")
    watch.write_preferences(1, ["-air_strike", "-escalate", "withdraw if blockade", "-withdraw"])
    watch.write_infeasible(["withdraw & escalate"])
    saved = watch.save()
    assert saved.error() is None, saved.error()
    seq = saved.equilibria("sequential stability (SEQ)")
    assert "NYYN" in seq  # blockade and withdrawal
    assert len(saved.graph_states()) == 12  # every feasible state drawn
    assert sorted(saved.outlined_equilibria()) == sorted(seq)
    after = saved.what_if(off=["blockade"])
    before_seq, after_seq = after.compared("sequential stability (SEQ)")
    assert "NYYN" in before_seq and "NYYN" not in after_seq
    no_violations(eyes)


# ------------------------------------------------------------------ a blind round
BLIND_AGENDA = "Ceasefire (ordered): none; partial; full\nSanctions (ordered): keep; ease; lift"


def _blind_sides(agenda: Agenda) -> dict[str, Side]:
    """Each side's position, which only its own node will hold."""
    ceasefire, sanctions = (i.id for i in agenda.issues)
    north = Position(
        importance={ceasefire: 2, sanctions: 1},
        ratings={ceasefire: {"partial": 60, "full": 100}, sanctions: {"keep": 100, "ease": 50}},
        unacceptable=[Unacceptable(issue=sanctions, option="lift")],
        walk_away=10,
    )
    south = Position(
        importance={ceasefire: 1, sanctions: 2},
        ratings={ceasefire: {"none": 100, "partial": 50}, sanctions: {"ease": 60, "lift": 100}},
        unacceptable=[Unacceptable(issue=ceasefire, option="none")],
        walk_away=10,
    )
    return {
        "north": Side(name="North", position=north),
        "south": Side(name="South", position=south),
    }


def test_a_blind_round(
    site: Site, person: People, folder: Path, checked: set[tuple[str, str]], tmp_path: Path
) -> None:
    """A blind dialogue made in the browser: the facilitator convenes it (blind), each
    side's member finds that its position page points to its node and registers the node
    (a malformed certificate first: refused, nothing typed lost), the facilitator asks
    too early (refused, the finding chosen kept), registers a helper and asks for the
    recommended package; three real nodes compute it over pinned TLS; the facilitator
    reads it in words (the clear engine's package on the same positions) and releases it
    to one side, whose member reads it; a repeated release is refused with its ticks kept.
    """
    eyes = eyes_for(folder, site, checked)
    for name in ("blind.chair", "blind.north", "blind.south"):
        user(site.platform, name)
    signed = SignInPage.open(person(), eyes, "blind-chair", site.origin)
    home = signed.sign_in("blind.chair", PASSWORD)
    assert isinstance(home, DialoguesPage)
    overview = home.convene("Blind channel", BLIND_AGENDA, "North\nSouth", blind=True)
    chair = actor_of(site.platform, "blind.chair")
    view = view_of(site.platform, chair, overview.dialogue_id)
    assert view.blind and [x.name for x in view.delegations] == ["North", "South"]
    for name, side in zip(("blind.north", "blind.south"), view.delegations, strict=True):
        add_member(
            site.platform, chair, view.id, name, "member", delegation_id=side.id, track="expert"
        )
    overview = overview.open_round().lock_round()
    sides = _blind_sides(view.agenda)
    nodes = make_nodes(tmp_path, "Blind channel", view.agenda, sides)

    members = {}
    for who in sides:
        page = person()
        dialogues_page = SignInPage.open(page, eyes, f"blind-{who}", site.origin).sign_in(
            f"blind.{who}", PASSWORD
        )
        assert isinstance(dialogues_page, DialoguesPage)
        dialogue = dialogues_page.open("Blind channel")
        assert dialogue.t("Our position") not in dialogue.tabs()
        mine = nodes[who]
        if who == "north":  # the position page says where the position lives
            answer = page.goto(f"{site.origin}/d/{view.id}/position")
            assert answer is not None and answer.status == 409
            shown = Screen(page, eyes, f"blind-{who}", "position-on-its-node").main_text()
            assert "stays on its own node" in shown and "Running a blind node" in shown
            dialogue = DialoguePage(page, eyes, f"blind-{who}")
            page.goto(f"{site.origin}/d/{view.id}")
        blind = dialogue.blind()
        if who == "north":  # a malformed certificate is refused; nothing typed is lost
            bad = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----"
            refusal = blind.register_refused(bad, "127.0.0.1", mine.port)
            assert "not a readable" in refusal, refusal
            assert blind.value("certificate") == bad
            assert (blind.value("host"), blind.value("port")) == ("127.0.0.1", str(mine.port))
        mine.token, fingerprint = blind.register(mine.certificate, "127.0.0.1", mine.port)
        assert fingerprint == mine.fingerprint and blind.fingerprints() == [mine.fingerprint]
        members[who] = blind

    blind = overview.blind()
    nash = "the recommended package (Nash)"
    refusal = blind.ask_refused(nash)  # no helper yet: refused, the choice kept
    assert "no helper node" in refusal and blind.chosen_finding() == blind.t(nash)
    helper = nodes["helper"]
    helper.token, fingerprint = blind.register(
        helper.certificate, "127.0.0.1", helper.port, label="Neutral institute"
    )
    assert fingerprint == helper.fingerprint
    assert blind.fingerprints() == [n.fingerprint for n in nodes.values()]
    blind = blind.ask(nash)
    assert blind.states() == [blind.t("waiting for the nodes")]

    outcomes = run_nodes(site.origin, nodes)
    assert [(o.finding, o.failed) for o in outcomes] == [("nash", None)] * 3
    blind.reload("opened")
    assert blind.states() == [blind.t("opened")]
    clear = compile_case(build_case("Blind channel", view.agenda, list(sides.values())))
    package = engine.settle(clear, [SettlementRule.NASH])[SettlementRule.NASH].package
    assert package is not None
    expected = {
        issue.name: issue.options[o] for issue, o in zip(view.agenda.issues, package, strict=True)
    }
    assert blind.opened_package() == expected

    blind = blind.release(["North"])
    error, ticked = blind.release_refused(["North", blind.t("the observers")])
    assert "already released" in error and ticked == ["North", blind.t("the observers")]
    told = members["north"].releases()
    assert told.headlines() == [told.t("A package for discussion on the whole agenda:")]
    assert told.packages() == [expected]
    assert members["south"].releases().headlines() == []
    no_violations(eyes)
