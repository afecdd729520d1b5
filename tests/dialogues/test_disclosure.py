"""What a side learns: only the records :func:`disclose` makes, and no more.

* ``disclose`` is a function of exactly what its kind reveals (the zone, one issue's
  overlap, the audience's own red line and whether it clashes, a package of the
  evaluation), whatever else the findings hold;
* end to end, on fresh databases: two private positions of side A that give side B the
  same records give B byte-identical releases pages (HTML and JSON) and log;
* a clash is refused for another side's red line, a package exists only when the
  evaluation made it;
* a side trying to bisect the other side's walk-away level gets at most
  ``evaluations_per_round`` evaluations per round, each one in both sides' logs.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backchannel.errors import InputError, NotAllowedNow, NotFound
from backchannel.model.dialogue import (
    Agenda,
    AgendaIssue,
    Firmness,
    IfThen,
    Position,
    Side,
    Unacceptable,
    importance_weights,
)
from backchannel.model.disclosure import Disclosed, Kind, disclose, frontier_sides
from backchannel.model.findings import Findings
from backchannel.services import (
    accounts,
    audit_log,
    dialogues,
    evaluations,
    releases,
    rounds,
)
from backchannel.services.access import Actor
from backchannel.services.platform import Platform
from backchannel.services.positions import save_position
from backchannel.web.app import create_app
from conftest import PASSWORD, close, make_settings

from .conftest import sign_in

AGENDA = Agenda(
    issues=[
        AgendaIssue(id="i1", name="Ceasefire", kind="ordered", options=["none", "partial", "full"]),
        AgendaIssue(id="i2", name="Sanctions", kind="ordered", options=["keep", "ease", "lift"]),
        AgendaIssue(id="i3", name="Monitors", kind="unordered", options=["un", "osce"]),
    ]
)
ISSUES = [(i.id, list(i.options)) for i in AGENDA.issues]
SIDES = ("Side A", "Side B", "Absent Z")
B = 1  # side B's index in the findings (A 0, B 1, Z 2)
RULES = ("nash", "ks", "egalitarian", "welfare")
TIME_LIMIT = 5.0
QUICK = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


# ------------------------------------------------------------------ strategies
@st.composite
def positions(draw: st.DrawFn, absent: bool = False) -> Position:
    """A random position on AGENDA (red lines only for an absent stakeholder)."""
    importance: dict[str, int] = {}
    ratings: dict[str, dict[str, int]] = {}
    if not absent:
        for issue_id, options in ISSUES:
            if draw(st.booleans()):
                importance[issue_id] = draw(st.integers(1, 5))
            rated = draw(st.lists(st.sampled_from(options), unique=True))
            if rated:
                ratings[issue_id] = {o: draw(st.integers(0, 100)) for o in rated}
    unacceptable = [
        Unacceptable(issue=i, option=o, firmness=f)
        for i, o, f in draw(
            st.lists(
                st.sampled_from(ISSUES).flatmap(
                    lambda issue: st.tuples(
                        st.just(issue[0]),
                        st.sampled_from(issue[1]),
                        st.sampled_from(list(Firmness)),
                    )
                ),
                max_size=2,
            )
        )
    ]
    rules_ = []
    if draw(st.booleans()):
        first, then = draw(
            st.lists(st.sampled_from(ISSUES), min_size=2, max_size=2, unique_by=lambda i: i[0])
        )
        rules_.append(
            IfThen(
                if_issue=first[0],
                if_options=draw(st.lists(st.sampled_from(first[1]), min_size=1, unique=True)),
                then_issue=then[0],
                then_options=draw(st.lists(st.sampled_from(then[1]), min_size=1, unique=True)),
            )
        )
    return Position(
        importance=importance,
        ratings=ratings,
        unacceptable=unacceptable,
        rules=rules_,
        walk_away=None if absent else draw(st.none() | st.integers(0, 100)),
        note=draw(st.text(max_size=20)),
    )


@st.composite
def two_of_side_a(draw: st.DrawFn) -> tuple[Position, Position]:
    """Two private positions of side A: unrelated, or one a small change of the other."""
    first = draw(positions())
    change = draw(st.sampled_from(["note", "walk_away", "ratings", "other"]))
    if change == "note":
        second = first.model_copy(update={"note": first.note + " (revised)"})
    elif change == "walk_away":
        second = first.model_copy(update={"walk_away": draw(st.none() | st.integers(0, 100))})
    elif change == "ratings":
        second = first.model_copy(update={"ratings": draw(positions()).ratings})
    else:
        second = draw(positions())
    return first, second


def findings_of(a: Position, b: Position, z: Position) -> Findings:
    sides = [
        Side(name=SIDES[0], position=a),
        Side(name=SIDES[1], position=b),
        Side(name=SIDES[2], absent=True, position=z),
    ]
    return evaluations.findings_of(AGENDA, sides, "Channel talks", TIME_LIMIT)


# ------------------------------------------------------------------ what each kind reveals
def clashes(findings: Findings, red_line: str) -> bool:
    """Whether a conflict set joins ``red_line`` with a red line of another side."""
    own = findings.red_lines[red_line].side
    return any(
        red_line in group and any(findings.red_lines[r].side != own for r in group)
        for group in findings.clash_sets
    )


def revealed(findings: Findings, kind: Kind, parameter: str, side: int | None) -> object:
    """Everything a disclosure may depend on (what it reveals), or "refused"."""
    if kind is Kind.ZONE:
        return "refused" if findings.zone is None else findings.zone
    if kind is Kind.OVERLAP:
        if parameter not in findings.overlap:
            return "refused"
        return findings.issues[parameter], findings.overlap[parameter]
    if kind is Kind.CLASH:
        fact = findings.red_lines.get(parameter)
        if fact is None or side is None or fact.side != side:
            return "refused"
        return fact.text, clashes(findings, parameter)
    if kind is Kind.FRONTIER:
        sides = frontier_sides(findings)
        if not findings.frontier or sides is None:
            return "refused"
        marks = {rule: [u[sides[0]], u[sides[1]]] for rule, u in findings.utilities.items()}
        total = max(findings.frontier_size, len(findings.frontier))
        return sides, sorted(findings.frontier), total, marks
    if parameter.startswith("partial:"):
        package = findings.partial_packages.get(parameter.removeprefix("partial:"))
    else:
        package = findings.packages.get(parameter)
    return "refused" if package is None else (parameter.startswith("partial:"), package)


def record(findings: Findings, kind: Kind, parameter: str, side: int | None) -> bytes | str:
    """The record's bytes as the audience receives them, or "refused"."""
    try:
        return disclose(findings, kind, parameter, side).model_dump_json().encode()
    except InputError:
        return "refused"


def hybrid(mine: Findings, other: Findings, kind: Kind) -> Findings:
    """``other`` with only what ``kind`` reads taken from ``mine``."""
    fields: dict[str, tuple[str, ...]] = {
        Kind.ZONE: ("zone",),
        Kind.OVERLAP: ("overlap", "issues"),
        Kind.CLASH: ("red_lines", "clash_sets"),
        Kind.PACKAGE: ("packages", "partial_packages"),
        Kind.FRONTIER: ("sides", "frontier", "frontier_size", "utilities"),
    }
    return other.model_copy(update={name: getattr(mine, name) for name in fields[kind]})


def menu(*found: Findings) -> list[tuple[Kind, str]]:
    """Every disclosure one could ask for about these findings (and a few that do not fit)."""
    out = [(Kind.ZONE, "")]
    out += [(Kind.OVERLAP, i) for i in ["i1", "i2", "i3", "nope"]]
    red_lines = [*sorted({r for f in found for r in f.red_lines}), "s1-no-i9-0"]
    out += [(Kind.CLASH, r) for r in red_lines]
    rules = sorted({r for f in found for r in [*f.packages, *f.partial_packages]} | set(RULES))
    out += [(Kind.PACKAGE, r) for r in rules] + [(Kind.PACKAGE, "partial:" + r) for r in rules]
    return [*out, (Kind.FRONTIER, "")]


@QUICK
@given(two_of_side_a(), positions(), positions(absent=True))
def test_a_disclosure_depends_on_exactly_what_its_kind_reveals(
    side_a: tuple[Position, Position], b: Position, z: Position
) -> None:
    x, x_prime = side_a
    first, second = findings_of(x, b, z), findings_of(x_prime, b, z)
    for kind, parameter in menu(first, second):
        for side in (0, B, 2, None):
            one, two = record(first, kind, parameter, side), record(second, kind, parameter, side)
            what_one = revealed(first, kind, parameter, side)
            what_two = revealed(second, kind, parameter, side)
            assert (one == "refused") == (what_one == "refused"), (kind, parameter, side)
            # the same thing revealed <=> the same bytes received
            assert (one == two) == (what_one == what_two), (kind, parameter, side, one, two)
            # and it reads nothing else: the rest of the findings may be anything
            assert record(hybrid(first, second, kind), kind, parameter, side) == one


def test_the_zone_disclosure_reveals_exactly_the_zone() -> None:
    seen: dict[object, set[bytes | str]] = {}

    @QUICK
    @given(positions(), positions(), positions(absent=True), st.sampled_from([0, B, None]))
    def check(a: Position, b: Position, z: Position, side: int | None) -> None:
        found = findings_of(a, b, z)
        got = record(found, Kind.ZONE, "", side)
        seen.setdefault(found.zone, set()).add(got)
        if found.zone is None:
            assert got == "refused"
        else:
            told = Disclosed.model_validate_json(got)
            assert told.package is None
            assert told.headline.endswith("yes." if found.zone else "no.")

    check()
    assert set(seen) >= {True, False}, "both answers must occur among the examples"
    # one record per value of the zone, and different values give different records
    assert all(len(records) == 1 for records in seen.values()), seen
    assert len({next(iter(r)) for r in seen.values()}) == len(seen)


@QUICK
@given(positions(), positions(), positions(absent=True))
def test_a_clash_is_refused_for_another_sides_red_line(
    a: Position, b: Position, z: Position
) -> None:
    found = findings_of(a, b, z)
    for red_line, fact in found.red_lines.items():
        for side in (0, 1, 2, None):
            got = record(found, Kind.CLASH, red_line, side)
            if side != fact.side:
                assert got == "refused", (red_line, side)
            else:
                told = Disclosed.model_validate_json(got)
                answer = "yes" if clashes(found, red_line) else "no"
                # exactly the own red line and the answer: never whose or which it clashes with
                # (a containment check would be fooled by one text that extends another)
                assert told.headline == (
                    f"Your red line “{fact.text}” clashes with another side: {answer}."
                )
                assert told.package is None


@QUICK
@given(
    positions(),
    positions(),
    positions(absent=True),
    st.lists(st.sampled_from(RULES) | st.text(max_size=12), max_size=6),
)
def test_a_package_comes_only_from_the_evaluations_packages(
    a: Position, b: Position, z: Position, asked: list[str]
) -> None:
    found = findings_of(a, b, z)
    for rule in [*asked, *RULES, *found.packages, *found.partial_packages]:
        for parameter in (rule, "partial:" + rule):
            pool = found.partial_packages if parameter.startswith("partial:") else found.packages
            got = record(found, Kind.PACKAGE, parameter, B)
            if rule not in pool:
                assert got == "refused", parameter
            else:
                told = Disclosed.model_validate_json(got)
                assert told.package == pool[rule]
                assert set(told.package) <= set(found.issues.values())


# ------------------------------------------------------------------ end to end
@dataclass
class World:
    platform: Platform
    dialogue_id: str
    a: str
    b: str
    z: str
    actors: dict[str, Actor]


def build(platform: Platform, per_round: int = 1) -> World:
    """A dialogue on AGENDA (fixed issue ids): sides A (a1), B (b1), absent Z; round 1."""
    actors = {}
    for name in ("facilitator", "a1", "b1"):
        row, _ = accounts.create_user(platform, name, f"Name of {name}", PASSWORD)
        actors[name] = Actor(row.id, row.username, row.display_name)
    f = actors["facilitator"]
    dialogue_id = dialogues.create_dialogue(
        platform, f, "Channel talks", evaluations_per_round=per_round
    )
    dialogues.set_agenda(platform, f, dialogue_id, AGENDA)
    a, b, z = (
        dialogues.add_delegation(platform, f, dialogue_id, SIDES[0]),
        dialogues.add_delegation(platform, f, dialogue_id, SIDES[1]),
        dialogues.add_delegation(platform, f, dialogue_id, SIDES[2], absent=True),
    )
    for name, side in (("a1", a), ("b1", b)):
        dialogues.add_member(
            platform,
            f,
            dialogue_id,
            name,
            "member",
            delegation_id=side,
            track="expert",
            pseudonym=f"Delegate {name}",
        )
    rounds.open_round(platform, f, dialogue_id)
    return World(platform, dialogue_id, a, b, z, actors)


@contextmanager
def fresh_platform() -> Iterator[Platform]:
    with tempfile.TemporaryDirectory() as folder:
        platform = Platform.open(make_settings(Path(folder)), upgrade=True)
        try:
            yield platform
        finally:
            close(platform)


def normalised(text: str, world: World) -> str:
    text = text.replace(world.dialogue_id, "DIALOGUE")
    text = re.sub(r'name="csrf" value="[^"]+"', 'name="csrf" value="CSRF"', text)
    text = re.sub(r'"id":"[^"]+"', '"id":"ID"', text)  # random (new_id), as are times
    text = re.sub(r'<time datetime="[^"]+">[^<]+</time>', "<time>AT</time>", text)  # the page
    return re.sub(r'"(released_)?at":"[^"]+"', r'"\1at":"AT"', text)


def what_b_sees(
    x: Position, b: Position, z: Position, asked: list[tuple[Kind, str]]
) -> tuple[list[bytes | str], dict[str, str]]:
    """On a fresh database: B's records for ``asked``, and B's pages after the releases."""
    with fresh_platform() as platform:
        world = build(platform)
        f, p, d = world.actors["facilitator"], platform, world.dialogue_id
        save_position(p, world.actors["a1"], d, x)
        save_position(p, world.actors["b1"], d, b)
        save_position(p, f, d, z, world.z)
        rounds.lock_round(p, f, d)
        evaluation_id = evaluations.evaluate(p, f, d)
        (evaluation,) = evaluations.evaluations(p, f, d)
        records = []
        for kind, parameter in asked:
            records.append(record(evaluation.findings, kind, parameter, B))
            try:
                releases.release(p, f, d, evaluation_id, world.b, kind.value, parameter)
            except InputError:
                assert records[-1] == "refused"
            except NotAllowedNow:  # the same finding again: told once (issue 10 §2)
                assert records[-1] in records[:-1]
        app = create_app(platform.settings, platform)
        member = sign_in(app, "b1")
        pages = {}
        for path in (f"/d/{d}/releases", f"/api/v1/dialogues/{d}/releases"):
            response = member.client.get(path)
            assert response.status_code == 200, response.text
            pages[path.replace(d, "D")] = normalised(response.text, world)
        log = member.client.get(f"/api/v1/dialogues/{d}/log")
        pages["log"] = normalised(log.text, world)
        member.client.close()
        if len(x.note.strip()) >= 8:  # A's private note never reaches B's pages
            assert x.note not in "".join(pages.values())
        return records, pages


def test_b_gets_byte_identical_pages_whenever_the_disclosures_are_the_same() -> None:
    outcomes: Counter[bool] = Counter()

    @settings(QUICK, max_examples=10)
    @given(
        two_of_side_a(),
        positions(),
        positions(absent=True),
        st.lists(
            st.sampled_from(
                [(Kind.ZONE, ""), (Kind.OVERLAP, "i1"), (Kind.OVERLAP, "i3")]
                + [(Kind.CLASH, f"s1-no-{i}-{n}") for i in ("i1", "i2") for n in range(3)]
                + [(Kind.PACKAGE, r) for r in RULES]
                + [(Kind.PACKAGE, "partial:nash")]
            ),
            min_size=1,
            max_size=4,
        ),
    )
    def check(
        side_a: tuple[Position, Position], b: Position, z: Position, asked: list[tuple[Kind, str]]
    ) -> None:
        x, x_prime = side_a
        records, pages = what_b_sees(x, b, z, asked)
        records_prime, pages_prime = what_b_sees(x_prime, b, z, asked)
        equal = records == records_prime
        outcomes[equal] += 1
        if equal:
            assert pages == pages_prime  # byte for byte, after ids and timestamps
        else:  # the page shows what was released: different records, different pages
            assert pages["/d/D/releases"] != pages_prime["/d/D/releases"]
            assert (
                pages["/api/v1/dialogues/D/releases"] != pages_prime["/api/v1/dialogues/D/releases"]
            )

    check()
    assert outcomes[True] > 0, outcomes


def test_refused_disclosures_leave_no_trace(platform: Platform) -> None:
    world = build(platform)
    f, p, d = world.actors["facilitator"], platform, world.dialogue_id
    a_line = Position(unacceptable=[Unacceptable(issue="i2", option="lift")], walk_away=10)
    b_line = Position(unacceptable=[Unacceptable(issue="i1", option="full")])
    save_position(p, world.actors["a1"], d, a_line)
    save_position(p, world.actors["b1"], d, b_line)
    rounds.lock_round(p, f, d)
    evaluation_id = evaluations.evaluate(p, f, d)
    before = [e.seq for e in audit_log.entries(p, f, d)]
    for audience, kind, parameter in (
        (world.b, "clash", "s0-no-i2-2"),  # A's red line, to B
        (releases.OBSERVERS, "clash", "s1-no-i1-2"),  # B's red line, to the observers
        (world.a, "clash", "s1-no-i1-2"),  # B's red line, to A
        (world.z, "zone", ""),  # an absent stakeholder is no audience
        (world.b, "package", "no-such-rule"),
        (world.b, "overlap", "i9"),
    ):
        with pytest.raises(InputError):
            releases.release(p, f, d, evaluation_id, audience, kind, parameter)
    assert [e.seq for e in audit_log.entries(p, f, d)] == before
    assert releases.released_to_me(p, world.actors["b1"], d) == []
    releases.release(p, f, d, evaluation_id, world.b, "clash", "s1-no-i1-2")
    (told,) = releases.released_to_me(p, world.actors["b1"], d)
    assert told.disclosed.kind is Kind.CLASH
    assert releases.released_to_me(p, world.actors["a1"], d) == []

    # round 2: A walks away from everything, so the evaluation has no package at all
    rounds.open_round(p, f, d)
    save_position(p, world.actors["a1"], d, a_line.model_copy(update={"walk_away": 100}))
    rounds.lock_round(p, f, d)
    second = evaluations.evaluate(p, f, d)
    found = evaluations.evaluations(p, f, d)[0].findings
    assert found.zone is False and not found.packages and not found.partial_packages
    for rule in RULES:
        with pytest.raises(InputError, match="no package"):
            releases.release(p, f, d, second, world.b, "package", rule)
    with pytest.raises(NotAllowedNow, match="earlier round"):  # round 1's packages are gone
        releases.release(p, f, d, evaluation_id, world.b, "package", "nash")


# ------------------------------------------------------------------ a bisecting attacker
def utility_of_a(position: Position, package: dict[str, str]) -> float:
    weights = importance_weights(AGENDA, position.importance)
    return (
        sum(
            weights[issue.name] / 100 * position.ratings.get(issue.id, {}).get(package[issue.id], 0)
            for issue in AGENDA.issues
        )
        / 100
    )


def pinning(package: dict[str, str]) -> Position:
    """B's position that leaves exactly ``package`` admissible for B."""
    return Position(
        unacceptable=[
            Unacceptable(issue=issue.id, option=o)
            for issue in AGENDA.issues
            for o in issue.options
            if o != package[issue.id]
        ]
    )


def test_a_bisecting_attacker_gets_one_rationed_answer_per_round(platform: Platform) -> None:
    per_round = 2
    world = build(platform, per_round=per_round)
    f, p, d = world.actors["facilitator"], platform, world.dialogue_id
    a1, b1 = world.actors["a1"], world.actors["b1"]
    secret = Position(
        importance={"i1": 1, "i2": 2, "i3": 3},
        ratings={
            "i1": {"full": 100, "partial": 55},
            "i2": {"keep": 100, "ease": 35},
            "i3": {"un": 90},
        },
        walk_away=47,
    )
    save_position(p, a1, d, secret)
    # the attacker knows A's ratings (worst case) and bisects over the walk-away level
    packages = sorted(
        (
            {"i1": x, "i2": y, "i3": m}
            for x in AGENDA.issues[0].options
            for y in AGENDA.issues[1].options
            for m in AGENDA.issues[2].options
        ),
        key=lambda pk: utility_of_a(secret, pk),
    )
    low, high = 0, len(packages) - 1  # the cheapest package A accepts lies in [low, high]
    evaluations_run = 0
    rounds_used = 0
    while low < high:
        rounds_used += 1
        probe = packages[(low + high) // 2]
        save_position(p, b1, d, pinning(probe))
        with pytest.raises(NotFound):  # B cannot evaluate, nor lock
            evaluations.evaluate(p, b1, d)
        with pytest.raises(NotFound):
            rounds.lock_round(p, b1, d)
        rounds.lock_round(p, f, d)
        findings = []
        for _ in range(per_round):
            evaluations.evaluate(p, f, d)
            evaluations_run += 1
            findings.append(evaluations.evaluations(p, f, d)[0].findings)
        with pytest.raises(NotAllowedNow, match="are used"):  # nor the facilitator, more
            evaluations.evaluate(p, f, d)
        with pytest.raises(NotAllowedNow, match="frozen"):  # nor change B's inputs in the round
            save_position(p, b1, d, pinning(packages[high]))
        with pytest.raises(NotFound):  # nor the facilitator enter B's position
            save_position(p, f, d, pinning(packages[high]), world.b)
        # the second evaluation of the same frozen inputs tells nothing new
        assert all(found == findings[0] for found in findings)
        releases.release(p, f, d, evaluations.evaluations(p, f, d)[0].id, world.b, "zone")
        answer = releases.released_to_me(p, b1, d)[-1].disclosed.headline.endswith("yes.")
        if answer:
            high = (low + high) // 2
        else:
            low = (low + high) // 2 + 1
        # every evaluation so far is in both sides' logs, and in the shared order
        for member in (a1, b1):
            entries = [e for e in audit_log.entries(p, member, d) if e.action == "round.evaluated"]
            assert len(entries) == evaluations_run
        assert [e.at for e in audit_log.entries(p, a1, d) if e.action == "round.evaluated"] == [
            e.at for e in audit_log.entries(p, b1, d) if e.action == "round.evaluated"
        ]
        for view in rounds.rounds(p, b1, d):
            assert view.evaluations_used <= view.evaluations_allowed == per_round
        rounds.open_round(p, f, d)
    # the attack works only at one bit per round, visibly: here it needed this many rounds
    assert rounds_used >= 4 and evaluations_run == per_round * rounds_used
    assert utility_of_a(secret, packages[low]) >= secret.walk_away / 100  # type: ignore[operator]
    assert low == 0 or utility_of_a(secret, packages[low - 1]) < 0.47
    all_rounds = rounds.rounds(p, a1, d)
    assert sum(r.evaluations_used for r in all_rounds) == evaluations_run
    assert all(r.evaluations_used <= per_round for r in all_rounds)
