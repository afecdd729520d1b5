"""A compiled conflict back as a conflict file model (the way back of :mod:`.compile`).

A :class:`~backchannel.conflict.compiled_conflict.CompiledConflict` has no statements,
only payoffs: it becomes a file whose preferences are explicit rankings and whose
infeasibility rules are a small set of cubes covering exactly the infeasible states
(prime implicants, chosen greedily). Writing the file is
:mod:`backchannel.formats.conflicts`.
"""

from __future__ import annotations

import numpy as np

from backchannel.conflict.compile import set_bits
from backchannel.conflict.compiled_conflict import CompiledConflict
from backchannel.errors import AnalysisError
from backchannel.model.conflict import ConflictFile

__all__ = ["conflict_to_model", "preference_rankings"]


def preference_rankings(conflict: CompiledConflict) -> list[list[list[int]]]:
    """Each decision maker's ranking: tie groups of state codes, most preferred first."""
    result = []
    for row in conflict.payoffs:
        levels = sorted(set(row.tolist()), reverse=True)
        result.append([[int(conflict.states[i]) for i in np.flatnonzero(row == v)] for v in levels])
    return result


_MAX_COVER_OPTIONS = 16


def _infeasible_cover(conflict: CompiledConflict) -> list[tuple[int, int]]:
    """Cubes whose union is exactly the infeasible states (prime implicants, greedy)."""
    m = len(conflict.option_ids)
    if m > _MAX_COVER_OPTIONS:
        raise AnalysisError(
            f"cannot write the infeasible states of {m} options as rules",
            hint="convert the original conflict file instead of a compiled conflict",
        )
    feasible = set(conflict.states.tolist())
    minterms = {code for code in range(1 << m) if code not in feasible}
    full = (1 << m) - 1
    level: dict[int, set[int]] = {full: set(minterms)}
    primes: list[tuple[int, int]] = []
    while level:
        following: dict[int, set[int]] = {}
        for mask, values in level.items():
            merged: set[int] = set()
            for bit in set_bits(mask):
                b = 1 << bit
                for v in values:
                    if v & b and v ^ b in values:
                        following.setdefault(mask ^ b, set()).add(v ^ b)
                        merged.update((v, v ^ b))
            primes.extend((mask, v) for v in values - merged)
        level = following
    primes.sort(key=lambda cube: (bin(cube[0]).count("1"), cube))
    covered: set[int] = set()
    chosen = []
    for mask, value in primes:
        free = [j for j in range(m) if not mask >> j & 1]
        cells = {
            value | sum(1 << free[i] for i in range(len(free)) if n >> i & 1)
            for n in range(1 << len(free))
        }
        if not cells <= covered:
            chosen.append((mask, value))
            covered |= cells
    return chosen


def conflict_to_model(conflict: CompiledConflict) -> ConflictFile:
    """A conflict file equivalent to a compiled conflict (preferences as rankings).

    Raises
    ------
    AnalysisError
        When the infeasible states of more than 16 options would have to be listed.
    """
    ids = conflict.option_ids

    def text(code: int) -> str:
        return "".join("Y" if code >> j & 1 else "N" for j in range(len(ids)))

    preferences: dict[str, dict[str, object]] = {}
    for k, groups in enumerate(preference_rankings(conflict)):
        spec: dict[str, object] = {"ranking": [[text(c) for c in g] for g in groups]}
        pairs = conflict.unranked[k] if k < len(conflict.unranked) else None
        if pairs is not None and pairs.size:
            spec["unranked"] = [
                [conflict.state_string(int(a)), conflict.state_string(int(b))] for a, b in pairs
            ]
        preferences[conflict.dm_ids[k]] = spec
    data: dict[str, object] = {
        "title": conflict.title,
        "decision_makers": [
            {"id": dm, "options": [ids[j] for j in conflict.dm_options[k]]}
            for k, dm in enumerate(conflict.dm_ids)
        ],
        "options": [
            {"id": name, "reversibility": conflict.reversibility[j].value}
            for j, name in enumerate(ids)
        ],
        "infeasible": [
            {ids[j]: bool(value >> j & 1) for j in set_bits(mask)}
            for mask, value in _infeasible_cover(conflict)
        ],
        "preferences": preferences,
    }
    if conflict.status_quo is not None:
        data["status_quo"] = conflict.state_string(conflict.status_quo)
    if conflict.coalitions:
        data["coalitions"] = [[conflict.dm_ids[k] for k in group] for group in conflict.coalitions]
    misperceived = {
        conflict.dm_ids[k]: [conflict.state_string(int(i)) for i in np.flatnonzero(mask)]
        for k, mask in enumerate(conflict.misperceived)
        if mask is not None and mask.any()
    }
    if misperceived:
        data["misperceived"] = misperceived
    return ConflictFile.model_validate(data)
