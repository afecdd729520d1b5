"""Hypothesis strategies for random compiled conflicts (shared by the GMCR tests)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from backchannel.conflict.compiled_conflict import CompiledConflict, Reversibility


@st.composite
def conflicts(
    draw: st.DrawFn,
    min_dms: int = 2,
    max_dms: int = 4,
    max_options: int = 7,
    irreversible: bool = True,
    coalitions: bool = False,
    misperception: bool = False,
    uncertainty: bool = False,
    max_payoff: int = 5,
    max_unranked: int = 4,
    own_moves: bool = False,
) -> CompiledConflict:
    """A random conflict in option form.

    Every DM controls 1-3 options (at most ``max_options`` in all); a random non-empty
    subset of the option combinations is feasible; payoffs are small integers so that
    ties occur; options may be irreversible; optionally a coalition, misperceived states
    and unranked pairs (1 to ``max_unranked`` per decision maker that has any). With
    ``own_moves`` a pair is, half of the time, two states that differ only in the
    decision maker's own options, so that it decides one of its moves.
    """
    n_dms = draw(st.integers(min_dms, max_dms))
    counts = [draw(st.integers(1, 3)) for _ in range(n_dms)]
    while sum(counts) > max_options:
        largest = counts.index(max(counts))
        if counts[largest] == 1:
            break
        counts[largest] -= 1
    n_options = sum(counts)
    order = draw(st.permutations(range(n_options)))
    dm_options = []
    start = 0
    for count in counts:
        dm_options.append(tuple(sorted(order[start : start + count])))
        start += count
    every = list(range(2**n_options))
    keep = draw(st.lists(st.booleans(), min_size=len(every), max_size=len(every)))
    chosen = [code for code, flag in zip(every, keep, strict=True) if flag] or [0]
    states = np.array(chosen, dtype=np.uint64)
    n_states = states.size
    payoffs = np.array(
        [
            draw(st.lists(st.integers(0, max_payoff), min_size=n_states, max_size=n_states))
            for _ in range(n_dms)
        ],
        dtype=np.int64,
    )
    kinds = list(Reversibility)
    reversibility = tuple(
        draw(st.sampled_from(kinds))
        if irreversible and draw(st.integers(0, 3)) == 0
        else Reversibility.BOTH
        for _ in range(n_options)
    )
    groups: tuple[tuple[int, ...], ...] = ()
    if coalitions and n_dms >= 3:
        members = draw(
            st.lists(st.integers(0, n_dms - 1), min_size=2, max_size=n_dms - 1, unique=True)
        )
        groups = (tuple(sorted(members)),)
    misperceived: tuple[np.ndarray | None, ...] = ()
    if misperception:
        misperceived = tuple(
            np.array(draw(st.lists(st.integers(0, 5), min_size=n_states, max_size=n_states))) == 0
            if draw(st.booleans())
            else None
            for _ in range(n_dms)
        )
    unranked: tuple[np.ndarray | None, ...] = ()
    if uncertainty and n_states >= 2:
        pair = st.tuples(st.integers(0, n_states - 1), st.integers(0, n_states - 1)).filter(
            lambda p: p[0] != p[1]
        )

        def own(dm: int) -> st.SearchStrategy[tuple[int, int]]:
            mask = sum(1 << o for o in dm_options[dm])
            codes = [int(c) for c in states]
            moves = [
                (a, b)
                for a in range(n_states)
                for b in range(n_states)
                if a != b and not (codes[a] ^ codes[b]) & ~mask
            ]
            return st.sampled_from(moves) | pair if moves else pair

        unranked = tuple(
            np.array(
                draw(st.lists(own(dm) if own_moves else pair, min_size=1, max_size=max_unranked)),
                dtype=np.int64,
            )
            if draw(st.booleans())
            else None
            for dm in range(n_dms)
        )
    return CompiledConflict(
        title="random",
        option_ids=tuple(f"o{j}" for j in range(n_options)),
        dm_ids=tuple(f"D{k}" for k in range(n_dms)),
        dm_options=tuple(dm_options),
        states=states,
        payoffs=payoffs,
        reversibility=reversibility,
        status_quo=draw(st.integers(0, n_states - 1)),
        coalitions=groups,
        misperceived=misperceived,
        unranked=unranked,
    )
