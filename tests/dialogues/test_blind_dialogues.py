"""Blind dialogues on the coordinating server (issue 13): the setting, the nodes, the
computations the facilitator asks for and the nodes run, the opened finding's release.

The nodes are played by calling the services (here) or the node API (``test_blind_api``)
as a node would; the secure computation itself is the node's (``tests/blind``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from backchannel.errors import InputError, NotAllowedNow, NotFound, SignInRequired
from backchannel.model.dialogue import Position
from backchannel.services import (
    audit_log,
    checkpoints,
    computations,
    dialogues,
    evaluations,
    nodes,
    positions,
    releases,
    rounds,
)
from backchannel.services.platform import Platform
from backchannel.storage import migrate
from backchannel.storage.db import make_engine
from blind_world import build_blind, caller, certificate, play
from conftest import close, make_settings

from .conftest import row_counts


def test_a_blind_dialogue_stores_no_position_and_is_not_evaluated(platform: Platform) -> None:
    world = build_blind(platform, lock=False)
    a1, f = world.actors["a1"], world.actors["facilitator"]
    assert dialogues.view(platform, a1, world.dialogue_id).blind
    with pytest.raises(NotAllowedNow, match="stays on its own node") as refused:
        positions.save_position(platform, a1, world.dialogue_id, Position())
    assert "Running a blind node" in str(refused.value)
    with pytest.raises(NotAllowedNow, match="blind dialogue"):
        positions.positions(platform, a1, world.dialogue_id)
    # the absent stakeholder's public red lines are still the facilitator's to state
    positions.save_position(platform, f, world.dialogue_id, Position(), world.absent)
    rounds.lock_round(platform, f, world.dialogue_id)
    with pytest.raises(NotAllowedNow, match="cannot evaluate"):
        evaluations.evaluate(platform, f, world.dialogue_id)


def test_nodes_register_and_replace_with_a_token_shown_once(platform: Platform) -> None:
    world = build_blind(platform)
    a1, b1, f = world.actors["a1"], world.actors["b1"], world.actors["facilitator"]
    seen = nodes.nodes(platform, a1, world.dialogue_id)
    assert [(n.kind, n.delegation_id) for n in seen] == [
        ("delegation", world.delegation_a),
        ("helper", None),
    ]
    assert len(nodes.nodes(platform, f, world.dialogue_id)) == 3
    assert all(len(n.fingerprint) == 64 for n in seen)
    old = world.tokens["a"]
    pem, _ = certificate("a-again")
    made = nodes.register(platform, a1, world.dialogue_id, pem, "node-a.example", 443)
    assert made.id == world.node_ids["a"] and made.token != old
    with pytest.raises(SignInRequired):
        nodes.authenticate(platform, f"Bearer {old}")
    assert nodes.authenticate(platform, f"Bearer {made.token}").delegation_id == world.delegation_a
    actions = [e.action for e in audit_log.entries(platform, b1, world.dialogue_id)]
    assert "node.replaced" not in actions  # side A's node is side A's business
    assert "node.replaced" in [e.action for e in audit_log.entries(platform, a1, world.dialogue_id)]
    with pytest.raises(NotFound):
        nodes.nodes(platform, world.actors["observer"], world.dialogue_id)
    for _ in range(2):
        nodes.register(platform, f, world.dialogue_id, pem, "192.0.2.7", 9000)
    with pytest.raises(NotAllowedNow, match="at most 3 helper"):
        nodes.register(platform, f, world.dialogue_id, pem, "192.0.2.7", 9000)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "missing"),
        ("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----", "private key"),
        ("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----", "not a readable"),
        ("hello", "exactly one"),
    ],
)
def test_a_certificate_is_checked(platform: Platform, text: str, problem: str) -> None:
    world = build_blind(platform, nodes_too=False)
    with pytest.raises(InputError, match=problem):
        nodes.register(platform, world.actors["a1"], world.dialogue_id, text, "127.0.0.1", 1)


def test_a_computation_is_refused_with_its_reason(platform: Platform) -> None:
    world = build_blind(platform, nodes_too=False)
    f, d = world.actors["facilitator"], world.dialogue_id
    with pytest.raises(NotAllowedNow, match=r"Side A.* has not registered its node"):
        computations.request(platform, f, d, "exists")
    for who in ("a1", "b1"):
        nodes.register(platform, world.actors[who], d, certificate()[0], "127.0.0.1", 1)
    with pytest.raises(NotAllowedNow, match=r"no helper node.*each share is the value itself"):
        computations.request(platform, f, d, "exists")
    nodes.register(platform, f, d, certificate()[0], "127.0.0.1", 2)
    with pytest.raises(InputError, match="unknown finding"):
        computations.request(platform, f, d, "everything")
    computations.request(platform, f, d, "overlap")  # the one evaluation of the round
    with pytest.raises(NotAllowedNow, match="evaluation of round 1 is used"):
        computations.request(platform, f, d, "exists")


def test_a_plan_too_large_is_refused_with_the_estimate(platform: Platform) -> None:
    world = build_blind(platform, lock=False)
    f, d = world.actors["facilitator"], world.dialogue_id
    for k in range(7):  # 3 x 3 x 4^7 = 147,456 packages, over nash's 65,536
        dialogues.add_issue(platform, f, d, f"Issue {k}", "unordered", list("wxyz"))
    rounds.lock_round(platform, f, d)
    with pytest.raises(NotAllowedNow, match=r"enumerate 147,456 packages.*65,536.*estimated"):
        computations.request(platform, f, d, "nash")


def test_a_round_runs_opens_and_is_released(platform: Platform) -> None:
    world = build_blind(platform)
    f, b1, d = world.actors["facilitator"], world.actors["b1"], world.dialogue_id
    computation = computations.request(platform, f, d, "nash")
    a = caller(platform, world, "a")
    with pytest.raises(NotAllowedNow, match=r"not every node is ready yet \(0 of 3\)"):
        computations.session(platform, a, computation)
    assert computations.waiting_for(platform, a)[0]["state"] == "waiting"
    with pytest.raises(InputError, match="helper node has no conditions"):
        computations.ready(platform, caller(platform, world, "helper"), computation, [[0, 1]])
    with pytest.raises(InputError, match=r"links\[0\]: issue indices go from 0 to 1"):
        computations.ready(platform, a, computation, [[0, 5]])
    assert play(platform, world, computation, {"exists": True, "package": [1, 1]}) == "opened"
    shown = computations.computations(platform, f, d)[0]
    assert shown.state == "opened" and shown.opened == computations.Opened(None, True, (1, 1))
    made = computations.release(platform, f, d, computation, [world.delegation_b, "observers"])
    assert len(made) == 2
    told = releases.released_to_me(platform, b1, d)[0].disclosed
    assert told.package == {"Ceasefire": "partial", "Sanctions": "ease"}
    log = [e.action for e in audit_log.entries(platform, b1, d)]
    assert "blind.nash" in log and "blind.opened" in log
    with pytest.raises(NotFound):
        computations.computations(platform, b1, d)


def test_the_session_document_holds_the_public_case_and_the_peers(platform: Platform) -> None:
    world = build_blind(platform, lock=False)
    f, d = world.actors["facilitator"], world.dialogue_id
    absent = Position.model_validate(
        {"unacceptable": [{"issue": world.issues[1], "option": "lift"}]}
    )
    positions.save_position(platform, f, d, absent, world.absent)
    rounds.lock_round(platform, f, d)
    computation = computations.request(platform, f, d, "redlines")
    for who in ("a", "b", "helper"):
        links = [[1, 0]] if who != "helper" else []
        computations.ready(platform, caller(platform, world, who), computation, links)
    doc = computations.session(platform, caller(platform, world, "b"), computation)
    assert doc["format"] == "backchannel-blind-session/1" and doc["round"] == 1
    assert doc["links"] == [[0, 1]] and doc["finding"] == "redlines"
    assert [p["kind"] for p in doc["parties"]] == ["delegation", "delegation", "helper"]
    assert [p["index"] for p in doc["parties"]] == [0, 1, 2]
    assert doc["parties"][0]["party"] == world.delegation_a
    assert [p["name"] for p in doc["agenda"]["parties"]] == ["Absent Z"]
    assert [i["name"] for i in doc["agenda"]["issues"]] == ["Ceasefire", "Sanctions"]


def test_a_failure_or_different_results_open_nothing(platform: Platform) -> None:
    world = build_blind(platform)
    f, d = world.actors["facilitator"], world.dialogue_id
    computation = computations.request(platform, f, d, "exists")
    for who in ("a", "b", "helper"):
        computations.ready(platform, caller(platform, world, who), computation, [])
    a, b = caller(platform, world, "a"), caller(platform, world, "b")
    yes, no = computations.Opened(None, True, None), computations.Opened(None, False, None)
    assert computations.post_result(platform, a, computation, 0, yes, None) == "running"
    with pytest.raises(NotAllowedNow, match="already posted"):
        computations.post_result(platform, a, computation, 0, yes, None)
    with pytest.raises(InputError, match="this node is party 1"):
        computations.post_result(platform, b, computation, 0, no, None)
    computations.post_result(platform, b, computation, 1, no, None)
    helper = caller(platform, world, "helper")
    assert computations.post_result(platform, helper, computation, 2, yes, None) == "failed"
    shown = computations.computations(platform, f, d)[0]
    assert shown.opened is None and "differ" in (shown.failed or "")
    with pytest.raises(NotAllowedNow, match="only an opened finding"):
        computations.release(platform, f, d, computation, [world.delegation_a])


def test_past_the_deadline_a_computation_has_failed(platform: Platform) -> None:
    world = build_blind(platform)
    f, d = world.actors["facilitator"], world.dialogue_id
    computation = computations.request(platform, f, d, "overlap")
    later = computations.utcnow() + timedelta(minutes=11)
    with platform.view() as s:
        row = computations.repo.get(s, computations.BlindComputationRow, computation)
        assert row is not None
        assert computations.state_of(row) == "waiting"
        assert computations.state_of(row, later) == "failed"


def test_a_node_reads_only_its_own_dialogues_computations(platform: Platform) -> None:
    one = build_blind(platform, prefix="x")
    two = build_blind(platform, prefix="y")
    mine = computations.request(platform, one.actors["facilitator"], one.dialogue_id, "exists")
    other = caller(platform, two, "a")
    assert computations.waiting_for(platform, other) == []
    for call in (
        lambda: computations.session(platform, other, mine),
        lambda: computations.ready(platform, other, mine, []),
        lambda: computations.post_result(
            platform, other, mine, 0, computations.Opened(None, True, None), None
        ),
    ):
        with pytest.raises(NotFound):
            call()


def test_migration_0014_up_and_down_with_data(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url=database_url)
    platform = Platform.open(settings, upgrade=True)
    world = build_blind(platform)
    computations.request(platform, world.actors["facilitator"], world.dialogue_id, "exists")
    close(platform)
    engine = make_engine(database_url)
    before = row_counts(engine)
    assert before["blind_nodes"] == 3 and before["blind_computations"] == 1
    migrate.downgrade(engine, "0013")
    names = inspect(engine).get_table_names()
    assert "blind_nodes" not in names and "blind_computations" not in names
    assert "blind" not in {c["name"] for c in inspect(engine).get_columns("dialogues")}
    gone = ("blind_nodes", "blind_computations")
    kept = {k: v for k, v in before.items() if k not in gone}
    assert {k: v for k, v in row_counts(engine).items() if k not in gone} == kept
    migrate.upgrade(engine)
    assert row_counts(engine) == {**before, "blind_nodes": 0, "blind_computations": 0}
    engine.dispose()
    platform = Platform.open(settings)  # the dialogue is a clear one now, said clearly
    with pytest.raises(NotAllowedNow, match="not blind"):
        nodes.nodes(platform, world.actors["facilitator"], world.dialogue_id)
    close(platform)


def test_asking_the_nodes_signs_a_checkpoint_for_every_side(platform: Platform) -> None:
    world = build_blind(platform)
    f, d = world.actors["facilitator"], world.dialogue_id
    computations.request(platform, f, d, "overlap")
    found = checkpoints.document(platform, world.actors["b1"], d)["checkpoints"]
    assert found[-1]["event"] == "blind.overlap" and found[-1]["round"] == 1


def test_seats_reach_only_what_their_role_allows(platform: Platform) -> None:
    """Every blind read and write, as every seat of two blind dialogues and an account with
    no seat: what the role may not reach answers exactly NotFound, like a missing object."""
    one = build_blind(platform, prefix="p")
    two = build_blind(platform, prefix="q")
    computation = computations.request(
        platform, one.actors["facilitator"], one.dialogue_id, "exists"
    )
    pem = certificate()[0]
    d = one.dialogue_id
    calls = {
        "nodes": lambda who: nodes.nodes(platform, who, d),
        "computations": lambda who: computations.computations(platform, who, d),
        "request": lambda who: computations.request(platform, who, d, "overlap"),
        "release": lambda who: computations.release(platform, who, d, computation, ["observers"]),
        "register": lambda who: nodes.register(platform, who, d, pem, "192.0.2.1", 9),
        "replace a delegation's node": lambda who: nodes.register(
            platform, who, d, pem, "192.0.2.1", 9, replaces=one.node_ids["a"]
        ),
        "replace another dialogue's helper": lambda who: nodes.register(
            platform, who, d, pem, "192.0.2.1", 9, replaces=two.node_ids["helper"]
        ),
    }
    allowed = {
        "nodes": {"facilitator", "a1", "b1"},
        "computations": {"facilitator"},
        "request": {"facilitator"},
        "release": {"facilitator"},
        "register": {"facilitator", "a1", "b1"},
        "replace a delegation's node": {"a1", "b1"},  # InputError: one node per delegation
        "replace another dialogue's helper": {"a1", "b1"},
    }
    strangers = {f"other {k}": v for k, v in two.actors.items()}
    for name, call in calls.items():
        for who, actor in {**one.actors, **strangers}.items():
            if who in allowed[name]:
                continue
            with pytest.raises(NotFound) as refused:
                call(actor)
            assert (refused.value.message, refused.value.hint) == ("not found", None), (name, who)


def test_an_overlap_is_released_one_issue_at_a_time(platform: Platform) -> None:
    world = build_blind(platform)
    f, d = world.actors["facilitator"], world.dialogue_id
    computation = computations.request(platform, f, d, "overlap")
    play(platform, world, computation, {"overlap": [False, True]})
    with pytest.raises(InputError, match="pick the issue"):
        computations.release(platform, f, d, computation, [world.delegation_a])
    with pytest.raises(InputError, match="no audience"):
        computations.release(platform, f, d, computation, [], 0)
    computations.release(platform, f, d, computation, [world.delegation_a], 0)
    with pytest.raises(NotAllowedNow, match="already released"):
        computations.release(platform, f, d, computation, [world.delegation_a], 0)
    told = releases.released_to_me(platform, world.actors["a1"], d)
    assert [r.disclosed.headline for r in told] == ["Issue “Ceasefire” has overlap: no."]


def test_options_an_absent_stakeholder_forbids_are_pruned_before_the_plan_is_checked(
    platform: Platform,
) -> None:
    world = build_blind(platform, lock=False)
    f, d = world.actors["facilitator"], world.dialogue_id
    added = [  # 3 x 3 x 4^7 = 147,456 packages, over nash's 65,536
        dialogues.add_issue(platform, f, d, f"Issue {k}", "unordered", list("wxyz"))
        for k in range(7)
    ]
    forbidden = [{"issue": issue, "option": o} for issue in added[:2] for o in "wx"]
    absent = Position.model_validate({"unacceptable": forbidden})
    positions.save_position(platform, f, d, absent, world.absent)
    rounds.lock_round(platform, f, d)
    computation = computations.request(platform, f, d, "nash")  # 36,864 packages enumerated
    assert computations.computations(platform, f, d)[0].id == computation


def test_a_refused_audience_tells_no_audience(platform: Platform) -> None:
    """A release to several audiences is one transaction: when one of them is refused
    (another dialogue's delegation, an absent stakeholder, one already told) no audience
    is told (it used to tell those listed before the refused one)."""
    world = build_blind(platform)
    other = build_blind(platform, prefix="w")
    f, d = world.actors["facilitator"], world.dialogue_id
    computation = computations.request(platform, f, d, "exists")
    play(platform, world, computation, {"exists": True})
    a, b = world.delegation_a, world.delegation_b
    with pytest.raises(NotFound):
        computations.release(platform, f, d, computation, [a, "observers", other.delegation_a])
    with pytest.raises(InputError, match="at the table"):
        computations.release(platform, f, d, computation, [b, world.absent])
    computations.release(platform, f, d, computation, [a])
    with pytest.raises(NotAllowedNow, match="already released"):
        computations.release(platform, f, d, computation, ["observers", b, a])
    for seat in ("b1", "observer"):
        assert releases.released_to_me(platform, world.actors[seat], d) == []
    (told,) = releases.released_to_me(platform, world.actors["a1"], d)
    assert told.disclosed.headline.endswith("yes.")
    log = [e.action for e in audit_log.entries(platform, f, d)]
    assert log.count("finding.released") == 1
