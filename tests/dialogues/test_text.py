"""The single negotiating text through the services: drafting, versions, responses,
what each seat sees, releases, generation from a package, at-rest sealing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from backchannel.errors import InputError, NotAllowedNow, NotFound
from backchannel.model.text import Answer, Change, ClauseState, Draft
from backchannel.services import audit_log, evaluations, positions, rounds, text_views, texts
from backchannel.services.platform import Platform
from backchannel.services.releases import OBSERVERS
from backchannel.storage import migrate
from backchannel.storage.db import make_engine
from conftest import World, build_world, close, make_settings

from .conftest import Browserless, csrf_of, position_a, position_b, row_counts


def _draft(world: World, *bodies: str) -> str:
    drafts = [Draft(body=b) for b in bodies]
    f = world.actors["facilitator"]
    return texts.create_text(world.platform, f, world.dialogue_id, "Joint statement", drafts)


def _view(world: World, who: str, text_id: str) -> text_views.TextView:
    return text_views.text_view(world.platform, world.actors[who], world.dialogue_id, text_id)


def _answer(world: World, who: str, text_id: str, *answers: tuple[int, str, str, str]) -> None:
    view = _view(world, "facilitator", text_id)
    given = [(view.clauses[n - 1].clause.id, a, w, c) for n, a, w, c in answers]
    texts.respond(
        world.platform, world.actors[who], world.dialogue_id, text_id, view.version, given
    )


def _revise(world: World, text_id: str, *bodies: str | None) -> int:
    """A new version: clause n keeps its id; None drops it; extra bodies are new clauses."""
    view = _view(world, "facilitator", text_id)
    drafts = []
    for n, body in enumerate(bodies):
        if body is None:
            continue
        old = view.clauses[n].clause.id if n < len(view.clauses) else None
        drafts.append(Draft(id=old, body=body))
    f = world.actors["facilitator"]
    return texts.revise_text(world.platform, f, world.dialogue_id, text_id, view.version, drafts)


def test_a_text_through_two_versions_until_it_is_agreed(world: World) -> None:
    text_id = _draft(world, "The parties meet.", "They talk.", "They part.")
    _answer(world, "a1", text_id, (1, "agree", "", ""), (2, "agree", "", ""), (3, "reject", "", ""))
    _answer(
        world,
        "b1",
        text_id,
        (1, "agree", "", ""),
        (2, "ad_referendum", "", "ask Moscow"),
        (3, "bracket", "They part as friends.", ""),
    )
    view = _view(world, "facilitator", text_id)
    assert [c.state for c in view.clauses] == [
        ClauseState.AGREED,
        ClauseState.AD_REFERENDUM,
        ClauseState.REJECTED,
    ]
    assert not view.agreement.agreed
    assert [m.number for m in view.agreement.missing] == [2, 3]
    assert view.clauses[1].answers[world.delegation_b].comment == "ask Moscow"

    assert _revise(world, text_id, "The parties meet.", "They talk.", "They part as friends.") == 2
    view = _view(world, "facilitator", text_id)
    assert view.clauses[0].state is ClauseState.AGREED  # unchanged: the answers still count
    assert view.clauses[2].state is ClauseState.NO_ANSWER  # changed: the answers reset
    _answer(world, "a1", text_id, (3, "agree", "", ""))
    _answer(world, "b1", text_id, (2, "agree", "", ""), (3, "agree", "", ""))
    view = _view(world, "facilitator", text_id)
    assert view.agreement.agreed
    assert view.agreement.missing == ()
    # the history stays: version 1 still shows its own answers
    first = text_views.text_view(
        world.platform, world.actors["facilitator"], world.dialogue_id, text_id, 1
    )
    assert first.clauses[2].state is ClauseState.REJECTED


def test_a_member_sees_the_other_side_only_as_released(world: World) -> None:
    text_id = _draft(world, "One.", "Two.")
    _answer(world, "a1", text_id, (1, "agree", "", "our secret reason"))
    _answer(
        world, "b1", text_id, (1, "bracket", "Uno.", "their secret reason"), (2, "agree", "", "")
    )
    seen_by_a = _view(world, "a1", text_id)
    assert set(seen_by_a.clauses[0].answers) == {world.delegation_a}
    assert seen_by_a.clauses[0].answers[world.delegation_a].comment == "our secret reason"
    assert seen_by_a.clauses[1].state is ClauseState.NO_ANSWER
    assert _view(world, "observer", text_id).clauses[0].answers == {}

    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    text_views.release(p, f, d, text_id, world.delegation_b, 1, world.delegation_a)
    seen_by_a = _view(world, "a1", text_id)
    theirs = seen_by_a.clauses[0].answers[world.delegation_b]
    assert (theirs.answer, theirs.wording, theirs.comment, theirs.released) == (
        Answer.BRACKET,
        "Uno.",
        None,
        True,
    )
    assert seen_by_a.clauses[0].state is ClauseState.BRACKETED
    assert seen_by_a.releases[0].audience is None
    # side B sees nothing of side A, the observers nothing at all
    assert set(_view(world, "b1", text_id).clauses[0].answers) == {world.delegation_b}
    assert _view(world, "observer", text_id).clauses[0].answers == {}
    with pytest.raises(NotAllowedNow, match="already released"):
        text_views.release(p, f, d, text_id, world.delegation_b, 1, world.delegation_a)
    text_views.release(p, f, d, text_id, world.delegation_b, 1, OBSERVERS)
    assert _view(world, "observer", text_id).clauses[0].answers[world.delegation_b].comment is None


def test_releases_are_refused_where_they_make_no_sense(world: World) -> None:
    text_id = _draft(world, "One.")
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    with pytest.raises(NotAllowedNow, match="not responded"):
        text_views.release(p, f, d, text_id, world.delegation_a, 1, world.delegation_b)
    _answer(world, "a1", text_id, (1, "agree", "", ""))
    with pytest.raises(InputError, match="another delegation"):
        text_views.release(p, f, d, text_id, world.delegation_a, 1, world.delegation_a)
    with pytest.raises(InputError, match="another delegation"):
        text_views.release(p, f, d, text_id, world.delegation_a, 1, world.absent)
    with pytest.raises(NotFound):
        text_views.release(p, f, d, text_id, world.delegation_a, 7, world.delegation_b)
    with pytest.raises(NotFound):
        text_views.release(
            p, world.actors["a1"], d, text_id, world.delegation_a, 1, world.delegation_b
        )


def test_responses_are_checked(world: World) -> None:
    text_id = _draft(world, "One.")
    with pytest.raises(InputError, match="bracket needs the wording"):
        _answer(world, "a1", text_id, (1, "bracket", " ", ""))
    with pytest.raises(InputError, match="only a bracket"):
        _answer(world, "a1", text_id, (1, "agree", "Other.", ""))
    with pytest.raises(InputError, match="unknown answer"):
        _answer(world, "a1", text_id, (1, "maybe", "", ""))
    p, d = world.platform, world.dialogue_id
    with pytest.raises(InputError, match="not in this version"):
        texts.respond(p, world.actors["a1"], d, text_id, 1, [("nope", "agree", "", "")])
    with pytest.raises(NotFound):  # neither the facilitator nor an observer responds
        texts.respond(p, world.actors["facilitator"], d, text_id, 1, [])
    with pytest.raises(NotFound):
        texts.respond(p, world.actors["observer"], d, text_id, 1, [])
    _revise(world, text_id, "Uno.")
    with pytest.raises(NotAllowedNow, match="moved on to version 2"):
        texts.respond(p, world.actors["a1"], d, text_id, 1, [])


def test_only_the_facilitator_writes_the_text(world: World) -> None:
    p, d = world.platform, world.dialogue_id
    for who in ("a1", "b1", "observer", "outsider"):
        with pytest.raises(NotFound):
            texts.create_text(p, world.actors[who], d, "Mine", [Draft(body="x")])
    text_id = _draft(world, "One.")
    with pytest.raises(NotFound):
        texts.revise_text(p, world.actors["a1"], d, text_id, 1, [Draft(body="x")])
    with pytest.raises(NotFound):
        _view(world, "outsider", text_id)
    with pytest.raises(NotAllowedNow, match="moved on"):
        texts.revise_text(p, world.actors["facilitator"], d, text_id, 3, [Draft(body="x")])


def test_drafts_are_checked_against_the_agenda(world: World) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    i1 = world.issues[0]
    with pytest.raises(InputError, match="at least one clause"):
        texts.create_text(p, f, d, "Empty", [])
    with pytest.raises(InputError, match="not on the agenda"):
        texts.create_text(p, f, d, "T", [Draft(body="x", issue_id="nope")])
    with pytest.raises(InputError, match="option its issue does not have"):
        texts.create_text(p, f, d, "T", [Draft(body="x", issue_id=i1, option="maybe")])
    with pytest.raises(InputError, match="title"):
        texts.create_text(p, f, d, "  ", [Draft(body="x")])
    text_id = texts.create_text(p, f, d, "T", [Draft(body="x", issue_id=i1, option="full")])
    assert _view(world, "a1", text_id).clauses[0].clause.option == "full"


def test_versions_compare_word_by_word(world: World) -> None:
    text_id = _draft(world, "The parties shall meet.", "Gone soon.")
    _revise(world, text_id, "The parties may meet.", None, "New clause.")
    p, d = world.platform, world.dialogue_id
    diff = text_views.compare(p, world.actors["b1"], d, text_id, 1, 2)
    assert [(c.old, c.new) for c in diff] == [(1, 1), (None, 2), (2, None)]
    assert (Change.DELETED, "shall") in diff[0].pieces
    assert (Change.INSERTED, "may") in diff[0].pieces
    assert diff[1].pieces == ((Change.INSERTED, "New clause."),)
    with pytest.raises(NotFound):
        text_views.compare(p, world.actors["b1"], d, text_id, 1, 9)


def test_a_draft_from_the_recommended_package(world: World) -> None:
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    positions.save_position(p, world.actors["a1"], d, position_a(world))
    positions.save_position(p, world.actors["b1"], d, position_b(world))
    rounds.lock_round(p, f, d)
    evaluation_id = evaluations.evaluate(p, f, d)
    found = evaluations.evaluations(p, f, d)[0].findings
    rule, package = next(iter(found.packages.items()))
    text_id = texts.generate_text(p, f, d, evaluation_id, rule, "From the package")
    view = _view(world, "facilitator", text_id)
    assert [(c.clause.issue_id, c.clause.option) for c in view.clauses] == [
        (world.issues[0], package["Ceasefire"]),
        (world.issues[1], package["Sanctions"]),
    ]
    assert view.clauses[0].clause.body == f"Ceasefire: {package['Ceasefire']}."
    with pytest.raises(InputError, match="no package by the rule"):
        texts.generate_text(p, f, d, evaluation_id, "astrology", "Nope")
    with pytest.raises(NotFound):
        texts.generate_text(p, world.actors["a1"], d, evaluation_id, rule, "Mine")


def test_the_list_says_whether_each_text_is_agreed(world: World) -> None:
    text_id = _draft(world, "One.")
    _answer(world, "a1", text_id, (1, "agree", "", ""))
    _answer(world, "b1", text_id, (1, "agree", "", ""))
    p, d = world.platform, world.dialogue_id
    assert [(t.id, t.agreed) for t in text_views.texts(p, world.actors["facilitator"], d)] == [
        (text_id, True)
    ]
    assert [t.agreed for t in text_views.texts(p, world.actors["a1"], d)] == [False]


def test_texts_are_sealed_and_logged(world: World) -> None:
    canary = "CANARY-clause-7f3a"
    text_id = _draft(world, f"The {canary} clause.")
    _answer(world, "a1", text_id, (1, "bracket", "CANARY-wording-91b2", "CANARY-comment-c0de"))
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    text_views.release(p, f, d, text_id, world.delegation_a, 1, world.delegation_b)
    tables = ("texts", "text_versions", "text_responses", "text_releases", "audit_log")
    with p.engine.connect() as connection:
        raw = repr([list(connection.exec_driver_sql(f"SELECT * FROM {t}")) for t in tables])
    for secret in (canary, "CANARY-wording", "CANARY-comment", "Joint statement"):
        assert secret not in raw
    logged = [e.action for e in audit_log.entries(p, f, d)]
    assert {"text.created", "text.responded", "text.released"} <= set(logged)
    # side B's log does not show that side A responded
    assert "text.responded" not in [e.action for e in audit_log.entries(p, world.actors["b1"], d)]


# ------------------------------------------------------------------ the JSON API
def test_the_api_carries_a_text_from_draft_to_agreement(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    base = f"/api/v1/dialogues/{world.dialogue_id}/texts"
    f, a1, b1 = clients("facilitator"), clients("a1"), clients("b1")

    def post(who: Browserless, url: str, body: dict[str, Any], method: str = "POST") -> Any:
        response = who.client.request(method, url, json=body, headers={"X-CSRF-Token": who.csrf})
        assert response.status_code in (200, 201), response.text
        return response.json()

    made = post(f, base, {"title": "Communiqué", "clauses": [{"body": "One."}, {"body": "Two."}]})
    text_url = f"{base}/{made['id']}"
    text = f.client.get(text_url).json()
    ids = [c["id"] for c in text["clauses"]]
    for who in (a1, b1):
        post(
            who,
            text_url + "/responses",
            {
                "version": 1,
                "responses": [{"clause_id": i, "answer": "agree"} for i in ids],
            },
        )
    assert f.client.get(text_url).json()["agreed"] is True
    post(
        f,
        text_url,
        {
            "based_on": 1,
            "clauses": [{"id": ids[0], "body": "One, amended."}, {"id": ids[1], "body": "Two."}],
        },
        "PUT",
    )
    text = f.client.get(text_url).json()
    assert text["agreed"] is False
    assert text["missing"] == [
        {"number": 1, "state": "no_answer", "side_ids": [world.delegation_a, world.delegation_b]}
    ]
    diff = a1.client.get(text_url + "/diff", params={"from": 1, "to": 2}).json()
    assert diff[0]["pieces"] == [
        {"change": "deleted", "text": "One."},
        {"change": "inserted", "text": "One, amended."},
    ]
    release = {"side_id": world.delegation_a, "version": 1, "audience": world.delegation_b}
    post(f, text_url + "/releases", release)
    again = f.client.post(text_url + "/releases", json=release, headers={"X-CSRF-Token": f.csrf})
    assert again.status_code == 409
    seen = b1.client.get(text_url, params={"version": 1}).json()
    assert {a["side_id"] for a in seen["clauses"][0]["answers"]} == {
        world.delegation_a,
        world.delegation_b,
    }
    assert a1.client.get(base).json() == [
        {"id": made["id"], "title": "Communiqué", "version": 2, "agreed": False}
    ]


def test_the_api_refuses_bad_responses_with_a_clear_message(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    text_id = _draft(world, "One.")
    clause = _view(world, "a1", text_id).clauses[0].clause.id
    a1 = clients("a1")
    response = a1.client.post(
        f"/api/v1/dialogues/{world.dialogue_id}/texts/{text_id}/responses",
        json={"version": 1, "responses": [{"clause_id": clause, "answer": "bracket"}]},
        headers={"X-CSRF-Token": a1.csrf},
    )
    assert response.status_code == 422
    assert "bracket needs the wording" in response.json()["error"]


# ------------------------------------------------------------------ the pages
def _form(
    who: Browserless, url: str, page: str, fields: dict[str, str] | list[tuple[str, str]]
) -> Any:
    token = csrf_of(who.client.get(page).text)
    items = list(fields.items()) if isinstance(fields, dict) else list(fields)
    data: dict[str, list[str]] = {"csrf": [token]}
    for key, value in items:
        data.setdefault(key, []).append(value)
    return who.client.post(url, data=data, follow_redirects=False)


def test_the_pages_carry_a_text_through_responses_a_version_and_a_release(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    d = f"/d/{world.dialogue_id}"
    f, a1, b1 = clients("facilitator"), clients("a1"), clients("b1")
    made = _form(
        f,
        f"{d}/texts",
        f"{d}/texts",
        [
            ("title", "Communiqué"),
            ("clause", "The parties *meet* <script>x</script>."),
            ("clause", "- first\n- second"),
            ("clause", ""),
        ],
    )
    assert made.status_code == 303
    page = made.headers["location"]
    text_id = page.rsplit("/", 1)[1]
    html = f.client.get(page).text
    assert "<em>meet</em> &lt;script&gt;x&lt;/script&gt;." in html
    assert "<ul><li>first</li><li>second</li></ul>" in html
    assert "Not agreed: nothing is agreed until everything is agreed." in html
    clauses = [c.clause.id for c in _view(world, "a1", text_id).clauses]
    # a bracket without wording: refused beside clause 1, with what was typed kept
    typed = [
        ("version", "1"),
        (f"answer:{clauses[0]}", "bracket"),
        (f"comment:{clauses[0]}", "our typed comment"),
        (f"answer:{clauses[1]}", "agree"),
    ]
    refused = _form(a1, f"{page}/responses", page, typed)
    assert refused.status_code == 422
    fieldset = refused.text.split('id="respond-1"')[1].split("</fieldset>")[0]
    assert "a bracket needs the wording your side proposes" in fieldset
    assert "our typed comment" in fieldset
    assert 'value="bracket" checked' in fieldset
    typed[1] = (f"answer:{clauses[0]}", "agree")
    recorded = _form(a1, f"{page}/responses", page, typed)  # post/redirect/get
    assert recorded.status_code == 303 and recorded.headers["location"] == page
    assert "Your responses are recorded." in a1.client.get(page).text
    assert "Your responses are recorded." not in a1.client.get(page).text  # shown once
    both = [("version", "1"), *((f"answer:{c}", "agree") for c in clauses)]
    assert _form(b1, f"{page}/responses", page, both).status_code == 303
    assert "Agreed: every clause is agreed by every side." in f.client.get(page).text
    # a member sees the other side's answers only once released
    assert "<strong>Side B</strong>" not in a1.client.get(page).text
    release = {"side": world.delegation_b, "version": "1", "audience": world.delegation_a}
    assert _form(f, f"{page}/releases", page, release).status_code == 303
    again = _form(f, f"{page}/releases", page, release)
    assert again.status_code == 409 and "already released" in again.text
    assert (
        '<strong>Side B</strong>: agree <span class="tag">released</span>'
        in a1.client.get(page).text
    )
    # the next version: clause 1 reworded, clause 2 removed, a new clause 3
    edit = f"{page}/edit"
    rows = [
        ("based_on", "1"),
        ("id", clauses[0]),
        ("body", "The parties meet often."),
        ("link", ""),
        ("id", clauses[1]),
        ("body", ""),
        ("link", ""),
        ("id", ""),
        ("body", "A new clause."),
        ("link", f"option:{world.issues[0]}:full"),
    ]
    assert _form(f, edit, edit, rows).status_code == 303
    stale = _form(f, edit, edit, rows)
    assert stale.status_code == 409 and "The parties meet often." in stale.text
    diff = a1.client.get(f"{page}/diff", params={"from": 1, "to": 2}).text
    deleted = '<del><span class="cue">deleted:</span> &lt;script&gt;x&lt;/script&gt;.</del>'
    assert deleted in diff
    assert '<ins><span class="cue">inserted:</span> often.</ins>' in diff
    assert "(removed)" in diff and "(new)" in diff
    assert a1.client.get(edit).status_code == 404
    log = f.client.get(f"{d}/log").text
    for label in ("negotiating text drafted", "new version of a negotiating text"):
        assert label in log
    assert clients("outsider").client.get(page).status_code == 404


def test_the_text_page_speaks_russian(world: World, clients: Callable[[str], Browserless]) -> None:
    text_id = _draft(world, "One.")
    _answer(world, "a1", text_id, (1, "reject", "", ""))
    page = f"/d/{world.dialogue_id}/texts/{text_id}"
    russian = {"Accept-Language": "ru"}
    html = clients("facilitator").client.get(page, headers=russian).text
    assert "Не согласовано: ничто не согласовано, пока не согласовано всё." in html
    assert "Пункт 1" in html and "отклонено" in html
    a1 = clients("a1")
    token = csrf_of(a1.client.get(page).text)
    clause = _view(world, "a1", text_id).clauses[0].clause.id
    form = {"csrf": token, "version": "1", f"answer:{clause}": "bracket"}
    refused = a1.client.post(f"{page}/responses", data=form, headers=russian)
    assert refused.status_code == 422
    assert "для заключения в скобки нужна формулировка" in refused.text


# ------------------------------------------------------------------ migration 0009
def test_migration_0009_up_and_down_with_data(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url=database_url)
    platform = Platform.open(settings, upgrade=True)
    world = build_world(platform)
    text_id = _draft(world, "One.")
    _answer(world, "a1", text_id, (1, "agree", "", "fine"))
    close(platform)

    engine = make_engine(database_url)
    before = row_counts(engine)
    assert before["texts"] == before["text_versions"] == before["text_responses"] == 1
    migrate.downgrade(engine, "0008")
    left = set(inspect(engine).get_table_names())
    assert not {"texts", "text_versions", "text_responses", "text_releases"} & left
    others = {k: v for k, v in before.items() if not k.startswith("text")}
    assert {k: v for k, v in row_counts(engine).items() if not k.startswith("text")} == others
    migrate.upgrade(engine)
    assert row_counts(engine) == {**before, "texts": 0, "text_versions": 0, "text_responses": 0}
    engine.dispose()
    platform = Platform.open(settings)
    p, f, d = platform, world.actors["facilitator"], world.dialogue_id
    assert text_views.texts(p, f, d) == []
    made = texts.create_text(p, f, d, "Again", [Draft(body="Two.")])
    assert text_views.text_view(p, f, d, made).clauses[0].clause.body == "Two."
    close(platform)
