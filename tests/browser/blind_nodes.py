"""Real blind nodes for the browser's blind walk (``test_flow.test_a_blind_round``).

:func:`make_nodes` makes each side's node folder (its key and certificate, its position
sealed with a passphrase: it never reaches the server) and a helper's; the certificates
are then registered through the pages, like a person pasting them. :func:`run_nodes`
has every node follow the server once (``backchannel node connect --once``), each in a
thread, as ``tests/dialogues/test_blind_nodes_live.py`` does.
"""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from backchannel.blind.run import split_case
from backchannel.model.dialogue import Agenda, Side, build_case
from backchannel.services import node, node_link

PASSPHRASE = "the node's own passphrase"
SECONDS = 120.0
"""The longest the nodes may take (they take a few seconds)."""


@dataclass
class Node:
    """One node: its folder, its certificate and fingerprint, its port, and the token the
    page showed when it was registered."""

    folder: Path
    certificate: str
    fingerprint: str
    port: int
    token: str = ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_nodes(root: Path, title: str, agenda: Agenda, sides: dict[str, Side]) -> dict[str, Node]:
    """A node per side (named as in ``sides``, its own position sealed in its folder) and
    a ``helper``, in folders under ``root``."""
    own = dict(zip(sides, split_case(build_case(title, agenda, list(sides.values()))), strict=True))
    made = {}
    for who in [*sides, "helper"]:
        identity = node.init(root / who)
        if who in own:
            side = root / f"{who}.json"
            side.write_text(own[who].model_dump_json(by_alias=True, exclude_none=True))
            node.store_position(identity.folder, side, PASSPHRASE)
            side.unlink()
        made[who] = Node(identity.folder, identity.certificate, identity.fingerprint, _free_port())
    return made


def run_nodes(origin: str, nodes: dict[str, Node]) -> list[node_link.Outcome]:
    """Every node takes part, at once, in the computations waiting for it; what each gave."""
    with ThreadPoolExecutor(len(nodes)) as pool:
        runs = [
            pool.submit(
                node_link.take_part,
                n.folder,
                node_link.Coordinator(origin, n.token),
                lambda: PASSPHRASE,
                poll=0.1,
            )
            for n in nodes.values()
        ]
        return [outcome for run in runs for outcome in run.result(timeout=SECONDS)]
