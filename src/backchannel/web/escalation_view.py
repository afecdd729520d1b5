"""What the escalation page and the API show of an analysis: plain data, states as Y/N
strings with their names, every list bounded (the counts say how many there are)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from backchannel.conflict.compiled_conflict import CompiledConflict
from backchannel.conflict.reports import Explanation
from backchannel.model.disclosure import CONCEPT_NAMES
from backchannel.services.escalation import CONCEPTS, Watch

SHOWN = 64
"""The most states one list shows (the page says how many there are in all)."""
RANKED = 12
"""The most tie groups of a decision maker's ranking the page shows."""


@dataclass(frozen=True)
class State:
    """A state as shown: its Y/N string and its name, if it has one."""

    code: str
    name: str | None = None


@dataclass(frozen=True)
class Step:
    """A move on a path: who moves, from and to which state."""

    mover: str
    source: State
    target: State


@dataclass(frozen=True)
class ConceptView:
    """One solution concept's results."""

    concept: str
    name: str
    equilibria: list[State]
    count: int
    stable: dict[str, tuple[list[State], int]]  # mover -> (states shown, count)
    paths: dict[str, list[Step] | None] = field(default_factory=dict)  # target -> steps


@dataclass(frozen=True)
class WatchView:
    """A whole analysis as shown."""

    options: list[str]
    movers: list[str]
    states: int
    status_quo: State | None
    concepts: list[ConceptView]
    rankings: dict[str, tuple[list[list[State]], int]]  # dm -> (groups shown, group count)
    lost_status_quo: bool = False
    horizon: int | None = None  # of limited-move stability (None: not two movers)

    def equilibria_of(self, concept: str) -> list[str]:
        """The Y/N strings of one concept's equilibria (for the what-if's comparison)."""
        for view in self.concepts:
            if view.concept == concept:
                return [s.code for s in view.equilibria]
        return []


def _states(watch: Watch, indices: Sequence[int]) -> list[State]:
    conflict = watch.conflict
    return [State(conflict.state_string(i), watch.names.get(i)) for i in indices]


def watch_view(watch: Watch) -> WatchView:
    """The page's (and the API's) view of an analysis."""
    conflict, report = watch.conflict, watch.report
    paths: dict[int, list[Step] | None] = {}
    if watch.paths is not None:
        for path in watch.paths.paths:
            steps = path.by_improvements if path.by_improvements is not None else path.by_moves
            paths[path.target] = (
                None
                if steps is None
                else [Step(who, *_states(watch, (a, b))) for who, a, b in steps]
            )
    concepts = []
    for concept in report.concepts:
        found = [int(s) for s in report.equilibria[concept]]
        stable = {}
        for mover in report.movers:
            states = report.stable_states(concept, mover)
            stable[mover] = (_states(watch, states[:SHOWN]), len(states))
        concepts.append(
            ConceptView(
                concept,
                str(CONCEPT_NAMES.get(concept, concept)),
                _states(watch, found[:SHOWN]),
                len(found),
                stable,
                {conflict.state_string(s): paths.get(s) for s in found[:SHOWN] if s in paths},
            )
        )
    rankings = {}
    for dm, groups in zip(conflict.dm_ids, watch.rankings, strict=True):
        shown = [
            [State(code, watch.names.get(conflict.state_index(code) or -1)) for code in group]
            for group in groups[:RANKED]
        ]
        rankings[dm] = (shown, len(groups))
    sq = conflict.status_quo
    return WatchView(
        list(conflict.option_ids),
        list(report.movers),
        conflict.n_states,
        None if sq is None else _states(watch, [sq])[0],
        concepts,
        rankings,
        watch.lost_status_quo,
        watch.horizon,
    )


@dataclass(frozen=True)
class Compared:
    """One concept's equilibria before and after a what-if."""

    concept: str
    name: str
    before: list[str]
    after: list[str]

    @property
    def gone(self) -> list[str]:
        """Equilibria the what-if removes."""
        return [s for s in self.before if s not in self.after]

    @property
    def new(self) -> list[str]:
        """Equilibria the what-if adds."""
        return [s for s in self.after if s not in self.before]


def compare(before: WatchView, after: WatchView) -> list[Compared]:
    """Each concept's equilibria side by side."""
    return [
        Compared(c, str(CONCEPT_NAMES[c]), before.equilibria_of(c), after.equilibria_of(c))
        for c in CONCEPTS
    ]


@dataclass(frozen=True)
class Reply:
    """One improvement in an explanation, as shown."""

    target: State
    deterred: bool
    sanction: list[tuple[str, State]] | None  # (who moves, state after)
    simultaneous: bool = False


def explanation_view(
    watch_names: dict[int, str], conflict: CompiledConflict, found: Explanation
) -> list[Reply]:
    """The improvements of an explanation and what deters each."""

    def state(i: int) -> State:
        return State(conflict.state_string(i), watch_names.get(i))

    out = []
    for response in found.responses:
        sanction = response.sanction
        steps = None
        if sanction is not None:
            steps = [
                (who, state(s))
                for who, s in zip(sanction.actors, sanction.states[1:], strict=False)
            ]
        out.append(
            Reply(
                state(response.target),
                response.deterred,
                steps,
                bool(sanction and sanction.simultaneous),
            )
        )
    return out
