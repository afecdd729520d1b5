"""Use-cases of a blind node: its identity, its side's sealed position, one computation.

A delegation (or a helper's institution) runs its node on its own machine from a folder
that holds the node's key and certificate and, for a delegation, its position sealed with
a passphrase (:mod:`backchannel.storage.node_identity`). :func:`run` reads a session
document, checks it and runs this node's party over pinned TLS
(:mod:`backchannel.blind.session`); the position is decrypted in memory and reaches the
party process on a pipe.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from backchannel.blind.protocol import Opened
from backchannel.blind.session import (
    DEFAULT_TIMEOUT,
    Credentials,
    Session,
    SessionError,
    parse_session,
    run_session,
)
from backchannel.errors import BackchannelError, InputError
from backchannel.formats.case_data import parse_case
from backchannel.formats.cases import load_problem
from backchannel.formats.documents import read_document
from backchannel.messages import t_
from backchannel.model.case import Case, PartyRole
from backchannel.storage import node_identity
from backchannel.storage.node_identity import NodeIdentity

__all__ = [
    "NodeIdentity",
    "NodeRun",
    "credentials",
    "failure_text",
    "init",
    "open_position",
    "private_folder",
    "read_session",
    "run",
    "show",
    "store_position",
    "throwaway_credentials",
]


def init(folder: Path) -> NodeIdentity:
    """Create the node's key and self-signed certificate in ``folder`` (never replaced)."""
    return node_identity.init_identity(Path(folder))


def show(folder: Path) -> NodeIdentity:
    """The node's certificate and fingerprint, as given to the facilitator."""
    return node_identity.load_identity(Path(folder))


def credentials(identity: NodeIdentity) -> Credentials:
    """What the party process needs of an identity: its certificate and key files."""
    return Credentials(str(identity.cert_path), str(identity.key_path), identity.certificate)


def throwaway_credentials(count: int, folder: Path) -> list[Credentials]:
    """``count`` new identities in sub-folders of ``folder`` (a private temporary folder),
    for a local run of every party over the same pinned TLS as real nodes."""
    return [
        credentials(node_identity.init_identity(Path(folder) / f"party{i}")) for i in range(count)
    ]


def store_position(folder: Path, side: Path, passphrase: str) -> Path:
    """Check a side's case file and seal it in the node's folder.

    The case file must hold the agenda and exactly one delegation (absent stakeholders
    allowed): the shape each delegation's node holds.

    Raises
    ------
    InputError
        The case file's problems (located), not exactly one delegation, an empty
        passphrase, or a folder that is not a safe node folder.
    """
    node_identity.load_identity(Path(folder))  # a node folder, safe, before any reading
    case, _ = load_problem(Path(side))
    delegations = [p.name for p in case.parties if p.role is PartyRole.DELEGATION]
    if len(delegations) != 1:
        raise InputError(
            t_(
                "{path}: a node's position holds exactly one delegation, this file holds {count}",
                path=str(side),
                count=len(delegations),
            ),
            hint=t_("keep only your own delegation (and the absent stakeholders) in the file"),
        )
    doc = case.model_dump_json(by_alias=True, exclude_none=True).encode("utf-8")
    return node_identity.seal_position(Path(folder), doc, passphrase)


def open_position(folder: Path, passphrase: str) -> Case:
    """The position sealed in the folder, decrypted in memory."""
    data = node_identity.open_position(Path(folder), passphrase)
    return parse_case(json.loads(data.decode("utf-8")), "<this node's position>")


def read_session(path: Path) -> Session:
    """Read and check a session document (JSON).

    Raises
    ------
    InputError
        The file cannot be read or is not JSON (located); the document's problems.
    """
    data, _ = read_document(Path(path), json_syntax=True)
    return parse_session(data)


@dataclass(frozen=True)
class NodeRun:
    """A node's computation: the session it ran and what was opened."""

    session: Session
    index: int
    opened: Opened


def run(
    folder: Path,
    session: Session,
    index: int,
    passphrase: Callable[[], str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    opened_position: Case | None = None,
    warm: bool = False,
) -> NodeRun:
    """Run this node's party of ``session`` at ``index`` and return what was opened.

    A delegation's index needs the folder's sealed position (``passphrase`` is asked for
    then, and only then, unless the caller already opened it: ``opened_position``); a
    helper's index runs with none. ``warm``: the party is forked from this process's warm
    party server rather than started as a fresh interpreter (``node connect`` keeps one).

    Raises
    ------
    InputError
        An unsafe or empty folder, a wrong passphrase, a session this node refuses (its
        certificate not at ``index``, a position on another agenda).
    AnalysisError
        The run failed (a peer's certificate, a peer dropped out, the time): nothing was
        opened.
    """
    identity = node_identity.load_identity(Path(folder))
    if not 0 <= index < len(session.parties):
        raise SessionError(
            t_(
                "index {index} is not in the session; it lists parties 0 to {last}",
                index=index,
                last=len(session.parties) - 1,
            )
        )
    side = None
    if session.parties[index].kind == "delegation":
        if not node_identity.has_position(Path(folder)):
            raise SessionError(
                t_("index {index} is a delegation and this node holds no position", index=index),
                hint=t_("store it with `backchannel node position`"),
            )
        side = opened_position or open_position(Path(folder), passphrase())
    opened = run_session(session, index, credentials(identity), side, timeout=timeout, warm=warm)
    return NodeRun(session, index, opened)


def private_folder() -> tempfile.TemporaryDirectory[str]:
    """A private temporary folder (mode 0700) for throwaway identities."""
    return tempfile.TemporaryDirectory(prefix="backchannel-node-")


def failure_text(error: BackchannelError) -> str:
    """The plain-English reason a node posts when its computation failed."""
    return error.message if error.hint is None else f"{error.message} ({error.hint})"
