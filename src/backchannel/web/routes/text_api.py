"""The JSON API of the single negotiating text (``/api/v1/dialogues/{id}/texts…``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from backchannel.model.text import Draft
from backchannel.services import text_views, texts
from backchannel.services.text_views import TextView
from backchannel.web.api_models import (
    CHANGES_STATE,
    EVERY_ROUTE,
    IN_A_DIALOGUE,
    Created,
    DialogueId,
)
from backchannel.web.deps import CurrentDep, PlatformDep, read
from backchannel.web.once import OnceRoute
from backchannel.web.text_api_models import (
    ClauseDiffOut,
    ClauseIn,
    ClauseOut,
    GeneratedTextBody,
    MissingOut,
    Number,
    PieceOut,
    RespondedOut,
    ResponsesBody,
    RevisionBody,
    SideAnswerOut,
    SideOut,
    TextBody,
    TextId,
    TextOut,
    TextReleaseBody,
    TextReleaseOut,
    TextSummaryOut,
    VersionOut,
)

router = APIRouter(
    prefix="/api/v1/dialogues/{dialogue_id}",
    tags=["api"],
    responses=EVERY_ROUTE,
    route_class=OnceRoute,
)

WRITE = {**CHANGES_STATE, **IN_A_DIALOGUE}
READ = IN_A_DIALOGUE


def _drafts(clauses: list[ClauseIn]) -> list[Draft]:
    return [Draft(id=c.id, body=c.body, issue_id=c.issue_id, option=c.option) for c in clauses]


def text_out(view: TextView) -> TextOut:
    """A text view as the API answers it."""
    return TextOut(
        id=view.id,
        title=view.title,
        version=view.version,
        latest=view.latest,
        sides=[SideOut(id=k, name=v) for k, v in view.sides.items()],
        clauses=[
            ClauseOut(
                number=c.number,
                id=c.clause.id,
                body=c.clause.body,
                issue_id=c.clause.issue_id,
                option=c.clause.option,
                revision=c.clause.revision,
                state=c.state,
                answers=[
                    SideAnswerOut(
                        side_id=side,
                        answer=a.answer,
                        wording=a.wording,
                        comment=a.comment,
                        released=a.released,
                    )
                    for side, a in c.answers.items()
                ],
            )
            for c in view.clauses
        ],
        agreed=view.agreement.agreed,
        missing=[
            MissingOut(number=m.number, state=m.state, side_ids=list(m.sides))
            for m in view.agreement.missing
        ],
        own_side_id=view.own_side,
        releases=[
            TextReleaseOut(
                id=r.id,
                side=r.side,
                version=r.version,
                released_at=r.released_at,
                audience=r.audience,
            )
            for r in view.releases
        ],
    )


@router.get("/texts", responses=READ)
async def text_list(
    dialogue_id: DialogueId, platform: PlatformDep, current: CurrentDep
) -> list[TextSummaryOut]:
    """The dialogue's texts, with whether each is agreed as the caller sees it."""
    found = await read(platform, text_views.texts, platform, current.actor, dialogue_id)
    return [
        TextSummaryOut(id=t.id, title=t.title, version=t.version, agreed=t.agreed) for t in found
    ]


@router.post("/texts", status_code=201, responses=WRITE)
async def text_add(
    dialogue_id: DialogueId, body: TextBody, platform: PlatformDep, current: CurrentDep
) -> VersionOut:
    """Create a text with its first version (facilitator)."""
    found = await run_in_threadpool(
        texts.create_text, platform, current.actor, dialogue_id, body.title, _drafts(body.clauses)
    )
    return VersionOut(id=found, version=1)


@router.post("/texts-from-package", status_code=201, responses=WRITE)
async def text_generate(
    dialogue_id: DialogueId, body: GeneratedTextBody, platform: PlatformDep, current: CurrentDep
) -> VersionOut:
    """Draft a text from the package a rule recommends in an evaluation (facilitator)."""
    found = await run_in_threadpool(
        texts.generate_text,
        platform,
        current.actor,
        dialogue_id,
        body.evaluation_id,
        body.rule,
        body.title,
    )
    return VersionOut(id=found, version=1)


@router.get("/texts/{text_id}", responses=READ)
async def text_get(
    dialogue_id: DialogueId,
    text_id: TextId,
    platform: PlatformDep,
    current: CurrentDep,
    version: Annotated[Number | None, Query()] = None,
) -> TextOut:
    """A version of the text (the current one by default) as the caller sees it."""
    found = await read(
        platform, text_views.text_view, platform, current.actor, dialogue_id, text_id, version
    )
    return text_out(found)


@router.put("/texts/{text_id}", responses=WRITE)
async def text_revise(
    dialogue_id: DialogueId,
    text_id: TextId,
    body: RevisionBody,
    platform: PlatformDep,
    current: CurrentDep,
) -> VersionOut:
    """Make a new version of the text (facilitator)."""
    found = await run_in_threadpool(
        texts.revise_text,
        platform,
        current.actor,
        dialogue_id,
        text_id,
        body.based_on,
        _drafts(body.clauses),
    )
    return VersionOut(id=text_id, version=found)


@router.get("/texts/{text_id}/diff", responses=READ)
async def text_diff(
    dialogue_id: DialogueId,
    text_id: TextId,
    platform: PlatformDep,
    current: CurrentDep,
    old: Annotated[Number, Query(alias="from")],
    new: Annotated[Number, Query(alias="to")],
) -> list[ClauseDiffOut]:
    """Two versions compared clause by clause, word by word."""
    found = await read(
        platform, text_views.compare, platform, current.actor, dialogue_id, text_id, old, new
    )
    return [
        ClauseDiffOut(
            old=d.old, new=d.new, pieces=[PieceOut(change=c, text=t) for c, t in d.pieces]
        )
        for d in found
    ]


@router.post("/texts/{text_id}/responses", responses=WRITE)
async def text_respond(
    dialogue_id: DialogueId,
    text_id: TextId,
    body: ResponsesBody,
    platform: PlatformDep,
    current: CurrentDep,
) -> RespondedOut:
    """Record the own side's responses to clauses of the current version (a member)."""
    given = [(r.clause_id, r.answer.value, r.wording, r.comment) for r in body.responses]
    found = await run_in_threadpool(
        texts.respond, platform, current.actor, dialogue_id, text_id, body.version, given
    )
    return RespondedOut(recorded=found)


@router.post("/texts/{text_id}/releases", status_code=201, responses=WRITE)
async def text_release(
    dialogue_id: DialogueId,
    text_id: TextId,
    body: TextReleaseBody,
    platform: PlatformDep,
    current: CurrentDep,
) -> Created:
    """Release a side's responses to a version to another side or the observers (facilitator)."""
    found = await run_in_threadpool(
        text_views.release,
        platform,
        current.actor,
        dialogue_id,
        text_id,
        body.side_id,
        body.version,
        body.audience,
    )
    return Created(id=found)
