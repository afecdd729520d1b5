"""Page objects: each method is one step a person takes on a Backchannel page.

Every step finds the page's fields, buttons and links by the words the person reads, in
the language the pages speak to them (the English msgid, or its translation from the
catalogue: the steps read the same in English and in Russian). Every step that lands on a
page goes through the shared :class:`Eyes`: a screenshot (``NN-who-what.png``,
numbered in the order the pages were visited) and, once per page and language, an
axe-core check (WCAG 2.0/2.1, A and AA) whose violations are kept to fail the test. The
steps only fill fields, tick boxes and press buttons and links, so the same objects drive
a context with JavaScript disabled (given eyes without axe: axe is a script).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Locator, Page

from backchannel import i18n

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass
class Eyes:
    """Screenshots of every page visited, and axe-core once per page and language.

    ``route_of`` names the route an address belongs to (``/d/{dialogue_id}/log``), so
    that each page is checked once whatever its ids; ``checked`` keeps what was checked.
    """

    folder: Path
    axe: Path | None
    route_of: Callable[[str], str]
    full_page: bool = False
    """Whole pages (slower), or what the window shows."""
    guide: Path | None = None
    """Where the user guides' pictures go (``docs/images``), if they are to be made."""
    pictures: dict[str, str] = field(default_factory=dict)
    """Screenshot name (without its language) -> the guides' picture it makes."""
    count: int = 0
    taken: list[Path] = field(default_factory=list)
    checked: set[tuple[str, str]] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)

    def snap(self, page: Page, name: str) -> Path:
        """Save the page as ``NN-name.png`` and check it (once per page and language)."""
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=self.full_page)
        self.taken.append(path)
        language, _, plain = name.partition("-")
        picture = self.pictures.pop(plain, None)
        if self.guide is not None and picture is not None:
            suffix = "" if language == "en" else f".{language}"
            page.screenshot(path=str(self.guide / f"{picture}{suffix}.png"))
        self.check(page)
        return path

    def check(self, page: Page) -> None:
        """Run axe-core on the page unless this page in this language was checked."""
        if self.axe is None or not page.evaluate("() => !!document.querySelector('main')"):
            return
        language = page.evaluate("() => document.documentElement.lang")
        key = (self.route_of(page.url), language)
        if key in self.checked:
            return
        if page.evaluate("() => typeof window.axe") == "undefined":
            page.add_script_tag(path=str(self.axe))
        self.checked.add(key)
        found = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
            " resultTypes: ['violations']})"
            ".then(r => r.violations.map(v => v.id + ': ' + v.help + ' @ ' +"
            " v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')))",
            AXE_TAGS,
        )
        self.violations += [f"{key[0]} [{key[1]}] {v}" for v in found]


class Screen:
    """One page of the site as one person (``who``) sees it, in the page's language."""

    def __init__(self, page: Page, eyes: Eyes, who: str, shot: str | None = None) -> None:
        self.page = page
        self.eyes = eyes
        self.who = who
        if shot:
            self.snap(shot)

    @property
    def language(self) -> str:
        """The page's language (``<html lang>``)."""
        return str(self.page.evaluate("() => document.documentElement.lang"))

    def t(self, msgid: str, **values: object) -> str:
        """``msgid`` as the page shows it (in its language), ``%(name)s`` filled in."""
        text = i18n.translations(self.language).gettext(msgid)
        return text % values if values else text

    def starts(self, msgid: str) -> re.Pattern[str]:
        """A pattern for a text that starts as ``msgid`` does, up to its first field."""
        return re.compile("^" + re.escape(self.t(msgid).split("%(")[0]))

    def snap(self, name: str) -> None:
        """A screenshot (and the page's check) as it is now."""
        self.eyes.snap(self.page, f"{self.who}-{name}")

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
        return Screen(self.page, self.eyes, self.who, shot)

    def reload(self, shot: str) -> None:
        """Reload the page (the browser's reload button)."""
        self.page.reload()
        self.snap(shot)

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

    def value(self, name: str, within: str = "main") -> str:
        """What a field (by its name) holds now."""
        return self.page.locator(f"{within} [name='{name}']").first.input_value()


# ----------------------------------------------------------------- accounts
class SignInPage(Screen):
    """``/signin``."""

    @classmethod
    def open(cls, page: Page, eyes: Eyes, who: str, base_url: str) -> SignInPage:
        """Go to the sign-in page."""
        page.goto(f"{base_url}/signin")
        return cls(page, eyes, who, "signin")

    def sign_in(self, user: str, password: str) -> DialoguesPage | PasswordPage:
        """Enter the user name and password; land on the dialogues (or the password page)."""
        self.page.get_by_label(self.t("User name")).fill(user)
        self.page.get_by_label(self.t("Password"), exact=True).fill(password)
        self._submit(self.page.get_by_role("button", name=self.t("Sign in")))
        if self.page.url.endswith("/account/password"):
            return PasswordPage(self.page, self.eyes, self.who, "password")
        if self.page.url.endswith("/signin"):
            raise AssertionError(f"sign-in refused: {self.error()}")
        return DialoguesPage(self.page, self.eyes, self.who, "dialogues")


class PasswordPage(Screen):
    """``/account/password``: choose a password (required after a one-time password)."""

    def choose(self, old: str, new: str) -> DialoguesPage:
        """Enter the current (or one-time) password and the new one twice."""
        self.page.locator("input[name=old]").fill(old)
        self.page.locator("input[name=new]").fill(new)
        self.page.locator("input[name=repeat]").fill(new)
        self._submit(self.page.get_by_role("button", name=self.t("Save password")))
        if not self.page.url.endswith("/dialogues"):
            raise AssertionError(f"password not changed: {self.error()}")
        return DialoguesPage(self.page, self.eyes, self.who, "dialogues")


class InvitationPage(Screen):
    """``/invite/<token>``: join a dialogue from a one-time link."""

    @classmethod
    def open(cls, page: Page, eyes: Eyes, who: str, link: str) -> InvitationPage:
        """Follow the invitation link."""
        page.goto(link)
        return cls(page, eyes, who, "invitation")

    def _fill(self, username: str, display_name: str, password: str, pseudonym: str) -> None:
        self.page.get_by_label(self.t("User name")).fill(username)
        self.page.get_by_label(
            self.t("Your name (seen by your own side and the facilitator)")
        ).fill(display_name)
        self.page.get_by_label(self.t("Pseudonym shown to the other side (optional)")).fill(
            pseudonym
        )
        self.page.get_by_label(self.t("Password (12 to 128 characters)")).fill(password)
        self._submit(self.page.get_by_role("button", name=self.t("Create my account")))

    def accept(
        self, username: str, display_name: str, password: str, pseudonym: str = ""
    ) -> SignInPage:
        """Choose a user name, name, pseudonym and password; then sign in."""
        self._fill(username, display_name, password, pseudonym)
        if not self.page.url.endswith("/signin"):
            raise AssertionError(f"invitation refused: {self.error()}")
        return SignInPage(self.page, self.eyes, self.who, "signin-after-invitation")

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

    def _fill_new(
        self, title: str, agenda: str, parties: str, per_round: int, blind: bool = False
    ) -> None:
        form = self.page.locator("form[action='/dialogues']")
        form.get_by_label(self.t("Title"), exact=True).fill(title)
        form.get_by_label(self.t("Evaluations allowed per round")).fill(str(per_round))
        form.locator("textarea[name=agenda]").fill(agenda)
        form.locator("textarea[name=parties]").fill(parties)
        form.locator("input[name=blind]").set_checked(blind)

    def convene(
        self,
        title: str,
        agenda: str = "",
        parties: str = "",
        *,
        per_round: int = 1,
        blind: bool = False,
    ) -> DialoguePage:
        """Create a dialogue (the creator facilitates it), with its agenda (one issue a
        line: ``Issue: a; b``) and its parties (one a line, ``(absent)`` after an absent
        stakeholder); ``blind``: in blind mode (the positions stay on the sides' nodes)."""
        self._fill_new(title, agenda, parties, per_round, blind)
        self._submit(self.page.get_by_role("button", name=self.t("Create"), exact=True))
        if self.error():
            raise AssertionError(f"refused: {self.error()}")
        return DialoguePage(self.page, self.eyes, self.who, "dialogue-new")

    def convene_refused(self, title: str, agenda: str, parties: str) -> str:
        """Try to create a dialogue; return the refusal (fails if it was created)."""
        self._fill_new(title, agenda, parties, 1)
        self._submit(self.page.get_by_role("button", name=self.t("Create"), exact=True))
        self.snap("dialogue-refused")
        error = self.error()
        if error is None:
            raise AssertionError("the dialogue was created")
        return error

    def convene_by_double_click(self, title: str) -> DialoguePage:
        """Create a dialogue, pressing Create twice in quick succession."""
        self._fill_new(title, "", "", 1)
        form = self.page.locator("form[action='/dialogues']")
        with self.page.expect_navigation():
            form.get_by_role("button", name=self.t("Create"), exact=True).dblclick()
        self.page.wait_for_load_state()
        return DialoguePage(self.page, self.eyes, self.who, "dialogue-double-click")

    def open(self, title: str) -> DialoguePage:
        """Open one dialogue."""
        self._follow(self.page.get_by_role("link", name=title, exact=True))
        return DialoguePage(self.page, self.eyes, self.who, "dialogue")


class _InDialogue(Screen):
    """A page with the dialogue's tabs."""

    @property
    def dialogue_id(self) -> str:
        """The dialogue's id, from the address."""
        found = re.search(r"/d/([^/?#]+)", self.page.url)
        assert found, self.page.url
        return found.group(1)

    def _tab(self, name: str) -> None:
        tabs = self.page.locator("nav.tabs")
        self._follow(tabs.get_by_role("link", name=self.t(name), exact=True))

    def overview(self) -> DialoguePage:
        """The dialogue's overview tab."""
        self._tab("Overview")
        return DialoguePage(self.page, self.eyes, self.who, "dialogue")

    def our_position(self) -> PositionPage:
        """A member's own side's position."""
        self._tab("Our position")
        return PositionPage(self.page, self.eyes, self.who, "position")

    def analysis(self) -> AnalysisPage:
        """The facilitator's whole picture."""
        self._tab("Analysis")
        return AnalysisPage(self.page, self.eyes, self.who, "analysis")

    def releases(self) -> ReleasesPage:
        """What was released to the seat's side (or to the observers)."""
        self._follow(self.page.locator("nav.tabs a[href$='/releases']"))
        return ReleasesPage(self.page, self.eyes, self.who, "releases")

    def log(self) -> LogPage:
        """The dialogue's log."""
        self._tab("Log")
        return LogPage(self.page, self.eyes, self.who, "log")

    def escalation(self) -> EscalationPage:
        """The facilitator's escalation watch."""
        self._tab("Escalation")
        return EscalationPage(self.page, self.eyes, self.who, "escalation")

    def meetings(self) -> MeetingsPage:
        """The dialogue's meetings: the next one and the history."""
        self._tab("Meetings")
        return MeetingsPage(self.page, self.eyes, self.who, "meetings")

    def nonpapers(self) -> NonPapersPage:
        """The non-papers in circulation."""
        self._tab("Non-papers")
        return NonPapersPage(self.page, self.eyes, self.who, "nonpapers")

    def texts(self) -> TextsPage:
        """The negotiating texts."""
        self._tab("Text")
        return TextsPage(self.page, self.eyes, self.who, "texts")

    def readouts(self) -> ReadoutsPage:
        """The readouts issued to this seat's audience (the facilitator: every one)."""
        self._tab("Readouts")
        return ReadoutsPage(self.page, self.eyes, self.who, "readouts")

    def blind(self) -> BlindPage:
        """A blind dialogue's nodes (and, for the facilitator, its computations)."""
        self._tab("Blind mode")
        return BlindPage(self.page, self.eyes, self.who, "blind")

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
        return DialoguePage(self.page, self.eyes, self.who, shot)

    def issues(self) -> list[str]:
        """The names of the issues on the agenda, in order."""
        return self.page.locator(
            "#agenda tbody tr:not(.edit-row) td:first-child strong"
        ).all_inner_texts()

    def parties(self) -> list[str]:
        """The parties, as the list shows them."""
        return self.page.locator("section#parties > ul.list > li").all_inner_texts()

    def add_issue_refused(self, name: str, options: list[str], description: str) -> str:
        """Try to add one issue (ordered); return the refusal beside the form."""
        form = self._form("issue")
        form.get_by_label(self.t("Name"), exact=True).fill(name)
        form.locator("select[name=kind]").select_option("ordered")
        form.get_by_label(self.t("Options, one per line")).fill("\n".join(options))
        form.get_by_label(self.t("Description (optional)")).fill(description)
        self._submit(form.get_by_role("button", name=self.t("Add issue")))
        self.snap("issue-refused")
        error = self._form("issue").locator(".error")
        if not error.count():
            raise AssertionError("the issue was added")
        return error.first.inner_text()

    def invite_each(self, tracks: dict[str, str]) -> dict[str, str]:
        """One invitation link for a member of each delegation (name -> track); returns
        delegation name -> link, as the page shows them once."""
        form = self._form("each")
        for row in form.locator("tbody tr").all():
            name = row.locator("label").inner_text().strip()
            box = row.locator("input[type=checkbox]")
            if name in tracks:
                box.check()
                row.locator("select").select_option(label=self.t(tracks[name]))
            else:
                box.uncheck()
        self._submit(form.get_by_role("button", name=self.t("Create the invitation links")))
        self._done("invitation-links")
        return self.shown_links()

    def shown_links(self) -> dict[str, str]:
        """The invitation links the page shows (once, after they were made)."""
        lines = self.page.locator(".notice p.invitation").all()
        return {
            line.locator(".for").inner_text(): line.locator("code").inner_text().strip()
            for line in lines
        }

    def pending_invitations(self) -> int:
        """How many invitation links wait to be used."""
        return self.page.locator("#invitations table:has(caption) tbody tr").count()

    def _round_button(self, msgid: str) -> None:
        self._submit(self.page.get_by_role("button", name=self.starts(msgid)))

    def open_round(self) -> DialoguePage:
        """Open the next round as a draft."""
        self._round_button("Open round %(n)s")
        return self._done("round-opened")

    def lock_round(self) -> DialoguePage:
        """Lock the current round: positions freeze."""
        self._round_button("Lock round %(n)s")
        return self._done("round-locked")

    def evaluate(self) -> AnalysisPage:
        """Spend the round's evaluation (confirmed on its own page) and see the whole picture."""
        link = self.page.locator("#rounds").get_by_role(
            "link", name=self.starts("Evaluate round %(n)s…")
        )
        self._follow(link)
        self.snap("evaluate-confirm")
        self._submit(
            self.page.get_by_role("button", name=self.starts("Evaluate now (uses %(k)s of %(n)s)"))
        )
        if self.error():
            raise AssertionError(f"refused: {self.error()}")
        return AnalysisPage(self.page, self.eyes, self.who, "analysis")

    def red_lines_of(self, party: str) -> PositionPage:
        """The facilitator's page for an absent stakeholder's public red lines."""
        item = self.page.locator("section#parties ul.list > li", has_text=party)
        self._follow(item.get_by_role("link", name=self.t("enter its public red lines")))
        return PositionPage(self.page, self.eyes, self.who, "absent-red-lines")


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
        label = self.t("rating of %(option)s", option=option)
        self._issue(issue).get_by_label(label, exact=True).fill(str(value))

    def mark_unacceptable(self, issue: str, option: str, firmness: str = "firm") -> None:
        """Tick an option as unacceptable and say how firm that red line is."""
        label = self.t("%(option)s is unacceptable", option=option)
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
        self.tick("if", if_issue, if_options)
        self.tick("then", then_issue, then_options)
        self.page.locator("div.rule").last.locator("select[name$=':firmness']").select_option(
            firmness
        )

    def tick(self, side: str, issue: str, options: list[str], row: int = -1) -> None:
        """On one side of a condition row (the last, empty one by default), choose the
        issue and tick its options."""
        rows = self.page.locator("div.rule")
        where = rows.last if row == -1 else rows.nth(row)
        where.locator(f"select[name$=':{side}_issue']").select_option(label=issue)
        legend = self.page.locator("legend").filter(has_text=re.compile(f"^{re.escape(issue)}$"))
        group = where.locator(f"div.choices[id$=':{side}'] fieldset", has=legend)
        for option in options:
            group.get_by_label(option, exact=True).check()

    def offered(self, side: str) -> list[str]:
        """The options the empty condition row offers on one side (those visible)."""
        row = self.page.locator("div.rule").last
        boxes = row.locator(f"div.choices[id$=':{side}'] fieldset:visible label")
        return [text.strip() for text in boxes.all_inner_texts()]

    def set_walk_away(self, level: int) -> None:
        """The overall score below which the side would rather have no agreement."""
        label = self.t("Below this overall score (0–100) we would rather have no agreement")
        self.page.get_by_label(label).fill(str(level))

    def write_note(self, text: str) -> None:
        """The internal note (only the own side sees it)."""
        self.page.get_by_label(self.t("Internal note (only your side sees it)")).fill(text)

    def _press_save(self) -> None:
        self._submit(self.page.get_by_role("button", name=self.t("Save"), exact=True))

    def save(self) -> str:
        """Save the position; return the confirmation the page shows."""
        self._press_save()
        if self.error():
            raise AssertionError(f"position refused: {self.error()}")
        self.snap("position-saved")
        return self.page.locator(".notice[role=status]").first.inner_text()

    def save_refused(self) -> str:
        """Press Save; return the refusal and the message beside the field it concerns
        (fails if the position was saved)."""
        self._press_save()
        self.snap("position-refused")
        error = self.error()
        if error is None:
            raise AssertionError("the position was saved")
        beside = self.page.locator("main .field-error").all_inner_texts()
        return " ".join([error, *beside])

    def value_of(self, issue: str, option: str) -> str:
        """The rating shown for an option."""
        label = self.t("rating of %(option)s", option=option)
        return self._issue(issue).get_by_label(label, exact=True).input_value()

    def unacceptable(self, issue: str, option: str) -> bool:
        """Whether an option is ticked as unacceptable."""
        label = self.t("%(option)s is unacceptable", option=option)
        return self._issue(issue).get_by_label(label, exact=True).is_checked()

    def ticked(self, side: str) -> list[str]:
        """The options ticked on one side of the first condition row."""
        row = self.page.locator("div.rule").first
        boxes = row.locator(f"div.choices[id$=':{side}'] input:checked")
        return [b.get_attribute("value") or "" for b in boxes.all()]

    def frozen(self) -> bool:
        """Whether the form is disabled (the round is not a draft)."""
        return self.page.locator("fieldset[disabled]").count() > 0


# ----------------------------------------------------------------- analysis
class AnalysisPage(_InDialogue):
    """``/d/<id>/analysis``: the facilitator's whole picture and the release menu."""

    def _card(self, msgid: str) -> Locator:
        title = self.t(msgid)
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

    def _release(self, audience: str, kind: str, parameter: str) -> None:
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
        self._submit(form.get_by_role("button", name=self.t("Release"), exact=True))

    def release(self, audience: str, kind: str, parameter: str = "") -> AnalysisPage:
        """Release one finding (``kind``: zone, overlap, clash or package) to one audience.

        ``audience``: a delegation's name or the observers (as the menu names them);
        ``parameter``: the label (or a part of it naming one option) of the issue, red
        line or package the finding is about; "" for zone.
        """
        self._release(audience, kind, parameter)
        if not self.page.url.endswith("/analysis"):
            raise AssertionError(f"release refused: {self.main_text()}")
        return AnalysisPage(self.page, self.eyes, self.who, "released")

    def release_refused(self, audience: str, kind: str, parameter: str = "") -> Screen:
        """Try to release a finding; return the page that refuses it."""
        self._release(audience, kind, parameter)
        refusal = Screen(self.page, self.eyes, self.who, "release-refused")
        if refusal.error() is None:
            raise AssertionError("the release was made")
        return refusal

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


class BlindPage(_InDialogue):
    """``/d/<id>/blind``: the nodes of a blind dialogue; the facilitator asks them for a
    finding and releases what they opened."""

    def _node_form(self) -> Locator:
        return self.page.locator("form[action$='/blind/nodes']")

    def _fill_node(self, certificate: str, host: str, port: int, label: str) -> None:
        form = self._node_form()
        form.get_by_label(self.t("Certificate (PEM)")).fill(certificate)
        form.get_by_label(self.t("Host"), exact=True).fill(host)
        form.get_by_label(self.t("Port"), exact=True).fill(str(port))
        if label:
            form.get_by_label(self.t("Label (who runs it)")).fill(label)
        self._submit(form.get_by_role("button", name=self.t("Register the node")))

    def register(self, certificate: str, host: str, port: int, label: str = "") -> tuple[str, str]:
        """Register a node (a member: its delegation's; the facilitator: a helper); the
        token and the fingerprint the page shows once."""
        self._fill_node(certificate, host, port, label)
        if self.error():
            raise AssertionError(f"refused: {self.error()}")
        self.snap("node-registered")
        codes = self.page.locator(".notice code.select").all_inner_texts()
        token, fingerprint = (c.strip() for c in codes)
        return token, fingerprint

    def register_refused(self, certificate: str, host: str, port: int) -> str:
        """Try to register a node; the refusal beside the form (fails if it was taken)."""
        self._fill_node(certificate, host, port, "")
        self.snap("node-refused")
        error = self.error()
        if error is None:
            raise AssertionError("the node was registered")
        return error

    def fingerprints(self) -> list[str]:
        """The certificate fingerprints of the nodes listed, in their order."""
        return self.page.locator("#nodes ~ table td:nth-child(4) code").all_inner_texts()

    def _ask(self, finding: str) -> None:
        form = self.page.locator("form[action$='/blind/computations']")
        form.get_by_label(self.t("Finding")).select_option(label=self.t(finding))
        self._submit(form.get_by_role("button", name=self.t("Ask the nodes")))

    def ask(self, finding: str) -> BlindPage:
        """Ask the nodes for one finding (its name as the list shows it)."""
        self._ask(finding)
        if self.error():
            raise AssertionError(f"refused: {self.error()}")
        return BlindPage(self.page, self.eyes, self.who, "asked")

    def ask_refused(self, finding: str) -> str:
        """Ask the nodes for a finding they cannot compute yet; the refusal."""
        self._ask(finding)
        self.snap("ask-refused")
        error = self.error()
        if error is None:
            raise AssertionError("the nodes were asked")
        return error

    def chosen_finding(self) -> str:
        """The finding the ask form has chosen now, as the list shows it."""
        form = self.page.locator("form[action$='/blind/computations']")
        return form.locator("select[name=finding] option:checked").inner_text()

    def states(self) -> list[str]:
        """Each computation's state, newest first."""
        return self.page.locator("#findings ~ article .state").all_inner_texts()

    def opened_package(self) -> dict[str, str]:
        """The package the newest computation opened, issue -> option, in words."""
        items = self.page.locator("#findings ~ article").first.locator("ul li").all_inner_texts()
        return dict(item.split(": ", 1) for item in items)

    def _release(self, audiences: list[str]) -> Locator:
        form = self.page.locator("form[action$='/blind/releases']").first
        for box in form.locator("input[name=audience]").all():
            label = box.locator("xpath=..").inner_text().strip()
            box.set_checked(label in audiences)
        self._submit(form.get_by_role("button", name=self.t("Release")))
        return self.page.locator("form[action$='/blind/releases']").first

    def release(self, audiences: list[str]) -> BlindPage:
        """Release the newest opened finding to the audiences named (as the boxes say)."""
        self._release(audiences)
        if self.error():
            raise AssertionError(f"refused: {self.error()}")
        return BlindPage(self.page, self.eyes, self.who, "released")

    def release_refused(self, audiences: list[str]) -> tuple[str, list[str]]:
        """Try a release that is refused; the refusal and the boxes still ticked."""
        form = self._release(audiences)
        self.snap("release-refused")
        error = self.error()
        if error is None:
            raise AssertionError("the finding was released")
        ticked = [
            box.locator("xpath=..").inner_text().strip()
            for box in form.locator("input[name=audience]").all()
            if box.is_checked()
        ]
        return error, ticked


class LogPage(_InDialogue):
    """``/d/<id>/log``: the hash-chained log as the seat may read it."""

    def actions(self) -> list[str]:
        """The actions listed, in order (without the "you" tag)."""
        cells = self.page.locator("tbody tr td:nth-child(3)").all_inner_texts()
        return [c.removesuffix(self.t("you")).strip() for c in cells]


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
        return EscalationPage(self.page, self.eyes, self.who, "escalation-saved")

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
        return EscalationPage(self.page, self.eyes, self.who, "escalation-whatif")

    def compared(self, concept: str) -> tuple[str, str]:
        """The what-if's two columns for ``concept``: before, after."""
        row = self.page.locator(
            "table.whatif tr", has=self.page.get_by_role("rowheader", name=concept)
        )
        cells = row.locator("td").all_inner_texts()
        return cells[0], cells[1]


# ----------------------------------------------------------------- the dialogue's record
class MeetingsPage(_InDialogue):
    """``/d/<id>/meetings``: the next meeting, the history, and the facilitator's form."""

    def schedule(
        self,
        starts: str,
        zone: str,
        place: str,
        *,
        issues: Sequence[str] = (),
        items: Sequence[str] = (),
    ) -> MeetingPage:
        """Schedule a plenary (``starts``: ``YYYY-MM-DDTHH:MM``, local to ``zone``), its
        agenda issues ticked by name, free items one a line, every seat attending."""
        form = self.page.locator("main form.card")
        form.get_by_label(self.t("Local date and time")).fill(starts)
        form.get_by_label(self.t("Time zone (IANA name, e.g. Europe/Vienna)")).fill(zone)
        form.get_by_label(self.t("Plenary (every side)")).check()
        form.get_by_label(self.t("Place"), exact=True).fill(place)
        for issue in issues:
            form.get_by_label(issue, exact=True).check()
        form.get_by_label(self.t("Agenda: other items (one per line)")).fill("\n".join(items))
        for box in form.locator("input[name=attendee]").all():
            box.check()
        self._submit(form.get_by_role("button", name=self.t("Schedule"), exact=True))
        if self.error():
            raise AssertionError(f"refused: {self.error()}")
        return MeetingPage(self.page, self.eyes, self.who, "meeting-scheduled")

    def next_meeting(self) -> str:
        """The line about the next meeting."""
        return self.page.locator("section[aria-labelledby=next] p").first.inner_text()

    def history(self) -> list[tuple[str, str]]:
        """Every meeting listed, earliest first: (when, state)."""
        rows = self.page.locator("section[aria-labelledby=history] tbody tr").all()
        return [
            (r.locator("td").first.inner_text(), r.locator("td").last.inner_text()) for r in rows
        ]

    def open(self, number: int, shot: str = "meeting") -> MeetingPage:
        """Open the ``number``-th meeting of the history (1: the earliest)."""
        rows = self.page.locator("section[aria-labelledby=history] tbody tr")
        self._follow(rows.nth(number - 1).get_by_role("link"))
        return MeetingPage(self.page, self.eyes, self.who, shot)


class MeetingPage(_InDialogue):
    """``/d/<id>/meetings/<id>``: a meeting, its shared record and the own side's notes."""

    def all_meetings(self, shot: str = "meetings") -> MeetingsPage:
        """Back to the list of meetings."""
        self._follow(self.page.locator("main").get_by_role("link", name=self.t("All meetings")))
        return MeetingsPage(self.page, self.eyes, self.who, shot)

    def write_record(self, text: str) -> MeetingPage:
        """Save a new version of the shared record (facilitator)."""
        form = self.page.locator("form[action$='/record']")
        form.locator("textarea[name=text]").fill(text)
        self._submit(form.get_by_role("button", name=self.t("Save a new version")))
        if self.error():
            raise AssertionError(f"record refused: {self.error()}")
        return MeetingPage(self.page, self.eyes, self.who, "record-saved")

    def confirm(self, shot: str = "record-confirmed") -> MeetingPage:
        """Confirm the record's current version for the own side."""
        form = self.page.locator("form[action$='/record/answer']")
        self._submit(form.get_by_role("button", name=self.starts("Confirm version %(number)s")))
        if self.error():
            raise AssertionError(f"confirmation refused: {self.error()}")
        return MeetingPage(self.page, self.eyes, self.who, shot)

    def record(self) -> str:
        """The shared record's text as the page shows it."""
        return self.page.locator("#record .record").inner_text()

    def record_state(self) -> str:
        """The record's line: "Agreed record · version N", or the version alone."""
        return self.page.locator("#record > p").nth(1).inner_text()

    def answers(self) -> dict[str, str]:
        """Each side's answer to the current version."""
        rows = self.page.locator("#record table tbody tr").all()
        return {r.locator("td").first.inner_text(): r.locator("td").last.inner_text() for r in rows}

    def write_notes(self, text: str, shot: str = "notes-saved") -> MeetingPage:
        """Save the own side's private notes of the meeting."""
        form = self.page.locator("form[action$='/note']")
        form.locator("textarea[name=note]").fill(text)
        self._submit(form.get_by_role("button", name=self.t("Save our notes")))
        if self.error():
            raise AssertionError(f"notes refused: {self.error()}")
        return MeetingPage(self.page, self.eyes, self.who, shot)

    def has_notes(self) -> bool:
        """Whether the page has a private notes section at all."""
        return self.page.locator("#notes").count() > 0


class NonPapersPage(_InDialogue):
    """``/d/<id>/nonpapers``: the non-papers the seat may read, and the form."""

    def circulate(self, text: str, days: int) -> NonPapersPage:
        """Circulate a non-paper destroyed after ``days`` days."""
        self.page.get_by_label(self.t("Text (no names)")).fill(text)
        self.page.locator("input[name=days]").fill(str(days))
        self._submit(self.page.get_by_role("button", name=self.t("Circulate"), exact=True))
        if self.error():
            raise AssertionError(f"non-paper refused: {self.error()}")
        return NonPapersPage(self.page, self.eyes, self.who, "nonpaper-circulated")

    def shown(self) -> list[str]:
        """The non-papers in circulation, each as the page shows it."""
        return self.page.locator("article.nonpaper").all_inner_texts()


class TextsPage(_InDialogue):
    """``/d/<id>/texts``: the negotiating texts; the facilitator drafts one here."""

    def draft(self, title: str, clauses: list[str]) -> TextPage:
        """Create a text with up to three clauses (facilitator)."""
        form = self.page.locator("form[action$='/texts']")
        form.get_by_label(self.t("Title"), exact=True).fill(title)
        for box, clause in zip(form.locator("textarea[name=clause]").all(), clauses, strict=False):
            box.fill(clause)
        self._submit(form.get_by_role("button", name=self.t("Create the text")))
        if self.error():
            raise AssertionError(f"text refused: {self.error()}")
        return TextPage(self.page, self.eyes, self.who, "text-created")

    def open(self, title: str) -> TextPage:
        """Open a text."""
        self._follow(self.page.locator("main").get_by_role("link", name=title, exact=True))
        return TextPage(self.page, self.eyes, self.who, "text")


ANSWER_LABELS = {
    "agree": "agree",
    "ad_referendum": "agree ad referendum (subject to our capital)",
    "bracket": "bracket, with the wording we propose",
    "reject": "reject",
}
"""A delegation's answers to a clause (their values) and the labels the form shows."""


class TextPage(_InDialogue):
    """``/d/<id>/texts/<id>``: a version of the text, the agreement, the own side's answers."""

    def respond(self, answers: dict[int, tuple[str, str]], shot: str = "responses") -> TextPage:
        """Answer clauses by number: ``answer`` (agree, ad_referendum, bracket, reject) and
        the proposed wording (for a bracket); clauses not named keep what is ticked."""
        for number, (answer, wording) in answers.items():
            clause = self.page.locator(f"fieldset#respond-{number}")
            clause.get_by_label(self.t(ANSWER_LABELS[answer]), exact=True).check()
            clause.get_by_label(self.t("Proposed wording (for a bracket)")).fill(wording)
        form = self.page.locator("form[action$='/responses']")
        self._submit(form.get_by_role("button", name=self.t("Record our responses")))
        if self.error():
            raise AssertionError(f"responses refused: {self.error()}")
        return TextPage(self.page, self.eyes, self.who, shot)

    def agreement(self) -> str:
        """What the page says of the text as a whole."""
        return self.page.locator("section[aria-labelledby=agreement]").inner_text()

    def agreed(self) -> bool:
        """Whether the page says the whole text is agreed."""
        return self.t("Agreed: every clause is agreed by every side.") in self.agreement()

    def states(self) -> list[str]:
        """Each clause's state, in order."""
        return self.page.locator("article.clause h2 .tag").all_inner_texts()

    def write_next_version(self, changes: dict[int, str]) -> TextPage:
        """Open the editor, replace the wording of clauses by number, save a new version."""
        self._follow(self.page.get_by_role("link", name=self.t("Write the next version")))
        Screen(self.page, self.eyes, self.who, "text-edit")
        bodies = self.page.locator("main textarea[name=body]")
        for number, wording in changes.items():
            bodies.nth(number - 1).fill(wording)
        self._submit(self.page.get_by_role("button", name=self.t("Save as a new version")))
        if self.error():
            raise AssertionError(f"version refused: {self.error()}")
        return TextPage(self.page, self.eyes, self.who, "text-revised")


class ReadoutsPage(_InDialogue):
    """``/d/<id>/readouts``: the readouts issued to the seat's audience; the facilitator
    reviews and issues them here."""

    def review(self, side: str, language: str, kind: str, paper: str = "a4") -> ReadoutsPage:
        """Choose a delegation, a language (its code), a format (``pdf``, ``html``) and a
        paper, and review the draft (nothing is issued yet)."""
        form = self.page.locator("form[action$='/readouts/draft']")
        form.locator("select[name=audience]").select_option(
            label=self.t("the delegation %(name)s", name=side)
        )
        form.locator("select[name=language]").select_option(language)
        form.locator("select[name=format]").select_option(kind)
        form.locator("select[name=page]").select_option(paper)
        self._submit(form.get_by_role("button", name=self.t("Review the draft")))
        if self.error():
            raise AssertionError(f"draft refused: {self.error()}")
        return ReadoutsPage(self.page, self.eyes, self.who, "readout-review")

    def draft_text(self) -> str:
        """The draft under review."""
        return self.page.locator(".readout-preview").inner_text()

    def issue(self) -> ReadoutsPage:
        """Issue the reviewed readout: signed, kept, logged."""
        self._submit(self.page.get_by_role("button", name=self.t("Issue this readout")))
        if self.error():
            raise AssertionError(f"issue refused: {self.error()}")
        return ReadoutsPage(self.page, self.eyes, self.who, "readout-issued")

    def issued(self) -> list[str]:
        """The issued readouts' rows, newest first."""
        return self.page.locator("tr[id^=readout-]").all_inner_texts()

    def download(self, row: int, to: Path) -> Path:
        """Download the file of the ``row``-th readout listed (0: the newest) into ``to``;
        returns its path (the name the server gave it)."""
        link = self.page.locator("tr[id^=readout-]").nth(row).get_by_role("link")
        with self.page.expect_download() as done:
            link.click()
        path = to / done.value.suggested_filename
        done.value.save_as(path)
        return path

    def public_key(self) -> str:
        """The server's signing key, as the page prints it."""
        return self.page.locator("code.select").inner_text().strip()
