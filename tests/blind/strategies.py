"""Hypothesis strategies building small random case files (as :class:`Case` objects).

Utilities lie on a 0.01 grid (weights multiples of 10 out of 100, ratings multiples
of 10 out of 100) and reservations on a 0.05 grid, so that Nash products of up to
three delegations differ by far more than the clear engine's tolerance: ties are
real ties in both engines. Red lines of every form a side can hold are drawn:
forbid, require, at least, at most, if-then conditions and minimum utilities; an
absent stakeholder may add public red lines.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from backchannel.model.case import Case

NAMES = ("A", "B", "C", "D")


@st.composite
def _weights(draw: st.DrawFn, n: int) -> list[int]:
    cuts = sorted(draw(st.lists(st.integers(0, 10), min_size=n - 1, max_size=n - 1)))
    return [10 * (b - a) for a, b in zip([0, *cuts], [*cuts, 10], strict=True)]


def _cond(issue: int, options: list[int]) -> dict[str, Any]:
    return {"issue": f"i{issue}", "options": [f"o{o}" for o in options]}


@st.composite
def _red_line(draw: st.DrawFn, sizes: list[int], ident: str, utility: bool) -> dict[str, Any]:
    forms = ["forbid", "require", "at_least", "if", "if"] + (["min_utility"] if utility else [])
    form = draw(st.sampled_from(forms))
    issue = draw(st.integers(0, len(sizes) - 1))
    option = st.integers(0, sizes[issue] - 1)
    if form == "min_utility":
        return {"id": ident, "min_utility": draw(st.integers(0, 10)) * 0.05}
    if form == "forbid":
        return {"id": ident, "forbid": _cond(issue, [draw(option)])}
    if form == "require":
        wanted = sorted(draw(st.sets(option, min_size=1)))
        return {"id": ident, "require": _cond(issue, wanted)}
    if form == "at_least":
        return {"id": ident, "at_least": {"issue": f"i{issue}", "value": f"o{draw(option)}"}}
    then = draw(st.integers(0, len(sizes) - 1))
    then_options = sorted(draw(st.sets(st.integers(0, sizes[then] - 1), min_size=1)))
    return {
        "id": ident,
        "if": _cond(issue, [draw(option)]),
        "then": _cond(then, then_options),
    }


@st.composite
def cases(draw: st.DrawFn, *, delegations: tuple[int, int] = (2, 3), max_issues: int = 4) -> Case:
    """A random small case with 2-3 delegations (by default) on a few ordered issues."""
    n = draw(st.integers(2, max_issues))
    sizes = [draw(st.integers(2, 3)) for _ in range(n)]
    issues = [
        {"name": f"i{k}", "kind": "ordered", "options": [f"o{o}" for o in range(size)]}
        for k, size in enumerate(sizes)
    ]
    parties: list[dict[str, Any]] = []
    for name in NAMES[: draw(st.integers(*delegations))]:
        weights = draw(_weights(n))
        ratings = {
            f"i{k}": {f"o{o}": 10 * draw(st.integers(0, 10)) for o in range(size)}
            for k, size in enumerate(sizes)
        }
        lines = [draw(_red_line(sizes, f"{name}{r}", True)) for r in range(draw(st.integers(0, 3)))]
        parties.append(
            {
                "name": name,
                "weights": {f"i{k}": w for k, w in enumerate(weights)},
                "ratings": ratings,
                "red_lines": lines,
                "reservation": draw(st.integers(0, 8)) * 0.05,
            }
        )
    if draw(st.booleans()):
        lines = [draw(_red_line(sizes, f"Z{r}", False)) for r in range(draw(st.integers(1, 2)))]
        parties.append({"name": "Z", "role": "absent", "red_lines": lines})
    return Case.model_validate({"title": "random", "issues": issues, "parties": parties})
