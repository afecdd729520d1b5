"""The example cases load, carry their sources, and show what they claim to show.

Feasibility is judged by the plain brute force of :mod:`.reference` (every package,
judged by ``Problem.is_admissible``). The JCPOA case has 196,830 packages, so it is
enumerated after removing the options that single-issue red lines rule out, which
no admissible package can use; the two enumerations are checked to agree on the
smaller cases.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest

from backchannel.formats.cases import load_problem
from backchannel.model.case import Case, Option, PartyRole, Visibility
from backchannel.model.problem import ConstraintKind, Package, Problem

from .reference import admissible, all_packages

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
US_RUSSIA = EXAMPLES / "us_russia_ukraine.yaml"
CAMP_DAVID = EXAMPLES / "camp_david_1978.yaml"
JCPOA = EXAMPLES / "jcpoa_2015.yaml"
OURS = (US_RUSSIA, CAMP_DAVID, JCPOA)

CORE = ["territory", "alignment", "armed_forces_limits", "sanctions"]
PARTIAL = ["prisoners", "black_sea", "nuclear_arms_control", "zaporizhzhia_npp"]


def load(path: Path) -> tuple[Case, Problem]:
    return load_problem(path)


def pruned_admissible(problem: Problem) -> list[Package]:
    """Brute force over the options that no single-issue red line rules out."""
    allowed = [set(range(issue.size)) for issue in problem.issues]
    for constraint in problem.constraints:
        for clause in constraint.clauses:
            if len(clause) == 1:
                allowed[clause[0].issue] &= clause[0].allowed
    domains = [sorted(options) for options in allowed]
    return [x for x in itertools.product(*domains) if problem.is_admissible(x)]


def cheapest_relaxations(problem: Problem) -> tuple[float, set[frozenset[str]]]:
    """Least total firmness of the constraints a package breaks, and which sets do it.

    Dropping exactly the constraints a package violates makes it admissible, so the
    cheapest relaxation is the minimum of that cost over every package.
    """
    best = math.inf
    sets: set[frozenset[str]] = set()
    for x in all_packages(problem):
        broken = problem.violated(x)
        cost = sum(c.firmness for c in broken)
        ids = frozenset(c.id for c in broken)
        if cost < best - 1e-9:
            best, sets = cost, {ids}
        elif abs(cost - best) <= 1e-9:
            sets.add(ids)
    return best, sets


def outcome_package(case: Case, problem: Problem) -> Package:
    """The historical outcome recorded in the case's ``metadata.outcome``."""
    outcome = case.metadata["outcome"]
    assert set(outcome) == {issue.name for issue in problem.issues}
    return tuple(issue.values.index(outcome[issue.name]) for issue in problem.issues)


def stated_ids(problem: Problem, party: str) -> set[str]:
    return {c.id for c in problem.constraints if c.party == party and c.stated}


# ------------------------------------------------------------ every example


@pytest.mark.parametrize(
    "path", sorted(EXAMPLES.glob("*.yaml")) + sorted(EXAMPLES.glob("*.json")), ids=str
)
def test_every_example_loads_and_compiles(path: Path) -> None:
    case, problem = load(path)
    assert problem.n_packages >= 2
    assert len(problem.issues) == len(case.issues)
    assert problem.utility_parties


@pytest.mark.parametrize("path", OURS, ids=lambda p: p.stem)
def test_sources_and_illustrative_flags(path: Path) -> None:
    case, _ = load(path)
    assert case.sources
    assert "ILLUSTRATIVE" in (case.description or "")
    assert "ILLUSTRATIVE" in path.read_text(encoding="utf-8").split("title:")[0]
    for issue in case.issues:
        for option in issue.options or []:
            assert isinstance(option, Option), (issue.name, option)
            assert option.description and option.source, (issue.name, option.name)
    for party in case.parties:
        if party.role is PartyRole.DELEGATION:
            assert party.illustrative, party.name
            assert party.reservation is not None, party.name
        for line in party.red_lines:
            if line.visibility is Visibility.STATED:
                assert line.source and line.description, line.id
            else:
                assert line.source is None, f"{line.id}: only stated red lines cite a source"
                assert (line.description or "").startswith("Illustrative"), line.id


# ------------------------------------------------------------------ US-Russia


@pytest.fixture(scope="module")
def us_russia() -> tuple[Case, Problem]:
    return load(US_RUSSIA)


def test_us_russia_agenda_and_parties(us_russia: tuple[Case, Problem]) -> None:
    case, problem = us_russia
    assert [issue.name for issue in problem.issues] == CORE + PARTIAL
    assert problem.n_packages == 4 * 4 * 4 * 4 * 3 * 4 * 3 * 3
    assert problem.parties == ("US", "Russia", "Ukraine")
    assert problem.utility_parties == ("US", "Russia")
    ukraine = next(p for p in case.parties if p.name == "Ukraine")
    assert ukraine.role is PartyRole.ABSENT
    assert ukraine.weights is None and ukraine.ratings is None
    assert len(ukraine.red_lines) >= 4
    for line in ukraine.red_lines:
        assert line.visibility is Visibility.STATED, line.id
        assert line.source, line.id


def test_us_russia_full_agenda_has_no_admissible_package(
    us_russia: tuple[Case, Problem],
) -> None:
    _, problem = us_russia
    assert admissible(problem) == []


@pytest.mark.parametrize("issue", CORE)
def test_us_russia_each_core_issue_is_a_stated_clash(
    us_russia: tuple[Case, Problem], issue: str
) -> None:
    """On each of issues 1-4 alone, Russia's and Ukraine's stated lines leave nothing."""
    _, problem = us_russia
    alone = problem.restricted_to([issue])
    assert admissible(alone) == []
    stated = [c for c in alone.constraints if c.stated and not c.is_utility]
    assert {c.party for c in stated} >= {"Russia", "Ukraine"}
    for option in range(alone.issues[0].size):
        blockers = alone.violated((option,), stated)
        assert blockers, f"{issue}: option {alone.issues[0].labels[option]} is open"
    # The stated lines of the two alone already clash: no private line is needed.
    only_stated = alone.without(c.id for c in alone.constraints if not c.stated)
    assert admissible(only_stated) == []


def test_us_russia_partial_deal_on_issues_5_to_8(us_russia: tuple[Case, Problem]) -> None:
    _, problem = us_russia
    partial = problem.restricted_to(PARTIAL)
    found = admissible(partial)
    assert len(found) == 13
    assert len(found) == len(pruned_admissible(partial))
    # the only viable arrangement for the plant is the IAEA's five principles
    assert {partial.package_labels(x)["zaporizhzhia_npp"] for x in found} == {
        "iaea_five_principles"
    }
    # a conditional red line binds inside the partial deal, and it bites
    conditional = [c for c in partial.constraints if c.kind is ConstraintKind.CONDITIONAL]
    assert [c.id for c in conditional] == ["us-grain-for-prisoners"]
    assert len(admissible(partial.without(["us-grain-for-prisoners"]))) == 15
    for x in found:
        labels = partial.package_labels(x)
        if labels["black_sea"] == "us_navigation_deal":
            assert labels["prisoners"] != "case_by_case_swaps"


def test_us_russia_black_sea_is_conditional_on_sanctions(
    us_russia: tuple[Case, Problem],
) -> None:
    _, problem = us_russia
    line = problem.constraint("ru-black-sea-needs-sanctions-relief")
    assert line.kind is ConstraintKind.CONDITIONAL and line.stated
    assert {problem.issues[i].name for i in line.issues()} == {"black_sea", "sanctions"}
    # it cannot be judged on the partial-deal agenda, which has no sanctions issue
    partial = problem.restricted_to(PARTIAL)
    assert "ru-black-sea-needs-sanctions-relief" not in {c.id for c in partial.constraints}
    with_sanctions = problem.restricted_to(["sanctions", *PARTIAL])
    assert "ru-black-sea-needs-sanctions-relief" in {c.id for c in with_sanctions.constraints}


def test_us_russia_cheapest_relaxation(us_russia: tuple[Case, Problem]) -> None:
    """Drop Russia's four-regions and all-sanctions lines, Ukraine's no-neutrality and
    no-army-cap lines (firmness 3 + 2 + 2 + 2): the unique cheapest way to a zone."""
    _, problem = us_russia
    relax = {"ru-four-regions", "ru-all-sanctions-lifted", "ua-no-neutrality", "ua-no-army-cap"}
    cost, sets = cheapest_relaxations(problem)
    assert cost == 9
    assert sets == {frozenset(relax)}
    relaxed = problem.without(relax)
    found = admissible(relaxed)
    assert len(found) == 34
    for x in found:
        labels = relaxed.package_labels(x)
        assert labels["territory"] == "freeze_on_line_of_contact"
        assert labels["alignment"] == "istanbul_neutrality"
        assert labels["armed_forces_limits"] == "cap_600k"
    # every smaller relaxation of this set leaves no zone
    for kept in relax:
        assert admissible(problem.without(relax - {kept})) == []


# ---------------------------------------------------------------- Camp David


@pytest.fixture(scope="module")
def camp_david() -> tuple[Case, Problem]:
    return load(CAMP_DAVID)


def test_camp_david_no_zone_until_settlements_line_is_dropped(
    camp_david: tuple[Case, Problem],
) -> None:
    case, problem = camp_david
    assert len(problem.issues) == 9
    assert problem.utility_parties == ("Egypt", "Israel")
    assert admissible(problem) == []
    assert admissible(problem.restricted_to(["sinai_settlements"])) == []
    relaxed = problem.without(["il-keep-sinai-settlements"])
    found = admissible(relaxed)
    assert len(found) == 21
    assert found == pruned_admissible(relaxed)
    outcome = outcome_package(case, problem)
    assert outcome in found
    assert [c.id for c in problem.violated(outcome)] == ["il-keep-sinai-settlements"]
    assert {relaxed.package_labels(x)["linkage"] for x in found} == {"two_frameworks"}


def test_camp_david_settlements_line_is_the_cheapest_relaxation(
    camp_david: tuple[Case, Problem],
) -> None:
    _, problem = camp_david
    line = problem.constraint("il-keep-sinai-settlements")
    assert line.stated and line.firmness == 2
    assert cheapest_relaxations(problem) == (2, {frozenset({"il-keep-sinai-settlements"})})


# --------------------------------------------------------------------- JCPOA


@pytest.fixture(scope="module")
def jcpoa() -> tuple[Case, Problem]:
    return load(JCPOA)


def test_jcpoa_agenda(jcpoa: tuple[Case, Problem]) -> None:
    _, problem = jcpoa
    assert len(problem.issues) == 11
    assert problem.utility_parties == ("Iran", "P5+1")
    duration = problem.issues[problem.issue_index("duration_years")]
    assert duration.values == (5, 10, 15, 20, 25)
    assert duration.labels[2] == "15 years"
    assert problem.n_packages == 3**9 * 2 * 5


def test_jcpoa_stated_lines_clash(jcpoa: tuple[Case, Problem]) -> None:
    _, problem = jcpoa
    assert pruned_admissible(problem) == []
    private = [c.id for c in problem.constraints if not c.stated]
    assert pruned_admissible(problem.without(private)) == []


def test_jcpoa_deal_crosses_stated_lines_but_not_private_ones(
    jcpoa: tuple[Case, Problem],
) -> None:
    case, problem = jcpoa
    deal = outcome_package(case, problem)
    assert {c.id for c in problem.violated(deal)} == {
        "ir-sanctions-on-signing",
        "ir-no-long-restrictions",
        "ir-no-military-site-inspections",
    }
    private = [c for c in problem.constraints if c.party == "Iran" and not c.stated]
    assert len(private) >= 5
    assert not problem.violated(deal, private)
    relaxed = problem.without(stated_ids(problem, "Iran"))
    found = pruned_admissible(relaxed)
    assert deal in found
    assert len(found) == 23
    # the P5+1 bottom lines all hold at the deal ("met every single one")
    assert not problem.violated(deal, [problem.constraint(i) for i in stated_ids(problem, "P5+1")])


def test_pruned_enumeration_agrees_with_reference(
    us_russia: tuple[Case, Problem], camp_david: tuple[Case, Problem]
) -> None:
    for problem in (us_russia[1], camp_david[1]):
        for ids in ([], [c.id for c in problem.constraints if not c.stated]):
            reduced = problem.without(ids)
            assert pruned_admissible(reduced) == admissible(reduced)


# ------------------------------------------------------------ docs example


def test_worked_example_in_the_docs(tmp_path: Path) -> None:
    text = (EXAMPLES.parent / "docs" / "reference" / "case-file.md").read_text(encoding="utf-8")
    section = text.split("## Worked example", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "worked.yaml"
    path.write_text(block, encoding="utf-8")
    _, problem = load_problem(path)
    assert problem.n_packages == 6
    found = admissible(problem)
    assert [problem.package_labels(x) for x in found] == [
        {"ceasefire": "local", "prisoners": "all_for_all"}
    ]
    assert problem.utility(found[0]) == pytest.approx((0.76, 0.55))
    assert problem.utility((1, 0)) == pytest.approx((0.48, 0.85))
    relaxed = problem.without(["b-no-full-ceasefire"])
    assert [relaxed.package_labels(x) for x in admissible(relaxed)] == [
        {"ceasefire": "local", "prisoners": "all_for_all"},
        {"ceasefire": "full", "prisoners": "swaps"},
    ]
    assert problem.utility((2, 0)) == pytest.approx((0.72, 0.5))
    assert problem.utility((2, 1)) == pytest.approx((1.0, 0.2))


def test_docs_state_the_definitions_exactly() -> None:
    text = (EXAMPLES.parent / "docs" / "reference" / "case-file.md").read_text(encoding="utf-8")
    assert (
        "utility u_p of a package = Σ weight × rating, normalised to [0,1]; "
        "disagreement point d_p = reservation value (0 when none is given); a package "
        "is **admissible** when it respects every red line of every party (absent "
        "stakeholders included) and u_p ≥ d_p for every party."
    ) in text
