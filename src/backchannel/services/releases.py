"""Releases: what the facilitator decides each side (or the observers) learns.

A side learns only what the facilitator releases to it, as records made by the pure
:func:`backchannel.model.disclosure.disclose` from an evaluation of the current
round (releasing one moves the round to ``disclosed``), or, through :func:`deliver`, a
finding of the escalation watch (the round's state stays as it is).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from backchannel.errors import InputError, NotAllowedNow
from backchannel.messages import t_
from backchannel.model.disclosure import ESCALATION_KINDS, Disclosed, Kind, disclose
from backchannel.services import access
from backchannel.services.access import MEMBER, OBSERVER, Actor
from backchannel.services.dialogues import current_round, name_of
from backchannel.services.evaluations import read_findings
from backchannel.services.platform import DialogueKeys, Platform
from backchannel.storage import repo
from backchannel.storage.db import Session
from backchannel.storage.tables import DelegationRow, EvaluationRow, ReleaseRow, RoundRow

OBSERVERS = "observers"
"""The audience of a release to the observers (any other audience is a delegation id)."""


@dataclass(frozen=True)
class ReleaseView:
    """A finding released to an audience (``audience`` is named for the facilitator only:
    a delegation's name, or "" for the observers, whom each page names in its language)."""

    id: str
    round_number: int
    released_at: datetime
    disclosed: Disclosed
    audience: str | None = None


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
        place = access.facilitator(s, actor, dialogue_id)
        try:
            chosen = Kind(kind)
            if chosen in ESCALATION_KINDS:
                raise ValueError(kind)
        except ValueError:
            raise InputError(
                t_("unknown disclosure {kind}", kind=repr(kind)),
                hint=t_(
                    "choose one of: {choices}",
                    choices=", ".join(k.value for k in Kind if k not in ESCALATION_KINDS),
                ),
            ) from None
        repo.lock_dialogue(s, dialogue_id)
        evaluation = access.owned(s, place, EvaluationRow, evaluation_id)
        row = repo.get(s, RoundRow, evaluation.round_id)
        assert row is not None
        if row.state not in ("evaluated", "disclosed"):
            raise NotAllowedNow(t_("findings are released after the evaluation of a round"))
        if row.id != current_round(s, dialogue_id).id:
            raise NotAllowedNow(t_("findings of an earlier round can no longer be released"))
        keys = platform.keys(s, dialogue_id)
        findings = read_findings(keys, evaluation)
        delegations = list(repo.delegations(s, dialogue_id))
        if audience == OBSERVERS:
            side = None
        else:
            target = access.owned(s, place, DelegationRow, audience)
            if target.role != "delegation":
                raise InputError(t_("releases go to a delegation at the table or to the observers"))

            side = [d.id for d in delegations].index(target.id)
        record = disclose(findings, chosen, parameter, side)
        row.state = "disclosed"
        return _store(platform, s, keys, actor, row, audience, record)


def deliver(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    audience: str,
    record: Disclosed,
) -> str:
    """Release a finding made elsewhere (the escalation watch's) to one delegation at the
    table or to the observers, in the current round, once; the round's state does not
    change. The release's id (see :func:`deliver_each`, which it runs in its own unit).

    Raises
    ------
    NotFound
        The actor does not facilitate the dialogue, or the delegation is not of it.
    InputError
        The audience is not a delegation at the table.
    NotAllowedNow
        No round is open yet, or the delegation was told the same in this round.
    """
    with platform.unit() as s:
        place = access.facilitator(s, actor, dialogue_id)
        repo.lock_dialogue(s, dialogue_id)
        return deliver_each(platform, s, place, actor, [audience], record)[0]


def deliver_each(
    platform: Platform,
    s: Session,
    place: access.Seat,
    actor: Actor,
    audiences: Sequence[str],
    record: Disclosed,
) -> list[str]:
    """Release ``record`` to each audience in the caller's unit (the facilitator's seat
    checked, the dialogue locked): every audience is checked before any is told, and a
    refusal (a foreign delegation: NotFound; an absent stakeholder: InputError; a repeat:
    NotAllowedNow) rolls the whole unit back, so a refused release tells no one. The
    releases' ids, in the order of ``audiences`` (repeats dropped)."""
    chosen = list(dict.fromkeys(audiences))
    for audience in chosen:
        if audience != OBSERVERS:
            target = access.owned(s, place, DelegationRow, audience)
            if target.role != "delegation":
                raise InputError(t_("releases go to a delegation at the table or to the observers"))
    row = current_round(s, place.dialogue_id)
    keys = platform.keys(s, place.dialogue_id)
    return [_store(platform, s, keys, actor, row, audience, record) for audience in chosen]


def _store(
    platform: Platform,
    s: Session,
    keys: DialogueKeys,
    actor: Actor,
    row: RoundRow,
    audience: str,
    record: Disclosed,
) -> str:
    """Seal ``record`` for ``audience`` in round ``row`` (once per round) and log it."""
    dialogue_id = row.dialogue_id
    _refuse_repeat(keys, repo.releases(s, dialogue_id, [audience]), row.id, record)
    row_out = ReleaseRow(dialogue_id=dialogue_id, round_id=row.id, audience=audience, body_ct=b"")
    repo.add(s, row_out)
    row_out.body_ct = keys.seal("releases", "body", row_out.id, record.model_dump(mode="json"))
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


def _refuse_repeat(
    keys: DialogueKeys, earlier: Sequence[ReleaseRow], round_id: str, record: Disclosed
) -> None:
    """NotAllowedNow when the audience was already told ``record`` in this round."""
    for found in earlier:
        if found.round_id != round_id:
            continue
        told = Disclosed.model_validate(keys.open("releases", "body", found.id, found.body_ct))
        if told == record:
            raise NotAllowedNow(
                t_("this finding was already released to this audience in this round"),
                hint=t_(
                    "each audience sees it once; release another finding, or wait for "
                    "the next round"
                ),
            )


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
        names = {OBSERVERS: ""}
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
