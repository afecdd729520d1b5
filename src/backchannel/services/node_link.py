"""A blind node's link to the coordinating server: take part in each computation asked.

The node calls the server's node API with its node token (``Authorization: Bearer``):
it lists the computations waiting for it, says it is ready (a delegation's node
publishes the issue sets its own conditions link, nothing else), waits for the session
document (the server gives it once every node is ready), runs its party over pinned TLS
(:func:`backchannel.services.node.run`) and posts what was opened, or why it failed.
The position never leaves the node; the server learns the links and the opened finding.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backchannel.blind.local import links
from backchannel.blind.protocol import Opened
from backchannel.blind.run import warm_up
from backchannel.blind.session import DEFAULT_TIMEOUT, parse_session, result_document
from backchannel.errors import BackchannelError, InputError
from backchannel.messages import t_
from backchannel.model.case import Case
from backchannel.model.compile import compile_case
from backchannel.services import node
from backchannel.storage import node_identity

API = "/api/v1/blind"
REQUEST_SECONDS = 30.0
"""How long one call to the server may take."""


@dataclass(frozen=True)
class Coordinator:
    """The coordinating server as a node sees it: its address and this node's token."""

    base_url: str
    token: str
    context: ssl.SSLContext | None = None

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One call of the node API; its JSON answer. A refusal raises its message."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
            headers["Idempotency-Key"] = str(uuid.uuid4())
        request = urllib.request.Request(  # noqa: S310 (the server the operator named)
            self.base_url.rstrip("/") + API + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=REQUEST_SECONDS, context=self.context
            ) as answer:
                return json.loads(answer.read().decode("utf-8") or "null")
        except urllib.error.HTTPError as refused:
            raise _refusal(refused) from None
        except (urllib.error.URLError, OSError) as failed:
            reason = getattr(failed, "reason", failed)
            raise InputError(
                t_(
                    "cannot reach the coordinating server at {url}: {reason}",
                    url=self.base_url,
                    reason=str(reason),
                ),
                hint=t_("check --server and that the server runs; the node tries again"),
            ) from None


class NotYet(InputError):
    """The server answered 409: the computation is not ready for this step yet."""


def _refusal(refused: urllib.error.HTTPError) -> InputError:
    try:
        doc = json.loads(refused.read().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        doc = {}
    message = str(doc.get("error") or f"HTTP {refused.code}") if isinstance(doc, dict) else ""
    hint = doc.get("hint") if isinstance(doc, dict) else None
    if refused.code == 409:
        return NotYet(message, hint=hint)
    if refused.code == 401:
        return InputError(
            t_("the coordinating server refused this node's token"),
            hint=t_(
                "register the node again on the dialogue's blind-mode page: that gives a new token"
            ),
        )
    return InputError(message or f"HTTP {refused.code}", hint=hint)


@dataclass(frozen=True)
class Outcome:
    """One computation this node took part in: what it opened, or why it failed."""

    computation: str
    finding: str
    opened: Opened | None
    failed: str | None


def _published_links(side: Case | None) -> list[list[int]]:
    """The issue sets this node's own conditions link (none for a helper)."""
    if side is None:
        return []
    problem = compile_case(side, "<this node's position>")
    return [sorted(link) for link in links(problem)]


def _session(coordinator: Coordinator, computation: str, deadline: float, poll: float) -> Any:
    while True:
        try:
            return coordinator.call("GET", f"/computations/{computation}/session")
        except NotYet:
            if time.monotonic() > deadline:
                raise
            time.sleep(poll)


def take_part(
    folder: Path,
    coordinator: Coordinator,
    passphrase: Callable[[], str],
    *,
    poll: float = 2.0,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Outcome]:
    """Take part in every computation waiting for this node now; what each gave.

    A computation that fails at this node (its peers, the time, a session it refuses)
    is reported to the server as failed, with the reason; nothing is opened then.

    Raises
    ------
    InputError
        The server cannot be reached or refuses the token; the folder is not a node's.
    """
    folder = Path(folder)
    node.show(folder)  # a node folder, before anything is asked of the server
    opened: list[Case | None] = []

    def side() -> Case | None:  # decrypted at most once per call, and only when needed
        if not opened:
            has = node_identity.has_position(folder)
            opened.append(node.open_position(folder, passphrase()) if has else None)
        return opened[0]

    outcomes = []
    for waiting in coordinator.call("GET", "/computations"):
        warm_up()  # the party server imports while the other nodes get ready
        computation, index = str(waiting["id"]), int(waiting["index"])
        if not waiting.get("ready"):
            published = _published_links(side())
            coordinator.call("POST", f"/computations/{computation}/ready", {"links": published})
        deadline = time.monotonic() + timeout
        found, failed = None, None
        try:
            doc = _session(coordinator, computation, deadline, poll)
            session = parse_session(doc)
            kind = session.parties[index].kind if 0 <= index < len(session.parties) else ""
            own = side() if kind == "delegation" else None
            # A node that follows the server forks each party from its warm party server.
            run = node.run(
                folder, session, index, passphrase, timeout=timeout, opened_position=own, warm=True
            )
            found = run.opened
            result = result_document(session, index, opened=found)
        except BackchannelError as error:  # NotYet at the deadline too: the run fails
            failed = node.failure_text(error)
            result = {"computation": computation, "index": index, "failed": failed[:500]}
        coordinator.call("POST", f"/computations/{computation}/result", result)
        outcomes.append(Outcome(computation, str(waiting["finding"]), found, failed))
    return outcomes


def context_for(server_ca: Path | None) -> ssl.SSLContext | None:
    """The TLS context for an ``https`` server: the system's CAs, or only ``server_ca``."""
    if server_ca is None:
        return None
    try:
        return ssl.create_default_context(cafile=str(server_ca))
    except (OSError, ssl.SSLError) as error:
        raise InputError(
            t_(
                "cannot read the server's certificate {path}: {reason}",
                path=str(server_ca),
                reason=str(error),
            ),
            hint=t_("give the PEM file of the server's certificate or its CA"),
        ) from None
