"""Exact possible stability under preference uncertainty: the search over orientations.

A *completion* decides each unranked pair of each decision maker (better, worse or
equal); a state is *possibly stable* when some completion makes it stable (see
:mod:`backchannel.conflict.uncertainty` for the definitions and the exactness argument).

For Nash, GMR and SMR the tie reading is exact and nothing is searched. For SEQ, SIM and
SEQ&SIM :class:`Search` brackets the answer with two vectorised runs of the ordinary
engine, the tie reading (a completion: a lower bound) and the optimistic reading (the
other movers' unranked pairs improve both ways: an upper bound), and decides only the
states in between, one at a time, by enumerating the orientations (better/worse) of the
unranked pairs that bear on that state. "Equal" is never needed:

* for a pair ``{s, x}`` of a focal member, "s better" has the same effect as "equal" on
  every comparison with ``s`` (the only ones a focal check makes: "is x better than s"),
  and adds only the move ``x -> s``, which no sanction against a move from ``s`` uses;
* for any other pair, "equal" removes both moves from the owner's improvements while an
  orientation keeps one; stability only grows with the opponents' improvements.

Around a state ``s`` the search builds, for each focal mover ``i``:

* the *candidates*: ``i``'s moves from ``s`` that some orientation makes improvements,
  each with its conjunction of *literals* (pair, orientation);
* SEQ: the opponents' possible improvements reachable from the candidates, each move
  with its literals, as a graph whose nodes are (state, last mover) so that sequences
  stay legal; a candidate is deterred when a safe node (not better than ``s`` for ``i``)
  is reachable by active moves;
* SIM: every simultaneous response from ``s`` (each opponent stays or takes one possible
  improvement) with its literals and whether its outcome is safe, per candidate.

Moves that cannot lead to a safe state even optimistically, candidates deterred by moves
without literals, and responses that are never safe are pruned first, and only the pairs
that remain are enumerated. More than :data:`MAX_PAIRS` of them raise
:class:`~backchannel.errors.AnalysisError`; the answer is never approximated.

Why the search is exact. The states that a sanction against ``i``'s move ``s -> s1``
visits keep ``i``'s options of ``s1``: they are never ``s`` and never another candidate.
So a pair that contains ``s`` enters only as one of ``i``'s candidates (its own pair) or
as a simultaneous response ``s -> t`` of another mover, and a candidate is never the
safe end of a sanction. A completion that makes ``s`` stable can be turned into one that
orients every pair (above) and still does; on the enumerated pairs it is one of the
orientations tried. The pairs left out do not matter: a pair without ``s`` on no kept move
changes no sanction, and a pair ``{s, t}`` left out is read "s better", the best reading
for its owner, which only removes a response ``s -> t`` that no kept response uses. With
one focal mover the candidates' own pairs are never enumerated (they read "s better");
in the joint search for equilibria, a mover's pair ``{s, t}`` that another mover's SIM
response uses is enumerated, and then decides both that response and whether ``t`` is an
improvement of its owner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from backchannel.conflict import orientations, sanctions
from backchannel.conflict.compiled_conflict import CompiledConflict
from backchannel.conflict.movers import unranked_pairs
from backchannel.conflict.reachability import Game
from backchannel.errors import AnalysisError

MAX_PAIRS = 14
"""At most this many unranked pairs may bear on one state: ``2**14`` orientations."""

MAX_RESPONSES = 1 << 20
"""At most this many simultaneous responses from one state in the search."""

SEARCHED = frozenset({"seq", "sim", "seqsim"})
"""Concepts whose possible stability needs the search (the others read ties)."""

_SEQUENTIAL = frozenset({"seq", "seqsim"})
_SIMULTANEOUS = frozenset({"sim", "seqsim"})

Solver = Callable[[Game, int], NDArray[np.bool_]]
Int = NDArray[np.int64]
Bool = NDArray[np.bool_]


class Search:
    """Exact possible stability of one conflict with unranked pairs.

    Parameters
    ----------
    conflict:
        The compiled conflict.
    solver:
        The engine's solver of each concept: ``solver(concept)(game, focal)``.
    """

    def __init__(self, conflict: CompiledConflict, solver: Callable[[str], Solver]) -> None:
        self.conflict = conflict
        self.tie = Game(conflict, "tie")
        self.loose = Game(conflict, "optimistic")  # every mover: pairs improve both ways
        self._solver = solver
        self._rows: dict[tuple[str, int], Bool] = {}
        self._upper: dict[int, Game] = {}
        self._edges: dict[int, tuple[Int, Int, Int]] = {}
        self._codes: list[Int] = []
        self._base: list[int] = []
        total = 0
        for dm in range(len(conflict.dm_ids)):
            pairs = unranked_pairs(conflict, dm)
            self._codes.append(pairs[:, 0] * conflict.n_states + pairs[:, 1])
            self._base.append(total)
            total += int(pairs.shape[0])

    # -- the bounds and the public answers ---------------------------------------------
    def tie_stable(self, concept: str, mover: int) -> Bool:
        """Stable states of ``mover`` when every unranked pair is a tie (a completion)."""
        if (concept, mover) not in self._rows:
            self._rows[concept, mover] = self._solver(concept)(self.tie, mover)
        return self._rows[concept, mover]

    def stable(self, concept: str, mover: int) -> Bool:
        """Possibly stable states of ``mover``: stable under some completion."""
        lower = self.tie_stable(concept, mover)
        if concept not in SEARCHED:
            return lower
        if mover not in self._upper:  # the others' pairs improve both ways, not its own
            self._upper[mover] = Game(self.conflict, "optimistic", mover)
        upper = self._solver(concept)(self._upper[mover], mover)
        result = lower.copy()
        name = self.tie.movers[mover].name
        for state in np.flatnonzero(upper & ~lower):
            result[state] = self.decide(int(state), {mover: concept}, concept, f"for {name}")
        return result

    def equilibria(self, concepts: tuple[str, ...], rows: Bool, label: str) -> Int:
        """Possible equilibria: states that one completion makes stable for every mover.

        ``concepts[i]`` is mover ``i``'s concept and ``rows`` its possibly stable states
        (their conjunction is an upper bound).
        """
        upper = rows.all(axis=0)
        if not SEARCHED.intersection(concepts):
            return np.flatnonzero(upper).astype(np.int64)
        lower = np.logical_and.reduce(
            [self.tie_stable(concept, i) for i, concept in enumerate(concepts)]
        )
        result = upper & lower
        every = dict(enumerate(concepts))
        for state in np.flatnonzero(upper & ~lower):
            result[state] = self.decide(int(state), every, label, "as an equilibrium")
        return np.flatnonzero(result).astype(np.int64)

    def decide(self, state: int, concepts: Mapping[int, str], label: str, subject: str) -> bool:
        """Whether some orientation makes ``state`` stable for every mover in ``concepts``.

        Raises
        ------
        AnalysisError
            When more than :data:`MAX_PAIRS` unranked pairs bear on the state.
        """
        simultaneous = [i for i, concept in concepts.items() if concept in _SIMULTANEOUS]
        drafts = [
            self._draft(state, i, concept, any(j != i for j in simultaneous))
            for i, concept in concepts.items()
        ]
        used = np.unique(np.concatenate([draft.used() for draft in drafts]))
        if used.size > MAX_PAIRS:
            raise AnalysisError(
                f"possible {label} stability of state {self.conflict.state_string(state)} "
                f"{subject} depends on {used.size} unranked pairs (2^{used.size} "
                f"orientations); the exact search stops at {MAX_PAIRS} pairs"
            )
        focals: list[orientations.OrientationConstraint] = []
        for draft in drafts:
            focal = draft.finish(used)
            if isinstance(focal, bool):
                if not focal:
                    return False
            else:
                focals.append(focal)
        if not focals:
            return True
        return orientations.satisfiable(focals, int(used.size))

    # -- the structures around one state -----------------------------------------------
    def _literals(self, mover: int, source: Int, target: Int) -> tuple[Int, Int]:
        """Per move and member: the member's unranked pair of the two states (global id,
        ``-1`` when none) and the orientation under which the member gains (bit 1: the
        higher state index is better); padding has bit 1."""
        members = self.tie.movers[mover].members
        n_states = self.conflict.n_states
        code = np.minimum(source, target) * n_states + np.maximum(source, target)
        ids = np.full((source.size, len(members)), -1, dtype=np.int64)
        for k, dm in enumerate(members):
            codes = self._codes[dm]
            if codes.size:
                pos = np.minimum(np.searchsorted(codes, code), codes.size - 1)
                hit = codes[pos] == code
                ids[hit, k] = self._base[dm] + pos[hit]
        bits = np.where(ids >= 0, (target > source).astype(np.int64)[:, None], 1)
        return ids, bits

    def _edges_of(self, mover: int) -> tuple[Int, Int, Int]:
        """The possible improvements of ``mover`` (sorted by source) and each state's
        first position among them."""
        if mover not in self._edges:
            src, dst = self.loose.improvement_pairs(mover)
            starts = np.searchsorted(src, np.arange(self.conflict.n_states + 1))
            self._edges[mover] = (src, dst, starts.astype(np.int64))
        return self._edges[mover]

    def _candidates(self, mover: int, state: int, open_: bool) -> tuple[Int, Int, Int]:
        """``mover``'s moves from ``state`` that may be improvements, with literals.

        Unless ``open_`` (another focal mover may use ``mover``'s moves from ``state`` in
        a simultaneous response), its pairs with ``state`` read "state better": only
        the improvements of the tie reading remain, without literals.
        """
        current = self.tie.movers[mover]
        targets = current.moves.targets(state)
        ids, bits = self._literals(mover, np.full_like(targets, state), targets)
        ranks = current.preference.ranks
        gain = (ranks[:, targets] > ranks[:, [state]]).T
        allowed = gain | (ids >= 0) if open_ else gain & (ids < 0)
        keep = np.all(allowed, axis=1)
        return targets[keep], ids[keep], bits[keep]

    def _draft(self, state: int, mover: int, concept: str, open_: bool) -> orientations.Draft:
        """``mover``'s candidates at ``state`` and what can deter them, pruned."""
        targets, ids, bits = self._candidates(mover, state, open_)
        candidate = np.zeros(self.conflict.n_states, dtype=bool)
        candidate[targets] = True
        # Candidates are never safe: when active they are improvements, and a candidate
        # appears in no other candidate's sanctions (they differ in the mover's options).
        safe = sanctions.not_better(self.tie, mover, state) & ~candidate
        if concept not in SEARCHED:
            deterred = self._by_moves(mover, concept, targets, safe)
            return orientations.Draft(ids, bits, deterred, deterred, None, None)
        fixed = np.zeros(targets.size, dtype=bool)
        possible = fixed.copy()
        graph = responses = None
        if concept in _SEQUENTIAL:
            graph, fixed_good, possible_good = self._sequential(mover, targets, safe)
            fixed |= fixed_good[graph.seeds, mover]
            possible |= possible_good[graph.seeds, mover]
        if concept in _SIMULTANEOUS:
            responses = self._simultaneous(mover, state, targets, safe)
            plain = np.ones(responses.choice.shape[1], dtype=bool)
            for k, move_ids in enumerate(responses.ids):
                plain &= np.r_[True, np.all(move_ids < 0, axis=1)][responses.choice[k]]
            fixed |= (responses.safe & plain).any(axis=1)
            possible |= responses.safe.any(axis=1)
        if graph is not None:
            graph = orientations.prune(graph, fixed_good, possible_good, ~fixed)
        if responses is not None:
            useful = responses.safe[~fixed].any(axis=0)
            responses.choice = responses.choice[:, useful]
            responses.safe = responses.safe[:, useful]
        return orientations.Draft(ids, bits, fixed, possible, graph, responses)

    def _by_moves(self, mover: int, concept: str, targets: Int, safe: Bool) -> Bool:
        """Nash, GMR, SMR: whether each candidate is deterred (no literal involved)."""
        if concept == "nash":
            return np.zeros(targets.size, dtype=bool)
        if concept == "smr":
            threat = self.tie.movers[mover].moves.reach_max((~safe).astype(np.int64)) > 0
            safe = ~threat
        elif concept != "gmr":
            raise AnalysisError(f"possible stability is not defined here for {concept!r}")
        deterred: Bool = self.tie.closure_any(mover, safe, False)[targets]
        return deterred

    def _sequential(
        self, mover: int, targets: Int, safe: Bool
    ) -> tuple[orientations.Graph, Bool, Bool]:
        """The SEQ graph from the candidates, with the good nodes of the moves without
        literals and of all moves (every orientation at once)."""
        opponents = self.tie.opponents(mover)
        inside = np.zeros(self.conflict.n_states, dtype=bool)
        inside[targets] = True
        frontier = targets
        picked: dict[int, list[Int]] = {j: [] for j in opponents}
        while frontier.size:
            reached = [np.zeros(0, dtype=np.int64)]
            for j in opponents:
                src, dst, starts = self._edges_of(j)
                index = orientations.ranges(starts[frontier], starts[frontier + 1])
                picked[j].append(index)
                reached.append(dst[index])
            found = np.unique(np.concatenate(reached))
            frontier = found[~inside[found]]
            inside[frontier] = True
        nodes = np.flatnonzero(inside)
        width = max([len(self.tie.movers[j].members) for j in opponents] + [1])
        parts: list[tuple[Int, Int, Int, Int, Int]] = []
        for j in opponents:
            src, dst, _ = self._edges_of(j)
            index = np.concatenate(picked[j]) if picked[j] else np.zeros(0, dtype=np.int64)
            ids, bits = self._literals(j, src[index], dst[index])
            pad = width - ids.shape[1]
            ids = np.pad(ids, ((0, 0), (0, pad)), constant_values=-1)
            bits = np.pad(bits, ((0, 0), (0, pad)), constant_values=1)
            parts.append((src[index], dst[index], np.full(index.size, j), ids, bits))
        src_all = np.concatenate([p[0] for p in parts] + [np.zeros(0, dtype=np.int64)])
        dst_all = np.concatenate([p[1] for p in parts] + [np.zeros(0, dtype=np.int64)])
        mover_all = np.concatenate([p[2] for p in parts] + [np.zeros(0, dtype=np.int64)])
        ids_all = np.concatenate([p[3] for p in parts] + [np.zeros((0, width), np.int64)])
        bits_all = np.concatenate([p[4] for p in parts] + [np.zeros((0, width), np.int64)])
        graph = orientations.Graph(
            safe[nodes],
            np.searchsorted(nodes, targets).astype(np.int64),
            np.searchsorted(nodes, src_all).astype(np.int64),
            np.searchsorted(nodes, dst_all).astype(np.int64),
            mover_all.astype(np.int64),
            ids_all,
            bits_all,
            len(self.tie.movers),
            mover,
        ).sort(np.ones(src_all.size, dtype=bool))
        plain = np.all(graph.ids < 0, axis=1)[None, :]
        fixed = graph.good(plain)[0]
        possible = graph.good(np.ones_like(plain))[0]
        return graph, fixed, possible

    def _simultaneous(
        self, mover: int, state: int, targets: Int, safe: Bool
    ) -> orientations.Responses:
        """Every simultaneous response from ``state`` and whether its outcome after each
        candidate is safe."""
        states = self.conflict.states
        ids_all: list[Int] = []
        bits_all: list[Int] = []
        deltas: list[NDArray[np.uint64]] = []
        for j in self.tie.opponents(mover):
            _, dst, starts = self._edges_of(j)
            to = dst[starts[state] : starts[state + 1]]
            ids, bits = self._literals(j, np.full_like(to, state), to)
            ids_all.append(ids)
            bits_all.append(bits)
            deltas.append(np.r_[np.uint64(0), states[to] ^ states[state]].astype(np.uint64))
        shape = [delta.size for delta in deltas]
        total = int(np.prod(shape, dtype=np.float64))
        if total > MAX_RESPONSES:
            raise AnalysisError(
                f"SIM from state {self.conflict.state_string(state)} has {total} "
                f"simultaneous responses; the exact search handles at most {MAX_RESPONSES}"
            )
        choice = np.indices(shape, dtype=np.int64).reshape(len(shape), total)
        delta = np.zeros(total, dtype=np.uint64)
        for k, moved in enumerate(deltas):
            delta ^= moved[choice[k]]
        codes = states[targets][:, None] ^ delta[None, :]
        pos = np.minimum(np.searchsorted(states, codes), states.size - 1)
        outcome_safe = (states[pos] == codes) & safe[pos]
        return orientations.Responses(ids_all, bits_all, choice, outcome_safe)
