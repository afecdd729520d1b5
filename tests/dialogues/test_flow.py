"""The whole confidential flow through the services, and the rules the server enforces."""

from __future__ import annotations

import pytest

from backchannel.errors import InputError, NotAllowedNow, NotFound
from backchannel.model.dialogue import Position, Unacceptable
from backchannel.services import audit_log, evaluations, positions, releases, rounds
from conftest import World

from .conftest import position_a, position_b


def _locked_and_evaluated(world: World) -> str:
    p, f = world.platform, world.actors["facilitator"]
    positions.save_position(p, world.actors["a1"], world.dialogue_id, position_a(world))
    positions.save_position(p, world.actors["b1"], world.dialogue_id, position_b(world))
    rounds.lock_round(p, f, world.dialogue_id)
    return evaluations.evaluate(p, f, world.dialogue_id)


def test_evaluation_finds_the_zone_and_the_packages(world: World) -> None:
    evaluation_id = _locked_and_evaluated(world)
    (found,) = evaluations.evaluations(
        world.platform, world.actors["facilitator"], world.dialogue_id
    )
    assert found.id == evaluation_id
    findings = found.findings
    i1, i2 = world.issues
    # A forbids lift, B forbids full; B: partial ceasefire needs easing or lifting.
    assert findings.zone is True
    assert findings.viable[i1] == ["none", "partial"]
    assert "lift" not in findings.viable[i2]
    assert findings.packages["nash"]["Ceasefire"] in ("none", "partial")
    assert findings.blocked[i2]["lift"] == ["s0-no-" + i2 + "-2"]


def test_evaluations_are_rationed_and_logged_for_both_sides(world: World) -> None:
    _locked_and_evaluated(world)
    p, f = world.platform, world.actors["facilitator"]
    with pytest.raises(NotAllowedNow, match="evaluation"):
        evaluations.evaluate(p, f, world.dialogue_id)
    for member in ("a1", "b1"):
        actions = [e.action for e in audit_log.entries(p, world.actors[member], world.dialogue_id)]
        assert actions.count("round.evaluated") == 1


def test_only_locked_rounds_are_evaluated_and_positions_freeze(world: World) -> None:
    p, f = world.platform, world.actors["facilitator"]
    with pytest.raises(NotAllowedNow, match="only a locked round"):
        evaluations.evaluate(p, f, world.dialogue_id)
    positions.save_position(p, world.actors["a1"], world.dialogue_id, position_a(world))
    rounds.lock_round(p, f, world.dialogue_id)
    with pytest.raises(NotAllowedNow, match="frozen"):
        positions.save_position(p, world.actors["a1"], world.dialogue_id, position_a(world))


def test_only_the_facilitator_moves_rounds(world: World) -> None:
    for name in ("a1", "b1", "observer"):
        with pytest.raises(NotFound):
            rounds.lock_round(world.platform, world.actors[name], world.dialogue_id)
    with pytest.raises(NotFound):
        rounds.lock_round(world.platform, world.actors["outsider"], world.dialogue_id)


def test_each_side_sees_only_its_own_release(world: World) -> None:
    evaluation_id = _locked_and_evaluated(world)
    p, f = world.platform, world.actors["facilitator"]
    releases.release(p, f, world.dialogue_id, evaluation_id, world.delegation_a, "zone")
    releases.release(p, f, world.dialogue_id, evaluation_id, world.delegation_b, "package", "nash")
    seen_a = releases.released_to_me(p, world.actors["a2"], world.dialogue_id)
    seen_b = releases.released_to_me(p, world.actors["b1"], world.dialogue_id)
    assert [r.disclosed.kind.value for r in seen_a] == ["zone"]
    assert [r.disclosed.kind.value for r in seen_b] == ["package"]
    assert releases.released_to_me(p, world.actors["observer"], world.dialogue_id) == []


def test_a_clash_is_released_only_to_the_owner_of_the_red_line(world: World) -> None:
    evaluation_id = _locked_and_evaluated(world)
    p, f = world.platform, world.actors["facilitator"]
    own = "s0-no-" + world.issues[1] + "-2"
    with pytest.raises(InputError, match="own"):
        releases.release(p, f, world.dialogue_id, evaluation_id, world.delegation_b, "clash", own)
    releases.release(p, f, world.dialogue_id, evaluation_id, world.delegation_a, "clash", own)


def test_members_never_read_the_other_sides_position(world: World) -> None:
    p = world.platform
    positions.save_position(p, world.actors["a1"], world.dialogue_id, position_a(world))
    with pytest.raises(NotFound):
        positions.positions(p, world.actors["b1"], world.dialogue_id, world.delegation_a)
    with pytest.raises(NotFound):  # nor may the facilitator read a delegation's position
        positions.positions(p, world.actors["facilitator"], world.dialogue_id, world.delegation_a)
    mine = positions.positions(p, world.actors["a2"], world.dialogue_id)
    assert mine[0].position == position_a(world)


def test_red_lines_may_only_loosen_when_the_dialogue_says_so(world: World) -> None:
    from backchannel.services import dialogues

    p, f = world.platform, world.actors["facilitator"]
    strict = dialogues.create_dialogue(p, f, "Strict", monotone_red_lines=True)
    issue = dialogues.add_issue(p, f, strict, "Zone", "unordered", ["x", "y", "z"])
    side = dialogues.add_delegation(p, f, strict, "A")
    dialogues.add_delegation(p, f, strict, "B")
    dialogues.add_member(p, f, strict, "a1", "member", delegation_id=side, track="expert")
    rounds.open_round(p, f, strict)
    first = Position(unacceptable=[Unacceptable(issue=issue, option="x")], walk_away=30)
    positions.save_position(p, world.actors["a1"], strict, first)
    rounds.lock_round(p, f, strict)
    from backchannel.storage import repo
    from backchannel.storage.tables import RoundRow

    with p.unit() as s:  # end round 1 without an evaluation (needs both sides)
        row = repo.rounds(s, strict)[-1]
        repo.get(s, RoundRow, row.id).state = "disclosed"  # type: ignore[union-attr]
    rounds.open_round(p, f, strict)
    stricter = Position(unacceptable=[Unacceptable(issue=issue, option="y")], walk_away=30)
    with pytest.raises(NotAllowedNow, match="only loosen"):
        positions.save_position(p, world.actors["a1"], strict, stricter)
    looser = Position(unacceptable=[], walk_away=10)
    positions.save_position(p, world.actors["a1"], strict, looser)


def test_a_locked_round_can_go_back_to_draft_until_it_is_evaluated(world: World) -> None:
    p, f = world.platform, world.actors["facilitator"]
    positions.save_position(p, world.actors["a1"], world.dialogue_id, position_a(world))
    rounds.lock_round(p, f, world.dialogue_id)
    with pytest.raises(NotAllowedNow, match="has not recorded a position"):
        evaluations.evaluate(p, f, world.dialogue_id)
    assert rounds.unlock_round(p, f, world.dialogue_id).state == "draft"
    positions.save_position(p, world.actors["b1"], world.dialogue_id, position_b(world))
    rounds.lock_round(p, f, world.dialogue_id)
    evaluations.evaluate(p, f, world.dialogue_id)
    with pytest.raises(NotAllowedNow, match="cannot become draft"):
        rounds.unlock_round(p, f, world.dialogue_id)


def test_red_lines_are_named_as_their_side_wrote_them(world: World) -> None:
    _locked_and_evaluated(world)
    (found,) = evaluations.evaluations(
        world.platform, world.actors["facilitator"], world.dialogue_id
    )
    texts = {fact.text for fact in found.findings.red_lines.values()}
    assert "Sanctions: not 'lift'" in texts
    assert "walk-away level" in texts


def test_a_bad_setting_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from backchannel.config import load_settings

    monkeypatch.setenv("BACKCHANNEL_PORT", "0")
    with pytest.raises(InputError, match="setting port"):
        load_settings()


def test_a_side_cannot_count_hidden_log_entries(world: World) -> None:
    p = world.platform
    for _ in range(3):  # three private saves by side A
        positions.save_position(p, world.actors["a1"], world.dialogue_id, position_a(world))
    positions.save_position(p, world.actors["b1"], world.dialogue_id, position_b(world))
    seen_by_b = [e.seq for e in audit_log.entries(p, world.actors["b1"], world.dialogue_id)]
    assert sorted(seen_by_b) == list(range(1, len(seen_by_b) + 1))  # no gaps to count
    full = [e.seq for e in audit_log.entries(p, world.actors["facilitator"], world.dialogue_id)]
    assert len(full) > len(seen_by_b)
