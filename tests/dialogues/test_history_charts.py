"""History across rounds, the charts, and absent stakeholders' public red lines."""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable

import pytest

from backchannel import i18n
from backchannel.errors import NotFound
from backchannel.messages import Message
from backchannel.model.changes import convergence, position_changes, red_line_changes
from backchannel.model.dialogue import (
    Agenda,
    AgendaIssue,
    Firmness,
    IfThen,
    Position,
    Side,
    Unacceptable,
)
from backchannel.model.findings import Findings, RedLineFact
from backchannel.reports.charts import (
    MOST_POINTS,
    frontier_svg,
    redline_map_svg,
    utilities_svg,
)
from backchannel.services import (
    accounts,
    dialogues,
    evaluations,
    history,
    positions,
    releases,
    rounds,
    stated,
)
from backchannel.services.evaluations import CHART_POINTS
from backchannel.services.platform import Platform
from backchannel.web.charts import analysis_charts
from conftest import World

from .conftest import Browserless, position_a, position_b

NOTE = "CANARY-absent-note-51c2"
ENGLISH = Message.render
"""The charts' texts in English."""


def russian(message: Message) -> str:
    """The charts' texts in Russian."""
    return message.render(i18n.translations("ru"))


ENGLISH_CHART_TEXTS = (
    "Pareto frontier",
    "Red-line map",
    "Convergence across rounds",
    "Utilities of the recommended packages",
    "Utility of",
    "utility of",
    " points,",  # "N points, M drawn" (a bare " points" is also an SVG attribute)
    " points;",
    " points<",
    " drawn",
    "options ruled out",
    "in an admissible package",
    "the table below gives each option",
    "issues with overlap",
    "admissible packages",
    "round 1:",
    ">R1<",
    "bars:",
    "Nash bargaining",
    "Kalai–Smorodinsky",
    "Egalitarian",
    "Maximum welfare",
    "No frontier to draw",
    "the engine",
    "unknown",
)
"""What the charts say in English (none of it may show on a Russian page)."""


def _round_two(platform: Platform, world: World) -> None:
    """Round 1 evaluated; in round 2 side A drops a red line and lowers its walk-away."""
    p, f, d = platform, world.actors["facilitator"], world.dialogue_id
    positions.save_position(p, world.actors["a1"], d, position_a(world))
    positions.save_position(p, world.actors["b1"], d, position_b(world))
    rounds.lock_round(p, f, d)
    evaluations.evaluate(p, f, d)
    rounds.open_round(p, f, d)
    moved = position_a(world).model_copy(update={"unacceptable": [], "walk_away": 5})
    positions.save_position(p, world.actors["a1"], d, moved)
    rounds.lock_round(p, f, d)
    evaluations.evaluate(p, f, d)


def words(messages: list[Message]) -> list[str]:
    """Messages as English text."""
    return [str(m) for m in messages]


# ------------------------------------------------------------------ the pure functions
def test_a_position_moves_are_told_in_words(world: World) -> None:
    agenda = dialogues.view(world.platform, world.actors["facilitator"], world.dialogue_id).agenda
    i1, i2 = world.issues
    before = Position(
        ratings={i1: {"full": 100}},
        unacceptable=[
            Unacceptable(issue=i2, option="lift", firmness=Firmness.FIRM),
            Unacceptable(issue=i1, option="none", firmness=Firmness.FLEXIBLE),
        ],
        walk_away=20,
    )
    after = Position(
        importance={i1: 1},
        ratings={i1: {"full": 90, "partial": 10}},
        unacceptable=[Unacceptable(issue=i1, option="none", firmness=Firmness.ABSOLUTE)],
        rules=[IfThen(if_issue=i1, if_options=["full"], then_issue=i2, then_options=["keep"])],
    )
    found = position_changes(agenda, before, after)
    assert words(found.red_lines.loosened) == ["Sanctions: not 'lift' (dropped)"]
    assert words(found.red_lines.tightened) == [
        "Ceasefire: not 'none' (firmer)",
        "if Ceasefire is full, then Sanctions must be keep (added)",
    ]
    assert [(r.option, r.before, r.after) for r in found.ratings] == [
        ("partial", None, 10),
        ("full", 100, 90),
    ]
    assert found.walk_away == (20, None) and found.importance_changed
    same = position_changes(agenda, before, before)
    assert not same.red_lines.moved and not same.ratings and same.walk_away is None


def _findings(sides: list[str], lines: dict[str, RedLineFact], **more: object) -> Findings:
    return Findings.model_validate(
        {
            "sides": sides,
            "zone": True,
            "admissible_count": 3,
            "issues": {"i1": "Water", "i2": "Ports"},
            "options": {"i1": ["a", "b"], "i2": ["c", "d"]},
            "viable": {"i1": ["a"], "i2": ["c", "d"]},
            "overlap": {"i1": True, "i2": False},
            "blocked": {"i1": {"a": [], "b": ["s0-no-i1-1"]}, "i2": {"c": [], "d": []}},
            "red_lines": lines,
            **more,
        }
    )


def test_the_facilitators_view_compares_evaluations_side_by_side() -> None:
    fact = RedLineFact(side=0, text="Water: not 'b'", firmness=3, stated=False)
    before = _findings(["N", "S"], {"s0-no-i1-1": fact})
    after = _findings(
        ["N", "S"],
        {
            "s0-no-i1-1": fact.model_copy(update={"firmness": 1}),
            "s1-no-i2-0": RedLineFact(side=1, text="Ports: not 'c'", firmness=3, stated=False),
            "reservation:S": RedLineFact(side=1, text="walk-away level", firmness=1, stated=False),
        },
    )
    moved = red_line_changes(before, after)
    assert words(moved["N"].loosened) == ["Water: not 'b' (less firm)"] and not moved["N"].tightened
    assert words(moved["S"].tightened) == ["Ports: not 'c' (added)"]  # the walk-away level left out
    (point,) = convergence([(2, after)])
    assert (point.round_number, point.admissible, point.overlap, point.issues) == (2, 3, 1, 2)


# ------------------------------------------------------------------ the services
def test_each_seat_sees_only_its_history(platform: Platform, world: World) -> None:
    _round_two(platform, world)
    p, d = platform, world.dialogue_id
    own = history.own_history(p, world.actors["a1"], d)
    (step,) = own
    assert (step.from_round, step.to_round) == (1, 2)
    assert words(step.changes.red_lines.loosened) == ["Sanctions: not 'lift' (dropped)"]
    assert step.changes.walk_away == (20, 5)
    (other,) = history.own_history(p, world.actors["b1"], d)
    assert not other.changes.red_lines.moved  # B's own, unchanged
    found = history.dialogue_history(p, world.actors["facilitator"], d)
    assert [(m.from_round, m.to_round) for m in found.moves] == [(1, 2)]
    assert words(found.moves[0].sides["Side A"].loosened) == ["Sanctions: not 'lift' (dropped)"]
    assert [c.round_number for c in found.convergence] == [1, 2]
    for name in ("facilitator", "observer", "outsider"):
        with pytest.raises(NotFound):
            history.own_history(p, world.actors[name], d)
    for name in ("a1", "b1", "observer", "outsider"):
        with pytest.raises(NotFound):
            history.dialogue_history(p, world.actors[name], d)


def test_the_history_pages(
    platform: Platform, world: World, clients: Callable[[str], Browserless]
) -> None:
    _round_two(platform, world)
    d = world.dialogue_id
    mine = clients("a1").client.get(f"/d/{d}/history")
    assert mine.status_code == 200
    assert "Sanctions: not &#39;lift&#39; (dropped)" in mine.text and "20 → 5" in mine.text
    theirs = clients("b1").client.get(f"/d/{d}/history").text
    assert "lift&#39; (dropped)" not in theirs and "20 → 5" not in theirs
    assert clients("observer").client.get(f"/d/{d}/history").status_code == 404
    fac = clients("facilitator").client.get(f"/d/{d}/history").text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in fac and "Convergence as a table" in fac
    assert "20 → 5" not in fac  # no walk-away level of a side, nor a rating


def test_every_evaluation_stays_viewable(
    platform: Platform, world: World, clients: Callable[[str], Browserless]
) -> None:
    _round_two(platform, world)
    f = clients("facilitator").client
    d = world.dialogue_id
    latest, first = evaluations.evaluations(platform, world.actors["facilitator"], d)
    page = f.get(f"/d/{d}/analysis").text
    assert f'<option value="{first.id}">' in page and "Round 2: is agreement possible?" in page
    earlier = f.get(f"/d/{d}/analysis", params={"evaluation": first.id}).text
    assert "Round 1: is agreement possible?" in earlier
    assert "An earlier evaluation (round 1)" in earlier
    assert 'action="/d/' + d + '/releases"' not in earlier  # releases: from the latest only
    assert latest.round_number == 2


def test_absent_stakeholders_public_red_lines_are_shown_to_every_seat(
    platform: Platform, world: World, clients: Callable[[str], Browserless]
) -> None:
    p, f, d = platform, world.actors["facilitator"], world.dialogue_id
    i1 = world.issues[0]
    public = Position(unacceptable=[Unacceptable(issue=i1, option="none")], note=NOTE)
    positions.save_position(p, f, d, public, world.absent)
    for name in ("facilitator", "a1", "b1", "observer"):
        found = stated.stated_red_lines(p, world.actors[name], d)
        assert {k: [str(m) for m in v] for k, v in found.items()} == {
            world.absent: ["Ceasefire: not 'none' (firm)"]
        }
        page = clients(name).client.get(f"/d/{d}").text
        assert "Ceasefire: not &#39;none&#39; (firm)" in page and NOTE not in page
    with pytest.raises(NotFound):
        stated.stated_red_lines(p, world.actors["outsider"], d)


# ------------------------------------------------------------------ the charts
def test_a_large_frontier_is_drawn_as_an_even_subset() -> None:
    points = [[k / 999, 1 - k / 999] for k in range(1000)]
    svg = frontier_svg(points, ("N", "S"), {"nash": [0.5, 0.5]}, render=ENGLISH)
    drawn = re.findall(r'<circle cx="([0-9.]+)" cy="([0-9.]+)" r="3" class="point">', svg)
    assert len(drawn) == MOST_POINTS and len(set(drawn)) == MOST_POINTS
    assert drawn[0] == ("48.0", "48.0") and drawn[-1] == ("372.0", "272.0")  # both ends, in order
    xs = [float(x) for x, _ in drawn]
    assert max(b - a for a, b in itertools.pairwise(xs)) < 2 * 324 / (MOST_POINTS - 1)
    small = frontier_svg(points[:10], ("N", "S"), {}, render=ENGLISH)
    assert small.count('class="point"') == 10 and "drawn" not in small
    assert '<title id="frontier-t">Pareto frontier</title>' in svg
    assert "1000 points, 400 drawn" in svg and "nash at 0.50, 0.50" in svg


ISSUES = 16


def test_an_evaluation_keeps_a_chart_of_its_frontier_and_counts_the_whole() -> None:
    """The stored findings hold at most a chart's worth of points, spread along the
    frontier, and the size of the whole; the chart and its caption count the whole."""
    agenda = Agenda(
        issues=[
            AgendaIssue(id=f"i{k}", name=f"Issue {k}", kind="ordered", options=list("abcde"))
            for k in range(ISSUES)
        ]
    )
    rng = random.Random(7)
    sides = []
    for name, flip in (("North", False), ("South", True)):
        levels = (100, 75, 50, 25, 0) if flip else (0, 25, 50, 75, 100)
        scale = dict(zip("abcde", levels, strict=True))
        ratings = {f"i{k}": scale for k in range(ISSUES)}
        order = rng.sample(range(ISSUES), ISSUES)
        importance = {f"i{k}": rank for rank, k in enumerate(order, start=1)}
        sides.append(Side(name=name, position=Position(ratings=ratings, importance=importance)))
    findings = evaluations.findings_of(agenda, sides, "opposed", time_limit=30)
    assert findings.frontier_size > CHART_POINTS  # opposed ordered issues: a large frontier
    assert len(findings.frontier) == CHART_POINTS
    svg = frontier_svg(
        findings.frontier, ("North", "South"), {}, findings.frontier_size, render=ENGLISH
    )
    assert f"{findings.frontier_size} points, {MOST_POINTS} drawn" in svg


def test_where_no_zone_exists_the_frontier_says_why() -> None:
    fact = RedLineFact(side=0, text="x", firmness=1, stated=False)
    none = _findings(["N", "S"], {"s0-no-i1-1": fact}, zone=False)
    charts = analysis_charts(none, render=ENGLISH)
    assert charts["frontier"] is None
    assert "no package respects every red line" in str(charts["frontier_empty"])
    three = _findings(
        ["N", "S", "E"],
        {},
        utilities={"nash": {"N": 0.5, "S": 0.25, "E": 0.75}},
        packages={"nash": {"Water": "a", "Ports": "c"}},
    )
    charts = analysis_charts(three, render=ENGLISH)
    assert "with 3, the chart below" in str(charts["frontier_empty"])
    assert "Nash bargaining: N 0.50, S 0.25, E 0.75" in str(charts["utilities"])


def test_rules_at_the_same_point_share_a_mark_one_name_a_line_inside_the_chart() -> None:
    both = {"Nash bargaining": [0.9, 0.5], "Maximum welfare": [0.9, 0.5], "x": [0.1, 0.2]}
    svg = frontier_svg([[0.1, 0.2], [0.9, 0.5]], ("N", "S"), both, render=ENGLISH)
    assert "Nash bargaining, Maximum welfare at 0.90, 0.50; x at 0.10, 0.20" in svg
    assert svg.count('class="mark"') == 2 and svg.count('class="mark-label"') == 3
    # near the right edge the names are written leftwards, so that they stay inside
    assert 'text-anchor="end" y="152.0" class="mark-label">Maximum welfare<' in svg
    assert 'text-anchor="end" y="139.0" class="mark-label">Nash bargaining<' in svg


def test_the_charts_and_why_a_frontier_is_empty_in_russian() -> None:
    fact = RedLineFact(side=0, text="x", firmness=1, stated=False)
    charts = analysis_charts(
        _findings(["N", "S"], {"s0-no-i1-1": fact}, zone=False), render=russian
    )
    assert charts["frontier_empty"] == (
        "ни один пакет не соблюдает все красные линии и минимально приемлемые уровни, "
        "поэтому границы Парето нет"
    )
    assert '<title id="map-t">Карта красных линий</title>' in str(charts["map"])
    assert "2 вопроса; вариантов, исключённых красными линиями: 1" in str(charts["map"])
    assert "Water: b (исключён)" in str(charts["map"])
    three = _findings(
        ["N", "S", "E"],
        {},
        utilities={"ks": {"N": 0.5, "S": 0.25, "E": 0.75}},
        packages={"ks": {"Water": "a", "Ports": "c"}},
    )
    charts = analysis_charts(three, render=russian)
    assert "здесь их 3" in str(charts["frontier_empty"])
    assert "Решение Калаи — Смородинского: N 0,50, S 0,25, E 0,75" in str(charts["utilities"])
    svg = frontier_svg([[k / 9, 1 - k / 9] for k in range(10)], ("N", "S"), {}, 500, render=russian)
    assert "500 точек, показано 10" in svg and "полезность для стороны «N»" in svg
    for chart in (*charts.values(), svg):
        assert [english for english in ENGLISH_CHART_TEXTS if english in str(chart)] == []


def test_the_analysis_and_history_pages_draw_their_charts_in_the_accounts_language(
    platform: Platform, world: World, clients: Callable[[str], Browserless]
) -> None:
    _round_two(platform, world)
    accounts.set_language(platform, world.actors["facilitator"], "ru")
    f, d = clients("facilitator").client, world.dialogue_id
    analysis = f.get(f"/d/{d}/analysis").text
    assert '<html lang="ru"' in analysis
    assert '<title id="map-t">Карта красных линий</title>' in analysis
    assert '<title id="frontier-t">Граница Парето</title>' in analysis
    assert "По горизонтали — полезность для стороны «Side A»" in analysis
    found = f.get(f"/d/{d}/history").text
    assert '<title id="convergence-t">Сближение позиций по раундам</title>' in found
    assert "раунд 1: пересечение есть в" in found and ">Р2<" in found
    for page in (analysis, found):
        assert [english for english in ENGLISH_CHART_TEXTS if english in page] == []


def test_chart_texts_are_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    fact = RedLineFact(side=0, text="x", firmness=1, stated=False)
    findings = _findings(["N", "S"], {"s0-no-i1-1": fact}).model_copy(
        update={"issues": {"i1": hostile, "i2": "Ports"}}
    )
    for svg in (
        redline_map_svg(findings, render=ENGLISH),
        utilities_svg({hostile: {hostile: 0.5}}, [hostile], render=ENGLISH),
        frontier_svg([[0.1, 0.9]], (hostile, hostile), {hostile: [0.1, 0.9]}, render=ENGLISH),
    ):
        assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_releases_page_groups_by_recipient(
    platform: Platform, world: World, clients: Callable[[str], Browserless]
) -> None:
    p, f, d = platform, world.actors["facilitator"], world.dialogue_id
    positions.save_position(p, world.actors["a1"], d, position_a(world))
    positions.save_position(p, world.actors["b1"], d, position_b(world))
    rounds.lock_round(p, f, d)
    e = evaluations.evaluate(p, f, d)
    releases.release(p, f, d, e, world.delegation_b, "zone")
    releases.release(p, f, d, e, world.delegation_a, "zone")
    releases.release(p, f, d, e, world.delegation_b, "overlap", world.issues[0])
    page = clients("facilitator").client.get(f"/d/{d}/releases").text
    assert page.count('<h2 id="to-') == 2
    assert "To Side A" in page and "To Side B" in page
    assert page.index("To Side A") < page.index("To Side B")
