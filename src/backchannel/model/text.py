"""The single negotiating text: clauses, responses, each clause's state, the word diff.

A text is a list of numbered clauses; every change of it is a new *version* (a whole
list of clauses). A clause keeps its id across versions and carries a ``revision``: the
number of the version in which its wording (or its link to the agenda) last changed.
A delegation's response answers one clause *at one revision*: when the clause changes,
the old responses stop counting (they stay in the history) and the clause waits for
new ones.

The state of a clause follows from the responses of every side (:func:`clause_state`),
and the text as a whole is agreed only when every clause is agreed, not *ad
referendum*, by every side (:func:`agreement`: "nothing is agreed until everything is
agreed"). Both are pure functions of what they are given, so a side's page can compute
them from exactly what that side may see.

:func:`word_diff` compares two wordings word by word (``difflib`` on word tokens).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_CLAUSES = 200
MAX_CLAUSE_CHARS = 8000
MAX_COMMENT_CHARS = 4000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


ClauseBody = Annotated[str, Field(min_length=1, max_length=MAX_CLAUSE_CHARS)]


class Clause(_Strict):
    """One clause of a version: its stable id, wording, agenda link and revision."""

    id: Annotated[str, Field(min_length=1, max_length=32)]
    body: ClauseBody
    issue_id: str | None = None
    option: str | None = None
    revision: Annotated[int, Field(ge=1)]

    @model_validator(mode="after")
    def _option_needs_issue(self) -> Clause:
        if self.option is not None and self.issue_id is None:
            raise ValueError("a clause linked to an option must be linked to its issue")
        return self


class Draft(_Strict):
    """A clause as the facilitator writes it (``id`` of the clause it replaces, if any)."""

    id: str | None = None
    body: ClauseBody
    issue_id: str | None = None
    option: str | None = None


class Version(_Strict):
    """One version of a text: its number and its clauses, in order (numbered from 1)."""

    number: Annotated[int, Field(ge=1)]
    clauses: Annotated[list[Clause], Field(max_length=MAX_CLAUSES)]

    @model_validator(mode="after")
    def _distinct(self) -> Version:
        ids = [c.id for c in self.clauses]
        if len(set(ids)) != len(ids):
            raise ValueError("two clauses have the same id")
        return self

    def clause(self, clause_id: str) -> Clause | None:
        """The clause with this id, or None."""
        return next((c for c in self.clauses if c.id == clause_id), None)


def next_version(
    previous: Version | None, drafts: Sequence[Draft], new_ids: Sequence[str]
) -> Version:
    """The version that follows ``previous`` when the facilitator submits ``drafts``.

    A draft naming a clause of ``previous`` keeps that clause's id, and its revision
    unless its wording or agenda link changed (then the revision is the new version's
    number, which resets the responses to it). A draft without an id (or naming a
    clause that is not in ``previous``) is a new clause and takes the next of
    ``new_ids``. Clauses of ``previous`` that no draft names are removed.

    Raises
    ------
    ValueError
        When two drafts name the same clause, or ``new_ids`` runs out.
    """
    number = 1 if previous is None else previous.number + 1
    fresh = iter(new_ids)
    seen: set[str] = set()
    clauses: list[Clause] = []
    for draft in drafts:
        old = None if previous is None or draft.id is None else previous.clause(draft.id)
        if old is None:
            clause_id = next(fresh, None)
            if clause_id is None:
                raise ValueError("not enough new clause ids")
            revision = number
        else:
            if old.id in seen:
                raise ValueError("two clauses replace the same clause")
            clause_id = old.id
            same = (old.body, old.issue_id, old.option) == (
                draft.body,
                draft.issue_id,
                draft.option,
            )
            revision = old.revision if same else number
        seen.add(clause_id)
        clauses.append(
            Clause(
                id=clause_id,
                body=draft.body,
                issue_id=draft.issue_id,
                option=draft.option,
                revision=revision,
            )
        )
    return Version(number=number, clauses=clauses)


class Answer(str, Enum):
    """A delegation's answer to a clause."""

    AGREE = "agree"
    AD_REFERENDUM = "ad_referendum"
    """Agreed subject to the approval of the delegation's capital."""
    BRACKET = "bracket"
    """Not yet agreed: the delegation proposes other wording (shown in brackets)."""
    REJECT = "reject"


class Response(_Strict):
    """A delegation's response to one clause at one revision.

    ``wording`` (the proposed wording) is required for a bracket and refused otherwise;
    ``comment`` is private to the facilitator.
    """

    clause_id: Annotated[str, Field(min_length=1, max_length=32)]
    revision: Annotated[int, Field(ge=1)]
    answer: Answer
    wording: Annotated[str, Field(max_length=MAX_CLAUSE_CHARS)] = ""
    comment: Annotated[str, Field(max_length=MAX_COMMENT_CHARS)] = ""

    @model_validator(mode="after")
    def _wording(self) -> Response:
        if self.answer is Answer.BRACKET and not self.wording.strip():
            raise ValueError("a bracket needs the wording the delegation proposes")
        if self.answer is not Answer.BRACKET and self.wording:
            raise ValueError("only a bracket proposes wording")
        return self


class ClauseState(str, Enum):
    """Where a clause stands, from the responses of every side (worst first)."""

    REJECTED = "rejected"
    BRACKETED = "bracketed"
    NO_ANSWER = "no_answer"
    AD_REFERENDUM = "ad_referendum"
    AGREED = "agreed"


_RANK = {state: rank for rank, state in enumerate(ClauseState)}
_STATE_OF = {
    Answer.REJECT: ClauseState.REJECTED,
    Answer.BRACKET: ClauseState.BRACKETED,
    Answer.AD_REFERENDUM: ClauseState.AD_REFERENDUM,
    Answer.AGREE: ClauseState.AGREED,
}


def clause_state(answers: Mapping[str, Answer | None], sides: Sequence[str]) -> ClauseState:
    """The state of a clause from each side's answer to its current revision.

    Parameters
    ----------
    answers:
        Side -> its answer (missing or None: the side has not answered this revision).
    sides:
        Every side whose answer the clause needs.

    Returns
    -------
    ClauseState
        The worst of the sides' states, in the order rejected, bracketed, no answer,
        *ad referendum*, agreed: a clause is agreed only when every side agreed. A
        text with no side to answer is never agreed (no answer).
    """
    if not sides:
        return ClauseState.NO_ANSWER
    states = [_state(answers.get(side)) for side in sides]
    return min(states, key=_RANK.__getitem__)


def _state(answer: Answer | None) -> ClauseState:
    return ClauseState.NO_ANSWER if answer is None else _STATE_OF[answer]


@dataclass(frozen=True)
class Missing:
    """What keeps one clause from being agreed: its number, state and the sides concerned."""

    number: int
    state: ClauseState
    sides: tuple[str, ...]


@dataclass(frozen=True)
class Agreement:
    """Whether the whole text is agreed, and what is missing if not."""

    agreed: bool
    missing: tuple[Missing, ...]


def agreement(clauses: Sequence[Mapping[str, Answer | None]], sides: Sequence[str]) -> Agreement:
    """Nothing is agreed until everything is agreed.

    Parameters
    ----------
    clauses:
        Per clause, in order: side -> its answer to the clause's current revision.
    sides:
        Every side whose agreement the text needs.

    Returns
    -------
    Agreement
        Agreed exactly when the text has at least one clause and every clause is
        agreed (not *ad referendum*) by every side; else, per clause that is not, its
        number (from 1), state, and the sides that did not agree it.
    """
    missing = []
    for number, answers in enumerate(clauses, start=1):
        state = clause_state(answers, sides)
        if state is not ClauseState.AGREED:
            short = tuple(s for s in sides if answers.get(s) is not Answer.AGREE)
            missing.append(Missing(number, state, short))
    return Agreement(bool(clauses) and bool(sides) and not missing, tuple(missing))


class Change(str, Enum):
    """One piece of a word diff."""

    SAME = "same"
    INSERTED = "inserted"
    DELETED = "deleted"


_TOKENS = re.compile(r"\s+|[^\s]+")


def words(text: str) -> list[str]:
    """``text`` cut into words and the runs of white space between them (joined back, it
    is ``text`` again)."""
    return _TOKENS.findall(text)


def word_diff(old: str, new: str) -> list[tuple[Change, str]]:
    """The word-level difference from ``old`` to ``new``.

    Returns
    -------
    list of (Change, str)
        Pieces in reading order; the SAME and DELETED pieces joined give ``old``, the
        SAME and INSERTED pieces joined give ``new``. Adjacent pieces of one kind are
        merged.
    """
    a, b = words(old), words(new)
    out: list[tuple[Change, str]] = []

    def put(change: Change, piece: str) -> None:
        if not piece:
            return
        if out and out[-1][0] is change:
            out[-1] = (change, out[-1][1] + piece)
        else:
            out.append((change, piece))

    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            put(Change.SAME, "".join(a[i1:i2]))
        else:
            put(Change.DELETED, "".join(a[i1:i2]))
            put(Change.INSERTED, "".join(b[j1:j2]))
    return out


@dataclass(frozen=True)
class ClauseDiff:
    """One clause compared across two versions (``old`` or ``new`` number None: absent)."""

    old: int | None
    new: int | None
    pieces: tuple[tuple[Change, str], ...]

    @property
    def changed(self) -> bool:
        """Whether anything in the clause differs."""
        return any(change is not Change.SAME for change, _ in self.pieces)


def version_diff(old: Version, new: Version) -> list[ClauseDiff]:
    """Every clause of ``new`` compared with the same clause (by id) in ``old``, in the
    order of ``new``, then the clauses of ``old`` that ``new`` removed."""
    before = {c.id: (n, c) for n, c in enumerate(old.clauses, start=1)}
    out = []
    for n, clause in enumerate(new.clauses, start=1):
        found = before.pop(clause.id, None)
        if found is None:
            out.append(ClauseDiff(None, n, ((Change.INSERTED, clause.body),)))
        else:
            out.append(ClauseDiff(found[0], n, tuple(word_diff(found[1].body, clause.body))))
    for n, clause in before.values():
        out.append(ClauseDiff(n, None, ((Change.DELETED, clause.body),)))
    return out


def from_package(issues: Mapping[str, str], package: Mapping[str, str]) -> list[Draft]:
    """A first draft from a recommended package: one clause per issue of the package.

    Parameters
    ----------
    issues:
        Issue id -> name, in the agenda's order.
    package:
        Issue name -> the option the package chooses (as evaluations keep packages).

    Returns
    -------
    list of Draft
        In the agenda's order, one clause per issue the package covers, worded
        ``"<issue>: <option>."`` and linked to the issue and option, to be edited.
    """
    return [
        Draft(body=f"{name}: {package[name]}.", issue_id=issue_id, option=package[name])
        for issue_id, name in issues.items()
        if name in package
    ]
