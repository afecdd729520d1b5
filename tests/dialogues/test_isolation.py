"""Isolation of delegations: a hypothesis state machine over the service layer.

Rules create objects as random actors (dialogues, issues, delegations, seats,
invitations, positions with random content, rounds, evaluations, releases) and the
machine keeps its own model of who owns what. After the setup and in a ``sweep`` rule
it tries every read and every write as every actor in every dialogue (and in one that
does not exist; negotiating texts included, see ``text_isolation.py``): ``positions``
with and without a delegation id of any dialogue, ``save_position`` for another
delegation, ``released_to_me``, ``log``, ``evaluations``, ``dialogues.view``,
``my_dialogues``, and the facilitator's writes as everyone else. A non-owner must get
exactly :class:`NotFound` (the same message, no hint), and what an owner reads must
equal the model: its own side's positions, the releases to its own audience, the log
entries addressed to it.

D2 is blind (and D3 may be, see ``blind_isolation.py``): its sides' positions are
refused where they would be read or written (they stay on the nodes), its nodes are
registered and replaced, its computations asked, played through the node API with the
nodes' tokens and released; B2, a bare blind dialogue with a helper node, gives the
node API another dialogue's token.

The negative controls run the same machine against deliberately broken variants of
the checks and assert that it fails on each of them.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from backchannel.errors import BackchannelError, InputError, NotAllowedNow, NotFound
from backchannel.model.case import Case
from backchannel.model.changes import position_changes
from backchannel.model.dialogue import (
    Agenda,
    AgendaIssue,
    Firmness,
    IfThen,
    Position,
    Side,
    Unacceptable,
    build_case,
    firm_words,
    prune,
)
from backchannel.model.disclosure import ESCALATION_KINDS, Disclosed, Kind, disclose
from backchannel.model.findings import Findings
from backchannel.services import (
    access,
    accounts,
    agenda,
    audit_log,
    computations,
    dialogues,
    escalation,
    evaluation_robustness,
    evaluations,
    history,
    invitations,
    meetings,
    nodes,
    nonpapers,
    notes,
    positions,
    readiness,
    readouts,
    records,
    releases,
    rounds,
    stated,
)
from backchannel.services.access import FACILITATOR, MEMBER, OBSERVER, Actor, Track
from backchannel.services.platform import Platform
from backchannel.storage import repo
from backchannel.storage.tables import BlindComputationRow, DelegationRow
from conftest import PASSWORD, make_settings

from .blind_isolation import BLIND, BlindIsolation, BlindModel
from .text_isolation import TextIsolation, TextModel

EVALUATION_KINDS = [k for k in Kind if k not in ESCALATION_KINDS]
"""The findings of an evaluation (those of the escalation watch are released by its own
service, checked in :meth:`IsolationMachine.check_denied_writes`)."""

NAMES = ("fac", "fac2", "a1", "a2", "b1", "obs", "out", "x1", "spare1", "spare2")
OBSERVERS = releases.OBSERVERS
TRACKS = [t.value for t in Track]
BOGUS = "no-such-id-" + "x" * 11
MIN_ATTEMPTS = 10_000


class IsolationBreach(AssertionError):
    """The service answered differently from the model of who owns what."""


@dataclass
class Stats:
    """Attempts made across one run of the machine (module-level, checked at the end)."""

    attempts: int = 0
    denied: int = 0
    evaluations: int = 0
    releases: int = 0
    saves: int = 0
    unchanged: int = 0  # evaluations refused because nothing changed

    def reset(self) -> None:
        self.attempts = self.denied = self.evaluations = self.releases = self.saves = 0
        self.unchanged = 0


STATS = Stats()


# ------------------------------------------------------------------ the model
@dataclass
class SeatModel:
    role: str
    delegation: str | None
    track: str | None
    pseudonym: str


@dataclass
class DelegationModel:
    id: str
    name: str
    absent: bool


@dataclass
class RoundModel:
    number: int
    state: str
    allowed: int
    used: int = 0


@dataclass
class EvaluationModel:
    id: str
    round: int
    findings: Findings


@dataclass
class ReleaseModel:
    id: str
    round: int
    audience: str
    record: Disclosed


@dataclass
class MeetingModel:
    id: str
    format: str
    sides: list[str]
    version: int = 0
    text: str = ""
    answers: dict[str, tuple[str, str]] = field(default_factory=dict)  # side: answer, comment
    notes: dict[str, str] = field(default_factory=dict)  # side: its private notes

    def audiences(self) -> list[str]:
        return ["all"] if self.format == meetings.PLENARY else list(self.sides)


@dataclass
class DialogueModel:
    key: str
    id: str
    title: str
    per_round: int
    blind: bool = False
    frozen: bool = False  # no rule changes it: swept in full at the set-up, then its blind side
    issues: list[tuple[str, str, list[str]]] = field(default_factory=list)
    delegations: list[DelegationModel] = field(default_factory=list)
    seats: dict[str, SeatModel] = field(default_factory=dict)
    rounds: list[RoundModel] = field(default_factory=list)
    positions: dict[tuple[int, str], tuple[int, Position]] = field(default_factory=dict)
    evaluations: list[EvaluationModel] = field(default_factory=list)
    releases: list[ReleaseModel] = field(default_factory=list)
    log: list[tuple[str, str, str]] = field(default_factory=list)  # action, audience, actor
    meetings: list[MeetingModel] = field(default_factory=list)
    nonpapers: list[tuple[str, str]] = field(default_factory=list)  # origin, text
    readouts: list[tuple[str, str]] = field(default_factory=list)  # id, audience
    cap: int = dialogues.EVALUATIONS_PER_DIALOGUE
    last_case: tuple[int, Case] | None = None  # round and case of the last evaluation
    invitations: list[str] = field(default_factory=list)  # ids (token hashes), not used

    def delegation(self, delegation_id: str | None) -> DelegationModel | None:
        return next((d for d in self.delegations if d.id == delegation_id), None)

    def is_facilitator(self, name: str) -> bool:
        seat = self.seats.get(name)
        return seat is not None and seat.role == FACILITATOR

    def position_target(self, name: str, delegation_id: str | None) -> str | None:
        """The delegation whose position ``name`` may read and write, None: NotFound."""
        seat = self.seats.get(name)
        if seat is None:
            return None
        if seat.role == MEMBER:
            return seat.delegation if delegation_id in (None, seat.delegation) else None
        if seat.role == FACILITATOR and delegation_id is not None:
            found = self.delegation(delegation_id)
            return found.id if found is not None and found.absent else None
        return None

    def stays_on_a_node(self, delegation_id: str) -> bool:
        """Whether the delegation's position stays on its node (a blind dialogue's
        delegation at the table): the service refuses it (BlindPosition, NotAllowedNow)."""
        found = self.delegation(delegation_id)
        return self.blind and found is not None and not found.absent

    def visible(self, name: str, audience: str) -> bool:
        seat = self.seats[name]
        if seat.role == FACILITATOR:
            return True
        if seat.role == MEMBER:
            return audience in ("all", seat.delegation)
        return audience == "all"

    def sees_meeting(self, name: str, m: MeetingModel) -> bool:
        seat = self.seats.get(name)
        if seat is None:
            return False
        if seat.role == FACILITATOR:
            return True
        if seat.role == MEMBER:
            return seat.delegation in m.sides
        return m.format == meetings.PLENARY

    def answers_record(self, name: str, m: MeetingModel) -> bool:
        seat = self.seats.get(name)
        return seat is not None and seat.role == MEMBER and seat.delegation in m.sides

    def record_of(self, name: str, m: MeetingModel) -> tuple[object, ...] | None:
        """What ``name`` reads of the meeting's record (None: NotFound)."""
        if not self.sees_meeting(name, m) or m.version == 0:
            return None
        seat = self.seats[name]
        answers = dict.fromkeys(m.sides, records.PENDING)
        comments = {}
        for side, (answer, comment) in m.answers.items():
            mine = seat.role == FACILITATOR or seat.delegation == side
            if answer == records.CONFIRMED or mine:
                answers[side] = answer
            if answer == records.CHANGES and mine:
                comments[side] = comment
        agreed = bool(m.sides) and all(a == records.CONFIRMED for a in answers.values())
        if seat.role == OBSERVER and not agreed:
            return None
        return (m.version, m.text, answers, comments, agreed)

    def agenda(self) -> Agenda:
        return Agenda(
            issues=[AgendaIssue(id=i, name=n, options=options) for i, n, options in self.issues]
        )

    def case_of(self, number: int) -> Case:
        """The case an evaluation of round ``number`` reads (issues and 2 sides needed)."""
        agenda = self.agenda()
        sides = [
            Side(
                name=x.name,
                absent=x.absent,
                position=prune(agenda, self.positions.get((number, x.id), (0, Position()))[1]),
            )
            for x in self.delegations
        ]
        return build_case(self.title, agenda, sides)

    def unchanged(self, number: int) -> bool:
        """Whether round ``number`` would read the case the last evaluation, in an earlier
        round, read (the service refuses to evaluate it)."""
        last = self.last_case
        return last is not None and last[0] != number and last[1] == self.case_of(number)

    def history(self, delegation_id: str) -> list[tuple[int, int, Position]]:
        return sorted(
            (number, revision, position)
            for (number, owner), (revision, position) in self.positions.items()
            if owner == delegation_id
        )


# ------------------------------------------------------------------ attempts
def attempt(label: str, expected: type[BackchannelError] | None, call: Callable[..., Any]) -> Any:
    """Run ``call``; it must raise exactly ``expected`` (None: succeed). Counted."""
    STATS.attempts += 1
    if expected is NotFound:
        STATS.denied += 1
    try:
        result = call()
    except BackchannelError as error:
        if expected is None or type(error) is not expected:
            want = "success" if expected is None else expected.__name__
            raise IsolationBreach(
                f"{label}: expected {want}, got {type(error).__name__}: {error}"
            ) from error
        if expected is NotFound and (str(error) != "not found" or error.hint is not None):
            raise IsolationBreach(f"{label}: NotFound is not uniform: {error!r}") from error
        return None
    if expected is not None:
        raise IsolationBreach(f"{label}: expected {expected.__name__}, got {result!r:.400}")
    return result


def same(label: str, got: object, want: object) -> None:
    if got != want:
        raise IsolationBreach(f"{label}:\n  got  {got!r:.1500}\n  want {want!r:.1500}")


# ------------------------------------------------------------------ strategies
@st.composite
def position_for(
    draw: st.DrawFn, issues: list[tuple[str, str, list[str]]], note: str, absent: bool = False
) -> Position:
    """A random position on the agenda ``issues`` (red lines only when ``absent``)."""
    importance: dict[str, int] = {}
    ratings: dict[str, dict[str, int]] = {}
    if not absent:
        for issue_id, _, options in issues:
            if draw(st.booleans()):
                importance[issue_id] = draw(st.integers(1, 9))
            rated = draw(st.lists(st.sampled_from(options), unique=True, max_size=len(options)))
            if rated:
                ratings[issue_id] = {o: draw(st.integers(0, 100)) for o in rated}
    unacceptable = []
    rules_: list[IfThen] = []
    if issues:
        for _ in range(draw(st.integers(0, 2))):
            issue_id, _, options = draw(st.sampled_from(issues))
            unacceptable.append(
                Unacceptable(
                    issue=issue_id,
                    option=draw(st.sampled_from(options)),
                    firmness=draw(st.sampled_from(list(Firmness))),
                )
            )
    if len(issues) >= 2 and draw(st.booleans()):
        first, then = draw(
            st.lists(st.sampled_from(issues), min_size=2, max_size=2, unique_by=lambda i: i[0])
        )
        rules_.append(
            IfThen(
                if_issue=first[0],
                if_options=draw(st.lists(st.sampled_from(first[2]), min_size=1, unique=True)),
                then_issue=then[0],
                then_options=draw(st.lists(st.sampled_from(then[2]), min_size=1, unique=True)),
                firmness=draw(st.sampled_from(list(Firmness))),
            )
        )
    walk_away = None if absent else draw(st.none() | st.integers(0, 100))
    return Position(
        importance=importance,
        ratings=ratings,
        unacceptable=unacceptable,
        rules=rules_,
        walk_away=walk_away,
        note=note,
    )


# ------------------------------------------------------------------ shared platform
@dataclass
class Shared:
    platform: Platform
    actors: dict[str, Actor]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    """One platform for the whole module; every example makes its own dialogues."""
    platform = Platform.open(make_settings(tmp_path_factory.mktemp("isolation")), upgrade=True)
    actors = {}
    for name in NAMES:
        row, _ = accounts.create_user(
            platform, name, f"Real {name} {secrets.token_hex(4)}", PASSWORD
        )
        actors[name] = Actor(row.id, row.username, row.display_name)
    return Shared(platform, actors)


class IsolationMachine(TextIsolation, BlindIsolation, RuleBasedStateMachine):
    """The services against a model of who owns what (``shared`` set by machine_for)."""

    shared: Shared
    attempt = staticmethod(attempt)
    same = staticmethod(same)
    release_model = ReleaseModel

    def __init__(self) -> None:
        super().__init__()
        self.p = self.shared.platform
        self.actors = self.shared.actors
        self.d: dict[str, DialogueModel] = {}
        self.texts: dict[str, dict[str, TextModel]] = {}
        self.blind: dict[str, BlindModel] = {}
        self.serial = itertools.count()
        self.dirty = True  # something changed since the last sweep

    # ---------------------------------------------------------- helpers
    def unique(self, prefix: str) -> str:
        return f"{prefix} {next(self.serial)} {secrets.token_hex(3)}"

    def pick_dialogue(self, data: st.DataObject, blind: bool = True) -> DialogueModel:
        """A dialogue the rules change (``blind``: blind ones too; never a frozen one)."""
        keys = [k for k, d in sorted(self.d.items()) if not d.frozen and (blind or not d.blind)]
        return self.d[data.draw(st.sampled_from(keys), label="dialogue")]

    def pick_actor(self, data: st.DataObject, d: DialogueModel) -> str:
        """Mostly a facilitator of ``d``, otherwise anyone."""
        owners = sorted(n for n in d.seats if d.is_facilitator(n))
        if owners and data.draw(st.integers(0, 2), label="as facilitator"):
            return data.draw(st.sampled_from(owners), label="actor")
        return data.draw(st.sampled_from(NAMES), label="actor")

    def record(self, d: DialogueModel, entry: tuple[str, str, str]) -> None:
        """A successful write: its audit entry, as the model expects it."""
        d.log.append(entry)
        self.dirty = True

    def every_delegation(self) -> list[str]:
        return [x.id for d in self.d.values() for x in d.delegations] + [BOGUS]

    def every_invitation(self) -> list[str]:
        return [i for d in self.d.values() for i in d.invitations] + [BOGUS]

    def every_evaluation(self) -> list[str]:
        return [e.id for d in self.d.values() for e in d.evaluations] + [BOGUS]

    # ---------------------------------------------------------- modelled writes
    def do_create_dialogue(
        self, key: str, name: str, per_round: int, blind: bool = False
    ) -> DialogueModel:
        title = self.unique("Dialogue")
        dialogue_id = attempt(
            f"{name} creates {key}{' (blind)' if blind else ''}",
            None,
            lambda: dialogues.create_dialogue(
                self.p, self.actors[name], title, evaluations_per_round=per_round, blind=blind
            ),
        )
        d = DialogueModel(key, dialogue_id, title, per_round, blind)
        if blind:
            self.blind[key] = BlindModel()
        d.seats[name] = SeatModel(FACILITATOR, None, None, "Facilitator")
        self.record(d, ("dialogue.created", "all", name))
        self.d[key] = d
        return d

    def do_add_issue(self, d: DialogueModel, name: str, options: list[str]) -> None:
        issue_name = self.unique("Issue")
        if not d.is_facilitator(name):
            expected: type[BackchannelError] | None = NotFound
        elif d.rounds and d.rounds[-1].state != "draft":
            expected = NotAllowedNow
        else:
            expected = None
        issue_id = attempt(
            f"{name} adds an issue to {d.key}",
            expected,
            lambda: dialogues.add_issue(
                self.p, self.actors[name], d.id, issue_name, "unordered", options
            ),
        )
        if expected is None:
            d.issues.append((issue_id, issue_name, list(options)))
            self.record(d, ("agenda.changed", "all", name))

    def do_add_delegation(self, d: DialogueModel, name: str, absent: bool) -> str | None:
        title = self.unique("Party")
        expected = None if d.is_facilitator(name) else NotFound
        found = attempt(
            f"{name} adds a delegation to {d.key}",
            expected,
            lambda: dialogues.add_delegation(self.p, self.actors[name], d.id, title, absent=absent),
        )
        if expected is None:
            d.delegations.append(DelegationModel(found, title, absent))
            self.record(d, ("delegation.added", "all", name))
        return found  # type: ignore[no-any-return]

    def seat_problem(self, d: DialogueModel, role: str, delegation_id: str | None) -> bool:
        """Whether _check_seat_fields refuses (InputError)."""
        if role == MEMBER:
            target = d.delegation(delegation_id)
            return target is None or target.absent
        return bool(delegation_id)

    def do_add_member(
        self,
        d: DialogueModel,
        name: str,
        user: str,
        role: str,
        delegation_id: str | None,
        track: str | None,
    ) -> None:
        pseudonym = self.unique("Alias")
        if not d.is_facilitator(name):
            expected: type[BackchannelError] | None = NotFound
        elif self.seat_problem(d, role, delegation_id) or user in d.seats:
            expected = InputError
        else:
            expected = None
        attempt(
            f"{name} seats {user} as {role} in {d.key}",
            expected,
            lambda: dialogues.add_member(
                self.p,
                self.actors[name],
                d.id,
                user,
                role,
                delegation_id=delegation_id,
                track=track,
                pseudonym=pseudonym,
            ),
        )
        if expected is None:
            d.seats[user] = SeatModel(
                role, delegation_id, track if role == MEMBER else None, pseudonym
            )
            self.record(d, ("member.added", delegation_id or "facilitator", name))

    def do_invite(
        self, d: DialogueModel, name: str, role: str, delegation_id: str | None, track: str | None
    ) -> None:
        if not d.is_facilitator(name):
            expected: type[BackchannelError] | None = NotFound
        elif self.seat_problem(d, role, delegation_id):
            expected = InputError
        else:
            expected = None
        token = attempt(
            f"{name} invites a {role} to {d.key}",
            expected,
            lambda: dialogues.invite(
                self.p, self.actors[name], d.id, role, delegation_id=delegation_id, track=track
            ),
        )
        if expected is None:
            assert isinstance(token, str) and len(token) >= 40
            d.invitations.append(hashlib.sha256(token.encode()).hexdigest())
            self.record(d, ("invitation.created", "facilitator", name))

    def do_save(self, d: DialogueModel, name: str, target: str | None, position: Position) -> None:
        resolved = d.position_target(name, target)
        if resolved is None:
            expected: type[BackchannelError] | None = NotFound
        elif d.stays_on_a_node(resolved):
            expected = positions.BlindPosition
        elif not d.rounds or d.rounds[-1].state != "draft":
            expected = NotAllowedNow
        else:
            expected = None
        view = attempt(
            f"{name} saves the position of {target} in {d.key}",
            expected,
            lambda: positions.save_position(self.p, self.actors[name], d.id, position, target),
        )
        if expected is None:
            assert resolved is not None
            STATS.saves += 1
            number = d.rounds[-1].number
            old = d.positions.get((number, resolved))
            revision = old[0] + 1 if old else 1
            same("saved view", (view.round_number, view.revision), (number, revision))
            d.positions[(number, resolved)] = (revision, position)
            owner = d.delegation(resolved)
            assert owner is not None
            self.record(d, ("position.saved", "facilitator" if owner.absent else resolved, name))

    def do_open(self, d: DialogueModel, name: str) -> None:
        if not d.is_facilitator(name):
            expected: type[BackchannelError] | None = NotFound
        elif d.rounds and d.rounds[-1].state in ("draft", "locked"):
            expected = NotAllowedNow
        else:
            expected = None
        view = attempt(
            f"{name} opens a round of {d.key}",
            expected,
            lambda: rounds.open_round(self.p, self.actors[name], d.id),
        )
        if expected is None:
            new = RoundModel(len(d.rounds) + 1, "draft", d.per_round)
            if d.rounds:
                before = d.rounds[-1].number
                for x in d.delegations:
                    if (before, x.id) in d.positions:
                        d.positions[(new.number, x.id)] = (0, d.positions[(before, x.id)][1])
            d.rounds.append(new)
            same("opened round", (view.number, view.state), (new.number, "draft"))
            self.record(d, ("round.opened", "all", name))

    def do_lock(self, d: DialogueModel, name: str) -> None:
        if not d.is_facilitator(name):
            expected: type[BackchannelError] | None = NotFound
        elif not d.rounds or d.rounds[-1].state != "draft":
            expected = NotAllowedNow
        else:
            expected = None
        attempt(
            f"{name} locks {d.key}",
            expected,
            lambda: rounds.lock_round(self.p, self.actors[name], d.id),
        )
        if expected is None:
            d.rounds[-1].state = "locked"
            self.record(d, ("round.locked", "all", name))

    def do_unlock(self, d: DialogueModel, name: str) -> None:
        if not d.is_facilitator(name):
            expected: type[BackchannelError] | None = NotFound
        elif not d.rounds or d.rounds[-1].state != "locked":
            expected = NotAllowedNow
        else:
            expected = None
        attempt(
            f"{name} unlocks {d.key}",
            expected,
            lambda: rounds.unlock_round(self.p, self.actors[name], d.id),
        )
        if expected is None:
            d.rounds[-1].state = "draft"
            self.record(d, ("round.draft", "all", name))

    def do_evaluate(self, d: DialogueModel, name: str) -> None:
        current = d.rounds[-1] if d.rounds else None
        at_table = [x for x in d.delegations if not x.absent]
        if not d.is_facilitator(name):
            expected: type[BackchannelError] | None = NotFound
        elif d.blind:
            expected = NotAllowedNow  # the positions are on the nodes
        elif (
            current is None
            or current.state not in ("locked", "evaluated")
            or current.used >= current.allowed
            or len(d.evaluations) >= d.cap
            or any((current.number, x.id) not in d.positions for x in at_table)
        ):
            expected = NotAllowedNow
        elif not d.issues or len(at_table) < 2:
            expected = InputError
        elif d.unchanged(current.number):
            expected = NotAllowedNow
            STATS.unchanged += 1
        else:
            expected = None
        evaluation_id = attempt(
            f"{name} evaluates {d.key}",
            expected,
            lambda: evaluations.evaluate(self.p, self.actors[name], d.id),
        )
        if expected is None:
            assert current is not None
            STATS.evaluations += 1
            current.used += 1
            current.state = "evaluated"
            self.record(d, ("round.evaluated", "all", name))
            newest = evaluations.evaluations(self.p, self.actors[name], d.id)[0]
            same("newest evaluation", newest.id, evaluation_id)
            same("sides", newest.findings.sides, [x.name for x in d.delegations])
            d.evaluations.append(EvaluationModel(evaluation_id, current.number, newest.findings))
            d.last_case = (current.number, d.case_of(current.number))

    def do_release(
        self, d: DialogueModel, name: str, evaluation_id: str, audience: str, kind: Kind, param: str
    ) -> None:
        evaluation = next((e for e in d.evaluations if e.id == evaluation_id), None)
        record: Disclosed | None = None
        if not d.is_facilitator(name) or evaluation is None:
            expected: type[BackchannelError] | None = NotFound
        elif evaluation.round != d.rounds[-1].number:
            expected = NotAllowedNow
        elif audience != OBSERVERS and d.delegation(audience) is None:
            expected = NotFound
        elif audience != OBSERVERS and d.delegation(audience).absent:  # type: ignore[union-attr]
            expected = InputError
        else:
            side = None if audience == OBSERVERS else [x.id for x in d.delegations].index(audience)
            try:
                record = disclose(evaluation.findings, kind, param, side)
                expected = None
            except InputError:
                expected = InputError
        release_id = attempt(
            f"{name} releases {kind.value}({param}) of {evaluation_id} to {audience} in {d.key}",
            expected,
            lambda: releases.release(
                self.p, self.actors[name], d.id, evaluation_id, audience, kind.value, param
            ),
        )
        if expected is None:
            assert evaluation is not None and record is not None
            STATS.releases += 1
            d.rounds[-1].state = "disclosed"
            d.releases.append(ReleaseModel(release_id, evaluation.round, audience, record))
            self.record(d, ("finding.released", audience, name))

    def do_schedule(self, d: DialogueModel, name: str, fmt: str, sides: list[str]) -> None:
        day = next(self.serial) % 28 + 1
        plan = meetings.MeetingPlan(
            starts=f"2030-01-{day:02d}T10:00", zone="UTC", format=fmt, online=True, sides=sides
        )
        expected = None if d.is_facilitator(name) else NotFound
        meeting_id = attempt(
            f"{name} schedules a {fmt} in {d.key}",
            expected,
            lambda: meetings.schedule(self.p, self.actors[name], d.id, plan),
        )
        if expected is None:
            parties = [x.id for x in d.delegations if not x.absent]
            m = MeetingModel(meeting_id, fmt, parties if fmt == meetings.PLENARY else sides)
            d.meetings.append(m)
            for audience in m.audiences():
                self.record(d, ("meeting.scheduled", audience, name))

    def do_write_record(self, d: DialogueModel, name: str, m: MeetingModel) -> None:
        text = self.unique("record")
        expected = None if d.is_facilitator(name) else NotFound
        attempt(
            f"{name} writes the record of {m.id} in {d.key}",
            expected,
            lambda: records.write(self.p, self.actors[name], d.id, m.id, text),
        )
        if expected is None:
            m.version, m.text, m.answers = m.version + 1, text, {}
            for audience in m.audiences():
                self.record(d, ("record.written", audience, name))

    def do_answer_record(self, d: DialogueModel, name: str, m: MeetingModel, answer: str) -> None:
        comment = self.unique("comment")
        allowed = d.answers_record(name, m)
        expected = (None if m.version else NotAllowedNow) if allowed else NotFound
        attempt(
            f"{name} answers {answer} to the record of {m.id} in {d.key}",
            expected,
            lambda: records.answer(
                self.p, self.actors[name], d.id, m.id, m.version, answer, comment
            ),
        )
        if expected is None:
            side = d.seats[name].delegation
            assert side is not None
            m.answers[side] = (answer, comment)
            confirmed = answer == records.CONFIRMED
            for audience in m.audiences() if confirmed else [side]:
                action = "record.confirmed" if confirmed else "record.changes_asked"
                self.record(d, (action, audience, name))

    def do_save_note(self, d: DialogueModel, name: str, m: MeetingModel) -> None:
        text = self.unique(f"notes of {name}, naming b1")
        allowed = d.answers_record(name, m)  # the members of a side taking part
        attempt(
            f"{name} saves notes of {m.id} in {d.key}",
            None if allowed else NotFound,
            lambda: notes.save_note(self.p, self.actors[name], d.id, m.id, text),
        )
        if allowed:
            side = d.seats[name].delegation
            assert side is not None
            m.notes[side] = text  # logged for the operator only: no entry in the dialogue
            self.dirty = True

    def do_circulate(self, d: DialogueModel, name: str) -> None:
        text = self.unique(f"non-paper of {name}")
        seat = d.seats.get(name)
        origin = None
        if seat is not None and seat.role == FACILITATOR:
            origin = FACILITATOR
        elif seat is not None and seat.role == MEMBER:
            origin = seat.delegation
        attempt(
            f"{name} circulates a non-paper in {d.key}",
            None if origin else NotFound,
            lambda: nonpapers.circulate(self.p, self.actors[name], d.id, text, 90),
        )
        if origin:
            d.nonpapers.append((origin, text))
            self.record(
                d, ("nonpaper.circulated", "all" if origin == FACILITATOR else origin, name)
            )

    def do_issue_readout(self, d: DialogueModel, name: str, audience: str) -> None:
        allowed = d.is_facilitator(name)
        actor = self.actors[name]
        label = f"{name} issues a readout to {audience} in {d.key}"
        draft = attempt(
            f"{label}: draft",
            None if allowed else NotFound,
            lambda: readouts.draft(self.p, actor, d.id, audience, "en"),
        )
        basis = draft.basis if allowed else "0" * 64
        issued = attempt(
            label,
            None if allowed else NotFound,
            lambda: readouts.issue(self.p, actor, d.id, audience, "en", "html", "a4", basis),
        )
        if allowed and issued.id not in [r for r, _ in d.readouts]:
            d.readouts.append((issued.id, audience))
            self.record(d, ("readout.issued", audience, name))

    def readout_audiences(self, d: DialogueModel, name: str) -> list[str] | None:
        """The audiences whose readouts ``name`` reads in ``d`` (None: all; [] no seat)."""
        seat = d.seats.get(name)
        if seat is None:
            return []
        if seat.role == FACILITATOR:
            return None
        if seat.role == MEMBER:
            return [str(seat.delegation), readouts.ALL]
        return [readouts.OBSERVERS, readouts.ALL]

    def check_readouts(self, d: DialogueModel, name: str, every: list[str]) -> None:
        """The readouts ``name`` lists in ``d`` are those of its audience; of ``every`` (this
        dialogue's, one of another dialogue, a bogus id) any other is NotFound."""
        actor, who = self.actors[name], f"{name} in {d.key}"
        seat = d.seats.get(name)
        found = attempt(
            f"{who}: readouts",
            None if seat else NotFound,
            lambda: readouts.readouts(self.p, actor, d.id),
        )
        mine = self.readout_audiences(d, name)
        expected = [r for r, a in d.readouts if mine is None or a in mine] if seat else []
        if seat:
            same(f"{who}: readouts", sorted(r.id for r in found), sorted(expected))
        for readout_id in every:
            attempt(
                f"{who}: readout {readout_id}",
                None if readout_id in expected else NotFound,
                lambda readout_id=readout_id: readouts.fetch(self.p, actor, d.id, readout_id),
            )

    # ---------------------------------------------------------- the set-up
    @initialize(data=st.data())
    def set_up(self, data: st.DataObject) -> None:
        """D1: round 1 evaluated and released, round 2 open; D2 (blind): round 1 answered
        by the nodes and released, round 2 asked (see :meth:`set_up_blind`)."""
        d1 = self.do_create_dialogue("D1", "fac", 1)
        self.do_add_issue(d1, "fac", ["none", "partial", "full"])
        self.do_add_issue(d1, "fac", ["keep", "ease", "lift"])
        a = self.do_add_delegation(d1, "fac", False)
        b = self.do_add_delegation(d1, "fac", False)
        z = self.do_add_delegation(d1, "fac", True)
        self.do_add_member(d1, "fac", "a1", MEMBER, a, TRACKS[0])
        self.do_add_member(d1, "fac", "a2", MEMBER, a, TRACKS[1])
        self.do_add_member(d1, "fac", "b1", MEMBER, b, TRACKS[2])
        self.do_add_member(d1, "fac", "obs", OBSERVER, None, None)
        self.do_open(d1, "fac")
        for name, target, absent in (("a1", None, False), ("b1", b, False), ("fac", z, True)):
            note = self.unique(f"note of {name}")
            self.do_save(d1, name, target, data.draw(position_for(d1.issues, note, absent)))
        self.do_lock(d1, "fac")
        self.do_evaluate(d1, "fac")
        (evaluation,) = d1.evaluations
        self.do_release(d1, "fac", evaluation.id, OBSERVERS, Kind.ZONE, "")
        self.do_release(d1, "fac", evaluation.id, a, Kind.OVERLAP, d1.issues[0][0])  # type: ignore[arg-type]
        self.do_release(d1, "fac", evaluation.id, b, Kind.OVERLAP, d1.issues[1][0])  # type: ignore[arg-type]
        self.do_open(d1, "fac")
        self.do_schedule(d1, "fac", meetings.CAUCUS, [a])
        self.do_schedule(d1, "fac", meetings.PLENARY, [])
        for m in d1.meetings:
            self.do_write_record(d1, "fac", m)
        self.do_answer_record(d1, "a1", d1.meetings[1], records.CHANGES)
        for m in d1.meetings:
            self.do_save_note(d1, "a2", m)
        self.do_circulate(d1, "a1")
        self.do_circulate(d1, "fac")
        self.do_issue_readout(d1, "fac", a)

        d2 = self.do_create_dialogue("D2", "fac", 2, blind=True)
        self.do_add_issue(d2, "fac", ["north", "south"])
        self.do_add_issue(d2, "fac", ["open", "closed", "shared"])
        x = self.do_add_delegation(d2, "fac", False)
        y = self.do_add_delegation(d2, "fac", False)
        z = self.do_add_delegation(d2, "fac", True)
        self.do_add_member(d2, "fac", "fac2", FACILITATOR, None, None)
        self.do_add_member(d2, "fac", "x1", MEMBER, x, TRACKS[0])
        self.do_add_member(d2, "fac", "a1", MEMBER, y, TRACKS[2])
        self.do_add_member(d2, "fac", "b1", OBSERVER, None, None)
        self.do_open(d2, "fac")
        position = data.draw(position_for(d2.issues, self.unique("note of x1")))
        self.do_save(d2, "x1", None, position)  # refused: it stays on the side's node
        self.do_create_text(d1, "fac")
        ((text_id, text),) = self.texts["D1"].items()
        for name in ("a1", "b1"):
            self.do_respond(d1, name, "D1", text_id, data)
        self.do_release_text(d1, "fac", "D1", text_id, a, 1, b)  # type: ignore[arg-type]
        self.do_release_text(d1, "fac", "D1", text_id, b, 1, OBSERVERS)  # type: ignore[arg-type]
        self.do_revise_text(d1, "fac", "D1", text_id)
        assert len(text.releases) == 2
        self.set_up_blind(data, d2, x, z)  # type: ignore[arg-type]
        self.sweep_all(frozen_too=True)

    def set_up_blind(self, data: st.DataObject, d2: DialogueModel, x: str, z: str) -> None:
        """D2 (blind): the absent stakeholder's public red line, round 1 locked, the nodes
        of both sides and a helper registered (x's twice: replaced), asked for the
        recommended package, which they open, released to ``x`` and the observers; round 2
        locked and asked for the overlap, one node ready. B2: a bare blind dialogue with a
        helper node (another dialogue's node, for D2's computations), frozen."""
        public = Unacceptable(issue=d2.issues[0][0], option="south", firmness=Firmness.FIRM)
        self.do_save(d2, "fac", z, Position(unacceptable=[public]))
        self.do_lock(d2, "fac")
        for name in ("x1", "a1", "fac2"):
            self.do_register(d2, name, pem=2)
        self.do_register(d2, "x1")  # again: replaced, its first token no longer works
        self.do_request(d2, "fac", "nash", data)
        (c,) = self.blind["D2"].computations
        self.finish("D2", c, data, honest=True)
        self.do_blind_release(d2, "fac", c.id, [x, OBSERVERS], None)
        self.do_open(d2, "fac")
        self.do_lock(d2, "fac")
        self.do_request(d2, "fac", "overlap", data)
        c = self.blind["D2"].computations[-1]
        first = next(n for n in self.blind["D2"].nodes if n.id == c.parties[0])
        self.do_ready("D2", first, "D2", c, c.id, False)

        b2 = self.do_create_dialogue("B2", "fac2", 1, blind=True)
        self.do_register(b2, "fac2")  # a helper: a node of another dialogue for D2's
        b2.frozen = True

    # ---------------------------------------------------------- rules
    @rule(actor=st.sampled_from(NAMES), per_round=st.integers(1, 3), blind=st.booleans())
    def create_dialogue(self, actor: str, per_round: int, blind: bool) -> None:
        if "D3" not in self.d:
            self.do_create_dialogue("D3", actor, per_round, blind)

    @rule(data=st.data(), options=st.sampled_from([["yes", "no"], ["low", "mid", "high"]]))
    def add_issue(self, data: st.DataObject, options: list[str]) -> None:
        d = self.pick_dialogue(data)
        name = self.pick_actor(data, d)
        if not (d.is_facilitator(name) and len(d.issues) >= 4):
            self.do_add_issue(d, name, options)

    @rule(data=st.data(), absent=st.booleans())
    def add_delegation(self, data: st.DataObject, absent: bool) -> None:
        d = self.pick_dialogue(data)
        name = self.pick_actor(data, d)
        if not (d.is_facilitator(name) and len(d.delegations) >= 5):
            self.do_add_delegation(d, name, absent)

    @rule(
        data=st.data(),
        user=st.sampled_from(NAMES),
        role=st.sampled_from([MEMBER, MEMBER, OBSERVER, FACILITATOR]),
        track=st.sampled_from(TRACKS),
    )
    def add_member(self, data: st.DataObject, user: str, role: str, track: str) -> None:
        d = self.pick_dialogue(data)
        name = self.pick_actor(data, d)
        delegation = data.draw(st.sampled_from([None, *self.every_delegation()]), label="to")
        self.do_add_member(d, name, user, role, delegation, track)

    @rule(data=st.data(), role=st.sampled_from([MEMBER, OBSERVER]))
    def invite(self, data: st.DataObject, role: str) -> None:
        d = self.pick_dialogue(data)
        name = self.pick_actor(data, d)
        delegation = data.draw(st.sampled_from([None, *self.every_delegation()]), label="to")
        self.do_invite(d, name, role, delegation, TRACKS[1] if role == MEMBER else None)

    @rule(data=st.data())
    def save_position(self, data: st.DataObject) -> None:
        d = self.pick_dialogue(data)
        seated = sorted(n for n, s in d.seats.items() if s.role in (MEMBER, FACILITATOR))
        if seated and data.draw(st.booleans(), label="as a seated member"):
            name = data.draw(st.sampled_from(seated), label="actor")
        else:
            name = data.draw(st.sampled_from(NAMES), label="actor")
        seat = d.seats.get(name)
        if seat is not None and data.draw(st.booleans(), label="own target"):
            own = [x.id for x in d.delegations if x.absent] if seat.role == FACILITATOR else []
            target = data.draw(st.sampled_from([None, seat.delegation, *own]), label="target")
        else:
            target = data.draw(st.sampled_from([None, *self.every_delegation()]), label="target")
        owner = d.delegation(d.position_target(name, target))
        absent = owner is not None and owner.absent
        position = data.draw(position_for(d.issues, self.unique(f"note of {name}"), absent))
        self.do_save(d, name, target, position)

    @rule(data=st.data())
    def open_round(self, data: st.DataObject) -> None:
        d = self.pick_dialogue(data)
        self.do_open(d, self.pick_actor(data, d))

    @rule(data=st.data())
    def lock_round(self, data: st.DataObject) -> None:
        d = self.pick_dialogue(data)
        self.do_lock(d, self.pick_actor(data, d))

    @rule(data=st.data())
    def unlock_round(self, data: st.DataObject) -> None:
        d = self.pick_dialogue(data)
        self.do_unlock(d, self.pick_actor(data, d))

    @rule(data=st.data())
    def evaluate(self, data: st.DataObject) -> None:
        d = self.pick_dialogue(data)
        self.do_evaluate(d, self.pick_actor(data, d))

    @rule(data=st.data(), kind=st.sampled_from(EVALUATION_KINDS))
    def release(self, data: st.DataObject, kind: Kind) -> None:
        d = self.pick_dialogue(data)
        self.random_release(data, d, self.pick_actor(data, d), kind)

    def random_release(self, data: st.DataObject, d: DialogueModel, name: str, kind: Kind) -> None:
        """A release of a random evaluation to a random audience with a random parameter."""
        own = [e.id for e in d.evaluations]
        pool = own if own and data.draw(st.booleans(), label="own evaluation") else None
        evaluation_id = data.draw(st.sampled_from(pool or self.every_evaluation()), label="ev")
        audience = data.draw(
            st.sampled_from([OBSERVERS, *self.every_delegation()]), label="audience"
        )
        evaluation = next((e for e in d.evaluations if e.id == evaluation_id), None)
        params = [BOGUS]
        if evaluation is not None:
            findings = evaluation.findings
            params += list(findings.issues) + list(findings.red_lines) + list(findings.packages)
            params += ["partial:" + r for r in findings.partial_packages]
        param = data.draw(st.sampled_from(params), label="parameter")
        self.do_release(d, name, evaluation_id, audience, kind, param)

    @rule(data=st.data())
    def advance(self, data: st.DataObject) -> None:
        """The next natural step of a dialogue's flow, by the actor who may take it."""
        d = self.pick_dialogue(data)
        facilitator = next(n for n in NAMES if d.is_facilitator(n))
        current = d.rounds[-1] if d.rounds else None
        at_table = [x for x in d.delegations if not x.absent]
        if len(at_table) < 2 or not d.issues:
            if not d.issues:
                self.do_add_issue(d, facilitator, ["left", "right", "centre"])
            else:
                self.do_add_delegation(d, facilitator, False)
        elif d.blind:
            self.advance_blind(data, d, facilitator)
        elif current is None or (
            current.state in ("evaluated", "disclosed")
            and (current.used >= current.allowed or data.draw(st.booleans(), label="next round"))
        ):
            if current is not None and current.state == "evaluated":
                kind = data.draw(st.sampled_from(EVALUATION_KINDS), label="kind")
                self.random_release(data, d, facilitator, kind)
            else:
                self.do_open(d, facilitator)
        elif current.state == "draft":
            missing = [x for x in at_table if (current.number, x.id) not in d.positions]
            if not missing and not d.unchanged(current.number):
                self.do_lock(d, facilitator)
                return
            side = missing[0] if missing else at_table[0]  # unchanged: a side revises
            members = [n for n, s in d.seats.items() if s.delegation == side.id]
            if not members:
                free = [n for n in NAMES if n not in d.seats]
                if free:
                    self.do_add_member(d, facilitator, free[0], MEMBER, side.id, TRACKS[0])
                return
            note = self.unique(f"note of {members[0]}")
            position = data.draw(position_for(d.issues, note), label="position")
            self.do_save(d, members[0], None, position)
        elif any((current.number, x.id) not in d.positions for x in at_table):
            self.do_unlock(d, facilitator)  # a side has not saved: back to draft
        elif current.state == "locked" and d.unchanged(current.number):
            self.do_evaluate(d, facilitator)  # refused: nothing changed
            self.do_unlock(d, facilitator)  # so back to draft, for a side to revise
        else:
            self.do_evaluate(d, facilitator)

    @rule(data=st.data())
    def advance_again(self, data: st.DataObject) -> None:
        """The flow again (the flow's steps are most of what makes sweeps interesting)."""
        self.advance(data)

    @rule(data=st.data())
    def advance_once_more(self, data: st.DataObject) -> None:
        """And once more."""
        self.advance(data)

    @rule(data=st.data(), fmt=st.sampled_from(meetings.FORMATS))
    def schedule_meeting(self, data: st.DataObject, fmt: str) -> None:
        d = self.pick_dialogue(data, blind=False)
        parties = [x.id for x in d.delegations if not x.absent]
        wanted = meetings.SIDES_OF.get(fmt, 0)
        if len(d.meetings) < 4 and len(parties) >= wanted:
            sides = data.draw(st.permutations(parties), label="sides")[:wanted]
            self.do_schedule(d, self.pick_actor(data, d), fmt, sides)

    @rule(data=st.data())
    def write_record(self, data: st.DataObject) -> None:
        d = self.pick_dialogue(data, blind=False)
        if d.meetings:
            m = data.draw(st.sampled_from(d.meetings), label="meeting")
            self.do_write_record(d, self.pick_actor(data, d), m)

    @rule(data=st.data(), answer=st.sampled_from([records.CONFIRMED, records.CHANGES]))
    def answer_record(self, data: st.DataObject, answer: str) -> None:
        d = self.pick_dialogue(data, blind=False)
        if d.meetings:
            m = data.draw(st.sampled_from(d.meetings), label="meeting")
            self.do_answer_record(d, data.draw(st.sampled_from(NAMES), label="actor"), m, answer)

    @rule(data=st.data())
    def save_note(self, data: st.DataObject) -> None:
        d = self.pick_dialogue(data, blind=False)
        if d.meetings:
            m = data.draw(st.sampled_from(d.meetings), label="meeting")
            self.do_save_note(d, data.draw(st.sampled_from(NAMES), label="actor"), m)

    @rule(data=st.data())
    def circulate(self, data: st.DataObject) -> None:
        d = self.pick_dialogue(data)
        if len(d.nonpapers) < 6:
            self.do_circulate(d, data.draw(st.sampled_from(NAMES), label="actor"))

    @rule(data=st.data())
    def issue_readout(self, data: st.DataObject) -> None:
        d = self.pick_dialogue(data)
        if len(d.readouts) < 2:  # each issue builds the content twice (draft, issue)
            sides = [x.id for x in d.delegations if not x.absent]
            audience = data.draw(
                st.sampled_from([*sides, readouts.OBSERVERS, readouts.ALL]), label="audience"
            )
            self.do_issue_readout(d, self.pick_actor(data, d), audience)

    @precondition(lambda self: self.dirty)
    @rule()
    def sweep(self) -> None:
        """Every read and every write, as every actor, in every dialogue (after changes)."""
        self.sweep_all(frozen_too=False)

    def sweep_all(self, frozen_too: bool) -> None:
        """The sweep; a frozen dialogue (B2, which no rule changes) only on its blind side,
        unless ``frozen_too`` (each dialogue more costs every sweep much: the reads and
        writes of each actor in it run over every other dialogue's objects)."""
        self.dirty = False
        delegations = self.every_delegation()
        evaluation_ids = self.every_evaluation()
        every_meeting = [(d, m) for d in self.d.values() for m in d.meetings]
        other = {
            d.key: [r for x in self.d.values() if x is not d for r, _ in x.readouts][:1]
            for d in self.d.values()
        }
        for d in self.d.values():
            for name in NAMES:
                if d.frozen and not frozen_too:
                    self.check_blind(d, name)
                    continue
                self.check_reads(d, name, delegations)
                self.check_readouts(d, name, [*(r for r, _ in d.readouts), *other[d.key], BOGUS])
                self.check_denied_writes(d, name, delegations, evaluation_ids)
                self.check_blind(d, name)
                if not d.blind:  # meetings and texts: only in clear dialogues (see the rules)
                    self.check_texts(d, name)
                    self.check_meetings(d, name, every_meeting)
        self.check_node_api()
        for name in NAMES:
            self.check_no_dialogue(name)
            self.check_my_dialogues(name)

    # ---------------------------------------------------------- reads
    def check_reads(self, d: DialogueModel, name: str, delegations: list[str]) -> None:
        actor, seat = self.actors[name], d.seats.get(name)
        who = f"{name} in {d.key}"
        no_seat = NotFound if seat is None else None
        found = attempt(f"{who}: rounds", no_seat, lambda: rounds.rounds(self.p, actor, d.id))
        if seat is not None:
            same(
                f"{who}: rounds",
                [(r.number, r.state, r.evaluations_allowed, r.evaluations_used) for r in found],
                [(r.number, r.state, r.allowed, r.used) for r in d.rounds],
            )
        view = attempt(f"{who}: view", no_seat, lambda: dialogues.view(self.p, actor, d.id))
        if seat is not None:
            self.check_view(d, name, view)
        for target in [None, *delegations]:
            resolved = d.position_target(name, target)
            if resolved is not None and d.stays_on_a_node(resolved):
                attempt(
                    f"{who}: positions of {target}, on its node",
                    positions.BlindPosition,
                    lambda target=target: positions.positions(self.p, actor, d.id, target),
                )
                continue
            found = attempt(
                f"{who}: positions of {target}",
                NotFound if resolved is None else None,
                lambda target=target: positions.positions(self.p, actor, d.id, target),
            )
            if resolved is not None:
                same(
                    f"{who}: positions of {resolved}",
                    [(v.round_number, v.revision, v.position) for v in found],
                    d.history(resolved),
                )
        found = attempt(
            f"{who}: released_to_me", no_seat, lambda: releases.released_to_me(self.p, actor, d.id)
        )
        if seat is not None:
            if seat.role == MEMBER:
                mine = [r for r in d.releases if r.audience == seat.delegation]
            elif seat.role == OBSERVER:
                mine = [r for r in d.releases if r.audience == OBSERVERS]
            else:
                mine = list(d.releases)
            same(
                f"{who}: released_to_me",
                sorted((r.id, r.round_number, r.disclosed) for r in found),
                sorted((r.id, r.round, r.record) for r in mine),
            )
        found = attempt(f"{who}: log", no_seat, lambda: audit_log.entries(self.p, actor, d.id))
        if seat is not None:
            same(
                f"{who}: log",
                [(e.action, e.mine) for e in found],
                [
                    (a, by == name)
                    for a, audience, by in reversed(d.log)
                    if d.visible(name, audience)
                ],
            )
        self.check_workspace_reads(d, name)
        fac = d.is_facilitator(name)
        found = attempt(
            f"{who}: evaluations",
            None if fac else NotFound,
            lambda: evaluations.evaluations(self.p, actor, d.id),
        )
        if fac:
            same(
                f"{who}: evaluations",
                [(e.id, e.round_number, e.findings) for e in found],
                [(e.id, e.round, e.findings) for e in reversed(d.evaluations)],
            )

    def check_workspace_reads(self, d: DialogueModel, name: str) -> None:
        """Readiness, pending invitations and the dialogue's history: the facilitator's
        only; a side's own history: its members' only; public red lines: every seat's."""
        actor, seat, who = self.actors[name], d.seats.get(name), f"{name} in {d.key}"
        fac = d.is_facilitator(name)
        only_fac = None if fac else NotFound
        current = d.rounds[-1].number if d.rounds else None
        found = attempt(
            f"{who}: readiness", only_fac, lambda: readiness.readiness(self.p, actor, d.id)
        )
        if fac:
            expected = []
            for x in d.delegations if current is not None else ():  # no round: no one yet
                if x.absent:
                    continue
                kept = d.positions.get((current, x.id)) if current else None
                state = "missing" if kept is None else ("carried over" if not kept[0] else "saved")
                unrated = (
                    []
                    if kept is None
                    else [
                        n for i, n, _ in d.issues if not prune(d.agenda(), kept[1]).ratings.get(i)
                    ]
                )
                expected.append((x.name, state, unrated))
            same(
                f"{who}: readiness",
                [(r.name, r.saved.value, r.unrated) for r in found.delegations],
                expected,
            )
        found = attempt(
            f"{who}: pending invitations",
            only_fac,
            lambda: invitations.pending(self.p, actor, d.id),
        )
        if fac:
            same(f"{who}: pending", sorted(i.id for i in found), sorted(d.invitations))
        attempt(
            f"{who}: dialogue history",
            only_fac,
            lambda: history.dialogue_history(self.p, actor, d.id),
        )
        member = seat is not None and seat.role == MEMBER
        on_node = member and d.blind  # a blind side's history stays on its node too
        found = attempt(
            f"{who}: own history",
            (positions.BlindPosition if on_node else None) if member else NotFound,
            lambda: history.own_history(self.p, actor, d.id),
        )
        if member and not on_node and seat is not None and seat.delegation is not None:
            mine = d.history(seat.delegation)
            same(
                f"{who}: own history",
                [(c.from_round, c.to_round, c.changes) for c in found],
                [
                    (a[0], b[0], position_changes(d.agenda(), a[2], b[2]))
                    for a, b in itertools.pairwise(mine)
                ],
            )
        found = attempt(
            f"{who}: stated red lines",
            None if seat is not None else NotFound,
            lambda: stated.stated_red_lines(self.p, actor, d.id),
        )
        if seat is not None:
            want = {}
            for x in d.delegations:
                if x.absent:
                    kept = d.positions.get((current, x.id)) if current else None
                    body = prune(d.agenda(), kept[1]) if kept else Position()
                    items = [*body.unacceptable, *body.rules]
                    want[x.id] = [firm_words(d.agenda(), i) for i in items]
            same(f"{who}: stated red lines", found, want)

    def check_meetings(
        self, d: DialogueModel, name: str, every: list[tuple[DialogueModel, MeetingModel]]
    ) -> None:
        """Meetings and records as ``name`` in ``d``: reads equal the model, and every
        write it may not make (a foreign meeting included) is NotFound."""
        actor, who = self.actors[name], f"{name} in {d.key}"
        listed = attempt(
            f"{who}: meetings",
            None if name in d.seats else NotFound,
            lambda: meetings.meetings(self.p, actor, d.id),
        )
        if name in d.seats:
            same(
                f"{who}: meetings",
                sorted(m.id for m in listed),
                sorted(m.id for m in d.meetings if d.sees_meeting(name, m)),
            )
        probe = meetings.MeetingPlan(starts="2030-01-01T10:00", zone="UTC", online=True)
        for owner, m in every:
            here = owner is d
            seen = here and d.sees_meeting(name, m)
            label = f"{who}: meeting {m.id} of {owner.key}"
            attempt(
                label,
                None if seen else NotFound,
                lambda m=m: meetings.meeting(self.p, actor, d.id, m.id),
            )
            want = d.record_of(name, m) if here else None
            found = attempt(
                f"{label}: record",
                None if want is not None else NotFound,
                lambda m=m: records.record(self.p, actor, d.id, m.id),
            )
            if want is not None:
                got = (found.version, found.text, found.answers, found.comments, found.agreed)
                same(f"{label}: record", got, want)
            if not (here and d.is_facilitator(name)):
                for action, call in (
                    ("edit", lambda m=m: meetings.edit(self.p, actor, d.id, m.id, probe)),
                    ("cancel", lambda m=m: meetings.cancel(self.p, actor, d.id, m.id)),
                    ("write", lambda m=m: records.write(self.p, actor, d.id, m.id, "probe")),
                ):
                    attempt(f"{label}: {action}", NotFound, call)
            mine = here and d.answers_record(name, m)
            found = attempt(
                f"{label}: notes",
                None if mine else NotFound,
                lambda m=m: notes.note(self.p, actor, d.id, m.id),
            )
            if mine:
                side = d.seats[name].delegation
                assert side is not None
                same(f"{label}: notes", found.text, m.notes.get(side, ""))
            else:
                attempt(
                    f"{label}: save notes",
                    NotFound,
                    lambda m=m: notes.save_note(self.p, actor, d.id, m.id, "probe"),
                )
            if not mine:
                attempt(
                    f"{label}: answer",
                    NotFound,
                    lambda m=m: records.answer(
                        self.p, actor, d.id, m.id, max(m.version, 1), records.CONFIRMED
                    ),
                )
        seat = d.seats.get(name)
        reads = seat is not None and seat.role in (FACILITATOR, MEMBER)
        found = attempt(
            f"{who}: non-papers",
            None if reads else NotFound,
            lambda: nonpapers.nonpapers(self.p, actor, d.id),
        )
        if reads:
            assert seat is not None
            same(
                f"{who}: non-papers",
                sorted(n.text for n in found),
                sorted(
                    text
                    for origin, text in d.nonpapers
                    if seat.role == FACILITATOR or origin in (FACILITATOR, seat.delegation)
                ),
            )
        if not d.is_facilitator(name):
            attempt(
                f"{who}: schedule",
                NotFound,
                lambda: meetings.schedule(self.p, actor, d.id, probe),
            )

    def check_view(self, d: DialogueModel, name: str, view: dialogues.DialogueView) -> None:
        me = d.seats[name]
        same(f"{name} in {d.key}: title", view.title, d.title)
        same(f"{name} in {d.key}: blind", view.blind, d.blind)
        same(
            f"{name} in {d.key}: seat",
            (view.seat.role, view.seat.delegation_id),
            (me.role, me.delegation),
        )
        same(
            f"{name} in {d.key}: parties",
            [(x.id, x.name, x.absent, x.own) for x in view.delegations],
            [(x.id, x.name, x.absent, x.id == me.delegation) for x in d.delegations],
        )
        same(
            f"{name} in {d.key}: agenda",
            [(i.id, i.name, list(i.options)) for i in view.agenda.issues],
            d.issues,
        )
        expected = []
        for user, seat in d.seats.items():
            same_side = seat.delegation is not None and seat.delegation == me.delegation
            if me.role == FACILITATOR or same_side or user == name:
                real = self.actors[user].display_name
                expected.append((real, seat.role, seat.delegation, seat.track))
            elif seat.role in (MEMBER, FACILITATOR):
                expected.append((seat.pseudonym, seat.role, seat.delegation, None))
        same(
            f"{name} in {d.key}: participants",
            sorted(
                (p.name, p.role, p.delegation_id or "", p.track or "") for p in view.participants
            ),
            sorted((n, r, dl or "", t or "") for n, r, dl, t in expected),
        )

    def check_no_dialogue(self, name: str) -> None:
        actor = self.actors[name]
        for label, call in (
            ("rounds", lambda: rounds.rounds(self.p, actor, BOGUS)),
            ("view", lambda: dialogues.view(self.p, actor, BOGUS)),
            ("positions", lambda: positions.positions(self.p, actor, BOGUS)),
            ("released", lambda: releases.released_to_me(self.p, actor, BOGUS)),
            ("log", lambda: audit_log.entries(self.p, actor, BOGUS)),
            ("evaluations", lambda: evaluations.evaluations(self.p, actor, BOGUS)),
            ("lock", lambda: rounds.lock_round(self.p, actor, BOGUS)),
            ("save", lambda: positions.save_position(self.p, actor, BOGUS, Position())),
            ("readiness", lambda: readiness.readiness(self.p, actor, BOGUS)),
            ("pending", lambda: invitations.pending(self.p, actor, BOGUS)),
            ("revoke", lambda: invitations.revoke(self.p, actor, BOGUS, BOGUS)),
            ("history", lambda: history.dialogue_history(self.p, actor, BOGUS)),
            ("own history", lambda: history.own_history(self.p, actor, BOGUS)),
            ("stated", lambda: stated.stated_red_lines(self.p, actor, BOGUS)),
            ("robustness", lambda: robustness(self.p, actor, BOGUS, BOGUS)),
            ("escalation model", lambda: escalation.read_model(self.p, actor, BOGUS)),
            ("escalation save", lambda: escalation.save_model(self.p, actor, BOGUS, STANDOFF)),
            ("typed issues", lambda: agenda.add_typed_issues(self.p, actor, BOGUS, "A: x; y")),
        ):
            attempt(f"{name}: {label} of a missing dialogue", NotFound, call)

    def check_my_dialogues(self, name: str) -> None:
        STATS.attempts += 1
        ours = {d.id for d in self.d.values()}
        listed = dialogues.my_dialogues(self.p, self.actors[name])
        same(
            f"{name}: my dialogues",
            sorted((i, t, r) for i, t, r in listed if i in ours),
            sorted((d.id, d.title, d.seats[name].role) for d in self.d.values() if name in d.seats),
        )

    # ---------------------------------------------------------- writes that must fail
    def check_denied_writes(
        self, d: DialogueModel, name: str, delegations: list[str], evaluation_ids: list[str]
    ) -> None:
        actor, who = self.actors[name], f"{name} in {d.key}"
        probe = Position(note="probe " + secrets.token_hex(4))
        for target in [None, *delegations]:
            if d.position_target(name, target) is None:
                attempt(
                    f"{who}: save the position of {target}",
                    NotFound,
                    lambda target=target: positions.save_position(
                        self.p, actor, d.id, probe, target
                    ),
                )
        if not d.is_facilitator(name):
            issue = d.issues[0][0] if d.issues else BOGUS
            audience = d.delegations[0].id if d.delegations else OBSERVERS
            for label, call in (
                ("open", lambda: rounds.open_round(self.p, actor, d.id)),
                ("lock", lambda: rounds.lock_round(self.p, actor, d.id)),
                ("unlock", lambda: rounds.unlock_round(self.p, actor, d.id)),
                ("evaluate", lambda: evaluations.evaluate(self.p, actor, d.id)),
                ("agenda", lambda: dialogues.set_agenda(self.p, actor, d.id, Agenda())),
                ("remove issue", lambda: dialogues.remove_issue(self.p, actor, d.id, issue)),
                (
                    "add issue",
                    lambda: dialogues.add_issue(
                        self.p, actor, d.id, "Probe", "ordered", ["p", "q"]
                    ),
                ),
                ("delegation", lambda: dialogues.add_delegation(self.p, actor, d.id, "Probe")),
                (
                    "member",
                    lambda: dialogues.add_member(self.p, actor, d.id, "spare2", OBSERVER),
                ),
                ("invite", lambda: dialogues.invite(self.p, actor, d.id, OBSERVER)),
                (
                    "typed issues",
                    lambda: agenda.add_typed_issues(self.p, actor, d.id, "Probe: p; q"),
                ),
                (
                    "import",
                    lambda: agenda.import_agenda(self.p, actor, d.id, "a.yaml", b"title: ["),
                ),
                ("move issue", lambda: agenda.move_issue(self.p, actor, d.id, issue, 1)),
                ("escalation model", lambda: escalation.read_model(self.p, actor, d.id)),
                (
                    "escalation save",
                    lambda: escalation.save_model(self.p, actor, d.id, STANDOFF),
                ),
                (
                    "escalation import",
                    lambda: escalation.import_model(self.p, actor, d.id, "m.yaml", b"title: ["),
                ),
                (
                    "escalation release",
                    lambda: escalation.release(
                        self.p, actor, d.id, audience, "equilibrium", "nash", "NN"
                    ),
                ),
                (
                    "edit issue",
                    lambda: agenda.edit_issue(
                        self.p, actor, d.id, issue, "Probe", "ordered", ["p", "q"]
                    ),
                ),
            ):
                attempt(f"{who}: {label}", NotFound, call)
            for invitation in [*d.invitations, BOGUS]:
                attempt(
                    f"{who}: revoke {invitation}",
                    NotFound,
                    lambda invitation=invitation: invitations.revoke(
                        self.p, actor, d.id, invitation
                    ),
                )
            for evaluation_id in evaluation_ids:
                attempt(
                    f"{who}: release {evaluation_id}",
                    NotFound,
                    lambda evaluation_id=evaluation_id: releases.release(
                        self.p, actor, d.id, evaluation_id, audience, "zone"
                    ),
                )
                attempt(
                    f"{who}: robustness of {evaluation_id}",
                    NotFound,
                    lambda evaluation_id=evaluation_id: robustness(
                        self.p, actor, d.id, evaluation_id
                    ),
                )
            return
        # the facilitator of this dialogue, with objects of the other dialogues
        for invitation in self.every_invitation():
            if invitation not in d.invitations:
                attempt(
                    f"{who}: revoke a foreign invitation {invitation}",
                    NotFound,
                    lambda invitation=invitation: invitations.revoke(
                        self.p, actor, d.id, invitation
                    ),
                )
        own = {e.id for e in d.evaluations}
        for evaluation_id in evaluation_ids:
            if evaluation_id not in own:
                attempt(
                    f"{who}: release a foreign evaluation {evaluation_id}",
                    NotFound,
                    lambda evaluation_id=evaluation_id: releases.release(
                        self.p, actor, d.id, evaluation_id, OBSERVERS, "zone"
                    ),
                )
                attempt(
                    f"{who}: robustness of a foreign evaluation {evaluation_id}",
                    NotFound,
                    lambda evaluation_id=evaluation_id: robustness(
                        self.p, actor, d.id, evaluation_id
                    ),
                )
        current = [e for e in d.evaluations if d.rounds and e.round == d.rounds[-1].number]
        if current:
            mine = {x.id for x in d.delegations}
            for target in delegations:
                if target not in mine:
                    attempt(
                        f"{who}: release to a foreign delegation {target}",
                        NotFound,
                        lambda target=target: releases.release(
                            self.p, actor, d.id, current[0].id, target, "zone"
                        ),
                    )
        for target in delegations:  # an escalation finding: the audience is checked first
            if target not in {x.id for x in d.delegations}:
                attempt(
                    f"{who}: escalation finding to a foreign delegation {target}",
                    NotFound,
                    lambda target=target: escalation.release(
                        self.p, actor, d.id, target, "equilibrium", "nash", "NN"
                    ),
                )


STANDOFF = escalation.model_from_data(
    {
        "title": "Standoff",
        "decision_makers": [{"id": "A", "options": ["a"]}, {"id": "B", "options": ["b"]}],
        "preferences": {"A": {"statements": ["-b", "a"]}, "B": {"statements": ["-a", "b"]}},
    }
)
"""A small escalation model, for writes that must fail."""


def robustness(platform: Platform, actor: Actor, dialogue_id: str, evaluation_id: str) -> object:
    """The robustness check of an evaluation, with the form's defaults."""
    return evaluation_robustness.check(
        platform,
        actor,
        dialogue_id,
        evaluation_id,
        rule=evaluation_robustness.DEFAULT_RULE,
        noise=evaluation_robustness.DEFAULT_NOISE,
        samples=evaluation_robustness.SAMPLE_COUNTS[0],
    )


def machine_for(state: Shared) -> type[IsolationMachine]:
    """The machine class bound to a shared platform."""
    return type("IsolationMachineOnPlatform", (IsolationMachine,), {"shared": state})


HUNT = os.environ.get("BACKCHANNEL_ISOLATION_EXAMPLES")
EXAMPLES = int(HUNT or "6")
"""Worlds the machine builds in one run: 6 in ``make test`` (some 30,000 attempts, the same
ones every run, so that a failure in CI can be run again); set
``BACKCHANNEL_ISOLATION_EXAMPLES`` (15 make some 100,000) for a longer, random hunt."""

RUN = settings(
    phases=[Phase.explicit, Phase.generate],
    max_examples=EXAMPLES,
    derandomize=HUNT is None,
    stateful_step_count=30,
    deadline=None,
    database=None,
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
)
CONTROL = settings(
    RUN, max_examples=3, stateful_step_count=5, phases=[Phase.explicit, Phase.generate]
)


def test_no_delegation_reads_or_writes_another_sides_objects(shared: Shared) -> None:
    STATS.reset()
    BLIND.clear()
    run_state_machine_as_test(machine_for(shared), settings=RUN)
    assert STATS.attempts >= MIN_ATTEMPTS, STATS
    assert STATS.denied >= MIN_ATTEMPTS // 2, STATS
    assert STATS.evaluations > RUN.max_examples, STATS  # the flow went on after the set-up
    assert STATS.releases >= 3 * RUN.max_examples, STATS
    assert BLIND["asked"] > 2 * RUN.max_examples, BLIND  # the blind flow went on too
    assert BLIND["opened"] > RUN.max_examples, BLIND
    assert BLIND["released"] >= 2 * RUN.max_examples, BLIND
    assert BLIND["replaced"] >= RUN.max_examples, BLIND  # and old tokens were refused


# ------------------------------------------------------------------ negative controls
def _position_target_without_delegation_check(monkeypatch: pytest.MonkeyPatch) -> None:
    original = positions._position_target

    def broken(s: Any, place: access.Seat, delegation_id: str | None) -> DelegationRow:
        if place.role == MEMBER and delegation_id is not None:
            return access.owned(s, place, DelegationRow, delegation_id)
        return original(s, place, delegation_id)

    monkeypatch.setattr(positions, "_position_target", broken)


def _owned_without_dialogue_check(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(s: Any, place: access.Seat, table: Any, key: str, **_: Any) -> Any:
        row = repo.get(s, table, key)
        if row is None:
            raise NotFound()
        return row

    monkeypatch.setattr(access, "owned", broken)


def _releases_for_every_audience(monkeypatch: pytest.MonkeyPatch) -> None:
    original = repo.releases
    monkeypatch.setattr(
        repo, "releases", lambda s, dialogue_id, _: original(s, dialogue_id, [OBSERVERS, *_all(s)])
    )


def _all(s: Any) -> list[str]:
    from sqlalchemy import select

    return list(s.execute(select(DelegationRow.id)).scalars())


def _log_for_every_audience(monkeypatch: pytest.MonkeyPatch) -> None:
    original = repo.audit_entries
    monkeypatch.setattr(
        repo,
        "audit_entries",
        lambda s, dialogue_id, _, **page: original(s, dialogue_id, None, **page),
    )


def _text_releases_for_every_audience(monkeypatch: pytest.MonkeyPatch) -> None:
    original = repo.text_releases
    monkeypatch.setattr(repo, "text_releases", lambda s, text_id, _: original(s, text_id, None))


def _meetings_for_every_seat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(meetings, "visible", lambda place, row: True)


def _notes_of_any_side(monkeypatch: pytest.MonkeyPatch) -> None:
    from backchannel.storage import meetings as stored

    original = stored.note

    def broken(s: Any, meeting_id: str, delegation_id: str) -> Any:
        return original(s, meeting_id, delegation_id) or next(
            (original(s, meeting_id, other) for other in _all(s) if original(s, meeting_id, other)),
            None,
        )

    monkeypatch.setattr(stored, "note", broken)


def _node_reads_another_dialogues_computation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A node token of one dialogue reads another dialogue's computation: the node API
    trusts the computation's id and answers as its first party."""
    original = computations.session

    def broken(platform: Platform, caller: nodes.NodeCaller, computation_id: str) -> Any:
        with platform.view() as s:
            row = repo.get(s, BlindComputationRow, computation_id)
            if row is not None and row.dialogue_id != caller.dialogue_id:
                body = computations._body(platform.keys(s, row.dialogue_id), row)
                first = body["parties"][0]["node"]
                caller = nodes.NodeCaller(first, row.dialogue_id, None)
        return original(platform, caller, computation_id)

    monkeypatch.setattr(computations, "session", broken)


def _every_node_to_every_member(monkeypatch: pytest.MonkeyPatch) -> None:
    """A member sees the other delegations' nodes too (not only its own and the helpers)."""

    def broken(platform: Platform, actor: Actor, dialogue_id: str) -> list[nodes.NodeView]:
        with platform.view() as s:
            place = access.seat(s, actor, dialogue_id)
            access.require(place, FACILITATOR, MEMBER)
            nodes.blind_dialogue(s, dialogue_id)
            return nodes.views(s, platform.keys(s, dialogue_id), dialogue_id)

    monkeypatch.setattr(nodes, "nodes", broken)


BREAKAGES: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "node_reads_another_dialogues_computation": _node_reads_another_dialogues_computation,
    "members_see_every_node": _every_node_to_every_member,
    "non_papers_visible_to_every_member": lambda monkeypatch: monkeypatch.setattr(
        nonpapers, "_visible", lambda place, row: True
    ),
    "notes_of_any_side": _notes_of_any_side,
    "meetings_are_visible_to_every_seat": _meetings_for_every_seat,
    "position_target_skips_the_delegation_check": _position_target_without_delegation_check,
    "owned_skips_the_dialogue_check": _owned_without_dialogue_check,
    "releases_ignore_the_audience": _releases_for_every_audience,
    "log_ignores_the_audience": _log_for_every_audience,
    "text_releases_ignore_the_audience": _text_releases_for_every_audience,
    "readouts_for_every_audience": lambda monkeypatch: monkeypatch.setattr(
        readouts, "_readable", lambda place: None
    ),
}


def _breaches(error: BaseException) -> Iterator[BaseException]:
    yield error
    for inner in getattr(error, "exceptions", ()):
        yield from _breaches(inner)
    if error.__cause__ is not None:
        yield from _breaches(error.__cause__)


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_the_machine_catches_a_broken_check(
    shared: Shared, monkeypatch: pytest.MonkeyPatch, breakage: str
) -> None:
    BREAKAGES[breakage](monkeypatch)
    with pytest.raises(Exception) as caught:  # inspected below
        run_state_machine_as_test(machine_for(shared), settings=CONTROL)
    assert any(isinstance(e, IsolationBreach) for e in _breaches(caught.value)), caught.value
