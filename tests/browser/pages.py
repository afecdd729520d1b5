"""Page objects: each method is one step a person takes on a Backchannel page.

Every step that lands on a page saves a full-page screenshot through the shared
:class:`Camera` (``NN-who-what.png``, numbered in the order the pages were visited).
The steps only fill fields, tick boxes and press buttons and links, so the same objects
drive a context with JavaScript disabled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Locator, Page


@dataclass
class Camera:
    """Full-page screenshots of every page visited, numbered in order."""

    folder: Path
    count: int = 0
    taken: list[Path] = field(default_factory=list)

    def snap(self, page: Page, name: str) -> Path:
        """Save the whole page as ``NN-name.png``."""
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


class Screen:
    """One page of the site as one person (``who``) sees it."""

    def __init__(self, page: Page, camera: Camera, who: str, shot: str | None = None) -> None:
        self.page = page
        self.camera = camera
        self.who = who
        if shot:
            self.snap(shot)

    def snap(self, name: str) -> None:
        """A screenshot of the page as it is now."""
        self.camera.snap(self.page, f"{self.who}-{name}")

    def _submit(self, button: Locator) -> None:
        """Press a form's button and wait for the page the server answers with."""
        with self.page.expect_navigation():
            button.click()

    def _follow(self, link: Locator) -> None:
        with self.page.expect_navigation():
            link.click()

    def visit(self, url: str, shot: str) -> Screen:
        """Type an address into the browser (e.g. one the person should not reach)."""
        self.page.goto(url)
        return Screen(self.page, self.camera, self.who, shot)

    def main_text(self) -> str:
        """The visible text of the page's main part."""
        return self.page.locator("main").inner_text()

    def error(self) -> str | None:
        """The error message the page shows, if any."""
        alert = self.page.locator("main .error")
        return alert.first.inner_text() if alert.count() else None

    def heading(self) -> str:
        """The page's first heading."""
        return self.page.locator("main h1").first.inner_text()


# ----------------------------------------------------------------- accounts
class SignInPage(Screen):
    """``/signin``."""

    @classmethod
    def open(cls, page: Page, camera: Camera, who: str, base_url: str) -> SignInPage:
        """Go to the sign-in page."""
        page.goto(f"{base_url}/signin")
        return cls(page, camera, who, "signin")

    def sign_in(self, user: str, password: str) -> DialoguesPage | PasswordPage:
        """Enter the user name and password; land on the dialogues (or the password page)."""
        self.page.get_by_label("User name").fill(user)
        self.page.get_by_label("Password").fill(password)
        self._submit(self.page.get_by_role("button", name="Sign in"))
        if self.page.url.endswith("/account/password"):
            return PasswordPage(self.page, self.camera, self.who, "password")
        if self.page.url.endswith("/signin"):
            raise AssertionError(f"sign-in refused: {self.error()}")
        return DialoguesPage(self.page, self.camera, self.who, "dialogues")


class PasswordPage(Screen):
    """``/account/password``: choose a password (required after a one-time password)."""

    def choose(self, old: str, new: str) -> DialoguesPage:
        """Enter the current (or one-time) password and the new one twice."""
        self.page.locator("input[name=old]").fill(old)
        self.page.locator("input[name=new]").fill(new)
        self.page.locator("input[name=repeat]").fill(new)
        self._submit(self.page.get_by_role("button", name="Save password"))
        if not self.page.url.endswith("/dialogues"):
            raise AssertionError(f"password not changed: {self.error()}")
        return DialoguesPage(self.page, self.camera, self.who, "dialogues")


class InvitationPage(Screen):
    """``/invite/<token>``: join a dialogue from a one-time link."""

    @classmethod
    def open(cls, page: Page, camera: Camera, who: str, link: str) -> InvitationPage:
        """Follow the invitation link."""
        page.goto(link)
        return cls(page, camera, who, "invitation")

    def _fill(self, username: str, display_name: str, password: str, pseudonym: str) -> None:
        self.page.get_by_label("User name").fill(username)
        self.page.get_by_label("Your name").fill(display_name)
        self.page.get_by_label("Pseudonym").fill(pseudonym)
        self.page.get_by_label("Password").fill(password)
        self._submit(self.page.get_by_role("button", name="Create my account"))

    def accept(
        self, username: str, display_name: str, password: str, pseudonym: str = ""
    ) -> SignInPage:
        """Choose a user name, name, pseudonym and password; then sign in."""
        self._fill(username, display_name, password, pseudonym)
        if not self.page.url.endswith("/signin"):
            raise AssertionError(f"invitation refused: {self.error()}")
        return SignInPage(self.page, self.camera, self.who, "signin-after-invitation")

    def refused(self, username: str, display_name: str, password: str, pseudonym: str = "") -> str:
        """Try to accept; return the page's refusal (fails if the invitation worked)."""
        self._fill(username, display_name, password, pseudonym)
        self.snap("invitation-refused")
        error = self.error()
        if error is None:
            raise AssertionError("the invitation was accepted")
        return error


# ----------------------------------------------------------------- dialogues
class DialoguesPage(Screen):
    """``/dialogues``: the dialogues one has a seat in."""

    def titles(self) -> list[str]:
        """The titles listed."""
        return self.page.locator("main ul.list li a").all_inner_texts()

    def convene(
        self, title: str, *, evaluations_per_round: int = 1, monotone: bool = False
    ) -> DialoguePage:
        """Create a dialogue (the creator facilitates it)."""
        self.page.get_by_label("Title").fill(title)
        self.page.get_by_label("Evaluations allowed per round").fill(str(evaluations_per_round))
        if monotone:
            self.page.get_by_label("Red lines may only loosen").check()
        self._submit(self.page.get_by_role("button", name="Create"))
        return DialoguePage(self.page, self.camera, self.who, "dialogue-new")

    def open(self, title: str) -> DialoguePage:
        """Open one dialogue."""
        self._follow(self.page.get_by_role("link", name=title, exact=True))
        return DialoguePage(self.page, self.camera, self.who, "dialogue")


class _InDialogue(Screen):
    """A page with the dialogue's tabs."""

    @property
    def dialogue_id(self) -> str:
        """The dialogue's id, from the address."""
        found = re.search(r"/d/([^/?#]+)", self.page.url)
        assert found, self.page.url
        return found.group(1)

    def _tab(self, name: str) -> None:
        self._follow(self.page.locator("nav.tabs").get_by_role("link", name=name))

    def overview(self) -> DialoguePage:
        """The dialogue's overview tab."""
        self._tab("Overview")
        return DialoguePage(self.page, self.camera, self.who, "dialogue")

    def our_position(self) -> PositionPage:
        """A member's own side's position."""
        self._tab("Our position")
        return PositionPage(self.page, self.camera, self.who, "position")

    def analysis(self) -> AnalysisPage:
        """The facilitator's whole picture."""
        self._tab("Analysis")
        return AnalysisPage(self.page, self.camera, self.who, "analysis")

    def releases(self) -> ReleasesPage:
        """What was released to the seat's side (or to the observers)."""
        self._follow(self.page.locator("nav.tabs a", has_text="Released to"))
        return ReleasesPage(self.page, self.camera, self.who, "releases")

    def log(self) -> LogPage:
        """The dialogue's log."""
        self._tab("Log")
        return LogPage(self.page, self.camera, self.who, "log")

    def escalation(self) -> EscalationPage:
        """The facilitator's escalation watch."""
        self._tab("Escalation")
        return EscalationPage(self.page, self.camera, self.who, "escalation")

    def tabs(self) -> list[str]:
        """The names of the dialogue's tabs this seat has."""
        return self.page.locator("nav.tabs a").all_inner_texts()

    def round_state(self) -> str:
        """The current round's state, as the header line shows it."""
        return self.page.locator("p.crumbs .state").inner_text()


class DialoguePage(_InDialogue):
    """``/d/<id>``: agenda, parties, rounds, and the facilitator's actions."""

    def _form(self, name: str) -> Locator:
        """One of the overview's forms (every one is shown: nothing to reopen)."""
        return self.page.locator(f"form#form-{name}")

    def _done(self, shot: str) -> DialoguePage:
        if self.error():
            raise AssertionError(f"refused: {self.error()}")
        return DialoguePage(self.page, self.camera, self.who, shot)

    def add_issue(
        self, name: str, options: list[str], *, ordered: bool = False, description: str = ""
    ) -> DialoguePage:
        """Put an issue on the agenda, its options one per line."""
        form = self._form("issue")
        form.get_by_label("Name").fill(name)
        form.locator("select[name=kind]").select_option("ordered" if ordered else "unordered")
        form.get_by_label("Options, one per line").fill("\n".join(options))
        form.get_by_label("Description").fill(description)
        self._submit(form.get_by_role("button", name="Add issue"))
        return self._done("issue-added")

    def add_delegation(self, name: str, *, absent: bool = False) -> DialoguePage:
        """Add a delegation at the table, or an absent stakeholder."""
        form = self._form("delegation")
        form.get_by_label("Name").fill(name)
        if absent:
            form.get_by_label("Absent stakeholder").check()
        self._submit(form.get_by_role("button", name="Add"))
        return self._done("party-added")

    def invite(self, role: str = "member", delegation: str = "", track: str = "") -> str:
        """Create a one-time invitation link (``role``: member or observer); return it."""
        form = self._form("invitation")
        form.locator("select[name=role]").select_option(role)
        if role == "member":
            form.locator("select[name=delegation]").select_option(label=delegation)
            form.locator("select[name=track]").select_option(label=track)
        self._submit(form.get_by_role("button", name="Create invitation link"))
        self._done("invitation-link")
        return self.page.locator(".notice code.select").inner_text().strip()

    def participants(self) -> str:
        """The text of the parties section (names, pseudonyms, tracks)."""
        return self.page.locator("section#parties").inner_text()

    def _round_button(self, text: str) -> None:
        self._submit(self.page.get_by_role("button", name=re.compile(text)))

    def open_round(self) -> DialoguePage:
        """Open the next round as a draft."""
        self._round_button(r"^Open round")
        return self._done("round-opened")

    def lock_round(self) -> DialoguePage:
        """Lock the current round: positions freeze."""
        self._round_button(r"^Lock round")
        return self._done("round-locked")

    def evaluate(self) -> AnalysisPage:
        """Spend the round's evaluation (confirmed on its own page) and see the whole picture."""
        self._follow(self.page.locator("#rounds").get_by_role("link", name=re.compile("^Evaluate")))
        self._submit(self.page.get_by_role("button", name=re.compile("^Evaluate now")))
        if self.error():
            raise AssertionError(f"refused: {self.error()}")
        return AnalysisPage(self.page, self.camera, self.who, "analysis")

    def red_lines_of(self, party: str) -> PositionPage:
        """The facilitator's page for an absent stakeholder's public red lines."""
        item = self.page.locator("section#parties ul.list > li", has_text=party)
        self._follow(item.get_by_role("link", name="enter its public red lines"))
        return PositionPage(self.page, self.camera, self.who, "absent-red-lines")


# ----------------------------------------------------------------- positions
class PositionPage(_InDialogue):
    """``/d/<id>/position``: the own side's position (or an absent party's red lines)."""

    def _issue(self, name: str) -> Locator:
        heading = self.page.get_by_role("heading", name=name, exact=True)
        return self.page.locator("section.issue", has=heading)

    def rank(self, issue: str, rank: int) -> None:
        """Place an issue in the importance order (1 = most important)."""
        self._issue(issue).locator("select[name^=importance]").select_option(str(rank))

    def rate(self, issue: str, option: str, value: int) -> None:
        """Rate one option 0-100."""
        self._issue(issue).get_by_label(f"rating of {option}", exact=True).fill(str(value))

    def mark_unacceptable(self, issue: str, option: str, firmness: str = "firm") -> None:
        """Tick an option as unacceptable and say how firm that red line is."""
        label = f"{option} is unacceptable"
        row = self._issue(issue).locator("tbody tr", has=self.page.get_by_label(label, exact=True))
        row.get_by_label(label, exact=True).check()
        row.locator("select").select_option(firmness)

    def add_condition(
        self,
        if_issue: str,
        if_options: list[str],
        then_issue: str,
        then_options: list[str],
        firmness: str = "firm",
    ) -> None:
        """Fill the empty "if ... then ..." row: choose an issue, tick its options."""
        row = self.page.locator("div.rule").last

        def pick(side: str, issue: str, options: list[str]) -> None:
            row.locator(f"select[name$=':{side}_issue']").select_option(label=issue)
            legend = self.page.locator("legend").filter(
                has_text=re.compile(f"^{re.escape(issue)}$")
            )
            group = row.locator(f"div.choices[id$=':{side}'] fieldset", has=legend)
            for option in options:
                group.get_by_label(option, exact=True).check()

        pick("if", if_issue, if_options)
        pick("then", then_issue, then_options)
        row.locator("select[name$=':firmness']").select_option(firmness)

    def offered(self, side: str) -> list[str]:
        """The options the empty condition row offers on one side (those visible)."""
        row = self.page.locator("div.rule").last
        boxes = row.locator(f"div.choices[id$=':{side}'] fieldset:visible label")
        return [text.strip() for text in boxes.all_inner_texts()]

    def set_walk_away(self, level: int) -> None:
        """The overall score below which the side would rather have no agreement."""
        self.page.get_by_label("Below this overall score").fill(str(level))

    def write_note(self, text: str) -> None:
        """The internal note (only the own side sees it)."""
        self.page.get_by_label("Internal note").fill(text)

    def save(self) -> str:
        """Save the position; return the confirmation the page shows."""
        self._submit(self.page.get_by_role("button", name="Save", exact=True))
        if self.error():
            raise AssertionError(f"position refused: {self.error()}")
        self.snap("position-saved")
        return self.page.locator(".notice[role=status]").inner_text()

    def value_of(self, issue: str, option: str) -> str:
        """The rating shown for an option."""
        return self._issue(issue).get_by_label(f"rating of {option}", exact=True).input_value()

    def frozen(self) -> bool:
        """Whether the form is disabled (the round is not a draft)."""
        return self.page.locator("fieldset[disabled]").count() > 0


# ----------------------------------------------------------------- analysis
class AnalysisPage(_InDialogue):
    """``/d/<id>/analysis``: the facilitator's whole picture and the release menu."""

    def _card(self, title: str) -> Locator:
        return self.page.locator("section.card", has=self.page.locator("h2", has_text=title))

    def verdict(self) -> str:
        """Whether agreement is possible, in the page's words."""
        return self.page.locator("p.verdict").inner_text()

    def red_line_map(self) -> dict[str, dict[str, list[str]]]:
        """Per issue: the options ``ruled out``, ``viable`` (in a package) and ``open``."""
        out = {}
        for row in self._card("Red-line map").locator("tbody tr").all():
            cells = row.locator("td")
            options = cells.nth(1)
            out[cells.nth(0).inner_text()] = {
                "ruled out": options.locator("s.blocked").all_inner_texts(),
                "viable": options.locator(".viable").all_inner_texts(),
                "open": options.locator(".open").all_inner_texts(),
            }
        return out

    def packages(self) -> dict[str, dict[str, str]]:
        """The recommended packages: rule -> column -> value."""
        table = self._card("Recommended packages").locator("table")
        headers = table.locator("thead th").all_inner_texts()
        out = {}
        for row in table.locator("tbody tr").all():
            values = row.locator("th, td").all_inner_texts()
            out[values[0]] = dict(zip(headers[1:], values[1:], strict=True))
        return out

    def frontier_chart(self) -> Locator:
        """The inline SVG of the Pareto frontier."""
        return self._card("Pareto frontier").locator("svg.chart")

    def release(self, audience: str, kind: str, parameter: str = "") -> AnalysisPage:
        """Release one finding (``kind``: zone, overlap, clash or package) to one audience.

        ``audience``: a delegation's name or "the observers"; ``parameter``: the label (or
        a part of it naming one option) of the issue, red line or package the finding is
        about; "" for zone.
        """
        form = self._card("Release a finding").locator("form")
        form.locator("select[name=audience]").select_option(label=audience)
        form.locator("select[name=kind]").select_option(kind)
        which = form.locator("select[name=parameter]")
        if parameter:
            labels = which.locator("option").all_inner_texts()
            found = [t for t in labels if t == parameter] or [t for t in labels if parameter in t]
            assert len(found) == 1, f"{parameter!r} names {len(found)} of {labels}"
            which.select_option(label=found[0])
        else:
            which.select_option("")
        self._submit(form.get_by_role("button", name="Release"))
        if not self.page.url.endswith("/analysis"):
            raise AssertionError(f"release refused: {self.main_text()}")
        return AnalysisPage(self.page, self.camera, self.who, "released")

    def released_so_far(self) -> list[str]:
        """The releases listed under the menu."""
        return self._card("Release a finding").locator("ul.list li").all_inner_texts()


class ReleasesPage(_InDialogue):
    """``/d/<id>/releases``: what the facilitator shared with this audience."""

    def headlines(self) -> list[str]:
        """Each release's headline."""
        return self.page.locator("article.release .headline").all_inner_texts()

    def packages(self) -> list[dict[str, str]]:
        """The packages released, issue -> option."""
        out = []
        for table in self.page.locator("article.release table").all():
            rows = table.locator("tr").all()
            out.append({r.locator("th").inner_text(): r.locator("td").inner_text() for r in rows})
        return out


class LogPage(_InDialogue):
    """``/d/<id>/log``: the hash-chained log as the seat may read it."""

    def actions(self) -> list[str]:
        """The actions listed, in order (without the "you" tag)."""
        cells = self.page.locator("tbody tr td:nth-child(3)").all_inner_texts()
        return [c.removesuffix("you").strip() for c in cells]


class EscalationPage(_InDialogue):
    """``/d/<id>/escalation``: the facilitator's model of what happens if talks fail."""

    def _set(self, name: str, value: str) -> None:
        self.page.locator(f'#model [name="{name}"]').fill(value)

    def name_model(self, title: str) -> None:
        """Give the model its title."""
        self.page.get_by_label("Title").fill(title)

    def add_decision_maker(self, row: int, dm_id: str, name: str = "") -> None:
        """Fill decision maker row ``row`` (0-based)."""
        self._set(f"dm:{row}:id", dm_id)
        self._set(f"dm:{row}:name", name)

    def add_option(
        self, row: int, k: int, option_id: str, *, irreversible: bool = False, taken: bool = False
    ) -> None:
        """Fill option row ``k`` of decision maker row ``row``."""
        self._set(f"opt:{row}:{k}:id", option_id)
        if irreversible:
            self.page.locator(f'[name="opt:{row}:{k}:rev"]').select_option("forward_only")
        if taken:
            self.page.locator(f'[name="opt:{row}:{k}:sq"]').check()

    def write_preferences(self, row: int, statements: list[str]) -> None:
        """One statement a line, most important first."""
        self._set(f"dm:{row}:prefs", "\n".join(statements))

    def write_infeasible(self, combinations: list[str]) -> None:
        """The combinations that cannot happen, one a line."""
        self.page.locator("#infeasible").fill("\n".join(combinations))

    def save(self) -> EscalationPage:
        """Save the model; land on its analysis (or the form again, with the error)."""
        self._submit(self.page.get_by_role("button", name="Save the model"))
        return EscalationPage(self.page, self.camera, self.who, "escalation-saved")

    def equilibria(self, concept: str) -> list[str]:
        """The equilibria the analysis lists under ``concept`` (its name in the table)."""
        row = self.page.locator(
            "#analysis table tr", has=self.page.get_by_role("rowheader", name=concept)
        )
        return row.locator("td code").all_inner_texts()

    def graph_states(self) -> list[str]:
        """The states the state graph draws."""
        boxes = self.page.locator("#graph svg g.state")
        return [b.get_attribute("data-state") or "" for b in boxes.all()]

    def outlined_equilibria(self) -> list[str]:
        """The states the graph outlines as equilibria (their tooltips say so)."""
        found = []
        for box in self.page.locator("#graph svg g.state").all():
            if "equilibrium" in box.locator("title").text_content():
                found.append(box.get_attribute("data-state") or "")
        return found

    def what_if(self, *, off: list[str] = (), irreversible: list[str] = ()) -> EscalationPage:  # type: ignore[assignment]
        """Switch options off or make them irreversible, and compare."""
        for option in off:
            self.page.get_by_label(f"Switch {option} off").check()
        for option in irreversible:
            self.page.get_by_label(f"Make {option} irreversible").check()
        self._submit(self.page.get_by_role("button", name="Compare"))
        return EscalationPage(self.page, self.camera, self.who, "escalation-whatif")

    def compared(self, concept: str) -> tuple[str, str]:
        """The what-if's two columns for ``concept``: before, after."""
        row = self.page.locator(
            "table.whatif tr", has=self.page.get_by_role("rowheader", name=concept)
        )
        cells = row.locator("td").all_inner_texts()
        return cells[0], cells[1]
