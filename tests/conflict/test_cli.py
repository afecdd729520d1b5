"""The ``backchannel conflict`` commands end to end, through ``backchannel.cli.main``.

Every stability fact asserted here is worked out by hand from the definitions (see
``docs/explanation/conflict-analysis.md``) in the comment next to it. Cases:

* Prisoner's Dilemma (Rapoport & Chammah 1965; graph form in Fang, Hipel & Kilgour 1993,
  ch. 3): ``examples/conflicts/prisoners_dilemma.yaml``.
* Chicken (Rapoport & Guyer 1966; Fang, Hipel & Kilgour 1993, ch. 3; non-myopic
  analysis after Kilgour 1985 and Brams & Wittman 1981):
  ``examples/conflicts/chicken.yaml``.
* The Cuban missile crisis (structure after Fraser & Hipel 1984):
  ``examples/conflicts/cuban_missile_crisis.yaml``.
* Small inline conflicts built to separate the concepts.
"""

from __future__ import annotations

import itertools
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from backchannel.cli import main
from backchannel.errors import AnalysisError
from backchannel.services import conflict as conflict_service

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "conflicts"
PD = EXAMPLES / "prisoners_dilemma.yaml"
CHICKEN = EXAMPLES / "chicken.yaml"
CUBAN = EXAMPLES / "cuban_missile_crisis.yaml"
DEFAULT = ("nash", "gmr", "smr", "seq", "sim", "seqsim")
SVG = "{http://www.w3.org/2000/svg}"

# Prisoner's Dilemma with the options listed B first: state strings follow `options`.
PD_SWAPPED = """\
title: Prisoner's Dilemma, options swapped
decision_makers:
  - {id: A, options: [a_defect]}
  - {id: B, options: [b_defect]}
options: [b_defect, a_defect]
preferences:
  A:
    ranking: [NY, NN, YY, YN]
  B:
    ranking: [YN, NN, YY, NY]
"""

# A and B gain only together (a & b); C wants -c. Without a coalition NNN is a Nash
# equilibrium (neither A nor B gains alone); as the coalition A+B they jump to YYN.
JOINT = """\
title: Joint move
decision_makers:
  - {id: A, options: [a]}
  - {id: B, options: [b]}
  - {id: C, options: [c]}
preferences:
  A:
    statements: [a & b]
  B:
    statements: [a & b]
  C:
    statements: [-c]
"""

# Options a1 a2 (A) and b1 b2 (B), each pair mutually exclusive. At NNNN, A's improvement
# to YNNN is deterred only sequentially (B improves YNNN -> YNYN, worse for A than NNNN;
# B's only improvement from NNNN is to NNNY, and YNNY is better for A), and A's
# improvement to NYNN only simultaneously (B has no improvement from NYNN; B's
# simultaneous NNNN -> NNNY gives NYNY, worse for A).
MIXED = """\
title: Mixed deterrence
decision_makers:
  - {id: A, options: [a1, a2]}
  - {id: B, options: [b1, b2]}
mutually_exclusive: [[a1, a2], [b1, b2]]
preferences:
  A:
    ranking: [YNNN, NYNN, YNNY, NNNN, NNYN, NNNY, NYYN, YNYN, NYNY]
  B:
    ranking: [NNNY, YNYN, NYNN, NNNN, YNNN, NNYN, NYYN, NYNY, YNNY]
"""

# B misperceives every state with c = N, so it can move only where c = Y. A's
# improvement NNN -> YNN is sanctioned only by C -> B -> C: YNN -> YNY -> YYY -> YYN, and
# each of these moves is an improvement of its mover (B wants b; C wants c iff -b).
TWICE = """\
title: Same opponent twice
decision_makers:
  - {id: A, options: [a]}
  - {id: B, options: [b]}
  - {id: C, options: [c]}
preferences:
  A:
    ranking: [YNN, YNY, YYY, NNN, NNY, NYN, NYY, YYN]
  B:
    statements: [b]
  C:
    statements: [c iff -b]
misperceived:
  B: ["--N"]
"""

# A's improvement NNN -> YNN is deterred simultaneously only when B and C both respond
# (YYY is the one outcome A likes less than NNN).
TWO_RESPONDERS = """\
title: Two responders
decision_makers:
  - {id: A, options: [a]}
  - {id: B, options: [b]}
  - {id: C, options: [c]}
preferences:
  A:
    ranking: [YNN, YYN, YNY, NNN, NYN, NNY, NYY, YYY]
  B:
    statements: [b]
  C:
    statements: [c]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *args: str | Path) -> dict[str, Any]:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    document = json.loads(out)
    assert isinstance(document, dict)
    return document


def assert_usage_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    assert err.startswith("error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err


# --- conflict analyze ---------------------------------------------------------------


def test_analyze_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "conflict", "analyze", PD)
    assert {"options", "states", "stable", "equilibria"} <= doc.keys()
    assert doc["options"] == ["a_defect", "b_defect"]
    assert doc["states"] == ["NN", "YN", "NY", "YY"]
    assert set(doc["stable"]) == set(doc["equilibria"]) == set(DEFAULT)
    for concept in DEFAULT:
        stable = doc["stable"][concept]
        assert set(stable) == {"A", "B"}
        for states in stable.values():
            assert set(states) <= set(doc["states"])
        # An equilibrium is a state stable for every decision maker, in state order.
        both = [s for s in doc["states"] if all(s in stable[dm] for dm in stable)]
        assert doc["equilibria"][concept] == both
    assert doc["movers"] == ["A", "B"]
    assert doc["status_quo"] == "NN"
    assert "uncertainty" not in doc


def test_prisoners_dilemma_facts(capsys: pytest.CaptureFixture[str]) -> None:
    """A: YN > NN > YY > NY; B: NY > NN > YY > YN.

    Nash: A has no improvement at YN (its best) and at YY (YY -> NY is worse); at NN and
    NY it gains by defecting. So mutual defection YY is the only Nash equilibrium.
    GMR/SMR/SEQ: A's defection NN -> YN is met by B's defection YN -> YY, an improvement
    for B and worse for A than NN; A's countermove from YY (to NY) is worse still. SIM:
    B's own defection NN -> NY at the same time gives YY. So NN is also stable.
    """
    doc = run_json(capsys, "conflict", "analyze", PD)
    assert doc["stable"]["nash"] == {"A": ["YN", "YY"], "B": ["NY", "YY"]}
    assert doc["equilibria"]["nash"] == ["YY"]
    for concept in ("gmr", "smr", "seq", "sim", "seqsim"):
        assert doc["stable"][concept] == {"A": ["NN", "YN", "YY"], "B": ["NN", "NY", "YY"]}
        assert doc["equilibria"][concept] == ["NN", "YY"]


def test_states_follow_the_file_option_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "swapped.yaml", PD_SWAPPED)
    doc = run_json(capsys, "conflict", "analyze", path, "--concepts", "nash")
    assert doc["options"] == ["b_defect", "a_defect"]
    # The second letter is now A's defection: A is Nash stable where it defects alone.
    assert doc["stable"]["nash"] == {"A": ["NY", "YY"], "B": ["YN", "YY"]}
    assert doc["equilibria"]["nash"] == ["YY"]


def test_analyze_text_lists_every_concept(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "conflict", "analyze", PD, "--concepts", "nash,gmr")
    assert code == 0
    assert out.startswith("Prisoner's Dilemma: 4 feasible states\n")
    assert "options: a_defect b_defect" in out
    assert "NASH: 1 equilibria" in out
    assert "GMR: 2 equilibria" in out
    assert "SEQ" not in out
    assert out.count("EQ ") == 3  # YY under Nash; NN and YY under GMR


def test_chicken_limited_move_and_non_myopic(capsys: pytest.CaptureFixture[str]) -> None:
    """A: YN > NN > NY > YY; B: NY > NN > YN > YY (Y = drive straight on).

    Nash: YN and NY. GMR adds NN (a dare is met by the other's dare, the crash YY).
    L_2: at NN, A dares, and B, with one move left, would only crash: A keeps YN, so NN
    is not L_2 stable; at YN, B's dare YN -> YY is answered by A's swerve to NY, B's
    best, so YN is not L_2 stable for B; no L_2 equilibrium. L_3: at NN, A's dare is
    answered by B's dare and A's swerve (NY, worse than NN for A), so NN is stable for
    both; YN falls for B as before. G_4 = G_3, so NM = L_3: NN, the compromise (as in
    Brams & Wittman 1981).
    """
    concepts = "nash,gmr,limited,nonmyopic"
    doc = run_json(capsys, "conflict", "analyze", CHICKEN, "--concepts", concepts)
    assert set(doc["equilibria"]) == {"nash", "gmr", "limited", "nonmyopic"}
    assert doc["horizon"] == 2
    assert doc["equilibria"]["nash"] == ["YN", "NY"]
    assert doc["equilibria"]["gmr"] == ["NN", "YN", "NY"]
    assert doc["stable"]["limited"] == {"A": ["YN"], "B": ["NY"]}
    assert doc["equilibria"]["limited"] == []
    assert doc["stable"]["nonmyopic"] == {"A": ["NN", "YN"], "B": ["NN", "NY"]}
    assert doc["equilibria"]["nonmyopic"] == ["NN"]
    three = run_json(
        capsys, "conflict", "analyze", CHICKEN, "--concepts", "limited", "--horizon", "3"
    )
    assert three["horizon"] == 3
    assert three["equilibria"] == {"limited": ["NN"]}
    one = run_json(
        capsys, "conflict", "analyze", CHICKEN, "--concepts", "limited,nash", "--horizon", "1"
    )
    assert one["stable"]["limited"] == one["stable"]["nash"]  # L_1 is Nash


def test_cuban_missile_crisis_equilibria(capsys: pytest.CaptureFixture[str]) -> None:
    """Scores (weights 8/4/2/1), US / USSR: NYYN 15/14, YYYN 13/6, YNYN 13/6.

    Nash: NYYN is the US maximum and the USSR's moves from it (NYNN 13, NYNY 9) lose;
    at YYYN the air strike cannot be undone and lifting the blockade (YNYN) ties for the
    US, while the USSR's moves lose (YYNN 5, YYNY 1). Every other state has an
    improvement (checked state by state).
    """
    doc = run_json(capsys, "conflict", "analyze", CUBAN, "--concepts", "nash,seq")
    assert len(doc["states"]) == 12  # withdraw & escalate is infeasible
    assert all(not s.endswith("YY") for s in doc["states"])
    assert doc["equilibria"]["nash"] == ["NYYN", "YYYN"]
    assert set(doc["equilibria"]["nash"]) <= set(doc["equilibria"]["seq"])


def test_analyze_shows_the_state_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "conflict", "analyze", CUBAN, "--concepts", "nash")
    assert doc["state_names"] == {
        "NNNN": "status quo",
        "NYYN": "blockade, withdrawal",
        "YNNY": "war",
    }
    code, out, _ = run(capsys, "conflict", "analyze", CUBAN, "--concepts", "nash")
    assert code == 0
    lines = out.splitlines()
    assert "name" in next(line for line in lines if "state" in line and "USSR" in line)
    (row,) = (line for line in lines if "NYYN" in line)
    assert "blockade, withdrawal" in row and "EQ" in row
    # No names: no name column, and an empty mapping in the JSON.
    path = write(tmp_path, "swapped.yaml", PD_SWAPPED)
    assert run_json(capsys, "conflict", "analyze", path)["state_names"] == {}
    code, out, _ = run(capsys, "conflict", "analyze", path, "--concepts", "nash")
    assert code == 0 and "name" not in out
    # Names are shown as written, never read as console markup.
    named = write(tmp_path, "named.yaml", PD_SWAPPED + 'state_names: {YY: "[/b] both [x]"}\n')
    code, out, _ = run(capsys, "conflict", "analyze", named, "--concepts", "nash")
    assert code == 0
    assert "[/b] both [x]" in next(line for line in out.splitlines() if "YY" in line)


@pytest.mark.parametrize("concepts", ["nash,bogus", "GMR,smr,Nashh"])
def test_unknown_concept_exits_2(concepts: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "conflict", "analyze", PD, "--concepts", concepts)
    assert_usage_error(code, err, "unknown solution concept", "choose from nash, gmr")
    assert out == ""


def test_concepts_are_case_insensitive_and_empty_list_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = run_json(capsys, "conflict", "analyze", PD, "--concepts", " SEQ , Nash ")
    assert set(doc["equilibria"]) == {"seq", "nash"}
    code, _, err = run(capsys, "conflict", "analyze", PD, "--concepts", ",")
    assert_usage_error(code, err, "--concepts")
    code, _, err = run(capsys, "conflict", "analyze", PD, "--concepts", "limited", "--horizon", "0")
    assert_usage_error(code, err, "--horizon")


def test_limited_move_needs_two_movers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "joint.yaml", JOINT)
    code, _, err = run(capsys, "conflict", "analyze", path, "--concepts", "limited")
    assert_usage_error(code, err, "exactly two movers", "has 3")


def test_an_analysis_error_is_exit_2_with_its_one_line_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "joint.yaml", JOINT)
    with pytest.raises(AnalysisError, match="exactly two movers"):
        conflict_service.analyze_file(path, ("limited",))
    code, out, err = run(capsys, "conflict", "analyze", path, "--concepts", "limited")
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert_usage_error(code, err, "exactly two movers")


def test_coalition_is_one_mover_named_with_plus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Alone, A (or B) at NNN, YNN or NYN cannot reach a & b in one move of its own
    option except NYN -> YYN (or YNN -> YYN): Nash equilibria with c = N are NNN and
    YYN. Together A+B moves NNN -> YYN, both gaining, so only YYN is left."""
    alone = write(tmp_path, "alone.yaml", JOINT)
    doc = run_json(capsys, "conflict", "analyze", alone, "--concepts", "nash")
    assert doc["movers"] == ["A", "B", "C"]
    assert doc["stable"]["nash"]["A"] == ["NNN", "YNN", "YYN", "NNY", "YNY", "YYY"]
    assert doc["equilibria"]["nash"] == ["NNN", "YYN"]
    joined = write(tmp_path, "joined.yaml", JOINT + "coalitions: [[A, B]]\n")
    doc = run_json(capsys, "conflict", "analyze", joined, "--concepts", "nash,gmr")
    assert doc["movers"] == ["A+B", "C"]
    assert set(doc["stable"]["nash"]) == set(doc["stable"]["gmr"]) == {"A+B", "C"}
    assert doc["stable"]["nash"]["A+B"] == ["YYN", "YYY"]
    assert doc["stable"]["nash"]["C"] == ["NNN", "YNN", "NYN", "YYN"]
    assert doc["equilibria"]["nash"] == ["YYN"]


def test_misperceived_state_blocks_moves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A cannot move to or from YN: NN and YN become Nash stable for A; B is unchanged.
    path = write(tmp_path, "pd.yaml", PD.read_text(encoding="utf-8") + "misperceived: {A: [YN]}\n")
    doc = run_json(capsys, "conflict", "analyze", path, "--concepts", "nash")
    assert doc["stable"]["nash"] == {"A": ["NN", "YN", "YY"], "B": ["NY", "YY"]}
    assert doc["equilibria"]["nash"] == ["YY"]


def test_preference_uncertainty_robust_and_possible(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A leaves NN vs YN unranked. Robust (every completion): the pair is an improvement
    both ways for A, so A is Nash stable only at YY. Possible (the tie completion):
    neither way improves, so A is stable at NN, YN and YY; B is unaffected."""
    text = PD.read_text(encoding="utf-8").replace(
        "    ranking: [YN, NN, YY, NY]\n",
        "    ranking: [YN, NN, YY, NY]\n    unranked: [[NN, YN]]\n",
    )
    assert "unranked" in text
    path = write(tmp_path, "pd.yaml", text)
    doc = run_json(capsys, "conflict", "analyze", path, "--concepts", "nash")
    robust, possible = doc["uncertainty"]["robust"], doc["uncertainty"]["possible"]
    assert robust["stable"]["nash"] == {"A": ["YY"], "B": ["NY", "YY"]}
    assert possible["stable"]["nash"] == {"A": ["NN", "YN", "YY"], "B": ["NY", "YY"]}
    assert robust["equilibria"]["nash"] == possible["equilibria"]["nash"] == ["YY"]
    code, out, _ = run(capsys, "conflict", "analyze", path, "--concepts", "nash")
    assert code == 0
    assert "robust nash: YY" in out and "possible nash: YY" in out


# --- conflict explain ---------------------------------------------------------------


def test_explain_text_names_the_sanction(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "conflict", "explain", PD, "--dm", "A", "--state", "NN")
    assert code == 0
    assert out.splitlines() == [
        "NN is stable for A under GMR",
        "  NN -> YN -[B]-> YY  (deterred)",
    ]
    code, out, _ = run(
        capsys, "conflict", "explain", PD, "--dm", "A", "--state", "NN", "--concept", "nash"
    )
    assert code == 0
    assert out.splitlines() == ["NN is unstable for A under NASH", "  NN -> YN: no sanction"]
    code, out, _ = run(capsys, "conflict", "explain", PD, "--dm", "B", "--state", "NY")
    assert out.splitlines() == [
        "NY is stable for B under GMR",
        "B has no unilateral improvement from NY.",
    ]


def test_explain_json_gives_path_actors_and_payoffs(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "conflict", "explain", PD, "--dm", "A", "--state", "nn")
    assert doc["dm"] == "A" and doc["state"] == "NN" and doc["concept"] == "gmr"
    assert doc["stable"] is True
    (item,) = doc["improvements"]
    assert item["target"] == "YN" and item["deterred"] is True
    sanction = item["sanction"]
    assert sanction["states"] == ["YN", "YY"]
    assert sanction["actors"] == ["B"]
    assert sanction["simultaneous"] is False
    assert sanction["countermove"] is None
    # Payoffs are the dense ranks of the rankings (1 = least preferred).
    assert sanction["payoffs"] == [{"A": 4, "B": 1}, {"A": 2, "B": 2}]


def test_explain_smr_reports_the_countermove(capsys: pytest.CaptureFixture[str]) -> None:
    # From YY, A's only move is back to NY, its worst state: the sanction holds.
    args = ("conflict", "explain", PD, "--dm", "A", "--state", "NN", "--concept", "smr")
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert "best countermove: NY" in out
    doc = run_json(capsys, *args)
    assert doc["improvements"][0]["sanction"]["countermove"] == "NY"


def test_explain_gmr_threat_that_seq_finds_not_credible(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """USSR scores NYNN 13 -> NYYN 14 (withdraw under blockade). GMR: the US can strike
    (NYYN -> YNYN, USSR 6 < 13). SEQ: NYYN is the US maximum (15), so the US has no
    improvement from it and the withdrawal goes unsanctioned."""
    base = ("conflict", "explain", CUBAN, "--dm", "USSR", "--state", "NYNN")
    gmr = run_json(capsys, *base)
    assert gmr["stable"] is True
    (item,) = gmr["improvements"]
    assert item["target"] == "NYYN"
    assert item["sanction"]["actors"] == ["US"]
    assert item["sanction"]["states"] == ["NYYN", "YNYN"]
    assert [p["USSR"] for p in item["sanction"]["payoffs"]] == [9, 4]  # ranks of 14, 6
    code, out, _ = run(capsys, *base, "--concept", "seq")
    assert code == 0
    assert out.splitlines() == [
        "NYNN is unstable for USSR under SEQ",
        "  NYNN -> NYYN: no sanction",
    ]


def test_explain_sanction_may_use_the_same_opponent_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "twice.yaml", TWICE)
    for concept in ("gmr", "seq"):
        doc = run_json(
            capsys, "conflict", "explain", path, "--dm", "A", "--state", "NNN", "--concept", concept
        )
        assert doc["stable"] is True
        (item,) = doc["improvements"]
        assert item["sanction"]["states"] == ["YNN", "YNY", "YYY", "YYN"]
        assert item["sanction"]["actors"] == ["C", "B", "C"]
    code, out, _ = run(capsys, "conflict", "explain", path, "--dm", "A", "--state", "NNN")
    assert code == 0
    assert "NNN -> YNN -[C]-> YNY -[B]-> YYY -[C]-> YYN  (deterred)" in out


def test_explain_marks_simultaneous_sanctions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "mixed.yaml", MIXED)
    base = ("conflict", "explain", path, "--dm", "A", "--state", "NNNN", "--concept")
    seq, sim, both = (run_json(capsys, *base, c) for c in ("seq", "sim", "seqsim"))
    assert seq["stable"] is False and sim["stable"] is False
    assert [(i["target"], i["deterred"]) for i in seq["improvements"]] == [
        ("YNNN", True),
        ("NYNN", False),
    ]
    assert [(i["target"], i["deterred"]) for i in sim["improvements"]] == [
        ("YNNN", False),
        ("NYNN", True),
    ]
    # SEQ&SIM: each improvement deterred one way or the other, so the state is stable.
    assert both["stable"] is True
    by_seq, by_sim = (i["sanction"] for i in both["improvements"])
    assert (by_seq["states"], by_seq["actors"], by_seq["simultaneous"]) == (
        ["YNNN", "YNYN"],
        ["B"],
        False,
    )
    assert (by_sim["states"], by_sim["actors"], by_sim["simultaneous"]) == (
        ["NYNN", "NYNY"],
        ["B"],
        True,
    )
    doc = run_json(capsys, "conflict", "analyze", path, "--concepts", "seq,sim,seqsim")
    assert "NNNN" not in doc["stable"]["seq"]["A"]
    assert "NNNN" not in doc["stable"]["sim"]["A"]
    assert "NNNN" in doc["stable"]["seqsim"]["A"]


def test_explain_simultaneous_response_of_two_opponents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "two.yaml", TWO_RESPONDERS)
    args = ("conflict", "explain", path, "--dm", "A", "--state", "NNN", "--concept", "sim")
    doc = run_json(capsys, *args)
    assert doc["stable"] is True
    (item,) = doc["improvements"]
    assert item["sanction"]["states"] == ["YNN", "YYY"]
    assert item["sanction"]["actors"] == ["B&C"]
    assert item["sanction"]["simultaneous"] is True


def test_explain_text_draws_simultaneous_responses_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A SIM response is made from the explained state at the same time as the focal
    move, not after it: the text must not draw it as a step from the target."""
    code, out, _ = run(
        capsys, "conflict", "explain", PD, "--dm", "A", "--state", "NN", "--concept", "sim"
    )
    assert code == 0
    assert out.splitlines() == [
        "NN is stable for A under SIM",
        "  NN -> YN, at the same time B moves: -> YY  (simultaneous, deterred)",
    ]
    two = write(tmp_path, "two.yaml", TWO_RESPONDERS)
    args = ("conflict", "explain", two, "--dm", "A", "--state", "NNN", "--concept", "sim")
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert "  NNN -> YNN, at the same time B and C move: -> YYY  (simultaneous, deterred)" in (
        out.splitlines()
    )
    # SEQ&SIM shows each kind its own way.
    mixed = write(tmp_path, "mixed.yaml", MIXED)
    args = ("conflict", "explain", mixed, "--dm", "A", "--state", "NNNN", "--concept", "seqsim")
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert out.splitlines() == [
        "NNNN is stable for A under SEQSIM",
        "  NNNN -> YNNN -[B]-> YNYN  (deterred)",
        "  NNNN -> NYNN, at the same time B moves: -> NYNY  (simultaneous, deterred)",
    ]


def test_explain_member_finds_its_coalition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "joined.yaml", JOINT + "coalitions: [[A, B]]\n")
    for dm in ("B", "A+B"):
        args = ("conflict", "explain", path, "--dm", dm, "--state", "NNN", "--concept", "nash")
        doc = run_json(capsys, *args)
        assert doc["dm"] == "A+B"
        assert doc["stable"] is False
        assert [i["target"] for i in doc["improvements"]] == ["YYN"]


def test_explain_non_myopic_lists_the_anticipated_replies(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Chicken at NN: A's dare is answered by B's dare and A's swerve, ending at NY.
    base = ("conflict", "explain", CHICKEN, "--dm", "A", "--state", "NN", "--concept")
    doc = run_json(capsys, *base, "nonmyopic")
    assert doc["stable"] is True
    (item,) = doc["improvements"]
    assert item["deterred"] is True
    assert item["sanction"]["states"] == ["YN", "YY", "NY"]
    assert item["sanction"]["actors"] == ["B", "A"]
    short = run_json(capsys, *base, "limited", "--horizon", "2")
    assert short["stable"] is False
    assert short["improvements"][0]["deterred"] is False


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("--dm", "UK", "--state", "NNNN"), ("unknown decision maker 'UK'", "US, USSR")),
        (("--dm", "US", "--state", "NNN"), ("'NNN'", "4 letters Y/N", "air_strike, blockade")),
        (("--dm", "US", "--state", "NXNN"), ("'NXNN'", "4 letters Y/N")),
        (("--dm", "US", "--state", "NNYY"), ("NNYY is not feasible",)),
        (
            ("--dm", "US", "--state", "NNNN", "--concept", "bogus"),
            ("unknown solution concept 'bogus'",),
        ),
    ],
)
def test_explain_bad_input_exits_2(
    args: tuple[str, ...], needles: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "conflict", "explain", CUBAN, *args)
    assert_usage_error(code, err, *needles)
    assert out == ""


# --- conflict paths -----------------------------------------------------------------


def test_paths_from_the_status_quo(capsys: pytest.CaptureFixture[str]) -> None:
    """From NNNN (US 6, USSR 15) the US improves only by blockading (NYNN, US 7; a strike
    scores 4 or 5); the USSR has no improvement from NNNN; from NYNN the USSR withdraws
    (13 -> 14), and at NYYN nobody improves. So 3 states by improvements, all 12 by
    moves."""
    doc = run_json(capsys, "conflict", "paths", CUBAN)
    assert doc["status_quo"] == "NNNN"
    assert doc["reachable"] == {"by_improvements": 3, "by_moves": 12}
    paths = {item["target"]: item for item in doc["paths"]}
    assert {"NYYN", "YYYN"} <= paths.keys()  # the Nash equilibria are targets
    assert paths["NYYN"]["by_improvements"] == [
        {"mover": "US", "from": "NNNN", "to": "NYNN"},
        {"mover": "USSR", "from": "NYNN", "to": "NYYN"},
    ]
    assert paths["YYYN"]["by_improvements"] is None
    moves = paths["YYYN"]["by_moves"]
    assert len(moves) == 2 and moves[0]["from"] == "NNNN" and moves[-1]["to"] == "YYYN"
    for a, b in itertools.pairwise(moves):
        assert a["to"] == b["from"] and a["mover"] != b["mover"]
    code, out, _ = run(capsys, "conflict", "paths", CUBAN)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == ("status quo NNNN: 3 states reachable by improvements, 12 by any moves")
    assert "NYYN by improvements: NNNN -[US]-> NYNN -[USSR]-> NYYN" in lines
    assert "YYYN by improvements: unreachable" in lines


def test_paths_need_a_status_quo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "mixed.yaml", MIXED)
    code, _, err = run(capsys, "conflict", "paths", path)
    assert_usage_error(code, err, "no status quo")


# --- conflict graph -----------------------------------------------------------------


def test_graph_writes_a_well_formed_svg(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "out.svg"
    code, out, _ = run(capsys, "conflict", "graph", CUBAN, "-o", out_file, "--concept", "nash")
    assert code == 0
    assert out.strip() == f"wrote {out_file} (2 equilibria highlighted)"
    root = ET.parse(out_file).getroot()
    assert root.tag == f"{SVG}svg"
    texts = {(el.text or "").strip() for el in root.iter(f"{SVG}text")}
    states = run_json(capsys, "conflict", "analyze", CUBAN, "--concepts", "nash")["states"]
    assert set(states) <= texts
    nodes = {g.get("data-state"): g for g in root.iter(f"{SVG}g") if g.get("class") == "state"}
    assert set(nodes) == set(states)
    marked = {s for s, g in nodes.items() if "equilibrium" in (g.findtext(f"{SVG}title") or "")}
    assert marked == {"NYYN", "YYYN"}
    assert "status quo" in (nodes["NNNN"].findtext(f"{SVG}title") or "")


def test_graph_shows_the_state_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "out.svg"
    assert run(capsys, "conflict", "graph", CUBAN, "-o", out_file)[0] == 0
    root = ET.parse(out_file).getroot()
    nodes = {g.get("data-state"): g for g in root.iter(f"{SVG}g") if g.get("class") == "state"}

    def labels(state: str) -> list[str]:
        return ["".join(el.itertext()) for el in nodes[state].iter(f"{SVG}text")]

    for state, name in (("NYYN", "blockade, withdrawal"), ("YNNY", "war")):
        assert labels(state) == [state, name]
        assert name in (nodes[state].findtext(f"{SVG}title") or "")
    assert labels("NNNN") == ["NNNN", "status quo", "status quo"]  # name, then the mark
    assert labels("NYNN") == ["NYNN"]


def test_graph_refuses_other_picture_types(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "conflict", "graph", PD, "-o", tmp_path / "out.png")
    assert_usage_error(code, err, ".svg")
    assert not (tmp_path / "out.png").exists()


# --- conflict convert ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "prisoners_dilemma.yaml",
        "chicken.yaml",
        "cuban_missile_crisis.yaml",
        "elmira.yaml",
        "ukraine_escalation.yaml",
    ],
)
def test_convert_to_gmcr_and_back_keeps_the_analysis(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / name
    shutil.copy(EXAMPLES / name, source)
    gmcr, back = tmp_path / "case.gmcr", tmp_path / "back.yaml"
    assert run(capsys, "conflict", "convert", source, gmcr)[0] == 0
    json.loads(gmcr.read_text(encoding="utf-8"))  # a GMCR+ save file is JSON
    assert run(capsys, "conflict", "convert", gmcr, back)[0] == 0
    original = run_json(capsys, "conflict", "analyze", source)
    assert run_json(capsys, "conflict", "analyze", gmcr) == original
    assert run_json(capsys, "conflict", "analyze", back) == original


def test_convert_keeps_unranked_pairs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = PD.read_text(encoding="utf-8").replace(
        "    ranking: [YN, NN, YY, NY]\n",
        "    ranking: [YN, NN, YY, NY]\n    unranked: [[NN, YN]]\n",
    )
    source = write(tmp_path, "pd.yaml", text)
    gmcr = tmp_path / "pd.gmcr"
    code, out, _ = run(capsys, "conflict", "convert", source, gmcr)
    assert code == 0 and out.strip() == f"wrote {gmcr}"
    original = run_json(capsys, "conflict", "analyze", source)
    assert "uncertainty" in original
    assert run_json(capsys, "conflict", "analyze", gmcr) == original


def test_convert_refuses_its_own_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write(tmp_path, "pd.yaml", PD.read_text(encoding="utf-8"))
    code, _, err = run(capsys, "conflict", "convert", source, source)
    assert_usage_error(code, err, "must differ")
    code, _, err = run(capsys, "conflict", "convert", source, tmp_path / "pd.txt")
    assert_usage_error(code, err, "unknown file type '.txt'")


# --- malformed files ----------------------------------------------------------------

TWO_BY_TWO = """\
title: Bad
decision_makers:
  - {{id: A, options: [a]}}
  - {{id: B, options: [b]}}
preferences:
  A:
    {a}
  B:
    ranking: [NY, NN, YY, YN]
{extra}"""

MALFORMED = [
    pytest.param(
        TWO_BY_TWO.format(a="statements: [a, -bb]", extra=""),
        ":7: preferences.A.statements[1]",
        "unknown option 'bb'",
        id="unknown-option",
    ),
    pytest.param(
        TWO_BY_TWO.format(a="ranking: [YN, NN, YY, NY]", extra="status_quo: NNN\n"),
        ":10: status_quo",
        "'NNN' is not a 2-character string",
        id="wrong-length-status-quo",
    ),
    pytest.param(
        TWO_BY_TWO.format(a="ranking: [YN, NN, YYY, NY]", extra=""),
        ":7: preferences.A.ranking[2]",
        "'YYY' is not a 2-character string",
        id="wrong-length-ranked-state",
    ),
    pytest.param(
        TWO_BY_TWO.format(a="ranking: [YN, NN, YY]", extra=""),
        ":7: preferences.A.ranking",
        "misses 1 feasible state(s): NY",
        id="ranking-missing-a-state",
    ),
    pytest.param(
        TWO_BY_TWO.format(a="ranking: [YN, NN, YY, NY]", extra="infeasible: [{zz: true}]\n"),
        ":10: infeasible[0].zz",
        "unknown option 'zz'",
        id="unknown-option-in-rule",
    ),
]


@pytest.mark.parametrize(("text", "where", "what"), MALFORMED)
@pytest.mark.parametrize("command", ["analyze", "explain", "paths", "graph"])
def test_malformed_file_exits_2_naming_file_and_location(
    command: str,
    text: str,
    where: str,
    what: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write(tmp_path, "bad.yaml", text)
    extra = {
        "analyze": [],
        "explain": ["--dm", "A", "--state", "NN"],
        "paths": [],
        "graph": ["-o", str(tmp_path / "out.svg")],
    }[command]
    code, out, err = run(capsys, "conflict", command, path, *extra)
    assert_usage_error(code, err, f"{path}{where}", what)
    assert out == ""
    assert not (tmp_path / "out.svg").exists()


def test_malformed_gmcr_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "bad.gmcr", '{"options": [1')
    code, _, err = run(capsys, "conflict", "analyze", path)
    assert_usage_error(code, err, f"{path}:1", "not valid JSON")
    path = write(tmp_path, "empty.gmcr", "{}")
    code, _, err = run(capsys, "conflict", "analyze", path)
    assert_usage_error(code, err, f"{path}: options")


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nowhere.yaml"
    code, _, err = run(capsys, "conflict", "analyze", path)
    assert_usage_error(code, err, str(path), "cannot read the file")


@pytest.mark.parametrize(("text", "where", "what"), MALFORMED)
@pytest.mark.parametrize("suffix", [".gmcr", ".yaml"])
def test_convert_of_a_malformed_file_names_the_source(
    suffix: str,
    text: str,
    where: str,
    what: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write(tmp_path, "bad.yaml", text)
    target = tmp_path / f"out{suffix}"
    code, _, err = run(capsys, "conflict", "convert", path, target)
    assert_usage_error(code, err, f"{path}{where}", what)
    assert not target.exists()


def test_convert_of_a_statements_only_file_names_the_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = TWO_BY_TWO.format(a="statements: [a, -bb]", extra="").replace(
        "ranking: [NY, NN, YY, YN]", "statements: [b]"
    )
    path = write(tmp_path, "bad.yaml", text)
    for suffix in (".gmcr", ".json"):
        target = tmp_path / f"out{suffix}"
        code, _, err = run(capsys, "conflict", "convert", path, target)
        assert_usage_error(code, err, f"{path}:7: preferences.A.statements[1]", "'bb'")
        assert "split the statement" not in err
        assert not target.exists()


def test_convert_to_gmcr_locates_a_statement_too_large_for_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = [f"o{j}" for j in range(11)]
    text = f"""\
title: Wide
decision_makers:
  - {{id: A, options: [{", ".join(options[:6])}]}}
  - {{id: B, options: [{", ".join(options[6:])}]}}
preferences:
  A:
    statements: [o0, {" | ".join(options)}]
  B:
    statements: [-o0]
"""
    path = write(tmp_path, "wide.yaml", text)
    target = tmp_path / "wide.gmcr"
    code, _, err = run(capsys, "conflict", "convert", path, target)
    where = f"{path}:7: preferences.A.statements[1]"
    assert_usage_error(code, err, where, "over 11 options", "split the statement")
    assert not target.exists()
    assert run(capsys, "conflict", "convert", path, tmp_path / "wide.json")[0] == 0


def test_convert_replaces_the_target_whole_or_not_at_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, "bad.yaml", TWO_BY_TWO.format(a="ranking: [YN, NN, YY]", extra=""))
    good = write(tmp_path, "pd.yaml", PD.read_text(encoding="utf-8"))
    for suffix in (".gmcr", ".yaml", ".json"):
        target = write(tmp_path, f"old{suffix}", "old\n")
        code, _, err = run(capsys, "conflict", "convert", bad, target)
        assert_usage_error(code, err, f"{bad}:7: preferences.A.ranking")
        assert target.read_text(encoding="utf-8") == "old\n"
        code, _, err = run(capsys, "conflict", "convert", good, target)
        assert_usage_error(code, err, f"{target}: the file exists (add --force to replace it")
        assert target.read_text(encoding="utf-8") == "old\n"
        assert run(capsys, "conflict", "convert", good, target, "--force")[0] == 0
        assert run_json(capsys, "conflict", "analyze", target) == run_json(
            capsys, "conflict", "analyze", good
        )
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["bad.yaml", "old.gmcr", "old.json", "old.yaml", "pd.yaml"]  # no leftovers
    code, _, err = run(capsys, "conflict", "convert", good, tmp_path / "nowhere" / "pd.json")
    assert_usage_error(code, err, "cannot write the file")
