"""A blind round end to end: the server, over HTTP, and three or five real nodes over pinned
TLS (two delegations' and one helper's, or three helpers': 5 parties tolerate 2 colluders).

The facilitator asks for the recommended package of a locked round of a blind dialogue;
each delegation's node (its position sealed in its own folder, never sent) and the
helper's node follow `backchannel node connect --once` (the service it runs): they say
they are ready, fetch the session document, compute together and post what they opened.
The server then holds the same package as the clear engine on the same positions, and
nothing of either position ever reached it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from backchannel.blind.run import split_case
from backchannel.model.compile import compile_case
from backchannel.model.dialogue import Agenda, AgendaIssue, Side, build_case
from backchannel.model.results import SettlementRule
from backchannel.services import computations, node, node_link, nodes
from backchannel.services.platform import Platform
from backchannel.solvers import engine
from backchannel.storage.tables import PositionRow
from blind_world import BlindWorld, build_blind
from conftest import World

from .conftest import live_server, position_a, position_b

PASSPHRASE = "the node's own passphrase"
CANARY = "CANARY-9c41-said-only-on-node-A"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _positions(world: BlindWorld) -> tuple[Agenda, dict[str, Side]]:
    """The blind dialogue's agenda (as ``build_blind`` made it) and the sides' positions."""
    i1, i2 = world.issues
    agenda = Agenda(
        issues=[
            AgendaIssue(
                id=i1, name="Ceasefire", kind="ordered", options=["none", "partial", "full"]
            ),
            AgendaIssue(id=i2, name="Sanctions", kind="ordered", options=["keep", "ease", "lift"]),
        ]
    )
    as_world = World.__new__(World)
    as_world.issues = [i1, i2]  # the illustrative positions only read the issue ids
    sides = {
        "a": Side(name="Side A", position=position_a(as_world, note=CANARY)),
        "b": Side(name="Side B", position=position_b(as_world)),
    }
    return agenda, sides


@pytest.fixture(params=[1, 3], ids=["3 nodes", "5 nodes"])
def nodes_ready(
    platform: Platform, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[BlindWorld, dict[str, Path], Agenda]:
    """A locked blind round with its registered nodes (the delegations' and one or three
    helpers'), each with its own folder."""
    world = build_blind(platform, nodes_too=False)
    agenda, sides = _positions(world)
    folders = {}
    seats = {"a": world.actors["a1"], "b": world.actors["b1"]}
    helpers = ["helper", *(f"helper{k}" for k in range(2, request.param + 1))]
    seats |= dict.fromkeys(helpers, world.actors["facilitator"])
    for who, actor in seats.items():
        folder = tmp_path / who
        identity = node.init(folder)
        made = nodes.register(
            platform,
            actor,
            world.dialogue_id,
            identity.cert_path.read_text(encoding="utf-8"),
            "127.0.0.1",
            _free_port(),
        )
        world.tokens[who] = made.token
        folders[who] = folder
        if who in sides:
            side = tmp_path / f"{who}.json"
            case = split_case(build_case("Blind talks", agenda, list(sides.values())))
            case = case[list(sides).index(who)]  # the agenda and this side alone
            side.write_text(case.model_dump_json(by_alias=True, exclude_none=True))
            node.store_position(folder, side, PASSPHRASE)
            side.unlink()
    return world, folders, agenda


def _follow(origin: str, folder: Path, token: str) -> Callable[[], list[node_link.Outcome]]:
    coordinator = node_link.Coordinator(origin, token)
    return lambda: node_link.take_part(folder, coordinator, lambda: PASSPHRASE, poll=0.1)


def test_the_nodes_answer_the_facilitator_through_the_server(
    platform: Platform, app: FastAPI, nodes_ready: tuple[BlindWorld, dict[str, Path], Agenda]
) -> None:
    world, folders, agenda = nodes_ready
    f, d = world.actors["facilitator"], world.dialogue_id
    computation = computations.request(platform, f, d, "nash")
    with live_server(app) as origin, ThreadPoolExecutor(len(folders)) as pool:
        runs = [pool.submit(_follow(origin, folders[w], world.tokens[w])) for w in folders]
        outcomes: list[Any] = [o for run in runs for o in run.result(timeout=300)]
    assert [(o.computation, o.failed) for o in outcomes] == [(computation, None)] * len(folders)
    _, sides = _positions(world)
    clear = build_case("Blind talks", agenda, [sides["a"], sides["b"]])
    problem = compile_case(clear)
    nash = engine.settle(problem, [SettlementRule.NASH])[SettlementRule.NASH]
    assert nash.package is not None
    (found,) = [c for c in computations.computations(platform, f, d) if c.id == computation]
    assert found.state == "opened"
    assert found.opened is not None and found.opened.package == nash.package
    with platform.unit() as s:  # the server never held a position of this dialogue
        assert s.scalars(select(PositionRow).where(PositionRow.dialogue_id == d)).all() == []
    root = folders["a"].parent  # the database, its WAL, and the nodes' folders
    for path in (p for p in root.rglob("*") if p.is_file()):
        assert CANARY.encode() not in path.read_bytes(), path


def test_a_node_that_refuses_the_session_fails_the_computation_with_its_reason(
    platform: Platform, app: FastAPI, nodes_ready: tuple[BlindWorld, dict[str, Path], Agenda]
) -> None:
    world, folders, _ = nodes_ready
    f, d = world.actors["facilitator"], world.dialogue_id
    computation = computations.request(platform, f, d, "exists")
    for who in (w for w in folders if w != "b"):  # every node but B's is ready
        caller = nodes.authenticate(platform, f"Bearer {world.tokens[who]}")
        computations.ready(platform, caller, computation, [])
    with live_server(app) as origin:  # B's node, with A's folder: not the certificate listed
        outcomes = _follow(origin, folders["a"], world.tokens["b"])()
    assert [o.computation for o in outcomes] == [computation]
    assert outcomes[0].opened is None and "certificate" in (outcomes[0].failed or "")
    (found,) = [c for c in computations.computations(platform, f, d) if c.id == computation]
    assert found.state == "failed" and found.opened is None


def test_a_wrong_token_is_refused_with_what_to_do(
    platform: Platform, app: FastAPI, tmp_path: Path
) -> None:
    folder = tmp_path / "n"
    node.init(folder)
    with live_server(app) as origin, pytest.raises(node_link.InputError, match="token"):
        node_link.take_part(folder, node_link.Coordinator(origin, "not-a-token"), lambda: "")
