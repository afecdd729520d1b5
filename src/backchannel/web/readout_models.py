"""What the JSON API of readouts takes and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field

from backchannel.model.readout import Format, Page
from backchannel.web.api_models import ID_LENGTH, _Body

ReadoutId = Annotated[
    str,
    # "draft" is not an id: GET .../readouts/draft is the draft's own route, matched first
    Path(min_length=1, max_length=ID_LENGTH, json_schema_extra={"not": {"const": "draft"}}),
]
Audience = Annotated[str, Field(min_length=1, max_length=ID_LENGTH)]
Language = Annotated[str, Field(min_length=2, max_length=8)]


class ReadoutBody(_Body):
    """Issue the readout that was reviewed: its audience (a delegation id, ``observers`` or
    ``all``), language, format, paper, and the ``basis`` its draft gave."""

    audience: Audience
    language: Language = "en"
    format: Format = Format.PDF
    page: Page = Page.A4
    basis: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class DraftOut(BaseModel):
    """A readout as it would be issued now: the digest to issue it by, and its article
    (HTML, every text escaped) to review."""

    basis: str
    article: str


class ReadoutOut(BaseModel):
    """An issued readout (``audience_name`` is empty for the observers and ``all``)."""

    id: str
    audience: str
    audience_name: str
    language: str
    format: str
    page: str
    fingerprint: str
    issued_at: datetime


class PublicKeyOut(BaseModel):
    """The server's public key that signs readouts (and audit checkpoints), to pin."""

    key: str
