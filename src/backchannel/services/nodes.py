"""The nodes of a blind dialogue: each delegation's own, and the helpers.

A member registers its delegation's node (one per delegation); the facilitator registers
helper nodes (at most :data:`~backchannel.blind.plan.MAX_HELPERS`). A registration gives
the certificate the other nodes will pin (its fingerprint is shown for an out-of-band
check), the host and the port; it mints a **node token** (256 random bits, shown once,
only its SHA-256 stored) that authenticates that node to the node API and to nothing
else. Registering again replaces the certificate and the address, revokes the old token
and is logged.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backchannel.blind.plan import MAX_HELPERS
from backchannel.errors import (
    BackchannelError,
    InputError,
    NotAllowedNow,
    NotFound,
    SignInRequired,
)
from backchannel.messages import Message, t_
from backchannel.services import access
from backchannel.services.access import FACILITATOR, MEMBER, Actor, Seat
from backchannel.services.dialogues import name_of
from backchannel.services.platform import DialogueKeys, Platform
from backchannel.storage import repo
from backchannel.storage.certificates import checked_certificate
from backchannel.storage.db import Session
from backchannel.storage.tables import BlindNodeRow, DialogueRow, utcnow

HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.:-]{0,251}[A-Za-z0-9])?")
"""A host name, an IPv4 address or an IPv6 address without brackets."""
LABEL_LIMIT = 120


@dataclass(frozen=True)
class NodeView:
    """A registered node as a seat may see it (never its token)."""

    id: str
    index: int
    kind: str  # delegation | helper
    delegation_id: str | None
    label: str
    host: str
    port: int
    certificate: str
    fingerprint: str
    registered_at: datetime


@dataclass(frozen=True)
class Registered:
    """A node just registered: its id, its token (shown once) and its fingerprint."""

    id: str
    token: str
    fingerprint: str


@dataclass(frozen=True)
class NodeCaller:
    """The node a node token authenticates."""

    node_id: str
    dialogue_id: str
    delegation_id: str | None


def token_hash(token: str) -> str:
    """The SHA-256 (hex) of a node token: all the database keeps of it."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def blind_dialogue(s: Session, dialogue_id: str) -> DialogueRow:
    """The dialogue, or NotAllowedNow when it is not blind (seat already checked)."""
    dialogue = repo.get(s, DialogueRow, dialogue_id)
    if dialogue is None:
        raise NotFound()
    if not dialogue.blind:
        raise NotAllowedNow(
            t_("this dialogue is not blind: its positions are on the server"),
            hint=t_("blind mode is chosen when a dialogue is created"),
        )
    return dialogue


def read_node(keys: DialogueKeys, row: BlindNodeRow) -> dict[str, Any]:
    """A node's sealed fields: certificate, fingerprint, host, port, label."""
    body: dict[str, Any] = keys.open("blind_nodes", "body", row.id, row.body_ct)
    return body


def views(s: Session, keys: DialogueKeys, dialogue_id: str) -> list[NodeView]:
    """Every node of the dialogue, indexed as the session document orders them:
    delegations in the dialogue's order, then helpers (nodes of delegations no longer at
    the table are left out)."""
    delegations = [d for d in repo.delegations(s, dialogue_id) if d.role == "delegation"]
    rows = repo.blind_nodes(s, dialogue_id)
    by_delegation = {r.delegation_id: r for r in rows if r.delegation_id is not None}
    ordered: list[tuple[BlindNodeRow, str]] = []
    for d in delegations:
        if d.id in by_delegation:
            ordered.append((by_delegation[d.id], name_of(keys, d)))
    ordered += [(r, "") for r in rows if r.delegation_id is None]
    out = []
    for index, (row, name) in enumerate(ordered):
        body = read_node(keys, row)
        out.append(
            NodeView(
                row.id,
                index,
                "helper" if row.delegation_id is None else "delegation",
                row.delegation_id,
                body["label"] or name,
                body["host"],
                int(body["port"]),
                body["certificate"],
                body["fingerprint"],
                row.registered_at,
            )
        )
    return out


def nodes(platform: Platform, actor: Actor, dialogue_id: str) -> list[NodeView]:
    """The nodes a seat may see: the facilitator every node; a member its own delegation's
    and the helpers (whom its node must trust); an observer none (NotFound)."""
    with platform.view() as s:
        place = access.seat(s, actor, dialogue_id)
        access.require(place, FACILITATOR, MEMBER)
        blind_dialogue(s, dialogue_id)
        found = views(s, platform.keys(s, dialogue_id), dialogue_id)
    if place.is_facilitator:
        return found
    return [n for n in found if n.delegation_id in (None, place.delegation_id)]


def _address(host: str, port: int) -> tuple[str, int]:
    host = host.strip()
    if not HOST.fullmatch(host):
        raise InputError(
            t_("{host} is not a host name or an IP address", host=repr(host[:80])),
            hint=t_("give the address the other nodes reach this node at, e.g. 192.0.2.10"),
        )
    if not 1 <= port <= 65535:
        raise InputError(t_("a port is a number from 1 to 65535, not {port}", port=port))
    return host, port


def register(
    platform: Platform,
    actor: Actor,
    dialogue_id: str,
    certificate: str,
    host: str,
    port: int,
    *,
    label: str = "",
    replaces: str | None = None,
) -> Registered:
    """Register a node (a member: its delegation's; the facilitator: a helper), or
    replace one (``replaces``: a helper's id; a delegation has only one node). Returns
    the new token, shown once; the replaced node's token stops working.

    Raises
    ------
    InputError
        A certificate that is not one PEM certificate, a bad host or port, a long label.
    NotAllowedNow
        The dialogue is not blind, or it has its 3 helpers already.
    """
    pem, fingerprint = checked_certificate(certificate)
    host, port = _address(host, port)
    label = label.strip()
    if len(label) > LABEL_LIMIT:
        raise InputError(t_("a node's label has at most {limit} characters", limit=LABEL_LIMIT))
    token = secrets.token_urlsafe(32)
    with platform.unit() as s:
        place = access.seat(s, actor, dialogue_id)
        access.require(place, FACILITATOR, MEMBER)
        repo.lock_dialogue(s, dialogue_id)
        blind_dialogue(s, dialogue_id)
        keys = platform.keys(s, dialogue_id)
        row = _target(s, place, replaces)
        new = row is None
        if row is None:
            helpers = [r for r in repo.blind_nodes(s, dialogue_id) if r.delegation_id is None]
            row = BlindNodeRow(
                dialogue_id=dialogue_id,
                delegation_id=place.delegation_id,
                ordinal=1 + max((r.ordinal for r in helpers), default=0),
                token_hash="",
                body_ct=b"",
            )
            repo.add(s, row)
        if place.is_facilitator and not label:
            label = f"Helper {row.ordinal}"
        row.token_hash = token_hash(token)
        row.registered_at = utcnow()
        body = {
            "certificate": pem,
            "fingerprint": fingerprint,
            "host": host,
            "port": port,
            "label": label if place.is_facilitator else "",
        }
        row.body_ct = keys.seal("blind_nodes", "body", row.id, body)
        platform.log(
            s,
            "node.registered" if new else "node.replaced",
            dialogue_id=dialogue_id,
            actor_id=actor.user_id,
            target=row.id,
            audience="all" if place.is_facilitator else (place.delegation_id or "facilitator"),
        )
        return Registered(row.id, token, fingerprint)


def _target(s: Session, place: Seat, replaces: str | None) -> BlindNodeRow | None:
    """The node a registration replaces (None: a new one); the helpers' limit."""
    rows = repo.blind_nodes(s, place.dialogue_id)
    if place.role == MEMBER:
        own = access.own_delegation(place)
        if replaces is not None:
            raise InputError(t_("a delegation has one node: register it again to replace it"))
        return next((r for r in rows if r.delegation_id == own), None)
    if replaces is not None:
        found = access.owned(s, place, BlindNodeRow, replaces)
        if found.delegation_id is not None:
            raise NotFound()  # a delegation's node is its own members' to replace
        return found
    if sum(r.delegation_id is None for r in rows) >= MAX_HELPERS:
        raise NotAllowedNow(
            t_("a blind dialogue has at most {n} helper nodes", n=MAX_HELPERS),
            hint=t_("replace one of them instead"),
        )
    return None


class NodeTokenRefused(SignInRequired):
    """A node API request without a valid node token (answered 401)."""

    def __init__(self, message: Message, hint: Message | None = None) -> None:
        BackchannelError.__init__(self, message, hint=hint)


def authenticate(platform: Platform, authorization: str | None) -> NodeCaller:
    """The node behind an ``Authorization: Bearer <node token>`` header, or SignInRequired."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not 20 <= len(token) <= 200:
        raise NodeTokenRefused(t_("a node sends its node token as “Authorization: Bearer …”"))
    with platform.view() as s:
        row = repo.blind_node_by_token(s, token_hash(token))
        if row is None or not secrets.compare_digest(row.token_hash, token_hash(token)):
            raise NodeTokenRefused(
                t_("this node token is not valid (replaced, revoked or mistyped)"),
                t_("register the node again to get a new token"),
            )
        return NodeCaller(row.id, row.dialogue_id, row.delegation_id)
