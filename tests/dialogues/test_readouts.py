"""Readouts: built from exactly what the audience may see, reviewed, signed, issued once.

One module-wide dialogue (round 1 evaluated and released, a plenary held with an agreed
record, a negotiating text), with canaries planted in every private place of side B: its
position's note, its notes of the meeting, its unreleased answer to a clause (wording and
comment), a caucus of its own with a record it asked to change. One PDF is rendered for
the module; the other tests render HTML.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import inspect
from typer.testing import CliRunner

from backchannel.cli import app as cli_app
from backchannel.cli import main as cli_main
from backchannel.errors import InputError, NotAllowedNow, NotFound
from backchannel.model.dialogue import Position, Unacceptable
from backchannel.model.readout import ALL, OBSERVERS, Page
from backchannel.model.text import Draft
from backchannel.reports import pdf, readout
from backchannel.services import (
    audit_log,
    evaluations,
    meetings,
    notes,
    positions,
    readouts,
    records,
    releases,
    rounds,
    text_views,
    texts,
)
from backchannel.storage import migrate, signatures
from backchannel.storage.db import make_engine
from backchannel.web.app import create_app
from conftest import World, build_world, close, make_settings

from .conftest import position_a, position_b, row_counts, sign_in

AT = datetime(2031, 1, 2, 12, 0, tzinfo=UTC)
"""The issue time of the readouts rendered here (after the plenary, before nothing else)."""
CANARY_NOTE = "CANARY-b-position-note-7f1"
CANARY_MEETING_NOTE = "CANARY-b-meeting-note-91c"
CANARY_WORDING = "CANARY-b-wording-5e2"
CANARY_COMMENT = "CANARY-b-comment-0aa"
CANARY_CAUCUS = "CANARY-b-caucus-record-3d9"
CANARY_CHANGES = "CANARY-b-changes-comment-c47"
CANARIES = (
    CANARY_NOTE,
    CANARY_MEETING_NOTE,
    CANARY_WORDING,
    CANARY_COMMENT,
    CANARY_CAUCUS,
    CANARY_CHANGES,
)
AGREED = "The parties discussed the water commission."
FRONTIER_CHART = 'aria-labelledby="frontier-t frontier-d"'
"""The released frontier's chart, as a readout draws it."""


@dataclass
class Talks:
    world: World
    text: str
    clauses: list[str]
    plenary: str
    caucus: str
    tmp: Path


def make_talks(tmp: Path) -> Talks:
    """The module's dialogue, in a database under ``tmp``."""
    from backchannel.services.platform import Platform

    platform = Platform.open(make_settings(tmp), upgrade=True)
    world = build_world(platform)
    p, f, d = platform, world.actors["facilitator"], world.dialogue_id
    a1, b1 = world.actors["a1"], world.actors["b1"]
    positions.save_position(p, a1, d, position_a(world))
    positions.save_position(p, b1, d, position_b(world, note=CANARY_NOTE))
    rounds.lock_round(p, f, d)
    evaluation = evaluations.evaluate(p, f, d)
    i1 = world.issues[0]
    releases.release(p, f, d, evaluation, world.delegation_a, "zone")
    releases.release(p, f, d, evaluation, world.delegation_a, "overlap", i1)
    releases.release(p, f, d, evaluation, world.delegation_b, "package", "nash")
    releases.release(p, f, d, evaluation, world.delegation_b, "zone")
    releases.release(p, f, d, evaluation, world.delegation_b, "frontier")
    releases.release(p, f, d, evaluation, OBSERVERS, "zone")
    plan = meetings.MeetingPlan(
        starts="2025-03-14T10:00", zone="Europe/Vienna", place="Vienna", issues=[world.issues[1]]
    )
    plenary = meetings.schedule(p, f, d, plan)
    records.write(p, f, d, plenary, AGREED)
    for member in (a1, b1):
        records.answer(p, member, d, plenary, 1, "confirmed")
    notes.save_note(p, b1, d, plenary, CANARY_MEETING_NOTE)
    caucus_plan = meetings.MeetingPlan(
        starts="2025-03-15T10:00",
        zone="UTC",
        format="caucus",
        online=True,
        sides=[world.delegation_b],
    )
    caucus = meetings.schedule(p, f, d, caucus_plan)
    records.write(p, f, d, caucus, CANARY_CAUCUS)
    records.answer(p, b1, d, caucus, 1, "changes", CANARY_CHANGES)
    text = texts.create_text(
        p, f, d, "Communiqué", [Draft(body="The parties meet."), Draft(body="Water is shared.")]
    )
    clauses = [c.clause.id for c in text_views.text_view(p, f, d, text).clauses]
    texts.respond(p, a1, d, text, 1, [(clauses[0], "agree", "", "")])
    texts.respond(p, b1, d, text, 1, [(clauses[1], "bracket", CANARY_WORDING, CANARY_COMMENT)])
    return Talks(world, text, clauses, plenary, caucus, tmp)


@pytest.fixture(scope="module")
def talks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Talks]:
    made = make_talks(tmp_path_factory.mktemp("readouts"))
    yield made
    close(made.world.platform)


def html_for(t: Talks, audience: str, language: str = "en") -> str:
    p, f, d = t.world.platform, t.world.actors["facilitator"], t.world.dialogue_id
    found = readouts.content(p, f, d, audience, language, now=AT)
    return readouts.render(found, readouts.Format.HTML, Page.A4).decode("utf-8")


def test_a_delegations_readout_holds_what_it_may_see_and_nothing_private(talks: Talks) -> None:
    page = html_for(talks, talks.world.delegation_a)
    assert "Agreement on the whole agenda is possible:" in page
    assert "Issue “Ceasefire” has overlap:" in page
    assert "A package for discussion" not in page  # released to B only
    assert AGREED in page and "Vienna" in page
    assert "On the agenda: Sanctions" in page  # the issue by name, never its id
    assert "The parties meet." in page and "Water is shared." in page
    assert "[agreed]" not in page  # B has not answered clause 1 as A sees it
    assert "[no answer]" in page
    for canary in CANARIES:
        assert canary not in page
    for name in ("A1", "B1", "Facilitator", "Side B"):  # no attribution, no other side named
        assert name not in page
    assert "dcterms.created" in page and "2031-01-02T12:00:00Z" in page


def test_the_other_side_and_the_observers_see_their_own(talks: Talks) -> None:
    side_b = html_for(talks, talks.world.delegation_b)
    assert "A package for discussion on the whole agenda:" in side_b
    assert "has overlap" not in side_b  # the overlap went to A only
    assert "[bracketed]" in side_b  # B's own answer, never its wording or comment
    assert CANARY_WORDING not in side_b and CANARY_COMMENT not in side_b
    assert CANARY_NOTE not in side_b and CANARY_MEETING_NOTE not in side_b
    assert CANARY_CAUCUS not in side_b  # asked to change: not agreed
    observers = html_for(talks, OBSERVERS)
    assert "Agreement on the whole agenda is possible:" in observers
    assert AGREED in observers  # an agreed plenary record
    assert "[no answer]" in observers and "[bracketed]" not in observers
    everyone = html_for(talks, ALL)
    assert "Agreement on the whole agenda is possible:" in everyone  # told to all three
    assert "has overlap" not in everyone and "A package" not in everyone
    # the frontier went to B only: B's readout draws it, nobody else's does
    assert FRONTIER_CHART in side_b and "The Pareto frontier of the evaluation:" in side_b
    for page in (html_for(talks, talks.world.delegation_a), observers, everyone):
        assert FRONTIER_CHART not in page and "Pareto frontier of the evaluation" not in page
        assert "it was not released to this audience" in page
    for page in (observers, everyone):
        for canary in CANARIES:
            assert canary not in page


def test_a_readout_speaks_russian(talks: Talks) -> None:
    page = html_for(talks, talks.world.delegation_a, "ru")
    assert 'lang="ru"' in page
    assert "Соглашение по всей повестке возможно" in page
    assert "Проведённые встречи" in page and "Meetings held" not in page
    side_b = html_for(talks, talks.world.delegation_b, "ru")
    assert FRONTIER_CHART in side_b and "Граница Парето" in side_b
    assert "Pareto" not in side_b


def test_the_api_gives_releases_in_the_callers_language_with_their_facts(talks: Talks) -> None:
    p, d = talks.world.platform, talks.world.dialogue_id
    b1 = sign_in(create_app(p.settings, p), "b1")
    url = f"/api/v1/dialogues/{d}/releases"
    english = b1.client.get(url, headers={"Accept-Language": "en"}).json()
    russian = b1.client.get(url, headers={"Accept-Language": "ru"}).json()
    assert [r["kind"] for r in russian] == ["package", "zone", "frontier"]
    assert [r["facts"] for r in russian] == [r["facts"] for r in english]
    package, zone, frontier = russian
    assert package["facts"] == {
        "version": 1,
        "kind": "package",
        "answer": None,
        "issue": None,
        "red_line": None,
        "partial": False,
        "red_lines_only": False,
    }
    assert zone["facts"]["answer"] in (True, False)
    assert english[1]["headline"].startswith("Agreement on the whole agenda is possible:")
    assert zone["headline"].startswith("Соглашение по всей повестке возможно")
    assert frontier["frontier"]["sides"] == ["Side A", "Side B"]
    assert frontier["frontier"]["points"] and frontier["headline"].startswith("Граница Парето")


def test_only_the_facilitator_drafts_or_issues(talks: Talks) -> None:
    p, d = talks.world.platform, talks.world.dialogue_id
    for name in ("a1", "b1", "observer", "outsider"):
        actor = talks.world.actors[name]
        with pytest.raises(NotFound):
            readouts.draft(p, actor, d, talks.world.delegation_a, "en")
        with pytest.raises(NotFound):
            readouts.issue(p, actor, d, ALL, "en", "html", "a4", "0" * 64)
    f = talks.world.actors["facilitator"]
    with pytest.raises(InputError, match="unknown audience"):
        readouts.draft(p, f, d, talks.world.absent, "en")
    with pytest.raises(InputError, match="Backchannel speaks"):
        readouts.draft(p, f, d, ALL, "xx")
    with pytest.raises(InputError, match="unknown format"):
        readouts.issue(p, f, d, ALL, "en", "docx", "a4", "0" * 64)


@pytest.fixture(scope="module")
def issued(talks: Talks) -> tuple[readouts.ReadoutLine, bytes]:
    """The module's one PDF: side A's readout on Letter paper."""
    p, f, d = talks.world.platform, talks.world.actors["facilitator"], talks.world.dialogue_id
    draft = readouts.draft(p, f, d, talks.world.delegation_a, "en", now=AT)
    line = readouts.issue(p, f, d, talks.world.delegation_a, "en", "pdf", "letter", draft.basis)
    found = readouts.fetch(p, talks.world.actors["a1"], d, line.id)
    return line, found.data


def test_an_issued_pdf_is_signed_letter_sized_and_holds_only_its_audiences_text(
    talks: Talks, issued: tuple[readouts.ReadoutLine, bytes]
) -> None:
    line, data = issued
    reader = PdfReader(io.BytesIO(data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # Letter
    words = " ".join(page.extract_text() for page in reader.pages)
    assert "Agreement on the whole agenda is possible" in words
    assert "The parties meet." in words
    for canary in CANARIES:
        assert canary not in words
        assert canary.encode() not in data
    key = readouts.public_key(talks.world.platform)
    path = talks.tmp / "readout.pdf"
    path.write_bytes(data)
    checked = readouts.verify_file(path, key)
    assert checked.ok and checked.kind == "pdf" and checked.fingerprint == line.fingerprint
    for where in (100, len(data) // 2, len(data) - 150):  # one changed byte, anywhere
        altered = bytearray(data)
        altered[where] ^= 0x01
        path.write_bytes(bytes(altered))
        assert not readouts.verify_file(path, key).ok


def test_a4_and_cyrillic_in_a_pdf() -> None:
    from backchannel.i18n import translations
    from backchannel.model.readout import ReadoutContent

    found = ReadoutContent("Переговоры", ALL, "", "ru", "2031-01-02T12:00:00Z")
    say = translations("ru")
    page = readout.document(found, lambda m: m.render(say), Page.A4)
    made = pdf.to_pdf(page)
    assert pdf.to_pdf(page) == made  # deterministic: no clock, no random identifier
    reader = PdfReader(io.BytesIO(made))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    assert "Переговоры" in reader.pages[0].extract_text()
    assert reader.metadata is not None
    assert reader.metadata.get("/CreationDate", "").startswith("D:20310102120000")


def test_a_pdf_never_fetches_a_url() -> None:
    page = b'<html><body><img src="http://127.0.0.1:9/x.png"><p>x</p></body></html>'
    with pytest.raises(pdf.RefusedFetch, match=r"127\.0\.0\.1"):
        pdf.to_pdf(page)
    inline = b'<html><body><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></body></html>'
    assert pdf.to_pdf(inline).startswith(b"%PDF")


def test_reading_issued_readouts_by_audience(
    talks: Talks, issued: tuple[readouts.ReadoutLine, bytes]
) -> None:
    line, _ = issued
    p, d, actors = talks.world.platform, talks.world.dialogue_id, talks.world.actors
    assert [r.id for r in readouts.readouts(p, actors["a1"], d)].count(line.id) == 1
    assert line.id in [r.id for r in readouts.readouts(p, actors["facilitator"], d)]
    for name in ("b1", "observer"):
        assert line.id not in [r.id for r in readouts.readouts(p, actors[name], d)]
        with pytest.raises(NotFound):
            readouts.fetch(p, actors[name], d, line.id)
    with pytest.raises(NotFound):
        readouts.readouts(p, actors["outsider"], d)
    every = readouts.readouts(p, actors["facilitator"], d)
    for name, side in (("a1", talks.world.delegation_a), ("b1", talks.world.delegation_b)):
        told = [e for e in audit_log.entries(p, actors[name], d) if e.action == "readout.issued"]
        assert len(told) == len([r for r in every if r.audience in (side, ALL)]), name


def test_an_issued_readout_is_sealed_at_rest(
    talks: Talks, issued: tuple[readouts.ReadoutLine, bytes]
) -> None:
    _, data = issued
    database = talks.tmp / "backchannel.db"
    talks.world.platform.engine.dispose()  # the WAL checkpointed into the file
    raw = database.read_bytes() + b"".join(
        path.read_bytes() for path in talks.tmp.glob("backchannel.db-*")
    )
    assert b"backchannel-signature" not in raw and data[-120:] not in raw
    assert b"%PDF" not in raw and b"Readout:" not in raw


def test_issuing_twice_gives_one_readout_and_a_stale_review_is_refused(
    talks: Talks, issued: tuple[readouts.ReadoutLine, bytes]
) -> None:
    line, _ = issued
    p, f, d = talks.world.platform, talks.world.actors["facilitator"], talks.world.dialogue_id
    draft = readouts.draft(p, f, d, talks.world.delegation_a, "en")
    again = readouts.issue(p, f, d, talks.world.delegation_a, "en", "pdf", "letter", draft.basis)
    assert again.id == line.id
    with pytest.raises(NotAllowedNow, match="changed since you reviewed"):
        readouts.issue(p, f, d, talks.world.delegation_a, "en", "pdf", "letter", "0" * 64)


def test_two_readouts_issued_in_one_second_are_listed_newest_first(talks: Talks) -> None:
    """The document says the second; the list orders by the moment itself (a page listing
    "newest first" once showed two issued in one second in either order)."""
    p, f, d = talks.world.platform, talks.world.actors["facilitator"], talks.world.dialogue_id
    side = talks.world.delegation_b
    draft = readouts.draft(p, f, d, side, "en")
    second = datetime(2031, 5, 4, 10, 0, 0, tzinfo=UTC)
    made = [
        readouts.issue(p, f, d, side, "en", form, "a4", draft.basis, now=second + offset)
        for form, offset in (("html", timedelta(microseconds=900_000)), ("pdf", timedelta(0)))
    ]
    listed = [r.id for r in readouts.readouts(p, f, d) if r.id in {m.id for m in made}]
    assert listed == [made[0].id, made[1].id]  # the html, issued later in the second, first
    assert all(m.issued_at.replace(microsecond=0) == second for m in made)


# ------------------------------------------------------------------ the property
OPTIONS = {0: ["none", "partial", "full"], 1: ["keep", "ease", "lift"]}


@st.composite
def private_inputs_of_b(draw: st.DrawFn) -> dict[str, object]:
    """Anything side B may do in private: positions saved (any number of times, any
    content), notes of the meeting, answers to the text that are not released."""
    saves = draw(st.integers(min_value=1, max_value=3))
    return {
        "positions": [
            {
                "importance": draw(st.lists(st.integers(1, 5), min_size=2, max_size=2)),
                "rating": draw(st.integers(0, 100)),
                "forbid": draw(st.sampled_from(["none", "partial", "full"])),
                "note": draw(st.text(max_size=30)),
            }
            for _ in range(saves)
        ],
        "meeting_note": draw(st.text(max_size=40)),
        "answer": draw(st.sampled_from(["agree", "bracket", "reject", "ad_referendum"])),
        "wording": draw(st.text(min_size=1, max_size=30).filter(lambda s: s.strip())),
        "comment": draw(st.text(max_size=30)),
    }


def apply_b(t: Talks, inputs: dict[str, object]) -> None:
    p, d, b1 = t.world.platform, t.world.dialogue_id, t.world.actors["b1"]
    i1, i2 = t.world.issues
    for item in inputs["positions"]:  # type: ignore[attr-defined]
        first, second = item["importance"]
        position = Position(
            importance={i1: first, i2: second},
            ratings={i1: {"none": item["rating"]}, i2: {"lift": 100 - item["rating"]}},
            unacceptable=[Unacceptable(issue=i1, option=item["forbid"])],
            note=item["note"],
        )
        positions.save_position(p, b1, d, position)
    notes.save_note(p, b1, d, t.plenary, str(inputs["meeting_note"]))
    answer = str(inputs["answer"])
    wording = str(inputs["wording"]) if answer == "bracket" else ""
    current = text_views.text_view(p, t.world.actors["facilitator"], d, t.text).version
    texts.respond(
        p, b1, d, t.text, current, [(t.clauses[1], answer, wording, str(inputs["comment"]))]
    )


@pytest.fixture(scope="module")
def round_two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Talks]:
    """A dialogue of its own with round 2 open as a draft: side B's private inputs no
    longer change any release."""
    made = make_talks(tmp_path_factory.mktemp("round-two"))
    world = made.world
    rounds.open_round(world.platform, world.actors["facilitator"], world.dialogue_id)
    yield made
    close(world.platform)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(inputs=private_inputs_of_b())
def test_a_readout_for_a_is_byte_identical_whatever_b_does_in_private(
    round_two: Talks, inputs: dict[str, object]
) -> None:
    before = {a: html_for(round_two, a) for a in (round_two.world.delegation_a, OBSERVERS)}
    apply_b(round_two, inputs)
    for audience, page in before.items():
        assert html_for(round_two, audience) == page


def test_the_property_catches_a_readout_made_from_the_facilitators_view(
    round_two: Talks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Negative control: a readout built from the facilitator's view (every side's answers)
    changes with B's private answer, so the comparison above can fail."""
    monkeypatch.setattr(readouts, "_seats", lambda place, audience, sides: [place])
    quiet = {"positions": [], "meeting_note": "", "wording": "x", "comment": ""}
    apply_b(round_two, {**quiet, "answer": "agree"})
    before = html_for(round_two, round_two.world.delegation_a)
    apply_b(round_two, {**quiet, "answer": "reject"})
    assert html_for(round_two, round_two.world.delegation_a) != before


# ------------------------------------------------------------------ web, API, CLI
def test_the_page_flow_reviews_then_issues_once(talks: Talks) -> None:
    p, d = talks.world.platform, talks.world.dialogue_id
    app = create_app(p.settings, p)
    f = sign_in(app, "facilitator")
    listing = f.client.get(f"/d/{d}/readouts")
    assert listing.status_code == 200 and "Draft a readout" in listing.text
    review = f.client.get(
        f"/d/{d}/readouts/draft",
        params={"audience": OBSERVERS, "language": "en", "format": "html", "page": "a4"},
    )
    assert review.status_code == 200 and "Issue this readout" in review.text
    assert AGREED in review.text
    assert (
        "<svg" in review.text and "<style>" not in review.text
    )  # the page's policy: no inline style
    issue_form = review.text.split('action="/d/' + d + '/readouts">')[1].split("</form>")[0]
    form = dict(re.findall(r'name="([a-z]+)" value="([^"]*)"', issue_form))
    assert form["audience"] == OBSERVERS and len(form["basis"]) == 64
    before = len(readouts.readouts(p, talks.world.actors["facilitator"], d))
    sent = f.client.post(f"/d/{d}/readouts", data=form, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    again = f.client.post(f"/d/{d}/readouts", data=form, follow_redirects=False)
    assert again.status_code == 409  # the same form again: done already, nothing issued
    assert len(readouts.readouts(p, talks.world.actors["facilitator"], d)) == before + 1
    observer = sign_in(app, "observer")
    mine = observer.client.get(f"/api/v1/dialogues/{d}/readouts").json()
    assert len(mine) >= 1
    got = observer.client.get(f"/d/{d}/readouts/{mine[0]['id']}")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/html")
    assert "attachment" in got.headers["content-disposition"]
    assert "<style>svg.chart" in got.text  # the file keeps its charts' own style
    assert got.headers["x-readout-fingerprint"] == mine[0]["fingerprint"]
    fresh = f.client.get(f"/d/{d}/readouts/draft", params={"audience": OBSERVERS}).text
    fresh_form = fresh.split('action="/d/' + d + '/readouts">')[1].split("</form>")[0]
    stale = dict(re.findall(r'name="([a-z]+)" value="([^"]*)"', fresh_form), basis="0" * 64)
    refused = f.client.post(f"/d/{d}/readouts", data=stale)
    assert refused.status_code == 409 and "changed since you reviewed" in refused.text


def test_the_api_issues_with_an_idempotency_key(talks: Talks) -> None:
    p, d = talks.world.platform, talks.world.dialogue_id
    app = create_app(p.settings, p)
    f = sign_in(app, "facilitator")
    base = f"/api/v1/dialogues/{d}/readouts"
    draft = f.client.get(f"{base}/draft", params={"audience": ALL, "language": "ru"}).json()
    body = {
        "audience": ALL,
        "language": "ru",
        "format": "html",
        "page": "a4",
        "basis": draft["basis"],
    }
    headers = {"X-CSRF-Token": f.csrf, "Idempotency-Key": "readout-1"}
    first = f.client.post(base, json=body, headers=headers)
    second = f.client.post(base, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    key = f.client.get("/api/v1/readouts/public-key").json()["key"]
    assert key == readouts.public_key(p)
    a2 = sign_in(app, "a2")
    data = a2.client.get(f"{base}/{first.json()['id']}").content
    assert signatures.verify(data, signatures.parse_public(key) or b"").ok
    assert a2.client.get(f"{base}/draft", params={"audience": ALL}).status_code == 404
    bad = f.client.post(base, json=dict(body, audience="nobody"), headers={"X-CSRF-Token": f.csrf})
    assert bad.status_code == 422 and "unknown audience" in bad.text


def test_the_cli_verifies_a_readout_offline(
    talks: Talks, issued: tuple[readouts.ReadoutLine, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    line, data = issued
    settings = talks.world.platform.settings
    path = talks.tmp / "cli.pdf"
    path.write_bytes(data)
    runner = CliRunner()
    env = {"BACKCHANNEL_KEY_FILE": str(settings.key_file)}
    key = runner.invoke(cli_app, ["readout", "public-key"], env=env)
    assert key.exit_code == 0, key.output
    printed = key.output.strip()
    assert printed == readouts.public_key(talks.world.platform)
    ok = runner.invoke(cli_app, ["readout", "verify", str(path), "--key", printed])
    assert ok.exit_code == 0 and line.fingerprint in ok.output
    pinned = talks.tmp / "server.pub"
    pinned.write_text(printed + "\n")
    from_file = runner.invoke(cli_app, ["readout", "verify", str(path), "--key", str(pinned)])
    assert from_file.exit_code == 0, from_file.output
    own = runner.invoke(cli_app, ["readout", "verify", str(path)], env=env)  # the server's key
    assert own.exit_code == 0 and "readout intact" in own.output
    assert cli_main(["readout", "verify", str(path), "--key", "nonsense"]) == 2  # bad input
    assert "neither a public key" in capsys.readouterr().err
    assert cli_main(["readout", "verify", str(talks.tmp / "no.pdf"), "--key", printed]) == 2
    assert "not found" in capsys.readouterr().err
    altered = bytearray(data)
    altered[len(data) // 3] ^= 0x20
    path.write_bytes(bytes(altered))
    bad = runner.invoke(cli_app, ["readout", "verify", str(path), "--key", printed])
    assert bad.exit_code == 1 and "does not match" in bad.output
    other = runner.invoke(
        cli_app, ["readout", "verify", str(path), "--key", "ed25519:" + "A" * 43 + "="]
    )
    assert other.exit_code == 1 and "not by the trusted key" in other.output
    junk = talks.tmp / "junk.html"
    junk.write_text("<html></html>\n")
    assert (
        "signature line"
        in runner.invoke(cli_app, ["readout", "verify", str(junk), "--key", printed]).output
    )


# ------------------------------------------------------------------ migration 0012
def test_migration_0012_up_and_down_with_data(database_url: str, tmp_path: Path) -> None:
    from backchannel.services.platform import Platform

    settings = make_settings(tmp_path, database_url=database_url)
    platform = Platform.open(settings, upgrade=True)
    world = build_world(platform)
    f, d = world.actors["facilitator"], world.dialogue_id
    draft = readouts.draft(platform, f, d, OBSERVERS, "en")
    readouts.issue(platform, f, d, OBSERVERS, "en", "html", "a4", draft.basis)
    close(platform)
    engine = make_engine(database_url)
    before = row_counts(engine)
    assert before["readouts"] == 1
    migrate.downgrade(engine, "0011")
    left = set(inspect(engine).get_table_names())
    assert "readouts" not in left
    kept = {t: n for t, n in row_counts(engine).items() if t in left}
    assert kept == {t: n for t, n in before.items() if t in left}
    migrate.upgrade(engine)
    assert row_counts(engine)["readouts"] == 0 and migrate.current(engine) == migrate.head()
    engine.dispose()


def test_the_signature_line_is_the_files_last_line_and_nothing_else_verifies() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from backchannel.storage.checkpoints import Signer

    signer = Signer(Ed25519PrivateKey.generate())
    content = b"<!DOCTYPE html>\n<html><body>x</body></html>\n"
    signed = signatures.sign(signer, "html", content)
    assert signed.startswith(content) and signed.count(b"\n") == content.count(b"\n") + 1
    assert signatures.verify(signed, signer.public).ok
    assert not signatures.verify(signed + b"\n", signer.public).ok  # appended
    assert not signatures.verify(signed.replace(b"x", b"y"), signer.public).ok
    as_pdf = signed.replace(b"<!-- backchannel", b"%backchannel").replace(b" -->", b"")
    assert not signatures.verify(as_pdf, signer.public).ok  # the format is signed too
