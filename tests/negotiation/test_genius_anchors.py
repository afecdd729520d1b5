"""The 15 anchor domains load, compile, and give Genius' utilities (checked by hand)."""

from __future__ import annotations

import random

import defusedxml.ElementTree as SafeET
import pytest

from backchannel.formats.genius.folder import is_genius_folder, load_genius_folder
from backchannel.model.case import Weighting
from backchannel.model.compile import compile_case
from backchannel.model.problem import AdditiveUtility, RectangleUtility

from .genius_support import ANCHORS, anchor, package_of, write_folder

# folder: (issues, parties, packages)
TABLE = {
    "anac2010-EnglandZimbabwe": (5, 2, 576),
    "anac2012-EnglandvsZimbabweA": (5, 2, 576),
    "anac2015-group2-politics": (8, 3, 23_040),
    "other-AMPOvsCity": (10, 2, 1_944_000),
    "anac2010-ItexvsCypress": (4, 2, 180),
    "anac2011-Energy": (8, 2, 390_625),
    "anac2010-Travel": (7, 2, 188_160),
    "anac2014-10issues": (10, 2, 10**10),
    "anac2014-50issues": (40, 2, 10**40),
    "anac2015-group9-killer_robot": (6, 5, 240_000),
    "other-QODomain": (6, 8, 1_296),
    "anac2016-AgentHp2": (8, 3, 7**8),
    "anac2013-Ultimatum": (2, 2, 9),
    "other-IntegerDomain": (2, 2, 121),
    "geniusweb-Party": (6, 2, 3_072),
}


def test_the_table_covers_every_anchor_folder() -> None:
    assert {p.name for p in ANCHORS.iterdir() if p.is_dir()} == set(TABLE)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_anchor_loads_and_compiles_with_the_readme_sizes(name: str) -> None:
    issues, parties, packages = TABLE[name]
    assert is_genius_folder(anchor(name))
    case = load_genius_folder(anchor(name))
    problem = compile_case(case, name)
    assert case.weighting is Weighting.AS_WRITTEN
    assert len(problem.issues) == issues
    assert len(problem.utility_parties) == parties
    assert problem.n_packages == packages
    # weights are used as written, so a utility can exceed 1 (QODomain sums to 1.9)
    caps = [sum(p.weights.values()) if p.weights else 1.0 for p in case.parties]
    rng = random.Random(7)
    for _ in range(50):
        pkg = tuple(rng.randrange(i.size) for i in problem.issues)
        for u, cap in zip(problem.utility(pkg), caps, strict=True):
            assert -1e-12 <= u <= cap + 1e-12


def test_parties_are_named_after_file_stems_in_file_name_order() -> None:
    case = load_genius_folder(anchor("other-QODomain"))
    assert [p.name for p in case.parties] == sorted(p.name for p in case.parties)
    assert "Side_A_utility" in [p.name for p in case.parties]
    assert not is_genius_folder(ANCHORS)


def test_weights_are_used_as_written_not_renormalised() -> None:
    case = load_genius_folder(anchor("other-QODomain"))
    problem = compile_case(case)
    long_term = problem.utility_parties.index("Side_BLongTerm")
    weights = next(p.weights for p in case.parties if p.name == "Side_BLongTerm")
    assert weights is not None
    assert sum(weights.values()) == pytest.approx(1.9)
    best = max(problem.utility(pkg)[long_term] for pkg in _all_packages(problem))
    assert best == pytest.approx(1.9)  # every issue at its best value: the weights' sum


def _all_packages(problem: object) -> list[tuple[int, ...]]:
    import itertools

    return list(itertools.product(*(range(i.size) for i in problem.issues)))  # type: ignore[attr-defined]


def test_england_zimbabwe_normalises_evaluations_per_issue() -> None:
    problem = compile_case(load_genius_folder(anchor("anac2010-EnglandZimbabwe")))
    pkg = package_of(
        problem,
        {
            "Size of Fund": "$100 Billion",
            "Impact on Other Aid": "No reduction",
            "Zimbabwe Trade Policy": "Zimbabwe will reduce tariffs on imports",
            "England Trade Policy": "England will reduce imports",
            "Forum on Other Health Issues": "Creation of fund",
        },
    )
    # England.xml: evaluations 5/9, 3/8, 12/12, 10/10, 7/10 times the weights as written
    expected = (
        0.3031462333758278 * 5 / 9
        + 0.303346839835533 * 3 / 8
        + 0.049028952379678074 * 12 / 12
        + 0.04904500802207314 * 10 / 10
        + 0.29543296638688804 * 7 / 10
    )
    england = problem.utility_parties.index("England")
    assert problem.utility(pkg)[england] == pytest.approx(expected, abs=1e-12)


def test_itex_vs_cypress_by_hand() -> None:
    problem = compile_case(load_genius_folder(anchor("anac2010-ItexvsCypress")))
    pkg = package_of(
        problem,
        {
            "Price": "$4.37",
            "Delivery": "60 days",
            "Payment": "Upon delivery",
            "Returns": "Full price",
        },
    )
    expected = (
        0.28812635027374 * 30 / 30
        + 0.1915290482981283 * 1 / 20
        + 0.24212575877553694 * 10 / 25
        + 0.2782188426525948 * 1 / 30
    )
    itex = problem.utility_parties.index("ItexvsCypress_Itex")
    assert problem.utility(pkg)[itex] == pytest.approx(expected, abs=1e-12)


def test_integer_domain_shifts_by_the_negative_lower_bound_and_clamps() -> None:
    problem = compile_case(load_genius_folder(anchor("other-IntegerDomain")))
    p1 = problem.utility_parties.index("IntegerDomain-prof1")

    def u(price: int, other: int) -> float:
        return problem.utility(package_of(problem, {"price": price, "otherprice": other}))[p1]

    def genius(price: int, other: int) -> float:  # prof1: 0.3 + 0.08 (v + 5); 0.1 (v + 5)
        clamp = lambda x: min(1.0, max(0.0, x))  # noqa: E731
        return 0.75 * clamp(0.3 + 0.08 * (price + 5)) + 0.25 * clamp(0.1 * (other + 5))

    assert u(0, 0) == pytest.approx(0.75 * 0.7 + 0.25 * 0.5, abs=1e-12)
    assert u(5, -5) == pytest.approx(0.75, abs=1e-12)  # 1.1 clamped to 1
    for price in range(-5, 6):
        for other in range(-5, 6):
            assert u(price, other) == pytest.approx(genius(price, other), abs=1e-12)
    assert problem.issues[0].values == tuple(range(-5, 6))


def test_ampo_vs_city_ids_from_2_and_raw_0_100_evaluations() -> None:
    case = load_genius_folder(anchor("other-AMPOvsCity"))
    problem = compile_case(case)
    assert case.metadata["issue_ids"]["Increase in starting salaries"] == 2
    assert min(case.metadata["issue_ids"].values()) == 2
    assert problem.disagreement == (0.0, 0.0)
    ampo = problem.utility_parties.index("ampo_vs_city_ampo_space")
    table = problem.utilities[ampo]
    assert isinstance(table, AdditiveUtility)
    first = problem.issue_index("Increase in starting salaries")
    # value "0" is listed twice (evaluation 0, then 8): the last one wins, as in Genius
    values = dict(zip(problem.issues[first].labels, table.tables[first], strict=True))
    assert values["0"] == pytest.approx(0.457 * 8 / 100)
    assert values["1000"] == pytest.approx(0.457)
    assert values["600"] == pytest.approx(0.457 * 84 / 100)


def test_ultimatum_reservation_and_discount_metadata() -> None:
    case = load_genius_folder(anchor("anac2013-Ultimatum"))
    problem = compile_case(case)
    assert problem.disagreement == (0.1, 0.1)
    assert case.metadata["discount"] == {"Ultimatum_util1": 0.05, "Ultimatum_util2": 0.05}
    pkg = package_of(problem, {"Issue1": "B", "Issue2": "Z"})
    assert problem.utility(pkg)[0] == pytest.approx(
        0.39622042590756595 * 20 / 100 + 0.603779574092434 * 2 / 100, abs=1e-12
    )
    assert problem.utility(pkg)[1] == pytest.approx(
        0.5974622532484141 * 10 / 100 + 0.40253774675158593 * 100 / 100, abs=1e-12
    )


def test_discount_of_one_or_zero_means_none() -> None:
    assert "discount" not in load_genius_folder(anchor("other-IntegerDomain")).metadata  # d = 0
    assert "discount" not in load_genius_folder(anchor("anac2016-AgentHp2")).metadata  # d = 1


def test_killer_robot_mixes_discrete_and_integer_issues() -> None:
    problem = compile_case(load_genius_folder(anchor("anac2015-group9-killer_robot")))
    pkg = package_of(
        problem,
        {
            "Torso": "Block",
            "Propulsion": "Hover",
            "Guns": 10,
            "GunType": "Plasma",
            "Color": "Black",
            "Height (m)": 50,
        },
    )
    expected = (
        0.22035198775630468
        + 0.1612674898274903
        + 0.06113094952802134 * (1 - 0.044444444444444446 * 9)
        + 0.16216554312686268
        + 0.23003625568900224
        + 0.1650477740723188 * (1 - 0.012244897959183673 * 49)
    )
    util1 = problem.utility_parties.index("KillerRobot_util1")
    assert problem.utility(pkg)[util1] == pytest.approx(expected, abs=1e-12)


def test_agent_hp2_integer_prices_shift_by_lower_bound_8() -> None:
    problem = compile_case(load_genius_folder(anchor("anac2016-AgentHp2")))
    consumer = problem.utility_parties.index("consumer")
    cheapest = tuple(0 for _ in problem.issues)  # every price at 8
    dearest = tuple(6 for _ in problem.issues)  # every price at 14: 1 - 0.15 * 6
    assert problem.utility(cheapest)[consumer] == pytest.approx(1.0, abs=1e-12)
    assert problem.utility(dearest)[consumer] == pytest.approx(0.1, abs=1e-12)


def _rectangles(path: object) -> tuple[float, list[tuple[float, dict[int, tuple[int, int]]]]]:
    root = SafeET.parse(str(path)).getroot()
    utility = root.find("objective/utility")
    rects = []
    for rect in utility.iter("hyperRectangle"):
        box = {
            int(b.get("index")): (int(b.get("min")), int(b.get("max")))
            for b in rect.findall("INCLUDES")
        }
        rects.append((float(rect.get("utility")), box))
    return float(utility.get("maxutility")), rects


@pytest.mark.parametrize("name", ["anac2014-10issues", "anac2014-50issues"])
def test_nonlinear_utilities_match_the_xml_rectangles(name: str) -> None:
    case = load_genius_folder(anchor(name))
    problem = compile_case(case)
    assert not problem.is_additive
    ids = case.metadata["issue_ids"]
    position = {ids[issue.name]: i for i, issue in enumerate(problem.issues)}
    rng = random.Random(3)
    for party, file in (("profile-1", "profile-1.xml"), ("profile-2", "profile-2.xml")):
        top, rects = _rectangles(anchor(name) / file)
        p = problem.utility_parties.index(party)
        assert isinstance(problem.utilities[p], RectangleUtility)
        hits = 0
        for _ in range(300):
            values = [rng.randrange(10) for _ in problem.issues]
            # bias half the samples into a rectangle so that some of them count
            if rng.random() < 0.5:
                _, box = rects[rng.randrange(len(rects))]
                for ident, (lo, hi) in box.items():
                    values[position[ident]] = rng.randint(lo, hi)
            total = sum(
                value
                for value, box in rects
                if all(lo <= values[position[i]] <= hi for i, (lo, hi) in box.items())
            )
            hits += total > 0
            pkg = tuple(problem.issues[i].values.index(v) for i, v in enumerate(values))
            assert problem.utility(pkg)[p] == pytest.approx(min(1.0, total / top), abs=1e-12)
        assert hits > 100


def test_pareto_xml_is_read_as_the_reference_frontier() -> None:
    case = load_genius_folder(anchor("anac2014-10issues"))
    frontier = case.metadata["reference_frontier"]
    assert case.metadata["reference_frontier_file"] == "pareto.xml"
    assert len(frontier) == 10
    assert frontier[0] == [0.67824775, 1.0]
    assert frontier[-1] == [1.0, 0.5943503]
    assert [p.name for p in case.parties] == ["profile-1", "profile-2"]
    # regression check: every point is a sum of rectangle utilities over maxutility
    tops = [p.utility.max_value for p in case.parties if p.utility is not None]
    assert tops == [662, 885]
    for point in frontier:
        for u, top in zip(point, tops, strict=True):
            assert abs(u * top - round(u * top)) < 1e-3


def test_other_files_are_ignored_and_listed(tmp_path: object) -> None:
    from pathlib import Path

    folder = write_folder(
        Path(str(tmp_path)) / "d",
        {
            **{f.name: f.read_text() for f in anchor("anac2013-Ultimatum").iterdir()},
            "README.txt": "notes about this domain",
            "specials.json": '{"size": 9}',
        },
    )
    case = load_genius_folder(folder)
    assert case.metadata["ignored_files"] == ["README.txt", "specials.json"]
    assert len(case.parties) == 2
