"""Compile a GMCR conflict file model into a :class:`CompiledConflict` (the conflict engine).

The conflict file (:class:`~backchannel.model.conflict.ConflictFile`, read by
:mod:`backchannel.formats.conflicts`) is checked and turned into arrays: feasible
states and payoffs. The way back, a compiled conflict as a file model, is
:mod:`backchannel.conflict.decompile`. (The negotiation engine's counterpart, a case
compiled into a problem, is :mod:`backchannel.model.compile`.)

Feasible states are enumerated without a ``2**m`` table: options are split into the
connected components of the infeasibility rules, each component is enumerated by a
breadth-first expansion over its options that drops a partial state as soon as a rule
whose options are all assigned matches it, and the components and the unconstrained
options are combined by a Cartesian product. Cost is proportional to the feasible
states (plus the pruned partial states), not to ``2**m``.

Payoffs follow option prioritisation (Fang, Hipel, Kilgour & Peng 2003, GMCR II;
Kinsara et al. 2015, GMCR+): with ``K`` statements, statement ``k`` (1-based, most
important first) weighs ``2**(K-k)``; a state scores the sum of the weights of the
statements it satisfies. Explicit rankings give tie group ``g`` of ``G`` (best first)
the score ``G - g``. Payoffs are the dense ranks of the scores, from 1 (least
preferred); only their order matters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict.compiled_conflict import CompiledConflict, Reversibility
from backchannel.errors import AnalysisError, CaseFileError
from backchannel.messages import Text, t_
from backchannel.model.conflict import CheckedConflict, ConflictFile, check_conflict
from backchannel.model.conflict.checks import raise_all
from backchannel.model.conflict.statements import And, Expr, If, Iff, Not, Opt, Or

__all__ = ["MAX_STATES", "compile_conflict", "enumerate_feasible", "set_bits", "state_names"]

MAX_STATES = 4_194_304


def set_bits(mask: int) -> list[int]:
    """The positions of the bits set in ``mask``, lowest first."""
    return [j for j in range(mask.bit_length()) if mask >> j & 1]


def _order(options: list[int], rules: list[tuple[int, int]]) -> list[int]:
    """Greedy option order that completes rules early (prunes partial states sooner)."""
    chosen: list[int] = []
    done = 0
    left = set(options)
    while left:

        def score(j: int, done: int = done) -> tuple[int, int, int]:
            reach = done | 1 << j
            completes = sum(1 for mask, _ in rules if mask >> j & 1 and mask & ~reach == 0)
            touches = sum(1 for mask, _ in rules if mask >> j & 1 and mask & done)
            return completes, touches, -j

        best = max(left, key=score)
        chosen.append(best)
        done |= 1 << best
        left.remove(best)
    return chosen


def _components(
    n_options: int, rules: list[tuple[int, int]]
) -> tuple[list[tuple[list[int], list[tuple[int, int]]]], list[int]]:
    """The options linked by rules, each group with its rules; and the unconstrained options."""
    parent = list(range(n_options))

    def root(j: int) -> int:
        while parent[j] != j:
            parent[j] = parent[parent[j]]
            j = parent[j]
        return j

    for mask, _ in rules:
        bits = set_bits(mask)
        for j in bits[1:]:
            parent[root(j)] = root(bits[0])
    constrained = 0
    for mask, _ in rules:
        constrained |= mask
    components: dict[int, list[int]] = {}
    for j in set_bits(constrained):
        components.setdefault(root(j), []).append(j)
    groups = [
        (options, [rule for rule in rules if root(set_bits(rule[0])[0]) == root(options[0])])
        for options in components.values()
    ]
    free = [j for j in range(n_options) if not constrained >> j & 1]
    return groups, free


def _component_states(
    options: list[int], rules: list[tuple[int, int]], max_states: int
) -> NDArray[np.uint64]:
    """The feasible codes of one component: options added one by one, pruned by each rule
    as soon as every option it names is assigned."""
    order = _order(options, rules)
    step = {j: i for i, j in enumerate(order)}
    by_step: list[list[tuple[int, int]]] = [[] for _ in order]
    for mask, value in rules:
        by_step[max(step[j] for j in set_bits(mask))].append((mask, value))
    codes = np.zeros(1, dtype=np.uint64)
    for i, j in enumerate(order):
        codes = np.concatenate([codes, codes | np.uint64(1 << j)])
        for mask, value in by_step[i]:
            codes = codes[(codes & np.uint64(mask)) != np.uint64(value)]
        if codes.size > 4 * max_states:
            raise AnalysisError(f"more than {max_states:,} feasible states")
    return codes


def enumerate_feasible(
    n_options: int, forbidden: Sequence[tuple[int, int]], *, max_states: int = MAX_STATES
) -> NDArray[np.uint64]:
    """The feasible states: codes over ``n_options`` bits matching no forbidden cube.

    Parameters
    ----------
    n_options:
        Number of options (bits), at most 64.
    forbidden:
        ``(mask, value)`` pairs; a state ``s`` is infeasible when
        ``s & mask == value`` for some pair (a conjunction of literals, as in the
        infeasibility conditions of GMCR II, Fang et al. 2003).
    max_states:
        Refuse to build more states than this.

    Returns
    -------
    numpy.ndarray
        Sorted ``uint64`` codes.

    Raises
    ------
    AnalysisError
        When more than ``max_states`` states would be feasible.
    """
    rules = sorted(set(forbidden))
    if any(mask == 0 for mask, _ in rules):
        return np.zeros(0, dtype=np.uint64)
    groups, free = _components(n_options, rules)
    parts = [_component_states(options, comp, max_states) for options, comp in groups]
    total = math.prod(int(part.size) for part in parts) * 2 ** len(free)
    if total > max_states:
        raise AnalysisError(
            f"{total:,} feasible states, more than the {max_states:,} supported",
            hint="add infeasibility rules or split the model",
        )
    result = np.zeros(1, dtype=np.uint64)
    for part in sorted(parts, key=len):
        result = (result[:, None] | part[None, :]).ravel()
    for j in free:
        result = np.concatenate([result, result | np.uint64(1 << j)])
    return np.sort(result)


class _Evaluator:
    """Vectorised statement evaluation over a state array (bits computed once)."""

    def __init__(self, states: NDArray[np.uint64]) -> None:
        self.states = states
        self.cache: dict[int, NDArray[np.bool_]] = {}

    def bit(self, j: int) -> NDArray[np.bool_]:
        if j not in self.cache:
            self.cache[j] = ((self.states >> np.uint64(j)) & np.uint64(1)).astype(bool)
        return self.cache[j]

    def __call__(self, expr: Expr) -> NDArray[np.bool_]:
        if isinstance(expr, Opt):
            return self.bit(expr.index)
        if isinstance(expr, Not):
            return ~self(expr.arg)
        if isinstance(expr, And | Or):
            result = self(expr.args[0]).copy()
            for arg in expr.args[1:]:
                result = result & self(arg) if isinstance(expr, And) else result | self(arg)
            return result
        if isinstance(expr, If):
            return self(expr.then) | ~self(expr.cond)
        assert isinstance(expr, Iff)
        return ~(self(expr.left) ^ self(expr.right))


def _dense(scores: NDArray[np.int64]) -> NDArray[np.int64]:
    return (np.unique(scores, return_inverse=True)[1] + 1).astype(np.int64).reshape(-1)


def _ranking_scores(
    c: CheckedConflict, k: int, ranking: tuple[tuple[int, ...], ...], states: NDArray[np.uint64]
) -> NDArray[np.int64]:
    path = ("preferences", c.dm_ids[k], "ranking")
    scores = np.zeros(states.size, dtype=np.int64)
    seen = np.zeros(states.size, dtype=bool)
    errors = []
    for g, group in enumerate(ranking):
        for i, code in enumerate(group):
            pos = int(np.searchsorted(states, np.uint64(code)))
            if pos >= states.size or int(states[pos]) != code:
                errors.append(
                    c.error(
                        (*path, g, i),
                        t_(
                            "state {state} is infeasible and cannot be ranked",
                            state=repr(c.state_text(code)),
                        ),
                        t_("remove it from the ranking"),
                    )
                )
                continue
            scores[pos] = len(ranking) - g
            seen[pos] = True
    missing = np.flatnonzero(~seen)
    if missing.size:
        shown = ", ".join(c.state_text(int(states[i])) for i in missing[:10])
        listed: Text = shown
        if missing.size > 10:
            listed = t_("{shown} and {n} more", shown=shown, n=missing.size - 10)
        errors.append(
            c.error(
                path,
                t_(
                    "the ranking misses {n} feasible state(s): {shown}",
                    n=missing.size,
                    shown=listed,
                ),
                t_("list every feasible state exactly once"),
            )
        )
    raise_all(errors)
    return scores


def _payoffs(c: CheckedConflict, states: NDArray[np.uint64]) -> NDArray[np.int64]:
    evaluate = _Evaluator(states)
    payoffs = np.zeros((len(c.dm_ids), states.size), dtype=np.int64)
    for k in range(len(c.dm_ids)):
        statements = c.statements[k]
        ranking = c.rankings[k]
        if statements is not None:
            scores = np.zeros(states.size, dtype=np.int64)
            for s, expr in enumerate(statements):
                scores += np.where(evaluate(expr), np.int64(1) << (len(statements) - 1 - s), 0)
        else:
            assert ranking is not None
            scores = _ranking_scores(c, k, ranking, states)
        payoffs[k] = _dense(scores)
    return payoffs


def _status_quo(
    c: CheckedConflict, compiled: CompiledConflict, errors: list[CaseFileError]
) -> int | None:
    if c.status_quo is None:
        return None
    status_quo = compiled.state_index(c.state_text(c.status_quo))
    if status_quo is None:
        rule = next(cube.path for cube in c.infeasible if cube.matches(c.status_quo))
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rule)[1:]
        errors.append(
            c.error(
                ("status_quo",),
                t_(
                    "the status quo {state} is infeasible (it matches {where})",
                    state=repr(c.state_text(c.status_quo)),
                    where=where,
                ),
            )
        )
    return status_quo


def _misperceived(
    c: CheckedConflict, states: NDArray[np.uint64], errors: list[CaseFileError]
) -> tuple[NDArray[np.bool_] | None, ...]:
    misperceived: list[NDArray[np.bool_] | None] = []
    for cubes in c.misperceived:
        mask = np.zeros(states.size, dtype=bool) if cubes else None
        for cube in cubes:
            hit = (states & np.uint64(cube.mask)) == np.uint64(cube.value)
            if not hit.any():
                errors.append(c.error(cube.path, t_("matches no feasible state")))
            assert mask is not None
            mask |= hit
        misperceived.append(mask)
    return tuple(misperceived)


def _unranked(
    c: CheckedConflict, compiled: CompiledConflict, errors: list[CaseFileError]
) -> tuple[NDArray[np.int64] | None, ...]:
    unranked: list[NDArray[np.int64] | None] = []
    for k, pairs in enumerate(c.unranked):
        rows = []
        for p, pair in enumerate(pairs):
            index = [compiled.state_index(c.state_text(code)) for code in pair]
            for side, found in enumerate(index):
                if found is None:
                    path = ("preferences", c.dm_ids[k], "unranked", p, side)
                    errors.append(c.error(path, "this state is infeasible"))
            if None not in index:
                rows.append(index)
        unranked.append(np.array(rows, dtype=np.int64).reshape(-1, 2) if rows else None)
    return tuple(unranked)


def _compile_checked(c: CheckedConflict, max_states: int) -> CompiledConflict:
    m = len(c.option_ids)
    try:
        states = enumerate_feasible(
            m, [(cube.mask, cube.value) for cube in c.infeasible], max_states=max_states
        )
    except AnalysisError as exc:
        raise c.error(("infeasible",), exc.text, exc.hint_text) from None
    if states.size == 0:
        raise c.error(("infeasible",), "the rules leave no feasible state")
    compiled = CompiledConflict(
        title=c.model.title,
        option_ids=c.option_ids,
        dm_ids=c.dm_ids,
        dm_options=c.dm_options,
        states=states,
        payoffs=_payoffs(c, states),
        reversibility=tuple(Reversibility(r) for r in c.reversibility),
        coalitions=c.coalitions,
    )
    errors: list[CaseFileError] = []
    status_quo = _status_quo(c, compiled, errors)
    misperceived = _misperceived(c, states, errors)
    unranked = _unranked(c, compiled, errors)
    raise_all(errors)
    return replace(compiled, status_quo=status_quo, misperceived=misperceived, unranked=unranked)


def compile_conflict(
    model: ConflictFile, source: str, *, max_states: int = MAX_STATES
) -> CompiledConflict:
    """Check and compile a conflict file model.

    Parameters
    ----------
    model:
        A validated conflict file.
    source:
        The file name used in error messages.
    max_states:
        Refuse models with more feasible states than this.

    Returns
    -------
    CompiledConflict
        Feasible states and payoffs (see the module docstring for the payoff rule).

    Raises
    ------
    CaseFileError, CaseFileErrors
        Every problem, located in the file.
    """
    return _compile_checked(check_conflict(model, source), max_states)


def state_names(model: ConflictFile, conflict: CompiledConflict) -> dict[int, str]:
    """The file's ``state_names`` as state index to name (feasible states only)."""
    names: dict[int, str] = {}
    for text, name in model.state_names.items():
        index = conflict.state_index(text)
        if index is not None and len(text) == len(conflict.option_ids):
            names[index] = name
    return names
