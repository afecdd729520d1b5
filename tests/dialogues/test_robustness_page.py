"""Issue 14 §4 on the facilitator's analysis page and the JSON API: how robust is an
evaluation's recommendation?

* The page and the API give the figures of the service, which sweeps exactly the inputs
  the evaluation read (the same as :func:`robustness_of_round` on those inputs), so a
  later change of the positions or the agenda changes nothing for an earlier evaluation.
* Only the facilitator may run it (everyone else: 404, like a missing evaluation); every
  run is in every side's log.
* Bad input is a 422 that keeps the form as typed, the message beside its field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from babel.numbers import format_decimal
from sqlalchemy import inspect, text

from backchannel.errors import NotAllowedNow, NotFound
from backchannel.model.dialogue import Position, Side, prune
from backchannel.model.results import SettlementRule
from backchannel.services import audit_log, dialogues, evaluations, positions, rounds
from backchannel.services.evaluation_robustness import SEED, check
from backchannel.services.platform import Platform
from backchannel.services.robustness import RobustnessResult, robustness_of_round
from backchannel.storage import migrate
from backchannel.storage.db import make_engine
from conftest import World, build_world, close, make_settings

from .conftest import Browserless, position_a, position_b, row_counts

Clients = Callable[[str], Browserless]
SAMPLES = 60


def evaluated(world: World) -> str:
    """Round 1 with both positions, locked and evaluated; the evaluation's id."""
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    positions.save_position(p, world.actors["a1"], d, position_a(world))
    positions.save_position(p, world.actors["b1"], d, position_b(world))
    rounds.lock_round(p, f, d)
    return evaluations.evaluate(p, f, d)


def run(world: World, evaluation_id: str, rule: SettlementRule = SettlementRule.NASH) -> Any:
    return check(
        world.platform,
        world.actors["facilitator"],
        world.dialogue_id,
        evaluation_id,
        rule=rule,
        noise=5,
        samples=SAMPLES,
    )


def figures(result: RobustnessResult) -> dict[str, Any]:
    """What the page and the API report of a result, comparable across them."""
    problem = result.problem
    return {
        "packages": [
            (None if s.package is None else problem.package_labels(s.package), s.count)
            for s in result.packages
        ],
        "issues": [(s.issue, s.option, s.share) for s in result.issues],
        "threshold": result.threshold,
        "smallest_change": result.smallest_change,
        "recommendation": problem.package_labels(result.recommendation.package or ()),
    }


def api_figures(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "packages": [(p["package"], p["count"]) for p in body["packages"]],
        "issues": [(s["issue"], s["option"], s["stable_share"]) for s in body["issues"]],
        "recommendation": body["recommendation"],
    }


def number(value: float, places: int, language: str = "en") -> str:
    """A figure as the page prints it: rounded, in the page's language."""
    return format_decimal(round(value, places), locale=language)


def post_page(b: Browserless, d: str, evaluation_id: str, **form: str) -> Any:
    return b.client.post(
        f"/d/{d}/evaluations/{evaluation_id}/robustness", data={"csrf": b.csrf, **form}
    )


def post_api(b: Browserless, d: str, evaluation_id: str, **body: Any) -> Any:
    return b.client.post(
        f"/api/v1/dialogues/{d}/evaluations/{evaluation_id}/robustness",
        json=body,
        headers={"X-CSRF-Token": b.csrf},
    )


def test_the_service_sweeps_the_evaluations_own_inputs(world: World) -> None:
    evaluation = evaluated(world)
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    agenda = dialogues.view(p, f, d).agenda
    sides = [
        Side(name="Side A", position=prune(agenda, position_a(world))),
        Side(name="Side B", position=prune(agenda, position_b(world))),
        Side(name="Absent Z", absent=True, position=Position()),
    ]
    direct = robustness_of_round(
        agenda,
        sides,
        "Channel talks",
        rule=SettlementRule.NASH,
        noise=5,
        samples=SAMPLES,
        seed=SEED,
    )
    found = run(world, evaluation)
    assert found.evaluation_id == evaluation and found.round_number == 1
    assert figures(found.result) == figures(direct)
    assert found.result.samples == SAMPLES and found.result.runner == "1 process(es)"


def test_the_page_and_the_api_give_the_services_figures(world: World, clients: Clients) -> None:
    evaluation = evaluated(world)
    d = world.dialogue_id
    f = clients("facilitator")
    analysis = f.client.get(f"/d/{d}/analysis").text
    assert f'action="/d/{d}/evaluations/{evaluation}/robustness"' in analysis
    assert "How robust is this recommendation?" in analysis
    expected = run(world, evaluation, SettlementRule.WELFARE).result
    answer = post_api(f, d, evaluation, rule="welfare", noise=5, samples=SAMPLES)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    want = figures(expected)
    assert api_figures(body) == {k: want[k] for k in ("packages", "issues", "recommendation")}
    assert body["stable_share"] == expected.stable_share
    assert body["seed"] == SEED and body["round"] == 1 and body["evaluation_id"] == evaluation
    change = body["smallest_change"]
    assert expected.threshold is not None
    assert change["kind"] in ("exact", "never")  # welfare's threshold is computed exactly
    assert change["points"] == expected.threshold.points
    page = post_page(f, d, evaluation, rule="welfare", noise="5", samples=str(SAMPLES))
    assert page.status_code == 200, page.text
    html = unescape(page.text)
    assert f"The recommendation stays in {number(100 * expected.stable_share, 1)} %" in html
    for issue in expected.issues:
        assert re.search(
            rf"<td>{re.escape(issue.issue)}</td><td>{re.escape(issue.option)}</td>"
            rf"<td>{number(100 * issue.share, 1)} %</td>",
            html,
        )
    if change["kind"] == "exact":
        assert f"{number(change['points'], 3)} points (exact)" in html
    assert "Exact: the largest move of every rating" in html  # each term explained
    assert f'href="/d/{d}/analysis?evaluation={evaluation}#robustness"' in html


def test_a_later_change_of_positions_and_agenda_changes_nothing_for_an_earlier_evaluation(
    world: World, clients: Clients
) -> None:
    first = evaluated(world)
    p, f, d = world.platform, world.actors["facilitator"], world.dialogue_id
    before = post_api(clients("facilitator"), d, first, samples=SAMPLES).json()
    rounds.open_round(p, f, d)
    i1, i2 = world.issues
    dialogues.add_issue(p, f, d, "Observers", "unordered", ["yes", "no"])
    turned = Position(
        importance={i1: 1, i2: 1},
        ratings={i1: {"none": 100, "partial": 90}, i2: {"keep": 100, "ease": 95}},
    )
    positions.save_position(p, world.actors["a1"], d, turned)
    positions.save_position(p, world.actors["b1"], d, turned)
    rounds.lock_round(p, f, d)
    second = evaluations.evaluate(p, f, d)
    after = post_api(clients("facilitator"), d, first, samples=SAMPLES).json()
    newer = post_api(clients("facilitator"), d, second, samples=SAMPLES).json()
    for body in (before, after):
        body.pop("seconds")
    assert after == before
    assert newer["recommendation"] != before["recommendation"]  # the new inputs do differ
    assert "Observers" not in before["recommendation"]


@pytest.mark.parametrize("name", ["a1", "b1", "observer", "outsider"])
def test_everyone_but_the_facilitator_gets_not_found(
    world: World, clients: Clients, name: str
) -> None:
    evaluation = evaluated(world)
    d = world.dialogue_id
    who = clients(name)
    missing = post_api(who, d, "no-such-evaluation", samples=SAMPLES)
    assert post_api(who, d, evaluation, samples=SAMPLES).status_code == 404
    assert post_api(who, d, evaluation, samples=SAMPLES).json() == missing.json()
    assert post_page(who, d, evaluation, samples=str(SAMPLES)).status_code == 404
    with pytest.raises(NotFound):
        check(
            world.platform,
            world.actors[name],
            d,
            evaluation,
            rule=SettlementRule.NASH,
            noise=5,
            samples=SAMPLES,
        )
    f = clients("facilitator")
    assert post_api(f, d, "no-such-evaluation", samples=SAMPLES).status_code == 404
    log = audit_log.entries(world.platform, world.actors["facilitator"], d)
    assert "robustness.checked" not in [e.action for e in log]


def test_every_run_is_in_every_sides_log(world: World, clients: Clients) -> None:
    evaluation = evaluated(world)
    d = world.dialogue_id
    assert post_api(clients("facilitator"), d, evaluation, samples=SAMPLES).status_code == 200
    assert post_page(clients("facilitator"), d, evaluation, samples=str(SAMPLES)).status_code == 200
    for name in ("facilitator", "a1", "a2", "b1", "observer"):
        log = audit_log.entries(world.platform, world.actors[name], d)
        assert [e.action for e in log].count("robustness.checked") == 2, name
    page = clients("b1").client.get(f"/d/{d}/log").text
    assert "robustness of an evaluation checked" in page


@pytest.mark.parametrize(
    ("field", "typed", "says"),
    [
        ("noise", "50", "noise: 50 is outside 1 to 20"),
        ("noise", "five", "noise: &#39;five&#39; is not a whole number"),
        ("samples", "10", "samples: 10 is outside 50 to 1000"),
        ("rule", "median", "unknown rule &#39;median&#39;"),
    ],
)
def test_bad_input_is_a_422_that_keeps_the_form(
    world: World, clients: Clients, field: str, typed: str, says: str
) -> None:
    evaluation = evaluated(world)
    d = world.dialogue_id
    f = clients("facilitator")
    form = {"rule": "egalitarian", "noise": "7", "samples": "300", field: typed}
    page = post_page(f, d, evaluation, **form)
    assert page.status_code == 422
    html = page.text
    assert f'id="error-{field}"' in html and says in html
    for name in ("noise", "samples"):
        assert f'name="{name}" type="number" min="' in html
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(form[name])}"', html), name
    if field != "rule":
        assert '<option value="egalitarian" selected>' in html
    assert "The robustness was not checked." in html
    log = audit_log.entries(world.platform, world.actors["facilitator"], d)
    assert "robustness.checked" not in [e.action for e in log]


@pytest.mark.parametrize(
    "body",
    [{"noise": 50}, {"noise": 0}, {"samples": 10}, {"samples": 5000}, {"rule": "median"}, {"x": 1}],
)
def test_bad_api_input_is_a_422(world: World, clients: Clients, body: dict[str, Any]) -> None:
    evaluation = evaluated(world)
    answer = post_api(clients("facilitator"), world.dialogue_id, evaluation, **body)
    assert answer.status_code == 422
    assert "error" in answer.json()


def test_an_evaluation_made_before_its_inputs_were_kept_is_refused(
    world: World, clients: Clients
) -> None:
    evaluation = evaluated(world)
    with world.platform.engine.begin() as connection:
        connection.execute(
            text("UPDATE evaluations SET inputs_ct = NULL WHERE id = :e"), {"e": evaluation}
        )
    with pytest.raises(NotAllowedNow):
        run(world, evaluation)
    answer = post_api(clients("facilitator"), world.dialogue_id, evaluation, samples=SAMPLES)
    assert answer.status_code == 409
    assert "before the inputs of evaluations were kept" in answer.json()["error"]


def test_the_page_speaks_russian(world: World, clients: Clients) -> None:
    evaluation = evaluated(world)
    f, d = clients("facilitator"), world.dialogue_id
    ru = {"Accept-Language": "ru"}
    analysis = f.client.get(f"/d/{d}/analysis", headers=ru).text
    assert "Насколько устойчива эта рекомендация?" in analysis
    assert "How robust" not in analysis
    page = f.client.post(
        f"/d/{d}/evaluations/{evaluation}/robustness",
        data={"csrf": f.csrf, "samples": str(SAMPLES)},
        headers=ru,
    )
    assert page.status_code == 200
    assert "Рекомендация сохраняется в" in page.text and "Устойчивость по вопросам" in page.text
    assert "Решение Нэша" in page.text and "Nash" not in page.text  # the rule's name too
    refused = f.client.post(
        f"/d/{d}/evaluations/{evaluation}/robustness",
        data={"csrf": f.csrf, "noise": "50"},
        headers=ru,
    )
    assert refused.status_code == 422 and "шум: 50" in refused.text


# ------------------------------------------------------------------ migration 0011
def test_migration_0011_up_and_down_with_data(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url=database_url)
    platform = Platform.open(settings, upgrade=True)
    world = build_world(platform)
    evaluation = evaluated(world)
    close(platform)

    engine = make_engine(database_url)
    before = row_counts(engine)
    migrate.downgrade(engine, "0010")
    assert "inputs_ct" not in {c["name"] for c in inspect(engine).get_columns("evaluations")}
    assert row_counts(engine) == before
    migrate.upgrade(engine)
    assert row_counts(engine) == before
    engine.dispose()

    platform = Platform.open(settings)  # the inputs went with the column: refused, clearly
    world = replace(world, platform=platform)
    with pytest.raises(NotAllowedNow):
        run(world, evaluation)
    close(platform)
