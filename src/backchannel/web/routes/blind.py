"""A blind dialogue's page and API: its nodes, the computations, the opened findings;
and the **node API**, which a node calls with its node token (``Authorization: Bearer``)
instead of a session: no cookie, no CSRF token, nothing but its own dialogue's
computations (every other route knows no node token, and this one knows no session).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from backchannel.blind.plan import Finding
from backchannel.errors import BackchannelError, InputError, field_of
from backchannel.messages import t_
from backchannel.services import computations, nodes, rounds
from backchannel.services.accounts import Current
from backchannel.services.computations import Opened
from backchannel.services.nodes import NodeCaller
from backchannel.services.platform import Platform
from backchannel.web.api_models import (
    CHANGES_STATE,
    EVERY_ROUTE,
    IN_A_DIALOGUE,
    Created,
    DialogueId,
)
from backchannel.web.blind_models import (
    BlindReleaseBody,
    ComputationBody,
    ComputationId,
    ComputationOut,
    NodeBody,
    NodeComputationOut,
    NodeOut,
    NodeRegisteredOut,
    OpenedOut,
    ReadyBody,
    ReleasedOut,
    ResultBody,
    SessionDocument,
    StateOut,
)
from backchannel.web.deps import CurrentDep, PlatformDep, read
from backchannel.web.errors import Shown, form_error
from backchannel.web.once import OnceRoute
from backchannel.web.routes.pages import done, page

pages = APIRouter(include_in_schema=False, route_class=OnceRoute)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=EVERY_ROUTE, route_class=OnceRoute)
node_api = APIRouter(
    prefix="/api/v1/blind", tags=["node API"], responses=EVERY_ROUTE, route_class=OnceRoute
)

WRITE = {**CHANGES_STATE, **IN_A_DIALOGUE}
NODE_FIELDS = ("certificate", "host", "port", "label", "replaces")


# ------------------------------------------------------------------ the page
async def _page(
    request: Request,
    platform: Platform,
    current: Current,
    dialogue_id: str,
    *,
    error: Shown | None = None,
    field: str | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    view, found = await read(platform, rounds.overview, platform, current.actor, dialogue_id)
    listed = await read(platform, nodes.nodes, platform, current.actor, dialogue_id)
    asked = (
        await read(platform, computations.computations, platform, current.actor, dialogue_id)
        if view.seat.is_facilitator
        else []
    )
    return page(
        request,
        "blind.html",
        status=200 if error is None else error.status,
        current=current,
        d=view,
        rounds=found,
        round=found[-1] if found else None,
        nodes=listed,
        computations=asked,
        findings=[f.value for f in Finding],
        deadline_minutes=max(1, platform.settings.blind_deadline_s // 60),
        error=error,
        field=field,
        typed=typed or {},
    )


@pages.get("/d/{dialogue_id}/blind")
async def blind_page(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> HTMLResponse:
    """The nodes (a member: its own and the helpers), and for the facilitator the
    computations, their opened findings and the forms to ask and to release."""
    return await _page(request, platform, current, dialogue_id)


async def _act(
    request: Request,
    dialogue_id: str,
    platform: Platform,
    current: Current,
    work: Any,
    what: str,
    typed: dict[str, str],
    secret: Any = None,
) -> Response:
    """Await a service call; back to the page with a confirmation, or the page with the
    error beside the form that was sent, as it was typed."""
    try:
        result = await work
    except BackchannelError as refused:
        shown = form_error(refused)
        return await _page(
            request,
            platform,
            current,
            dialogue_id,
            error=shown,
            field=field_of(refused),
            typed=typed,
        )
    shown_once = secret(result) if secret is not None else None
    return done(request, current, f"/d/{dialogue_id}/blind", what, shown_once)


@pages.post("/d/{dialogue_id}/blind/nodes")
async def node_register_form(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Register (or replace) a node; its token is shown once on the page that follows."""
    form = await request.form()
    typed = {"form": "node", **{k: str(form.get(k, ""))[:20_000] for k in NODE_FIELDS}}
    port = typed["port"].strip()
    work = run_in_threadpool(
        nodes.register,
        platform,
        current.actor,
        dialogue_id,
        typed["certificate"],
        typed["host"],
        int(port) if port.isdigit() and len(port) <= 5 else 0,
        label=typed["label"],
        replaces=typed["replaces"] or None,
    )

    def secret(made: nodes.Registered) -> str:
        return f"{made.token}\t{made.fingerprint}"

    typed.pop("certificate")  # kept in the form below only on an error, never in a cookie
    typed["certificate"] = str(form.get("certificate", ""))[:20_000]
    return await _act(
        request, dialogue_id, platform, current, work, "node_registered", typed, secret
    )


@pages.post("/d/{dialogue_id}/blind/computations")
async def computation_form(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Ask the nodes for one finding of the locked round (facilitator)."""
    form = await request.form()
    finding = str(form.get("finding", ""))[:32]
    work = run_in_threadpool(computations.request, platform, current.actor, dialogue_id, finding)
    return await _act(
        request,
        dialogue_id,
        platform,
        current,
        work,
        "blind_requested",
        {"form": "computation", "finding": finding},
    )


@pages.post("/d/{dialogue_id}/blind/releases")
async def release_form(
    request: Request, dialogue_id: str, platform: PlatformDep, current: CurrentDep
) -> Response:
    """Release an opened finding to the audiences ticked (facilitator)."""
    form = await request.form()
    computation = str(form.get("computation", ""))[:64]
    audiences = [str(a)[:64] for a in form.getlist("audience")][:16]
    issue = str(form.get("issue", "")).strip()
    work = run_in_threadpool(
        computations.release,
        platform,
        current.actor,
        dialogue_id,
        computation,
        audiences,
        int(issue) if issue.isdigit() and len(issue) <= 3 else None,
    )
    # a refused release shows its form again as it was sent: the audiences ticked, the issue
    typed = {"form": f"release-{computation}", "issue": issue, "audience": "\n".join(audiences)}
    return await _act(request, dialogue_id, platform, current, work, "blind_released", typed)


# ------------------------------------------------------------------ the API (a session)
def _node_out(n: nodes.NodeView) -> NodeOut:
    return NodeOut.model_validate(
        {k: v for k, v in n.__dict__.items() if k in NodeOut.model_fields}
    )


@api.get("/dialogues/{dialogue_id}/blind/nodes", responses=IN_A_DIALOGUE)
async def node_list(
    dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> list[NodeOut]:
    """The nodes the caller may see: the facilitator all, a member its own and the helpers."""
    found = await read(platform, nodes.nodes, platform, current.actor, dialogue_id)
    return [_node_out(n) for n in found]


@api.post("/dialogues/{dialogue_id}/blind/nodes", status_code=201, responses=WRITE)
async def node_register(
    dialogue_id: DialogueId, body: NodeBody, platform: PlatformDep, current: CurrentDep
) -> NodeRegisteredOut:
    """Register (or replace) a node: a member its delegation's, the facilitator a helper.
    The node token is returned this once; a replaced node's old token stops working."""
    made = await run_in_threadpool(
        nodes.register,
        platform,
        current.actor,
        dialogue_id,
        body.certificate,
        body.host,
        body.port,
        label=body.label,
        replaces=body.replaces,
    )
    return NodeRegisteredOut(id=made.id, token=made.token, fingerprint=made.fingerprint)


def _opened_out(found: Opened | None) -> OpenedOut | None:
    if found is None:
        return None
    return OpenedOut(
        overlap=None if found.overlap is None else list(found.overlap),
        exists=found.exists,
        package=None if found.package is None else list(found.package),
    )


@api.get("/dialogues/{dialogue_id}/blind/computations", responses=IN_A_DIALOGUE)
async def computation_list(
    dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> list[ComputationOut]:
    """Every computation, newest first, with its opened finding (facilitator only)."""
    found = await read(platform, computations.computations, platform, current.actor, dialogue_id)
    return [
        ComputationOut.model_validate(
            {
                **{k: v for k, v in c.__dict__.items() if k != "round_number"},
                "round": c.round_number,
                "opened": _opened_out(c.opened),
            }
        )
        for c in found
    ]


@api.post("/dialogues/{dialogue_id}/blind/computations", status_code=201, responses=WRITE)
async def computation_request(
    dialogue_id: DialogueId, body: ComputationBody, platform: PlatformDep, current: CurrentDep
) -> Created:
    """Ask the nodes for one finding of the locked round (facilitator; counts as the
    round's evaluation; written to every side's log)."""
    found = await run_in_threadpool(
        computations.request, platform, current.actor, dialogue_id, body.finding.value
    )
    return Created(id=found)


@api.post("/dialogues/{dialogue_id}/blind/releases", status_code=201, responses=WRITE)
async def blind_release(
    dialogue_id: DialogueId, body: BlindReleaseBody, platform: PlatformDep, current: CurrentDep
) -> ReleasedOut:
    """Release an opened finding of the current round to each audience (facilitator)."""
    found = await run_in_threadpool(
        computations.release,
        platform,
        current.actor,
        dialogue_id,
        body.computation_id,
        body.audiences,
        body.issue,
    )
    return ReleasedOut(ids=found)


# ------------------------------------------------------------------ the node API (a token)
async def get_node(request: Request, platform: PlatformDep) -> NodeCaller:
    """The node whose token the request carries (``Authorization: Bearer``), else 401."""
    return await read(platform, nodes.authenticate, platform, request.headers.get("authorization"))


NodeDep = Annotated[NodeCaller, Depends(get_node)]


@node_api.get("/computations")
async def node_computations(platform: PlatformDep, node: NodeDep) -> list[NodeComputationOut]:
    """The unfinished computations this node takes part in and has not answered yet."""
    found = await read(platform, computations.waiting_for, platform, node)
    return [NodeComputationOut.model_validate(c) for c in found]


@node_api.post("/computations/{computation_id}/ready", responses=WRITE)
async def node_ready(
    computation_id: ComputationId, body: ReadyBody, platform: PlatformDep, node: NodeDep
) -> StateOut:
    """The node is ready; a delegation's node publishes the issue sets its conditions
    link (``links``), a helper posts ``{}``."""
    state = await run_in_threadpool(computations.ready, platform, node, computation_id, body.links)
    return StateOut.model_validate({"state": state})


@node_api.get("/computations/{computation_id}/session", responses=IN_A_DIALOGUE)
async def node_session(
    computation_id: ComputationId, platform: PlatformDep, node: NodeDep
) -> SessionDocument:
    """The session document (``backchannel-blind-session/1``), once every node is ready
    (409 before)."""
    return await read(platform, computations.session, platform, node, computation_id)


@node_api.post("/computations/{computation_id}/result", responses=WRITE)
async def node_result(
    computation_id: ComputationId, body: ResultBody, platform: PlatformDep, node: NodeDep
) -> StateOut:
    """The node's result: ``opened`` (the same at every honest party) or ``failed``."""
    if body.computation != computation_id:
        raise InputError(t_("computation: the result names another computation than the address"))
    opened = body.opened
    found = await run_in_threadpool(
        computations.post_result,
        platform,
        node,
        computation_id,
        body.index,
        None
        if opened is None
        else Opened(
            None if opened.overlap is None else tuple(opened.overlap),
            opened.exists,
            None if opened.package is None else tuple(opened.package),
        ),
        body.failed,
    )
    return StateOut.model_validate({"state": found})


routers = (pages, api, node_api)
"""This module's routers, each route added to the application as it is (see
:func:`backchannel.web.app.add_routes`)."""
