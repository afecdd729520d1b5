"""A blind dialogue for the tests: its seats, its nodes (certificates made here) and a
helper that plays the nodes through the services (the web tests play them over HTTP).

* :func:`certificate`: a fresh self-signed certificate (PEM), as a node would make one.
* :func:`build_blind`: a blind dialogue with two delegations (A: a1, B: b1), an absent
  stakeholder, an observer, round 1 locked; with ``nodes`` every delegation's node and
  one helper registered (their tokens kept).
* :func:`play`: the nodes of a computation get ready and post the same opened finding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from backchannel.services import computations, dialogues, nodes, rounds
from backchannel.services.access import Actor
from backchannel.services.platform import Platform
from conftest import user


def certificate(name: str = "node") -> tuple[str, str]:
    """A self-signed certificate and its private key, both PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    made = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return made.public_bytes(serialization.Encoding.PEM).decode(), private.decode()


@dataclass
class BlindWorld:
    """The blind dialogue's ids, seats and node tokens (``a``, ``b``, ``helper``)."""

    dialogue_id: str
    delegation_a: str
    delegation_b: str
    absent: str
    issues: list[str]
    actors: dict[str, Actor]
    tokens: dict[str, str] = field(default_factory=dict)
    node_ids: dict[str, str] = field(default_factory=dict)


def build_blind(
    platform: Platform,
    *,
    nodes_too: bool = True,
    prefix: str = "z",
    lock: bool = True,
    actors: dict[str, Actor] | None = None,
) -> BlindWorld:
    """A blind dialogue (see the module's docstring); new accounts whose names start with
    ``prefix``, or the ``actors`` given (facilitator, a1, b1, observer)."""
    names = ("facilitator", "a1", "b1", "observer")
    if actors is None:
        actors = {n: user(platform, f"{prefix}{n}") for n in names}
    p, f = platform, actors["facilitator"]
    d = dialogues.create_dialogue(p, f, "Blind talks", blind=True)
    i1 = dialogues.add_issue(p, f, d, "Ceasefire", "ordered", ["none", "partial", "full"])
    i2 = dialogues.add_issue(p, f, d, "Sanctions", "ordered", ["keep", "ease", "lift"])
    a = dialogues.add_delegation(p, f, d, "Side A")
    b = dialogues.add_delegation(p, f, d, "Side B")
    z = dialogues.add_delegation(p, f, d, "Absent Z", absent=True)
    for name, side in (("a1", a), ("b1", b)):
        username = actors[name].username
        dialogues.add_member(p, f, d, username, "member", delegation_id=side, track="expert")
    dialogues.add_member(p, f, d, actors["observer"].username, "observer")
    rounds.open_round(p, f, d)
    world = BlindWorld(d, a, b, z, [i1, i2], actors)
    if nodes_too:
        for who, actor in (("a", actors["a1"]), ("b", actors["b1"]), ("helper", f)):
            pem, _ = certificate(who)
            made = nodes.register(p, actor, d, pem, "127.0.0.1", 40001 + len(world.tokens))
            world.tokens[who], world.node_ids[who] = made.token, made.id
    if lock:
        rounds.lock_round(p, f, d)
    return world


def caller(platform: Platform, world: BlindWorld, who: str) -> nodes.NodeCaller:
    """The node ``who`` as the node API sees it."""
    return nodes.authenticate(platform, f"Bearer {world.tokens[who]}")


def play(platform: Platform, world: BlindWorld, computation_id: str, opened: dict[str, Any]) -> str:
    """Every node gets ready (A links the two issues) and posts ``opened``; the state."""
    for who in ("a", "b", "helper"):
        links = [[0, 1]] if who == "a" else []
        computations.ready(platform, caller(platform, world, who), computation_id, links)
    state = ""
    for who in ("a", "b", "helper"):
        node = caller(platform, world, who)
        index = next(
            c["index"]
            for c in computations.waiting_for(platform, node)
            if c["id"] == computation_id
        )
        found = computations.Opened(
            None if opened.get("overlap") is None else tuple(opened["overlap"]),
            opened.get("exists"),
            None if opened.get("package") is None else tuple(opened["package"]),
        )
        state = computations.post_result(platform, node, computation_id, index, found, None)
    return state
