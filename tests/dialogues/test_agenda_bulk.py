"""The agenda in bulk: typed one issue per line, imported from a case file, edited and
reordered before the first round (services and pages)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backchannel.errors import InputError, NotAllowedNow, NotFound
from backchannel.model.agenda_text import parse_agenda_text
from backchannel.model.case import IssueKind
from backchannel.services import agenda, audit_log, dialogues, rounds
from backchannel.services.platform import Platform
from conftest import World

from .conftest import Browserless

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DOMAINS = Path(__file__).resolve().parents[3] / "shared" / "anchors" / "genius-domains"


# ------------------------------------------------------------------ the text
def test_each_line_is_an_issue_with_its_options() -> None:
    typed = parse_agenda_text(
        "# the agenda of round 1\n"
        "Sanctions relief: none; partial; full\n"
        "\n"
        "Troop ceiling (ordered):  500 ; 800;1200 \n"
    )
    assert [(t.line, t.name, t.kind, t.options) for t in typed] == [
        (2, "Sanctions relief", IssueKind.UNORDERED, ("none", "partial", "full")),
        (4, "Troop ceiling", IssueKind.ORDERED, ("500", "800", "1200")),
    ]


def test_every_problem_is_named_by_its_line() -> None:
    text = "Water: shared; split\nFish quota\nBorder: open\nWater: a; b\nPorts: a; a\n"
    with pytest.raises(InputError) as caught:
        parse_agenda_text(text, frozenset({"Airspace"}))
    message = caught.value.message
    assert "line 2: no colon between the issue and its options" in message
    assert "line 3: an issue needs at least two options" in message
    assert "line 4: line 1 already has an issue 'Water'" in message
    assert "line 5: the option 'a' is listed twice" in message
    with pytest.raises(InputError, match="line 1: the agenda already has an issue 'airspace'"):
        parse_agenda_text("airspace: open; closed", frozenset({"Airspace"}))
    with pytest.raises(InputError, match="no issue in the text"):
        parse_agenda_text("# only a comment\n\n")


# ------------------------------------------------------------------ services
def _fresh(platform: Platform, world: World) -> str:
    """A dialogue of the world's facilitator with no round yet."""
    f = world.actors["facilitator"]
    return dialogues.create_dialogue(platform, f, "Before the first round")


def test_typed_issues_are_added_in_one_logged_change(platform: Platform, world: World) -> None:
    f = world.actors["facilitator"]
    d = _fresh(platform, world)
    assert agenda.add_typed_issues(platform, f, d, "A: x; y\nB (ordered): low; high") == 2
    found = dialogues.view(platform, f, d).agenda.issues
    assert [(i.name, i.kind, i.options) for i in found] == [
        ("A", IssueKind.UNORDERED, ["x", "y"]),
        ("B", IssueKind.ORDERED, ["low", "high"]),
    ]
    actions = [e.action for e in audit_log.entries(platform, f, d)]
    assert actions.count("agenda.changed") == 1
    with pytest.raises(InputError, match="line 2: an issue needs at least two options"):
        agenda.add_typed_issues(platform, f, d, "C: x; y\nD: only")
    assert len(dialogues.view(platform, f, d).agenda.issues) == 2  # nothing of it was added


def test_only_the_facilitator_changes_the_agenda(platform: Platform, world: World) -> None:
    d = world.dialogue_id
    for name in ("a1", "b1", "observer", "outsider"):
        actor = world.actors[name]
        with pytest.raises(NotFound):
            agenda.add_typed_issues(platform, actor, d, "Water: shared; split")
        with pytest.raises(NotFound):
            agenda.import_agenda(platform, actor, d, "x.yaml", b"not even read")
        with pytest.raises(NotFound):
            agenda.move_issue(platform, actor, d, world.issues[0], 1)


def test_editing_and_reordering_before_the_first_round(platform: Platform, world: World) -> None:
    f = world.actors["facilitator"]
    d = _fresh(platform, world)
    agenda.add_typed_issues(platform, f, d, "A: x; y\nB: p; q\nC: m; n")
    a, b, c = (i.id for i in dialogues.view(platform, f, d).agenda.issues)
    agenda.move_issue(platform, f, d, c, -1)
    agenda.move_issue(platform, f, d, a, -1)  # the first stays first
    agenda.edit_issue(platform, f, d, b, "Bee", "ordered", ["low", " ", "high"], "why")
    found = dialogues.view(platform, f, d).agenda.issues
    assert [(i.id, i.name) for i in found] == [(a, "A"), (c, "C"), (b, "Bee")]
    assert (found[2].kind, found[2].options, found[2].description) == (
        IssueKind.ORDERED,
        ["low", "high"],
        "why",
    )
    with pytest.raises(InputError, match="already has an issue named 'a'"):
        agenda.edit_issue(platform, f, d, b, "a", "unordered", ["1", "2"])
    with pytest.raises(InputError, match="needs at least two options"):
        agenda.edit_issue(platform, f, d, b, "Bee", "unordered", ["1"])
    with pytest.raises(InputError, match="unknown kind"):
        agenda.edit_issue(platform, f, d, b, "Bee", "numeric", ["1", "2"])
    rounds.open_round(platform, f, d)
    with pytest.raises(NotAllowedNow, match="only before the first round opens"):
        agenda.move_issue(platform, f, d, b, -1)
    with pytest.raises(NotAllowedNow, match="only before the first round opens"):
        agenda.edit_issue(platform, f, d, b, "Bee", "ordered", ["low", "high"])


def test_the_agenda_of_a_case_file_or_a_genius_domain_is_imported(
    platform: Platform, world: World
) -> None:
    f = world.actors["facilitator"]
    d = _fresh(platform, world)
    case = EXAMPLES / "jcpoa_2015.yaml"
    added = agenda.import_agenda(platform, f, d, case.name, case.read_bytes())
    issues = dialogues.view(platform, f, d).agenda.issues
    assert added == len(issues) > 2
    assert issues[0].name == "enrichment_level" and issues[0].kind is IssueKind.ORDERED
    domain = DOMAINS / "anac2010-Travel" / "travel_domain.xml"
    other = _fresh(platform, world)
    agenda.import_agenda(platform, f, other, domain.name, domain.read_bytes())
    names = [i.name for i in dialogues.view(platform, f, other).agenda.issues]
    assert names[:3] == ["Atmosphere", "Amusement", "Culinary"]
    with pytest.raises(InputError, match="already has an issue named 'Atmosphere'"):
        agenda.import_agenda(platform, f, other, domain.name, domain.read_bytes())


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.txt", b"Water: a; b", "'notes.txt' is not a case file"),
        ("big.yaml", b"#" * (agenda.MAX_CASE_BYTES + 1), "larger than 1,000,000 bytes"),
        ("empty.json", b"  \n", "'empty.json' is empty"),
        ("bad.yaml", b"title: t\nissues: [", "bad.yaml:2"),
        ("../../etc/case.yaml", b"title: [", "case.yaml:1"),
    ],
)
def test_a_file_that_is_not_a_case_is_refused_by_name_and_line(
    platform: Platform, world: World, name: str, data: bytes, message: str
) -> None:
    f = world.actors["facilitator"]
    with pytest.raises(InputError) as caught:
        agenda.import_agenda(platform, f, world.dialogue_id, name, data)
    assert message in str(caught.value)
    assert "/tmp" not in str(caught.value) and "backchannel-import" not in str(caught.value)


# ------------------------------------------------------------------ pages
def test_the_page_keeps_the_typed_agenda_and_names_the_line(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    f = clients("facilitator")
    d = world.dialogue_id
    text = "Water: shared; split\nAirspace: open"
    page = f.client.post(f"/d/{d}/issues/bulk", data={"csrf": f.csrf, "text": text})
    assert page.status_code == 422
    assert "line 2: an issue needs at least two options" in page.text
    assert ">Water: shared; split\nAirspace: open</textarea>" in page.text
    done = f.client.post(
        f"/d/{d}/issues/bulk",
        data={"csrf": f.csrf, "text": "Water: shared; split"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/d/{d}#agenda"
    assert "Water" in f.client.get(f"/d/{d}").text


def test_an_upload_is_imported_and_a_bad_one_explained(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    f = clients("facilitator")
    d = world.dialogue_id
    bad = f.client.post(
        f"/d/{d}/issues/import",
        data={"csrf": f.csrf},
        files={"file": ("agenda.yaml", b"title: [", "application/yaml")},
    )
    assert bad.status_code == 422 and "agenda.yaml:1" in bad.text
    missing = f.client.post(f"/d/{d}/issues/import", data={"csrf": f.csrf})
    assert missing.status_code == 422 and "no file was chosen" in missing.text
    case = EXAMPLES / "camp_david_1978.yaml"
    done = f.client.post(
        f"/d/{d}/issues/import",
        data={"csrf": f.csrf},
        files={"file": (case.name, case.read_bytes(), "application/yaml")},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text


def test_an_edit_refused_keeps_what_was_typed(
    platform: Platform, world: World, clients: Callable[[str], Browserless]
) -> None:
    d = _fresh(platform, world)
    f = clients("facilitator")
    agenda.add_typed_issues(platform, world.actors["facilitator"], d, "A: x; y")
    (issue,) = dialogues.view(platform, world.actors["facilitator"], d).agenda.issues
    form = {"csrf": f.csrf, "name": "Renamed", "kind": "ordered", "options": "only one"}
    page = f.client.post(f"/d/{d}/issues/{issue.id}/edit", data=form)
    assert page.status_code == 422
    assert "needs at least two options" in page.text
    assert 'value="Renamed"' in page.text and ">only one</textarea>" in page.text
    assert f'<details id="form-edit:{issue.id}" open>' in page.text
    moved = f.client.post(
        f"/d/{d}/issues/{issue.id}/move", data={"csrf": f.csrf, "direction": "up"}
    )
    assert moved.status_code == 200  # followed back to the agenda: nothing to move
