"""Malformed Genius inputs give precise, located errors with a fix hint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backchannel.errors import CaseFileErrors, InputError
from backchannel.formats.genius.folder import load_genius_folder
from backchannel.model.compile import compile_case

from .genius_support import DOMAIN_XML, PROFILE_XML, write_folder

NONLINEAR = """<utility_space type="nonlinear">
<objective index="0" name="root" type="objective" etype="objective">
  <issue index="3" name="Price" type="integer" etype="integer" vtype="integer"
         lowerbound="0" upperbound="10"/>
  <utility maxutility="10">
    <ufun type="PlainUfun" weight="1" aggregation="{aggregation}">
      <hyperRectangle utility="4">
        <INCLUDES index="3" min="2" max="5"/>
      </hyperRectangle>
      <hyperRectangle utility="3">
        {extra}<EXCLUDES index="3" min="4" max="8"/>
      </hyperRectangle>
    </ufun>
  </utility>
</objective>
</utility_space>
"""


def _load(tmp_path: Path, profile: str, domain: str = DOMAIN_XML) -> None:
    load_genius_folder(write_folder(tmp_path / "f", {"d.xml": domain, "p.xml": profile}))


def _error(tmp_path: Path, profile: str, domain: str = DOMAIN_XML) -> CaseFileErrors:
    with pytest.raises(CaseFileErrors) as info:
        _load(tmp_path, profile, domain)
    return info.value


def test_the_valid_fixture_loads(tmp_path: Path) -> None:
    case = load_genius_folder(
        write_folder(tmp_path / "ok", {"d.xml": DOMAIN_XML, "p.xml": PROFILE_XML})
    )
    problem = compile_case(case)
    # Color: red 2/4, blue 4/4, green missing -> 0; Price: clamp(-0.4 + 0.2 v)
    assert problem.utility((0, 0)) == pytest.approx((0.6 * 0.5,))
    assert problem.utility((1, 3)) == pytest.approx((0.6 + 0.4 * 0.2,))
    assert problem.utility((2, 10)) == pytest.approx((0.4,))
    assert problem.disagreement == (0.25,)
    assert case.metadata["discount"] == {"p": 0.9}
    assert case.metadata["issue_ids"] == {"Color": 1, "Price": 3}


def test_malformed_xml_names_the_line(tmp_path: Path) -> None:
    error = _error(tmp_path, PROFILE_XML.replace("</objective>", "</objectiv>"))
    assert error.errors[0].line == 13
    assert "not well-formed XML" in str(error)
    assert str(tmp_path / "f" / "p.xml") in str(error)


def test_entity_declarations_are_refused(tmp_path: Path) -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + PROFILE_XML.replace(
        'name="root"', 'name="&a;"'
    )
    error = _error(tmp_path, bomb)
    assert "entity" in str(error)


def test_unknown_issue_index_in_a_profile(tmp_path: Path) -> None:
    error = _error(tmp_path, PROFILE_XML.replace('<issue index="3"', '<issue index="9"'))
    first = error.errors[0]
    assert first.path == ("objective", "issue[index=9]")
    assert "no issue with index '9'" in first.message
    assert "another domain" in (first.hint or "")
    assert first.line == 7


def test_value_not_in_the_domain(tmp_path: Path) -> None:
    error = _error(tmp_path, PROFILE_XML.replace('value="blue"', 'value="purple"'))
    assert error.errors[0].path == ("objective", "issue[index=1]", "item", 1)
    assert "'purple' is not a value of issue 'Color'" in error.errors[0].message
    assert error.errors[0].line == 5


def test_missing_evaluation_attribute(tmp_path: Path) -> None:
    error = _error(tmp_path, PROFILE_XML.replace(' evaluation="2"', ""))
    assert error.errors[0].path == ("objective", "issue[index=1]", "item", 0)
    assert "missing attribute 'evaluation'" in error.errors[0].message


def test_evaluation_that_is_not_a_number(tmp_path: Path) -> None:
    error = _error(tmp_path, PROFILE_XML.replace('evaluation="4"', 'evaluation="high"'))
    assert error.errors[0].path == ("objective", "issue[index=1]", "item", 1, "evaluation")
    assert "'high' is not a number" in str(error)


def test_negative_weight(tmp_path: Path) -> None:
    error = _error(tmp_path, PROFILE_XML.replace('value="0.4"', 'value="-0.4"'))
    assert error.errors[0].path == ("objective", "weight", 1, "value")
    assert "negative" in error.errors[0].message


def test_weight_for_an_issue_the_profile_does_not_evaluate(tmp_path: Path) -> None:
    error = _error(tmp_path, PROFILE_XML.replace('<weight index="3"', '<weight index="4"'))
    assert error.errors[0].path == ("objective", "weight", 1)


def test_integer_evaluator_without_slope(tmp_path: Path) -> None:
    error = _error(tmp_path, PROFILE_XML.replace(' slope="0.2"', ""))
    assert error.errors[0].path == ("objective", "issue[index=3]", "evaluator")
    assert "missing attribute 'slope'" in error.errors[0].message


def test_old_parameter_form_of_integer_evaluator(tmp_path: Path) -> None:
    old = PROFILE_XML.replace('slope="0.2" offset="-0.4"', 'parameter0="0" parameter1="0.1"')
    error = _error(tmp_path, old)
    assert "parameter0/parameter1" in error.errors[0].message
    assert "slope" in (error.errors[0].hint or "")


def test_issue_named_differently_from_the_domain(tmp_path: Path) -> None:
    error = _error(tmp_path, PROFILE_XML.replace('name="Color"', 'name="Colour"'))
    assert error.errors[0].path == ("objective", "issue[index=1]", "name")
    assert "'Colour' here but 'Color' in the domain" in error.errors[0].message


def test_integer_bounds_differ_from_the_domain(tmp_path: Path) -> None:
    error = _error(tmp_path, PROFILE_XML.replace('upperbound="10">', 'upperbound="12">'))
    assert "bounds 0..12 here but 0..10 in the domain" in error.errors[0].message


def test_domain_with_duplicate_index_and_fractional_bounds(tmp_path: Path) -> None:
    domain = DOMAIN_XML.replace('<issue index="3"', '<issue index="1"')
    error = _error(tmp_path, PROFILE_XML, domain)
    assert error.errors[0].path == ("utility_space", "objective", "issue[index=1]")
    assert "index 1 is used twice" in error.errors[0].message
    error = _error(
        tmp_path / "b", PROFILE_XML, DOMAIN_XML.replace('upperbound="10"', 'upperbound="10.5"')
    )
    assert "whole numbers" in error.errors[0].message


def test_constraint_profiles_are_not_supported_yet(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="constraint profiles") as info:
        _load(tmp_path, PROFILE_XML.replace("<utility_space>", '<utility_space type="constraint">'))
    assert "p.xml" in str(info.value)


def test_nonlinear_excludes_is_outside_the_box(tmp_path: Path) -> None:
    domain = DOMAIN_XML
    folder = write_folder(
        tmp_path / "nl", {"d.xml": domain, "p.xml": NONLINEAR.format(aggregation="sum", extra="")}
    )
    problem = compile_case(load_genius_folder(folder))
    for color in range(3):
        for price in range(11):
            inside = 4 if 2 <= price <= 5 else 0
            outside = 3 if not 4 <= price <= 8 else 0
            assert problem.utility((color, price)) == pytest.approx(((inside + outside) / 10,))


def test_nonlinear_min_aggregation_is_refused(tmp_path: Path) -> None:
    error = _error(tmp_path, NONLINEAR.format(aggregation="min", extra=""))
    assert error.errors[0].path == ("objective", "utility", "ufun", "aggregation")
    assert "'min' is not supported" in error.errors[0].message


def test_nonlinear_rectangle_mixing_includes_and_excludes_is_refused(tmp_path: Path) -> None:
    extra = '<INCLUDES index="3" min="0" max="9"/>'
    error = _error(tmp_path, NONLINEAR.format(aggregation="sum", extra=extra))
    assert error.errors[0].path == ("objective", "utility", "ufun", "hyperRectangle", 1)


def test_nonlinear_bound_on_a_discrete_issue_is_refused(tmp_path: Path) -> None:
    bad = NONLINEAR.format(aggregation="sum", extra="").replace(
        '<INCLUDES index="3"', '<INCLUDES index="1"'
    )
    error = _error(tmp_path, bad)
    assert error.errors[0].path == (
        "objective",
        "utility",
        "ufun",
        "hyperRectangle",
        0,
        "INCLUDES",
        0,
    )
    assert "integer issues" in (error.errors[0].hint or "")


def test_bad_frontier_line_is_located(tmp_path: Path) -> None:
    folder = write_folder(
        tmp_path / "pf",
        {"d.xml": DOMAIN_XML, "p.xml": PROFILE_XML, "pareto.xml": "0.1, 0.9\n0.5, oops\n"},
    )
    with pytest.raises(CaseFileErrors) as info:
        load_genius_folder(folder)
    assert info.value.errors[0].line == 2


def test_folder_problems(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="several domain files"):
        load_genius_folder(
            write_folder(
                tmp_path / "two", {"a.xml": DOMAIN_XML, "b.xml": DOMAIN_XML, "p.xml": PROFILE_XML}
            )
        )
    with pytest.raises(InputError, match="no Genius profile"):
        load_genius_folder(write_folder(tmp_path / "none", {"a.xml": DOMAIN_XML}))
    with pytest.raises(InputError, match="no Genius domain file"):
        load_genius_folder(write_folder(tmp_path / "nodomain", {"p.xml": PROFILE_XML}))
    with pytest.raises(InputError, match="not a folder"):
        load_genius_folder(tmp_path / "missing")


def test_geniusweb_bad_json_names_the_line(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "j", {"p.json": '{\n  "LinearAdditiveUtilitySpace": {,\n}'})
    with pytest.raises(CaseFileErrors) as info:
        load_genius_folder(folder)
    assert info.value.errors[0].line == 2
    assert "not valid JSON" in str(info.value)


GW_DOMAIN = {"name": "d", "issuesValues": {"a": {"values": ["x", "y"]}}}


def _gw(tmp_path: Path, body: dict[str, object], domain: object = GW_DOMAIN) -> CaseFileErrors:
    folder = write_folder(
        tmp_path / "gw",
        {"d.json": json.dumps(domain), "p.json": json.dumps({"LinearAdditiveUtilitySpace": body})},
    )
    with pytest.raises(CaseFileErrors) as info:
        load_genius_folder(folder)
    return info.value


def test_geniusweb_unknown_issue_value_and_utility_range(tmp_path: Path) -> None:
    body = {
        "domain": GW_DOMAIN,
        "issueUtilities": {"a": {"discreteutils": {"valueUtilities": {"x": 1.5, "z": 0.2}}}},
        "issueWeights": {"a": 1, "b": 0.5},
    }
    error = _gw(tmp_path, body)
    paths = [e.path for e in error.errors]
    assert (
        "LinearAdditiveUtilitySpace",
        "issueUtilities",
        "a",
        "discreteutils",
        "valueUtilities",
        "x",
    ) in paths
    assert (
        "LinearAdditiveUtilitySpace",
        "issueUtilities",
        "a",
        "discreteutils",
        "valueUtilities",
        "z",
    ) in paths
    assert ("LinearAdditiveUtilitySpace", "issueWeights", "b") in paths


def test_geniusweb_profile_for_another_domain(tmp_path: Path) -> None:
    other = {"name": "d", "issuesValues": {"a": {"values": ["x", "w"]}}}
    body = {"domain": other, "issueUtilities": {}, "issueWeights": {}}
    error = _gw(tmp_path, body)
    assert error.errors[0].path == ("LinearAdditiveUtilitySpace", "domain")
    assert "another domain" in (error.errors[0].hint or "")


def test_geniusweb_wrong_utility_key_and_bad_reservation_bid(tmp_path: Path) -> None:
    body = {
        "domain": GW_DOMAIN,
        "issueUtilities": {"a": {"numberutils": {"lowValue": 0}}},
        "issueWeights": {"a": 1},
    }
    error = _gw(tmp_path, body)
    assert "needs one of discreteutils, DiscreteValueSetUtilities" in error.errors[0].message
    body = {
        "domain": GW_DOMAIN,
        "issueUtilities": {"a": {"discreteutils": {"valueUtilities": {"x": 1}}}},
        "issueWeights": {"a": 1},
        "reservationBid": {"issuevalues": {"a": "q"}},
    }
    error = _gw(tmp_path / "2", body)
    assert error.errors[0].path == (
        "LinearAdditiveUtilitySpace",
        "reservationBid",
        "issuevalues",
        "a",
    )


def test_other_geniusweb_profile_types_are_not_supported(tmp_path: Path) -> None:
    folder = write_folder(
        tmp_path / "sog",
        {"d.json": json.dumps(GW_DOMAIN), "p.json": json.dumps({"SumOfGroupsUtilitySpace": {}})},
    )
    with pytest.raises(CaseFileErrors, match="SumOfGroupsUtilitySpace' is not supported yet"):
        load_genius_folder(folder)
