"""What the JSON API of the negotiating text takes and answers (see api_models.py for
the rules every model follows: every limit stated, unknown fields refused)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from backchannel.model.dialogue import NOT_TRUTH_VALUE
from backchannel.model.text import (
    MAX_CLAUSE_CHARS,
    MAX_CLAUSES,
    MAX_COMMENT_CHARS,
    Answer,
    Change,
    ClauseState,
)
from backchannel.web.api_models import ID_LENGTH, Id, Text

TextId = Annotated[str, Path(min_length=1, max_length=ID_LENGTH)]
Number = Annotated[int, Field(ge=1, le=1_000_000), NOT_TRUTH_VALUE]
Title = Annotated[Text, Field(min_length=1, max_length=200)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClauseIn(_Body):
    """A clause as the facilitator writes it: ``id`` of the clause it replaces (none: a
    new clause), its wording, and optionally the agenda issue and option it settles."""

    id: Id | None = None
    body: Annotated[Text, Field(min_length=1, max_length=MAX_CLAUSE_CHARS)]
    issue_id: Id | None = None
    option: Annotated[str, Field(min_length=1, max_length=200)] | None = None


Clauses = Annotated[list[ClauseIn], Field(min_length=1, max_length=MAX_CLAUSES)]


class TextBody(_Body):
    """A new text: a title and its clauses, in order."""

    title: Title
    clauses: Clauses


class GeneratedTextBody(_Body):
    """A new text drafted from the package a rule recommends in an evaluation."""

    title: Title
    evaluation_id: Id
    rule: Annotated[str, Field(min_length=1, max_length=64)]


class RevisionBody(_Body):
    """A new version: every clause, in order, made from version ``based_on``."""

    based_on: Number
    clauses: Clauses


class ResponseIn(_Body):
    """The own side's answer to one clause; ``wording`` for a bracket only; ``comment``
    is private to the facilitator."""

    clause_id: Id
    answer: Answer
    wording: Annotated[str, Field(max_length=MAX_CLAUSE_CHARS)] = ""
    comment: Annotated[str, Field(max_length=MAX_COMMENT_CHARS)] = ""


class ResponsesBody(_Body):
    """Responses to clauses of ``version`` (the current version)."""

    version: Number
    responses: Annotated[list[ResponseIn], Field(min_length=1, max_length=MAX_CLAUSES)]


class TextReleaseBody(_Body):
    """Release side ``side_id``'s responses to ``version`` to ``audience`` (another
    delegation's id, or ``observers``)."""

    side_id: Id
    version: Number
    audience: Id


# ------------------------------------------------------------------ answers
class TextSummaryOut(BaseModel):
    """A text in the dialogue's list; ``agreed`` as the caller sees it."""

    id: str
    title: str
    version: int
    agreed: bool


class VersionOut(BaseModel):
    """The version a write made."""

    id: str
    version: int


class RespondedOut(BaseModel):
    """How many responses were recorded."""

    recorded: int


class SideAnswerOut(BaseModel):
    """A side's answer as the caller sees it (``comment`` null where not the caller's to
    read; ``released`` when it came by a release)."""

    side_id: str
    answer: Answer
    wording: str
    comment: str | None
    released: bool


class ClauseOut(BaseModel):
    """A clause, its state and the answers the caller sees."""

    number: int
    id: str
    body: str
    issue_id: str | None
    option: str | None
    revision: int
    state: ClauseState
    answers: list[SideAnswerOut]


class MissingOut(BaseModel):
    """A clause that keeps the text from being agreed, and the sides that did not agree."""

    number: int
    state: ClauseState
    side_ids: list[str]


class SideOut(BaseModel):
    """A delegation at the table."""

    id: str
    name: str


class TextReleaseOut(BaseModel):
    """A release of a side's responses (``audience`` for the facilitator only)."""

    id: str
    side: str
    version: int
    released_at: datetime
    audience: str | None


class TextOut(BaseModel):
    """A version of a text as the caller sees it."""

    id: str
    title: str
    version: int
    latest: int
    sides: list[SideOut]
    clauses: list[ClauseOut]
    agreed: bool = Field(description="every clause agreed (not ad referendum) by every side")
    missing: list[MissingOut]
    own_side_id: str | None
    releases: list[TextReleaseOut]


class PieceOut(BaseModel):
    """A run of words: the same in both versions, inserted, or deleted."""

    change: Change
    text: str


class ClauseDiffOut(BaseModel):
    """A clause compared across two versions (``old``/``new``: its number in each, null
    where it is absent)."""

    old: int | None
    new: int | None
    pieces: list[PieceOut]
