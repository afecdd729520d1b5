"""Export to Genius XML and re-import: the same utility for every package."""

from __future__ import annotations

import itertools
import random
import warnings
from pathlib import Path

import pytest

from backchannel.errors import InputError
from backchannel.formats.genius.export import GeniusExportWarning, export_genius, fit_clamped_line
from backchannel.formats.genius.folder import load_genius_folder
from backchannel.model.case import (
    Case,
    Condition,
    Issue,
    IssueKind,
    NumericRange,
    Party,
    PartyRole,
    PiecewiseLinear,
    Rectangle,
    RectangleUtilitySpec,
    RedLine,
)
from backchannel.model.compile import compile_case
from backchannel.model.problem import Problem

from .genius_support import anchor

SMALL = [
    "anac2010-EnglandZimbabwe",
    "anac2012-EnglandvsZimbabweA",
    "anac2010-ItexvsCypress",
    "anac2013-Ultimatum",
    "other-IntegerDomain",
    "other-QODomain",
    "geniusweb-Party",
    "anac2015-group2-politics",
]
SAMPLED = [
    "anac2015-group9-killer_robot",
    "anac2016-AgentHp2",
    "other-AMPOvsCity",
    "anac2011-Energy",
    "anac2010-Travel",
    "anac2014-10issues",
    "anac2014-50issues",
]


def _same_utilities(a: Problem, b: Problem, packages: list[tuple[int, ...]]) -> None:
    assert [i.size for i in a.issues] == [i.size for i in b.issues]
    order = [b.utility_parties.index(name) for name in a.utility_parties]
    assert [b.disagreement[k] for k in order] == pytest.approx(a.disagreement, abs=1e-12)
    for pkg in packages:
        ua, ub = a.utility(pkg), b.utility(pkg)
        assert [ub[k] for k in order] == pytest.approx(ua, abs=1e-12)


def _round_trip(case: Case, folder: Path) -> tuple[Problem, Problem, list[Path]]:
    written = export_genius(case, folder)
    return compile_case(case), compile_case(load_genius_folder(folder)), written


@pytest.mark.parametrize("name", SMALL)
def test_round_trip_gives_identical_utilities_on_every_package(tmp_path: Path, name: str) -> None:
    case = load_genius_folder(anchor(name))
    before, after, written = _round_trip(case, tmp_path / "out")
    assert len(written) == 1 + len(case.parties)
    _same_utilities(before, after, list(itertools.product(*(range(i.size) for i in before.issues))))


@pytest.mark.parametrize("name", SAMPLED)
def test_round_trip_on_random_packages_of_large_domains(tmp_path: Path, name: str) -> None:
    case = load_genius_folder(anchor(name))
    before, after, _ = _round_trip(case, tmp_path / "out")
    rng = random.Random(11)
    packages = [tuple(rng.randrange(i.size) for i in before.issues) for _ in range(500)]
    _same_utilities(before, after, packages)


def test_round_trip_keeps_ids_discounts_and_integer_issues(tmp_path: Path) -> None:
    case = load_genius_folder(anchor("anac2015-group9-killer_robot"))
    export_genius(case, tmp_path / "kr")
    again = load_genius_folder(tmp_path / "kr")
    assert again.metadata["issue_ids"] == case.metadata["issue_ids"]
    assert [i.kind for i in again.issues] == [i.kind for i in case.issues]
    ultimatum = load_genius_folder(anchor("anac2013-Ultimatum"))
    export_genius(ultimatum, tmp_path / "ul")
    assert (
        load_genius_folder(tmp_path / "ul").metadata["discount"] == ultimatum.metadata["discount"]
    )


def _case() -> Case:
    return Case(
        title="Ceasefire talks",
        issues=[
            Issue(name="Monitoring", kind=IssueKind.ORDERED, options=["None", "Regional", "UN"]),
            Issue(
                name="Withdrawal",
                kind=IssueKind.NUMERIC,
                range=NumericRange(min=0, max=20, step=5, unit="km"),
            ),
            Issue(name="Prisoners", kind=IssueKind.NUMERIC, range=NumericRange(min=0, max=4)),
        ],
        parties=[
            Party(
                name="North",
                weights={"Monitoring": 50, "Withdrawal": 30, "Prisoners": 20},
                ratings={
                    "Monitoring": {"None": 10, "Regional": 60, "UN": 80},
                    "Withdrawal": PiecewiseLinear(points=[(0, 0), (10, 90), (20, 40)]),
                    "Prisoners": PiecewiseLinear(points=[(0, 20), (4, 60)]),
                },
                red_lines=[
                    RedLine(id="no-un", forbid=Condition(issue="Monitoring", options=["UN"]))
                ],
                reservation=0.3,
            ),
            Party(
                name="South Delegation",
                weights={"Monitoring": 0.2, "Withdrawal": 0.5, "Prisoners": 0.3},
                ratings={
                    "Monitoring": {"None": 100, "Regional": 50, "UN": 0},
                    "Withdrawal": PiecewiseLinear(points=[(0, 100), (20, 0)]),
                    "Prisoners": PiecewiseLinear(points=[(0, 0), (2, 100)]),
                },
            ),
            Party(
                name="Neighbours",
                role=PartyRole.ABSENT,
                red_lines=[RedLine(id="far", at_least={"issue": "Withdrawal", "value": 5})],
            ),
        ],
    )


def test_export_of_a_normalised_case_with_red_lines(tmp_path: Path) -> None:
    case = _case()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before, after, written = _round_trip(case, tmp_path / "ceasefire")
    messages = [str(w.message) for w in caught if issubclass(w.category, GeniusExportWarning)]
    assert any("red line(s) of 'North'" in m for m in messages)
    assert any("absent stakeholder 'Neighbours'" in m for m in messages)
    assert [p.name for p in written] == [
        "Ceasefire_talks-domain.xml",
        "North.xml",
        "South_Delegation.xml",
    ]
    assert "cannot be expressed in Genius XML" in written[0].read_text()
    assert "red line(s) of this party cannot be expressed" in written[1].read_text()
    assert "red line" not in written[2].read_text()
    # the names change with the file stems; compare by position
    assert after.utility_parties == ("North", "South_Delegation")
    packages = list(itertools.product(*(range(i.size) for i in before.issues)))
    for pkg in packages:
        assert after.utility(pkg) == pytest.approx(before.utility(pkg), abs=1e-12)
    assert after.disagreement == pytest.approx(before.disagreement)
    kinds = [i.kind for i in after.issues]
    # withdrawal steps by 5 -> discrete items; prisoners 0..4: North's rating is a line,
    # South's is a clamped line (100 from 2 up), so it stays an integer issue
    assert kinds == [IssueKind.UNORDERED, IssueKind.UNORDERED, IssueKind.NUMERIC]
    assert after.issues[1].labels == ("0", "5", "10", "15", "20")


def test_export_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("x")
    with pytest.raises(InputError, match="not an empty folder"):
        export_genius(load_genius_folder(anchor("anac2013-Ultimatum")), tmp_path / "full")


def test_rectangles_over_discrete_issues_cannot_be_exported(tmp_path: Path) -> None:
    case = Case(
        title="r",
        issues=[Issue(name="a", options=["x", "y"])],
        parties=[
            Party(
                name="p",
                utility=RectangleUtilitySpec(
                    max_value=1,
                    rectangles=[
                        Rectangle(value=1, conditions=[Condition(issue="a", options=["x"])])
                    ],
                ),
            )
        ],
    )
    with pytest.raises(InputError, match="not a range of an integer issue"):
        export_genius(case, tmp_path / "r")


def test_fit_clamped_line() -> None:
    assert fit_clamped_line([0.3, 0.5, 0.7, 0.9, 1.0, 1.0]) == pytest.approx((0.3, 0.2))
    assert fit_clamped_line([0.0, 0.0, 1.0]) is not None
    assert fit_clamped_line([1.0, 1.0]) == (1.0, 0.0)
    assert fit_clamped_line([0.0, 1.0, 0.5]) is None
