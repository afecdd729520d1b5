"""The SVG state graph: well-formed, complete, marked, condensed when large."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from backchannel.conflict.compile import state_names
from backchannel.conflict.graph import render_svg, unilateral_moves
from backchannel.services.conflict import load_conflict, load_conflict_model

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "conflicts"
NS = "{http://www.w3.org/2000/svg}"


def texts(root: ET.Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{NS}text")]


def state_groups(root: ET.Element) -> dict[str, ET.Element]:
    return {g.attrib["data-state"]: g for g in root.iter(f"{NS}g") if g.get("class") == "state"}


@pytest.mark.parametrize("name", ["prisoners_dilemma", "chicken", "cuban_missile_crisis", "elmira"])
def test_small_graphs_show_every_state(name: str) -> None:
    path = EXAMPLES / f"{name}.yaml"
    conflict = load_conflict(path)
    eq = [conflict.n_states - 1]
    svg = render_svg(
        conflict, equilibria=eq, state_names=state_names(load_conflict_model(path), conflict)
    )
    root = ET.fromstring(svg)
    labels = texts(root)
    for i in range(conflict.n_states):
        assert conflict.state_string(i) in labels
    for dm in conflict.dm_ids:
        assert f"moves by {dm}" in labels
    assert {"equilibrium", "status quo"} <= set(labels)
    assert "Condensed view" not in svg
    groups = state_groups(root)
    assert len(groups) == conflict.n_states
    eq_rect = groups[conflict.state_string(eq[0])].find(f"{NS}rect")
    assert eq_rect is not None and eq_rect.get("stroke") == "#b7791f"
    sq_rect = groups[conflict.state_string(conflict.status_quo or 0)].find(f"{NS}rect")
    assert sq_rect is not None and sq_rect.get("stroke-dasharray")


def test_prisoners_dilemma_edges() -> None:
    conflict = load_conflict(EXAMPLES / "prisoners_dilemma.yaml")
    moves = unilateral_moves(conflict, list(range(4)))
    as_text = {
        (conflict.dm_ids[dm], conflict.state_string(a), conflict.state_string(b), both)
        for dm, a, b, both in moves
    }
    assert as_text == {
        ("A", "NN", "YN", True),
        ("A", "NY", "YY", True),
        ("B", "NN", "NY", True),
        ("B", "YN", "YY", True),
    }
    root = ET.fromstring(render_svg(conflict))
    edges = [p for p in root.iter(f"{NS}path") if p.get("marker-end", "").startswith("url(#arrow")]
    assert len(edges) == 4
    assert all(p.get("marker-start") for p in edges)  # every move here goes both ways


def test_irreversible_options_give_one_way_arrows() -> None:
    conflict = load_conflict(EXAMPLES / "cuban_missile_crisis.yaml")
    moves = unilateral_moves(conflict, list(range(conflict.n_states)))
    strike = [
        (conflict.state_string(a), conflict.state_string(b), both)
        for dm, a, b, both in moves
        if conflict.dm_ids[dm] == "US"
        and conflict.state_string(a)[0] != conflict.state_string(b)[0]
    ]
    assert ("NNNN", "YNNN", False) in strike
    assert all(not both and a[0] == "N" for a, _, both in strike)


def test_misperceived_states_have_no_moves_for_that_dm() -> None:
    path = EXAMPLES / "prisoners_dilemma.yaml"
    from dataclasses import replace

    import numpy as np

    conflict = load_conflict(path)
    blind = np.array([s == "YY" for s in map(conflict.state_string, range(4))])
    conflict = replace(conflict, misperceived=(None, blind))
    moves = unilateral_moves(conflict, list(range(4)))
    assert all(
        not (
            conflict.dm_ids[dm] == "B"
            and "YY" in (conflict.state_string(a), conflict.state_string(b))
        )
        for dm, a, b, _ in moves
    )
    assert len(moves) == 3


def test_large_graphs_are_condensed_and_say_so() -> None:
    path = EXAMPLES / "ukraine_escalation.yaml"
    conflict = load_conflict(path)
    assert conflict.n_states > 64
    eq = [conflict.state_index("YNNYNYNY")]
    svg = render_svg(conflict, equilibria=[i for i in eq if i is not None])
    root = ET.fromstring(svg)
    assert "Condensed view" in svg
    groups = state_groups(root)
    assert len(groups) <= 64
    assert conflict.state_string(conflict.status_quo or 0) in groups
    assert "YNNYNYNY" in groups


def test_labels_are_escaped_and_nothing_external() -> None:
    conflict = load_conflict(EXAMPLES / "chicken.yaml")
    svg = render_svg(conflict, title='A & B <"crash">', state_names={0: "<b>x</b>"})
    root = ET.fromstring(svg)
    assert 'A & B <"crash">' in texts(root)
    assert "<b>x</b>" in texts(root)
    assert "<script" not in svg and "href" not in svg and "@import" not in svg
    assert svg.count("http") == 1  # only the SVG namespace


def test_rendering_is_deterministic() -> None:
    conflict = load_conflict(EXAMPLES / "elmira.yaml")
    assert render_svg(conflict, equilibria=[3]) == render_svg(conflict, equilibria=[3])
