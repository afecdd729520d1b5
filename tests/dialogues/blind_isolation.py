"""Blind dialogues in the isolation state machine (a mixin of ``IsolationMachine``).

The model keeps, per blind dialogue, its nodes (a delegation's or a helper; the live
token, the fingerprint; the tokens replaced) and its computations (the parties by
index, which are ready, what each posted, the state, what was opened). Rules register
and replace nodes as anyone, ask the nodes for a finding as anyone, play the node API
with any node's token (ready, a result, a failure, another party's index, another
dialogue's computation) and release opened findings as anyone to any audiences.

The sweep reads the nodes, the computations and the progress as every seat, tries the
blind writes a seat may not make (asking, releasing, registering, replacing another
dialogue's or a delegation's node), and calls the node API as every node of every blind
dialogue, and with every replaced token, against every computation of every dialogue: a
computation of another dialogue, or one the node is no party of, answers exactly like a
missing one (``NotFound``); what a node may read (its waiting list, the session
document) equals the model.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import rule

from backchannel.blind.plan import MAX_DELEGATIONS, MAX_HELPERS, MIN_DELEGATIONS, Finding
from backchannel.errors import BackchannelError, InputError, NotAllowedNow, NotFound
from backchannel.model.disclosure import Disclosed, blind_disclosed
from backchannel.services import computations, nodes
from backchannel.services.access import FACILITATOR, MEMBER
from backchannel.services.computations import Opened
from backchannel.services.releases import OBSERVERS
from blind_world import certificate

FINDINGS = [f.value for f in Finding]
BLIND = Counter[str]()
"""What the blind rules did in one run (asked, opened, failed, released, replaced),
checked at the end: the flow must go beyond the set-up."""
BOGUS_COMPUTATION = "no-such-computation-" + "x" * 6


@functools.cache
def pems() -> tuple[str, ...]:
    """A few node certificates (PEM), made once per test run."""
    return tuple(certificate(f"isolation-node-{k}")[0] for k in range(3))


@dataclass
class NodeModel:
    id: str
    delegation: str | None  # None: a helper
    token: str
    fingerprint: str
    ordinal: int


@dataclass
class ComputationModel:
    id: str
    round: int
    finding: str
    sizes: list[int]
    parties: list[str]  # node ids, by party index
    planned: Opened  # what honest nodes open (the rules sometimes post something else)
    ready: set[int] = field(default_factory=set)
    results: dict[int, Opened | None] = field(default_factory=dict)  # None: failed
    state: str = "waiting"
    opened: Opened | None = None

    def counts(self) -> tuple[int, int, int]:
        """Parties, how many are ready, how many posted."""
        return len(self.parties), len(self.ready), len(self.results)


@dataclass
class BlindModel:
    nodes: list[NodeModel] = field(default_factory=list)
    computations: list[ComputationModel] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # tokens that no longer work


def opened_for(data: st.DataObject, finding: str, sizes: list[int]) -> Opened:
    """A well-formed opened finding for ``finding`` on issues of ``sizes`` options."""
    if finding == "overlap":
        flags = data.draw(st.lists(st.booleans(), min_size=len(sizes), max_size=len(sizes)))
        return Opened(tuple(flags), None, None)
    exists = data.draw(st.booleans(), label="exists")
    package = None
    if finding in ("nash", "random") and exists:
        package = tuple(data.draw(st.integers(0, n - 1), label="option") for n in sizes)
    return Opened(None, exists, package)


def shown(v: computations.ComputationView) -> tuple[object, ...]:
    """What the facilitator's list says of a computation (its failure aside)."""
    return (v.id, v.round_number, v.finding, v.state, v.parties, v.ready, v.posted, v.opened)


class BlindIsolation:
    """Rules and checks of blind dialogues, on the machine's ``p``, ``actors``, ``d`` and
    ``blind`` (dialogue key: :class:`BlindModel`), with its helpers (``record``,
    ``pick_actor``) and the module's ``attempt`` and ``same``."""

    p: Any
    actors: Any
    d: Any
    blind: dict[str, BlindModel]
    attempt: Any
    same: Any
    record: Any
    pick_actor: Any
    pick_dialogue: Any
    every_delegation: Any
    release_model: Any  # the machine module's ReleaseModel

    # ---------------------------------------------------------- the model's views
    def ordered_nodes(self, d: Any) -> list[NodeModel]:
        """The nodes in the session's order (their party indices): the delegations' at the
        table in the dialogue's order, then the helpers by ordinal."""
        b = self.blind[d.key]
        by_side = {n.delegation: n for n in b.nodes if n.delegation is not None}
        out = [by_side[x.id] for x in d.delegations if not x.absent and x.id in by_side]
        return out + sorted((n for n in b.nodes if n.delegation is None), key=lambda n: n.ordinal)

    def every_computation(self) -> list[tuple[str, ComputationModel | None, str]]:
        """(dialogue key, computation, id) of every computation, and a bogus one."""
        out: list[tuple[str, ComputationModel | None, str]] = [
            (key, c, c.id) for key, b in self.blind.items() for c in b.computations
        ]
        return [*out, ("", None, BOGUS_COMPUTATION)]

    def every_node(self) -> list[tuple[str, NodeModel]]:
        return [(key, n) for key, b in self.blind.items() for n in b.nodes]

    def caller(self, key: str, n: NodeModel) -> nodes.NodeCaller:
        """The node as the node API sees it (its token checked against the model)."""
        found = self.attempt(
            f"node {n.id} of {key}: authenticate",
            None,
            lambda: nodes.authenticate(self.p, f"Bearer {n.token}"),
        )
        self.same(
            f"node {n.id} of {key}: caller",
            found,
            nodes.NodeCaller(n.id, self.d[key].id, n.delegation),
        )
        return found  # type: ignore[no-any-return]

    def blind_blocked(self, d: Any) -> bool:
        """Whether asking the nodes of ``d`` for a finding is refused (NotAllowedNow)."""
        b = self.blind[d.key]
        current = d.rounds[-1] if d.rounds else None
        at_table = [x for x in d.delegations if not x.absent]
        with_node = {n.delegation for n in b.nodes}
        return (
            current is None
            or current.state not in ("locked", "evaluated")
            or current.used >= current.allowed
            or len(b.computations) >= d.cap
            or not d.issues
            or any(x.id not in with_node for x in at_table)
            or None not in with_node
            or not MIN_DELEGATIONS <= len(at_table) <= MAX_DELEGATIONS
        )

    # ---------------------------------------------------------- modelled writes
    def do_register(self, d: Any, name: str, replaces: str | None = None, pem: int = 0) -> None:
        seat = d.seats.get(name)
        b = self.blind.get(d.key)
        own: NodeModel | None = None
        expected: type[BackchannelError] | None
        if seat is None or seat.role not in (FACILITATOR, MEMBER):
            expected = NotFound
        elif b is None:
            expected = NotAllowedNow  # not a blind dialogue
        elif seat.role == MEMBER:
            expected = InputError if replaces is not None else None
            own = next((n for n in b.nodes if n.delegation == seat.delegation), None)
        elif replaces is not None:
            own = next((n for n in b.nodes if n.id == replaces and n.delegation is None), None)
            expected = None if own is not None else NotFound
        else:
            helpers = sum(n.delegation is None for n in b.nodes)
            expected = NotAllowedNow if helpers >= MAX_HELPERS else None
        made = self.attempt(
            f"{name} registers a node in {d.key} (replacing {replaces})",
            expected,
            lambda: nodes.register(
                self.p,
                self.actors[name],
                d.id,
                pems()[pem],
                "192.0.2.10",
                40000 + pem,
                replaces=replaces,
            ),
        )
        if expected is not None:
            return
        assert b is not None
        audience = "all" if seat.role == FACILITATOR else seat.delegation
        if own is not None:
            self.same(f"{name} replaces a node in {d.key}", made.id, own.id)
            b.replaced.append(own.token)
            BLIND["replaced"] += 1
            own.token, own.fingerprint = made.token, made.fingerprint
            self.record(d, ("node.replaced", audience, name))
            return
        helpers = [n.ordinal for n in b.nodes if n.delegation is None]
        ordinal = 1 + max(helpers, default=0)
        b.nodes.append(NodeModel(made.id, seat.delegation, made.token, made.fingerprint, ordinal))
        self.record(d, ("node.registered", audience, name))

    def do_request(self, d: Any, name: str, finding: str, data: st.DataObject) -> None:
        if not d.is_facilitator(name):
            expected: type[BackchannelError] | None = NotFound
        elif not d.blind or self.blind_blocked(d):
            expected = NotAllowedNow
        else:
            expected = None
        found = self.attempt(
            f"{name} asks the nodes of {d.key} for {finding}",
            expected,
            lambda: computations.request(self.p, self.actors[name], d.id, finding),
        )
        if expected is None:
            current = d.rounds[-1]
            current.used += 1
            current.state = "evaluated"
            sizes = [len(options) for _, _, options in d.issues]
            parties = [n.id for n in self.ordered_nodes(d)]
            planned = opened_for(data, finding, sizes)
            model = ComputationModel(found, current.number, finding, sizes, parties, planned)
            self.blind[d.key].computations.append(model)
            BLIND["asked"] += 1
            self.record(d, (f"blind.{finding}", "all", name))

    def _party(self, key: str, n: NodeModel, ckey: str, c: ComputationModel | None) -> int | None:
        """The node's index in the computation, None when it is not of it (NotFound)."""
        if c is None or ckey != key or n.id not in c.parties:
            return None
        return c.parties.index(n.id)

    def do_ready(
        self, key: str, n: NodeModel, ckey: str, c: ComputationModel | None, cid: str, bad: bool
    ) -> None:
        """Node ``n`` says it is ready (``bad``: a helper that posts links)."""
        index = self._party(key, n, ckey, c)
        links = [[0, 1]] if (n.delegation is not None or bad) and c and len(c.sizes) > 1 else []
        expected: type[BackchannelError] | None
        if index is None or c is None:
            expected = NotFound
        elif c.state != "waiting":
            expected = None if c.state == "running" and index in c.ready else NotAllowedNow
        elif n.delegation is None and links:
            expected = InputError
        else:
            expected = None
        caller = self.caller(key, n)
        state = self.attempt(
            f"node {n.id} of {key} is ready for {cid} of {ckey}",
            expected,
            lambda: computations.ready(self.p, caller, cid, links),
        )
        if expected is None:
            assert c is not None and index is not None
            if c.state == "waiting":
                c.ready.add(index)
                if len(c.ready) == len(c.parties):
                    c.state = "running"
            self.same(f"{cid}: state after ready", state, c.state)

    def do_post(
        self,
        key: str,
        n: NodeModel,
        ckey: str,
        c: ComputationModel | None,
        cid: str,
        index: int,
        opened: Opened | None,
    ) -> None:
        """Node ``n`` posts ``opened`` (None: a failure) as party ``index``."""
        own = self._party(key, n, ckey, c)
        expected: type[BackchannelError] | None
        if own is None or c is None:
            expected = NotFound
        elif index != own:
            expected = InputError
        elif own in c.results or c.state != "running":
            expected = NotAllowedNow
        else:
            expected = None
        caller = self.caller(key, n)
        failed = None if opened is not None else "the node stopped"
        state = self.attempt(
            f"node {n.id} of {key} posts {opened} as party {index} to {cid} of {ckey}",
            expected,
            lambda: computations.post_result(self.p, caller, cid, index, opened, failed),
        )
        if expected is not None:
            return
        assert c is not None and own is not None
        c.results[own] = opened
        if opened is None:
            c.state = "failed"
        elif len(c.results) == len(c.parties):
            answers = list(c.results.values())
            c.state = "opened" if all(a == answers[0] for a in answers) else "failed"
            c.opened = answers[0] if c.state == "opened" else None
        if c.state in ("opened", "failed"):
            BLIND[c.state] += 1
            self.record(self.d[key], (f"blind.{c.state}", "all", ""))
        self.same(f"{cid}: state after a result", state, c.state)

    def blind_record(self, d: Any, c: ComputationModel, issue: int | None) -> Disclosed | None:
        """What releasing ``c`` tells (None: InputError, the issue is missing)."""
        assert c.opened is not None
        issues = [(n, options) for _, n, options in d.issues]
        o = c.opened
        try:
            return blind_disclosed(c.finding, o.overlap, o.exists, o.package, issues, issue)
        except InputError:
            return None

    def do_blind_release(
        self, d: Any, name: str, cid: str, audiences: list[str], issue: int | None
    ) -> None:
        b = self.blind.get(d.key)
        c = next((c for c in b.computations if c.id == cid), None) if b else None
        record: Disclosed | None = None
        chosen = list(dict.fromkeys(audiences))
        expected: type[BackchannelError] | None
        if not d.is_facilitator(name):
            expected = NotFound
        elif b is None:
            expected = NotAllowedNow
        elif c is None:
            expected = NotFound
        elif c.state != "opened" or c.round != d.rounds[-1].number:
            expected = NotAllowedNow
        elif (record := self.blind_record(d, c, issue)) is None:
            expected = InputError
        else:
            expected = None
            for audience in chosen:
                side = d.delegation(audience)
                if audience != OBSERVERS and side is None:
                    expected = NotFound
                    break
                if side is not None and side.absent:
                    expected = InputError
                    break
            told = [
                r for r in d.releases if r.round == c.round and r.audience in chosen
            ]  # the same record to an audience, in this round: refused
            if expected is None and any(r.record == record for r in told):
                expected = NotAllowedNow
        made = self.attempt(
            f"{name} releases {cid} to {audiences} (issue {issue}) in {d.key}",
            expected,
            lambda: computations.release(self.p, self.actors[name], d.id, cid, audiences, issue),
        )
        if expected is not None:
            return
        assert c is not None and record is not None
        self.same(f"{name} releases {cid}: how many", len(made), len(chosen))
        for release_id, audience in zip(made, chosen, strict=True):
            d.releases.append(self.release_model(release_id, c.round, audience, record))
            BLIND["released"] += 1
            self.record(d, ("finding.released", audience, name))

    def finish(
        self, key: str, c: ComputationModel, data: st.DataObject, honest: bool = False
    ) -> None:
        """The nodes of an unfinished computation do what is left: those not ready get
        ready, then those that have not posted post what was planned, but the last one
        may fail, or open something else (the results then differ), unless ``honest``."""
        by_id = {n.id: n for n in self.blind[key].nodes}
        for index in sorted(set(range(len(c.parties))) - c.ready):
            self.do_ready(key, by_id[c.parties[index]], key, c, c.id, False)
        how = 0 if honest else data.draw(st.integers(0, 9), label="how the last node ends")
        left = sorted(set(range(len(c.parties))) - set(c.results))
        for index in left:
            opened: Opened | None = c.planned
            if index == left[-1] and how == 8:
                opened = None  # the node failed
            elif index == left[-1] and how == 9:
                opened = opened_for(data, c.finding, c.sizes)  # may differ from the others
            self.do_post(key, by_id[c.parties[index]], key, c, c.id, index, opened)

    def advance_blind(self, data: st.DataObject, d: Any, facilitator: str) -> None:
        """The next natural step of a blind dialogue's round (as ``advance`` for a clear one,
        whose checks of the agenda, the parties and the rounds come first)."""
        b = self.blind[d.key]
        current = d.rounds[-1] if d.rounds else None
        if current is None or current.state == "draft":
            if current is None:
                self.do_open(d, facilitator)  # type: ignore[attr-defined]
            else:
                self.do_lock(d, facilitator)  # type: ignore[attr-defined]
            return
        unfinished = [c for c in b.computations if c.state in ("waiting", "running")]
        if unfinished:
            self.finish(d.key, unfinished[0], data)
            return
        at_table = [x for x in d.delegations if not x.absent]
        with_node = {n.delegation for n in b.nodes}
        missing = [x for x in at_table if x.id not in with_node]
        if missing:
            members = [n for n, s in d.seats.items() if s.delegation == missing[0].id]
            if members:
                self.do_register(d, members[0])
            else:
                free = [n for n in self.actors if n not in d.seats]
                if free:
                    self.do_add_member(d, facilitator, free[0], MEMBER, missing[0].id, "expert")  # type: ignore[attr-defined]
            return
        if None not in with_node:
            self.do_register(d, facilitator, pem=1)
            return
        ours = [c for c in b.computations if c.round == current.number]
        opened = [c for c in ours if c.state == "opened"]
        if current.state == "locked" or (current.used < current.allowed and not opened):
            finding = data.draw(st.sampled_from(FINDINGS), label="finding")
            self.do_request(d, facilitator, finding, data)
        elif opened and not any(r.round == current.number for r in d.releases):
            c = opened[-1]
            sides = [x.id for x in at_table]
            audiences = data.draw(
                st.lists(st.sampled_from([*sides, OBSERVERS]), min_size=1, max_size=3),
                label="audiences",
            )
            issue = data.draw(st.integers(0, len(c.sizes) - 1), label="issue")
            self.do_blind_release(d, facilitator, c.id, audiences, issue)
        else:
            self.do_open(d, facilitator)  # type: ignore[attr-defined]

    # ---------------------------------------------------------- rules
    @rule(data=st.data(), action=st.sampled_from(["register", "ask", "node", "release"]))
    def blind_write(self, data: st.DataObject, action: str) -> None:
        """Anyone registers or replaces a node, asks the nodes, releases a computation to
        any audiences, in any dialogue; or any node calls the node API about any
        computation (its own dialogue's mostly)."""
        if action == "node":
            self.node_call(data)
            return
        d = self.pick_dialogue(data)
        name = self.pick_actor(data, d)
        if action == "register":
            replaces = None
            if data.draw(st.booleans(), label="replace"):
                ids = [n.id for _, n in self.every_node()] + [BOGUS_COMPUTATION]
                replaces = data.draw(st.sampled_from(ids), label="replaces")
            self.do_register(d, name, replaces, data.draw(st.integers(0, 2), label="pem"))
        elif action == "ask":
            self.do_request(d, name, data.draw(st.sampled_from(FINDINGS), label="finding"), data)
        else:
            pool = self.every_computation()
            own = [x for x in pool if x[0] == d.key]
            if own and data.draw(st.booleans(), label="own computation"):
                pool = own
            _, _, cid = data.draw(st.sampled_from(pool), label="computation")
            audiences = data.draw(
                st.lists(
                    st.sampled_from([OBSERVERS, *self.every_delegation()]), min_size=1, max_size=3
                ),
                label="audiences",
            )
            issue = data.draw(st.none() | st.integers(0, 3), label="issue")
            self.do_blind_release(d, name, cid, audiences, issue)

    def node_call(self, data: st.DataObject) -> None:
        """A node says it is ready, posts a result or a failure, or another party's index."""
        every = self.every_node()
        key, n = data.draw(st.sampled_from(every), label="node")
        pool = self.every_computation()
        own = [x for x in pool if x[0] == key]
        if own and data.draw(st.booleans(), label="own dialogue"):
            pool = own
        ckey, c, cid = data.draw(st.sampled_from(pool), label="computation")
        step = data.draw(st.sampled_from(["ready", "post", "fail", "wrong index"]), label="step")
        if step == "ready":
            self.do_ready(key, n, ckey, c, cid, data.draw(st.booleans(), label="bad links"))
            return
        index = self._party(key, n, ckey, c)
        if step == "wrong index" or index is None:
            index = data.draw(st.integers(0, 4), label="index")
        opened = None if step == "fail" else (c.planned if c else Opened(None, True, None))
        self.do_post(key, n, ckey, c, cid, index, opened)

    # ---------------------------------------------------------- the sweep
    def check_blind(self, d: Any, name: str) -> None:
        """The blind reads of ``name`` in ``d`` equal the model; the blind writes it may
        not make are refused exactly as the model says."""
        actor, seat, who = self.actors[name], d.seats.get(name), f"{name} in {d.key}"
        fac = d.is_facilitator(name)
        b = self.blind.get(d.key)
        seen = seat is not None and seat.role in (FACILITATOR, MEMBER)
        listed = self.attempt(
            f"{who}: nodes",
            NotFound if not seen else (None if b else NotAllowedNow),
            lambda: nodes.nodes(self.p, actor, d.id),
        )
        if seen and b is not None:
            ordered = self.ordered_nodes(d)
            expected = [
                (n.id, k, n.delegation, n.fingerprint)
                for k, n in enumerate(ordered)
                if fac or n.delegation in (None, seat.delegation)
            ]
            self.same(
                f"{who}: nodes",
                [(n.id, n.index, n.delegation_id, n.fingerprint) for n in listed],
                expected,
            )
        only_fac = NotFound if not fac else (None if b else NotAllowedNow)
        found = self.attempt(
            f"{who}: computations",
            only_fac,
            lambda: computations.computations(self.p, actor, d.id),
        )
        if fac and b is not None:
            self.same(
                f"{who}: computations",
                [shown(v) for v in found],
                [
                    (c.id, c.round, c.finding, c.state, *c.counts(), c.opened)
                    for c in reversed(b.computations)
                ],
            )
            self.same(
                f"{who}: why the computations failed",
                [v.failed is not None for v in found],
                [c.state == "failed" for c in reversed(b.computations)],
            )
        progress = self.attempt(
            f"{who}: blind progress",
            only_fac,
            lambda: computations.progress(self.p, actor, d.id),
        )
        if fac and b is not None:
            current = d.rounds[-1].number if d.rounds else None
            asked = [c for c in b.computations if c.round == current]
            self.same(
                f"{who}: blind progress",
                (progress.with_node, progress.helpers, progress.asked, progress.opened),
                (
                    sum(n.delegation is not None for n in self.ordered_nodes(d)),
                    sum(n.delegation is None for n in b.nodes),
                    bool(asked),
                    any(c.state == "opened" for c in asked),
                ),
            )
        # in a clear dialogue the facilitator's blind writes are all NotAllowedNow ("not
        # blind"), and anyone else's NotFound whatever the object: one of each is enough
        every = self.every_computation() if b else self.every_computation()[:1]
        if not fac:
            self.attempt(
                f"{who}: ask the nodes",
                NotFound,
                lambda: computations.request(self.p, actor, d.id, "exists"),
            )
            for _, _, cid in every:
                self.attempt(
                    f"{who}: release {cid}",
                    NotFound,
                    lambda cid=cid: computations.release(self.p, actor, d.id, cid, [OBSERVERS], 0),
                )
            if not seen:
                self.attempt(
                    f"{who}: register a node",
                    NotFound,
                    lambda: nodes.register(self.p, actor, d.id, pems()[0], "192.0.2.1", 9),
                )
            return
        if b is None:
            return
        for ckey, _, cid in every:
            if ckey != d.key:
                self.attempt(
                    f"{who}: release a foreign computation {cid}",
                    NotFound,
                    lambda cid=cid: computations.release(self.p, actor, d.id, cid, [OBSERVERS], 0),
                )
        mine = {n.id for n in b.nodes}
        for key, n in self.every_node():
            if n.id in mine and n.delegation is None:
                continue  # the facilitator's own helper: replacing it is allowed
            self.attempt(
                f"{who}: replace node {n.id} of {key}",
                NotFound,
                lambda n=n: nodes.register(
                    self.p, actor, d.id, pems()[0], "192.0.2.1", 9, replaces=n.id
                ),
            )
        current = d.rounds[-1].number if d.rounds else None
        ready = [c for c in b.computations if c.state == "opened" and c.round == current]
        foreign = [x for x in self.every_delegation() if d.delegation(x) is None]  # type: ignore[attr-defined]
        for c in ready[-1:]:
            for target in foreign:
                self.attempt(
                    f"{who}: release {c.id} to a foreign delegation {target}",
                    NotFound,
                    lambda c=c, target=target: computations.release(
                        self.p, actor, d.id, c.id, [target], 0
                    ),
                )

    def check_node_api(self) -> None:
        """Every node of every blind dialogue against every computation; replaced tokens."""
        every = self.every_computation()
        for key, b in self.blind.items():
            for token in b.replaced:
                self.attempt(
                    f"a replaced token of {key}",
                    nodes.NodeTokenRefused,
                    lambda token=token: nodes.authenticate(self.p, f"Bearer {token}"),
                )
            for n in b.nodes:
                caller = self.caller(key, n)
                waiting = self.attempt(
                    f"node {n.id} of {key}: waiting",
                    None,
                    lambda caller=caller: computations.waiting_for(self.p, caller),
                )
                self.same(
                    f"node {n.id} of {key}: waiting",
                    [(w["id"], w["finding"], w["state"], w["index"], w["ready"]) for w in waiting],
                    [
                        (c.id, c.finding, c.state, i, i in c.ready)
                        for c in b.computations
                        if c.state in ("waiting", "running")
                        and n.id in c.parties
                        and (i := c.parties.index(n.id)) not in c.results
                    ],
                )
                for ckey, c, cid in every:
                    self.check_session(key, n, caller, ckey, c, cid)

    def check_session(
        self,
        key: str,
        n: NodeModel,
        caller: nodes.NodeCaller,
        ckey: str,
        c: ComputationModel | None,
        cid: str,
    ) -> None:
        """The session document of ``cid`` as node ``n``; writes to a computation it is no
        party of are NotFound, a result as another party of its own is InputError."""
        who = f"node {n.id} of {key}, computation {cid} of {ckey}"
        index = self._party(key, n, ckey, c)
        if index is None or c is None:
            expected: type[BackchannelError] | None = NotFound
        else:
            expected = None if c.state == "running" else NotAllowedNow
        doc = self.attempt(
            f"{who}: session", expected, lambda: computations.session(self.p, caller, cid)
        )
        if expected is None:
            assert c is not None
            d = self.d[key]
            of = {m.id: m for m in self.blind[key].nodes}
            self.same(
                f"{who}: session",
                (
                    (doc["computation"], doc["dialogue"], doc["round"], doc["finding"]),
                    [(p["index"], p["party"], p["fingerprint"]) for p in doc["parties"]],
                ),
                (
                    (c.id, d.id, c.round, c.finding),
                    [(k, of[n].delegation, of[n].fingerprint) for k, n in enumerate(c.parties)],
                ),
            )
        if index is not None and c is not None:
            other = (index + 1) % len(c.parties)  # another party's turn: refused, named
            self.attempt(
                f"{who}: result as party {other}",
                InputError,
                lambda: computations.post_result(self.p, caller, cid, other, c.planned, None),
            )
            return
        self.attempt(f"{who}: ready", NotFound, lambda: computations.ready(self.p, caller, cid, []))
        self.attempt(
            f"{who}: result",
            NotFound,
            lambda: computations.post_result(
                self.p, caller, cid, 0, Opened(None, True, None), None
            ),
        )
