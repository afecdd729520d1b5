"""A readout's content: exactly what one audience may see, with no attribution.

A readout is made for one **audience**: a delegation (for its principals), the observers
(the track 1 liaison), or ``all`` (what every delegation and the observers may see). Its
content is built by the services from the audience's own view of the dialogue and holds
only shared or released material:

* the findings the facilitator released to the audience (each record as released: its
  facts, and the package or the frontier when one was released), by round;
* the meetings held that the audience may see (when, where, which agenda), each with
  its record when every side taking part agreed it;
* the current version of each negotiating text: its clauses and each clause's state,
  as the audience sees the responses (never who answered what, never a comment).

There is no speaker, member, count of private objects or time of anyone's save in it;
the only time is the readout's own issue time. :func:`basis` is the digest of the
content without that time: what the facilitator reviewed, checked again at issue.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from enum import Enum

from backchannel.model.disclosure import Disclosed

ALL = "all"
"""The audience of a readout for every delegation and the observers together."""
OBSERVERS = "observers"
"""The audience of a readout for the observers (any other audience is a delegation id)."""


class Format(str, Enum):
    """The file a readout is issued as."""

    HTML = "html"
    PDF = "pdf"


class Page(str, Enum):
    """The paper a readout is laid out for (both formats print on it)."""

    A4 = "a4"
    LETTER = "letter"


@dataclass(frozen=True)
class ReleasedFinding:
    """A finding released to the audience, in its round: the
    :class:`~backchannel.model.disclosure.Disclosed` record as JSON (``record``)."""

    round_number: int
    record: str

    @classmethod
    def of(cls, round_number: int, told: Disclosed) -> ReleasedFinding:
        """The finding ``told`` in round ``round_number``."""
        return cls(round_number, told.model_dump_json())

    @property
    def told(self) -> Disclosed:
        """The record as released."""
        return Disclosed.model_validate_json(self.record)

    @property
    def package(self) -> tuple[tuple[str, str], ...]:
        """The package released (issue, option), in agenda order; empty when none."""
        return tuple((self.told.package or {}).items())


@dataclass(frozen=True)
class MeetingHeld:
    """A meeting held, as the audience may see it (no attendee, no speaker)."""

    local: str
    zone: str
    format: str
    place: str
    online: bool
    issues: tuple[str, ...]
    record: str | None
    """The agreed record (None: no record agreed by every side taking part)."""


@dataclass(frozen=True)
class ClauseLine:
    """One clause of the current version of a text, with its state as the audience sees it."""

    number: int
    body: str
    issue: str | None
    state: str


@dataclass(frozen=True)
class TextState:
    """The current version of a negotiating text."""

    title: str
    version: int
    agreed: bool
    clauses: tuple[ClauseLine, ...]


@dataclass(frozen=True)
class IssueLine:
    """An agenda issue and its options (shared with every seat)."""

    name: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class ReadoutContent:
    """Everything a readout shows (``issued_at``: ISO 8601 UTC, to the second)."""

    dialogue: str
    audience: str
    audience_name: str
    language: str
    issued_at: str
    agenda: tuple[IssueLine, ...] = ()
    findings: tuple[ReleasedFinding, ...] = ()
    meetings: tuple[MeetingHeld, ...] = ()
    texts: tuple[TextState, ...] = ()

    def canonical(self) -> bytes:
        """The content as canonical JSON (sorted keys, no spaces, UTF-8)."""
        return json.dumps(
            asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")


def basis(content: ReadoutContent) -> str:
    """The SHA-256 (hex) of the content without its issue time: what was reviewed."""
    return hashlib.sha256(replace(content, issued_at="").canonical()).hexdigest()
