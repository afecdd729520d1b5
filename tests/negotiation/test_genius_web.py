"""GeniusWeb JSON: both value-set key styles, range issues, reservation bids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backchannel.errors import InputError
from backchannel.formats.genius.folder import is_genius_folder, load_genius_file, load_genius_folder
from backchannel.model.case import IssueKind
from backchannel.model.compile import compile_case

from .genius_support import anchor, package_of, write_folder

DOMAIN = {
    "name": "ceasefire",
    "issuesValues": {
        "Monitoring": {"values": ["None", "Regional observers", "UN mission"]},
        "Withdrawal_km": {"range": {"low": 0, "high": 20, "step": 5}},
    },
}


def _profile(style: str, reservation: dict[str, object] | None) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "partyA",
        "domain": DOMAIN,
        "issueUtilities": {
            "Monitoring": {style: {"valueUtilities": {"None": 0.125, "Regional observers": 0.75}}},
            "Withdrawal_km": {
                "numberutils": {
                    "lowValue": 5,
                    "lowUtility": 0.2,
                    "highValue": 15,
                    "highUtility": 1.0,
                }
            },
        },
        "issueWeights": {"Monitoring": 0.4, "Withdrawal_km": 0.6},
    }
    if reservation is not None:
        body["reservationBid"] = {"issuevalues": reservation}
    return {"LinearAdditiveUtilitySpace": body}


def _folder(tmp_path: Path, style: str) -> Path:
    return write_folder(
        tmp_path / style,
        {
            "domain.json": json.dumps(DOMAIN),
            "partyA.json": json.dumps(
                _profile(style, {"Monitoring": "Regional observers", "Withdrawal_km": 10})
            ),
        },
    )


def test_anchor_party_reservation_is_the_utility_of_the_reservation_bid() -> None:
    case = load_genius_folder(anchor("geniusweb-Party"))
    problem = compile_case(case)
    assert case.metadata["format"] == "GeniusWeb JSON"
    assert [p.name for p in case.parties] == ["party1", "party2"]
    # party1: Handmade Food .51, Handmade Cocktails .672, Party Tent .52,
    # Custom, Printed .48, Band .35, Special Equiment .32 with weights .19 .28 .19 .05 .19 .10
    expected = 0.51 * 0.19 + 0.672 * 0.28 + 0.52 * 0.19 + 0.48 * 0.05 + 0.35 * 0.19 + 0.32 * 0.10
    assert problem.disagreement[0] == pytest.approx(expected, abs=1e-12)
    bid = case.metadata["reservation_bid"]["party1"]
    assert problem.utility(package_of(problem, bid))[0] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("style", ["discreteutils", "DiscreteValueSetUtilities"])
def test_both_value_set_styles_and_a_range_issue(tmp_path: Path, style: str) -> None:
    folder = _folder(tmp_path, style)
    assert is_genius_folder(folder)
    case = load_genius_folder(folder)
    problem = compile_case(case)
    assert case.issues[1].kind is IssueKind.NUMERIC
    assert problem.issues[1].values == (0, 5, 10, 15, 20)

    def u(monitoring: str, km: int) -> float:
        return problem.utility(
            package_of(problem, {"Monitoring": monitoring, "Withdrawal_km": km})
        )[0]

    line = {0: 0.0, 5: 0.2, 10: 0.6, 15: 1.0, 20: 0.0}  # linear on [5, 15], 0 outside
    for km, e in line.items():
        assert u("None", km) == pytest.approx(0.4 * 0.125 + 0.6 * e, abs=1e-12)
        assert u("UN mission", km) == pytest.approx(0.6 * e, abs=1e-12)  # not listed: 0
    assert problem.disagreement[0] == pytest.approx(0.4 * 0.75 + 0.6 * 0.6, abs=1e-12)


def test_range_whose_high_is_not_on_the_grid_stops_below_it(tmp_path: Path) -> None:
    domain = {"name": "d", "issuesValues": {"x": {"range": {"low": 0, "high": 10, "step": 3}}}}
    profile = {
        "LinearAdditiveUtilitySpace": {
            "domain": domain,
            "issueUtilities": {
                "x": {
                    "numberutils": {
                        "lowValue": 0,
                        "lowUtility": 0,
                        "highValue": 10,
                        "highUtility": 1,
                    }
                }
            },
            "issueWeights": {"x": 1},
        }
    }
    folder = write_folder(tmp_path / "r", {"a.json": json.dumps(profile)})
    problem = compile_case(load_genius_folder(folder))
    assert problem.issues[0].values == (0, 3, 6, 9)
    assert problem.utility((3,)) == pytest.approx((0.9,))
    assert problem.disagreement == (0.0,)


def test_a_single_profile_file_embeds_its_domain() -> None:
    case = load_genius_file(anchor("geniusweb-Party") / "party2.json")
    assert [p.name for p in case.parties] == ["party2"]
    assert len(case.issues) == 6


def test_a_domain_file_alone_is_refused_with_a_hint_to_pass_the_folder() -> None:
    with pytest.raises(InputError, match="domain file with no profiles") as info:
        load_genius_file(anchor("geniusweb-Party") / "party.json")
    assert "geniusweb-Party" in str(info.value)
    with pytest.raises(InputError, match="pass the folder"):
        load_genius_file(anchor("anac2013-Ultimatum") / "Ultimatum.xml")
    with pytest.raises(InputError, match="needs its domain file"):
        load_genius_file(anchor("anac2013-Ultimatum") / "Ultimatum_util1.xml")
