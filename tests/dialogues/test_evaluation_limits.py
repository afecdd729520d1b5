"""No free evaluations: nothing re-evaluated unchanged, and a cap per dialogue.

Issue 12 §1.6: the ration is per round and rounds are unlimited, so the facilitator
alone did open → lock → evaluate 15 times in 2.1 s without any side acting. Now a
round whose case (the agenda and every side's position, as the engine reads them) is
the one the dialogue's last evaluation read is refused with 409, and a dialogue allows
``evaluations_per_dialogue`` evaluations in all (default 20, fixed when it is convened,
shown to every side). Migration 0003 adds both, tested up and down with data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from backchannel.errors import InputError, NotAllowedNow
from backchannel.model.dialogue import Position
from backchannel.services import dialogues, evaluations, positions, rounds
from backchannel.services.access import Actor
from backchannel.services.platform import Platform
from backchannel.storage import migrate
from backchannel.storage.db import make_engine
from conftest import World, build_world, close, make_settings

from .conftest import Browserless, position_a, position_b, row_counts

NOTHING_CHANGED = "nothing changed since the last evaluation"


def ready(world: World) -> None:
    """Both sides' positions in round 1, the round locked."""
    p, d = world.platform, world.dialogue_id
    positions.save_position(p, world.actors["a1"], d, position_a(world))
    positions.save_position(p, world.actors["b1"], d, position_b(world))
    rounds.lock_round(p, world.actors["facilitator"], d)


def next_round(world: World) -> None:
    """Round evaluated: open the next one and lock it at once (positions carried over)."""
    f = world.actors["facilitator"]
    rounds.open_round(world.platform, f, world.dialogue_id)
    rounds.lock_round(world.platform, f, world.dialogue_id)


def count(world: World) -> int:
    f = world.actors["facilitator"]
    return len(evaluations.evaluations(world.platform, f, world.dialogue_id))


def test_the_facilitator_alone_cannot_re_run_an_unchanged_case_over_the_api(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    ready(world)
    f = clients("facilitator")
    base = f"/api/v1/dialogues/{world.dialogue_id}/rounds"
    headers = {"X-CSRF-Token": f.csrf}
    assert f.client.post(f"{base}/current/evaluate", headers=headers).status_code == 201
    for _ in range(15):  # the attack of the issue: open, lock, evaluate, without any side
        assert f.client.post(base, headers=headers).status_code in (201, 409)
        f.client.post(f"{base}/current/lock", headers=headers)
        refused = f.client.post(f"{base}/current/evaluate", headers=headers)
        assert refused.status_code == 409, refused.text
        assert NOTHING_CHANGED in refused.json()["error"]
        assert "unlock the round" in refused.json()["hint"]
    assert count(world) == 1


def test_the_dialogue_page_says_why_and_what_to_do(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    ready(world)
    evaluations.evaluate(world.platform, world.actors["facilitator"], world.dialogue_id)
    next_round(world)
    f = clients("facilitator")
    page = f.client.post(
        f"/d/{world.dialogue_id}/rounds/evaluate", data={"csrf": f.csrf, "confirm": "yes"}
    )
    assert page.status_code == 409
    assert NOTHING_CHANGED in page.text and "unlock the round" in page.text


def test_a_changed_position_or_agenda_may_be_evaluated_a_private_note_may_not(
    world: World,
) -> None:
    p, d, f = world.platform, world.dialogue_id, world.actors["facilitator"]
    ready(world)
    evaluations.evaluate(p, f, d)
    rounds.open_round(p, f, d)
    positions.save_position(p, world.actors["a1"], d, position_a(world, note="a new note"))
    positions.save_position(p, f, d, Position(), world.absent)  # the same (empty) red lines
    rounds.lock_round(p, f, d)
    with pytest.raises(NotAllowedNow, match=NOTHING_CHANGED):
        evaluations.evaluate(p, f, d)
    rounds.unlock_round(p, f, d)
    moved = position_a(world).model_copy(update={"walk_away": 5})
    positions.save_position(p, world.actors["a2"], d, moved)  # a side moves
    rounds.lock_round(p, f, d)
    evaluations.evaluate(p, f, d)
    rounds.open_round(p, f, d)
    dialogues.add_issue(p, f, d, "Observers", "unordered", ["yes", "no"])  # the agenda grows
    rounds.lock_round(p, f, d)
    evaluations.evaluate(p, f, d)
    assert count(world) == 3


def test_the_ration_of_one_round_is_still_the_ration(platform: Platform) -> None:
    """A second evaluation of the same frozen round is the ration's business, as before."""
    world = build_world(platform)
    p, f = platform, world.actors["facilitator"]
    d = dialogues.create_dialogue(p, f, "Twice a round", evaluations_per_round=2)
    i1 = dialogues.add_issue(p, f, d, "Ceasefire", "ordered", ["none", "partial", "full"])
    i2 = dialogues.add_issue(p, f, d, "Sanctions", "ordered", ["keep", "ease", "lift"])
    a = dialogues.add_delegation(p, f, d, "A")
    b = dialogues.add_delegation(p, f, d, "B")
    dialogues.add_member(p, f, d, "a1", "member", delegation_id=a, track="expert")
    dialogues.add_member(p, f, d, "b1", "member", delegation_id=b, track="expert")
    rounds.open_round(p, f, d)
    positions.save_position(p, world.actors["a1"], d, Position(importance={i1: 1, i2: 2}))
    positions.save_position(p, world.actors["b1"], d, Position(importance={i2: 1, i1: 2}))
    rounds.lock_round(p, f, d)
    evaluations.evaluate(p, f, d)
    evaluations.evaluate(p, f, d)
    with pytest.raises(NotAllowedNow, match="are used"):
        evaluations.evaluate(p, f, d)


def capped(world: World, cap: int) -> tuple[str, dict[str, Actor]]:
    """A new dialogue with ``cap`` evaluations in all, all of them used, a round locked."""
    p, f = world.platform, world.actors["facilitator"]
    d = dialogues.create_dialogue(p, f, "Capped", evaluations_per_dialogue=cap)
    i1 = dialogues.add_issue(p, f, d, "Ceasefire", "ordered", ["none", "partial", "full"])
    a = dialogues.add_delegation(p, f, d, "A")
    b = dialogues.add_delegation(p, f, d, "B")
    dialogues.add_member(p, f, d, "a1", "member", delegation_id=a, track="expert")
    dialogues.add_member(p, f, d, "b1", "member", delegation_id=b, track="expert")
    rounds.open_round(p, f, d)
    for level in range(cap + 1):  # a new walk-away level each round: always a change
        positions.save_position(p, world.actors["a1"], d, Position(walk_away=level))
        if level == 0:
            positions.save_position(p, world.actors["b1"], d, Position(importance={i1: 1}))
        rounds.lock_round(p, f, d)
        if level == cap:
            break
        evaluations.evaluate(p, f, d)
        rounds.open_round(p, f, d)
    return d, world.actors


def test_the_cap_holds_across_rounds_and_every_side_sees_it(world: World) -> None:
    platform = world.platform
    d, actors = capped(world, 3)
    with pytest.raises(NotAllowedNow, match=r"the 3 evaluations this dialogue allows in all"):
        evaluations.evaluate(platform, actors["facilitator"], d)
    for name in ("facilitator", "a1", "b1"):
        view = dialogues.view(platform, actors[name], d)
        assert (view.evaluations_per_dialogue, view.evaluations_used) == (3, 3)
    default = dialogues.view(platform, actors["a1"], world.dialogue_id)
    assert default.evaluations_per_dialogue == dialogues.EVALUATIONS_PER_DIALOGUE == 20


def test_the_cap_is_shown_on_the_api_and_on_the_page(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    d, _ = capped(world, 2)
    member = clients("b1").client
    found = member.get(f"/api/v1/dialogues/{d}").json()
    assert (found["evaluations_per_dialogue"], found["evaluations_used"]) == (2, 2)
    assert "2 in all (2 used so far)" in member.get(f"/d/{d}").text
    page = clients("facilitator").client.get(f"/d/{d}").text
    assert "/rounds/evaluate" not in page  # no Evaluate button once the cap is used


@pytest.mark.parametrize("cap", [0, -1, dialogues.MOST_EVALUATIONS_PER_DIALOGUE + 1])
def test_the_cap_is_between_1_and_100(platform: Platform, cap: int) -> None:
    world = build_world(platform)
    with pytest.raises(InputError, match="evaluations in all"):
        dialogues.create_dialogue(
            platform, world.actors["facilitator"], "T", evaluations_per_dialogue=cap
        )


def test_a_dialogue_convened_over_the_api_or_the_page_keeps_its_cap(
    world: World, clients: Callable[[str], Browserless]
) -> None:
    f = clients("facilitator")
    made = f.client.post(
        "/api/v1/dialogues",
        json={"title": "Short", "evaluations_per_dialogue": 4},
        headers={"X-CSRF-Token": f.csrf},
    )
    assert made.status_code == 201
    shown = f.client.get(f"/api/v1/dialogues/{made.json()['id']}").json()
    assert shown["evaluations_per_dialogue"] == 4
    page = f.client.post(
        "/dialogues",
        data={"title": "Paged", "evaluations_per_dialogue": "7", "csrf": f.csrf},
        follow_redirects=False,
    )
    assert page.status_code == 303
    dialogue_id = page.headers["location"].rsplit("/", 1)[-1]
    assert f.client.get(f"/api/v1/dialogues/{dialogue_id}").json()["evaluations_per_dialogue"] == 7


# ------------------------------------------------------------------ migration 0003
def test_migration_0003_up_and_down_with_data(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url=database_url)
    platform = Platform.open(settings, upgrade=True)
    world = build_world(platform)
    ready(world)
    first = evaluations.evaluate(platform, world.actors["facilitator"], world.dialogue_id)
    busy = dialogues.create_dialogue(platform, world.actors["facilitator"], "Busy")
    close(platform)

    engine = make_engine(database_url)
    before = row_counts(engine)
    assert before["rounds"] and before["positions"] and before["dialogue_keys"]
    migrate.downgrade(engine, "0002")
    # nothing cascaded away with a rebuilt table (signed checkpoints, schema 0005, go below
    # their schema: each delegation keeps its own copies)
    assert before["checkpoints"]
    before["checkpoints"] = 0
    assert row_counts(engine) == before
    columns = {
        t: {c["name"] for c in inspect(engine).get_columns(t)} for t in ("dialogues", "evaluations")
    }
    assert "evaluations_per_dialogue" not in columns["dialogues"]
    assert "inputs_digest" not in columns["evaluations"]
    with engine.begin() as connection:  # the data is all there; "Busy" gets 25 evaluations
        assert connection.execute(text("SELECT COUNT(*) FROM dialogues")).scalar() == 2
        assert connection.execute(text("SELECT id FROM evaluations")).scalars().all() == [first]
        round_id = connection.execute(text("SELECT round_id FROM evaluations")).scalar()
        for k in range(25):
            connection.execute(
                text(
                    "INSERT INTO evaluations (id, dialogue_id, round_id, result_ct, created_at)"
                    " VALUES (:id, :d, :r, :ct, CURRENT_TIMESTAMP)"
                ),
                {"id": f"old-{k}", "d": busy, "r": round_id, "ct": b"x"},
            )
    migrate.upgrade(engine)
    with engine.begin() as connection:
        caps = dict(
            connection.execute(text("SELECT id, evaluations_per_dialogue FROM dialogues")).all()
        )
        digests = connection.execute(text("SELECT inputs_digest FROM evaluations")).scalars()
        assert set(digests.all()) == {None}
        connection.execute(text("DELETE FROM evaluations WHERE id LIKE 'old-%'"))
    assert caps == {world.dialogue_id: 20, busy: 25 + 1}
    assert row_counts(engine) == before
    engine.dispose()

    platform = Platform.open(settings)  # at head again: the rules work on the old data
    world.platform = platform
    f = world.actors["facilitator"]
    next_round(world)  # the old evaluation has no digest: the next one may run, once
    evaluations.evaluate(platform, f, world.dialogue_id)
    next_round(world)
    with pytest.raises(NotAllowedNow, match=NOTHING_CHANGED):
        evaluations.evaluate(platform, f, world.dialogue_id)
    close(platform)
