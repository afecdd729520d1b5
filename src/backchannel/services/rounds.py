"""Rounds, positions, rationed evaluations and releases: the rules the server enforces.

* A round moves ``draft -> locked -> evaluated -> disclosed``; only the facilitator
  moves it. Positions change only in a draft round; only a locked round is evaluated.
* Evaluations are **rationed** (``evaluations_per_round``, default 1) and every one is
  written to the log that every delegation reads, so nobody, the facilitator
  included, can probe a side's red lines by repeated queries.
* A side learns only what the facilitator releases to it, as records made by the pure
  :func:`backchannel.model.disclosure.disclose`.
* With ``monotone_red_lines`` a side's red lines may only loosen from round to round.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backchannel.errors import InputError, NotAllowedNow, NotFound
from backchannel.model.compile import compile_case
from backchannel.model.dialogue import (
    Agenda,
    Position,
    Side,
    build_case,
    check_position,
    prune,
    tightened,
)
from backchannel.model.disclosure import Disclosed, Findings, Kind, RedLineFact, disclose
from backchannel.services import access, negotiation
from backchannel.services.access import FACILITATOR, MEMBER, OBSERVER, Actor, Seat
from backchannel.services.dialogues import (
    DialogueView,
    name_of,
    read_agenda,
    seat_view,
    title_of,
)
from backchannel.services.platform import DialogueKeys, Platform
from backchannel.storage import repo
from backchannel.storage.db import Session
from backchannel.storage.tables import (
    DelegationRow,
    DialogueRow,
    EvaluationRow,
    PositionRow,
    ReleaseRow,
    RoundRow,
    as_utc,
    utcnow,
)

STATES = ("draft", "locked", "evaluated", "disclosed")
OBSERVERS = "observers"


@dataclass(frozen=True)
class RoundView:
    """A round as everyone in the dialogue sees it."""

    id: str
    number: int
    state: str
    evaluations_allowed: int
    evaluations_used: int


@dataclass(frozen=True)
class PositionView:
    """A side's position in one round (the own side, or the facilitator for absent ones)."""

    round_number: int
    revision: int
    updated_at: datetime
    position: Position


@dataclass(frozen=True)
class ReleaseView:
    """A finding released to an audience (``audience`` is named for the facilitator only)."""

    id: str
    round_number: int
    released_at: datetime
    disclosed: Disclosed
    audience: str | None = None


@dataclass(frozen=True)
class LogLine:
    """One audit entry as a seat may read it."""

    seq: int
    at: datetime
    action: str
    mine: bool


def _round_view(row: RoundRow) -> RoundView:
    return RoundView(row.id, row.number, row.state, row.evaluations_allowed, row.evaluations_used)


def rounds(platform: Platform, actor: Actor, dialogue_id: str) -> list[RoundView]:
    """The rounds of a dialogue (everyone with a seat sees them)."""
    with platform.view() as s:
        access.seat(s, actor, dialogue_id)
        return [_round_view(r) for r in repo.rounds(s, dialogue_id)]


def overview(
    platform: Platform, actor: Actor, dialogue_id: str
) -> tuple[DialogueView, list[RoundView]]:
    """The dialogue as the actor's seat sees it and its rounds, from one snapshot."""
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        found = [_round_view(r) for r in repo.rounds(s, dialogue_id)]
        return seat_view(platform, s, place), found


def _current(s: Session, dialogue_id: str) -> RoundRow:
    found = repo.rounds(s, dialogue_id)
    if not found:
        raise NotAllowedNow("no round is open yet", hint="the facilitator opens the first round")
    return found[-1]


def _facilitator(platform: Platform, s: Session, actor: Actor, dialogue_id: str) -> Seat:
    place = access.seat(s, actor, dialogue_id)
    access.require(place, FACILITATOR)
    return place


def open_round(platform: Platform, actor: Actor, dialogue_id: str) -> RoundView:
    """Open the next round as a draft; positions carry over from the round before."""
    with platform.unit() as s:
        _facilitator(platform, s, actor, dialogue_id)
        repo.lock_dialogue(s, dialogue_id)
        dialogue = repo.get(s, DialogueRow, dialogue_id)
        assert dialogue is not None
        previous = repo.rounds(s, dialogue_id)
        if previous and previous[-1].state in ("draft", "locked"):
            raise NotAllowedNow(
                f"round {previous[-1].number} is still {previous[-1].state}",
                hint="evaluate it before opening the next round",
            )
        row = RoundRow(
            dialogue_id=dialogue_id,
            number=len(previous) + 1,
            state="draft",
            evaluations_allowed=dialogue.evaluations_per_round,
            evaluations_used=0,
        )
        repo.add(s, row)
        if previous:
            keys = platform.keys(s, dialogue_id)
            for d in repo.delegations(s, dialogue_id):
                old = repo.position(s, previous[-1].id, d.id)
                if old is not None:
                    body = keys.open("positions", "body", old.id, old.body_ct)
                    _store(s, keys, row, d.id, Position.model_validate(body), revision=0)
        platform.log(
            s,
            "round.opened",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            target=row.id,
            audience="all",
            detail={"round": row.number},
        )
        return _round_view(row)


def _move(
    platform: Platform, actor: Actor, dialogue_id: str, start: tuple[str, ...], end: str
) -> RoundView:
    with platform.unit() as s:
        _facilitator(platform, s, actor, dialogue_id)
        repo.lock_dialogue(s, dialogue_id)
        row = _current(s, dialogue_id)
        if row.state not in start:
            raise NotAllowedNow(f"round {row.number} is {row.state}; it cannot become {end}")
        row.state = end
        platform.log(
            s,
            f"round.{end}",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            target=row.id,
            audience="all",
            detail={"round": row.number},
        )
        return _round_view(row)


def lock_round(platform: Platform, actor: Actor, dialogue_id: str) -> RoundView:
    """Lock the current draft round: positions freeze and can be evaluated."""
    return _move(platform, actor, dialogue_id, ("draft",), "locked")


def unlock_round(platform: Platform, actor: Actor, dialogue_id: str) -> RoundView:
    """Return a locked round that was not evaluated to draft (e.g. a side had not saved)."""
    return _move(platform, actor, dialogue_id, ("locked",), "draft")


def _store(
    s: Session,
    keys: DialogueKeys,
    row: RoundRow,
    delegation_id: str,
    position: Position,
    revision: int,
) -> PositionRow:
    found = repo.position(s, row.id, delegation_id)
    if found is None:
        found = PositionRow(
            dialogue_id=row.dialogue_id,
            round_id=row.id,
            delegation_id=delegation_id,
            revision=revision,
            body_ct=b"",
        )
        repo.add(s, found)
    else:
        found.revision += 1
        found.updated_at = utcnow()
    found.body_ct = keys.seal("positions", "body", found.id, position.model_dump(mode="json"))
    return found


def _position_target(s: Session, place: Seat, delegation_id: str | None) -> DelegationRow:
    """The delegation whose position the seat may read and write, or NotFound.

    A member: their own delegation only. The facilitator: absent stakeholders only
    (whose public red lines they enter); never a delegation's private position.
    """
    if place.role == MEMBER:
        own = access.own_delegation(place)
        if delegation_id not in (None, own):
            raise NotFound()
        target = own
    elif place.role == FACILITATOR and delegation_id is not None:
        target = delegation_id
    else:
        raise NotFound()
    row = access.owned(s, place, DelegationRow, target)
    if place.role == FACILITATOR and row.role != "absent":
        raise NotFound()
    return row


@dataclass(frozen=True)
class _Checked:
    """What a position was checked against: if all of it still holds, the check holds."""

    place: Seat
    target: DelegationRow
    round_id: str
    agenda_ct: bytes
    monotone: bool


def _check_position(
    platform: Platform,
    s: Session,
    actor: Actor,
    dialogue_id: str,
    position: Position,
    delegation_id: str | None,
) -> tuple[_Checked, DialogueKeys, RoundRow]:
    """Every check of :func:`save_position` (seat, target, agenda, round, red lines)."""
    place = access.seat(s, actor, dialogue_id)
    target = _position_target(s, place, delegation_id)
    dialogue = repo.get(s, DialogueRow, dialogue_id)
    assert dialogue is not None
    keys = platform.keys(s, dialogue_id)
    agenda = read_agenda(keys, dialogue)
    check_position(agenda, position)
    found = repo.rounds(s, dialogue_id)
    if not found:
        raise NotAllowedNow("no round is open yet", hint="the facilitator opens the first round")
    row = found[-1]
    if row.state != "draft":
        raise NotAllowedNow(
            f"round {row.number} is {row.state}: positions are frozen",
            hint="wait for the facilitator to open the next round",
        )
    if dialogue.monotone_red_lines and row.number > 1:
        old = repo.position(s, found[-2].id, target.id)
        if old is not None:
            before = Position.model_validate(keys.open("positions", "body", old.id, old.body_ct))
            problems = tightened(prune(agenda, before), position)
            if problems:
                raise NotAllowedNow(
                    "red lines may only loosen in this dialogue: " + "; ".join(problems),
                    hint="keep or relax the red lines of the previous round",
                )
    checked = _Checked(place, target, row.id, dialogue.agenda_ct, dialogue.monotone_red_lines)
    return checked, keys, row


def _still_holds(s: Session, checked: _Checked, actor: Actor, dialogue_id: str) -> RoundRow | None:
    """The current round if nothing the check depended on has changed since; else None.

    Positions of earlier rounds never change, so the monotone check holds as long as
    the round, the agenda and the setting are the same.
    """
    if access.seat(s, actor, dialogue_id) != checked.place:
        return None
    dialogue = repo.get(s, DialogueRow, dialogue_id)
    if dialogue is None or (dialogue.agenda_ct, dialogue.monotone_red_lines) != (
        checked.agenda_ct,
        checked.monotone,
    ):
        return None
    row = _current(s, dialogue_id)
    return row if row.id == checked.round_id and row.state == "draft" else None


def save_position(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    position: Position,
    delegation_id: str | None = None,
) -> PositionView:
    """Record a side's position in the current draft round.

    The position is checked (seat, agenda, round state, monotone red lines) in a read
    snapshot first, so a refused position never waits for the write lock and the
    lock is held only for the write and its audit entry. Inside the write transaction
    the seat is checked again and the round and agenda are compared with what the
    check saw; if anything changed in between, every check runs again there.
    """
    with platform.view() as s:
        checked, keys, _ = _check_position(platform, s, actor, dialogue_id, position, delegation_id)
    with platform.unit() as s:
        repo.lock_dialogue(s, dialogue_id)
        row = _still_holds(s, checked, actor, dialogue_id)
        if row is None:  # something changed since the check: check again, under the lock
            checked, keys, row = _check_position(
                platform, s, actor, dialogue_id, position, delegation_id
            )
        target = checked.target
        stored = _store(s, keys, row, target.id, position, revision=1)
        platform.log(
            s,
            "position.saved",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            audience=target.id if target.role == "delegation" else "facilitator",
        )
        return PositionView(row.number, stored.revision, stored.updated_at, position)


def positions(
    platform: Platform, actor: Actor, dialogue_id: str, delegation_id: str | None = None
) -> list[PositionView]:
    """A side's positions, round by round (own side; the facilitator for absent ones)."""
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        target = _position_target(s, place, delegation_id)
        keys = platform.keys(s, dialogue_id)
        dialogue = repo.get(s, DialogueRow, dialogue_id)
        assert dialogue is not None
        agenda = read_agenda(keys, dialogue)
        numbers = {r.id: r.number for r in repo.rounds(s, dialogue_id)}
        out = []
        for row in repo.positions_of(s, dialogue_id, target.id):
            body = Position.model_validate(keys.open("positions", "body", row.id, row.body_ct))
            out.append(
                PositionView(
                    numbers[row.round_id], row.revision, row.updated_at, prune(agenda, body)
                )
            )
        return sorted(out, key=lambda v: v.round_number)


# ------------------------------------------------------------------ evaluation
def _findings(agenda: Agenda, sides: list[Side], title: str, time_limit: float) -> Findings:
    case = build_case(title, agenda, sides)
    problem = compile_case(case, "<dialogue>")
    loaded = negotiation.Loaded("<dialogue>", case, problem)
    over = negotiation.overview_of(loaded, time_limit=time_limit)
    ids = {i.name: i.id for i in agenda.issues}
    issue_ids = [ids[d.name] for d in problem.issues]
    described = {r.id: r.description for party in case.parties for r in party.red_lines}
    facts = {
        c.id: RedLineFact(
            side=[s.name for s in sides].index(c.party),
            text=described.get(c.id) or ("walk-away level" if c.is_utility else c.text),
            firmness=c.firmness,
            stated=c.stated,
        )
        for c in problem.constraints
    }
    viable = {
        issue_ids[i]: [problem.issues[i].labels[o] for o in opts]
        for i, opts in enumerate(over.zone.viable)
    }
    overlap = {issue_ids[m.issue]: m.has_overlap for m in over.redlines}
    blocked = {
        issue_ids[m.issue]: {
            problem.issues[m.issue].labels[st.option]: list(st.blocked_by) for st in m.options
        }
        for m in over.redlines
    }
    packages: dict[str, dict[str, str]] = {}
    utilities: dict[str, dict[str, float]] = {}
    partial_packages: dict[str, dict[str, str]] = {}
    on = over.settled_on
    for rule, settlement in over.settlements.items():
        if settlement.package is None:
            continue
        chosen = on.package_labels(settlement.package)
        target = partial_packages if over.partial_issues else packages
        target[rule.value] = chosen
        utilities[rule.value] = dict(zip(on.utility_parties, settlement.utilities, strict=True))
    conflicts = over.conflicts
    frontier: list[list[float]] = []
    if over.zone.exists and len(problem.utility_parties) == 2:
        from backchannel.solvers import engine

        front = engine.frontier(problem, time_limit=time_limit)
        frontier = [list(p.utilities) for p in front.points]
    return Findings(
        sides=[s.name for s in sides],
        zone=over.zone.exists,
        admissible_count=over.zone.count,
        issues={i.id: i.name for i in agenda.issues},
        options={i.id: list(i.options) for i in agenda.issues},
        viable=viable,
        overlap=overlap,
        blocked=blocked,
        red_lines=facts,
        conflict_sets=[list(c.constraint_ids) for c in conflicts.conflict_sets]
        if conflicts
        else [],
        relaxations=[(list(r.constraint_ids), r.cost) for r in conflicts.relaxations]
        if conflicts
        else [],
        packages=packages,
        utilities=utilities,
        partial_issues=[ids[name] for name in over.partial_issues],
        partial_packages=partial_packages,
        frontier=frontier,
    )


def _evaluable(s: Session, dialogue_id: str) -> RoundRow:
    row = _current(s, dialogue_id)
    if row.state not in ("locked", "evaluated"):
        raise NotAllowedNow(
            f"round {row.number} is {row.state}: only a locked round is evaluated",
            hint="lock the round first" if row.state == "draft" else None,
        )
    if row.evaluations_used >= row.evaluations_allowed:
        raise NotAllowedNow(
            f"the {row.evaluations_allowed} evaluation(s) of round {row.number} are used",
            hint="open a new round",
        )
    return row


def _inputs(
    s: Session, keys: DialogueKeys, row: RoundRow, agenda: Agenda
) -> tuple[list[Side], list[tuple[str, int]]]:
    """Every side of the round, and the (position, revision) pairs they were read from."""
    sides, versions = [], []
    for d in repo.delegations(s, row.dialogue_id):
        found = repo.position(s, row.id, d.id)
        if found is None and d.role == "delegation":
            raise NotAllowedNow(
                f"delegation {name_of(keys, d)!r} has not recorded a position in this round",
                hint="unlock the round so that it can, then lock it again",
            )
        body = Position()
        if found is not None:
            body = Position.model_validate(keys.open("positions", "body", found.id, found.body_ct))
            versions.append((found.id, found.revision))
        sides.append(
            Side(name=name_of(keys, d), absent=d.role == "absent", position=prune(agenda, body))
        )
    return sides, versions


def evaluate(platform: Platform, actor: Actor, dialogue_id: str) -> str:
    """Run one rationed evaluation of the locked round; returns its id.

    The inputs are read in one snapshot, the engine runs outside any transaction, and
    the result is written only if the round, its ration and every position are still
    as they were read (so two concurrent requests cannot exceed the ration).
    """
    with platform.view() as s:
        _facilitator(platform, s, actor, dialogue_id)
        row = _evaluable(s, dialogue_id)
        dialogue = repo.get(s, DialogueRow, dialogue_id)
        assert dialogue is not None
        keys = platform.keys(s, dialogue_id)
        agenda = read_agenda(keys, dialogue)
        sides, versions = _inputs(s, keys, row, agenda)
        title, round_id, used = title_of(keys, dialogue), row.id, row.evaluations_used
    findings = _findings(agenda, sides, title, platform.settings.evaluation_time_limit)
    with platform.unit() as s:
        _facilitator(platform, s, actor, dialogue_id)
        repo.lock_dialogue(s, dialogue_id)
        row = _evaluable(s, dialogue_id)
        now = [(p.id, p.revision) for p in repo.positions_in(s, round_id)]
        if row.id != round_id or row.evaluations_used != used or sorted(now) != sorted(versions):
            raise NotAllowedNow(
                "the round changed while it was being evaluated", hint="reload and try again"
            )
        evaluation = EvaluationRow(dialogue_id=dialogue_id, round_id=row.id, result_ct=b"")
        repo.add(s, evaluation)
        evaluation.result_ct = keys.seal(
            "evaluations", "result", evaluation.id, findings.model_dump(mode="json")
        )
        row.evaluations_used += 1
        row.state = "evaluated"
        platform.log(
            s,
            "round.evaluated",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            target=evaluation.id,
            audience="all",
            detail={
                "round": row.number,
                "evaluation": row.evaluations_used,
                "of": row.evaluations_allowed,
            },
        )
        return evaluation.id


@dataclass(frozen=True)
class EvaluationView:
    """The facilitator's whole picture of an evaluation, with the side ids."""

    id: str
    round_number: int
    findings: Findings
    side_ids: list[str]
    created_at: datetime


def evaluations(platform: Platform, actor: Actor, dialogue_id: str) -> list[EvaluationView]:
    """Every evaluation of the dialogue, newest first (facilitator only)."""
    with platform.view() as s:
        _facilitator(platform, s, actor, dialogue_id)
        keys = platform.keys(s, dialogue_id)
        side_ids = [d.id for d in repo.delegations(s, dialogue_id)]
        out = []
        for r in repo.rounds(s, dialogue_id):
            for e in repo.evaluations(s, r.id):
                body = Findings.model_validate(
                    keys.open("evaluations", "result", e.id, e.result_ct)
                )
                out.append(
                    EvaluationView(e.id, r.number, body, side_ids[: len(body.sides)], e.created_at)
                )
        return list(reversed(out))


def release(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    evaluation_id: str,
    audience: str,
    kind: str,
    parameter: str = "",
) -> str:
    """Release one finding of an evaluation to a delegation (or ``observers``)."""
    with platform.unit() as s:
        place = _facilitator(platform, s, actor, dialogue_id)
        try:
            chosen = Kind(kind)
        except ValueError:
            raise InputError(
                f"unknown disclosure {kind!r}", hint=", ".join(k.value for k in Kind)
            ) from None
        repo.lock_dialogue(s, dialogue_id)
        evaluation = access.owned(s, place, EvaluationRow, evaluation_id)
        row = repo.get(s, RoundRow, evaluation.round_id)
        assert row is not None
        if row.state not in ("evaluated", "disclosed"):
            raise NotAllowedNow("findings are released after the evaluation of a round")
        if row.id != _current(s, dialogue_id).id:
            raise NotAllowedNow("findings of an earlier round can no longer be released")
        keys = platform.keys(s, dialogue_id)
        findings = Findings.model_validate(
            keys.open("evaluations", "result", evaluation.id, evaluation.result_ct)
        )
        delegations = list(repo.delegations(s, dialogue_id))
        if audience == OBSERVERS:
            side = None
        else:
            target = access.owned(s, place, DelegationRow, audience)
            if target.role != "delegation":
                raise InputError("releases go to a delegation at the table or to the observers")
            side = [d.id for d in delegations].index(target.id)
        record = disclose(findings, chosen, parameter, side)
        row_out = ReleaseRow(
            dialogue_id=dialogue_id, round_id=row.id, audience=audience, body_ct=b""
        )
        repo.add(s, row_out)
        row_out.body_ct = keys.seal("releases", "body", row_out.id, record.model_dump(mode="json"))
        row.state = "disclosed"
        platform.log(
            s,
            "finding.released",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            target=row_out.id,
            audience=audience,
            detail={"round": row.number},
        )
        return row_out.id


def released_to_me(platform: Platform, actor: Actor, dialogue_id: str) -> list[ReleaseView]:
    """What the facilitator released to the seat's audience (own delegation, or observers)."""
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        if place.role == MEMBER:
            audiences = [access.own_delegation(place)]
        elif place.role == OBSERVER:
            audiences = [OBSERVERS]
        else:
            audiences = [d.id for d in repo.delegations(s, dialogue_id)] + [OBSERVERS]
        keys = platform.keys(s, dialogue_id)
        numbers = {r.id: r.number for r in repo.rounds(s, dialogue_id)}
        names = {OBSERVERS: "the observers"}
        if place.is_facilitator:
            names.update({d.id: name_of(keys, d) for d in repo.delegations(s, dialogue_id)})
        return [
            ReleaseView(
                r.id,
                numbers[r.round_id],
                r.released_at,
                Disclosed.model_validate(keys.open("releases", "body", r.id, r.body_ct)),
                names.get(r.audience) if place.is_facilitator else None,
            )
            for r in repo.releases(s, dialogue_id, audiences)
        ]


LOG_PAGE = 100
"""Log entries a page shows (the API's default ``limit``)."""


def log(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    *,
    limit: int | None = None,
    before: int | None = None,
) -> list[LogLine]:
    """The dialogue's log as the seat may read it: shared entries, plus the own side's.

    Newest first; the ``limit`` newest (all when None) of those numbered below
    ``before``. The facilitator sees the global sequence numbers (for checkpoints); a
    side sees its entries numbered 1, 2, ... so that gaps cannot count what it may not
    see, and pages by those numbers.
    """
    if (limit is not None and limit < 1) or (before is not None and before < 1):
        raise InputError("a log page needs a limit and a 'before' of at least 1")
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        if place.is_facilitator:
            audiences: list[str] | None = None
        elif place.role == MEMBER:
            audiences = ["all", access.own_delegation(place)]
        else:
            audiences = ["all"]
        if audiences is None:
            entries = repo.audit_entries(s, dialogue_id, None, limit=limit, before_seq=before)
            numbers = [seq for seq, *_ in entries]
        else:
            total = repo.audit_count(s, dialogue_id, audiences)
            skip = 0 if before is None else max(0, total - before + 1)
            entries = repo.audit_entries(s, dialogue_id, audiences, limit=limit, offset=skip)
            numbers = list(range(total - skip, total - skip - len(entries), -1))
    me = actor.user_id
    return [
        LogLine(number, as_utc(at), action, actor_id == me)
        for number, (_, at, action, actor_id) in zip(numbers, entries, strict=True)
    ]
