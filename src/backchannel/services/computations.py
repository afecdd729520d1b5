"""Computations of a blind dialogue: a finding the facilitator asks the nodes for.

The facilitator asks for one finding (:class:`~backchannel.blind.plan.Finding`) of the
current locked round; it is refused, with the reason, before anything starts when a
delegation has no node, when no helper is registered, when the plan is refused (too many
packages: with the estimate), or when the round's evaluation ration is spent (a
computation counts as an evaluation). Every request is written to every side's log.

Then the nodes take over, through the node API: each delegation's node publishes the
issue sets its conditions link (:func:`ready`); once every node is ready the session
document (:func:`session`) tells them the agenda, the links and their peers; each node
posts its result (:func:`post_result`). States: ``waiting`` (for the nodes to be ready),
``running``, then ``opened`` when every party posted the same opened finding, or
``failed``: a node posted a failure, the results differ (nothing is shown), or the
deadline (``Settings.blind_deadline_s``) passed. The opened finding is sealed, shown to
the facilitator only, and released through
:func:`backchannel.services.releases.deliver_each` (every audience or none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from backchannel.blind.plan import (
    MAX_DELEGATIONS,
    MIN_DELEGATIONS,
    PACKAGE_LIMIT,
    Finding,
    Plan,
    make_plan,
)
from backchannel.blind.pruning import public_pruning
from backchannel.errors import AnalysisError, InputError, NotAllowedNow, NotFound
from backchannel.formats.case_data import parse_case
from backchannel.messages import t_
from backchannel.model.dialogue import Position, Side, agenda_document, prune
from backchannel.model.disclosure import blind_disclosed
from backchannel.services import access, releases
from backchannel.services.access import Actor
from backchannel.services.checklist import BlindProgress
from backchannel.services.dialogues import current_round, name_of, read_agenda, title_of
from backchannel.services.evaluations import evaluable, spend_evaluation
from backchannel.services.nodes import NodeCaller, NodeView, blind_dialogue, views
from backchannel.services.platform import DialogueKeys, Platform
from backchannel.services.positions import read_position
from backchannel.storage import repo
from backchannel.storage.db import Session
from backchannel.storage.tables import BlindComputationRow, DialogueRow, RoundRow, as_utc, utcnow

FORMAT = "backchannel-blind-session/1"
MAX_LINKS = 256
"""The most issue sets one node may publish."""
MAX_REASON = 500
"""The longest failure reason a node may post (characters)."""
UNFINISHED = ("waiting", "running")


@dataclass(frozen=True)
class Opened:
    """What the nodes opened (the fields of ``backchannel.blind.protocol.Opened``)."""

    overlap: tuple[bool, ...] | None
    exists: bool | None
    package: tuple[int, ...] | None


@dataclass(frozen=True)
class ComputationView:
    """A computation as the facilitator sees it."""

    id: str
    round_number: int
    finding: str
    state: str
    requested_at: datetime
    deadline: datetime
    parties: int
    ready: int
    posted: int
    opened: Opened | None
    failed: str | None


def state_of(row: BlindComputationRow, now: datetime | None = None) -> str:
    """The computation's state; an unfinished one past its deadline has failed."""
    if row.state in UNFINISHED and (now or utcnow()) > as_utc(row.deadline):
        return "failed"
    return row.state


def _body(keys: DialogueKeys, row: BlindComputationRow) -> dict[str, Any]:
    body: dict[str, Any] = keys.open("blind_computations", "body", row.id, row.body_ct)
    return body


def _seal(keys: DialogueKeys, row: BlindComputationRow, body: dict[str, Any]) -> None:
    row.body_ct = keys.seal("blind_computations", "body", row.id, body)


def _opened(found: dict[str, Any] | None) -> Opened | None:
    if found is None:
        return None
    overlap, package = found.get("overlap"), found.get("package")
    return Opened(
        None if overlap is None else tuple(overlap),
        found.get("exists"),
        None if package is None else tuple(package),
    )


# ------------------------------------------------------------------ the facilitator
def _public_agenda(
    s: Session, keys: DialogueKeys, dialogue: DialogueRow, round_id: str
) -> dict[str, Any]:
    """The agenda a session document carries: the issues and the absent stakeholders with
    their stated red lines of the round (public to every side)."""
    agenda = read_agenda(keys, dialogue)
    absent = []
    for d in repo.delegations(s, dialogue.id):
        if d.role != "absent":
            continue
        found = repo.position(s, round_id, d.id)
        position = Position() if found is None else read_position(keys, found)
        absent.append(Side(name=name_of(keys, d), absent=True, position=prune(agenda, position)))
    return agenda_document(title_of(keys, dialogue), agenda, absent)


def _kept(public: dict[str, Any]) -> tuple[tuple[int, ...], ...]:
    """The options the nodes will enumerate after public pruning (as ``parse_session``)."""
    if not public.get("parties"):
        return ()
    try:
        return public_pruning(parse_case(public, "agenda"), "agenda")
    except InputError:
        return ()  # the nodes refuse such an agenda themselves, with its reason


def _plan(
    finding: Finding,
    sizes: tuple[int, ...],
    delegations: int,
    helpers: int,
    kept: tuple[tuple[int, ...], ...] = (),
) -> Plan:
    """The checked plan (``kept``: the options public pruning leaves, as the nodes will
    derive them), or NotAllowedNow with the reason in the reader's language."""
    if not MIN_DELEGATIONS <= delegations <= MAX_DELEGATIONS:
        raise NotAllowedNow(
            t_(
                "blind mode needs {low} to {high} delegations at the table; this dialogue has {n}",
                low=MIN_DELEGATIONS,
                high=MAX_DELEGATIONS,
                n=delegations,
            )
        )
    try:
        return make_plan(finding, sizes, delegations, helpers, kept=kept)
    except AnalysisError:
        unchecked = Plan(finding, sizes, delegations, helpers, kept=kept)
        size, seconds = unchecked.packages, unchecked.estimate_seconds
        raise NotAllowedNow(
            t_(
                "the nodes would enumerate {size} packages for this finding, more than its "
                "limit of {limit} (estimated {seconds} s)",
                size=f"{size:,}",
                limit=f"{PACKAGE_LIMIT.get(finding, 0):,}",
                seconds=f"{seconds:,.0f}",
            ),
            hint=t_("ask for the per-issue overlap, or evaluate a shorter agenda"),
        ) from None


def _check_parties(
    s: Session, keys: DialogueKeys, dialogue_id: str, found: list[NodeView]
) -> tuple[int, int]:
    """The numbers of delegations and helpers, or NotAllowedNow naming what is missing."""
    at_table = [d for d in repo.delegations(s, dialogue_id) if d.role == "delegation"]
    with_node = {n.delegation_id for n in found}
    for d in at_table:
        if d.id not in with_node:
            raise NotAllowedNow(
                t_("delegation {name} has not registered its node", name=repr(name_of(keys, d))),
                hint=t_("a member of that delegation registers it on the Blind page"),
            )
    helpers = sum(n.kind == "helper" for n in found)
    if helpers < 1:
        raise NotAllowedNow(
            t_(
                "no helper node is registered: with the delegations' nodes alone the secret "
                "sharing has no threshold (with two parties each share is the value itself), "
                "so each side could read the others' inputs"
            ),
            hint=t_("register a helper node run by an institution every side trusts"),
        )
    return len(at_table), helpers


def request(platform: Platform, actor: Actor, dialogue_id: str, finding: str) -> str:
    """Ask the nodes for one finding of the current locked round (facilitator); its id.

    Raises
    ------
    InputError
        An unknown finding.
    NotAllowedNow
        Not a blind dialogue, the round not locked, the ration spent, a delegation
        without a node, no helper, or a plan refused (with the estimate).
    """
    try:
        chosen = Finding(finding)
    except ValueError:
        raise InputError(
            t_("unknown finding {finding}", finding=repr(finding)),
            hint=t_("choose one of: {choices}", choices=", ".join(f.value for f in Finding)),
        ) from None
    with platform.unit() as s:
        access.facilitator(s, actor, dialogue_id)
        repo.lock_dialogue(s, dialogue_id)
        dialogue = blind_dialogue(s, dialogue_id)
        row = evaluable(s, dialogue)
        keys = platform.keys(s, dialogue_id)
        agenda = read_agenda(keys, dialogue)
        if not agenda.issues:
            raise NotAllowedNow(t_("the agenda has no issues yet"))
        found = views(s, keys, dialogue_id)
        delegations, helpers = _check_parties(s, keys, dialogue_id, found)
        sizes = tuple(len(i.options) for i in agenda.issues)
        public = _public_agenda(s, keys, dialogue, row.id)
        _plan(chosen, sizes, delegations, helpers, _kept(public))
        now = utcnow()
        computation = BlindComputationRow(
            dialogue_id=dialogue_id,
            round_id=row.id,
            finding=chosen.value,
            state="waiting",
            requested_at=now,
            deadline=now + timedelta(seconds=platform.settings.blind_deadline_s),
            body_ct=b"",
        )
        repo.add(s, computation)
        body = {
            "sizes": list(sizes),
            "parties": [{"index": n.index, "node": n.id} for n in found],
            "ready": {},
            "results": {},
            "opened": None,
            "failed": None,
        }
        _seal(keys, computation, body)
        action = f"blind.{chosen.value}"
        spend_evaluation(platform, s, row, actor, action, computation.id, finding=chosen.value)
        return computation.id


def computations(platform: Platform, actor: Actor, dialogue_id: str) -> list[ComputationView]:
    """Every computation of the dialogue, newest first (facilitator only)."""
    with platform.view() as s:
        access.facilitator(s, actor, dialogue_id)
        blind_dialogue(s, dialogue_id)
        keys = platform.keys(s, dialogue_id)
        numbers = {r.id: r.number for r in repo.rounds(s, dialogue_id)}
        out = []
        for row in repo.blind_computations(s, dialogue_id):
            body = _body(keys, row)
            state = state_of(row)
            failed = body["failed"]
            if state == "failed" and failed is None:
                failed = "the nodes did not finish before the deadline"
            out.append(
                ComputationView(
                    row.id,
                    numbers[row.round_id],
                    row.finding,
                    state,
                    as_utc(row.requested_at),
                    as_utc(row.deadline),
                    len(body["parties"]),
                    len(body["ready"]),
                    len(body["results"]),
                    _opened(body["opened"]) if state == "opened" else None,
                    failed,
                )
            )
        return list(reversed(out))


def release(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    computation_id: str,
    audiences: list[str],
    issue: int | None = None,
) -> list[str]:
    """Release an opened finding of the current round to each audience (a delegation at
    the table or ``observers``) through :func:`releases.deliver_each`; the releases' ids.

    One transaction: a refused audience (another dialogue's delegation, an absent
    stakeholder, one already told) tells no audience, and the round cannot move on
    between the checks and the release.

    ``issue`` is the index of the issue whose overlap is released (``overlap`` only).
    """
    if not audiences:
        raise InputError(t_("no audience was chosen"), hint=t_("tick who is told the finding"))
    with platform.unit() as s:
        place = access.facilitator(s, actor, dialogue_id)
        repo.lock_dialogue(s, dialogue_id)
        dialogue = blind_dialogue(s, dialogue_id)
        row = access.owned(s, place, BlindComputationRow, computation_id)
        if state_of(row) != "opened":
            raise NotAllowedNow(t_("only an opened finding can be released"))
        if row.round_id != current_round(s, dialogue_id).id:
            raise NotAllowedNow(t_("findings of an earlier round can no longer be released"))
        keys = platform.keys(s, dialogue_id)
        opened = _opened(_body(keys, row)["opened"])
        assert opened is not None
        agenda = read_agenda(keys, dialogue)
        issues = [(i.name, list(i.options)) for i in agenda.issues]
        record = blind_disclosed(
            row.finding, opened.overlap, opened.exists, opened.package, issues, issue
        )
        return releases.deliver_each(platform, s, place, actor, audiences, record)


def progress(platform: Platform, actor: Actor, dialogue_id: str) -> BlindProgress:
    """Where the nodes and the current round's computations stand (facilitator)."""
    with platform.view() as s:
        access.facilitator(s, actor, dialogue_id)
        blind_dialogue(s, dialogue_id)
        found = views(s, platform.keys(s, dialogue_id), dialogue_id)
        rounds_ = repo.rounds(s, dialogue_id)
        current = rounds_[-1].id if rounds_ else None
        asked = [r for r in repo.blind_computations(s, dialogue_id) if r.round_id == current]
        return BlindProgress(
            sum(n.kind == "delegation" for n in found),
            sum(n.kind == "helper" for n in found),
            bool(asked),
            any(state_of(r) == "opened" for r in asked),
        )


# ------------------------------------------------------------------ the nodes
def _computation(s: Session, caller: NodeCaller, computation_id: str) -> BlindComputationRow:
    """One computation of the caller's dialogue, else NotFound (like a missing one)."""
    row = repo.get(s, BlindComputationRow, computation_id)
    if row is None or row.dialogue_id != caller.dialogue_id:
        raise NotFound()
    return row


def _index(body: dict[str, Any], caller: NodeCaller) -> int:
    """The caller's party index in a computation, else NotFound."""
    for party in body["parties"]:
        if party["node"] == caller.node_id:
            return int(party["index"])
    raise NotFound()


def waiting_for(platform: Platform, caller: NodeCaller) -> list[dict[str, Any]]:
    """The unfinished computations of the node's dialogue in which it takes part and has
    not posted its result, oldest first."""
    with platform.view() as s:
        keys = platform.keys(s, caller.dialogue_id)
        numbers = {r.id: r.number for r in repo.rounds(s, caller.dialogue_id)}
        out = []
        for row in repo.blind_computations(s, caller.dialogue_id):
            state = state_of(row)
            if state not in UNFINISHED:
                continue
            body = _body(keys, row)
            try:
                index = _index(body, caller)
            except NotFound:
                continue
            if str(index) in body["results"]:
                continue
            out.append(
                {
                    "id": row.id,
                    "round": numbers[row.round_id],
                    "finding": row.finding,
                    "state": state,
                    "index": index,
                    "ready": str(index) in body["ready"],
                    "deadline": as_utc(row.deadline),
                }
            )
        return out


def _checked_links(links: list[list[int]], issues: int, helper: bool) -> list[list[int]]:
    """The issue sets, each checked (in range, at least two distinct), sorted."""
    if helper and links:
        raise InputError(t_("a helper node has no conditions: it posts no links"))
    if len(links) > MAX_LINKS:
        raise InputError(t_("at most {n} issue sets may be linked", n=MAX_LINKS))
    out = []
    for k, link in enumerate(links):
        if len(set(link)) != len(link) or not 2 <= len(link) <= issues:
            raise InputError(
                t_(
                    "links[{k}]: an issue set names 2 or more different issues",
                    k=k,
                ),
            )
        if any(not 0 <= i < issues for i in link):
            raise InputError(
                t_("links[{k}]: issue indices go from 0 to {last}", k=k, last=issues - 1)
            )
        out.append(sorted(link))
    return sorted(out)


def ready(
    platform: Platform, caller: NodeCaller, computation_id: str, links: list[list[int]]
) -> str:
    """The node is ready; a delegation's node publishes the issue sets its conditions
    link (a helper's none). Returns the computation's state (``running`` once every node
    is ready)."""
    with platform.unit() as s:
        repo.lock_dialogue(s, caller.dialogue_id)
        row = _computation(s, caller, computation_id)
        keys = platform.keys(s, caller.dialogue_id)
        body = _body(keys, row)
        index = _index(body, caller)
        state = state_of(row)
        if state != "waiting":
            if state == "running" and body["ready"].get(str(index)) is not None:
                return state  # every node was ready already: nothing changes
            raise NotAllowedNow(
                t_("this computation is {state}: readiness is no longer taken", state=state)
            )
        body["ready"][str(index)] = _checked_links(
            links, len(body["sizes"]), caller.delegation_id is None
        )
        if len(body["ready"]) == len(body["parties"]):
            row.state = "running"
        _seal(keys, row, body)
        return row.state


def session(platform: Platform, caller: NodeCaller, computation_id: str) -> dict[str, Any]:
    """The session document of a computation (``backchannel-blind-session/1``), once
    every node is ready (NotAllowedNow before, and after it ended)."""
    with platform.view() as s:
        row = _computation(s, caller, computation_id)
        keys = platform.keys(s, caller.dialogue_id)
        body = _body(keys, row)
        _index(body, caller)
        state = state_of(row)
        if state == "waiting":
            raise NotAllowedNow(
                t_(
                    "not every node is ready yet ({ready} of {parties})",
                    ready=len(body["ready"]),
                    parties=len(body["parties"]),
                ),
                hint=t_("ask again in a few seconds"),
            )
        if state != "running":
            raise NotAllowedNow(t_("this computation is {state}", state=state))
        dialogue = blind_dialogue(s, caller.dialogue_id)
        public = _public_agenda(s, keys, dialogue, row.round_id)
        nodes = {n.id: n for n in views(s, keys, caller.dialogue_id)}
        number = next(r.number for r in repo.rounds(s, caller.dialogue_id) if r.id == row.round_id)
        parties = []
        for party in body["parties"]:
            node = nodes.get(party["node"])
            if node is None:
                raise NotFound()
            parties.append(
                {
                    "index": party["index"],
                    "kind": node.kind,
                    "party": node.delegation_id,
                    "label": node.label,
                    "host": node.host,
                    "port": node.port,
                    "certificate": node.certificate,
                    "fingerprint": node.fingerprint,
                }
            )
    links = sorted({tuple(link) for posted in body["ready"].values() for link in posted})
    return {
        "format": FORMAT,
        "computation": row.id,
        "dialogue": caller.dialogue_id,
        "round": number,
        "finding": row.finding,
        "agenda": public,
        "links": [list(link) for link in links],
        "parties": parties,
    }


def _checked_opened(finding: str, sizes: list[int], opened: Opened) -> dict[str, Any]:
    """The opened finding as stored, checked against the finding's form."""
    wrong = InputError(
        t_("opened: not the form of finding {finding}", finding=finding),
        hint=t_(
            "overlap: one boolean per issue; exists and redlines: exists; nash and random: "
            "exists and, when it is true, one option index per issue"
        ),
    )
    if finding == "overlap":
        if opened.overlap is None or len(opened.overlap) != len(sizes) or opened.package:
            raise wrong
        return {"overlap": list(opened.overlap), "exists": None, "package": None}
    if opened.exists is None or opened.overlap is not None:
        raise wrong
    package = None
    if finding in ("nash", "random") and opened.exists:
        if opened.package is None or len(opened.package) != len(sizes):
            raise wrong
        if any(not 0 <= o < n for o, n in zip(opened.package, sizes, strict=True)):
            raise InputError(t_("opened.package: an option index is out of range"))
        package = list(opened.package)
    elif opened.package is not None:
        raise wrong
    return {"overlap": None, "exists": opened.exists, "package": package}


def post_result(
    platform: Platform,
    caller: NodeCaller,
    computation_id: str,
    index: int,
    opened: Opened | None,
    failed: str | None,
) -> str:
    """A node's result (opened, or the reason it failed); the computation's state after.

    Each index posts once. When a node failed the computation has failed; when every
    party posted, it is ``opened`` if all opened the same, else ``failed`` (nothing is
    shown). Past the deadline the computation has failed and the result is not taken.
    """
    if (opened is None) == (failed is None):
        raise InputError(t_("a result holds either “opened” or “failed”"))
    with platform.unit() as s:
        repo.lock_dialogue(s, caller.dialogue_id)
        row = _computation(s, caller, computation_id)
        keys = platform.keys(s, caller.dialogue_id)
        body = _body(keys, row)
        if index != _index(body, caller):
            raise InputError(t_("index: this node is party {index}", index=_index(body, caller)))
        if str(index) in body["results"]:
            raise NotAllowedNow(t_("this node has already posted its result"))
        state = state_of(row)
        if state == "failed" and row.state in UNFINISHED:
            _end(platform, s, keys, row, body, "the nodes did not finish before the deadline")
            return "failed"
        if state != "running":
            raise NotAllowedNow(
                t_("this computation is {state}: no result is taken", state=state),
                hint=t_("a result is posted after the session started")
                if state == "waiting"
                else None,
            )
        if failed is not None:
            body["results"][str(index)] = {"failed": failed[:MAX_REASON]}
            _end(platform, s, keys, row, body, f"party {index} failed: {failed[:MAX_REASON]}")
            return "failed"
        assert opened is not None
        body["results"][str(index)] = {
            "opened": _checked_opened(row.finding, body["sizes"], opened)
        }
        if len(body["results"]) < len(body["parties"]):
            _seal(keys, row, body)
            return row.state
        answers = [r.get("opened") for r in body["results"].values()]
        if all(a == answers[0] for a in answers):
            body["opened"] = answers[0]
            _end(platform, s, keys, row, body, None)
            return "opened"
        _end(platform, s, keys, row, body, "the nodes' results differ: nothing is opened")
        return "failed"


def _end(
    platform: Platform,
    s: Session,
    keys: DialogueKeys,
    row: BlindComputationRow,
    body: dict[str, Any],
    failed: str | None,
) -> None:
    """Mark a computation opened (``failed`` None) or failed, seal it, log it for all."""
    row.state = "opened" if failed is None else "failed"
    body["failed"] = failed
    _seal(keys, row, body)
    round_row = repo.get(s, RoundRow, row.round_id)
    assert round_row is not None
    platform.log(
        s,
        f"blind.{row.state}",
        dialogue_id=row.dialogue_id,
        target=row.id,
        audience="all",
        detail={"round": round_row.number, "finding": row.finding},
    )
