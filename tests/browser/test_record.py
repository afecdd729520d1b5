"""The dialogue's record in Chromium, end to end (issue 11 §6).

One story on one server, each person in a browser context of their own: the facilitator
plans two meetings and keeps the first one's shared record, which both sides confirm;
each side keeps private notes that neither the other side nor the facilitator sees; a
non-paper circulates and expires (its expiry is driven through the service's clock,
:func:`backchannel.services.nonpapers.expire` with ``now``, as the operator's sweep
``backchannel nonpapers expire`` runs it), after which its readers see no content and
the log only that it existed; a three-clause text goes through two versions, with
answers from both sides (a bracket with proposed wording, *ad referendum*, agree), until
the page says it is agreed; the facilitator reviews and issues each side's readout in
HTML and in PDF; each side lists its own two, and the northern member downloads them;
the PDF is turned into PNG pages with ``pdftoppm`` (kept beside the screenshots) and the
files are checked with ``backchannel readout verify``, which then refuses the PDF changed
by one byte.

The dialogue, its agenda, delegations and seats, and an escalation model, are set up
through the services: the first-time flow and the escalation model built in the browser
have their own tests (``test_flow.py``). Every page is checked with axe-core like the
others. The people work in English; each page that is a picture of the facilitator's guide
is then shown again in Russian (reloaded with the language the switch keeps in the
browser's cookie: what people wrote stays as written) and checked in Russian too. With
``BACKCHANNEL_GUIDE_PICTURES=docs/images`` the run writes those pictures (``name.png``,
``name.ru.png``).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page

from backchannel.cli import main as cli_main
from backchannel.services import accounts, demo, dialogues, escalation, nonpapers
from backchannel.services.access import Actor
from backchannel.services.platform import Platform
from backchannel.storage.tables import utcnow
from conftest import PASSWORD
from page_routes import escalation_model

from .conftest import CHROMIUM, People, Site, eyes_for, no_violations
from .pages import Eyes, MeetingsPage, Screen

GUIDE_PICTURES = {
    "facilitator-meetings-planned": "facilitator-meetings",
    "facilitator-record-agreed": "facilitator-record",
    "north-notes-saved": "member-record-notes",
    "facilitator-nonpaper-circulated": "facilitator-nonpapers",
    "facilitator-text-agreed": "facilitator-text",
    "facilitator-readout-review": "facilitator-readout",
    "facilitator-escalation": "facilitator-escalation",
}
"""Screenshots that are the facilitator's guide pictures (``docs/images``)."""

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's Chromium is missing (run `make browsers`)"
)


@dataclass(frozen=True)
class Words:
    """What the people of the story write."""

    title: str
    north: str
    south: str
    pseudonyms: tuple[str, str]
    issues: dict[str, list[str]]
    places: tuple[str, str]
    item: str
    record: str
    notes: tuple[str, str]
    nonpaper: str
    text_title: str
    clauses: list[str]
    proposed: str


W = Words(
    title="Black Sea channel",
    north="Northern delegation",
    south="Southern delegation",
    pseudonyms=("Oak", "Cedar"),
    issues={
        "Grain corridor": ["closed", "monitored", "open"],
        "Prisoners": ["none", "wounded first", "all for all"],
    },
    places=("Vienna", "Geneva"),
    item="Next steps",
    record="The sides reviewed the grain corridor.\n"
    "One participant proposed monitored passage; another asked for guarantees.",
    notes=(
        "Ambassador K. hinted at flexibility on prisoners.",
        "Their lead speaker stressed guarantees twice.",
    ),
    nonpaper="A monitored corridor for a trial period of ninety days.",
    text_title="Joint statement",
    clauses=[
        "The sides commit to a monitored grain corridor.",
        "Inspections are carried out by a neutral party.",
        "Prisoners are exchanged all for all.",
    ],
    proposed="Inspections are carried out jointly by the sides and a neutral party.",
)


def _convene(platform: Platform) -> str:
    """The dialogue through the services: the agenda, two delegations with a member each,
    and the facilitator's escalation model (user names: their roles). Returns its id."""
    people = demo.WORDINGS["en"].people
    shown = {"facilitator": people["facilitator"], "north": people["us-1"]}
    shown["south"] = people["ru-1"]
    actors = {}
    for role, name in shown.items():
        row, _ = accounts.create_user(platform, role, name, PASSWORD)
        actors[role] = Actor(row.id, row.username, row.display_name)
    chair = actors["facilitator"]
    d = dialogues.create_dialogue(platform, chair, W.title)
    for issue, options in W.issues.items():
        dialogues.add_issue(platform, chair, d, issue, "ordered", options)
    for role, name, pseudonym in zip(
        ("north", "south"), (W.north, W.south), W.pseudonyms, strict=True
    ):
        side = dialogues.add_delegation(platform, chair, d, name)
        dialogues.add_member(
            platform,
            chair,
            d,
            role,
            "member",
            delegation_id=side,
            track="expert",
            pseudonym=pseudonym,
        )
    model = escalation.model_from_data(escalation_model(russian=False))
    escalation.save_model(platform, chair, d, model)
    return d


def _seated(site: Site, page: Page, eyes: Eyes, who: str, dialogue_id: str) -> MeetingsPage:
    """A person already signed in (a session opened through the services: signing in has
    its own test) on the dialogue's meetings."""
    opened = accounts.sign_in(site.platform, who, PASSWORD, "127.0.0.1")
    assert isinstance(opened, accounts.SignedIn)
    page.context.add_cookies([{"name": "bc_session", "value": opened.token, "url": site.origin}])
    page.goto(f"{site.origin}/d/{dialogue_id}/meetings")
    return MeetingsPage(page, eyes, f"en-{who}", "meetings")


def _local(days: int) -> str:
    """A local date and time ``days`` from today, as the meeting form takes it."""
    return (utcnow() + timedelta(days=days)).strftime("%Y-%m-%dT10:00")


def _in_russian(screen: Screen, eyes: Eyes, shot: str) -> None:
    """The page again in Russian (a reload, with the language the switch keeps in the
    browser's cookie), checked and pictured; the next page is in English again."""
    context, origin = screen.page.context, screen.page.url.split("/d/")[0]
    context.add_cookies([{"name": "bc_language", "value": "ru", "url": origin}])
    screen.page.reload()
    Screen(screen.page, eyes, screen.who.replace("en-", "ru-", 1), shot)
    assert screen.language == "ru"
    context.add_cookies([{"name": "bc_language", "value": "en", "url": origin}])


def test_the_dialogues_record_in_the_browser(
    site: Site, person: People, folder: Path, checked: set[tuple[str, str]]
) -> None:
    d = _convene(site.platform)
    eyes = eyes_for(folder, site, checked, GUIDE_PICTURES)
    russian = eyes_for(folder, site, checked, GUIDE_PICTURES)  # the Russian twins
    chair = _seated(site, person(), eyes, "facilitator", d)
    grain, prisoners = W.issues

    # Two meetings: one held a month ago, the next in three months.
    held = chair.schedule(_local(-30), "Europe/Vienna", W.places[0], issues=[grain, prisoners])
    planned = held.all_meetings()
    nxt = planned.schedule(_local(90), "Europe/Zurich", W.places[1], items=[W.item])
    planned = nxt.all_meetings("meetings-planned")
    assert [state for _, state in planned.history()] == ["held", "scheduled"]
    assert W.places[1] in planned.next_meeting()
    _in_russian(planned, russian, "meetings-planned")

    # The shared record: written by the facilitator, confirmed by each side.
    meeting = planned.open(1).write_record(W.record)
    assert set(meeting.answers().values()) == {"not yet confirmed"}
    north = _seated(site, person(), eyes, "north", d)  # each side in its own browser
    north_meeting = north.open(1)
    assert [line for line in north_meeting.record().splitlines() if line] == W.record.splitlines()
    north_meeting = north_meeting.confirm().write_notes(W.notes[0])
    _in_russian(north_meeting, russian, "notes-saved")
    south = _seated(site, person(), eyes, "south", d)
    south_meeting = south.open(1).confirm().write_notes(W.notes[1])
    meeting.reload("record-agreed")
    assert meeting.record_state().startswith("Agreed record")
    assert set(meeting.answers().values()) == {"confirmed"}
    _in_russian(meeting, russian, "record-agreed")
    # Private notes: the own side's only; the facilitator does not even see a section.
    assert not meeting.has_notes()
    assert all(note not in meeting.main_text() for note in W.notes)
    assert south_meeting.value("note") == W.notes[1] and W.notes[0] not in south_meeting.main_text()
    assert north_meeting.value("note") == W.notes[0] and W.notes[1] not in north_meeting.main_text()

    # A non-paper that expires: read while it lasts, then destroyed by the clock.
    circulated = chair.nonpapers().circulate(W.nonpaper, 3)
    assert [W.nonpaper in shown for shown in circulated.shown()] == [True]
    _in_russian(circulated, russian, "nonpaper-circulated")
    readers = north.nonpapers()
    (shown,) = readers.shown()
    assert W.nonpaper in shown and "from the facilitator" in shown
    assert nonpapers.expire(site.platform, now=utcnow() + timedelta(days=3, minutes=1)) == 1
    readers.reload("nonpaper-expired")
    assert readers.shown() == [] and W.nonpaper not in readers.main_text()
    assert "No non-paper is in circulation." in readers.main_text()
    actions = readers.log().actions()
    assert "non-paper circulated" in actions and "non-paper expired and destroyed" in actions

    # The single negotiating text: three clauses, two versions, until it is agreed.
    text = chair.texts().draft(W.text_title, W.clauses)
    theirs = north.texts().open(W.text_title)
    theirs = theirs.respond(
        {1: ("agree", ""), 2: ("bracket", W.proposed), 3: ("ad_referendum", "")}
    )
    ours = south.texts().open(W.text_title)
    ours = ours.respond({1: ("agree", ""), 2: ("agree", ""), 3: ("agree", "")})
    text.reload("text-answered")
    assert not text.agreed()
    assert text.states() == ["agreed", "bracketed", "agreed ad referendum"]
    assert W.proposed in text.main_text()
    text = text.write_next_version({2: W.proposed})
    assert text.states() == ["agreed", "no answer", "agreed ad referendum"]
    theirs.reload("text-v2")
    theirs.respond({2: ("agree", ""), 3: ("agree", "")})
    ours.reload("text-v2")
    ours.respond({2: ("agree", "")})
    text.reload("text-agreed")
    assert text.agreed(), text.agreement()
    assert text.states() == ["agreed"] * 3
    _in_russian(text, russian, "text-agreed")

    # A readout per side, reviewed and issued in PDF and in HTML.
    out = chair.readouts()
    for side in (W.north, W.south):
        for kind in ("pdf", "html"):
            out = out.review(side, "en", kind)
            assert W.record.splitlines()[0] in out.draft_text()
            assert all(note not in out.draft_text() for note in W.notes)
            if side == W.north and kind == "pdf":
                _in_russian(out, russian, "readout-review")
            out = out.issue()
    assert len(out.issued()) == 4
    _in_russian(chair.escalation(), russian, "escalation")

    # Each side lists its own two; the north downloads them: signed, a changed byte refused.
    mine = north.readouts()
    assert len(mine.issued()) == 2
    key = mine.public_key()
    html, pdf = mine.download(0, folder), mine.download(1, folder)
    assert (html.suffix, pdf.suffix) == (".html", ".pdf")
    assert _png_pages(pdf, folder / "readout-north"), "pdftoppm made no page"
    content = html.read_text(encoding="utf-8")
    assert W.record.splitlines()[0] in content and W.clauses[0] in content
    assert all(secret not in content for secret in (*W.notes, W.nonpaper))
    for signed in (pdf, html):
        assert cli_main(["readout", "verify", str(signed), "--key", key]) == 0
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    changed = pdf.with_name(f"changed-{pdf.name}")
    changed.write_bytes(bytes(data))
    assert cli_main(["readout", "verify", str(changed), "--key", key]) == 1
    assert len(south.readouts().issued()) == 2

    no_violations(eyes)
    no_violations(russian)


def _png_pages(pdf: Path, prefix: Path) -> list[Path]:
    """The PDF's pages as PNG files ``prefix-N.png`` (poppler's ``pdftoppm``)."""
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(prefix)], check=True, timeout=120)
    return sorted(prefix.parent.glob(f"{prefix.name}-*.png"))
