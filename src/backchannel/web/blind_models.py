"""What the blind dialogue's routes take and answer: the nodes, the computations, the
releases (signed-in seats), and the node API (a node token)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from backchannel.blind.plan import Finding
from backchannel.model.dialogue import NOT_TRUTH_VALUE
from backchannel.services.computations import MAX_LINKS, MAX_REASON
from backchannel.services.nodes import LABEL_LIMIT
from backchannel.web.api_models import ID_LENGTH, Id

ComputationId = Annotated[str, Path(min_length=1, max_length=ID_LENGTH)]
MAX_ISSUES = 64
"""The most issues a node's links or opened finding name (an agenda holds fewer)."""
MAX_PARTIES = 7
"""Delegations (4 at most) and helpers (3 at most)."""
Index = Annotated[int, Field(ge=0, le=255), NOT_TRUTH_VALUE]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NodeBody(_Body):
    """A node to register: a member registers its delegation's, the facilitator a helper
    (``replaces``: the id of a helper to replace)."""

    certificate: Annotated[str, Field(min_length=1, max_length=16_384)]
    host: Annotated[str, Field(min_length=1, max_length=253)]
    port: Annotated[int, Field(ge=1, le=65535), NOT_TRUTH_VALUE]
    label: Annotated[str, Field(max_length=LABEL_LIMIT)] = ""
    replaces: Id | None = None


class ComputationBody(_Body):
    """The one finding to ask the nodes for."""

    finding: Finding


class BlindReleaseBody(_Body):
    """An opened finding to release to delegations (their ids) and/or ``observers``;
    ``issue``: the index of the issue whose overlap is released (``overlap`` only)."""

    computation_id: Id
    audiences: Annotated[list[Id], Field(min_length=1, max_length=16)]
    issue: Annotated[int, Field(ge=0, le=MAX_ISSUES), NOT_TRUTH_VALUE] | None = None


class ReadyBody(_Body):
    """A node is ready: a delegation's node names the issue sets its conditions link."""

    links: Annotated[
        list[Annotated[list[Index], Field(max_length=MAX_ISSUES)]],
        Field(max_length=MAX_LINKS),
    ] = []


class OpenedBody(_Body):
    """What the nodes opened (``backchannel.blind.protocol.Opened``)."""

    overlap: (
        Annotated[list[Annotated[bool, Field(strict=True)]], Field(max_length=MAX_ISSUES)] | None
    ) = None
    exists: Annotated[bool, Field(strict=True)] | None = None
    package: Annotated[list[Index], Field(max_length=MAX_ISSUES)] | None = None


class ResultBody(_Body):
    """A node's result: ``opened``, or ``failed`` with the reason."""

    computation: Id
    index: Annotated[int, Field(ge=0, le=MAX_PARTIES - 1), NOT_TRUTH_VALUE]
    opened: OpenedBody | None = None
    failed: Annotated[str, Field(min_length=1, max_length=MAX_REASON)] | None = None


# ------------------------------------------------------------------ answers
class NodeKind(str, Enum):
    """A delegation's node or a helper."""

    DELEGATION = "delegation"
    HELPER = "helper"


class NodeOut(BaseModel):
    """A registered node (never its token)."""

    id: str
    index: int
    kind: NodeKind
    delegation_id: str | None
    label: str
    host: str
    port: int
    fingerprint: str
    certificate: str
    registered_at: datetime


class NodeRegisteredOut(BaseModel):
    """A node just registered: its node token, shown this once (keep it on the node)."""

    id: str
    token: str
    fingerprint: str


class ComputationState(str, Enum):
    """Where a computation stands."""

    WAITING = "waiting"
    RUNNING = "running"
    OPENED = "opened"
    FAILED = "failed"


class OpenedOut(BaseModel):
    """What the nodes opened."""

    overlap: list[bool] | None
    exists: bool | None
    package: list[int] | None


class ComputationOut(BaseModel):
    """A computation as the facilitator sees it."""

    id: str
    round: int
    finding: Finding
    state: ComputationState
    requested_at: datetime
    deadline: datetime
    parties: int
    ready: int
    posted: int
    opened: OpenedOut | None
    failed: str | None


class ReleasedOut(BaseModel):
    """The releases made, one per audience."""

    ids: list[str]


class NodeComputationOut(BaseModel):
    """A computation waiting for the calling node."""

    id: str
    round: int
    finding: Finding
    state: ComputationState
    index: int
    ready: bool
    deadline: datetime


class StateOut(BaseModel):
    """The computation's state after the call."""

    state: ComputationState


SessionDocument = dict[str, Any]
"""The session document, ``backchannel-blind-session/1`` (see the API reference)."""
